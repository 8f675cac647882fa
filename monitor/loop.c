/* monitor/loop.c - the event loop: one io_uring, completions dispatched to
 * the loop_op embedded in whatever started the operation. */
#include <errno.h>
#include <string.h>

#include "monitor/monitor.h"
#include "seccomp/seccomp.h"

int loop_init(struct loop *l, unsigned entries)
{
	struct io_uring_params p;
	int r;

	memset(l, 0, sizeof(*l));
	memset(&p, 0, sizeof(p));
	/* one submitter thread: let the kernel skip cross-thread work */
	p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
	/* created disabled: only the opcodes ember uses are allowed before it
	 * starts (io_uring operations do not pass through seccomp) */
	p.flags |= sc_uring_setup_flags();
	r = io_uring_queue_init_params(entries, &l->ring, &p);
	if (r == -EINVAL) {	/* older kernels: plain ring */
		memset(&p, 0, sizeof(p));
		p.flags = sc_uring_setup_flags();
		r = io_uring_queue_init_params(entries, &l->ring, &p);
	}
	if (r)
		return r;
	r = sc_uring_restrict(&l->ring);
	if (r)
		io_uring_queue_exit(&l->ring);
	return r;
}

void loop_destroy(struct loop *l)
{
	if (l->ring.ring_fd > 0)
		io_uring_queue_exit(&l->ring);
	memset(l, 0, sizeof(*l));
}

struct io_uring_sqe *loop_sqe(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(&l->ring)))
		io_uring_submit(&l->ring);
	io_uring_sqe_set_data(sqe, op);
	return sqe;
}

void loop_poll(struct loop *l, int fd, unsigned poll_mask, bool multishot,
	       struct loop_op *op)
{
	struct io_uring_sqe *sqe = loop_sqe(l, op);

	if (multishot)
		io_uring_prep_poll_multishot(sqe, fd, poll_mask);
	else
		io_uring_prep_poll_add(sqe, fd, poll_mask);
	io_uring_sqe_set_data(sqe, op);
}

void loop_post(struct loop *l, struct loop_op *op)
{
	struct io_uring_sqe *sqe = loop_sqe(l, op);

	/* a NOP completes as soon as it is submitted, i.e. on the next turn,
	 * in the same batch as whatever else has completed by then */
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, op);
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

unsigned loop_dispatch(struct loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&l->ring, head, cqe) {
		struct loop_op *op = io_uring_cqe_get_data(cqe);

		n++;
		if (op && op->fn)
			op->fn(op, cqe->res, cqe->flags);
	}
	io_uring_cq_advance(&l->ring, n);
	return n;
}

int loop_run(struct loop *l)
{
	l->thread = pthread_self();
	atomic_store(&l->running, true);
	while (!l->stop) {
		int r = io_uring_submit_and_wait(&l->ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			atomic_store(&l->running, false);
			return r;
		}
		loop_dispatch(l);
	}
	atomic_store(&l->running, false);
	io_uring_submit(&l->ring);
	return 0;
}

bool loop_runs_elsewhere(struct loop *l)
{
	return l && atomic_load(&l->running) && !pthread_equal(l->thread, pthread_self());
}

int loop_drain(struct loop *l, bool (*done)(void *ctx), void *ctx,
	       unsigned timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000;

	while (!done(ctx)) {
		struct __kernel_timespec ts = { .tv_nsec = 50 * 1000000 };
		struct io_uring_cqe *cqe;

		if (now_ns() >= end)
			return -ETIMEDOUT;
		io_uring_submit(&l->ring);
		/* a slice at a time: done() may turn true without a completion */
		io_uring_wait_cqe_timeout(&l->ring, &cqe, &ts);
		loop_dispatch(l);
	}
	io_uring_submit(&l->ring);
	return 0;
}
