/* Unit tests of the sandbox: the rule table, the filters each thread kind
 * gets (installed in a forked child: an allowed call must work, anything
 * else must kill the child with SIGSYS), the capability drop and the
 * io_uring restrictions.  No KVM needed: ioctls are tried on /dev/null,
 * where the filter decides before the driver says ENOTTY. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include "monitor/monitor.h"
#include "seccomp/seccomp.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define SAN_FEATURES SC_F_SANITIZER	/* the runtime's own needs */
#else
#define SAN_FEATURES 0u
#endif

/* Forks; the child installs the filter of kind for features (VM fd vm_fd)
 * and runs fn, then leaves with the raw exit syscall (allowed to both
 * kinds' threads as exit or exit_group).  Returns the wait status. */
static int in_filtered_child(enum sc_kind kind, unsigned features, int vm_fd,
			     void (*fn)(int vm_fd))
{
	struct sc_params p = { .vm_fd = vm_fd, .pid = getpid() };
	struct sock_fprog prog;
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		p.pid = getpid();
		if (sc_build(kind, features | SAN_FEATURES, &p, &prog) ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || sc_install(&prog))
			_exit(99);
		fn(vm_fd);
		syscall(kind == SC_VCPU ? SYS_exit : SYS_exit_group, 0);
		_exit(98);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exited_ok(int status)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child: exited %d, signal %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void assert_sigsys(int status)
{
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		  "child: exited %d, signal %d (want SIGSYS)",
		  WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static int devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	return fd;
}

/* ---- the table ---- */
Test(seccomp_rules, every_row_has_a_syscall_and_a_reason)
{
	for (unsigned i = 0; i < sc_nrules; i++) {
		const struct sc_rule *r = &sc_rules[i];
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, r->nr);

		cr_assert_not_null(name, "row %u: syscall %d unknown", i, r->nr);
		free(name);
		cr_assert(r->why && strlen(r->why) > 5, "row %u: no reason", i);
		cr_assert(r->kinds && !(r->kinds & ~SC_K_ALL), "row %u: kinds", i);
		cr_assert_leq(r->nargs, 2);
	}
}

Test(seccomp_rules, each_kind_builds_with_and_without_features)
{
	struct sc_params p = { .vm_fd = 7, .pid = 1234 };

	for (int k = 0; k < SC_KIND__COUNT; k++) {
		unsigned sets[] = { 0, ~0u };

		for (unsigned i = 0; i < ARRAY_SIZE(sets); i++) {
			struct sock_fprog prog;

			cr_assert_eq(sc_build((enum sc_kind)k, sets[i], &p, &prog), 0);
			cr_assert_gt(prog.len, 10);
			cr_assert_leq(prog.len, BPF_MAXINSNS);
			sc_prog_free(&prog);
			cr_assert_null(prog.filter);
		}
	}
}

Test(seccomp_rules, dump_lists_both_kinds)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned n;

	cr_assert_not_null(f);
	n = sc_dump(f, 0);
	fclose(f);
	cr_assert_gt(n, 20);
	cr_assert_not_null(strstr(buf, "vcpu  ioctl            (pinned) enter the guest"));
	cr_assert_not_null(strstr(buf, "loop  io_uring_enter"));
	cr_assert_null(strstr(buf, "getrandom"), "a feature's row without the feature");
	free(buf);
}

/* ---- the vCPU filter ---- */
static int g_pipe[2];

static void vcpu_does_its_work(int vm_fd)
{
	int futex_word = 0;
	struct timespec ts;
	void *p;

	if (write(g_pipe[1], "x", 1) != 1)
		_exit(1);
	if (ioctl(vm_fd, KVM_RUN, 0) != -1 || errno != ENOTTY)	/* allowed: the driver says no */
		_exit(2);
	if (ioctl(vm_fd, KVM_SIGNAL_MSI, NULL) != -1 || errno != ENOTTY)
		_exit(3);
	if (syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
		_exit(4);
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0)
		_exit(5);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, 8192, MADV_DONTNEED) || munmap(p, 8192))
		_exit(6);
	/* signal 0 to itself: a single-threaded child's tid is its pid */
	if (syscall(SYS_tgkill, getpid(), getpid(), 0) < 0)
		_exit(7);
}

Test(seccomp_vcpu, allows_what_a_vcpu_does)
{
	int fd = devnull();

	cr_assert_eq(pipe(g_pipe), 0);
	assert_exited_ok(in_filtered_child(SC_VCPU, 0, fd, vcpu_does_its_work));
	close(fd);
}

static void do_mount(int fd)
{
	(void)fd;
	syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
}

static void do_exec_mmap(int fd)
{
	(void)fd;
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void do_other_ioctl(int fd)
{
	ioctl(fd, KVM_CREATE_VCPU, 0);
}

static void do_tcgets(int fd)
{
	ioctl(fd, TCGETS, NULL);
}

static void do_execve(int fd)
{
	char *argv[] = { "true", NULL };

	(void)fd;
	execve("/bin/true", argv, argv + 1);
}

static void do_socket(int fd)
{
	(void)fd;
	syscall(SYS_socket, 2, 1, 0);
}

static void do_io_uring_setup(int fd)
{
	(void)fd;
	syscall(SYS_io_uring_setup, 4, NULL);
}

Test(seccomp_vcpu, kills_mount)
{
	assert_sigsys(in_filtered_child(SC_VCPU, ~0u, -1, do_mount));
}

Test(seccomp_vcpu, kills_exec_mapping)
{
	assert_sigsys(in_filtered_child(SC_VCPU, ~0u, -1, do_exec_mmap));
}

Test(seccomp_vcpu, kills_an_ioctl_it_does_not_need)
{
	int fd = devnull();

	assert_sigsys(in_filtered_child(SC_VCPU, 0, fd, do_other_ioctl));
	assert_sigsys(in_filtered_child(SC_VCPU, 0, fd, do_tcgets));
	close(fd);
}

Test(seccomp_vcpu, kills_execve_socket_io_uring_setup)
{
	assert_sigsys(in_filtered_child(SC_VCPU, ~0u, -1, do_execve));
	assert_sigsys(in_filtered_child(SC_VCPU, ~0u, -1, do_socket));
	assert_sigsys(in_filtered_child(SC_VCPU, ~0u, -1, do_io_uring_setup));
}

/* ---- the loop filter ---- */
static void loop_does_its_work(int vm_fd)
{
	char c;

	if (ioctl(vm_fd, KVM_SET_GSI_ROUTING, NULL) != -1 || errno != ENOTTY)
		_exit(1);
	if (ioctl(vm_fd, KVM_IOEVENTFD, NULL) != -1 || errno != ENOTTY)
		_exit(2);
	if (write(g_pipe[1], "y", 1) != 1 || read(g_pipe[0], &c, 1) != 1)
		_exit(3);
	if (syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0) != -1 || errno != EBADF)
		_exit(4);
	if (close(g_pipe[0]))
		_exit(5);
}

Test(seccomp_loop, allows_what_the_loop_does)
{
	int fd = devnull();

	cr_assert_eq(pipe(g_pipe), 0);
	assert_exited_ok(in_filtered_child(SC_LOOP, 0, fd, loop_does_its_work));
	close(fd);
}

static int g_other_fd;

static void vm_ioctl_on_other_fd(int vm_fd)
{
	(void)vm_fd;
	ioctl(g_other_fd, KVM_SIGNAL_MSI, NULL);
}

Test(seccomp_loop, vm_ioctls_only_on_the_vm_fd)
{
	int fd = devnull();

	g_other_fd = devnull();
	assert_sigsys(in_filtered_child(SC_LOOP, 0, fd, vm_ioctl_on_other_fd));
	close(fd);
	close(g_other_fd);
}

static void tgkill_other_process(int fd)
{
	(void)fd;
	syscall(SYS_tgkill, 1, 1, 0);
}

Test(seccomp_loop, signals_only_this_process)
{
	assert_sigsys(in_filtered_child(SC_LOOP, 0, -1, tgkill_other_process));
}

static void open_a_file(int fd)
{
	(void)fd;
	if (open("/dev/null", O_RDONLY) != -1 || errno != EACCES)
		_exit(1);
}

Test(seccomp_loop, opening_files_fails_with_eacces)
{
	if (SAN_FEATURES)
		cr_skip_test("the sanitizer runtime's rows allow openat");
	assert_exited_ok(in_filtered_child(SC_LOOP, 0, -1, open_a_file));
	assert_exited_ok(in_filtered_child(SC_VCPU, 0, -1, open_a_file));
}

Test(seccomp_loop, kills_mount_execve_socket)
{
	assert_sigsys(in_filtered_child(SC_LOOP, ~0u, -1, do_mount));
	assert_sigsys(in_filtered_child(SC_LOOP, ~0u, -1, do_execve));
	assert_sigsys(in_filtered_child(SC_LOOP, ~0u, -1, do_socket));
	assert_sigsys(in_filtered_child(SC_LOOP, ~0u, -1, do_io_uring_setup));
	assert_sigsys(in_filtered_child(SC_LOOP, ~0u, -1, do_exec_mmap));
}

static void rng_read(int fd)
{
	char buf[8];

	(void)fd;
	if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		_exit(1);
}

static void rng_read_nonblock(int fd)
{
	char buf[8];

	(void)fd;
	if (getrandom(buf, sizeof(buf), GRND_NONBLOCK) < 0)
		_exit(1);
}

Test(seccomp_loop, a_feature_adds_its_rows)
{
	assert_sigsys(in_filtered_child(SC_LOOP, 0, -1, rng_read));
	assert_exited_ok(in_filtered_child(SC_LOOP, SC_F_RNG, -1, rng_read));
	/* and only the form it needs: flags pinned to 0 */
	assert_sigsys(in_filtered_child(SC_LOOP, SC_F_RNG, -1, rng_read_nonblock));
	assert_sigsys(in_filtered_child(SC_VCPU, SC_F_RNG, -1, rng_read));
}

/* What ember's atexit handler does when stdin is a terminal: glibc's
 * tcsetattr reads the settings (TCGETS) before it writes them (TCSETS). */
static void restore_terminal(int fd)
{
	struct termios t;

	(void)fd;
	memset(&t, 0, sizeof(t));
	tcsetattr(STDIN_FILENO, TCSANOW, &t);	/* fails on a non-tty: fine */
}

Test(seccomp_loop, the_terminal_is_restored_at_exit)
{
	assert_exited_ok(in_filtered_child(SC_LOOP, SC_F_TTY, -1, restore_terminal));
	assert_sigsys(in_filtered_child(SC_LOOP, 0, -1, restore_terminal));
}

/* ---- capabilities ---- */
Test(seccomp_caps, drop_leaves_nothing)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		bool root = geteuid() == 0;

		if (sc_caps_drop())
			_exit(1);
		if (syscall(SYS_capget, &h, d))
			_exit(2);
		if (d[0].effective | d[0].permitted | d[0].inheritable |
		    d[1].effective | d[1].permitted | d[1].inheritable)
			_exit(3);
		if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			_exit(4);
		if (root && prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
			_exit(5);
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_ADMIN, 0, 0) != 0)
			_exit(6);
		if (root && setuid(0) == 0 && prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
			_exit(7);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	assert_exited_ok(status);
}

/* ---- io_uring ---- */
Test(seccomp_uring, ring_takes_only_ember_opcodes)
{
	struct loop l;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int fd = devnull();

	cr_assert(sc_uring_op_allowed(IORING_OP_READV));
	cr_assert(sc_uring_op_allowed(IORING_OP_POLL_ADD));
	cr_assert_not(sc_uring_op_allowed(IORING_OP_OPENAT));
	cr_assert_not(sc_uring_op_allowed(IORING_OP_SENDMSG));
	cr_assert_eq(loop_init(&l, 8), 0);

	sqe = io_uring_get_sqe(&l.ring);
	io_uring_prep_nop(sqe);
	cr_assert_eq(io_uring_submit_and_wait(&l.ring, 1), 1);
	cr_assert_eq(io_uring_peek_cqe(&l.ring, &cqe), 0);
	cr_assert_eq(cqe->res, 0, "NOP: %d", cqe->res);
	io_uring_cqe_seen(&l.ring, cqe);

	sqe = io_uring_get_sqe(&l.ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/", O_RDONLY, 0);
	cr_assert_eq(io_uring_submit_and_wait(&l.ring, 1), 1);
	cr_assert_eq(io_uring_peek_cqe(&l.ring, &cqe), 0);
	cr_assert_eq(cqe->res, -EACCES, "OPENAT: %d", cqe->res);
	io_uring_cqe_seen(&l.ring, cqe);

	/* an SQE flag ember does not use */
	sqe = io_uring_get_sqe(&l.ring);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_flags(sqe, IOSQE_FIXED_FILE);
	cr_assert_eq(io_uring_submit_and_wait(&l.ring, 1), 1);
	cr_assert_eq(io_uring_peek_cqe(&l.ring, &cqe), 0);
	cr_assert_eq(cqe->res, -EACCES, "FIXED_FILE: %d", cqe->res);
	io_uring_cqe_seen(&l.ring, cqe);

	/* no register operation at all once enabled */
	cr_assert_eq(io_uring_register_files(&l.ring, &fd, 1), -EACCES);
	loop_destroy(&l);
	close(fd);
}

/* ---- the API thread's filter (`ember --api-sock`) ---- */
static void api_does_its_work(int fd)
{
	int futex_word = 0;
	char c = 'x';
	void *p;

	(void)fd;
	if (syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0)
		_exit(4);
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, 8192, MADV_DONTNEED) || munmap(p, 8192))
		_exit(6);
	if (write(g_pipe[1], &c, 1) != 1 || read(g_pipe[0], &c, 1) != 1)
		_exit(7);
	if (close(g_pipe[0]) || (unlink("/nonexistent/ember-api.sock") == 0 || errno != ENOENT))
		_exit(8);
}

static void api_opens_a_socket(int fd)
{
	(void)fd;
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static void api_touches_kvm(int fd)
{
	ioctl(fd, KVM_CHECK_EXTENSION, 0);
}

Test(seccomp_api, allows_what_the_api_thread_does_and_nothing_of_the_vm)
{
	int fd = devnull();

	cr_assert_eq(pipe(g_pipe), 0);
	assert_exited_ok(in_filtered_child(SC_API, 0, fd, api_does_its_work));
	assert_sigsys(in_filtered_child(SC_API, 0, fd, api_opens_a_socket));
	assert_sigsys(in_filtered_child(SC_API, 0, fd, api_touches_kvm));
	close(fd);
}
