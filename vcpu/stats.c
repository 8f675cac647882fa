/* vcpu/stats.c - exits by kind, for --boot-time: each vCPU counts the exits
 * that reach ember by reason (always: one increment in its own struct),
 * and with --boot-time also port I/O exits by port and MMIO exits by bus
 * range; KVM's own per-vCPU counters (KVM_GET_STATS_FD: every exit,
 * including those KVM handles itself, such as nested page faults) are
 * read when the VM has stopped.  No shared counters on the exit path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "monitor/monitor.h"
#include "vcpu/vcpu.h"

int vcpu_stats_init(struct vcpu *v, bool detail)
{
	struct vcpu_stats *s = &v->stats;

	s->kvm_fd = -1;
	s->detail = detail;
	if (!detail)
		return 0;
	s->pio = calloc(65536, sizeof(s->pio[0]));	/* touched pages only */
	if (!s->pio)
		return -ENOMEM;
	s->kvm_fd = ioctl(v->fd, KVM_GET_STATS_FD, NULL);	/* -1: an older KVM */
	return 0;
}

void vcpu_stats_free(struct vcpu *v)
{
	free(v->stats.pio);
	v->stats.pio = NULL;
	if (v->stats.kvm_fd >= 0)
		close(v->stats.kvm_fd);
	v->stats.kvm_fd = -1;
}

/* KVM's counters worth printing, in this order (those KVM lacks are left
 * out): every exit, the kinds KVM counts, and its MMU's page faults (with
 * nested paging: the guest touching a page not mapped yet) */
static const char *const kvm_names[] = {
	"exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"irq_window_exits", "nmi_window_exits", "request_irq_exits", "signal_exits",
	"insn_emulation", "hypercalls", "irq_injections", "pf_taken", "pf_fixed",
	"pf_emulate", "pf_spurious",
};
#define NKVM ARRAY_SIZE(kvm_names)

/* Adds vCPU v's KVM counters to sum[] (indexes of kvm_names), setting
 * have[i] for those KVM has.  0, or -errno when they cannot be read. */
static int kvm_stats_add(const struct vcpu *v, uint64_t *sum, bool *have)
{
	struct kvm_stats_header h;
	size_t cap = 65536, dsz;
	char *buf;
	ssize_t n;

	if (v->stats.kvm_fd < 0)
		return -ENOENT;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	/* one read from the start: the fd cannot seek back */
	n = read(v->stats.kvm_fd, buf, cap);
	if (n < (ssize_t)sizeof(h)) {
		free(buf);
		return n < 0 ? -errno : -EIO;
	}
	memcpy(&h, buf, sizeof(h));
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	if (h.name_size == 0 || h.name_size > 256 || h.num_desc > 1024 ||
	    (uint64_t)h.desc_offset + (uint64_t)h.num_desc * dsz > (uint64_t)n) {
		free(buf);
		return -EIO;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc d;
		const char *name = buf + h.desc_offset + i * dsz + sizeof(d);
		uint64_t val;

		memcpy(&d, buf + h.desc_offset + i * dsz, sizeof(d));
		if (d.size != 1 || (uint64_t)h.data_offset + d.offset + 8 > (uint64_t)n)
			continue;
		memcpy(&val, buf + h.data_offset + d.offset, 8);
		for (unsigned k = 0; k < NKVM; k++) {
			if (strncmp(name, kvm_names[k], h.name_size) == 0) {
				sum[k] += val;
				have[k] = true;
			}
		}
	}
	free(buf);
	return 0;
}

static const char *reason_name(unsigned r)
{
	static const char *const names[] = {
		[KVM_EXIT_IO] = "io", [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_SHUTDOWN] = "shutdown",
		[KVM_EXIT_FAIL_ENTRY] = "fail_entry", [KVM_EXIT_INTR] = "intr",
		[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
		[KVM_EXIT_SYSTEM_EVENT] = "system_event", [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
		[KVM_EXIT_DIRTY_RING_FULL] = "dirty_ring_full",
	};

	return r < ARRAY_SIZE(names) && names[r] ? names[r] : NULL;
}

/* Prints the `top` largest of n counters c[] as "LABEL <fmt(i)> count". */
static void print_top(const uint64_t *c, unsigned n, unsigned top, const char *label,
		      void (*fmt)(const struct vm *, unsigned, char *, size_t),
		      const struct vm *vm)
{
	bool *done = calloc(n, sizeof(*done));

	if (!done)
		return;
	for (unsigned t = 0; t < top; t++) {
		unsigned best = n;
		char what[48];

		for (unsigned i = 0; i < n; i++)
			if (c[i] && !done[i] && (best == n || c[i] > c[best]))
				best = i;
		if (best == n)
			break;
		done[best] = true;
		fmt(vm, best, what, sizeof(what));
		fprintf(stderr, "  %-5s %-24s %10llu\n", label, what, (unsigned long long)c[best]);
	}
	free(done);
}

static void port_name(const struct vm *vm, unsigned port, char *buf, size_t len)
{
	const struct bus_range *r = bus_find(&vm->pio, port);

	snprintf(buf, len, "0x%x%s%s", port, r ? " " : "", r ? r->name : "");
}

static void mmio_name(const struct vm *vm, unsigned i, char *buf, size_t len)
{
	if (i < vm->mmio.n && i < VCPU_STATS_MMIO - 1)
		snprintf(buf, len, "0x%llx %s", (unsigned long long)vm->mmio.r[i].base,
			 vm->mmio.r[i].name);
	else
		snprintf(buf, len, "(other)");
}

void vcpu_print_exit_stats(const struct vm *vm)
{
	uint64_t sum[NKVM] = { 0 }, reason[VCPU_STATS_REASONS] = { 0 }, mmio[VCPU_STATS_MMIO] = { 0 };
	uint64_t *pio = calloc(65536, sizeof(*pio)), total = 0;
	bool have[NKVM] = { false }, kvm_ok = true;

	if (!pio)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		const struct vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		for (unsigned r = 0; r < VCPU_STATS_REASONS; r++)
			reason[r] += v->stats.reason[r];
		for (unsigned m = 0; m < VCPU_STATS_MMIO; m++)
			mmio[m] += v->stats.mmio[m];
		for (unsigned p = 0; v->stats.pio && p < 65536; p++)
			pio[p] += v->stats.pio[p];
		if (kvm_stats_add(v, sum, have))
			kvm_ok = false;
	}
	fprintf(stderr, "ember: exits, all %u vCPUs (kvm: KVM's counters, every exit; "
		"ember: the exits that reached ember)\n", vm->ncpus);
	for (unsigned k = 0; kvm_ok && k < NKVM; k++)
		if (have[k])
			fprintf(stderr, "  kvm   %-24s %10llu\n", kvm_names[k], (unsigned long long)sum[k]);
	if (!kvm_ok)
		fprintf(stderr, "  kvm   (KVM_GET_STATS_FD: not available)\n");
	for (unsigned r = 0; r < VCPU_STATS_REASONS; r++)
		total += reason[r];
	fprintf(stderr, "  ember %-24s %10llu\n", "total", (unsigned long long)total);
	for (unsigned r = 0; r < VCPU_STATS_REASONS; r++) {
		const char *n = reason_name(r);
		char other[24];

		if (!reason[r])
			continue;
		if (!n) {
			snprintf(other, sizeof(other), r == VCPU_STATS_REASONS - 1 ? "reason>=%u" :
				 "reason%u", r);
			n = other;
		}
		fprintf(stderr, "  ember %-24s %10llu\n", n, (unsigned long long)reason[r]);
	}
	print_top(pio, 65536, 8, "port", port_name, vm);
	print_top(mmio, VCPU_STATS_MMIO, 8, "mmio", mmio_name, vm);
	for (unsigned i = 0; vm->ncpus > 1 && i < vm->ncpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		uint64_t t = 0;

		for (unsigned r = 0; v && r < VCPU_STATS_REASONS; r++)
			t += v->stats.reason[r];
		fprintf(stderr, "  vcpu%-2u %-23s %10llu\n", i, "to ember", (unsigned long long)t);
	}
	free(pio);
}
