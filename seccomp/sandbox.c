/* seccomp/sandbox.c - the VM's sandbox, in the order DESIGN.md asks:
 *   vm_start: sc_vm_setup() drops every capability while the process has one
 *     thread, before the ring and the vCPU threads, and compiles the vCPU
 *     filter (libseccomp: ~0.15 ms here);
 *   vCPU threads: sc_vm_enter(SC_VCPU) installs it before the first KVM_RUN;
 *   loop thread: sc_vm_enter(SC_LOOP) compiles and installs its own once
 *     every vCPU thread exists (the guest already runs meanwhile).
 * (Compiling on a helper thread during vm_create was measured: the thread
 * slowed KVM's set-up more than it saved.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/un.h>

#include "seccomp/seccomp.h"

unsigned sc_vm_features(const struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	unsigned f = 0;

	if (cfg) {
		if (cfg->console == CONSOLE_STDIO && isatty(STDIN_FILENO))
			f |= SC_F_TTY;
		if (cfg->ndrives)
			f |= SC_F_BLK;
		if (cfg->nnets)
			f |= SC_F_NET;
		if (cfg->rng)
			f |= SC_F_RNG;
		if (cfg->vsock.uds)
			f |= SC_F_VSOCK;
		if (cfg->metrics_path)
			f |= SC_F_METRICS;
		f |= cfg->sandbox_features;
	}
#ifdef EMBER_TEST_HOOKS
	f |= SC_F_TEST;
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__) || \
	defined(EMBER_SANITIZER)
	f |= SC_F_SANITIZER;
#endif
	return f;
}

static struct sandbox *sandbox_new(struct vm *vm)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return NULL;
	sb->vm = vm;
	sb->st_efd = -1;
	sb->landlock_fd = -1;
	sb->on = !(vm->cfg && vm->cfg->no_seccomp);
	sb->features = sc_vm_features(vm);
	sb->params.vm_fd = vm->vm_fd;
	sb->params.pid = getpid();
	vm->sandbox = sb;
	return sb;
}

static int build(struct sandbox *sb, enum sc_kind kind)
{
	uint64_t t0 = now_ns();
	int r = sc_build(kind, sb->features, &sb->params, &sb->prog[kind]);

	sb->times.build_ns[kind] = now_ns() - t0;
	return r;
}

static void warn_no_seccomp(void)
{
	fputs("ember: WARNING: --no-seccomp: the seccomp filters are OFF. A guest that\n"
	      "ember: WARNING: escapes into ember can make any system call. Debugging only.\n",
	      stderr);
}

/* The write ruleset; without Landlock, the sandbox goes on and says what
 * it does not cover (only when the command writes files at all). */
static void landlock_setup(struct sandbox *sb, const struct vm_config *cfg)
{
	const char *dirs[ARRAY_SIZE(cfg->write_dirs) + 1];
	char why[256], uds_dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned n = cfg->nwrite_dirs;
	int fd;

	memcpy(dirs, cfg->write_dirs, n * sizeof(dirs[0]));
	if (cfg->vsock.uds) {	/* the vsock socket file is removed at exit */
		const char *slash = strrchr(cfg->vsock.uds, '/');

		snprintf(uds_dir, sizeof(uds_dir), "%.*s", slash ? (int)(slash - cfg->vsock.uds) : 1,
			 slash ? cfg->vsock.uds : ".");
		if (!uds_dir[0])
			snprintf(uds_dir, sizeof(uds_dir), "/");
		dirs[n++] = uds_dir;
	}
	fd = sc_landlock_build(dirs, n, why, sizeof(why));

	if (fd >= 0) {
		sb->landlock_fd = fd;
		return;
	}
	if (cfg->nwrite_dirs)
		fprintf(stderr, "ember: sandbox: %s: writes under '%s' are confined by seccomp's "
			"openat flags only, not by path\n", why, cfg->write_dirs[0]);
	else
		log_info("sandbox: %s", why);
}

int sc_vm_setup(struct vm *vm, struct errbuf *err)
{
	struct sandbox *sb = vm->sandbox ? vm->sandbox : sandbox_new(vm);
	uint64_t t0;
	int r;

	if (!sb)
		return err_set(err, ENOMEM, "sandbox: out of memory");
	t0 = now_ns();
	r = sc_caps_drop();
	sb->times.caps_ns = now_ns() - t0;
	if (r)
		return err_set(err, -r, "sandbox: dropping capabilities: %s", strerror(-r));
	if (sb->on && !sb->prog[SC_VCPU].filter && (r = build(sb, SC_VCPU)))
		return err_set(err, -r, "sandbox: building the vCPU seccomp filter: %s",
			       strerror(-r));
	if (sb->on && sb->landlock_fd < 0 && vm->cfg && !vm->cfg->write_anywhere)
		landlock_setup(sb, vm->cfg);
#ifdef EMBER_TEST_HOOKS
	r = sc_selftest_setup(vm, sb);
	if (r)
		return err_set(err, -r, "sandbox: self-test hook: %s", strerror(-r));
#endif
	if (!sb->on)
		warn_no_seccomp();
	return 0;
}

int sc_vm_enter(struct vm *vm, enum sc_kind kind)
{
	struct sandbox *sb = vm->sandbox;
	uint64_t t0 = now_ns();
	int r;

	if (!sb)
		return 0;
#ifdef EMBER_TEST_HOOKS
	if (kind == SC_LOOP)
		sc_selftest_arm(vm, sb);
#endif
	if (!sb->on)
		return 0;
	if (kind == SC_LOOP) {
		r = build(sb, SC_LOOP);
		if (r)
			return r;
		t0 = now_ns();
	}
	r = sc_landlock_enter(sb->landlock_fd);
	if (r)
		return r;
	r = sc_install(&sb->prog[kind]);
	sb->times.install_ns[kind] = now_ns() - t0;
	if (kind == SC_LOOP)
		sc_prog_free(&sb->prog[SC_LOOP]);
	return r;
}

void sc_vm_free(struct vm *vm)
{
	struct sandbox *sb = vm->sandbox;

	if (!sb)
		return;
	log_info("sandbox: capabilities %.3f ms; filters built: vCPU %.3f ms, "
		 "loop %.3f ms; installed: vCPU %.3f ms, loop %.3f ms",
		 sb->times.caps_ns / 1e6, sb->times.build_ns[SC_VCPU] / 1e6,
		 sb->times.build_ns[SC_LOOP] / 1e6, sb->times.install_ns[SC_VCPU] / 1e6,
		 sb->times.install_ns[SC_LOOP] / 1e6);
	for (int k = 0; k < SC_KIND__COUNT; k++)
		sc_prog_free(&sb->prog[k]);
	if (sb->landlock_fd >= 0)
		close(sb->landlock_fd);
#ifdef EMBER_TEST_HOOKS
	sc_selftest_free(sb);
#endif
	free(sb);
	vm->sandbox = NULL;
}

bool sc_take_no_seccomp(int *argc, char **argv)
{
	static const char *const flags[] = { "--pit", "--boot-time", "--rng", "--no-seccomp" };
	bool found = false;
	int w = 1;

	for (int i = 1; i < *argc; i++) {
		const char *prev = w > 1 ? argv[w - 1] : NULL;
		bool prev_wants_value = prev && !strncmp(prev, "--", 2) && !strchr(prev, '=');

		for (unsigned k = 0; prev_wants_value && k < ARRAY_SIZE(flags); k++)
			if (!strcmp(prev, flags[k]))
				prev_wants_value = false;
		if (!strcmp(argv[i], "--") && !prev_wants_value) {
			while (i < *argc)	/* the guest's command: not ours */
				argv[w++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "--no-seccomp") && !prev_wants_value) {
			found = true;
			continue;
		}
		argv[w++] = argv[i];
	}
	if (w < *argc)
		argv[w] = NULL;
	*argc = w;
	return found;
}
