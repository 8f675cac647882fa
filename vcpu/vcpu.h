/* vcpu/vcpu.h - vCPU threads, the KVM_RUN loop, CPU set-up and the PIO and
 * MMIO buses.  The one internal header of vcpu/. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

struct vm;
struct kvm_run;
struct kvm_regs;
struct boot_entry;
struct errbuf;

/* ---- buses (vcpu/bus.c) ----------------------------------------------- */
/* Access handlers: `off` is relative to the range's base; size is 1, 2, 4
 * or 8; data is little-endian in a buffer of `size` bytes. */
struct bus_ops {
	void (*read)(void *opaque, uint64_t off, void *data, unsigned size);
	void (*write)(void *opaque, uint64_t off, const void *data, unsigned size);
};
struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};
/* A sorted interval table.  Ranges are registered before vCPUs run and
 * never change after, so lookups take no lock. */
struct bus {
	const char *name;	/* "pio" or "mmio", for messages */
	struct bus_range *r;
	unsigned n, cap;
	atomic_ulong misses;	/* accesses that hit nothing */
};

/* Adds [base, base+len).  Returns 0, -EEXIST when it overlaps a range
 * already there, -EINVAL for len 0 or wrap-around, -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);
/* Dispatches one access.  A read of nothing returns all-ones and a write
 * to nothing is dropped; both count in b->misses and return -ENOENT.
 * An access that straddles the end of a range is a miss too. */
int bus_access(struct bus *b, uint64_t addr, void *data, unsigned size,
	       bool is_write);
/* The range holding addr, or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);
/* Frees the table.  With EMBER_LOG=debug, first logs the bus's misses:
 * "<name> bus: N accesses hit no device (...)". */
void bus_destroy(struct bus *b);

/* ---- vCPUs (vcpu/vcpu.c) ---------------------------------------------- */
#define VCPU_STATS_REASONS 64	/* KVM_EXIT_* below this; the last counts the rest */
#define VCPU_STATS_MMIO 64	/* MMIO bus ranges below this; the last the rest */
/* Exits counted by the vCPU's own thread (vcpu/stats.c); read once it
 * has stopped, except reason[], which the metrics read while it runs
 * (relaxed atomic loads of whole stores). */
struct vcpu_stats {
	uint64_t reason[VCPU_STATS_REASONS];	/* exits to ember by KVM_EXIT_* */
	uint32_t mmio[VCPU_STATS_MMIO];	/* MMIO exits by bus range index */
	uint32_t *pio;		/* 65536 port I/O exit counters, or NULL */
	int kvm_fd;		/* KVM_GET_STATS_FD, or -1 */
	bool detail;		/* count by port and range too (--boot-time) */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	uint8_t *stack;		/* the thread's stack mapping (vcpu_start), or NULL */
	bool started;
	uint64_t exits;		/* number of KVM_RUN returns */
	struct vcpu_stats stats;
};

/* Sets up v's exit counters (vcpu_create calls it): by reason always;
 * with `detail` (--boot-time) also by port, by MMIO range, and KVM's own
 * counters (its stats fd, opened now, before any sandbox).  0 or -ENOMEM. */
int vcpu_stats_init(struct vcpu *v, bool detail);
/* Frees what vcpu_stats_init allocated and closes the stats fd. */
void vcpu_stats_free(struct vcpu *v);
/* Prints on stderr the exits of all of vm's vCPUs, summed: KVM's counters
 * ("  kvm   NAME COUNT"), the exits that reached ember by reason ("  ember
 * NAME COUNT"), the top 8 ports and MMIO ranges ("  port 0xN NAME COUNT",
 * "  mmio 0xADDR NAME COUNT").  After the vCPUs have stopped. */
void vcpu_print_exit_stats(const struct vm *vm);
/* Creates vCPU `id` (fd, kvm_run mapping, CPUID, MSRs, LAPIC LINT set-up). */
int vcpu_create(struct vm *vm, unsigned id, struct vcpu **out);
/* Puts the boot vCPU in the state the boot protocol asks for: writes the
 * boot GDT and page tables where needed, sets sregs and regs. */
int vcpu_setup_boot(struct vcpu *v, const struct boot_entry *e);
/* Starts the thread that runs KVM_RUN until the VM stops. */
int vcpu_start(struct vcpu *v);
/* Makes the vCPU leave KVM_RUN (immediate_exit + signal); any thread. */
void vcpu_kick(struct vcpu *v);
/* Waits for the thread to end (after vcpu_kick). */
void vcpu_join(struct vcpu *v);
/* Unmaps and closes (after vcpu_join, or if never started). */
void vcpu_destroy(struct vcpu *v);
/* CPU set-up for vCPU v (vcpu/cpu.c): the VM's CPUID table (vm->cpuid,
 * made by the first call: on a restore a copy of cfg->cpuid, else
 * KVM_GET_SUPPORTED_CPUID, about 0.35 ms here) with this vCPU's APIC ID
 * and the VM's topology; MSRs; LAPIC LINT0/1. */
int cpu_setup_cpuid(struct vcpu *v);
int cpu_setup_msrs(struct vcpu *v);
int cpu_setup_lapic(struct vcpu *v);
/* Running -> paused (vm_transition): stops every running vCPU at an
 * instruction boundary, with any pending I/O completed (KVM_RUN with
 * immediate_exit), and returns when all are parked (or the VM is
 * stopping): their registers can then be read or written.  Not from a
 * vCPU thread.  A vCPU thread may instead set vm->pause_req and kick
 * itself; it parks before it enters the guest again.  0, or -EBUSY with
 * a message naming the state when the VM is not running (e.g. "cannot
 * pause: VM is configured": no vCPU runs).  err may be NULL. */
int vm_pause(struct vm *vm, struct errbuf *err);
/* Paused -> running: lets parked vCPUs run again.  0, or -EBUSY with a
 * message naming the state when the VM is not paused.  err may be NULL. */
int vm_resume(struct vm *vm, struct errbuf *err);
/* Before vm_start: every vCPU parks before its first KVM_RUN, as if
 * paused; move the VM to VM_PAUSED after vm_start, and vm_resume runs
 * it (a snapshot loaded without resume_vm). */
void vm_start_paused(struct vm *vm);
/* Handles one exit (exported for tests).  Returns 0 to run again, or
 * 1 when the VM is stopping. */
int vcpu_handle_exit(struct vcpu *v);
/* The message for a triple fault (KVM_EXIT_SHUTDOWN) on vCPU `id` given its
 * registers after the exit (NULL: unreadable).  KVM on AMD SVM resets the
 * vCPU when it intercepts the shutdown, so registers at the reset state
 * (RIP 0xfff0, RFLAGS 0x2, RSP 0) say nothing of where it faulted: the
 * message then says that instead of naming a misleading RIP. */
void vcpu_shutdown_reason(unsigned id, const struct kvm_regs *r, char *buf, size_t len);
