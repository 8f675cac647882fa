/* tests/fuzz/fuzz_boot.c - libFuzzer target: the kernel loaders over a
 * fake guest RAM (no KVM).
 *
 * Input: byte 0 the loader (% 7): 0 boot_load by content, 1 PVH,
 * 2 ELF64, 3 bzImage, 4 Multiboot, 5 raw, 6 boot_load with the
 * --boot-protocol of byte 1 (% 5); byte 1 the vCPU count (% 64 + 1);
 * bytes 2..5 a u32 whose low 20 bits are the raw load address; then a u8
 * command-line length and the command line, a u16 initrd length and the
 * initrd (0: none); the rest is the kernel image. */
#include <string.h>

#include "monitor/boot/boot.h"
#include "tests/fuzz/fuzz_util.h"

#define RAM MiB(8)

static struct vm vm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	fz_vm_init(&vm, RAM);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct boot_input in = { .path = "kernel", .initrd_path = "initrd" };
	struct boot_entry e;
	struct errbuf err;
	uint8_t kind = fz_u8(&f), cpus = fz_u8(&f);
	uint32_t raw_addr = fz_u32(&f) & 0xfffff;
	char cmdline[256];
	const uint8_t *p;
	size_t n;

	p = fz_bytes(&f, fz_u8(&f), &n);
	memcpy(cmdline, p, n);
	cmdline[n] = 0;
	in.cmdline = cmdline;
	in.initrd = fz_bytes(&f, fz_u16(&f), &in.initrd_len);
	if (!in.initrd_len)
		in.initrd = NULL, in.initrd_path = NULL;
	in.image = fz_bytes(&f, f.n, &in.len);
	in.ncpus = cpus % MAX_CPUS + 1u;
	memset(&vm.e820, 0, sizeof(vm.e820));
	switch (kind % 7) {
	case 0: boot_load(&vm, &in, &e, &err); break;
	case 1: boot_load_pvh(&vm, &in, &e, &err); break;
	case 2: boot_load_elf64(&vm, &in, &e, &err); break;
	case 3: boot_load_bzimage(&vm, &in, &e, &err); break;
	case 4: boot_load_multiboot(&vm, &in, &e, &err); break;
	case 5: boot_load_raw(&vm, &in, raw_addr, &e, &err); break;
	default:
		in.proto = (enum boot_proto)(cpus % 5);
		boot_load(&vm, &in, &e, &err);
		break;
	}
	/* what every boot writes after the loader */
	if (kind % 7 < 5)
		mptable_write(&vm, in.ncpus, &err);
	return 0;
}
