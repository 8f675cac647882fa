/* virtio/rng.c - virtio-rng (entropy device): each buffer the driver
 * offers is filled from getrandom(2) and given back. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "virtio/virtio.h"

#define RNG_QUEUE_MAX 256
#define RNG_SEGS 16
#define RNG_REQ_MAX (64 * 1024)	/* bytes given per request, at most */

struct rng {
	struct virtio_dev vd;
	struct iovec rd[RNG_SEGS], wr[RNG_SEGS];
	struct ratelimit rl;	/* --rng-rate: bytes given, requests */
};

/* Fills up to max bytes of the iovecs; returns the bytes filled. */
static uint32_t fill(const struct iovec *iov, unsigned n, size_t max)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < max; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t want = iov[i].iov_len, got = 0;

		if (want > max - done)
			want = max - done;
		while (got < want) {
			ssize_t k = getrandom(p + got, want - got, 0);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return (uint32_t)(done + got);
			got += (size_t)k;
		}
		done += got;
	}
	return (uint32_t)done;
}

static void rng_notify(struct virtio_dev *vd, unsigned qi)
{
	struct rng *r = container_of(vd, struct rng, vd);
	struct vq_req req = { .rd = r->rd, .wr = r->wr, .rd_cap = RNG_SEGS,
			      .wr_cap = RNG_SEGS };
	struct vq *q = &vd->q[qi].vq;
	struct virtio_pass p;

	virtio_pass_begin(&p, vd, qi);
	do {
		for (;;) {
			uint64_t wait = rl_check(&r->rl);
			uint32_t n;

			if (wait) {	/* the timer looks again */
				rl_arm(&r->rl, vd->host->loop, wait);
				goto out;
			}
			if (virtio_pass_pop(&p, &req) <= 0)
				break;
			n = fill(req.wr, req.nwr, RNG_REQ_MAX);
			rl_charge(&r->rl, n);
			virtio_stat_io(vd, false, n);
			if (n < req.wr_len && n < RNG_REQ_MAX)	/* getrandom failed */
				virtio_stat_inc(vd, VSTAT_RX_FAILS);
			vq_push(q, req.head, n);
		}
	} while (virtio_pass_more(&p));
out:
	virtio_dev_notify_used(vd, qi);
}

/* The limiter's timer (loop thread): serve what waits. */
static void rng_rl_resume(struct ratelimit *rl)
{
	struct rng *r = container_of(rl, struct rng, rl);

	pthread_mutex_lock(&r->vd.lock);
	if (virtio_dev_queue_live(&r->vd, 0))
		rng_notify(&r->vd, 0);
	pthread_mutex_unlock(&r->vd.lock);
}

static void rng_destroy(struct virtio_dev *vd)
{
	free(container_of(vd, struct rng, vd));
}

static const struct virtio_dev_ops rng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.nqueues = 1,
	.queue_max = RNG_QUEUE_MAX,
	.notify = rng_notify,
	.destroy = rng_destroy,
};

int rng_create(struct dev_host *h, unsigned n, const struct ratelimit_cfg *rl,
	       struct virtio_dev **out, struct errbuf *err)
{
	struct rng *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return err_set(err, ENOMEM, "virtio-rng: out of memory");
	rl_init(&r->rl, rl);
	r->rl.resume = rng_rl_resume;
	rc = virtio_dev_init(&r->vd, h, n, &rng_ops, 0, "rng", err);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->vd.stats.rl[0] = &r->rl;
	host_add_device(h, &r->vd.dev);
	if (out)
		*out = &r->vd;
	return 0;
}
