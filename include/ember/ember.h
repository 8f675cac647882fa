/* include/ember/ember.h - libember: ember's C API.  Make, run, snapshot
 * and restore VMs, and drive the fuzzing reset loop from a program (a
 * libFuzzer/AFL++ harness, a test runner, a function runner).
 *
 * Link: libember.a -luring -lseccomp -lcap -lpthread; installed (`make
 * install`), `pkg-config --cflags --libs --static ember` gives these.
 *
 * Conventions: functions return 0 or a negative errno.  Those with
 * (err, errlen) put a one-line message there on failure: the same text
 * the `ember` command prints after "ember: ".  Options are given as the
 * command line would give them, as a NULL-terminated array of strings,
 * e.g. { "--kernel", "guest.elf", "--mem", "128M", NULL }.
 *
 * Threads: ember_vm_run() runs the VM on the calling thread (it becomes
 * the VM's event loop; one more thread per vCPU) and installs ember's
 * seccomp filter on that thread unless "--no-seccomp" is among the
 * options: give it a thread of its own.  ember_vm_snapshot() and
 * ember_vm_stop() may be called from any other thread.  A fuzz session
 * runs the guest on the thread that calls ember_fuzz_run() (no other
 * thread), always the same one. */
#ifndef EMBER_EMBER_H
#define EMBER_EMBER_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBER_API_VERSION 1
/* The API version of the library linked in (EMBER_API_VERSION it was
 * built with). */
int ember_api_version(void);

/* ---- VMs ---------------------------------------------------------------- */
struct ember_vm;

/* A VM from `ember run` options (--kernel or --raw, --mem, --cpus,
 * --share, ..., and the --snapshot-* triggers), built by the launcher
 * `ember run` uses: every option means what it means there.  Not running
 * yet. */
int ember_vm_create(const char *const *options, struct ember_vm **out,
		    char *err, size_t errlen);
/* A VM restored from snapshot directory `dir`, with `ember restore`
 * options (--console, --drive id=NAME,path=IMG, --net id=netN,tap=TAP,
 * --snapshot-*); options may be NULL.  Every drive and network device of
 * the snapshot must be named by an option: the paths a snapshot remembers
 * are not opened.  Guest RAM is the snapshot's memory file, mapped
 * copy-on-write.  Not running yet. */
int ember_vm_restore(const char *dir, const char *const *options,
		     struct ember_vm **out, char *err, size_t errlen);
/* Runs the VM until it stops; returns the exit status `ember run` would
 * (the guest's, or 0 on power-off, or ember's own: see the README).  Once
 * per VM: a stopped VM does not run again (70, and "cannot run: VM is
 * stopped" on stderr). */
int ember_vm_run(struct ember_vm *vm);
/* Writes a full snapshot of the VM into `dir` (created if needed): while
 * it runs (every vCPU paused at an instruction boundary for the time it
 * takes, then resumed), or before or after ember_vm_run. */
int ember_vm_snapshot(struct ember_vm *vm, const char *dir, char *err, size_t errlen);
/* Asks a running VM to stop; ember_vm_run then returns `status`. */
void ember_vm_stop(struct ember_vm *vm, int status);
/* Frees the VM (not while ember_vm_run runs). */
void ember_vm_destroy(struct ember_vm *vm);

/* ---- fuzzing ------------------------------------------------------------ */
/* The guest side (control port 0xe80, data register 0xe84/0xe88) is in
 * the README: "snapshot here" (3), "next input" (4), "done" (5), "crash"
 * (6).  A fuzz session restores a snapshot taken at "snapshot here" and
 * runs one input per call, putting the VM back after each. */
enum ember_fuzz_outcome {
	EMBER_FUZZ_OK = 0,	/* the guest said done */
	EMBER_FUZZ_CRASH = 1,	/* crash report, triple fault, KVM error, bad buffer */
	EMBER_FUZZ_TIMEOUT = 2,	/* longer than timeout_ms */
	EMBER_FUZZ_EXIT = 3,	/* the guest exited (code = its status) */
};
struct ember_fuzz_options {
	int reset_fast;		/* 0: put back every vCPU state class after each
				 * run; 1: only registers, segment/control
				 * registers and pending events (much cheaper;
				 * checked now and then, see the README) */
	unsigned timeout_ms;	/* per run; 0: none */
	const char *console;	/* NULL/"none", "stdio" or "file:PATH" */
	/* coverage: after each run and before the reset, guest-physical
	 * [coverage_gpa, +coverage_len) is copied to coverage_out (e.g.
	 * libFuzzer's extra counters).  coverage_len 0: none. */
	uint64_t coverage_gpa;
	size_t coverage_len;
	void *coverage_out;
	/* each drive of the snapshot: "id=NAME,path=IMG", NULL-ended.  A
	 * snapshot is not trusted to choose the files it opens: a drive not
	 * named here is refused. */
	const char *const *drives;
};
struct ember_fuzz_result {
	int outcome;		/* enum ember_fuzz_outcome */
	uint32_t code;		/* the crash code, or the exit status */
	char reason[256];	/* for people */
	uint64_t run_ns;	/* the guest's run */
	uint64_t reset_ns;	/* putting it back */
	uint64_t pages;		/* pages the reset copied back */
};
struct ember_fuzz;

/* Opens a fuzz session on snapshot `dir` (one vCPU, no network devices;
 * drives write to an overlay each reset drops); opts may be NULL (full reset, 1000 ms timeout, no console). */
int ember_fuzz_open(const char *dir, const struct ember_fuzz_options *opts,
		    struct ember_fuzz **out, char *err, size_t errlen);
/* Runs one input and resets the VM.  0 whatever the outcome (in *res),
 * or a negative errno when the host failed (the session is then
 * unusable). */
int ember_fuzz_run(struct ember_fuzz *f, const void *input, size_t len,
		   struct ember_fuzz_result *res);
/* A pointer to guest-physical [gpa, gpa+len) (e.g. a coverage map the
 * guest fills), or NULL if that is not guest RAM.  Valid until close. */
void *ember_fuzz_guest_mem(struct ember_fuzz *f, uint64_t gpa, size_t len);
void ember_fuzz_close(struct ember_fuzz *f);

#ifdef __cplusplus
}
#endif
#endif
