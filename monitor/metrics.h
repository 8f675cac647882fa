/* monitor/metrics.h - Firecracker-style metrics: one JSON object per line
 * appended to the metrics file (cfg->metrics_path: --metrics-path, PUT
 * /metrics, the config file's "metrics"), written every 60 s by a timer on
 * the VM's event loop, on request (FlushMetrics) and once when the VM
 * stops.  Counters are deltas since the previous line, as Firecracker's
 * are; the fields are listed in the README ("Metrics"). */
#pragma once
#include <stdint.h>

#include "monitor/monitor.h"

/* ---- what the VM's owner calls (monitor/vm.c does all but the flush) -- */
/* The API server, any thread: one request the router answered with HTTP
 * status `status` after latency_ns (from the whole request read to its
 * answer; malformed HTTP, refused before the router, is not counted).  A
 * few relaxed atomics. */
void metrics_api_request(unsigned status, uint64_t latency_ns);
/* vm_create, before the sandbox: opens cfg->metrics_path (appending,
 * created 0644 when missing, O_NONBLOCK: a FIFO that takes no more drops a
 * line instead of stopping the loop) and reads the test-only period
 * EMBER_METRICS_PERIOD_MS (1..3600000; default 60000).  Nothing without a
 * path.  0, or -errno with a message naming the file (or the variable). */
int metrics_open(struct vm *vm, struct errbuf *err);
/* vm_start, loop thread, once vm->loop exists: arms the periodic line (an
 * io_uring timeout re-armed each time it fires). */
void metrics_start(struct vm *vm);
/* Writes one line now: FlushMetrics.  The VM's loop thread (while it
 * runs: the timer's line is written there too, and both advance the
 * same "previous" counters), or, once vm_wait returned, the thread that
 * called it.  0; -ENOENT (no metrics path) or -errno of the write, with a
 * message.  err may be NULL. */
int metrics_flush(struct vm *vm, struct errbuf *err);
/* vm_wait, loop thread, after the vCPUs stopped and the devices were
 * quiesced: the last line (its failure is logged); no periodic line after. */
void metrics_stop(struct vm *vm);
/* vm_destroy: closes the file, frees. */
void metrics_free(struct vm *vm);

/* ---- the line (exported for the unit tests) --------------------------- */
/* One virtio device's counters: VSTAT_* (virtio/virtio.h) first, then: */
enum { MD_KICK0 = 8, MD_KICK1, MD_KICK2, MD_THROTTLED0, MD_THROTTLED1, MD_PROTOCOL,
       MD__N };
#define METRICS_DEVS VIRTIO_MMIO_MAX
/* KVM's per-vCPU counters reported (section "kvm"), by their KVM names */
#define METRICS_KVM_NAMES "exits", "io_exits", "mmio_exits", "halt_exits", "irq_exits", \
	"irq_window_exits", "signal_exits", "insn_emulation", "hypercalls", "pf_taken", \
	"pf_fixed"
#define METRICS_KVM 11
struct metrics_dev {
	uint32_t kind;		/* VIRTIO_ID_BLOCK, _NET, _RNG or _VSOCK */
	char id[CONFIG_ID_MAX + 1];	/* drive or interface id */
	uint64_t v[MD__N];
};
/* Every counter at one moment, as they only grow (except the API's
 * latency minimum and maximum, which are the period's own). */
struct metrics_sample {
	uint64_t exits[VCPU_STATS_REASONS];	/* exits to ember by KVM_EXIT_* */
	uint64_t pio_misses, mmio_misses;	/* bus accesses that hit nothing */
	uint64_t api_requests;
	uint64_t api_status[4];		/* 2xx, 4xx, 5xx, other */
	uint64_t api_latency_sum_ns;
	uint64_t api_latency_min_ns;	/* UINT64_MAX: no request in the period */
	uint64_t api_latency_max_ns;
	/* KVM's own counters, all vCPUs (every exit, those KVM handles too);
	 * bit k of kvm_have: KVM has counter k (METRICS_KVM_NAMES order) */
	uint64_t kvm[METRICS_KVM];
	uint32_t kvm_have;
	unsigned ndevs;
	struct metrics_dev devs[METRICS_DEVS];
};
/* Reads vm's counters into s (each device's under its lock) and takes the
 * API's latency minimum and maximum of the period (resetting them). */
void metrics_sample(struct vm *vm, struct metrics_sample *s);
/* The line for cur (newline-terminated, malloc'd; NULL when out of
 * memory): "utc_timestamp_ms" then the sections, each counter cur - prev;
 * then prev = cur.  A device of cur missing from prev (by kind and id)
 * counts from 0. */
char *metrics_line(const struct metrics_sample *cur, struct metrics_sample *prev,
		   uint64_t utc_ms);
