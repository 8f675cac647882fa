/* virtio/blk_batch.c - virtio-blk's batching of interrupts and kicks, on
 * the event loop (a fuzz session's synchronous drives do without).
 *
 * Interrupts: a completion does not raise the interrupt itself; the
 * decision (vq_should_notify, so used_event is respected) is taken once
 * nothing of the device is left in the kernel, or on the loop's next turn
 * (a posted NOP) when something is: the completions of one turn, e.g. a
 * batch of page-cache reads, share one interrupt, and no completion waits
 * more than a turn.
 *
 * Kicks: a guest whose requests each wait for the previous completions
 * (Linux's driver under a closed loop, e.g. fio's threads) resubmits
 * about as many requests as one interrupt completed.  With EVENT_IDX,
 * once the device is idle after such a batch of k, avail_event is put
 * k chains ahead (vq_set_notify_after), so the guest kicks once, at the
 * end of its next batch, instead of once a request (every kick an exit,
 * and on a shared CPU a switch to the loop thread).  Every so often the
 * prediction is one larger (a probe), so batches grow up to the guest's
 * queue depth; a probe that fails makes the next one wait twice as long.
 * A guest that adds fewer (its last requests, a thread that ended) and
 * then halts would wait forever for a device that waits for its kick: a
 * timer, armed whenever avail_event is ahead, then looks at the ring (a
 * "rescue"), and kicks are asked for at once again.  Its length follows
 * the time batches take to come (twice their smoothed time, at least
 * BATCH_TIMER_MIN_NS), so it fires only when the prediction was wrong.
 * Nothing else ever waits on it: while requests are in the kernel their
 * completions look at the ring, and a pass that finds the ring empty
 * asks for a kick on the next chain (virtio_pass_more). */
#include "virtio/blk.h"

#define BATCH_TIMER_MIN_NS 50000ull		/* 50 us */
#define BATCH_TIMER_MAX_NS 20000000ull		/* 20 ms */
#define BATCH_NS_START 200000ull		/* before any batch was timed */
#define PROBE_GAP_MAX 4096u

static void timer_submit(struct blk *b, uint64_t ns)
{
	struct io_uring_sqe *sqe = loop_sqe(b->vd.host->loop, &b->timer_op);

	b->timer_armed = true;
	b->timer_ts.tv_sec = (long long)(ns / 1000000000ull);
	b->timer_ts.tv_nsec = (long long)(ns % 1000000000ull);
	io_uring_prep_timeout(sqe, &b->timer_ts, 0, 0);
	io_uring_sqe_set_data(sqe, &b->timer_op);
}

/* The rescue timer, ns from now (one timeout in the kernel at a time: a
 * pending one re-arms for what is left when it fires). */
static void timer_arm(struct blk *b, uint64_t ns)
{
	b->timer_want = true;
	b->timer_deadline = now_ns() + ns;
	if (!b->timer_armed)
		timer_submit(b, ns);
}

static uint64_t timer_ns(const struct blk *b)
{
	uint64_t t = 2 * b->batch_ns;

	return t < BATCH_TIMER_MIN_NS ? BATCH_TIMER_MIN_NS :
	       t > BATCH_TIMER_MAX_NS ? BATCH_TIMER_MAX_NS : t;
}

/* The interrupt decision on the loop's next turn, if one is wanted. */
static void post_flush(struct blk *b)
{
	if (b->unsignalled && !b->flush_posted) {
		b->flush_posted = true;
		loop_post(b->vd.host->loop, &b->flush_op);
	}
}

/* After an interrupt for k completions, with nothing in the kernel: asks
 * for the kick at the end of the guest's next batch.  Lock held. */
static void kick_ahead(struct blk *b, unsigned k)
{
	struct vq *q = &b->vd.q[0].vq;
	unsigned n;

	if (!q->event_idx || b->inflight || b->vd.q[0].rerun || rl_enabled(&b->rl) ||
	    !virtio_dev_queue_live(&b->vd, 0))
		return;
	if (b->probe_in) {
		b->probe_in--;
		b->probing = false;
		n = k;
	} else {
		b->probing = true;
		b->probe_in = b->probe_gap;
		n = k + 1;
	}
	if (n <= 1)
		return;		/* the pass asked for a kick on the next chain */
	if (vq_set_notify_after(q, (uint16_t)(n < q->size ? n : q->size))) {
		/* chains came meanwhile: serve them (a pop asks for kicks on
		 * the next chain again) */
		blk_process(b);
		post_flush(b);	/* (not flush(): a flooding guest would recurse) */
		return;
	}
	b->ahead = true;
	b->flush_ns = now_ns();
	timer_arm(b, timer_ns(b));
}

/* The interrupt decision for what was pushed since the last one. */
static void flush(struct blk *b)
{
	unsigned k = b->unsignalled;

	b->unsignalled = 0;
	virtio_dev_notify_used(&b->vd, 0);
	if (k)
		kick_ahead(b, k);
}

void blk_settle(struct blk *b)
{
	if (!b->unsignalled || !b->vd.host->loop)
		return;
	if (b->inflight)	/* their completions may come this turn */
		post_flush(b);
	else
		flush(b);
}

static void on_flush(struct loop_op *op, int res, uint32_t flags)
{
	struct blk *b = container_of(op, struct blk, flush_op);

	(void)res;
	(void)flags;
	pthread_mutex_lock(&b->vd.lock);
	b->flush_posted = false;
	if (b->unsignalled)
		flush(b);
	pthread_mutex_unlock(&b->vd.lock);
}

void blk_batch_kicked(struct blk *b)
{
	uint64_t d;

	if (!b->ahead)
		return;
	b->ahead = false;
	b->timer_want = false;
	b->nbatches++;
	d = now_ns() - b->flush_ns;
	b->batch_ns = (3 * b->batch_ns + d) / 4;
	if (b->probing)		/* the guest had one more: probe sooner */
		b->probe_gap /= 2;
}

static void on_timer(struct loop_op *op, int res, uint32_t flags)
{
	struct blk *b = container_of(op, struct blk, timer_op);
	uint64_t now;

	(void)res;
	(void)flags;
	pthread_mutex_lock(&b->vd.lock);
	b->timer_armed = false;
	if (!b->timer_want)
		goto out;
	now = now_ns();
	if (now < b->timer_deadline) {	/* re-armed meanwhile */
		timer_submit(b, b->timer_deadline - now);
		goto out;
	}
	b->timer_want = false;
	if (!b->ahead)
		goto out;
	/* the guest added fewer than predicted, or is slower than batches
	 * were: probe less often, wait a little longer next time */
	b->ahead = false;
	b->nrescues++;
	b->probe_gap = b->probe_gap ? 2 * b->probe_gap : 1;
	if (b->probe_gap > PROBE_GAP_MAX)
		b->probe_gap = PROBE_GAP_MAX;
	b->probe_in = b->probe_gap;
	b->batch_ns += b->batch_ns / 2;
	blk_process(b);		/* its pass ends asking for a kick at once */
	blk_settle(b);
out:
	pthread_mutex_unlock(&b->vd.lock);
}

void blk_batch_init(struct blk *b)
{
	b->flush_op.fn = on_flush;
	b->timer_op.fn = on_timer;
	blk_batch_reset(b);
}

void blk_batch_reset(struct blk *b)
{
	b->unsignalled = 0;
	b->ahead = b->probing = false;
	b->timer_want = false;
	b->probe_in = b->probe_gap = 0;
	b->batch_ns = BATCH_NS_START;
}
