/* monitor/monitor.h - the VM object, guest memory, memory map, logging,
 * errors and the event loop.  This is the one internal header of monitor/. */
#pragma once
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include <liburing.h>

#include "devices/host.h"
#include "vcpu/vcpu.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct vm;
struct device;
struct ioapic;
struct loop;
struct console;
struct kvm_cpuid2;
struct sandbox;
struct vm_events;
struct metrics;

/* ---- logging (monitor/log.c) ------------------------------------------ */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Reads EMBER_LOG (error|warn|info|debug); default warn.  Idempotent. */
void log_init(void);
/* Writes "ember: [LEVEL] [FILE:LINE] <message>\n" (the level with the
 * logger's show_level, the origin with show_origin) in one write(2) to
 * the log file (stderr without one) when level is enabled and, with a
 * module, FILE starts with it (e.g. "virtio" or "monitor/vm.c"). */
void log_msg_at(enum log_level level, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define log_msg(level, ...) log_msg_at(level, __FILE__, __LINE__, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* True when messages of this level are printed. */
bool log_enabled(enum log_level level);
struct logger_cfg;
/* Firecracker's logger (cfg->logger: --log-path, --level, --show-level,
 * --show-log-origin, PUT /logger): from now on messages go to l->path
 * (opened appending, created 0644 when missing, O_NONBLOCK: a FIFO that
 * takes no more drops lines; a later path replaces the file under the
 * same descriptor, dup2) or stay where they went (NULL), at l->level
 * (unless CONFIG_LOG_UNSET; CONFIG_LOG_OFF: none), with the level and the
 * origin shown as asked and only l->module's (NULL: all).  Opens a file:
 * before the sandbox.  0, or -errno with a message naming the file
 * (nothing changed then). */
int log_apply(const struct logger_cfg *l, struct errbuf *err);
/* Firecracker's level names, any case: Error, Warning (Warn), Info,
 * Debug, Trace (as Debug), Off.  0 with *level an enum log_level or
 * CONFIG_LOG_OFF, else -EINVAL. */
int log_level_parse(const char *s, int *level);

/* An error message for the caller to print: functions that can fail on bad
 * input fill one and return -errno, so tests can assert the exact text. */
struct errbuf {
	char msg[512];
};
/* Formats the message into e (if e is not NULL) and returns -errnum. */
int err_set(struct errbuf *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Monotonic nanoseconds. */
uint64_t now_ns(void);
/* CPU time of the whole process (every thread), nanoseconds. */
uint64_t cpu_time_ns(void);

/* ---- physical memory layout (documented in the README) ---------------- */
#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define LOWMEM_RAM_END 0x9fc00ULL	/* RAM below 1 MiB ends at the EBDA */
#define HIMEM_START MiB(1)
#define MMIO_GAP_START GiB(3)		/* 32-bit MMIO hole: 3 GiB .. 4 GiB */
#define MMIO_GAP_END GiB(4)
#define VIRTIO_MMIO_BASE 0xd0000000ULL	/* virtio-mmio windows, 4 KiB each */
#define VIRTIO_MMIO_SIZE 0x1000ULL
#define VIRTIO_MMIO_MAX 16
#define VIRTIO_IRQ_BASE 5		/* GSI of the first virtio-mmio device */
#define IOAPIC_ADDR 0xfec00000ULL
#define LAPIC_ADDR 0xfee00000ULL
#define KVM_IDMAP_ADDR 0xfffbc000ULL	/* one page, for KVM_SET_IDENTITY_MAP_ADDR */
#define KVM_TSS_ADDR 0xfffbd000ULL	/* three pages, for KVM_SET_TSS_ADDR */

/* Fixed boot-time structures in low memory (all below LOWMEM_RAM_END). */
#define BOOT_GDT_ADDR 0x500ULL		/* flat GDT: 0x08 code32, 0x10 code64, 0x18 data */
#define BOOT_INFO_ADDR 0x6000ULL	/* hvm_start_info / multiboot info (+ memmap) */
#define BOOT_PARAMS_ADDR 0x7000ULL	/* Linux zero page (struct boot_params) */
#define BOOT_PML4_ADDR 0x9000ULL	/* identity page tables: PML4, PDPT, 4 PDs */
#define BOOT_STACK_TOP 0x8ff0ULL	/* initial stack for PROT32/LONG64 entries */
#define BOOT_CMDLINE_ADDR 0x20000ULL	/* kernel command line */
#define BOOT_CMDLINE_MAX 4096		/* hard cap; Linux protocols use their own */
#define MPTABLE_ADDR 0xf0000ULL		/* MP floating pointer + table (BIOS area) */

#define MAX_CPUS 64

/* ---- e820 (monitor/gmem.c) --------------------------------------------- */
enum { E820_RAM = 1, E820_RESERVED = 2 };
#define E820_MAX 16
struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};
struct e820_map {
	unsigned n;
	struct e820_entry e[E820_MAX];
};

/* ---- guest memory (monitor/gmem.c) ------------------------------------ */
/* All guest RAM lives in one mapping.  RAM below the MMIO gap is guest
 * physical [0, low_size); the rest is [4 GiB, 4 GiB + size - low_size). */
struct gmem {
	uint8_t *host;		/* one mapping of `size` bytes */
	uint64_t size;		/* total RAM */
	uint64_t low_size;	/* RAM below MMIO_GAP_START */
	int fd;			/* snapshot memory file; -1 for fresh RAM */
	bool zeroed;		/* all RAM still reads zero (fresh RAM): the
				 * loaders then need not zero a bss, which
				 * would fault in its pages for nothing */
	bool cow;		/* a snapshot memory file mapped MAP_PRIVATE */
	char *path;		/* that file's name (messages), else NULL */
	struct gmem_track *track;	/* host writes (gmem_track_start): NULL
					 * while nobody tracks them */
};

/* Maps `size` bytes of zeroed anonymous private memory, 2 MiB aligned,
 * without touching it; the first 2 MiB advised MADV_NOHUGEPAGE, the rest
 * MADV_HUGEPAGE.
 * size must be a multiple of 4 KiB and at least 2 MiB. Returns 0 or -errno. */
#define GMEM_HUGE MiB(2)
int gmem_init(struct gmem *m, uint64_t size);
/* Advises all of fresh RAM MADV_NOHUGEPAGE (before the guest runs), for a
 * VM whose snapshots will be taken: KVM's dirty logging and the snapshot
 * writer work per 4 KiB page, and over huge pages a 256-page diff took
 * 155 ms instead of 9.7 ms, a full snapshot of 16 MiB written 259 ms
 * instead of 89 (L1 lane, same machine).  Nothing for a file mapping. */
void gmem_small_pages(struct gmem *m);
/* Maps the snapshot memory file `path` (exactly `size` bytes) MAP_PRIVATE:
 * copy-on-write, pages fault in lazily from the file, which is never
 * written.  Same size rules as gmem_init.  The file must be one only
 * ember's user can change (memfile_check), and the mapping is watched
 * (memfile_watch).  Returns 0 or -errno with a message naming the file
 * (-EINVAL when its size is not `size`, -EPERM when others could change
 * it). */
int gmem_init_file(struct gmem *m, uint64_t size, const char *path, struct errbuf *err);
/* Unmaps and closes; safe on a zeroed or already destroyed gmem. */
void gmem_destroy(struct gmem *m);
/* The checked translator: a host pointer to guest-physical [gpa, gpa+len),
 * or NULL when the range overflows, is not wholly inside one RAM region, or
 * len is 0.  The ONE way device and loader code reaches guest memory. */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, size_t len);
/* Copies len bytes into guest RAM at dst, a pointer gmem_ptr() returned
 * for at least len bytes (memcpy: fresh RAM faults in a huge page per
 * 2 MiB; a copy-on-write snapshot mapping is never written through to
 * its file). */
void gmem_copy_in(const struct gmem *m, void *dst, const void *src, size_t len);
/* Builds the memory map of m: RAM 0..LOWMEM_RAM_END, reserved EBDA..1 MiB,
 * RAM 1 MiB..low_size, RAM above 4 GiB.  Sorted, non-overlapping. */
void e820_build(const struct gmem *m, struct e820_map *out);

/* ---- snapshot memory files that change under the VM (monitor/memfile.c) */
struct stat;
/* Refuses a memory file (path, its stat) that someone other than ember's
 * user could change while a VM maps it: owned by another uid, or writable
 * by its group or others.  0, or -EPERM with a message naming the file. */
int memfile_check(const char *path, const struct stat *st, struct errbuf *err);
/* The one message for a memory file found changed under a running VM
 * (ember's SIGBUS on guest RAM, the guest's EFAULT from KVM_RUN). */
void memfile_changed_msg(const char *path, char *buf, size_t len);
/* Watches [start, start + len), a mapping of memory file path: a SIGBUS
 * there (the file was truncated) prints memfile_changed_msg on stderr and
 * ends the process with EXIT_MEMFILE.  Installs the SIGBUS handler on the
 * first call (before the sandbox: sigaction is not allowed after); 16
 * mappings at once.  0 or -errno. */
int memfile_watch(const void *start, size_t len, const char *path);
/* Stops watching the mapping that starts at start (before it is unmapped). */
void memfile_unwatch(const void *start);

#define EMBER_MONITOR_H_INSIDE
#include "monitor/config.h"
#undef EMBER_MONITOR_H_INSIDE

/* ---- Linux guests (monitor/linux.c) ------------------------------------ */
/* What ember puts first on the default guest's command line.  reboot=k:
 * a reboot resets through the i8042 (a clean exit for ember), not a
 * triple fault (an error). */
#define LINUX_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 quiet"
#define LINUX_CMDLINE_MAX 2047	/* x86 COMMAND_LINE_SIZE 2048, NUL included */
#define LINUX_KERNEL_DIR_ENV "EMBER_KERNEL_DIR"

/* The default guest's directory into buf: $EMBER_KERNEL_DIR if set, else
 * ${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}/default (what
 * `make guest-kernel` fills).  0, or -ENAMETOOLONG/-ENOENT with a message. */
int linux_default_dir(char *buf, size_t len, struct errbuf *err);
/* For cfg->kernel_default: sets cfg->kernel to the default directory's
 * vmlinux (bzImage with --boot-protocol bzimage) and cfg->initrd to its
 * initramfs.cpio.gz unless --initrd was given; each must exist, else
 * -ENOENT with a message saying to run `make guest-kernel`.  ember never
 * builds them itself. */
int linux_resolve_default(struct vm_config *cfg, struct errbuf *err);
/* Encodes argv[0..argc) as ember.cmd's value: unpadded base64url (RFC 4648
 * section 5) of "arg0\0arg1\0...\0".  Writes a NUL-terminated string into
 * out; returns its length, or -ENOSPC (out too small) / -EINVAL (argc < 1
 * or an empty argv[0]). */
long linux_encode_argv(char *const *argv, int argc, char *out, size_t cap);
/* Assembles the kernel command line into buf (NUL-terminated).  devices
 * is the virtio-mmio list (" virtio_mmio.device=..." per device, may be
 * "").  The default kernel gets
 *   LINUX_DEFAULT_CMDLINE devices [ROOT] [ember.share=vdX] [ember.cmd=B64] USER
 * (USER = --cmdline, last so it overrides); any other kernel gets
 *   USER devices [ROOT] [ember.share=vdX] [ember.cmd=B64] [-- REST]
 * where ROOT, when drives[0] is the root device (Firecracker's
 * is_root_device), is "root=/dev/vda ro" or "root=PARTUUID=<id> ro"
 * ("rw" when the drive is writable), what ember adds goes before a standalone "--" of USER (words
 * after it are init's, not the kernel's), and USER alone stays exactly as
 * given.  Single spaces between the parts.  With the default kernel, a
 * command or a share the result must fit Linux's LINUX_CMDLINE_MAX, else
 * -E2BIG with "kernel command line is N bytes, over Linux's limit of 2047
 * (x86 COMMAND_LINE_SIZE 2048, NUL included)" (+ "; the command after --
 * takes M of them" when there is one).  -ENOSPC with a message when buf
 * is too small. */
int linux_cmdline(const struct vm_config *cfg, const char *devices,
		  char *buf, size_t len, struct errbuf *err);
/* For cfg->share: builds a read-only ext4 image of the directory with
 * `mke2fs -t ext4 -d DIR` (e2fsprogs) in $TMPDIR (default /tmp) and adds
 * it to cfg->drives as a read-only drive (cfg->share_drive).  Nothing to
 * do without --share.  0, or -errno with a message naming the directory. */
int linux_share_prepare(struct vm_config *cfg, struct errbuf *err);
/* Removes the share image file (the drive keeps it open); only the first
 * call unlinks (later ones run under the seccomp filter). */
void linux_share_cleanup(struct vm_config *cfg);
/* Frees the paths linux_resolve_default/linux_share_prepare allocated
 * (after linux_share_cleanup).  Called by config_free. */
void linux_config_free(struct vm_config *cfg);

/* ---- event loop (monitor/loop.c) -------------------------------------- */
/* Everything asynchronous completes here, on the main thread: embed a
 * loop_op in your object, pass it with the sqe, and its fn runs with the
 * CQE's result.  Only the loop thread may touch the ring. */
struct loop_op;
typedef void (*loop_fn)(struct loop_op *op, int res, uint32_t cqe_flags);
struct loop_op {
	loop_fn fn;
};
struct loop {
	struct io_uring ring;
	bool stop;
	/* set while loop_run runs, with the thread running it: a device reset
	 * on another thread may wait for completions this thread dispatches,
	 * never on this thread itself (it would wait for itself) */
	atomic_bool running;
	pthread_t thread;
};

/* Sets up the ring (entries SQEs).  0 or -errno. */
int loop_init(struct loop *l, unsigned entries);
void loop_destroy(struct loop *l);
/* An SQE whose completion will call op->fn; submits first if the SQ is
 * full.  Never NULL.  The caller preps it (io_uring_prep_*) after. */
struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op);
/* Arms a poll on fd (multishot if asked: op->fn then runs on every event,
 * with IORING_CQE_F_MORE set while it stays armed). */
void loop_poll(struct loop *l, int fd, unsigned poll_mask, bool multishot,
	       struct loop_op *op);
/* Calls op->fn (res 0) on the next turn of the loop, with the other
 * completions of that turn: how work that must not hold the loop thread
 * yields and goes on later (an IORING_OP_NOP).  Loop thread only (from
 * another thread, hand work over with vm_loop_post). */
void loop_post(struct loop *l, struct loop_op *op);
/* Submits and dispatches completions until loop_stop().  0 or -errno. */
int loop_run(struct loop *l);
/* Ends loop_run after the current batch (loop thread only). */
void loop_stop(struct loop *l);
/* Calls op->fn for every completion there is, without waiting (the
 * loop's thread, or a test's).  Returns how many. */
unsigned loop_dispatch(struct loop *l);
/* True if the calling thread may wait for the loop to dispatch a
 * completion: loop_run is running, on another thread. */
bool loop_runs_elsewhere(struct loop *l);
/* Teardown, after loop_run (loop thread): submits and dispatches
 * completions, as loop_run does, until done(ctx) is true or timeout_ms
 * has passed.  0, or -ETIMEDOUT. */
int loop_drain(struct loop *l, bool (*done)(void *ctx), void *ctx,
	       unsigned timeout_ms);

/* ---- the VM (monitor/vm.c) -------------------------------------------- */
/* Exit statuses of `ember run` that are ember's own (the guest's status is
 * passed through otherwise).  Documented in the README. */
enum {
	EXIT_OK = 0,
	EXIT_BADINPUT = 2,	/* usage, config or image error */
	EXIT_HOSTFAIL = 70,	/* a host-side failure (KVM ioctl, memory) */
	EXIT_TRIPLEFAULT = 71,	/* guest triple fault (KVM_EXIT_SHUTDOWN) */
	EXIT_KVMERROR = 72,	/* KVM internal/emulation error, failed entry */
	EXIT_BADEXIT = 73,	/* an exit ember does not handle */
	EXIT_MEMFILE = 74,	/* the snapshot memory file changed under the VM */
};

/* Start-up and stop steps, in the order they happen (--boot-time prints
 * them in this order): vm_create's, then vm_start's (sandbox set-up, the
 * event loop, vCPU 0's thread created, running, its first KVM_RUN), then
 * the stop (exit request, vCPU threads joined, vm_wait done). */
enum { TS_START, TS_VM_CREATED, TS_MEMORY, TS_IRQCHIP, TS_VCPUS, TS_LOADED,
       TS_SANDBOX, TS_LOOP, TS_THREAD, TS_THREAD_IN, TS_FIRST_RUN,
       TS_EXIT, TS_JOINED, TS_WAITED, TS_TEARDOWN, TS__COUNT };
#define MAX_MARKERS 16

/* Runtime work and handlers (monitor/work.c). */
typedef void (*vm_work_fn)(struct vm *vm, void *ctx);
/* A control-port command handler: 0 when it handled cmd (the data
 * register's 64 bits are `data`), else -ENOSYS.  On a vCPU thread. */
typedef int (*vm_ctl_fn)(struct vm *vm, void *ctx, unsigned cmd, uint32_t arg,
			 uint64_t data);
struct vm_work {
	vm_work_fn fn;
	void *ctx;
};
#define VM_WORK_MAX 64
struct vm_work_queue {
	pthread_mutex_t lock;
	struct vm_work items[VM_WORK_MAX];	/* a ring: head, n */
	unsigned head, n;
	bool closed;		/* the VM ended: posts are refused */
	int efd;		/* eventfd the loop waits on; -1 if none */
};
struct vm_signal {
	int signo;
	vm_work_fn fn;
	void *ctx;
};
struct vm_ctl {
	unsigned first, last;	/* the commands it takes */
	vm_ctl_fn fn;
	void *ctx;
};

/* The VM's lifecycle states, "phases" (monitor/phase.c; struct vm_state
 * is the KVM state a snapshot saves). */
enum vm_phase { VM_CONFIGURED, VM_RUNNING, VM_PAUSED, VM_STOPPED, VM__PHASES };

/* Device code (devices/, virtio/: the Makefile builds it with
 * EMBER_DEVICE_CODE) sees the VM only through its struct dev_host
 * (devices/host.h); the VM itself is monitor/'s. */
#ifndef EMBER_DEVICE_CODE
struct vm {
	struct gmem mem;	/* first: unit tests build a vm with only this */
	atomic_int phase;	/* enum vm_phase; only vm_transition changes it */
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	const struct vm_config *cfg;
	struct e820_map e820;

	unsigned ncpus;
	struct vcpu *vcpus[MAX_CPUS];
	struct kvm_cpuid2 *cpuid;	/* the VM's CPUID table (cpu_setup_cpuid) */
	struct dring *dring;	/* KVM's dirty ring, with cfg->dirty_ring */
	uint64_t first_run_cpu_ns;	/* process CPU time (both kinds of thread) when
					 * vCPU 0 was about to run first */
	struct bus pio, mmio;

	struct loop *loop;	/* from vm_start to the end of vm_wait */
	struct vm_events *events;	/* the VM's own loop operations (monitor/vm.c) */
	struct metrics *metrics;	/* --metrics-path: monitor/metrics.c, or NULL */
	struct sandbox *sandbox;	/* seccomp/: filters, self-test hook */
	struct ioapic *ioapic;	/* split irqchip only */
	struct device *devices[HOST_MAX_DEVICES];
	unsigned ndevices;
	struct dev_host host;	/* what the devices see of the VM (vm_host_init) */

	/* stop: the first request wins; the loop then stops every vCPU */
	atomic_int stopping;
	/* the stop came from outside (a signal): it must not wait for a
	 * console that takes no output (devices/serial.c drops what is left) */
	atomic_int stop_urgent;
	int exit_code;
	char exit_reason[4400];	/* room for a message naming a path */
	int stop_efd;		/* eventfd the loop waits on */

	struct vm_work_queue work;	/* vm_loop_post (monitor/work.c) */
	struct vm_signal signals[4];	/* vm_signal_add */
	unsigned nsignals;
	struct vm_ctl ctls[8];		/* vm_ctl_add */
	unsigned nctls;
	struct device *serial;
	struct device *ctlport;	/* the control port (results in its data register) */
	struct console *console;
	int console_fd;		/* guest output; -1 for none */

	/* pause: vCPUs park with their state complete (vm_pause/vm_resume) */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_int pause_req;
	unsigned parked;

	uint64_t ts[TS__COUNT];	/* now_ns() at each step, 0 if not reached */
	atomic_uint nmarkers;
	uint64_t marker_ts[MAX_MARKERS];
	uint32_t marker_val[MAX_MARKERS];
};

/* The checked guest-memory accessor: gmem_ptr() on vm->mem. */
static inline void *gm_ptr(struct vm *vm, uint64_t gpa, size_t len)
{
	return gmem_ptr(&vm->mem, gpa, len);
}
#endif /* EMBER_DEVICE_CODE */

/* Fills vm->host (monitor/host.c) from vm's memory, buses, loop, KVM VM
 * fd and stop eventfd, with operations that act on vm.  vm_create calls
 * it once those exist, before any device; a test that builds a vm by
 * hand calls it before creating devices (and sets vm->host.loop itself
 * when it gives them a loop). */
void vm_host_init(struct vm *vm);

/* (Re)registers KVM memory slot 0 (RAM below the MMIO gap) or 1 (RAM
 * above 4 GiB) over vm->mem with the given KVM_MEM_* flags.  0 or -errno. */
int vm_set_memslot(struct vm *vm, unsigned slot, uint32_t flags);

/* ---- KVM's dirty ring (monitor/dring.c) ---- */
struct dring;
/* After the memslots, before any vCPU: turns on a dirty ring of `entries`
 * (a power of two; fewer if KVM allows less) per vCPU and sets vm->dring.
 * 0 with vm->dring NULL when KVM has no dirty ring (the dirty bitmap is
 * then used); -errno on failure. */
int dring_enable(struct vm *vm, unsigned entries);
/* Maps vCPU v's ring (vcpu_create calls it).  0 or -errno. */
int dring_map_vcpu(struct vm *vm, struct vcpu *v);
/* Reads every vCPU's ring into the VM's bitmap of dirtied pages and
 * re-arms KVM's tracking of them (KVM_RESET_DIRTY_RINGS).  Any thread: a
 * vCPU calls it when KVM says its ring is full.  0 or -errno; -EOVERFLOW
 * (logged once, and for good) when a ring was found wholly full: KVM did
 * not stop the vCPU at the soft limit and pages may have been lost. */
int dring_harvest(struct vm *vm);
/* Harvests, then calls fn(ctx, first, n) for each run of pages of the
 * image dirtied since the last consume, and forgets them.  Call with the
 * vCPUs paused for an exact answer.  0 or -errno. */
int dring_consume(struct vm *vm, void (*fn)(void *ctx, uint64_t first, uint64_t n),
		  void *ctx);
/* Unmaps the rings (before the vCPUs' fds close) and frees. */
void dring_destroy(struct vm *vm);

/* ---- the VM's states (monitor/phase.c) ---- */
/* Moves vm to state `to` when the table allows it from the state it is in
 * (configured -> running or stopped; running -> paused or stopped;
 * paused -> running or stopped; nothing else), atomically: of two racing
 * callers one wins.  0, or -EBUSY with "cannot <verb>: VM is <state>"
 * (e.g. "cannot pause: VM is paused"). Any thread. */
int vm_transition(struct vm *vm, enum vm_phase to, struct errbuf *err);
/* The state vm is in now.  Any thread. */
enum vm_phase vm_get_phase(struct vm *vm);
/* "configured", "running", "paused", "stopped" (or "invalid"). */
const char *vm_phase_name(enum vm_phase s);

/* Asks the VM to stop with exit_code; the reason (may be NULL) is printed
 * as one line on stderr if exit_code is not 0.  Callable from any thread;
 * only the first request counts.  Returns immediately. */
void vm_request_stop(struct vm *vm, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Records a control-port marker (value) with its time. Any thread. */
void vm_marker(struct vm *vm, uint32_t value);
/* Raises (level 1) or lowers (level 0) interrupt line gsi, through the
 * in-kernel irqchip or the userspace IOAPIC.  Any thread. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level);
/* ---- runtime work and handlers (monitor/work.c) ---- */
/* Queues fn(vm, ctx) to run on the loop thread (any thread; e.g. a vCPU
 * thread that needs vm_pause, which only the loop may call).  Work runs in
 * the order posted: while the loop runs, or, when the VM ends, once at
 * the end of vm_wait (the VM stopped, its vCPUs joined, vm->loop NULL);
 * work posted before vm_start waits for the loop.  Work on a VM that
 * never starts is dropped by vm_destroy.  Not loop_post (monitor/loop.c),
 * the loop thread's own re-arm for the next turn.  0, -EAGAIN (VM_WORK_MAX
 * posts wait already), or -ESHUTDOWN (the VM has ended). */
int vm_loop_post(struct vm *vm, vm_work_fn fn, void *ctx);
/* The loop thread (vm.c): runs the work queued now; with `close`, first
 * refuses any more (the end of vm_wait). */
void vm_work_run(struct vm *vm, bool close);
/* Before vm_start: signal signo (e.g. SIGUSR1) no longer stops the VM
 * (as SIGINT, SIGTERM, SIGHUP and SIGQUIT do): it posts fn(vm, ctx) to
 * the loop instead.  0, -EBUSY (the VM is not configured any more) or
 * -ENOSPC (four already). */
int vm_signal_add(struct vm *vm, int signo, vm_work_fn fn, void *ctx);
/* Forgets what vm_signal_add(signo, fn, ctx) added (while no loop runs). */
void vm_signal_remove(struct vm *vm, vm_work_fn fn, void *ctx);
/* Before vm_start: control-port commands first..last (other than marker
 * and exit, which the port handles) go to fn(vm, ctx, ...), on the vCPU
 * thread that wrote the command.  Handlers are asked in the order added;
 * the first that returns 0 has handled it.  0, -EBUSY (the VM is not
 * configured any more: vCPU threads read the table without a lock),
 * -EINVAL (first > last) or -ENOSPC (eight already). */
int vm_ctl_add(struct vm *vm, unsigned first, unsigned last, vm_ctl_fn fn, void *ctx);
/* Forgets what vm_ctl_add(.., fn, ctx) added (while no vCPU runs). */
void vm_ctl_remove(struct vm *vm, vm_ctl_fn fn, void *ctx);
/* The control port (vCPU thread): hands cmd to its handlers.  0 when one
 * handled it, else -ENOSYS. */
int vm_ctl_dispatch(struct vm *vm, unsigned cmd, uint32_t arg, uint64_t data);
/* Adds a device to the VM's list (for reset, save, restore, destroy);
 * from then on the VM owns it.  0 or -ENOSPC. */
int vm_add_device(struct vm *vm, struct device *dev);

/* Creates the VM of cfg: KVM VM, memory, irqchip, devices, vCPUs, and loads
 * the kernel.  On bad input returns -errno with err filled (exit status
 * EXIT_BADINPUT), on host failure -errno with err filled (EXIT_HOSTFAIL),
 * and *status_out says which. */
int vm_create(const struct vm_config *cfg, struct vm **out, struct errbuf *err,
	      int *status_out);
/* Configured -> running, on the thread that will call vm_wait (it becomes
 * the VM's event loop): blocks the stop signals (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, and SIGUSR1 for a snapshot session) in the process and reads
 * them on a signalfd; drops every capability (sc_vm_setup, while the
 * process has one thread and before the ring exists); sets up `loop`
 * (the caller's storage, which must live until vm_wait returns) as
 * vm->loop with the devices' and the VM's own operations on it; starts
 * the vCPU threads; then installs the loop thread's seccomp filter.
 * Between vm_start and vm_wait the caller may put its own operations on
 * the loop.  0 (a failure once vCPU threads may exist is a stop request
 * with the reason, and vm_wait returns its status), or -errno with a
 * message when nothing was started (the VM is then stopped; -EBUSY "cannot
 * run: VM is <phase>" when it was not configured). */
int vm_start(struct vm *vm, struct loop *loop, struct errbuf *err);
/* Running (or paused) -> stopped, after vm_start returned 0, on the same
 * thread: runs the loop until a stop is requested, joins the vCPU threads,
 * quiesces the devices' I/O, flushes the console and closes the loop.
 * Returns the exit status for `ember run` (and prints the stop reason). */
int vm_wait(struct vm *vm);
/* vm_start on a loop of its own, then vm_wait: the exit status, or
 * EXIT_HOSTFAIL when the VM could not start (the reason logged). */
int vm_run(struct vm *vm);
/* Frees everything (vCPUs must be stopped). */
void vm_destroy(struct vm *vm);
/* Prints the --boot-time table on stderr. */
void vm_print_boot_times(const struct vm *vm);

/* ---- the launcher (monitor/launch.c) ----------------------------------- */
/* Every way in builds its VM through vm_launch: `ember run` and
 * `ember restore` (and so `ember jail`), `ember fork`'s children, the
 * fuzzing reset loop, and libember. */
struct snap_opts;
struct snap_image;
struct snap_session;
struct restore_times;
struct launch {
	struct vm_config *boot;		/* a boot of this configuration, or NULL */
	struct snap_image *restore;	/* a restore of this image (snap_restore_args,
					 * snap_image_load), or NULL */
	const char *dir;		/* the restore's snapshot directory (snapshot
					 * diffs are taken against it), or NULL */
	const struct snap_opts *snap;	/* the snapshot session's options; NULL: none */
	bool no_seccomp;		/* --no-seccomp */
	bool api;			/* libember: a snapshot session even without
					 * --snapshot-dir, its snapshots written anywhere */
	uint64_t start_ns;		/* process start (now_ns) */
	struct restore_times *rt;	/* a restore's step times, or NULL */
};
/* Reads `ember run` arguments (argv[0] "run") as `ember run` and
 * ember_vm_create do: takes the snapshot options into *so and
 * --no-seccomp out of argv (updating *argc), then config_parse_run.  cfg
 * is zeroed first: config_free it whatever this returns.  0 or -EINVAL
 * with a message. */
int launch_run_args(int *argc, char **argv, struct vm_config *cfg, struct snap_opts *so,
		    bool *no_seccomp, struct errbuf *err);
/* Builds the VM l describes (exactly one of l->boot and l->restore): sets
 * the configuration's sandbox fields (no_seccomp, the snapshot feature and
 * writable directory, start time); for a boot builds the --share image
 * (linux_share_prepare) and vm_create's, for a restore snap_restore_vm's;
 * then starts the snapshot session (NULL when there is none).  Once per
 * configuration.  0 with *out (not running yet) and *sess; or -errno with
 * a message, *out NULL, and *status the exit status (EXIT_BADINPUT or
 * EXIT_HOSTFAIL).  The configuration stays the caller's, and must outlive
 * the VM. */
int vm_launch(const struct launch *l, struct vm **out, struct snap_session **sess,
	      struct errbuf *err, int *status);
/* Runs a launched VM until it stops (vm_run) and ends its snapshot
 * session (NULL: none).  Returns the exit status: vm_run's, or
 * EXIT_HOSTFAIL when it was 0 and a snapshot failed (each was reported). */
int launch_run(struct vm *vm, struct snap_session *sess);

/* ---- console: stdin to the serial port (monitor/console.c) ------------ */
/* Starts reading stdin on the loop into vm->serial (raw mode when stdin is
 * a terminal; restored by console_destroy and at exit). */
int console_create(struct vm *vm, struct console **out);
void console_destroy(struct console *c);

/* ---- host writes to guest RAM (monitor/gmem.c) ------------------------ */
/* KVM's dirty log sees only what the guest writes.  What ember writes on
 * the guest's behalf (used rings, buffers a device fills, a fuzz input) is
 * recorded here while someone needs it (a diff-snapshot session, the
 * fuzzing reset): one bit per 4 KiB page of the mapping (the same page
 * numbers as a snapshot's memory image), set with an atomic OR (device
 * threads mark concurrently), plus one summary bit per 64 pages so that a
 * collect visits only words that may be set.  Off, a mark costs one load
 * and a branch. */
struct gmem_track {
	uint64_t *page;		/* bit p: page p was written by the host */
	uint64_t *sum;		/* bit w: page[w] may be non-zero */
	uint64_t npages, words;	/* pages of the mapping, words of page[] */
};
/* Starts recording host writes to m (no thread may mark yet, or the
 * caller publishes m->track to them afterwards).  0, -ENOMEM, or -EBUSY
 * when m is already tracked. */
int gmem_track_start(struct gmem *m);
/* Stops and frees the record (no thread marks any more).  Safe when
 * tracking is off. */
void gmem_track_stop(struct gmem *m);
/* Records a host write of len bytes at host address p (inside m's
 * mapping; the part outside it is ignored; len 0 marks nothing).  Any
 * thread.  Use gmem_mark below, which skips the call when off. */
void gmem_track_mark(struct gmem_track *t, const struct gmem *m, const void *p, size_t len);
/* Calls fn(ctx, first, n) for each run of pages marked since the last
 * collect, in ascending order, and clears them (a mark racing with the
 * collect is either reported now or kept for the next one, never lost).
 * Returns the number of pages reported; 0 when tracking is off. */
uint64_t gmem_track_collect(struct gmem *m, void (*fn)(void *ctx, uint64_t first, uint64_t n),
			    void *ctx);

/* Runs of pages: pages handed over one at a time, in increasing order,
 * come out as runs (fn(ctx, first, n)) of consecutive pages.  Every dirty
 * page walk (dirty log, dirty ring, host writes) goes through these. */
struct page_runs {
	void (*fn)(void *ctx, uint64_t first, uint64_t n);
	void *ctx;
	uint64_t start, n, total;
};
void page_runs_add(struct page_runs *r, uint64_t page);
/* Adds page base + i for every bit i set in words [w0, w1) of bm, and
 * zeroes those words when clear is true. */
void page_runs_bitmap(struct page_runs *r, uint64_t *bm, uint64_t w0, uint64_t w1,
		      uint64_t base, bool clear);
/* Hands over the last run; returns how many pages came in all. */
uint64_t page_runs_end(struct page_runs *r);

/* Records that the host wrote [p, p + len) of guest RAM (see above). */
static inline void gmem_mark(struct gmem *m, const void *p, size_t len)
{
	struct gmem_track *t = __atomic_load_n(&m->track, __ATOMIC_ACQUIRE);

	if (__builtin_expect(t != NULL, 0))
		gmem_track_mark(t, m, p, len);
}

/* Records a host write to guest-physical [gpa, gpa + len): the parts that
 * are guest RAM (either side of the MMIO gap) are marked, the rest is
 * ignored; len 0 marks nothing. */
void gm_mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len);
