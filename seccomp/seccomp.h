/* seccomp/seccomp.h - the sandbox: capability drop, one seccomp filter per
 * thread kind, the io_uring opcode restrictions and Landlock.  The one
 * internal header of seccomp/ (`ember jail` is in jail/).
 *
 * Order (DESIGN.md, "Sandbox"): every fd is opened first (vm_create); then
 * sc_vm_setup() drops every capability and sets no_new_privs while the
 * process still has one thread, and compiles the vCPU filter; each vCPU
 * thread installs it before its first KVM_RUN (sc_vm_enter); the event
 * loop thread builds and installs its own once the vCPU threads exist.
 * Filters are per thread (no TSYNC): a thread gets only what its kind
 * needs.  Every other syscall kills the whole process (SIGSYS). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/filter.h>

#include "monitor/monitor.h"

/* ---- thread kinds and features ---------------------------------------- */
enum sc_kind {
	SC_VCPU,	/* runs KVM_RUN and the synchronous exits */
	SC_LOOP,	/* the main thread: io_uring event loop, then teardown */
	SC_API,		/* `ember --api-sock`: the API thread's own loop (api/vmm.c) */
	SC_KIND__COUNT
};
#define SC_K(kind) (1u << (kind))
#define SC_K_ALL (SC_K(SC_VCPU) | SC_K(SC_LOOP) | SC_K(SC_API))

/* What a VM uses beyond the base set.  A feature's syscalls are the rows
 * of sc_rules[] (seccomp/rules.c) tagged with its bit, and its io_uring
 * opcodes the rows of seccomp/uring.c: that is the one place to add them. */
enum sc_feature {
	SC_F_TTY = 1u << 0,	/* stdin is a terminal: termios restored at exit */
	SC_F_BLK = 1u << 1,	/* virtio-blk drives */
	SC_F_NET = 1u << 2,	/* virtio-net on TAP devices */
	SC_F_RNG = 1u << 3,	/* virtio-rng: getrandom(2) */
	SC_F_SNAPSHOT = 1u << 4,	/* save a running VM (vCPU/VM state reads) */
	SC_F_RESTORE = 1u << 5,	/* load state into a VM (vCPU/VM state writes) */
	SC_F_FUZZ = 1u << 6,	/* reset loop: dirty log + state writes */
	SC_F_TEST = 1u << 7,	/* test builds: the self-test's own needs */
	SC_F_SANITIZER = 1u << 8,	/* ASan/UBSan runtime (SAN=1 builds only) */
	SC_F_VSOCK = 1u << 9,	/* virtio-vsock: Unix sockets to the host */
	SC_F_METRICS = 1u << 10,	/* --metrics-path: KVM's counters (stats fds) */
};

/* Runtime values a rule may compare an argument with. */
enum sc_val {
	SC_V_CONST,	/* the rule's own constant */
	SC_V_VM_FD,	/* the KVM VM fd */
	SC_V_PID,	/* our process id (as seen in our PID namespace) */
};
struct sc_params {
	int vm_fd;
	pid_t pid;
};

/* One allowed syscall (or one allowed form of it).  Rows for the same
 * syscall are alternatives; a row without argument checks allows any.
 * `errno_ret` != 0 makes the syscall fail with that errno instead of
 * running (a syscall libc may try that ember can do without). */
enum sc_op { SC_EQ, SC_MASKED_EQ };
struct sc_arg {
	uint8_t idx;		/* argument 0..5 */
	uint8_t op;		/* enum sc_op */
	uint8_t src;		/* enum sc_val: where the value comes from */
	uint64_t mask;		/* SC_MASKED_EQ: (arg & mask) == val */
	uint64_t val;
};
struct sc_rule {
	unsigned kinds;		/* SC_K() bits of the thread kinds allowed */
	unsigned feature;	/* 0: always; else the SC_F_* that needs it */
	int nr;			/* syscall number (SCMP_SYS) */
	int errno_ret;
	unsigned nargs;
	struct sc_arg arg[2];
	const char *why;	/* the one-line reason */
};
/* The table (seccomp/rules.c) and its length. */
extern const struct sc_rule sc_rules[];
extern const unsigned sc_nrules;

/* ---- filters (seccomp/filters.c) -------------------------------------- */
/* Compiles the filter of `kind` for `features` with libseccomp (default
 * action: kill the process; other architectures: kill) into a classic BPF
 * program in *out (free with sc_prog_free).  0 or -errno. */
int sc_build(enum sc_kind kind, unsigned features, const struct sc_params *p,
	     struct sock_fprog *out);
void sc_prog_free(struct sock_fprog *prog);
/* Installs prog on the calling thread only (seccomp(2), no TSYNC).  Needs
 * no_new_privs (sc_caps_drop sets it).  0 or -errno. */
int sc_install(const struct sock_fprog *prog);
/* Prints the allowed syscalls of each kind for `features`, with reasons
 * (the README table is made from this).  Returns the number of rows. */
unsigned sc_dump(FILE *f, unsigned features);

/* ---- capabilities (seccomp/caps.c) ------------------------------------ */
/* Clears the bounding set (when we hold CAP_SETPCAP), the ambient set and
 * the effective, permitted and inheritable sets, locks the securebits when
 * allowed, and sets PR_SET_NO_NEW_PRIVS.  Capabilities are per thread:
 * call while the process has one thread, so every later thread inherits
 * the empty sets.  0 or -errno. */
int sc_caps_drop(void);
/* Clears the bounding set only (the jail, before it changes uid).
 * 0, -EPERM without CAP_SETPCAP, or another -errno. */
int sc_caps_drop_bound(void);

/* ---- io_uring (seccomp/uring.c) --------------------------------------- */
/* The io_uring_setup flag a restricted ring needs (IORING_SETUP_R_DISABLED). */
unsigned sc_uring_setup_flags(void);
/* For a ring set up with sc_uring_setup_flags(): registers the
 * restrictions (only the opcodes and SQE flags ember uses, no register
 * operations at all) and enables the ring.  0 or -errno. */
int sc_uring_restrict(struct io_uring *ring);
/* True if opcode op may be submitted on a restricted ring (for tests). */
bool sc_uring_op_allowed(unsigned op);

/* ---- the API thread (seccomp/api.c) ----------------------------------- */
/* `ember --api-sock`: the calling thread (the API's, whose only work is
 * its socket on its own restricted ring and handing requests to the VMM
 * thread) drops its capabilities and installs the SC_API filter; the VMM
 * thread, created before, keeps its own until vm_start sandboxes it.
 * With `off` (--no-seccomp) only the capabilities go.  0 or -errno with a
 * message. */
int sc_api_enter(bool off, struct errbuf *err);

/* ---- the VM's sandbox (seccomp/sandbox.c) ----------------------------- */
struct sc_times {
	uint64_t caps_ns, build_ns[SC_KIND__COUNT], install_ns[SC_KIND__COUNT];
};
/* vm->sandbox: owned by the VM from sc_vm_setup to sc_vm_free. */
struct sandbox {
	struct vm *vm;
	bool on;		/* filters installed (not --no-seccomp) */
	unsigned features;	/* SC_F_* */
	struct sc_params params;
	struct sock_fprog prog[SC_KIND__COUNT];
	struct sc_times times;
	int landlock_fd;	/* the write ruleset each thread applies, or -1 */
	/* the self-test (EMBER_TEST_HOOKS builds) */
	int st_efd;
	uint64_t st_val;
	struct loop_op st_op, st_uring_op;
};
/* Called by vm_start on the main thread before the ring and any other
 * thread exist: creates vm->sandbox, drops every capability and, unless
 * cfg->no_seccomp, compiles the vCPU filter and builds the Landlock write
 * ruleset (cfg->write_dirs; none with cfg->write_anywhere; where Landlock
 * is missing it says so on stderr and goes on without).  0 or -errno with
 * err filled. */
int sc_vm_setup(struct vm *vm, struct errbuf *err);
/* The calling thread (of kind `kind`) applies the Landlock ruleset and
 * installs its filter: vCPU threads at start, the loop thread after
 * vcpu_start() of every vCPU (it compiles its own first).  Does nothing
 * when seccomp is off.  0 or -errno. */
int sc_vm_enter(struct vm *vm, enum sc_kind kind);
/* The SC_F_* bits vm's configuration needs. */
unsigned sc_vm_features(const struct vm *vm);
/* Frees vm->sandbox (any thread, after the vCPUs stopped). */
void sc_vm_free(struct vm *vm);

/* The debug switch: removes the run option --no-seccomp from argv (in
 * place, argv[0] kept; a "--no-seccomp" that is another option's value
 * stays).  True if it was there.  (config_parse_run does not know it.) */
bool sc_take_no_seccomp(int *argc, char **argv);

/* ---- Landlock (seccomp/landlock.c) ---------------------------------- */
/* A ruleset that allows path-based writes only beneath dirs[0..n) (none
 * at all when n is 0).  Its fd, or -errno with why filled: Landlock
 * missing or disabled, or a directory that cannot be opened. */
int sc_landlock_build(const char *const *dirs, unsigned n, char *why, size_t whylen);
/* The calling thread (and threads it makes later) applies the ruleset;
 * nothing when ruleset_fd < 0.  0 or -errno. */
int sc_landlock_enter(int ruleset_fd);

/* ---- test hooks (seccomp/selftest.c, EMBER_TEST_HOOKS builds only) ---- */
/* Control-port command 0x7f "sandbox self-test" (test builds only): the
 * argument picks what the calling vCPU thread (or, through an eventfd,
 * the loop thread) does that its filter forbids.  Should the call come
 * back (--no-seccomp), the VM stops with status 101 and says so. */
#define SC_CTL_SELFTEST 0x7f
enum sc_selftest {
	SC_ST_VCPU_SYSCALL = 0,	/* vCPU thread: mount(2) */
	SC_ST_LOOP_SYSCALL = 1,	/* loop thread: mount(2) */
	SC_ST_VCPU_IOCTL = 2,	/* vCPU thread: KVM_CHECK_EXTENSION (not allowed) */
	SC_ST_VCPU_MMAP_EXEC = 3,	/* vCPU thread: mmap with PROT_EXEC */
	SC_ST_LOOP_IOCTL = 4,	/* loop thread: KVM_CHECK_EXTENSION on the VM fd */
	SC_ST_LOOP_URING = 5,	/* loop thread: an io_uring opcode not allowed */
	SC_ST_LOOP_WRITE_OUTSIDE = 6,	/* loop thread: openat(O_CREAT) and mkdirat
					 * beside the snapshot directory (Landlock
					 * refuses both: status 100) */
};
/* Adds the self-test command's handler (vm_ctl_add); creates the
 * eventfd that hands loop-thread tests over.  0 or -errno. */
int sc_selftest_setup(struct vm *vm, struct sandbox *sb);
/* Arms the loop side (loop thread, vm->loop set). */
void sc_selftest_arm(struct vm *vm, struct sandbox *sb);
/* Closes the eventfd (sc_vm_free). */
void sc_selftest_free(struct sandbox *sb);
