/* Unit tests of the vCPU exit dispatch over a fake kvm_run (no KVM): each
 * exit reason leads to the documented stop status and message; malformed
 * exits are refused before any bus access. */
#include <criterion/criterion.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"

struct fake {
	struct vm vm;
	struct vcpu v;
	struct kvm_run *run;
	unsigned writes;
	uint8_t last;
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->vm.vm_fd = f->vm.kvm_fd = f->vm.stop_efd = -1;
	f->vm.vcpu_mmap_size = 4096;
	pthread_mutex_init(&f->vm.pause_lock, NULL);
	pthread_cond_init(&f->vm.pause_cond, NULL);
	f->run = calloc(1, 4096);
	f->v.vm = &f->vm;
	f->v.fd = -1;	/* register reads fail: RIP prints as all-ones */
	f->v.run = f->run;
	return f;
}

static void fake_free(struct fake *f)
{
	bus_destroy(&f->vm.pio);
	bus_destroy(&f->vm.mmio);
	free(f->run);
	free(f);
}

static void port_write(void *o, uint64_t off, const void *data, unsigned size)
{
	struct fake *f = o;

	(void)off;
	(void)size;
	f->writes++;
	f->last = *(const uint8_t *)data;
}

static const struct bus_ops port_ops = { NULL, port_write };

Test(exits, port_io_dispatch_and_string_io)
{
	struct fake *f = fake_new();
	uint8_t *data = (uint8_t *)f->run + 1024;

	cr_assert_eq(bus_register(&f->vm.pio, 0x80, 1, &port_ops, f, "p"), 0);
	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = KVM_EXIT_IO_OUT;
	f->run->io.port = 0x80;
	f->run->io.size = 1;
	f->run->io.count = 3;	/* rep outsb */
	f->run->io.data_offset = 1024;
	memcpy(data, "abc", 3);
	cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	cr_assert_eq(f->writes, 3);
	cr_assert_eq(f->last, 'c');
	cr_assert_eq(atomic_load(&f->vm.stopping), 0);
	fake_free(f);
}

Test(exits, malformed_port_io_is_refused)
{
	static const struct { uint8_t size; uint32_t count; uint64_t off; } bad[] = {
		{ 3, 1, 1024 }, { 8, 1, 1024 }, { 1, 0, 1024 }, { 4, 1, 4094 },
		{ 4, 0x40000000, 1024 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fake *f = fake_new();

		cr_assert_eq(bus_register(&f->vm.pio, 0x80, 1, &port_ops, f, "p"), 0);
		f->run->exit_reason = KVM_EXIT_IO;
		f->run->io.direction = KVM_EXIT_IO_OUT;
		f->run->io.port = 0x80;
		f->run->io.size = bad[i].size;
		f->run->io.count = bad[i].count;
		f->run->io.data_offset = bad[i].off;
		cr_assert_eq(vcpu_handle_exit(&f->v), 1, "case %u", i);
		cr_assert_eq(f->vm.exit_code, EXIT_KVMERROR, "case %u", i);
		cr_assert_eq(f->writes, 0, "case %u: no bus access", i);
		cr_assert(strstr(f->vm.exit_reason, "malformed port I/O exit"), "case %u", i);
		fake_free(f);
	}
}

Test(exits, mmio_length_checked)
{
	struct fake *f = fake_new();

	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0xd0000000;
	f->run->mmio.len = 9;
	cr_assert_eq(vcpu_handle_exit(&f->v), 1);
	cr_assert_eq(f->vm.exit_code, EXIT_KVMERROR);
	cr_assert_str_eq(f->vm.exit_reason,
			 "vCPU 0: malformed MMIO exit (address 0xd0000000 length 9)");
	fake_free(f);
}

Test(exits, unmapped_mmio_read_is_all_ones)
{
	struct fake *f = fake_new();

	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0xe0000000;
	f->run->mmio.len = 4;
	f->run->mmio.is_write = 0;
	cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	cr_assert_eq(*(uint32_t *)f->run->mmio.data, 0xffffffff);
	cr_assert_eq(atomic_load(&f->vm.mmio.misses), 1);
	fake_free(f);
}

Test(exits, statuses)
{
	struct {
		uint32_t reason;
		int code;
		const char *msg;
	} cases[] = {
		{ KVM_EXIT_SHUTDOWN, EXIT_TRIPLEFAULT,
		  "guest triple fault on vCPU 0 (its registers could not be read)" },
		{ KVM_EXIT_FAIL_ENTRY, EXIT_KVMERROR,
		  "vCPU 0: KVM could not enter the guest (hardware reason 0x0)" },
		{ KVM_EXIT_INTERNAL_ERROR, EXIT_KVMERROR,
		  "vCPU 0: KVM emulation failure (suberror 1) at RIP 0xffffffffffffffff" },
		{ 9999, EXIT_BADEXIT,
		  "vCPU 0: unhandled KVM exit reason 9999 at RIP 0xffffffffffffffff" },
		{ KVM_EXIT_HLT, EXIT_BADEXIT,
		  "vCPU 0: unhandled KVM exit reason 5 at RIP 0xffffffffffffffff" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f = fake_new();

		f->run->exit_reason = cases[i].reason;
		if (cases[i].reason == KVM_EXIT_INTERNAL_ERROR)
			f->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
		cr_assert_eq(vcpu_handle_exit(&f->v), 1, "case %u", i);
		cr_assert_eq(f->vm.exit_code, cases[i].code, "case %u", i);
		cr_assert_str_eq(f->vm.exit_reason, cases[i].msg, "case %u", i);
		fake_free(f);
	}
}

Test(exits, system_event_and_first_stop_wins)
{
	struct fake *f = fake_new();

	f->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	f->run->system_event.type = KVM_SYSTEM_EVENT_RESET;
	cr_assert_eq(vcpu_handle_exit(&f->v), 1);
	cr_assert_eq(f->vm.exit_code, EXIT_OK);
	vm_request_stop(&f->vm, 99, "later");
	cr_assert_eq(f->vm.exit_code, EXIT_OK, "only the first stop request counts");
	cr_assert_str_eq(f->vm.exit_reason, "");
	fake_free(f);
}

Test(exits, triple_fault_message)
{
	struct kvm_regs r = { .rip = 0x1234, .rflags = 0x202, .rsp = 0x8000 };
	char buf[128];

	vcpu_shutdown_reason(1, &r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "guest triple fault on vCPU 1 at RIP 0x1234");
	/* what KVM on SVM leaves: the architectural reset state */
	r = (struct kvm_regs){ .rip = 0xfff0, .rflags = 0x2, .rdx = 0x800f12 };
	vcpu_shutdown_reason(0, &r, buf, sizeof(buf));
	cr_assert_str_eq(buf, "guest triple fault on vCPU 0 (KVM reset the vCPU when it stopped "
			      "it, so where it faulted is not known)");
}

/* vcpu/stats.c: every exit counts by reason; with detail (--boot-time)
 * port I/O by port and MMIO by bus range, a miss in the last bucket. */
Test(exits, counted_by_reason_port_and_range)
{
	struct fake *f = fake_new();

	cr_assert_eq(vcpu_stats_init(&f->v, true), 0);
	cr_assert_eq(f->v.stats.kvm_fd, -1);	/* no vCPU fd, no KVM counters */
	cr_assert_eq(bus_register(&f->vm.pio, 0x80, 1, &port_ops, f, "p"), 0);
	cr_assert_eq(bus_register(&f->vm.mmio, 0x1000, 0x100, &port_ops, f, "m0"), 0);
	cr_assert_eq(bus_register(&f->vm.mmio, 0x2000, 0x100, &port_ops, f, "m1"), 0);
	for (int i = 0; i < 3; i++) {
		f->run->exit_reason = KVM_EXIT_IO;
		f->run->io.direction = KVM_EXIT_IO_OUT;
		f->run->io.port = 0x80;
		f->run->io.size = 1;
		f->run->io.count = 2;	/* one exit, two accesses */
		f->run->io.data_offset = 1024;
		cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	}
	static const uint64_t addr[] = { 0x2004, 0x2008, 0x9000 };
	for (unsigned i = 0; i < 3; i++) {
		f->run->exit_reason = KVM_EXIT_MMIO;
		f->run->mmio.phys_addr = addr[i];
		f->run->mmio.len = 4;
		f->run->mmio.is_write = 1;
		cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	}
	f->run->exit_reason = KVM_EXIT_INTR;
	cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	f->run->exit_reason = 1000;	/* unknown: stops the VM, counted as the rest */
	cr_assert_eq(vcpu_handle_exit(&f->v), 1);
	cr_assert_eq(f->v.stats.reason[KVM_EXIT_IO], 3);
	cr_assert_eq(f->v.stats.reason[KVM_EXIT_MMIO], 3);
	cr_assert_eq(f->v.stats.reason[KVM_EXIT_INTR], 1);
	cr_assert_eq(f->v.stats.reason[VCPU_STATS_REASONS - 1], 1);
	cr_assert_eq(f->v.stats.pio[0x80], 3);
	cr_assert_eq(f->v.stats.pio[0x81], 0);
	cr_assert_eq(f->v.stats.mmio[0], 0);
	cr_assert_eq(f->v.stats.mmio[1], 2);
	cr_assert_eq(f->v.stats.mmio[VCPU_STATS_MMIO - 1], 1);
	vcpu_stats_free(&f->v);
	cr_assert_null(f->v.stats.pio);
	fake_free(f);
}

Test(exits, without_detail_only_reasons_count)
{
	struct fake *f = fake_new();

	cr_assert_eq(vcpu_stats_init(&f->v, false), 0);
	cr_assert_null(f->v.stats.pio);
	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0x9000;
	f->run->mmio.len = 4;
	cr_assert_eq(vcpu_handle_exit(&f->v), 0);
	cr_assert_eq(f->v.stats.reason[KVM_EXIT_MMIO], 1);
	cr_assert_eq(f->v.stats.mmio[VCPU_STATS_MMIO - 1], 0);
	vcpu_stats_free(&f->v);
	fake_free(f);
}
