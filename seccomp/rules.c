/* seccomp/rules.c - what each thread kind may do: one row per allowed
 * syscall (or allowed form of one), with the reason beside it.  Anything
 * not here kills the process.  A feature adds its rows here, tagged with
 * its SC_F_* bit; nothing else needs to change.
 *
 * ioctls are pinned by request number (argument 1) and, for VM ioctls, by
 * the VM fd (argument 0).  mmap/mprotect never get PROT_EXEC.  Files are
 * never opened after start-up: every fd exists before the filters. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/fs.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>

#include "seccomp/seccomp.h"

#define VCPU SC_K(SC_VCPU)
#define LOOP SC_K(SC_LOOP)
#define BOTH (VCPU | LOOP)
#define API SC_K(SC_API)
#define ALL SC_K_ALL

/* any arguments */
#define SYS(k, f, name, reason) \
	{ (k), (f), SCMP_SYS(name), 0, 0, { { 0 } }, (reason) }
/* fails with errno e instead of running */
#define FAIL(k, f, name, e, reason) \
	{ (k), (f), SCMP_SYS(name), (e), 0, { { 0 } }, (reason) }
/* argument i == v */
#define SYS_EQ(k, f, name, i, v, reason) \
	{ (k), (f), SCMP_SYS(name), 0, 1, \
	  { { (i), SC_EQ, SC_V_CONST, 0, (uint64_t)(v) } }, (reason) }
/* argument i == a runtime value (enum sc_val) */
#define SYS_VAL(k, f, name, i, src, reason) \
	{ (k), (f), SCMP_SYS(name), 0, 1, { { (i), SC_EQ, (src), 0, 0 } }, (reason) }
/* argument i has none of the bits of m */
#define SYS_NONE(k, f, name, i, m, reason) \
	{ (k), (f), SCMP_SYS(name), 0, 1, \
	  { { (i), SC_MASKED_EQ, SC_V_CONST, (uint64_t)(m), 0 } }, (reason) }
/* ioctl(any fd, req) */
#define IOCTL(k, f, req, reason) SYS_EQ(k, f, ioctl, 1, req, reason)
/* ioctl(the VM fd, req) */
#define VM_IOCTL(k, f, req, reason) \
	{ (k), (f), SCMP_SYS(ioctl), 0, 2, \
	  { { 0, SC_EQ, SC_V_VM_FD, 0, 0 }, { 1, SC_EQ, SC_V_CONST, 0, (uint64_t)(req) } }, \
	  (reason) }

const struct sc_rule sc_rules[] = {
	/* ---- the vCPU's own work ---- */
	IOCTL(VCPU, 0, KVM_RUN, "enter the guest"),
	IOCTL(VCPU, 0, KVM_GET_REGS, "RIP for exit messages (triple fault, unhandled exit)"),

	/* ---- interrupts: either thread may raise one ---- */
	VM_IOCTL(BOTH, 0, KVM_SIGNAL_MSI, "userspace IOAPIC delivers a pin as an MSI"),
	VM_IOCTL(BOTH, 0, KVM_IRQ_LINE, "--irqchip full: raise or lower a GSI"),
	VM_IOCTL(BOTH, 0, KVM_SET_GSI_ROUTING, "guest reprogrammed the IOAPIC: mirror its routes"),
	VM_IOCTL(LOOP, 0, KVM_IOEVENTFD, "teardown deassigns the virtio kick ioeventfds"),

	/* ---- I/O outside the ring ---- */
	SYS(ALL, 0, write, "serial output, eventfd signals (stop, kicks, UART space, waking the "
	    "VMM thread), stderr, the log file (--log-path), metrics lines (--metrics-path)"),
	SYS(BOTH, 0, poll, "serial output waits for room on the console or for a stop"),
	SYS(LOOP | API, 0, read, "eventfds: virtio kicks; the API thread's answers from the "
	    "VMM thread and its end"),
	SYS(LOOP, SC_F_METRICS, pread64, "metrics: KVM's counters from each vCPU's stats fd"),
	SYS(LOOP | API, 0, io_uring_enter, "submit to and wait on the thread's own ring (the VM's "
	    "event loop; the API's: accept, read, send)"),
	SYS(LOOP | API, 0, close, "teardown closes the VM's fds; a client's API connection ends"),

	/* ---- threads and signals ---- */
	SYS(ALL, 0, futex, "mutexes and condition variables (devices, pause, the API's hand-over "
	    "to the VMM thread), thread join"),
	SYS(ALL, 0, restart_syscall, "the kernel restarts a wait a signal interrupted"),
	SYS(ALL, 0, rt_sigreturn, "return from the vCPU kick signal handler (the API thread "
	    "has none by default)"),
	SYS(ALL, 0, rt_sigprocmask, "pthread_kill and thread exit mask signals around their work"),
	SYS(BOTH, 0, getpid, "pthread_kill asks for the process id"),
	SYS_VAL(BOTH, 0, tgkill, 0, SC_V_PID, "kick a vCPU thread of this process (never another)"),
	SYS(ALL, 0, exit, "a thread ends (vCPU; with `ember --api-sock` the VMM and API threads)"),
	SYS(ALL, 0, exit_group, "the process ends (with the VM's status; the fuzz loop; a SIGBUS "
	    "on a changed memory file)"),
	SYS(ALL, 0, clock_gettime, "timestamps (markers, --boot-time, request latencies) when "
	    "the vDSO falls back"),

	/* ---- memory: malloc, free, thread stacks, teardown ---- */
	SYS(ALL, 0, brk, "malloc's main arena grows and shrinks"),
	SYS_NONE(ALL, 0, mmap, 2, PROT_EXEC, "malloc of large blocks, new thread arenas (never PROT_EXEC)"),
	SYS_NONE(ALL, 0, mprotect, 2, PROT_EXEC, "malloc grows a thread arena (never PROT_EXEC)"),
	SYS(ALL, 0, munmap, "free() of large blocks; teardown unmaps RAM, kvm_run, the ring"),
	SYS(ALL, 0, madvise, "a thread's stack released at exit; free() trims"),
	FAIL(BOTH, 0, openat, EACCES,
	     "glibc malloc may read /proc/sys/vm/overcommit_memory when trimming: refused"),

	/* ---- the API thread: what only it does (the rest is in the shared
	 * rows above) ---- */
	SYS_NONE(API, 0, openat, 2, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_PATH | __O_TMPFILE,
		 "PATCH /drives: open a drive's new file, read or read-write, never create it"),
	SYS_EQ(API, 0, newfstatat, 3, AT_EMPTY_PATH, "PATCH /drives: the new file's size (fstat)"),
	IOCTL(API, 0, BLKGETSIZE64, "PATCH /drives: a block device's size"),
	SYS(API, 0, unlink, "remove the API socket's file at exit"),

	/* ---- features ---- */
	SYS_EQ(LOOP, SC_F_TTY, ioctl, 1, TCSETS, "put the terminal back as it was (console raw mode)"),
	SYS_EQ(LOOP, SC_F_TTY, ioctl, 1, TCGETS,
	       "glibc's tcsetattr reads the terminal's settings before it writes them"),
	SYS_EQ(LOOP, SC_F_RNG, getrandom, 2, 0, "virtio-rng fills the guest's buffers"),
	SYS(LOOP, SC_F_BLK, dup3,
	    "PATCH /drives: the new file takes the old one's descriptor number (opened by the API thread)"),
	IOCTL(LOOP, SC_F_NET, TUNSETOFFLOAD, "virtio-net: TAP offloads follow the driver's features"),
	SYS_EQ(LOOP, SC_F_VSOCK, socket, 0, AF_UNIX,
	       "virtio-vsock: a Unix socket for each guest connection to the host"),
	SYS_EQ(LOOP, SC_F_VSOCK, shutdown, 1, SHUT_WR,
	       "virtio-vsock: the guest shut its sending side: pass the EOF on"),
	SYS(LOOP, SC_F_VSOCK, unlinkat, "virtio-vsock: remove the listening socket's file at exit"),

	/* snapshot: reading a whole VM's state (vCPUs parked) */
	IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_REGS, "vCPU general registers"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_SREGS, "vCPU segment and control registers"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_FPU, "vCPU FPU state (no XSAVE)"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_XSAVE, "vCPU XSAVE area"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_XSAVE2, "vCPU XSAVE area beyond 4 KiB"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_XCRS, "vCPU XCR0"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_MSRS, "vCPU MSRs"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_LAPIC, "vCPU local APIC"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_VCPU_EVENTS, "pending exceptions, NMIs, interrupts"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_DEBUGREGS, "vCPU debug registers"),
	IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_GET_MP_STATE, "vCPU run state (halted, waiting for SIPI)"),
	IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_TSC_KHZ, "TSC frequency for the CPU fingerprint"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_IRQCHIP, "in-kernel PIC and IOAPIC"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_PIT2, "in-kernel PIT"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_CLOCK, "KVM clock"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_GET_DIRTY_LOG, "diff snapshots: pages written since the last"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_CLEAR_DIRTY_LOG, "diff snapshots: re-arm what was saved"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT | SC_F_FUZZ, KVM_RESET_DIRTY_RINGS,
		 "dirty ring: re-arm the pages read (a vCPU too, when its ring is full)"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_SET_USER_MEMORY_REGION,
		 "diff snapshots: turn on dirty logging of guest RAM"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_CHECK_EXTENSION, "diff snapshots: manual dirty-log protect?"),
	VM_IOCTL(BOTH, SC_F_SNAPSHOT, KVM_ENABLE_CAP, "diff snapshots: manual dirty-log protect"),
	/* files: only in the --snapshot-dir directory opened at start-up */
	SYS_EQ(LOOP, SC_F_SNAPSHOT, openat, 2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	       "a new snapshot file (written as NAME.tmp, then renamed)"),
	SYS(LOOP, SC_F_SNAPSHOT, mkdirat, "a numbered directory per diff snapshot"),
	SYS(LOOP, SC_F_SNAPSHOT, renameat, "a finished file takes its final name atomically"),
	SYS(LOOP, SC_F_SNAPSHOT, unlinkat, "a failed temporary file is removed"),
	SYS(LOOP, SC_F_SNAPSHOT, ftruncate, "size the sparse memory file"),
	SYS_EQ(LOOP, SC_F_SNAPSHOT, newfstatat, 3, AT_EMPTY_PATH,
	       "fstat: a restored VM's memory file is still whole before it is copied"),
	SYS(LOOP, SC_F_SNAPSHOT, pwrite64, "page runs into the memory file"),
	SYS_EQ(LOOP, SC_F_SNAPSHOT, lseek, 2, SEEK_DATA, "skip guest RAM never written (holes)"),
	SYS_EQ(LOOP, SC_F_SNAPSHOT, lseek, 2, SEEK_HOLE, "skip guest RAM never written (holes)"),
	SYS(LOOP, SC_F_SNAPSHOT, pread64, "/proc/self/pagemap (opened at start-up): pages present"),

	/* restore and fuzzing reset: writing the state back */
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_REGS, "vCPU general registers"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_SREGS, "vCPU segment and control registers"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_FPU, "vCPU FPU state"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_XSAVE, "vCPU XSAVE area"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_XCRS, "vCPU XCR0"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_MSRS, "vCPU MSRs"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_LAPIC, "vCPU local APIC"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_VCPU_EVENTS, "pending events"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_DEBUGREGS, "vCPU debug registers"),
	IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_MP_STATE, "vCPU run state"),
	VM_IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_IRQCHIP, "in-kernel PIC and IOAPIC"),
	VM_IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_PIT2, "in-kernel PIT"),
	VM_IOCTL(BOTH, SC_F_RESTORE | SC_F_FUZZ, KVM_SET_CLOCK, "KVM clock"),
	VM_IOCTL(BOTH, SC_F_FUZZ, KVM_GET_DIRTY_LOG, "pages the run dirtied"),
	VM_IOCTL(BOTH, SC_F_FUZZ, KVM_CLEAR_DIRTY_LOG, "re-arm dirty tracking of reset pages"),
	SYS(BOTH, SC_F_FUZZ, pread64, "copy dirtied pages back from the snapshot image"),
	/* `ember fuzz` runs the loop on its main thread under the vCPU filter
	 * (KVM_GET_* of the vCPU above: --reset fast checks now and then) */
	SYS(VCPU, SC_F_FUZZ, read, "a guest exit ends one run: drain the stop eventfd"),
	SYS(VCPU, SC_F_FUZZ, gettid, "the run timeout's timer belongs to this thread: check"),
	SYS(VCPU, SC_F_FUZZ, timer_settime, "arm and disarm the per-run timeout"),
	SYS_EQ(VCPU, SC_F_FUZZ, openat, 2, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	       "--crashes: save a finding's input in the directory opened at start-up"),
	SYS(VCPU, SC_F_FUZZ, close, "a saved finding; teardown closes the VM's fds"),
	SYS(VCPU, SC_F_FUZZ, timer_delete, "teardown: the run timeout's timer"),
	/* drives under the reset loop (virtio/overlay.c): served on this
	 * thread, the image only read (pread64 and madvise are allowed above
	 * too; these rows say why the fuzz loop needs them) */
	SYS(VCPU, SC_F_FUZZ, pread64, "a drive overlay reads the blocks it does not hold from the image"),
	SYS(VCPU, SC_F_FUZZ, madvise, "a reset releases a drive overlay's blocks (MADV_DONTNEED)"),

	/* test builds: the self-test hands loop tests over by eventfd (write
	 * above); nothing else */

	/* SAN=1 builds: what the ASan/UBSan runtime does at exit and in
	 * reports (leak check stops the world with ptrace from a helper) */
	SYS(ALL, SC_F_SANITIZER, sigaltstack, "sanitizer runtime: per-thread alternate stack"),
	SYS(ALL, SC_F_SANITIZER, getpid, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, gettid, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, sched_yield, "sanitizer runtime: spin locks"),
	SYS(ALL, SC_F_SANITIZER, open, "sanitizer runtime: /proc/self/maps, leak check"),
	SYS(ALL, SC_F_SANITIZER, openat, "sanitizer runtime: /proc/self/maps, leak check"),
	SYS(ALL, SC_F_SANITIZER, read, "sanitizer runtime: /proc files"),
	SYS(ALL, SC_F_SANITIZER, pread64, "sanitizer runtime: /proc files"),
	SYS(ALL, SC_F_SANITIZER, close, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, newfstatat, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, getdents, "sanitizer runtime: /proc/self/task"),
	SYS(ALL, SC_F_SANITIZER, getdents64, "sanitizer runtime: /proc/self/task"),
	SYS(ALL, SC_F_SANITIZER, lseek, "sanitizer runtime: /proc files"),
	SYS(ALL, SC_F_SANITIZER, clone, "sanitizer runtime: leak check's tracer"),
	SYS(ALL, SC_F_SANITIZER, ptrace, "sanitizer runtime: leak check stops threads"),
	SYS(ALL, SC_F_SANITIZER, prctl, "sanitizer runtime: PR_SET_PTRACER for the tracer"),
	SYS(ALL, SC_F_SANITIZER, wait4, "sanitizer runtime: reap the tracer"),
	SYS(ALL, SC_F_SANITIZER, rt_sigaction, "sanitizer runtime: its own handlers"),
	SYS(ALL, SC_F_SANITIZER, exit_group, "sanitizer runtime: error exit"),
	SYS(ALL, SC_F_SANITIZER, exit, "sanitizer runtime: the tracer ends"),
	SYS(ALL, SC_F_SANITIZER, sched_getaffinity, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, readlink, "sanitizer runtime: symbolizer path"),
	SYS(ALL, SC_F_SANITIZER, getppid, "sanitizer runtime: the tracer watches its parent"),
	SYS(ALL, SC_F_SANITIZER, getrlimit, "sanitizer runtime"),
	SYS(ALL, SC_F_SANITIZER, prlimit64, "sanitizer runtime"),
};

const unsigned sc_nrules = ARRAY_SIZE(sc_rules);
