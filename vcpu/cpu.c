/* vcpu/cpu.c - CPU set-up: CPUID (topology, KVM leaves), MSRs, LAPIC LINT
 * pins, and the register state each boot protocol starts in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "monitor/boot/boot.h"
#include "monitor/monitor.h"
#include "vcpu/vcpu.h"

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (unsigned n = 256; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

static unsigned order_base2(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

/* Topology: one package, ncpus cores, one thread each; APIC ID = index. */
static void cpuid_fixup(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
	unsigned core_bits = order_base2(ncpus);

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0xffff) | (id << 24) |
				 ((1u << core_bits) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;	/* HTT: more than one logical CPU */
			e->ecx |= 1u << 31;	/* running under a hypervisor */
			break;
		case 4:	/* cores per package in EAX[31:26] */
			e->eax = (e->eax & 0x3ff) | (((1u << core_bits) - 1) << 26);
			break;
		case 0xb:
		case 0x1f:
			e->edx = id;
			if (e->index == 0) {	/* SMT level: one thread per core */
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {	/* core level */
				e->eax = core_bits;
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0xa:	/* no virtual PMU: guests need not program one */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		default:
			break;
		}
	}
}

/* CPUID leaves 0xb/0x1f: KVM lists sub-leaf 0 only unless asked; make sure
 * sub-leaves 0..2 of 0xb exist so the topology is complete. */
static struct kvm_cpuid2 *cpuid_ensure_topology(struct kvm_cpuid2 *c)
{
	bool have[3] = { false, false, false };
	unsigned missing = 0;
	struct kvm_cpuid2 *n;

	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xb && c->entries[i].index < 3)
			have[c->entries[i].index] = true;
	for (int i = 0; i < 3; i++)
		missing += !have[i];
	if (!missing)
		return c;
	n = realloc(c, sizeof(*c) + (c->nent + missing) * sizeof(c->entries[0]));
	if (!n)
		return c;
	for (unsigned i = 0; i < 3; i++) {
		if (have[i])
			continue;
		memset(&n->entries[n->nent], 0, sizeof(n->entries[0]));
		n->entries[n->nent].function = 0xb;
		n->entries[n->nent].index = i;
		n->entries[n->nent].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		n->nent++;
	}
	return n;
}

/* The LAPIC timer's TSC-deadline mode (CPUID.1:ECX[24]): KVM emulates it
 * with its in-kernel LAPIC, which ember always has (split or full), but
 * KVM_GET_SUPPORTED_CPUID leaves the bit to the VMM (KVM_CAP_TSC_DEADLINE_TIMER).
 * Without it Linux calibrates the LAPIC timer, verifies it against PIT
 * ticks that never come ("APIC timer disabled due to verification
 * failure") and is left with no timer interrupt: sleep never ends. */
static void cpuid_tsc_deadline(struct kvm_cpuid2 *c, int kvm_fd)
{
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		return;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= 1u << 24;
}

/* The VM's CPUID table: the saved one on a restore, else what KVM
 * supports with the topology leaves completed.  0 or -errno. */
static int cpuid_table(struct vm *vm, const struct kvm_cpuid2 *saved)
{
	if (saved) {
		size_t sz = sizeof(*saved) + saved->nent * sizeof(saved->entries[0]);

		vm->cpuid = malloc(sz);
		if (!vm->cpuid)
			return -ENOMEM;
		memcpy(vm->cpuid, saved, sz);
		return 0;
	}
	errno = 0;
	vm->cpuid = supported_cpuid(vm->kvm_fd);
	if (!vm->cpuid)
		return errno ? -errno : -ENOMEM;
	vm->cpuid = cpuid_ensure_topology(vm->cpuid);
	cpuid_tsc_deadline(vm->cpuid, vm->kvm_fd);
	return 0;
}

int cpu_setup_cpuid(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_cpuid2 *c;
	size_t sz;
	int r = vm->cpuid ? 0 : cpuid_table(vm, vm->cfg->cpuid);

	if (r)
		return r;
	sz = sizeof(*c) + vm->cpuid->nent * sizeof(c->entries[0]);
	c = malloc(sz);
	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, sz);
	cpuid_fixup(c, v->id, vm->ncpus);
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1

int cpu_setup_msrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[1];
	} m;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 1;
	m.e[0].index = MSR_IA32_MISC_ENABLE;
	m.e[0].data = MISC_ENABLE_FAST_STRING;
	return ioctl(v->fd, KVM_SET_MSRS, &m) == 1 ? 0 : -EIO;
}

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void lapic_set_mode(struct kvm_lapic_state *l, unsigned reg, uint32_t mode)
{
	uint32_t val;

	memcpy(&val, &l->regs[reg], 4);
	val = (val & ~0x700u) | (mode << 8);
	memcpy(&l->regs[reg], &val, 4);
}

/* LINT0 as ExtINT and LINT1 as NMI: the virtual-wire set-up an MP-table
 * guest expects (it matches the table's local interrupt entries). */
int cpu_setup_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lapic_set_mode(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_mode(&l, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

/* ---- boot state ------------------------------------------------------- */
#define GDT_CODE32 0x08
#define GDT_CODE64 0x10
#define GDT_DATA 0x18
#define GDT_TSS 0x20

static const uint64_t boot_gdt[] = {
	0,
	0x00cf9a000000ffffull,	/* 0x08: code, 32-bit, 4 GiB */
	0x00af9a000000ffffull,	/* 0x10: code, 64-bit */
	0x00cf92000000ffffull,	/* 0x18: data, 4 GiB */
	0x00008b0000000067ull,	/* 0x20: TSS, busy, base 0 (for a valid TR) */
};

static void seg_from_gdt(struct kvm_segment *s, uint16_t sel)
{
	uint64_t d = boot_gdt[sel >> 3];

	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000));
	s->limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	s->type = (d >> 40) & 0xf;
	s->s = (d >> 44) & 1;
	s->dpl = (d >> 45) & 3;
	s->present = (d >> 47) & 1;
	s->avl = (d >> 52) & 1;
	s->l = (d >> 53) & 1;
	s->db = (d >> 54) & 1;
	s->g = (d >> 55) & 1;
	if (s->g)
		s->limit = (s->limit << 12) | 0xfff;
}

static int write_boot_gdt(struct vm *vm)
{
	void *p = gm_ptr(vm, BOOT_GDT_ADDR, sizeof(boot_gdt));

	if (!p)
		return -EFAULT;
	memcpy(p, boot_gdt, sizeof(boot_gdt));
	return 0;
}

/* Identity map of the first 4 GiB with 2 MiB pages. */
static int write_page_tables(struct vm *vm)
{
	uint64_t *pml4 = gm_ptr(vm, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = gm_ptr(vm, BOOT_PML4_ADDR + 0x1000, 4096);
	uint64_t *pd = gm_ptr(vm, BOOT_PML4_ADDR + 0x2000, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = (BOOT_PML4_ADDR + 0x1000) | 3;	/* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PML4_ADDR + 0x2000 + i * 0x1000) | 3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;	/* present, writable, 2 MiB page */
	return 0;
}

#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

int vcpu_setup_boot(struct vcpu *v, const struct boot_entry *e)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	int ret;

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = e->rip;
	r.rax = e->rax;
	r.rbx = e->rbx;
	r.rsi = e->rsi;
	r.rsp = e->rsp;

	if (e->mode == BOOT_REAL16) {
		struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.fs, &s.gs, &s.ss };

		for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
			segs[i]->selector = e->cs;
			segs[i]->base = (uint64_t)e->cs << 4;
		}
	} else {
		ret = write_boot_gdt(v->vm);
		if (ret)
			return ret;
		s.gdt.base = BOOT_GDT_ADDR;
		s.gdt.limit = sizeof(boot_gdt) - 1;
		s.idt.base = 0;
		s.idt.limit = 0;
		seg_from_gdt(&s.cs, e->mode == BOOT_LONG64 ? GDT_CODE64 : GDT_CODE32);
		seg_from_gdt(&s.ds, GDT_DATA);
		s.es = s.fs = s.gs = s.ss = s.ds;
		seg_from_gdt(&s.tr, GDT_TSS);
		s.ldt.unusable = 1;
		s.cr0 = CR0_PE | CR0_ET;
		if (!r.rsp)
			r.rsp = BOOT_STACK_TOP;
	}
	if (e->mode == BOOT_LONG64) {
		ret = write_page_tables(v->vm);
		if (ret)
			return ret;
		s.cr3 = BOOT_PML4_ADDR;
		s.cr4 |= CR4_PAE;
		s.cr0 |= CR0_PG;
		s.efer |= EFER_LME | EFER_LMA;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
