/* seccomp/selftest.c - test builds only (-DEMBER_TEST_HOOKS): control-port
 * command 0x7f makes a thread do what its filter forbids, so the tests
 * can see the process die by SIGSYS for each thread kind.  Nothing of
 * this is compiled into a normal build. */
#ifdef EMBER_TEST_HOOKS
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "seccomp/seccomp.h"

/* Status and reason when a forbidden call came back (no filter). */
#define ST_SURVIVED 101

/* mount(2) with no arguments: fails harmlessly when nothing stops it. */
static void forbidden_syscall(struct vm *vm, const char *who)
{
	long r;

	log_warn("sandbox self-test: the %s thread calls mount(2)", who);
	r = syscall(SYS_mount, NULL, NULL, NULL, 0, NULL);
	vm_request_stop(vm, ST_SURVIVED,
			"sandbox self-test: mount(2) returned %ld: no filter stopped it", r);
}

/* KVM_CHECK_EXTENSION is harmless but in neither thread's list. */
static void forbidden_ioctl(struct vm *vm, const char *who)
{
	int r;

	log_warn("sandbox self-test: the %s thread calls ioctl(KVM_CHECK_EXTENSION)", who);
	r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, 0);
	vm_request_stop(vm, ST_SURVIVED,
			"sandbox self-test: ioctl returned %d: no filter stopped it", r);
}

static void on_uring_done(struct loop_op *op, int res, uint32_t flags)
{
	struct vm *st_vm = container_of(op, struct sandbox, st_uring_op)->vm;

	(void)flags;
	if (res == -EACCES) {
		vm_request_stop(st_vm, 100, "sandbox self-test: the ring refused IORING_OP_OPENAT: %s",
				strerror(-res));
		return;
	}
	if (res >= 0)
		close(res);
	vm_request_stop(st_vm, ST_SURVIVED, "sandbox self-test: the ring ran IORING_OP_OPENAT (%d)",
			res);
}

/* Loop thread: creating a file and a directory beside the snapshot
 * directory, with the very flags seccomp lets a snapshot use.  Landlock
 * refuses both (status 100); either coming through means nothing
 * confines the path (101). */
static void write_outside(struct vm *vm)
{
	const char *dir = vm->cfg && vm->cfg->nwrite_dirs ? vm->cfg->write_dirs[0] : NULL;
	char path[4200];
	int fd, e1, e2;

	if (!dir) {
		vm_request_stop(vm, ST_SURVIVED, "sandbox self-test: no directory to write beside");
		return;
	}
	snprintf(path, sizeof(path), "%s/../ember-selftest-outside", dir);
	log_warn("sandbox self-test: the loop thread creates '%s'", path);
	fd = openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	e1 = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	strcat(path, ".d");
	e2 = mkdirat(AT_FDCWD, path, 0755) < 0 ? errno : 0;
	if (e1 == EACCES && e2 == EACCES)
		vm_request_stop(vm, 100, "sandbox self-test: Landlock refused writing outside '%s' "
				"(openat: %s, mkdirat: %s)", dir, strerror(e1), strerror(e2));
	else
		vm_request_stop(vm, ST_SURVIVED, "sandbox self-test: a write outside '%s' came "
				"through (openat: %s, mkdirat: %s)", dir, e1 ? strerror(e1) : "created",
				e2 ? strerror(e2) : "created");
}

static void st_arm_read(struct vm *vm, struct sandbox *sb)
{
	struct io_uring_sqe *sqe = loop_sqe(vm->loop, &sb->st_op);

	io_uring_prep_read(sqe, sb->st_efd, &sb->st_val, sizeof(sb->st_val), 0);
}

/* Loop thread: the vCPU handed a test over through the eventfd. */
static void on_st_event(struct loop_op *op, int res, uint32_t flags)
{
	struct sandbox *sb = container_of(op, struct sandbox, st_op);
	struct vm *vm = sb->vm;

	(void)flags;
	if (res != (int)sizeof(sb->st_val))
		return;
	switch (sb->st_val - 1) {
	case SC_ST_LOOP_SYSCALL:
		forbidden_syscall(vm, "loop");
		break;
	case SC_ST_LOOP_IOCTL:
		forbidden_ioctl(vm, "loop");
		break;
	case SC_ST_LOOP_WRITE_OUTSIDE:
		write_outside(vm);
		break;
	case SC_ST_LOOP_URING: {
		struct io_uring_sqe *sqe = loop_sqe(vm->loop, &sb->st_uring_op);

		io_uring_prep_openat(sqe, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY, 0);
		break;
	}
	default:
		break;
	}
	st_arm_read(vm, sb);
}

/* vCPU thread: the control port command. */
static int st_hook(struct vm *vm, void *ctx, unsigned cmd, uint32_t arg, uint64_t data)
{
	struct sandbox *sb = ctx;
	uint64_t v = (uint64_t)arg + 1;
	void *p;

	(void)cmd;	/* SC_CTL_SELFTEST: the only one it is added for */
	(void)data;
	switch (arg) {
	case SC_ST_VCPU_SYSCALL:
		forbidden_syscall(vm, "vCPU");
		return 0;
	case SC_ST_VCPU_IOCTL:
		forbidden_ioctl(vm, "vCPU");
		return 0;
	case SC_ST_VCPU_MMAP_EXEC:
		log_warn("sandbox self-test: the vCPU thread maps memory PROT_EXEC");
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			munmap(p, 4096);
		vm_request_stop(vm, ST_SURVIVED,
				"sandbox self-test: mmap returned %p: no filter stopped it", p);
		return 0;
	case SC_ST_LOOP_SYSCALL:
	case SC_ST_LOOP_IOCTL:
	case SC_ST_LOOP_URING:
	case SC_ST_LOOP_WRITE_OUTSIDE:
		if (write(sb->st_efd, &v, sizeof(v)) < 0)
			log_warn("sandbox self-test: eventfd: %m");
		return 0;
	default:
		return -EINVAL;
	}
}

int sc_selftest_setup(struct vm *vm, struct sandbox *sb)
{
	sb->st_efd = eventfd(0, EFD_CLOEXEC);
	if (sb->st_efd < 0)
		return -errno;
	sb->st_op.fn = on_st_event;
	sb->st_uring_op.fn = on_uring_done;
	return vm_ctl_add(vm, SC_CTL_SELFTEST, SC_CTL_SELFTEST, st_hook, sb);
}

void sc_selftest_arm(struct vm *vm, struct sandbox *sb)
{
	if (vm->loop && sb->st_efd >= 0)
		st_arm_read(vm, sb);
}

void sc_selftest_free(struct sandbox *sb)
{
	if (sb->st_efd > 0)
		close(sb->st_efd);
	sb->st_efd = -1;
}
#endif
