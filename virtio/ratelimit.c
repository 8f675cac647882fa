/* virtio/ratelimit.c - token buckets (Firecracker's and Cloud Hypervisor's
 * rate limiter model): a bucket holds at most `size` tokens and refills
 * completely in `refill_ms`; `one_time_burst` extra tokens are spent first
 * and never come back.  A limiter pairs a bandwidth bucket (bytes) and an
 * operations bucket (requests); a device asks it before each request and,
 * when refused, keeps the request and is called back by a timer on the
 * event loop when enough tokens will be there.  Nothing polls.
 *
 * A request larger than the bucket is let through when the bucket is full
 * and leaves it in debt (the budget goes negative), so the long-run rate
 * stays size / refill_ms whatever the request sizes. */
#include <string.h>
#include <time.h>

#include "virtio/virtio.h"

static uint64_t rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void tb_init(struct tbucket *b, const struct tbucket_cfg *c, uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	if (!c || !c->size || !c->refill_ms)
		return;		/* no limit */
	b->size = c->size;
	b->period_ns = c->refill_ms * 1000000ull;
	b->budget = (int64_t)c->size;
	b->burst = c->one_time_burst;
	b->last_ns = now_ns;
}

/* Adds the tokens that time has made since last_ns (whole tokens only:
 * last_ns moves on by the time they took, so no fraction is lost). */
static void tb_refill(struct tbucket *b, uint64_t now_ns)
{
	unsigned __int128 tokens;
	uint64_t dt;

	if (now_ns <= b->last_ns)
		return;
	dt = now_ns - b->last_ns;
	tokens = (unsigned __int128)dt * b->size / b->period_ns;
	if (b->budget + (__int128)tokens >= (__int128)b->size) {
		b->budget = (int64_t)b->size;
		b->last_ns = now_ns;
		return;
	}
	b->budget += (int64_t)tokens;
	b->last_ns += (uint64_t)(tokens * b->period_ns / b->size);
}

/* What must be there before a request of n tokens may go: n, or a full
 * bucket for a request larger than the bucket. */
static uint64_t tb_need(const struct tbucket *b, uint64_t n)
{
	return n < b->size ? n : b->size;
}

uint64_t tb_wait_ns(struct tbucket *b, uint64_t n, uint64_t now_ns)
{
	__int128 have, missing;

	if (!b->size || !n)
		return 0;
	tb_refill(b, now_ns);
	have = (__int128)b->budget + (__int128)b->burst;
	missing = (__int128)tb_need(b, n) - have;
	if (missing <= 0)
		return 0;
	/* time until `missing` more whole tokens, counted from last_ns */
	{
		unsigned __int128 t = ((unsigned __int128)missing * b->period_ns + b->size - 1) /
				      b->size;
		uint64_t since = now_ns - b->last_ns;

		return t > since ? (uint64_t)(t - since) : 1;
	}
}

void tb_take(struct tbucket *b, uint64_t n)
{
	uint64_t from_burst;

	if (!b->size)
		return;
	from_burst = n < b->burst ? n : b->burst;
	b->burst -= from_burst;
	b->budget -= (int64_t)(n - from_burst);
}

void rl_init(struct ratelimit *rl, const struct ratelimit_cfg *cfg)
{
	uint64_t now = rl_now();

	memset(rl, 0, sizeof(*rl));
	tb_init(&rl->bw, cfg ? &cfg->bw : NULL, now);
	tb_init(&rl->ops, cfg ? &cfg->ops : NULL, now);
}

void rl_update(struct ratelimit *rl, const struct ratelimit_cfg *cfg)
{
	uint64_t now = rl_now();

	/* the buckets start full again; the timer, the resume hook and the
	 * count of throttled requests stay */
	tb_init(&rl->bw, cfg ? &cfg->bw : NULL, now);
	tb_init(&rl->ops, cfg ? &cfg->ops : NULL, now);
}

bool rl_enabled(const struct ratelimit *rl)
{
	return rl->bw.size || rl->ops.size;
}

uint64_t rl_try(struct ratelimit *rl, uint64_t bytes)
{
	uint64_t now, w_bw, w_ops;

	if (!rl_enabled(rl))
		return 0;
	now = rl_now();
	w_bw = tb_wait_ns(&rl->bw, bytes, now);
	w_ops = tb_wait_ns(&rl->ops, 1, now);
	if (w_bw || w_ops) {
		rl->throttled++;
		return w_bw > w_ops ? w_bw : w_ops;
	}
	tb_take(&rl->bw, bytes);
	tb_take(&rl->ops, 1);
	return 0;
}

uint64_t rl_check(struct ratelimit *rl)
{
	uint64_t now, w_bw, w_ops;

	if (!rl_enabled(rl))
		return 0;
	now = rl_now();
	w_bw = tb_wait_ns(&rl->bw, 1, now);
	w_ops = tb_wait_ns(&rl->ops, 1, now);
	if (w_bw || w_ops)
		rl->throttled++;
	return w_bw > w_ops ? w_bw : w_ops;
}

void rl_charge(struct ratelimit *rl, uint64_t bytes)
{
	tb_take(&rl->bw, bytes);
	tb_take(&rl->ops, 1);
}

static void rl_fired(struct loop_op *op, int res, uint32_t flags)
{
	struct ratelimit *rl = container_of(op, struct ratelimit, timer_op);

	(void)res;
	(void)flags;
	rl->armed = false;
	if (rl->resume)
		rl->resume(rl);
}

void rl_arm(struct ratelimit *rl, struct loop *l, uint64_t ns)
{
	struct io_uring_sqe *sqe;

	if (rl->armed || !l)
		return;		/* the armed timer re-checks when it fires */
	rl->armed = true;
	rl->timer_op.fn = rl_fired;
	rl->ts.tv_sec = (long long)(ns / 1000000000ull);
	rl->ts.tv_nsec = (long long)(ns % 1000000000ull);
	sqe = loop_sqe(l, &rl->timer_op);
	io_uring_prep_timeout(sqe, &rl->ts, 0, 0);
	io_uring_sqe_set_data(sqe, &rl->timer_op);
}

void rl_rearm(struct ratelimit *rl, struct loop *l)
{
	struct io_uring_sqe *sqe;

	if (!rl->armed || !l)
		return;
	/* the timer completes with -ECANCELED: rl_fired, then resume.  The
	 * cancel's own completion has no user_data and is ignored. */
	sqe = loop_sqe(l, NULL);
	io_uring_prep_cancel(sqe, &rl->timer_op, 0);
	io_uring_sqe_set_data(sqe, NULL);
}
