/* virtio/poll.c - adaptive polling of one queue's avail ring with kicks
 * off (struct vq_poll in virtio.h).  A driver that adds requests while
 * the device serves others (a guest with many I/O threads) then needs no
 * kick, and one pass takes all that came in a window: fewer exits, one
 * interrupt for more requests.  Polling ends with a window that brought
 * nothing; the next kick sizes the next window from how soon it came
 * after the device went idle (as QEMU sizes its adaptive polling).  A
 * timer on the event loop rather than a spin: where the guest's vCPU and
 * the loop share a CPU, a spin would take it from the guest that is to add
 * the requests. */
#include "virtio/virtio.h"

void vq_poll_init(struct vq_poll *p, loop_fn fired)
{
	*p = (struct vq_poll){ .op.fn = fired };
}

bool vq_poll_wait(struct vq_poll *p, struct loop *l, struct vq *q)
{
	struct io_uring_sqe *sqe;

	if (p->armed)
		return true;		/* the timer looks again */
	if (!l || !p->ns || (p->on && !p->found)) {
		p->on = false;
		return false;
	}
	if (!p->on) {
		vq_set_notify(q, false);
		p->on = true;
	}
	p->found = 0;
	p->armed = true;
	p->ts.tv_sec = 0;
	p->ts.tv_nsec = p->ns;
	sqe = loop_sqe(l, &p->op);
	io_uring_prep_timeout(sqe, &p->ts, 0, 0);
	io_uring_sqe_set_data(sqe, &p->op);
	return true;
}

void vq_poll_idle(struct vq_poll *p, bool ring_empty)
{
	p->on = false;
	if (ring_empty)
		p->idle_ns = now_ns();
}

void vq_poll_kick(struct vq_poll *p)
{
	/* a kick soon after the device went idle: a longer window would
	 * have spared it; a kick long after: polling would have been wasted */
	if (p->idle_ns && !p->on) {
		uint64_t gap = now_ns() - p->idle_ns;

		if (gap <= VQ_POLL_MAX_NS && gap > p->ns)
			p->ns = !p->ns ? VQ_POLL_MIN_NS :
				p->ns * 2 <= VQ_POLL_MAX_NS ? p->ns * 2 : VQ_POLL_MAX_NS;
		else if (gap > VQ_POLL_MAX_NS)
			p->ns = p->ns / 2 >= VQ_POLL_MIN_NS ? p->ns / 2 : 0;
	}
	p->idle_ns = 0;
}

void vq_poll_restart(struct vq_poll *p, struct vq *q, bool live)
{
	p->on = p->armed = false;
	if (live)
		vq_set_notify(q, true);
}
