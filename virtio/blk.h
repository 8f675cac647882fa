/* virtio/blk.h - virtio-blk's own header, shared by virtio/blk.c (the
 * device: requests, io_uring, the rate limiter, save/restore) and
 * virtio/blk_ctl.c (what the VM asks of its drives from outside the
 * queues: the fuzzing overlay, PATCH /drives) and virtio/blk_batch.c
 * (interrupt and kick batching).  Nothing else includes it but the unit
 * tests. */
#pragma once
#include <linux/virtio_blk.h>

#include "virtio/virtio.h"

#define BLK_QUEUE_MAX 256
#define BLK_SEG_MAX 126			/* data segments in one request */
#define BLK_IOV (BLK_SEG_MAX + 2)	/* + header + status */
#define BLK_SIZE_MAX (1u << 20)		/* bytes in one segment */
#define BLK_DISCARD_MAX 0x3fffffu	/* sectors in one discard/write-zeroes */
#define SECTOR 512ULL

struct blk;
struct blk_req {
	struct loop_op op;
	struct blk *b;
	struct blk_req *next_free;
	uint32_t gen;		/* device generation it was started in */
	uint16_t head;
	bool busy;
	uint8_t type;
	uint8_t held_st;	/* while held by the rate limiter: blk_start's verdict */
	uint8_t *status;	/* the last writable byte */
	uint32_t used_len;	/* reported on success */
	struct iovec *data;	/* points into rd[] or wr[] */
	unsigned ndata;
	uint64_t off, len, done;	/* byte offset, bytes, bytes done */
	int falloc_mode;
	struct vq_req vqr;
	struct iovec rd[BLK_IOV], wr[BLK_IOV];
};

struct blk {
	struct virtio_dev vd;
	int fd;
	bool ro;
	uint64_t sectors;
	struct virtio_blk_config cfg;
	char id[VIRTIO_BLK_ID_BYTES];
	struct blk_req *reqs, *free;
	unsigned inflight;
	uint16_t pending[BLK_QUEUE_MAX];	/* restored heads to resubmit */
	unsigned npending;
	struct overlay *ov;	/* fuzzing: synchronous, writes go here */
	struct ratelimit rl;	/* bw_size/ops_size of the drive */
	/* requests the limiter holds back, in order (linked by next_free):
	 * nothing more is popped until its timer lets them go */
	struct blk_req *held, *held_tail;
	/* batching (event loop only, see blk.c): one interrupt for the
	 * completions of a loop turn, one kick for the guest's next batch */
	unsigned unsignalled;	/* pushed since the last interrupt decision */
	bool flush_posted;	/* flush_op is on the loop */
	struct loop_op flush_op;
	bool ahead;		/* avail_event is ahead: the batch's kick, or the timer */
	bool probing;		/* this batch was predicted one larger */
	unsigned probe_in;	/* batches until the next probe */
	unsigned probe_gap;	/* probe_in after a probe (doubles when one fails) */
	uint64_t flush_ns;	/* when avail_event was put ahead */
	uint64_t batch_ns;	/* smoothed time from there to the batch's kick */
	bool timer_armed, timer_want;
	uint64_t timer_deadline;
	struct loop_op timer_op;
	struct __kernel_timespec timer_ts;
	uint64_t nbatches, nrescues;	/* kicks that ended a batch; timer rescues */
};

/* virtio/blk.c, for blk_ctl.c */
struct blk *blk_of(struct device *d);	/* NULL: not a virtio-blk device */
void blk_process(struct blk *b);	/* serves the queue (lock held) */
void blk_start_restored(struct virtio_dev *vd);
void blk_rl_resume(struct ratelimit *rl);	/* the limiter's timer (takes the lock) */

/* virtio/blk_batch.c: interrupt and kick batching (event loop only) */
void blk_batch_init(struct blk *b);	/* at creation */
void blk_batch_reset(struct blk *b);	/* device reset, restore */
/* The end of every loop-thread entry into the device, after its pushes:
 * raises the interrupt now, or on the next turn when requests are still
 * in the kernel.  Lock held. */
void blk_settle(struct blk *b);
/* A kick or pass came (blk_notify): the batch predicted has come. */
void blk_batch_kicked(struct blk *b);
