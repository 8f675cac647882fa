/* seccomp/filters.c - compiles sc_rules[] into one BPF program per thread
 * kind with libseccomp, installs them per thread, and the VM's hooks:
 * sc_vm_setup (capabilities, vCPU filter), sc_vm_enter (each thread
 * installs its own). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "seccomp/seccomp.h"

/* Developers: build with -DEMBER_SECCOMP_LOG to find what a new feature
 * needs: every syscall the filters would kill is allowed but logged by
 * the kernel's audit (dmesg: "type=1326 ... syscall=N"). */
#ifdef EMBER_SECCOMP_LOG
#define SC_DEFAULT_ACTION SCMP_ACT_LOG
#else
#define SC_DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

static bool rule_selected(const struct sc_rule *r, enum sc_kind kind, unsigned features)
{
	return (r->kinds & SC_K(kind)) && (!r->feature || (r->feature & features));
}

/* A FAIL row is dropped when a feature allows some form of the same
 * syscall: libseccomp lets an unconditional rule swallow the conditional
 * ones of its syscall, so the other forms are then killed instead. */
static bool rule_overridden(const struct sc_rule *r, enum sc_kind kind, unsigned features)
{
	if (!r->errno_ret)
		return false;
	for (unsigned i = 0; i < sc_nrules; i++) {
		const struct sc_rule *o = &sc_rules[i];

		if (o != r && o->nr == r->nr && !o->errno_ret && rule_selected(o, kind, features))
			return true;
	}
	return false;
}

static int rule_add(scmp_filter_ctx ctx, const struct sc_rule *r, const struct sc_params *p)
{
	struct scmp_arg_cmp cmp[2];
	uint32_t action = r->errno_ret ? SCMP_ACT_ERRNO((uint32_t)r->errno_ret) : SCMP_ACT_ALLOW;

	for (unsigned i = 0; i < r->nargs; i++) {
		const struct sc_arg *a = &r->arg[i];
		int64_t v = (int64_t)a->val;

		if (a->src == SC_V_VM_FD)
			v = p->vm_fd;
		else if (a->src == SC_V_PID)
			v = p->pid;
		if (a->src != SC_V_CONST && v < 0)
			return 0;	/* no such object (unit tests): nothing to allow */
		cmp[i].arg = a->idx;
		if (a->op == SC_MASKED_EQ) {
			cmp[i].op = SCMP_CMP_MASKED_EQ;
			cmp[i].datum_a = a->mask;
			cmp[i].datum_b = (uint64_t)v;
		} else {
			cmp[i].op = SCMP_CMP_EQ;
			cmp[i].datum_a = (uint64_t)v;
			cmp[i].datum_b = 0;
		}
	}
	return seccomp_rule_add_exact_array(ctx, action, r->nr, r->nargs, cmp);
}

/* Exports ctx's BPF program into a malloc'd sock_fprog. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("ember-seccomp", MFD_CLOEXEC);
	off_t len;
	void *buf = NULL;
	int r;

	if (fd < 0)
		return -errno;
	r = seccomp_export_bpf(ctx, fd);
	if (r)
		goto out;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
		r = -E2BIG;
		goto out;
	}
	buf = malloc((size_t)len);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, buf, (size_t)len, 0) != len) {
		r = -EIO;
		free(buf);
		goto out;
	}
	out->filter = buf;
	out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	r = 0;
out:
	close(fd);
	return r;
}

int sc_build(enum sc_kind kind, unsigned features, const struct sc_params *p,
	     struct sock_fprog *out)
{
	scmp_filter_ctx ctx = seccomp_init(SC_DEFAULT_ACTION);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!ctx)
		return -ENOMEM;
	/* a 32-bit or x32 syscall is as forbidden as an unknown one */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* ioctl (KVM_RUN) first: it is the vCPU's hot path */
	if (!r && kind == SC_VCPU)
		r = seccomp_syscall_priority(ctx, SCMP_SYS(ioctl), 255);
	for (unsigned i = 0; !r && i < sc_nrules; i++) {
		const struct sc_rule *rule = &sc_rules[i];

		if (!rule_selected(rule, kind, features) || rule_overridden(rule, kind, features))
			continue;
		r = rule_add(ctx, rule, p);
		if (r == -EEXIST)	/* the same row under two features */
			r = 0;
		if (r)
			log_error("seccomp: rule %u (syscall %d, %s): %s", i, rule->nr,
				  rule->why, strerror(-r));
	}
	if (!r)
		r = export_prog(ctx, out);
	seccomp_release(ctx);
	return r;
}

void sc_prog_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

int sc_install(const struct sock_fprog *prog)
{
	/* no TSYNC: this thread only; no_new_privs is already set */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		return -errno;
	return 0;
}

static const char *const kind_names[SC_KIND__COUNT] = { "vcpu", "loop", "api" };

unsigned sc_dump(FILE *f, unsigned features)
{
	unsigned n = 0;

	for (int k = 0; k < SC_KIND__COUNT; k++) {
		for (unsigned i = 0; i < sc_nrules; i++) {
			const struct sc_rule *r = &sc_rules[i];
			char *name;

			if (!rule_selected(r, (enum sc_kind)k, features))
				continue;
			name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);
			fprintf(f, "%-5s %-16s %s%s%s\n", kind_names[k], name ? name : "?",
				r->nargs ? "(pinned) " : "", r->errno_ret ? "(fails) " : "",
				r->why);
			free(name);
			n++;
		}
	}
	return n;
}
