/* tests/fuzz/fuzz_snapshot.c - libFuzzer target: the snapshot state file
 * and every section decoder.  Built with -DEMBER_FUZZ_NO_CRC, so a
 * mutated file is not stopped by its CRC32s.
 *
 * The first input byte says what the rest is:
 *   0     a whole state file: snap_parse, then each section decoded the
 *         way a restore reads it (CPUID, config, memory, VM, every vCPU,
 *         every device section against this VM's devices)
 *   1..5  one section's payload: config, memory, VM, vCPU, CPUID
 *   6..   one device section (name + state) for device (byte - 6) %
 *         the number of devices: serial, i8042, isa-debug-exit,
 *         ctlport, IOAPIC, virtio-blk, virtio-rng
 * No KVM: the devices sit on a fake VM with 2 MiB of RAM. */
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "snapshot/snapshot.h"
#include "tests/fuzz/fuzz_util.h"
#include "virtio/virtio.h"

static struct vm vm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct drive_cfg drive = { .id = "vda" };
	struct device *d;
	struct errbuf err;
	char img[64];

	(void)argc;
	(void)argv;
	fz_quiet();
	fz_vm_init(&vm, MiB(2));
	fz_image(img, sizeof(img), KiB(64));
	drive.path = img;
	if (serial_create(&vm.host, COM1_BASE, COM1_IRQ, -1, &d) || i8042_create(&vm.host, &d) ||
	    debug_exit_create(&vm.host, &d) || ctlport_create(&vm.host, &d) ||
	    ioapic_create(&vm.host, &vm.ioapic) || blk_create(&vm.host, 0, &drive, NULL, &err) ||
	    rng_create(&vm.host, 1, NULL, NULL, &err))
		abort();
	return 0;
}

static void reset_devices(void)
{
	for (unsigned i = 0; i < vm.ndevices; i++)
		vm.devices[i]->ops->reset(vm.devices[i]);
}

static void one_device(unsigned i, const uint8_t *p, size_t n)
{
	struct snap_sec sec = { .type = SNAP_SEC_DEVICE, .index = i, .data = p, .len = n };
	struct errbuf err;

	snap_device_restore(vm.devices[i], i, &sec, "state", false, &err);
}

static void one_section(uint32_t type, const uint8_t *p, size_t n)
{
	struct vm_config cfg;
	struct snap_mem mem;
	struct vm_state vs;
	struct cpu_state cs;
	struct kvm_cpuid2 *cpuid;
	struct sbuf sb;

	sbuf_view(&sb, p, n);
	switch (type) {
	case SNAP_SEC_CONFIG:
		snap_config_decode(&sb, &cfg);
		config_free(&cfg);
		break;
	case SNAP_SEC_MEMORY:
		if (!snap_mem_decode(&sb, &mem))
			snap_mem_free(&mem);
		break;
	case SNAP_SEC_VM:
		vm_state_decode(&sb, &vs);
		break;
	case SNAP_SEC_VCPU:
		if (!cpu_state_decode(&sb, &cs))
			cpu_state_free(&cs);
		break;
	case SNAP_SEC_CPUID:
		if (!snap_cpuid_decode(&sb, &cpuid))
			free(cpuid);
		break;
	}
}

/* A whole state file, read as snap_image_load and snap_restore_into do
 * (the host fingerprint is not checked: the seeds must work anywhere). */
static void whole_file(const uint8_t *data, size_t size)
{
	struct snap_file f;
	struct errbuf err;
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return;
	memcpy(buf, data, size);
	if (snap_parse(buf, size, "state", &f, &err))
		return;
	for (unsigned i = 0; i < f.nsec; i++) {
		const struct snap_sec *s = &f.sec[i];

		if (s->type == SNAP_SEC_DEVICE) {
			if (s->index < vm.ndevices)
				one_device(s->index, s->data, s->len);
		} else {
			one_section(s->type, s->data, s->len);
		}
	}
	snap_file_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] == 0)
		whole_file(data + 1, size - 1);
	else if (data[0] <= 5)
		one_section(data[0] == 5 ? SNAP_SEC_CPUID : data[0], data + 1, size - 1);
	else
		one_device((data[0] - 6u) % vm.ndevices, data + 1, size - 1);
	reset_devices();
	return 0;
}
