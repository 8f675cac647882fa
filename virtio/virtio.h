/* virtio/virtio.h - the virtqueue core (split ring), the virtio-mmio
 * transport (version 2) and the devices on it: virtio-blk, virtio-net,
 * virtio-rng (virtio-vsock has its own folder).  The one internal header
 * of virtio/.
 *
 * Threads: register accesses arrive on vCPU threads; queue work and I/O
 * completions run on the event loop thread.  Each device's state is
 * guarded by its virtio_dev.lock.  The virtqueue core itself takes no
 * lock: its caller holds the device lock. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/uio.h>

#include "devices/devices.h"
#include "monitor/monitor.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "virtio 1.x is little-endian; ember reads rings natively");

/* Feature bits the core understands (virtio 1.x numbering). */
#define VQ_F_INDIRECT_DESC 28
#define VQ_F_EVENT_IDX 29
#define VQ_MAX_SIZE 32768		/* the split ring's largest queue */

/* ---- rate limiters (virtio/ratelimit.c) ------------------------------ */
struct tbucket {
	uint64_t size;		/* 0: no limit */
	uint64_t period_ns;	/* refill time of a whole bucket */
	int64_t budget;		/* tokens now; negative: a big request's debt */
	uint64_t burst;		/* one-time burst left */
	uint64_t last_ns;	/* time the budget was last brought up to date */
};
/* A bucket from its configuration (NULL or size 0: no limit), full. */
void tb_init(struct tbucket *b, const struct tbucket_cfg *c, uint64_t now_ns);
/* 0 if n tokens may be taken at now_ns, else the nanoseconds until they
 * may (refilling the bucket up to now first). */
uint64_t tb_wait_ns(struct tbucket *b, uint64_t n, uint64_t now_ns);
/* Takes n tokens: the burst first, then the budget (which may go below 0
 * for a request larger than the bucket). */
void tb_take(struct tbucket *b, uint64_t n);

struct ratelimit {
	struct tbucket bw, ops;
	uint64_t throttled;	/* requests that had to wait (metrics) */
	/* the timer: when it fires (on the loop), resume(rl) is called */
	struct loop_op timer_op;
	struct __kernel_timespec ts;
	bool armed;
	void (*resume)(struct ratelimit *rl);
};
/* Sets up rl from cfg (NULL: no limit); set rl->resume after. */
void rl_init(struct ratelimit *rl, const struct ratelimit_cfg *cfg);
/* New limits on a live limiter (PATCH /drives): full buckets of cfg's
 * sizes; an armed timer and rl->resume are kept. */
void rl_update(struct ratelimit *rl, const struct ratelimit_cfg *cfg);
/* After rl_update on the loop thread: an armed timer (set for the old
 * limits) is cancelled, so rl->resume runs on the loop's next turn and
 * asks the new limits. */
void rl_rearm(struct ratelimit *rl, struct loop *l);
bool rl_enabled(const struct ratelimit *rl);
/* A request of `bytes` bytes: 0 if it may go now (its tokens are taken),
 * else the nanoseconds to wait before asking again (nothing taken). */
uint64_t rl_try(struct ratelimit *rl, uint64_t bytes);
/* For a device that learns a request's size only after taking it from
 * its queue: 0 if a token of each kind is there (take the request, then
 * rl_charge what it cost: the budget may go into debt), else the
 * nanoseconds to wait before looking again. */
uint64_t rl_check(struct ratelimit *rl);
void rl_charge(struct ratelimit *rl, uint64_t bytes);
/* Arms rl's timer on loop l to call rl->resume in ns nanoseconds, unless
 * it is armed already (the device then asks again when that one fires).
 * Loop thread. */
void rl_arm(struct ratelimit *rl, struct loop *l, uint64_t ns);

/* ---- the virtqueue core (virtio/vq.c) --------------------------------- */
/* Errors of vq_pop (and of ring set-up).  Each marks the queue broken. */
enum {
	VQ_ERR_AVAIL = -EOVERFLOW,	/* avail.idx moved by more than size */
	VQ_ERR_INDEX = -ERANGE,		/* head or next >= size (or table count) */
	VQ_ERR_LOOP = -ELOOP,		/* chain longer than its table: a loop */
	VQ_ERR_ADDR = -EFAULT,		/* buffer/table/ring not wholly in RAM */
	VQ_ERR_NOINDIRECT = -ENOTSUP,	/* INDIRECT flag but not negotiated */
	VQ_ERR_INDIRECT = -EINVAL,	/* indirect len 0, not a multiple of 16,
					 * or INDIRECT together with NEXT */
	VQ_ERR_NESTED = -EMLINK,	/* INDIRECT inside an indirect table */
	VQ_ERR_CAPACITY = -ENOBUFS,	/* more buffers than the caller's iovecs */
	VQ_ERR_ORDER = -EBADMSG,	/* readable buffer after a writable one */
	VQ_ERR_BROKEN = -EIO,		/* queue already broken, or not ready */
};

/* One split virtqueue.  Addresses are guest-physical; the host pointers
 * are gmem_ptr() of the whole rings, taken when the queue is made ready (or
 * restored) after checking size, alignment and range. */
struct vq {
	struct dev_host *host;	/* guest memory: host->mem */
	uint16_t size;		/* QueueNum: a power of 2, 1..VQ_MAX_SIZE */
	bool ready;
	bool broken;
	bool indirect;		/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool event_idx;		/* VIRTIO_F_EVENT_IDX negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;	/* next avail ring slot to consume */
	uint16_t used_idx;	/* our copy of used.idx (we are its only writer) */
	uint16_t signalled;	/* used_idx at the last vq_should_notify */
	bool notify_on;		/* kicks wanted (vq_set_notify) */
	int err;		/* the first violation (VQ_ERR_*), 0 if none */
	/* host views, valid while ready */
	uint8_t *desc, *avail, *used;
};

/* A popped chain.  The caller gives the iovec arrays and capacities; pop
 * fills them and the counts.  rd = device-readable, wr = device-writable. */
struct vq_req {
	struct iovec *rd, *wr;
	unsigned rd_cap, wr_cap;
	unsigned nrd, nwr;
	uint64_t rd_len, wr_len;	/* total bytes of each kind */
	uint16_t head;			/* what vq_push must be given back */
};

/* Puts the queue in its reset state (not ready, size 0, addresses 0,
 * indexes 0, not broken); h is kept for later set-up. */
void vq_init(struct vq *q, struct dev_host *h);
/* Makes the queue usable with q->size and the three ring addresses set:
 * size must be a power of two <= max_size, desc 16-aligned, avail
 * 2-aligned, used 4-aligned, and each ring wholly in guest RAM.  features
 * are the negotiated ones (INDIRECT_DESC and EVENT_IDX matter).  0 or
 * -errno (the queue then stays not ready; nothing is marked broken). */
int vq_set_ready(struct vq *q, uint64_t features, uint16_t max_size);
/* Takes the next available chain.  1: a chain is in *r; 0: nothing
 * available; <0: a VQ_ERR_* (the queue is then broken and every later call
 * returns VQ_ERR_BROKEN).  Never writes past r->rd_cap / r->wr_cap entries;
 * zero-length buffers are skipped.  Reads avail.idx with acquire. */
int vq_pop(struct vq *q, struct vq_req *r);
/* Gives back the last n popped chains (the device could not use them). */
void vq_unpop(struct vq *q, uint16_t n);
/* Walks the chain at `head` again (e.g. an in-flight request after a
 * restore) without touching the avail ring.  Same results as vq_pop. */
int vq_get_chain(struct vq *q, uint16_t head, struct vq_req *r);
/* Publishes one used element (head, bytes written) with a release store of
 * used.idx.  Does nothing on a broken or not-ready queue.  While guest RAM
 * is tracked (gmem_track_start) it also records as host-written the
 * element, used.idx and every device-writable buffer of the chain, whole
 * (walked again from the descriptor table; the core's writes of used
 * flags and avail_event are recorded where they happen). */
void vq_push(struct vq *q, uint16_t head, uint32_t written);
/* After pushes: does the driver want an interrupt?  EVENT_IDX: the used
 * event index was crossed since the last call; otherwise the avail
 * NO_INTERRUPT flag is clear.  Full fence before reading the driver's side. */
bool vq_should_notify(struct vq *q);
/* Asks the driver for kicks (enable) or not.  EVENT_IDX: writes
 * avail_event = last_avail when enabling, last_avail - 1 when disabling
 * (behind anything the driver adds next: no kick); otherwise the used
 * NO_NOTIFY flag.  Returns true when, after enabling, more chains are already
 * available (the caller must then go on popping: no kick will come). */
bool vq_set_notify(struct vq *q, bool enable);
/* Kicks on, but with EVENT_IDX the driver's kick comes only when it has
 * added the n-th chain past what was consumed (avail_event = last_avail +
 * n - 1; n is capped at the queue size): one kick for a batch of n.  The
 * caller must look at the ring by itself (a timer) if fewer may come.
 * n <= 1, or without EVENT_IDX: vq_set_notify(q, true).  Returns true when
 * chains are already available (the caller must then pop them). */
bool vq_set_notify_after(struct vq *q, uint16_t n);
/* True if a chain is available (acquire read of avail.idx). */
bool vq_has_avail(struct vq *q);
/* Marks the queue broken with err (a VQ_ERR_*); keeps the first error. */
void vq_fail(struct vq *q, int err);
/* A short name for a VQ_ERR_*, for log messages. */
const char *vq_strerror(int err);

struct sbuf;
/* Appends the queue's state (size, ready, addresses, indexes, features,
 * broken). */
void vq_save(const struct vq *q, struct sbuf *sb);
/* Reads what vq_save wrote; re-checks the rings (guest memory must be in
 * place) with max_size.  0 or -EINVAL. */
int vq_restore(struct vq *q, struct sbuf *sb, uint16_t max_size);

/* iovec helpers over popped chains. */
/* Copies up to len bytes starting at byte off of the iovecs into buf;
 * returns the bytes copied. */
size_t vq_iov_read(const struct iovec *iov, unsigned n, size_t off,
		   void *buf, size_t len);
/* Copies up to len bytes from buf to byte off of the iovecs; returns the
 * bytes copied. */
size_t vq_iov_write(const struct iovec *iov, unsigned n, size_t off,
		    const void *buf, size_t len);
/* Fills out[] (capacity cap) with the part [off, off+len) of iov; returns
 * the number of entries, or -ENOBUFS if cap is too small, -ERANGE if the
 * iovecs hold fewer than off+len bytes. */
int vq_iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
		 struct iovec *out, unsigned cap);

/* ---- the virtio-mmio transport (virtio/mmio.c) ------------------------ */
#define VIRTIO_MAX_QUEUES 3
#define VIRTIO_VENDOR_ID 0x52424d45	/* "EMBR" */

struct virtio_dev;
struct virtio_dev_ops {
	uint32_t device_id;	/* VIRTIO_ID_* */
	unsigned nqueues;	/* <= VIRTIO_MAX_QUEUES */
	uint16_t queue_max;	/* QueueNumMax */
	/* All callbacks run with vd->lock held. */
	/* Config space read/write at off (relative to 0x100); the transport
	 * has checked that [off, off+size) lies in cfg_size. */
	uint32_t cfg_size;
	void (*cfg_read)(struct virtio_dev *vd, uint32_t off, void *data,
			 unsigned size);
	void (*cfg_write)(struct virtio_dev *vd, uint32_t off, const void *data,
			  unsigned size);	/* NULL: config is read-only */
	/* Queue q was kicked (loop thread; queue ready, DRIVER_OK, not
	 * broken).  Setting DRIVER_OK kicks every queue once. */
	void (*notify)(struct virtio_dev *vd, unsigned q);
	/* The event loop is there (loop thread, after restore too): resubmit
	 * what a restore left pending.  May be NULL. */
	void (*start)(struct virtio_dev *vd);
	/* The device is being reset: forget in-flight work (completions that
	 * come later see a new vd->gen and are dropped). */
	void (*reset)(struct virtio_dev *vd);
	/* Requests of an older generation (or, once quiesced, any request)
	 * still in the kernel: they may yet touch guest memory.  Each, when
	 * its completion frees it, calls virtio_dev_drained.  May be NULL
	 * (a device with nothing in the kernel). */
	unsigned (*draining)(struct virtio_dev *vd);
	/* Loop thread: submits IORING_OP_ASYNC_CANCEL for each request
	 * draining() counts, by its user_data.  A cancel may come too late
	 * (the I/O is running); the completion still comes, and is dropped. */
	void (*cancel)(struct virtio_dev *vd);
	/* Device-specific state after the transport's. */
	int (*save)(struct virtio_dev *vd, struct sbuf *sb);
	int (*restore)(struct virtio_dev *vd, struct sbuf *sb);
	/* Frees the device, vd included (after virtio_dev_fini). */
	void (*destroy)(struct virtio_dev *vd);
};

/* Counters for metrics (monitor/metrics.c): only ever incremented, with
 * the device lock held; the metrics flush reads them under it.  RX is
 * toward the guest (a drive's reads, frames or packets received, entropy
 * given), TX from it (a drive's writes, frames or packets sent); bytes are
 * data bytes (no virtio-net or vsock header). */
enum { VSTAT_RX_OPS, VSTAT_RX_BYTES, VSTAT_TX_OPS, VSTAT_TX_BYTES, VSTAT_FLUSHES,
       VSTAT_RX_FAILS, VSTAT_TX_FAILS, VSTAT_INVALID, VSTAT__N };
struct virtio_stats {
	uint64_t c[VSTAT__N];
	uint64_t kicks[VIRTIO_MAX_QUEUES];	/* queue notifications served */
	/* the device's rate limiters, whose `throttled` is reported: [0] the
	 * RX side (or the only one), [1] the TX side; NULL: none */
	const struct ratelimit *rl[2];
};

struct virtio_queue {
	struct vq vq;
	struct virtio_dev *vd;
	unsigned index;
	int efd;		/* kick eventfd (KVM ioeventfd when possible) */
	bool ioeventfd;		/* registered with KVM */
	struct loop_op kick_op;
	bool rerun;		/* a next pass is posted on host->loop (rerun_op) */
	struct loop_op rerun_op;
};

struct virtio_dev {
	struct device dev;	/* dev.ops = the virtio device_ops */
	struct dev_host *host;	/* = dev.host */
	const struct virtio_dev_ops *ops;
	pthread_mutex_t lock;
	unsigned n;		/* window index: base and GSI follow from it */
	uint64_t base;
	unsigned gsi;
	uint64_t host_features;	/* offered (transport bits included) */
	uint64_t guest_features;	/* accepted by the driver */
	uint32_t status;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t isr;		/* InterruptStatus */
	uint32_t cfg_gen;	/* ConfigGeneration */
	uint32_t gen;		/* bumped on every reset */
	/* reset drain (virtio/drain.c): requests of an older generation may
	 * still write guest buffers the driver owns again after a reset */
	pthread_cond_t drained;	/* broadcast when such a request is freed */
	bool cancel_wanted;	/* the loop is to run ops->cancel (next kick) */
	bool quiesced;		/* teardown: nothing new starts */
	uint32_t reset_status;	/* STATUS reads this while draining (not 0) */
	unsigned failures;	/* protocol violations seen (warned once) */
	struct virtio_queue q[VIRTIO_MAX_QUEUES];
	struct virtio_stats stats;	/* metrics */
	char name[24];
};

/* Metrics: one request (frame, packet) of `bytes` data bytes done in
 * direction tx (false: RX).  Lock held. */
static inline void virtio_stat_io(struct virtio_dev *vd, bool tx, uint64_t bytes)
{
	vd->stats.c[tx ? VSTAT_TX_OPS : VSTAT_RX_OPS]++;
	vd->stats.c[tx ? VSTAT_TX_BYTES : VSTAT_RX_BYTES] += bytes;
}
/* Metrics: counter `which` (VSTAT_*) plus one.  Lock held. */
static inline void virtio_stat_inc(struct virtio_dev *vd, unsigned which)
{
	vd->stats.c[which]++;
}

/* Initialises vd (lock, queues, eventfds, ioeventfds when h->vm_fd >= 0)
 * and registers window n (VIRTIO_MMIO_BASE + n * 4 KiB, GSI
 * VIRTIO_IRQ_BASE + n) on h->mmio.  Kick polls are armed by virtio_start.
 * features = the device-specific bits; the transport adds VERSION_1,
 * INDIRECT_DESC and EVENT_IDX.  Does not add the device to the VM (the
 * caller does that last with host_add_device(&vd->dev), which cannot then
 * fail: the VM's device table has been checked).  0 or -errno. */
int virtio_dev_init(struct virtio_dev *vd, struct dev_host *h, unsigned n,
		    const struct virtio_dev_ops *ops, uint64_t features,
		    const char *name, struct errbuf *err);
/* Undoes virtio_dev_init (ioeventfds, eventfds, lock). */
void virtio_dev_fini(struct virtio_dev *vd);
/* Removes the KVM ioeventfds of vd's queues: a QueueNotify write then
 * exits to the vCPU's thread and goes through the transport (a session
 * with no event loop, e.g. the fuzz loop, serves it there).  0 or -errno. */
int virtio_dev_trap_kicks(struct virtio_dev *vd);
/* Handles a kick of queue q as the loop would (takes the lock). */
void virtio_dev_kick(struct virtio_dev *vd, unsigned q);
/* vq_pop on queue q; a violation fails the device (virtio_dev_fail).
 * Same results as vq_pop.  Lock held. */
int virtio_dev_pop(struct virtio_dev *vd, unsigned q, struct vq_req *r);
/* After pushes on queue q: interrupt if vq_should_notify.  Lock held. */
void virtio_dev_notify_used(struct virtio_dev *vd, unsigned q);
/* The driver broke the protocol: status |= NEEDS_RESET, config-change
 * interrupt if DRIVER_OK.  The first violation in the device's life is
 * logged as a warning naming the device and why, later ones at debug level
 * (a guest cannot flood the log).  Lock held. */
/* The device's configuration space changed (a drive's capacity): a new
 * ConfigGeneration, and the configuration change interrupt once the
 * driver is up.  Lock held. */
void virtio_dev_config_changed(struct virtio_dev *vd);
void virtio_dev_fail(struct virtio_dev *vd, const char *why, int err);
/* The queue's processing prologue: true if q may be worked on now (driver
 * OK, queue ready, not broken, device not NEEDS_RESET).  Lock held. */
bool virtio_dev_queue_live(struct virtio_dev *vd, unsigned q);

/* A pass: a device's loop over the avail ring of one queue, with a budget.
 * A chain that completes at once (a bad request, GET_ID, a dropped frame)
 * frees its slot at once, so a guest that keeps publishing such chains
 * would never let a plain "while the ring is not empty" loop end, and the
 * event loop (signals, console, every other device) would starve.  A pass
 * takes at most VIRTIO_BUDGET chains; if more are left it posts the next
 * pass on the loop (loop_post: ops->notify(vd, q) on the next turn, with a
 * new budget) and ends.  64: a quarter of the queue sizes ember offers
 * (256), so one pass never covers a whole ring, and twice the depth the
 * benchmarks keep in flight (32); a driver that publishes more at once
 * gets the rest one loop turn later, which costs a NOP.  With no event
 * loop (the fuzz session serves drives on the vCPU thread, the guest
 * stopped) there is nothing to yield to: no budget.  Loop thread (or no
 * loop), lock held. */
#define VIRTIO_BUDGET 64
struct virtio_pass {
	struct virtio_dev *vd;
	unsigned q;
	unsigned left;		/* chains it may still take */
};
/* Starts a pass over queue q with a full budget. */
void virtio_pass_begin(struct virtio_pass *p, struct virtio_dev *vd, unsigned q);
/* virtio_dev_pop within the budget: 0 also once the budget is spent. */
int virtio_pass_pop(struct virtio_pass *p, struct vq_req *r);
/* After virtio_pass_pop returned 0: asks for kicks again (vq_set_notify)
 * and returns true if chains came meanwhile and the budget allows more
 * (pop again).  False: the ring is empty (a kick will come), or the budget
 * is spent, and then the next pass is posted on the loop. */
bool virtio_pass_more(struct virtio_pass *p);
/* ---- reset drain (virtio/drain.c; the register side in mmio.c) -------- */
/* Requests still in the kernel that a reset or teardown made stale
 * (ops->draining; 0 without it).  Lock held. */
unsigned virtio_dev_draining(struct virtio_dev *vd);
/* A device freed a stale request: wakes whoever waits for the drain.
 * Lock held. */
void virtio_dev_drained(struct virtio_dev *vd);
/* After a reset or QueueReady=0 (gen bumped), on the thread that wrote
 * the register, lock held: waits until nothing stale is in the kernel, as
 * QEMU drains on reset, so that once the write returns no old I/O lands
 * in guest memory.  It does not wait with no loop running, on the loop
 * thread (completions are dispatched there), when the VM is stopping or
 * a pause is requested (the loop would wait for this vCPU), nor past
 * VIRTIO_DRAIN_MS (a warning): STATUS then reads non-zero until the
 * drain ends, and a driver that waits for 0, as the spec asks, waits. */
#define VIRTIO_DRAIN_MS 10000
void virtio_drain_wait(struct virtio_dev *vd);
/* Teardown, loop thread, after the vCPUs are joined and before the ring
 * is closed (guest RAM is unmapped later): marks every virtio device
 * quiesced (no new request starts), makes all its requests stale,
 * cancels them, and dispatches the loop's completions until none is in
 * the kernel (at most timeout_ms; an error is logged if some remain).
 * 0 or -ETIMEDOUT. */
int virtio_quiesce(struct dev_host *h, unsigned timeout_ms);
/* The stale requests of every virtio device of h's VM. */
unsigned virtio_vm_draining(struct dev_host *h);
/* Queues an IORING_OP_ASYNC_CANCEL of the request whose user_data is op
 * (loop thread; the cancel's own completion is ignored). */
void virtio_cancel_op(struct virtio_dev *vd, struct loop_op *op);

/* MMIO register access (exported for tests; the bus calls these). */
void virtio_mmio_read(void *opaque, uint64_t off, void *data, unsigned size);
void virtio_mmio_write(void *opaque, uint64_t off, const void *data,
		       unsigned size);
/* The struct device_ops every virtio device uses. */
extern const struct device_ops virtio_device_ops;

/* Called once by the loop thread when h->loop exists (before loop_run):
 * arms every virtio device's kick polls, calls ops->start, and posts a
 * pass for every live queue with chains available (after a restore: a
 * pass posted at snapshot time, or a kick not yet read, is not in the
 * snapshot, and the guest may not kick again). */
void virtio_start(struct dev_host *h);
/* The virtio device behind d, or NULL if d is not one. */
struct virtio_dev *virtio_dev_of(struct device *d);

/* Creates one device per cfg->drives[], then nets[], then rng (if
 * set), numbering the MMIO windows from 0, and adds each to the VM.
 * 0 or -errno with a message naming the device. */
int virtio_create_devices(struct dev_host *h, const struct vm_config *cfg,
			  struct errbuf *err);
/* Writes " virtio_mmio.device=4K@0x<base>:<gsi>" for each virtio device of
 * the VM into buf (NUL-terminated).  Returns the length, or -ENOSPC. */
int virtio_cmdline(struct dev_host *h, char *buf, size_t len);

/* ---- devices (virtio/blk.c, virtio/net.c, virtio/rng.c) --------------- */
/* Each creates window n for its config, adds the device to the VM and
 * returns it in *out (may be NULL).  0 or -errno with a message. */
int blk_create(struct dev_host *h, unsigned n, const struct drive_cfg *cfg,
	       struct virtio_dev **out, struct errbuf *err);
int net_create(struct dev_host *h, unsigned n, const struct net_cfg *cfg,
	       struct virtio_dev **out, struct errbuf *err);
int rng_create(struct dev_host *h, unsigned n, const struct ratelimit_cfg *rl,
	       struct virtio_dev **out,
	       struct errbuf *err);
/* PATCH /network-interfaces/{id} of a running VM, on the loop thread: the
 * interface on TAP tap takes the limits rx and/or tx (NULL: unchanged),
 * with full buckets; a frame held under the old limits is looked at again
 * at once.  0, or -ENODEV with a message. */
int net_update(struct dev_host *h, const char *tap, const struct ratelimit_cfg *rx,
	       const struct ratelimit_cfg *tx, struct errbuf *err);
/* virtio-vsock (virtio/vsock/): also binds and listens on cfg->uds (the
 * file must not exist; it is removed when the device is destroyed). */
int vsock_create(struct dev_host *h, unsigned n, const struct vsock_cfg *cfg,
		 struct virtio_dev **out, struct errbuf *err);

/* ---- fuzzing: drives over a throw-away overlay (virtio/overlay.c) ------ */
/* A copy-on-write layer over a drive image: writes land in an anonymous
 * sparse mapping the drive's size (4 KiB blocks, a bitmap of the blocks it
 * holds), reads see them, the image is only ever read (pread), a reset
 * drops every write.  Synchronous; single-threaded (the caller holds the
 * device lock). */
#define OV_BLOCK 4096u
struct overlay {
	int base_fd;		/* the image: only read */
	uint64_t size;		/* bytes the drive exposes */
	uint64_t nblocks;
	uint8_t *data;		/* nblocks * OV_BLOCK bytes, untouched until written */
	uint64_t *present;	/* bit b: block b is in data[] */
	uint64_t lo, hi;	/* blocks changed since the last reset: [lo, hi) */
	bool direct;		/* base_fd is O_DIRECT: read through bounce */
	uint8_t *bounce;	/* one aligned block (direct only) */
};
/* Sets o up over base_fd (size bytes exposed).  0 or -errno. */
int ov_init(struct overlay *o, int base_fd, uint64_t size);
/* Frees the overlay (not base_fd). */
void ov_free(struct overlay *o);
/* Reads [off, off + len) of the drive into the iovecs (which must hold at
 * least len bytes): the overlay's blocks where it holds them, the image
 * elsewhere (zeros past its end).  0, -EINVAL (range outside the drive,
 * iovecs too short) or a pread error. */
int ov_read(struct overlay *o, const struct iovec *iov, unsigned n, uint64_t off,
	    uint64_t len);
/* Writes len bytes from the iovecs at off into the overlay (a block
 * covered in part is first copied in from the image).  0 or -errno as
 * ov_read. */
int ov_write(struct overlay *o, const struct iovec *iov, unsigned n, uint64_t off,
	     uint64_t len);
/* [off, off + len) reads as zero from now on (discard, write-zeroes).
 * 0 or -errno as ov_read. */
int ov_zero(struct overlay *o, uint64_t off, uint64_t len);
/* Drops every change since the last reset: the drive reads as the image. */
void ov_reset(struct overlay *o);

/* Fuzzing (snapshot/fuzz.c) on a VM restored without an event loop: from
 * now on each virtio-blk device of h's VM serves its requests synchronously on
 * the thread that handles the guest's MMIO exit (blk_overlay_poll), over
 * an overlay, so the image file is never written.  Its kick ioeventfds
 * are deassigned (QueueNotify then traps).  Call before the sandbox.
 * Returns the number of such devices, or -errno with a message. */
int blk_overlay_start(struct dev_host *h, struct errbuf *err);
/* PATCH /drives/{id} of a running VM, on the loop thread: with fd >= 0
 * the drive's file becomes fd's (of size bytes; fd is taken over and put
 * at the old descriptor's number, so requests already queued go to the
 * new file and those in the kernel finish on the old one) and the guest
 * is told of the new capacity (a configuration change interrupt); with
 * rl, the limiter takes its limits.  0, or -errno with a message (no such
 * drive, a fuzzing overlay). */
int blk_update(struct dev_host *h, const char *id, int fd, uint64_t size,
			   const struct ratelimit_cfg *rl, struct errbuf *err);
/* Serves the overlay drives whose MMIO window holds gpa (UINT64_MAX: all):
 * requests a restore left in flight, then the available ones.  Call after
 * the guest's MMIO write exit is handled, and before a run. */
void blk_overlay_poll(struct dev_host *h, uint64_t gpa);
/* Drops every overlay drive's writes (ov_reset).  Nothing is in flight:
 * the requests completed while the exit was handled. */
void blk_overlay_reset(struct dev_host *h);
