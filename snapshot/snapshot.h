/* snapshot/snapshot.h - snapshots: the state file format, vCPU/VM/device
 * state, memory images, dirty tracking, restore, fork and the fuzzing reset
 * loop.  The one internal header of snapshot/ (sbuf.h is the device
 * contract).
 *
 * A snapshot is a directory:
 *   state        the state file (format below): config, memory layout,
 *                VM state, one section per vCPU and per device
 *   memory       guest RAM as one raw file of mem_size bytes, sparse:
 *                only pages that are not all-zero are written.  Restore
 *                maps it MAP_PRIVATE (copy-on-write, lazy).  Never
 *                modified once written (new snapshots replace it by
 *                rename), so running VMs can keep it mapped.
 *   memory.diff  (diff snapshots instead of `memory`) the pages dirtied
 *                since the base snapshot, at their offsets; the list of
 *                page runs is in the state file.  The base is another
 *                snapshot directory (full or diff) named in the state
 *                file; restore maps the chain's full memory file and
 *                copies each diff's pages over it, oldest first.
 *
 * State file layout (little-endian, this host's struct layouts: a
 * snapshot is restored on the host type that took it, which the CPU
 * fingerprint checks):
 *   header, SNAP_HDR_SIZE bytes:
 *      0 magic "EMBERSNP"      8 u32 version     12 u32 header size
 *     16 u64 file size        24 u64 CPU fingerprint
 *     32 u32 section count    36 u32 flags (SNAP_F_*)
 *     40 u64 creation time (ns since the epoch)
 *     48 reserved (zero)      60 u32 CRC32 of bytes 0..59
 *   then each section: u32 type, u32 index, u64 length, u32 CRC32 (of
 *   type, index, length and the payload), u32 zero; the payload; zero
 *   padding to 8 bytes.
 * Checks, in this order, before anything is used: size cap (stat), size
 * >= header, magic, version, header CRC, file size, every section's
 * bounds and CRC; then the CPU fingerprint against this host. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

/* ---- the file format (snapshot/format.c) ------------------------------ */
#define SNAP_MAGIC "EMBERSNP"
#define SNAP_VERSION 2	/* 2: the CPUID section; host fingerprint by CPUID */
#define SNAP_HDR_SIZE 64
#define SNAP_SEC_HDR 24
#define SNAP_STATE_MAX MiB(64)	/* the size cap of a state file */
#define SNAP_MAX_SECTIONS 4096
#define SNAP_STATE_NAME "state"
#define SNAP_MEM_NAME "memory"
#define SNAP_DIFF_NAME "memory.diff"

enum snap_flags {
	SNAP_F_DIFF = 1u << 0,	/* memory is a diff on a base snapshot */
};
enum snap_sec_type {
	SNAP_SEC_CONFIG = 1,	/* the VM's configuration (index 0) */
	SNAP_SEC_MEMORY = 2,	/* memory layout, file, diff runs (index 0) */
	SNAP_SEC_VM = 3,	/* KVM clock, in-kernel PIC/IOAPIC/PIT (index 0) */
	SNAP_SEC_VCPU = 4,	/* index = vCPU id */
	SNAP_SEC_DEVICE = 5,	/* index = position in vm->devices */
	SNAP_SEC_CPUID = 6,	/* the VM's CPUID table, before per-vCPU IDs (index 0) */
	SNAP_SEC__MAX
};

/* One section of a parsed file: a view into the file's bytes. */
struct snap_sec {
	uint32_t type, index;
	const uint8_t *data;
	uint64_t len;
};
/* A parsed, validated state file.  `buf` owns the bytes (malloc'd). */
struct snap_file {
	char path[4096];	/* for messages */
	uint8_t *buf;
	size_t len;
	uint32_t version, flags;
	uint64_t fingerprint, created_ns;
	struct snap_sec *sec;
	unsigned nsec;
};

/* IEEE 802.3 CRC32 (reflected, polynomial 0xEDB88320) of p, continuing
 * from crc (start with 0). */
uint32_t snap_crc32(uint32_t crc, const void *p, size_t n);
/* A name for a section type ("vcpu", "device", ...), for messages. */
const char *snap_sec_name(uint32_t type);
/* Starts a state file in w (an sbuf): reserves the header. */
void snap_write_begin(struct sbuf *w);
/* Appends one section. */
void snap_write_section(struct sbuf *w, uint32_t type, uint32_t index,
			const void *p, size_t len);
/* Fills in the header (size, sections, fingerprint, flags, CRC).  Returns
 * w->err. */
int snap_write_end(struct sbuf *w, uint64_t fingerprint, uint32_t flags);
/* Validates buf (len bytes, the contents of state file `path`) and fills
 * f with views of its sections; f takes ownership of buf (freed by
 * snap_file_free, also on failure).  On a bad file returns -EINVAL with
 * the message naming the file and why (see the README for the list). */
int snap_parse(uint8_t *buf, size_t len, const char *path, struct snap_file *f,
	       struct errbuf *err);
/* Reads and validates the state file `path`: checks the size cap before
 * reading anything.  0 or -errno with a message. */
int snap_file_read(const char *path, struct snap_file *f, struct errbuf *err);
void snap_file_free(struct snap_file *f);
/* The section (type, index), or NULL. */
const struct snap_sec *snap_find(const struct snap_file *f, uint32_t type,
				 uint32_t index);
/* Refuses a file taken on a host with other CPU features.  0 or -EINVAL. */
int snap_check_fingerprint(const struct snap_file *f, uint64_t host,
			   struct errbuf *err);
/* FNV-1a 64 of this host CPU's vendor, signature, feature and XSAVE
 * leaves, read with the CPUID instruction (not the registers that name
 * the core it ran on): equal on hosts with the same CPU.  A restore sets
 * the saved CPUID table, so it needs no KVM_GET_SUPPORTED_CPUID. */
uint64_t snap_host_fingerprint(void);

/* ---- configuration and memory sections (snapshot/config.c) ------------ */
/* A page run of a diff: pages [first, first + n) of the memory image. */
struct snap_run {
	uint64_t first, n;
};
struct snap_mem {
	uint64_t size, low_size;
	bool diff;
	char file[256];		/* SNAP_MEM_NAME or SNAP_DIFF_NAME */
	char base[4096];	/* diff: the base snapshot directory (relative
				 * to this snapshot's directory, or absolute) */
	uint64_t nruns;
	struct snap_run *runs;	/* malloc'd */
};
/* Encodes what a restore needs to rebuild the VM: memory size, vCPUs,
 * irqchip, PIT, drives, network devices, rng. */
void snap_config_encode(const struct vm_config *cfg, struct sbuf *sb);
/* Decodes into cfg (defaults for the rest); strings are copied into
 * cfg->owned (config_free frees them).  -EINVAL on malformed data. */
int snap_config_decode(struct sbuf *sb, struct vm_config *cfg);
void snap_mem_encode(const struct snap_mem *m, struct sbuf *sb);
/* -EINVAL on malformed data (runs out of order, beyond size, ...). */
int snap_mem_decode(struct sbuf *sb, struct snap_mem *m);
void snap_mem_free(struct snap_mem *m);

/* ---- vCPU state (snapshot/cpu.c) -------------------------------------- */
enum cpu_class {
	CPU_REGS, CPU_SREGS, CPU_FPU, CPU_XSAVE, CPU_XCRS, CPU_LAPIC, CPU_MSRS,
	CPU_EVENTS, CPU_DEBUGREGS, CPU_MP_STATE, CPU__CLASSES
};
#define CPU_ALL ((1u << CPU__CLASSES) - 1)
#define CPU_XSAVE_MAX KiB(64)
#define CPU_MSRS_MAX 1024

struct cpu_state {
	unsigned have;		/* 1 << CPU_* of the classes held */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp;
	uint32_t xsave_size;
	struct kvm_xsave *xsave;	/* xsave_size bytes */
	struct kvm_msrs *msrs;		/* with msrs->nmsrs entries */
};
/* What a VM's vCPUs have (computed once per VM by cpu_caps_init). */
struct cpu_caps {
	uint32_t xsave_size;	/* 0: no XSAVE (then FPU) */
	bool xsave2, xcrs, debugregs, events;
	uint32_t nmsrs;		/* MSRs to save: KVM's list (plus MTRRs) */
	uint32_t *msrs;		/* that KVM_GET_MSRS accepts on this vCPU */
};
/* Queries KVM's capabilities and builds the MSR list, filtered with
 * KVM_GET_MSRS on v.  0 or -errno. */
int cpu_caps_init(struct cpu_caps *c, struct vcpu *v);
void cpu_caps_free(struct cpu_caps *c);
/* Reads every class of v (a parked or never-run vCPU).  0 or -errno. */
int cpu_state_get(struct vcpu *v, const struct cpu_caps *c, struct cpu_state *s);
/* Writes the classes in `what` (CPU_* bits) of s into v, in an order KVM
 * accepts (sregs, regs, XCRs, XSAVE/FPU, LAPIC, MSRs, MP state, events,
 * debug registers).  An MSR KVM refuses is skipped (logged at debug).
 * With `sync` regs, sregs and events go through kvm_run's sync area
 * instead (applied by the next KVM_RUN on v's thread: no ioctl).  The
 * time of each class is added to ns[] when ns is not NULL.  0 or -errno;
 * the message names the vCPU and the class. */
int cpu_state_set(struct vcpu *v, const struct cpu_state *s, unsigned what,
		  unsigned sync, uint64_t *ns, struct errbuf *err);
void cpu_state_encode(const struct cpu_state *s, struct sbuf *sb);
/* Decodes one vCPU; -EINVAL on malformed data (sizes, counts). */
int cpu_state_decode(struct sbuf *sb, struct cpu_state *s);
void cpu_state_free(struct cpu_state *s);
extern const char *const cpu_class_names[CPU__CLASSES];

/* ---- VM state and devices (snapshot/vmstate.c) ------------------------ */
struct vm_state {
	bool have_clock, have_irqchip, have_pit;
	struct kvm_clock_data clock;
	struct kvm_irqchip chip[3];	/* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};
/* Reads the KVM clock and, with --irqchip full, the PICs, the IOAPIC and
 * the PIT.  0 or -errno. */
int vm_state_get(struct vm *vm, struct vm_state *s);
int vm_state_set(struct vm *vm, const struct vm_state *s, struct errbuf *err);
void vm_state_encode(const struct vm_state *s, struct sbuf *sb);
int vm_state_decode(struct sbuf *sb, struct vm_state *s);
/* The CPUID section: the table every vCPU's CPUID is made from (the
 * per-vCPU APIC IDs are filled in by vcpu/cpu.c).  decode allocates *out
 * (at most SNAP_CPUID_MAX entries); 0 or -EINVAL / -ENOMEM. */
#define SNAP_CPUID_MAX 1024
void snap_cpuid_encode(const struct kvm_cpuid2 *c, struct sbuf *sb);
int snap_cpuid_decode(struct sbuf *sb, struct kvm_cpuid2 **out);
/* Device sections: name then the device's own blob. */
int snap_device_save(struct device *d, struct sbuf *sb);
/* Checks that section `sec` is for a device named like d, then restores
 * it (with skip_same, not when d already holds that state).  0 or -EINVAL
 * with a message. */
int snap_device_restore(struct device *d, unsigned index, const struct snap_sec *sec,
			const char *path, bool skip_same, struct errbuf *err);

/* ---- memory images and dirty pages (snapshot/mem.c) ------------------- */
#define PAGE_SIZE_4K 4096ull
/* Writes guest RAM to `path` (relative to dirfd, or AT_FDCWD; sparse,
 * only non-zero pages; through a temporary name and renameat).
 * pagemap_fd: /proc/self/pagemap opened beforehand, or -1.  Returns 0 or
 * -errno with a message; *pages_out gets the number of pages written. */
int mem_write_full(struct vm *vm, int dirfd, const char *path, int pagemap_fd,
		   uint64_t *pages_out, struct errbuf *err);
/* Writes the pages set in `bitmap` (one bit per 4 KiB page of the image)
 * to `path` (relative to dirfd) at their offsets, and the runs into m.
 * 0 or -errno. */
int mem_write_diff(struct vm *vm, const uint64_t *bitmap, int dirfd, const char *path,
		   struct snap_mem *m, struct errbuf *err);
/* Firecracker's diff memory file: the image's size, with exactly the
 * pages marked in bitmap as data (zero pages too) and holes elsewhere, to
 * be merged over the previous memory file by the user.  0 or -errno with a
 * message. */
int mem_write_sparse(struct vm *vm, const uint64_t *bitmap, int dirfd, const char *path,
		     uint64_t *pages_out, struct errbuf *err);
/* Copies the runs of diff file `path` into the guest RAM mapping base
 * (size bytes).  0 or -errno with a message. */
int mem_apply_diff(uint8_t *base, uint64_t size, const char *path,
		   const struct snap_mem *m, struct errbuf *err);
/* Marks every page that may differ from the memory file the VM was
 * restored from (pagemap: pages copied on write) or, for fresh anonymous
 * RAM, every page present (pagemap_fd; every page when it is -1 or cannot
 * be read), in bitmap.  0 or -errno. */
int mem_mark_written(struct vm *vm, int pagemap_fd, uint64_t *bitmap);

/* Dirty tracking: through KVM's dirty ring when the VM has one
 * (cfg.dirty_ring, monitor/dring.c), else KVM's dirty log.  manual: with
 * KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (collect = GET + CLEAR of what was
 * seen); else GET, which clears and re-protects. */
struct dirty_log {
	struct vm *vm;
	bool on, manual;
	unsigned nslots;
	uint64_t *bm[2];	/* per memslot */
	uint64_t words[2];
	uint64_t first_page[2];	/* the slot's first page in the image */
};
/* Turns dirty logging on for every memslot.  0 or -errno. */
int dirty_start(struct vm *vm, struct dirty_log *d);
/* Calls fn(ctx, first_page, npages) for each run of pages dirtied since
 * the last collect (pages of the image) and re-arms the tracking of
 * those pages.  0 or -errno. */
int dirty_collect(struct dirty_log *d,
		  void (*fn)(void *ctx, uint64_t first, uint64_t n), void *ctx);
/* Frees the tracking state (before the VM is destroyed; logging goes on
 * until then). */
void dirty_stop(struct dirty_log *d);

/* ---- snapshot and restore (snapshot/snap.c) --------------------------- */
/* Writes a snapshot of vm (vCPUs parked or never started) into dir,
 * relative to dirfd (AT_FDCWD, or a directory opened before the sandbox:
 * every file operation is an *at() call on it), created if needed.
 * diff_bitmap NULL: a full snapshot; else a diff on the snapshot
 * directory `base` holding the pages marked.  pagemap_fd as for
 * mem_write_full; caps: computed beforehand (cpu_caps_init), or NULL.
 * 0 or -errno with a message. */
int snap_save(struct vm *vm, int dirfd, const char *dir, const uint64_t *diff_bitmap,
	      const char *base, int pagemap_fd, const struct cpu_caps *caps,
	      struct errbuf *err);
/* The same, a full snapshot only, into two files of the caller's naming
 * (Firecracker's snapshot_path and mem_file_path), relative to the
 * current directory.  0 or -errno with a message. */
int snap_save_files(struct vm *vm, const char *state, const char *mem, int pagemap_fd,
		    const struct cpu_caps *caps, struct errbuf *err);
/* The same with a Firecracker-style diff memory file (mem_write_sparse of
 * the pages marked in dirty); the state file is a full one's. */
int snap_save_files_diff(struct vm *vm, const char *state, const char *mem,
			 const uint64_t *dirty, const struct cpu_caps *caps, struct errbuf *err);
/* Everything a restore needs, read and validated before a VM exists. */
#define SNAP_CHAIN_MAX 16
struct snap_diff {
	char path[4096];	/* the diff memory file */
	struct snap_mem mem;	/* its runs */
};
struct snap_image {
	char dir[4096];
	struct snap_file f;
	struct vm_config cfg;	/* from the file, with mem_file set */
	struct snap_mem mem;
	struct kvm_cpuid2 *cpuid;	/* the saved CPUID table (cfg.cpuid points here) */
	char mem_path[4096];	/* the full memory file at the chain's root */
	unsigned ndiffs;	/* diffs to apply over it, oldest first */
	struct snap_diff diffs[SNAP_CHAIN_MAX];
	/* each drive's image and each network device's TAP must come from the
	 * user (--drive id=,path= / --net id=,tap=), never from the file */
	bool drive_given[MAX_DRIVES], net_given[MAX_NETS], vsock_given;
};
/* Reads dir's state file and its base chain, and fills img (cfg from the
 * file).  0 or -errno with a message. */
int snap_image_load(const char *dir, struct snap_image *img, struct errbuf *err);
/* The same from a state file and the memory file beside it, as
 * snap_save_files wrote them (a diff is refused: its base is found through
 * its directory).  0 or -errno with a message. */
int snap_image_load_files(const char *state, const char *mem, struct snap_image *img,
			  struct errbuf *err);
void snap_image_free(struct snap_image *img);
/* Times (ns) of the steps of a restore, for --boot-time and benchmarks. */
enum { RT_READ, RT_VM, RT_DIFF, RT_VMSTATE, RT_DEVICES, RT_CPU, RT__COUNT };
struct restore_times {
	uint64_t t[RT__COUNT];
	uint64_t done;		/* now_ns() when the state was in */
	uint64_t cpu[CPU__CLASSES];
};
/* After vm_create(img->cfg): checks the fingerprint and device list,
 * applies diffs, and loads VM, device and vCPU state.  With `sync`, the
 * registers go through kvm_run (applied at the first KVM_RUN).  0 or
 * -errno with a message; on failure the VM must not run. */
int snap_restore_into(struct vm *vm, const struct snap_image *img, bool sync,
		      struct restore_times *rt, struct errbuf *err);
/* Prints the restore steps on stderr (like vm_print_boot_times). */
void snap_print_restore_times(const struct vm *vm, const struct restore_times *rt);

/* ---- triggers in a running VM (snapshot/session.c) -------------------- */
struct snap_opts {
	const char *dir;	/* --snapshot-dir */
	bool on_ctl;		/* --snapshot-on=control-port */
	bool on_sigusr1;	/* --snapshot-on=sigusr1 */
	bool exit_after;	/* --snapshot-exit: stop the VM after one */
	bool diff;		/* --snapshot-diff: DIR/1 full, DIR/2.. diffs */
	bool api;		/* libember: a session even without a DIR */
	unsigned max;		/* --snapshot-max: snapshots a session writes at most
				 * (a guest asking in a loop must not fill the
				 * disk); later requests are refused */
};
#define SNAP_MAX_DEFAULT 16
#define SNAP_MAX_LIMIT 100000
/* What the guest reads in the control port's data register (0xe84) after
 * command 3 (SNAPSHOT): */
enum {
	SNAP_CTL_OK = 0,	/* written (a restored VM reads this too) */
	SNAP_CTL_REFUSED = 1,	/* --snapshot-max reached: nothing written */
	SNAP_CTL_FAILED = 2,	/* writing failed (ember logged why) */
};
/* Takes the snapshot options out of argv (shifting the rest down and
 * updating *argc).  0, or -EINVAL with a message. */
int snap_opts_take(int *argc, char **argv, struct snap_opts *o, struct errbuf *err);
/* Adds the triggers to vm (before vm_start): a handler of control-port
 * command 3 (vm_ctl_add) and SIGUSR1 (vm_signal_add), whose snapshots are
 * taken by work posted to the loop.  base: the directory the VM was
 * restored from (diffs are then taken against it), or NULL.  0 or -errno
 * with a message. */
struct snap_session;
int snap_session_start(struct vm *vm, const struct snap_opts *o, const char *base,
		       struct snap_session **out, struct errbuf *err);
/* libember: a full snapshot of s's VM into dir, from any thread but the
 * VM's own.  While the VM runs the loop thread takes it; else it is taken
 * here.  0 or -errno with a message. */
int snap_session_request(struct snap_session *s, const char *dir, struct errbuf *err);
/* The same into the files state and mem (snap_save_files), or into the
 * directory state when mem is NULL.  The VM may be paused: it stays so. */
int snap_session_request_files(struct snap_session *s, const char *state, const char *mem,
			       struct errbuf *err);
/* The API's snapshot_type Diff: the state file as for a Full one, and in
 * mem only the pages written since the last API snapshot (or the start),
 * mem_write_sparse.  Needs dirty tracking (the VM's track_dirty).  0 or
 * -errno with a message. */
int snap_session_request_diff(struct snap_session *s, const char *state, const char *mem,
			      struct errbuf *err);
/* libember: around vm_run (true before, false after: a request that
 * raced with the stop is served then). */
void snap_session_running(struct snap_session *s, bool running);
/* After vm_run: frees the session.  Returns the number of snapshots that
 * failed (each was reported on stderr). */
int snap_session_end(struct snap_session *s);

/* ---- the fuzzing reset loop (snapshot/fuzz.c) ------------------------ */
enum fuzz_outcome {
	FUZZ_OK,	/* CTL_DONE */
	FUZZ_CRASH,	/* CTL_CRASH, triple fault, KVM error, bad input buffer */
	FUZZ_TIMEOUT,	/* the run took longer than timeout_ms */
	FUZZ_EXIT,	/* the guest exited (port 0xf4, control exit, reset) */
	FUZZ_ERROR,	/* a host-side failure: the session is unusable */
};
struct fuzz_opts {
	bool reset_fast;	/* registers only (see the README) */
	uint64_t timeout_ms;	/* 0: none */
	enum console_kind console;
	const char *console_path;
	uint64_t cov_gpa;	/* copied to cov_out after each run, before */
	size_t cov_len;		/* the reset (0: nothing) */
	void *cov_out;
	const char *const *drives;	/* "id=NAME,path=IMG" each, NULL-ended */
};
struct fuzz_result {
	int outcome;		/* enum fuzz_outcome */
	uint32_t code;		/* CTL_CRASH/CTL_DONE argument, exit status */
	char reason[256];
	uint64_t run_ns, reset_ns, pages;	/* pages put back by the reset */
};
struct fuzz_stats {
	uint64_t runs, resets, pages;
	uint64_t t_run, t_memory, t_devices, t_vm, t_cpu;	/* ns, summed */
};
struct fuzz;
/* Restores snapshot dir (one vCPU, no network devices) for fuzzing on
 * the calling thread.  0 or -errno with a message. */
int fuzz_open(const char *dir, const struct fuzz_opts *o, struct fuzz **out,
	      struct errbuf *err);
/* `ember fuzz`: on the thread that will call fuzz_run, after every file
 * the command needs is open: sets up the timeout's timer for this thread,
 * drops every capability (sc_vm_setup; the process must have one thread)
 * and, if seccomp, installs the vCPU filter with SC_F_FUZZ and the
 * Landlock ruleset that lets it write files beneath write_dir (the crash
 * directory; NULL: nowhere).  Not for library users (the filter would
 * hold their whole thread).  0 or -errno with err filled. */
int fuzz_sandbox(struct fuzz *f, bool seccomp, const char *write_dir, struct errbuf *err);
/* Runs the guest with input `in` until the run ends, then resets it to
 * the snapshot.  Call from one thread (the timeout signal is bound to
 * it).  0 (whatever the outcome), or -errno when the host failed. */
int fuzz_run(struct fuzz *f, const void *in, size_t len, struct fuzz_result *res,
	     struct errbuf *err);
/* Guest memory (e.g. a coverage map the guest keeps), checked; or NULL. */
void *fuzz_guest_ptr(struct fuzz *f, uint64_t gpa, size_t len);
const struct fuzz_stats *fuzz_get_stats(const struct fuzz *f);
void fuzz_close(struct fuzz *f);

/* ---- commands (snapshot/cli.c, snapshot/fork.c, snapshot/fuzzcli.c) --- */
/* `ember restore DIR [options]`, `ember fork DIR -n N [options]` and
 * `ember fuzz DIR --inputs DIR [options]` (argv[0] is the command). Each
 * returns the process exit status. */
int snap_cmd_restore(int argc, char **argv, uint64_t start_ns);
/* `ember rebase-snap --base-file BASE --diff-file DIFF` (snapshot/rebase.c):
 * copies the data regions of a Diff memory file (mem_write_sparse) into
 * BASE at the same offsets.  0 or -errno with a message. */
int snap_rebase(const char *base, const char *diff, struct errbuf *err);
int snap_cmd_rebase(int argc, char **argv);
int snap_cmd_fork(int argc, char **argv, uint64_t start_ns);
int snap_cmd_fuzz(int argc, char **argv, uint64_t start_ns);
/* `ember run`'s snapshot options for the usage text. */
extern const char snap_usage[];
/* Options restore/fork share: --console, --drive id=NAME,path=IMG (a
 * drive's image), --net id=netN,tap=TAP (a network device's TAP),
 * --vsock uds=PATH (the vsock device's socket), --boot-time.  Applied to img->cfg.  argv[i] is the
 * option; returns how many arguments it used (1 or 2), 0 if it is not one
 * of these, or -EINVAL with a message. */
/* --drive id=NAME,path=IMG and --net id=netN,tap=TAP of a restore, fork or
 * fuzz: set the drive's image or the device's TAP and mark it given.  0 or
 * -EINVAL with a message. */
int snap_drive_opt(struct snap_image *img, const char *spec, struct errbuf *err);
int snap_net_opt(struct snap_image *img, const char *spec, struct errbuf *err);
/* --vsock uds=PATH of a restore, fork or fuzz: the vsock device's listening
 * socket (the CID stays the snapshot's).  0 or -EINVAL with a message. */
int snap_vsock_opt(struct snap_image *img, const char *spec, struct errbuf *err);
/* A snapshot is untrusted input: the paths and TAP names its config
 * remembers are shown, never opened.  -EINVAL with a message naming the
 * first drive, network or vsock device the user did not give (cmd: "restore",
 * "fork", "fuzz"), else 0. */
int snap_paths_check(const struct snap_image *img, const char *cmd, struct errbuf *err);
int snap_common_opt(struct snap_image *img, int argc, char **argv, int i,
		    bool *boot_time, struct errbuf *err);
/* Creates the VM of img and restores it.  0 or -errno with a message;
 * *status says EXIT_BADINPUT or EXIT_HOSTFAIL on failure. */
int snap_restore_vm(struct snap_image *img, uint64_t start_ns, struct vm **out,
		    struct restore_times *rt, struct errbuf *err, int *status);

/* ---- files a restore needs (snapshot/files.c) ---- */
/* Reads `ember restore` arguments (argv[0] "restore") as snap_cmd_restore
 * does, with its messages: takes the snapshot options into *so and
 * --no-seccomp out of argv (updating *argc), loads DIR (argv[1]) into img
 * (snap_image_load; img zeroed beforehand, snap_image_free after, also on
 * failure) and applies --console, --drive and --boot-time to img->cfg
 * (snap_common_opt).  0 or -errno with a message. */
int snap_restore_args(int *argc, char **argv, struct snap_image *img, struct snap_opts *so,
		      bool *no_seccomp, bool *boot_time, struct errbuf *err);
/* One file a restore opens.  path: as the restore will open it (absolute,
 * or relative to the working directory). */
struct snap_need {
	const char *what;	/* for messages: "snapshot", "drive", ... */
	const char *path;
	bool ro;		/* only read */
	bool create;		/* the restore creates it (console, --snapshot-dir) */
	bool dir;		/* a directory (--snapshot-dir) */
};
/* Receives one file; returns 0 to go on, or -errno with err filled. */
typedef int (*snap_file_fn)(void *ctx, const struct snap_need *n, struct errbuf *err);
/* Calls fn for every file the restore of img (as snap_restore_args left
 * it) opens: the state and memory file of the chain's full snapshot, the
 * state and diff file of each diff (oldest first), the drives (read-only
 * when ro=on), the console file (--console file:PATH) and so->dir.
 * Returns 0 or the first error of fn. */
int snap_restore_files(const struct snap_image *img, const struct snap_opts *so,
		       snap_file_fn fn, void *ctx, struct errbuf *err);
