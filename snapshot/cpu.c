/* snapshot/cpu.c - a vCPU's whole state: registers, segment and control
 * registers, FPU/XSAVE, XCRs, LAPIC, every MSR KVM lists for saving (and
 * the MTRRs), pending events, debug registers and the MP state; read from
 * and written into KVM, and encoded into a state file section. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "snapshot/snapshot.h"

#define CPU_VERSION 1

const char *const cpu_class_names[CPU__CLASSES] = {
	"regs", "sregs", "fpu", "xsave", "xcrs", "lapic", "msrs", "events",
	"debugregs", "mp_state",
};

/* ---- capabilities and the MSR list ------------------------------------ */
static uint32_t *msr_index_list(int kvm_fd, uint32_t *n)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *l;
	uint32_t *out;

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	l = calloc(1, sizeof(*l) + (probe.nmsrs + 32) * sizeof(uint32_t));
	if (!l)
		return NULL;
	l->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return NULL;
	}
	out = malloc((l->nmsrs + 32) * sizeof(uint32_t));
	if (out) {
		memcpy(out, l->indices, l->nmsrs * sizeof(uint32_t));
		*n = l->nmsrs;
	}
	free(l);
	return out;
}

/* The MTRRs: KVM emulates them but does not list them for saving. */
static const uint32_t mtrr_msrs[] = {
	0x2ff, 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d,
	0x26e, 0x26f, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
	0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
};

static struct kvm_msrs *msrs_alloc(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));

	if (m)
		m->nmsrs = n;
	return m;
}

int cpu_caps_init(struct cpu_caps *c, struct vcpu *v)
{
	int kvm = v->vm->kvm_fd, x;
	uint32_t n = 0, keep = 0;
	struct kvm_msrs *m;

	memset(c, 0, sizeof(*c));
	x = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (x > 0) {
		c->xsave2 = true;
		c->xsave_size = (uint32_t)x < sizeof(struct kvm_xsave) ?
			sizeof(struct kvm_xsave) : (uint32_t)x;
	} else if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		c->xsave_size = sizeof(struct kvm_xsave);
	}
	if (c->xsave_size > CPU_XSAVE_MAX)
		return -E2BIG;
	c->xcrs = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	c->debugregs = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0;
	c->events = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS) > 0;

	c->msrs = msr_index_list(kvm, &n);
	if (!c->msrs)
		return -errno ? -errno : -ENOMEM;
	memcpy(c->msrs + n, mtrr_msrs, sizeof(mtrr_msrs));
	n += ARRAY_SIZE(mtrr_msrs);
	if (n > CPU_MSRS_MAX)
		n = CPU_MSRS_MAX;
	/* keep the ones KVM_GET_MSRS reads: it stops at the first it
	 * refuses, so one call per refused MSR */
	m = msrs_alloc(n);
	if (!m)
		return -ENOMEM;
	for (uint32_t i = 0; i < n;) {
		int got;

		m->nmsrs = n - i;
		for (uint32_t k = 0; k < m->nmsrs; k++)
			m->entries[k].index = c->msrs[i + k];
		got = ioctl(v->fd, KVM_GET_MSRS, m);
		if (got < 0) {
			free(m);
			return -errno;
		}
		for (int k = 0; k < got; k++)
			c->msrs[keep++] = c->msrs[i + (uint32_t)k];
		i += (uint32_t)got + 1;	/* skip the refused one */
	}
	free(m);
	c->nmsrs = keep;
	return 0;
}

void cpu_caps_free(struct cpu_caps *c)
{
	free(c->msrs);
	memset(c, 0, sizeof(*c));
}

/* ---- get / set -------------------------------------------------------- */
void cpu_state_free(struct cpu_state *s)
{
	free(s->xsave);
	free(s->msrs);
	s->xsave = NULL;
	s->msrs = NULL;
	s->have = 0;
}

int cpu_state_get(struct vcpu *v, const struct cpu_caps *c, struct cpu_state *s)
{
	int fd = v->fd;

	memset(s, 0, sizeof(*s));
	if (ioctl(fd, KVM_GET_REGS, &s->regs) < 0 || ioctl(fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(fd, KVM_GET_LAPIC, &s->lapic) < 0 || ioctl(fd, KVM_GET_MP_STATE, &s->mp) < 0)
		return -errno;
	s->have = 1u << CPU_REGS | 1u << CPU_SREGS | 1u << CPU_LAPIC | 1u << CPU_MP_STATE;
	if (c->xsave_size) {
		s->xsave = calloc(1, c->xsave_size);
		if (!s->xsave)
			return -ENOMEM;
		s->xsave_size = c->xsave_size;
		if (ioctl(fd, c->xsave2 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, s->xsave) < 0)
			return -errno;
		s->have |= 1u << CPU_XSAVE;
	} else {
		if (ioctl(fd, KVM_GET_FPU, &s->fpu) < 0)
			return -errno;
		s->have |= 1u << CPU_FPU;
	}
	if (c->xcrs) {
		if (ioctl(fd, KVM_GET_XCRS, &s->xcrs) < 0)
			return -errno;
		s->have |= 1u << CPU_XCRS;
	}
	if (c->events) {
		if (ioctl(fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
			return -errno;
		s->have |= 1u << CPU_EVENTS;
	}
	if (c->debugregs) {
		if (ioctl(fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
			return -errno;
		s->have |= 1u << CPU_DEBUGREGS;
	}
	s->msrs = msrs_alloc(c->nmsrs);
	if (!s->msrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nmsrs; i++)
		s->msrs->entries[i].index = c->msrs[i];
	if (c->nmsrs && ioctl(fd, KVM_GET_MSRS, s->msrs) != (int)c->nmsrs)
		return errno ? -errno : -EIO;
	s->have |= 1u << CPU_MSRS;
	return 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: skip it, go on. */
static int set_msrs(struct vcpu *v, const struct kvm_msrs *m)
{
	struct kvm_msrs *part;
	uint32_t i = 0;
	int got = ioctl(v->fd, KVM_SET_MSRS, m);

	if (got < 0)
		return -errno;
	if ((uint32_t)got == m->nmsrs)
		return 0;
	part = msrs_alloc(m->nmsrs);
	if (!part)
		return -ENOMEM;
	while (i + (uint32_t)got < m->nmsrs) {
		i += (uint32_t)got;
		log_debug("vCPU %u: KVM refused MSR 0x%x = 0x%llx; skipped", v->id,
			  m->entries[i].index, (unsigned long long)m->entries[i].data);
		i++;
		part->nmsrs = m->nmsrs - i;
		memcpy(part->entries, m->entries + i, part->nmsrs * sizeof(m->entries[0]));
		got = part->nmsrs ? ioctl(v->fd, KVM_SET_MSRS, part) : 0;
		if (got < 0) {
			got = -errno;
			free(part);
			return got;
		}
	}
	free(part);
	return 0;
}

static int set_class(struct vcpu *v, const struct cpu_state *s, unsigned c)
{
	int fd = v->fd, r = 0;

	switch (c) {
	case CPU_REGS: r = ioctl(fd, KVM_SET_REGS, &s->regs); break;
	case CPU_SREGS: r = ioctl(fd, KVM_SET_SREGS, &s->sregs); break;
	case CPU_FPU: r = ioctl(fd, KVM_SET_FPU, &s->fpu); break;
	case CPU_XSAVE: r = ioctl(fd, KVM_SET_XSAVE, s->xsave); break;
	case CPU_XCRS: r = ioctl(fd, KVM_SET_XCRS, &s->xcrs); break;
	case CPU_LAPIC: r = ioctl(fd, KVM_SET_LAPIC, &s->lapic); break;
	case CPU_MSRS: return set_msrs(v, s->msrs);
	case CPU_EVENTS: r = ioctl(fd, KVM_SET_VCPU_EVENTS, &s->events); break;
	case CPU_DEBUGREGS: r = ioctl(fd, KVM_SET_DEBUGREGS, &s->debugregs); break;
	case CPU_MP_STATE: r = ioctl(fd, KVM_SET_MP_STATE, &s->mp); break;
	}
	return r < 0 ? -errno : 0;
}

/* The order KVM needs: sregs (APIC base, modes) before the LAPIC, the
 * LAPIC before the MSRs (TSC deadline), events after the MP state. */
static const unsigned set_order[] = {
	CPU_SREGS, CPU_REGS, CPU_XCRS, CPU_FPU, CPU_XSAVE, CPU_LAPIC, CPU_MSRS,
	CPU_MP_STATE, CPU_EVENTS, CPU_DEBUGREGS,
};

int cpu_state_set(struct vcpu *v, const struct cpu_state *s, unsigned what,
		  unsigned sync, uint64_t *ns, struct errbuf *err)
{
	struct kvm_run *run = v->run;

	what &= s->have;
	sync &= what & (1u << CPU_REGS | 1u << CPU_SREGS | 1u << CPU_EVENTS);
	for (unsigned i = 0; i < ARRAY_SIZE(set_order); i++) {
		unsigned c = set_order[i];
		uint64_t t0 = ns ? now_ns() : 0;
		int r;

		if (!(what & (1u << c)) || (sync & (1u << c)))
			continue;
		r = set_class(v, s, c);
		if (r)
			return err_set(err, -r, "vCPU %u: restoring %s: %s", v->id,
				       cpu_class_names[c], strerror(-r));
		if (ns)
			ns[c] += now_ns() - t0;
	}
	if (sync & (1u << CPU_REGS)) {
		run->s.regs.regs = s->regs;
		run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	}
	if (sync & (1u << CPU_SREGS)) {
		run->s.regs.sregs = s->sregs;
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
	if (sync & (1u << CPU_EVENTS)) {
		run->s.regs.events = s->events;
		run->kvm_dirty_regs |= KVM_SYNC_X86_EVENTS;
	}
	return 0;
}

/* ---- encoding: per class a u32 class, u32 size, the bytes ------------- */
static void put_class(struct sbuf *sb, unsigned c, const void *p, size_t n)
{
	sbuf_put_u32(sb, c);
	sbuf_put_u32(sb, (uint32_t)n);
	sbuf_put(sb, p, n);
}

void cpu_state_encode(const struct cpu_state *s, struct sbuf *sb)
{
	sbuf_put_u32(sb, CPU_VERSION);
	sbuf_put_u32(sb, s->have);
	if (s->have & 1u << CPU_REGS)
		put_class(sb, CPU_REGS, &s->regs, sizeof(s->regs));
	if (s->have & 1u << CPU_SREGS)
		put_class(sb, CPU_SREGS, &s->sregs, sizeof(s->sregs));
	if (s->have & 1u << CPU_FPU)
		put_class(sb, CPU_FPU, &s->fpu, sizeof(s->fpu));
	if (s->have & 1u << CPU_XSAVE)
		put_class(sb, CPU_XSAVE, s->xsave, s->xsave_size);
	if (s->have & 1u << CPU_XCRS)
		put_class(sb, CPU_XCRS, &s->xcrs, sizeof(s->xcrs));
	if (s->have & 1u << CPU_LAPIC)
		put_class(sb, CPU_LAPIC, &s->lapic, sizeof(s->lapic));
	if (s->have & 1u << CPU_MSRS)
		put_class(sb, CPU_MSRS, s->msrs->entries,
			  s->msrs->nmsrs * sizeof(s->msrs->entries[0]));
	if (s->have & 1u << CPU_EVENTS)
		put_class(sb, CPU_EVENTS, &s->events, sizeof(s->events));
	if (s->have & 1u << CPU_DEBUGREGS)
		put_class(sb, CPU_DEBUGREGS, &s->debugregs, sizeof(s->debugregs));
	if (s->have & 1u << CPU_MP_STATE)
		put_class(sb, CPU_MP_STATE, &s->mp, sizeof(s->mp));
}

static void *fixed_field(struct cpu_state *s, unsigned c, size_t *size)
{
	switch (c) {
	case CPU_REGS: *size = sizeof(s->regs); return &s->regs;
	case CPU_SREGS: *size = sizeof(s->sregs); return &s->sregs;
	case CPU_FPU: *size = sizeof(s->fpu); return &s->fpu;
	case CPU_XCRS: *size = sizeof(s->xcrs); return &s->xcrs;
	case CPU_LAPIC: *size = sizeof(s->lapic); return &s->lapic;
	case CPU_EVENTS: *size = sizeof(s->events); return &s->events;
	case CPU_DEBUGREGS: *size = sizeof(s->debugregs); return &s->debugregs;
	case CPU_MP_STATE: *size = sizeof(s->mp); return &s->mp;
	}
	return NULL;
}

int cpu_state_decode(struct sbuf *sb, struct cpu_state *s)
{
	uint32_t ver, have, seen = 0;

	memset(s, 0, sizeof(*s));
	ver = sbuf_get_u32(sb);
	have = sbuf_get_u32(sb);
	if (sb->err || ver != CPU_VERSION || (have & ~CPU_ALL) ||
	    (have & (1u << CPU_REGS | 1u << CPU_SREGS)) != (1u << CPU_REGS | 1u << CPU_SREGS))
		return -EINVAL;
	while (sb->pos < sb->len) {
		uint32_t c = sbuf_get_u32(sb), n = sbuf_get_u32(sb);
		size_t want = 0;
		void *dst = NULL;

		if (sb->err || c >= CPU__CLASSES || !(have & (1u << c)) || (seen & (1u << c)) ||
		    n > sb->len - sb->pos)
			goto bad;
		seen |= 1u << c;
		if (c == CPU_XSAVE) {
			if (n < sizeof(struct kvm_xsave) || n > CPU_XSAVE_MAX)
				goto bad;
			s->xsave = malloc(n);
			if (!s->xsave)
				goto bad;
			s->xsave_size = n;
			dst = s->xsave;
			want = n;
		} else if (c == CPU_MSRS) {
			if (n % sizeof(struct kvm_msr_entry) ||
			    n / sizeof(struct kvm_msr_entry) > CPU_MSRS_MAX)
				goto bad;
			s->msrs = msrs_alloc(n / sizeof(struct kvm_msr_entry));
			if (!s->msrs)
				goto bad;
			dst = s->msrs->entries;
			want = n;
		} else {
			dst = fixed_field(s, c, &want);
		}
		if (n != want)
			goto bad;
		sbuf_get(sb, dst, n);
	}
	if (sb->err || seen != have)
		goto bad;
	s->have = have;
	return 0;
bad:
	cpu_state_free(s);
	return -EINVAL;
}
