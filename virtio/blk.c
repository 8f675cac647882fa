/* virtio/blk.c - virtio-blk on a raw image, I/O through the event loop's
 * io_uring.  Many requests are in flight at once (one per free request
 * slot); each is bounded (sectors within the image, status byte writable
 * and last) and its status byte and used element are written only when its
 * I/O has completed.  FLUSH is fdatasync, so a write the guest flushed is
 * on disk before it sees the flush complete.  In-flight requests are saved
 * by head and resubmitted on restore (re-running them is harmless).
 *
 * In a fuzz session (blk_overlay_start) there is no event loop: requests
 * are served at once on the thread that handles the guest's MMIO exit,
 * against an overlay (virtio/overlay.c) that takes every write, so the
 * image is never changed and a reset drops what a run wrote. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "snapshot/sbuf.h"
#include "virtio/blk.h"

static void req_done(struct blk *b, struct blk_req *r, uint8_t status);

/* Serves r at once over the overlay (fuzzing).  Lock held. */
static void submit_overlay(struct blk *b, struct blk_req *r)
{
	int res = 0;

	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		res = ov_read(b->ov, r->data, r->ndata, r->off, r->len);
		break;
	case VIRTIO_BLK_T_OUT:
		res = ov_write(b->ov, r->data, r->ndata, r->off, r->len);
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;	/* nothing reaches the image */
	default:	/* DISCARD, WRITE_ZEROES: both read as zero after */
		res = ov_zero(b->ov, r->off, r->len);
		break;
	}
	if (res < 0)
		log_debug("%s: request type %u at %llu: %s", b->vd.name, r->type,
			  (unsigned long long)r->off, strerror(-res));
	req_done(b, r, res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

static void req_free(struct blk *b, struct blk_req *r)
{
	r->busy = false;
	r->next_free = b->free;
	b->free = r;
	b->inflight--;
}

static struct blk_req *req_alloc(struct blk *b)
{
	struct blk_req *r = b->free;

	if (!r)
		return NULL;
	b->free = r->next_free;
	r->busy = true;
	b->inflight++;
	r->gen = b->vd.gen;
	r->vqr = (struct vq_req){ .rd = r->rd, .wr = r->wr, .rd_cap = BLK_IOV,
				  .wr_cap = BLK_IOV };
	return r;
}

/* Metrics: what r did.  Lock held. */
static void blk_stat(struct virtio_dev *vd, const struct blk_req *r, uint8_t status)
{
	if (status == VIRTIO_BLK_S_UNSUPP)
		virtio_stat_inc(vd, VSTAT_INVALID);
	else if (status != VIRTIO_BLK_S_OK)
		virtio_stat_inc(vd, r->type == VIRTIO_BLK_T_IN ? VSTAT_RX_FAILS : VSTAT_TX_FAILS);
	else if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT)
		virtio_stat_io(vd, r->type == VIRTIO_BLK_T_OUT, r->len);
	else if (r->type == VIRTIO_BLK_T_FLUSH)
		virtio_stat_inc(vd, VSTAT_FLUSHES);
}

/* Finishes a request: status byte, used element, interrupt. */
static void req_done(struct blk *b, struct blk_req *r, uint8_t status)
{
	blk_stat(&b->vd, r, status);
	*r->status = status;
	vq_push(&b->vd.q[0].vq, r->head, status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	req_free(b, r);
	if (b->ov || !b->vd.host->loop)
		virtio_dev_notify_used(&b->vd, 0);
	else
		b->unsignalled++;	/* blk_settle decides */
}

/* Drops the first n bytes of an iovec array in place. */
static void iov_skip(struct iovec **iov, unsigned *n, size_t bytes)
{
	while (*n && bytes >= (*iov)->iov_len) {
		bytes -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n && bytes) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + bytes;
		(*iov)->iov_len -= bytes;
	}
}

static void submit(struct blk *b, struct blk_req *r)
{
	struct io_uring_sqe *sqe;

	if (b->ov) {
		submit_overlay(b, r);
		return;
	}
	sqe = loop_sqe(b->vd.host->loop, &r->op);
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
		io_uring_prep_readv(sqe, b->fd, r->data, r->ndata, r->off + r->done);
		break;
	case VIRTIO_BLK_T_OUT:
		io_uring_prep_writev(sqe, b->fd, r->data, r->ndata, r->off + r->done);
		break;
	case VIRTIO_BLK_T_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	default:	/* DISCARD, WRITE_ZEROES */
		io_uring_prep_fallocate(sqe, b->fd, r->falloc_mode, r->off, r->len);
		break;
	}
	io_uring_sqe_set_data(sqe, &r->op);
}

static void on_complete(struct loop_op *op, int res, uint32_t flags)
{
	struct blk_req *r = container_of(op, struct blk_req, op);
	struct blk *b = r->b;
	uint8_t st = res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;

	(void)flags;
	pthread_mutex_lock(&b->vd.lock);
	if (r->gen != b->vd.gen) {	/* the device was reset meanwhile */
		/* a read the cancel came too late for wrote guest memory: a
		 * diff snapshot must see it */
		if (r->type == VIRTIO_BLK_T_IN && res > 0)
			for (unsigned i = 0, left = (unsigned)res; i < r->ndata && left; i++) {
				size_t k = r->data[i].iov_len < left ? r->data[i].iov_len : left;

				gmem_mark(b->vd.host->mem, r->data[i].iov_base, k);
				left -= (unsigned)k;
			}
		req_free(b, r);
		virtio_dev_drained(&b->vd);
		goto out;
	}
	if ((r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) && res >= 0) {
		r->done += (uint64_t)res;
		if (res > 0 && r->done < r->len) {	/* short: go on */
			iov_skip(&r->data, &r->ndata, (size_t)res);
			submit(b, r);
			goto out;
		}
		if (r->done < r->len)
			st = VIRTIO_BLK_S_IOERR;
	} else if (res == -EOPNOTSUPP && r->type == VIRTIO_BLK_T_DISCARD) {
		st = VIRTIO_BLK_S_OK;	/* discard is a hint */
	} else if (res == -EOPNOTSUPP && r->falloc_mode & FALLOC_FL_ZERO_RANGE) {
		r->falloc_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		submit(b, r);
		goto out;
	}
	if (st != VIRTIO_BLK_S_OK)
		log_debug("%s: request type %u at %llu: %s", b->vd.name, r->type,
			  (unsigned long long)r->off, res < 0 ? strerror(-res) : "short");
	req_done(b, r, st);
	blk_process(b);
out:
	blk_settle(b);
	pthread_mutex_unlock(&b->vd.lock);
}

/* True if [sector, sector + bytes/512) lies in the image. */
static bool in_image(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % SECTOR == 0 && sector <= b->sectors &&
	       bytes / SECTOR <= b->sectors - sector;
}

/* Parses one discard/write-zeroes segment.  A status, or 0xff when the
 * fallocate was set up. */
static uint8_t setup_falloc(struct blk *b, struct blk_req *r)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint32_t unmap;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (r->len != sizeof(seg))	/* max_*_seg is 1 */
		return VIRTIO_BLK_S_UNSUPP;
	vq_iov_read(r->data, r->ndata, 0, &seg, sizeof(seg));
	unmap = seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	if ((seg.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
	    (r->type == VIRTIO_BLK_T_DISCARD && unmap) ||
	    seg.num_sectors > BLK_DISCARD_MAX)
		return VIRTIO_BLK_S_UNSUPP;
	if (!in_image(b, seg.sector, (uint64_t)seg.num_sectors * SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (seg.num_sectors == 0)
		return VIRTIO_BLK_S_OK;
	r->off = seg.sector * SECTOR;
	r->len = (uint64_t)seg.num_sectors * SECTOR;
	r->falloc_mode = FALLOC_FL_KEEP_SIZE |
		(r->type == VIRTIO_BLK_T_DISCARD || unmap ? FALLOC_FL_PUNCH_HOLE
							  : FALLOC_FL_ZERO_RANGE);
	return 0xff;
}

/* The bytes a request costs the bandwidth bucket: data read or written. */
static uint64_t req_bytes(const struct blk_req *r, uint8_t st)
{
	return st == 0xff && (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) ?
		r->len : 0;
}

/* Submits r (st 0xff) or finishes it with st, unless the rate limiter
 * holds it: then it joins the held list and the limiter's timer comes
 * back for it (blk_rl_resume).  Lock held. */
static void blk_go(struct blk *b, struct blk_req *r, uint8_t st)
{
	uint64_t wait = 0;

	if (!b->ov && rl_enabled(&b->rl) &&
	    (b->held || (wait = rl_try(&b->rl, req_bytes(r, st))))) {
		r->held_st = st;
		r->next_free = NULL;
		if (b->held_tail)
			b->held_tail->next_free = r;
		else
			b->held = r;
		b->held_tail = r;
		if (b->held == r)
			rl_arm(&b->rl, b->vd.host->loop, wait);
		return;
	}
	if (st != 0xff)
		req_done(b, r, st);
	else
		submit(b, r);
}

/* The limiter's timer: lets held requests go in order while it allows,
 * then pops more.  Loop thread. */
void blk_rl_resume(struct ratelimit *rl)
{
	struct blk *b = container_of(rl, struct blk, rl);
	struct blk_req *r;
	uint64_t wait;

	pthread_mutex_lock(&b->vd.lock);
	while ((r = b->held)) {
		if ((wait = rl_try(&b->rl, req_bytes(r, r->held_st)))) {
			rl_arm(&b->rl, b->vd.host->loop, wait);
			goto out;
		}
		b->held = r->next_free;
		if (!b->held)
			b->held_tail = NULL;
		if (r->held_st != 0xff)
			req_done(b, r, r->held_st);
		else
			submit(b, r);
	}
	blk_process(b);
out:
	blk_settle(b);
	pthread_mutex_unlock(&b->vd.lock);
}

/* Forgets the held requests (a reset, the end of the VM): the guest's
 * buffers were never touched.  Lock held. */
static void blk_drop_held(struct blk *b)
{
	struct blk_req *r;

	while ((r = b->held)) {
		b->held = r->next_free;
		req_free(b, r);
	}
	b->held_tail = NULL;
}

/* Starts the popped request r.  Lock held. */
static void blk_start(struct blk *b, struct blk_req *r)
{
	struct virtio_blk_outhdr hdr;
	struct vq_req *q = &r->vqr;
	struct iovec *last;
	uint8_t st = 0xff;

	r->head = q->head;
	r->done = 0;
	if (q->rd_len < sizeof(hdr) || q->wr_len < 1) {
		req_free(b, r);
		virtio_dev_fail(&b->vd, "request without header or status byte", 0);
		return;
	}
	vq_iov_read(q->rd, q->nrd, 0, &hdr, sizeof(hdr));
	r->type = (uint8_t)hdr.type;
	last = &q->wr[q->nwr - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	r->used_len = 1;
	/* data-out: readable bytes after the header; data-in: writable bytes
	 * before the status byte */
	if (hdr.type == VIRTIO_BLK_T_IN || hdr.type == VIRTIO_BLK_T_GET_ID) {
		r->data = q->wr;
		r->ndata = q->nwr;
		r->len = q->wr_len - 1;
		if (--last->iov_len == 0)
			r->ndata--;
	} else {
		r->data = q->rd;
		r->ndata = q->nrd;
		r->len = q->rd_len - sizeof(hdr);
		iov_skip(&r->data, &r->ndata, sizeof(hdr));
	}
	r->off = hdr.sector * SECTOR;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (hdr.type == VIRTIO_BLK_T_OUT && b->ro)
			st = VIRTIO_BLK_S_IOERR;
		else if (r->len > (uint64_t)BLK_SEG_MAX * BLK_SIZE_MAX ||
			 !in_image(b, hdr.sector, r->len))
			st = VIRTIO_BLK_S_IOERR;
		else if (r->len == 0)
			st = VIRTIO_BLK_S_OK;
		if (hdr.type == VIRTIO_BLK_T_IN)
			r->used_len = (uint32_t)r->len + 1;
		break;
	case VIRTIO_BLK_T_FLUSH:
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = r->len < sizeof(b->id) ? r->len : sizeof(b->id);

		r->used_len = (uint32_t)vq_iov_write(r->data, r->ndata, 0, b->id, n) + 1;
		st = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st = setup_falloc(b, r);
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	blk_go(b, r, st);
}

/* Starts the available requests there is a slot for, within a pass's
 * budget (the rest on the loop's next turn).  Lock held. */
void blk_process(struct blk *b)
{
	struct virtio_pass p;

	if (!virtio_dev_queue_live(&b->vd, 0) || (!b->vd.host->loop && !b->ov) || b->held)
		return;
	virtio_pass_begin(&p, &b->vd, 0);
	for (;;) {
		struct blk_req *r;

		while ((r = req_alloc(b))) {
			int rc = virtio_pass_pop(&p, &r->vqr);

			if (rc <= 0) {
				req_free(b, r);
				if (rc < 0)
					return;
				break;
			}
			blk_start(b, r);
			if (b->held)
				return;	/* the limiter's timer goes on */
		}
		/* out of slots: a completion calls us again */
		if (!b->free || !virtio_pass_more(&p))
			return;
	}
}

static void blk_notify(struct virtio_dev *vd, unsigned q)
{
	struct blk *b = container_of(vd, struct blk, vd);

	(void)q;
	blk_batch_kicked(b);
	blk_process(b);
	blk_settle(b);
}

/* Resubmits the requests a restore left in flight. */
void blk_start_restored(struct virtio_dev *vd)
{
	struct blk *b = container_of(vd, struct blk, vd);

	for (unsigned i = 0; i < b->npending; i++) {
		struct blk_req *r = req_alloc(b);

		if (!r || vq_get_chain(&vd->q[0].vq, b->pending[i], &r->vqr) < 0) {
			if (r)
				req_free(b, r);
			virtio_dev_fail(vd, "restored request", vd->q[0].vq.err);
			break;
		}
		blk_start(b, r);
	}
	b->npending = 0;
	blk_process(b);
	/* pushes of the snapshot whose interrupt was still to come (a posted
	 * flush is not in a snapshot) */
	virtio_dev_notify_used(vd, 0);
	blk_settle(b);
}

static void blk_reset(struct virtio_dev *vd)
{
	/* in-flight requests are cancelled (blk_cancel) or finish in the
	 * kernel, and are dropped then (on_complete); held ones go now */
	struct blk *b = container_of(vd, struct blk, vd);

	b->npending = 0;
	blk_drop_held(b);
	blk_batch_reset(b);
}

/* A request in the kernel that a reset made stale. */
static bool stale_req(const struct blk *b, const struct blk_req *r)
{
	return r->busy && r->gen != b->vd.gen;
}

static unsigned blk_draining(struct virtio_dev *vd)
{
	struct blk *b = container_of(vd, struct blk, vd);
	unsigned n = 0;

	if (!b->inflight)
		return 0;
	for (unsigned i = 0; i < BLK_QUEUE_MAX; i++)
		n += stale_req(b, &b->reqs[i]);
	return n;
}

static void blk_cancel(struct virtio_dev *vd)
{
	struct blk *b = container_of(vd, struct blk, vd);

	blk_drop_held(b);	/* not in the kernel: nothing to wait for */
	for (unsigned i = 0; i < BLK_QUEUE_MAX && b->inflight; i++)
		if (stale_req(b, &b->reqs[i]))
			virtio_cancel_op(vd, &b->reqs[i].op);
}

/* True for a request of the current generation still in the kernel. */
static bool live_req(const struct blk *b, const struct blk_req *r)
{
	return r->busy && r->gen == b->vd.gen;
}

static int blk_save(struct virtio_dev *vd, struct sbuf *sb)
{
	struct blk *b = container_of(vd, struct blk, vd);
	uint32_t n = b->npending;

	for (unsigned i = 0; i < BLK_QUEUE_MAX; i++)
		n += live_req(b, &b->reqs[i]);
	sbuf_put_u64(sb, b->sectors);
	sbuf_put_u32(sb, n);
	for (unsigned i = 0; i < b->npending; i++)
		sbuf_put_u32(sb, b->pending[i]);
	for (unsigned i = 0; i < BLK_QUEUE_MAX; i++)
		if (live_req(b, &b->reqs[i]))
			sbuf_put_u32(sb, b->reqs[i].head);
	return 0;
}

static int blk_restore(struct virtio_dev *vd, struct sbuf *sb)
{
	struct blk *b = container_of(vd, struct blk, vd);
	uint64_t sectors = sbuf_get_u64(sb);
	uint32_t n = sbuf_get_u32(sb);

	if (sb->err || n > BLK_QUEUE_MAX)
		return -EINVAL;
	if (sectors != b->sectors)
		log_warn("%s: image has %llu sectors, the snapshot %llu", vd->name,
			 (unsigned long long)b->sectors, (unsigned long long)sectors);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h = sbuf_get_u32(sb);

		if (h >= vd->q[0].vq.size && vd->q[0].vq.size)
			return -EINVAL;
		b->pending[i] = (uint16_t)h;
	}
	if (sb->err)
		return -EINVAL;
	b->npending = n;
	return 0;
}

static void blk_cfg_read(struct virtio_dev *vd, uint32_t off, void *data,
			 unsigned size)
{
	struct blk *b = container_of(vd, struct blk, vd);

	memcpy(data, (const uint8_t *)&b->cfg + off, size);
}

static void blk_destroy(struct virtio_dev *vd)
{
	struct blk *b = container_of(vd, struct blk, vd);

	if (b->nbatches || b->nrescues)
		log_debug("%s: %llu batches ended by the guest's kick, %llu by the timer",
			  vd->name, (unsigned long long)b->nbatches,
			  (unsigned long long)b->nrescues);
	if (b->fd >= 0)
		close(b->fd);
	if (b->ov) {
		ov_free(b->ov);
		free(b->ov);
	}
	free(b->reqs);
	free(b);
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.nqueues = 1,
	.queue_max = BLK_QUEUE_MAX,
	.cfg_size = sizeof(struct virtio_blk_config),
	.cfg_read = blk_cfg_read,
	.notify = blk_notify,
	.start = blk_start_restored,
	.reset = blk_reset,
	.draining = blk_draining,
	.cancel = blk_cancel,
	.save = blk_save,
	.restore = blk_restore,
	.destroy = blk_destroy,
};

/* Opens the image and finds its size.  0 or -errno with a message. */
static int blk_open(struct blk *b, const struct drive_cfg *cfg, uint32_t *lbs,
		    struct errbuf *err)
{
	struct stat st;
	uint64_t size;
	int flags = (cfg->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (cfg->direct ? O_DIRECT : 0);
	int lb = 512;

	b->fd = open(cfg->path, flags);
	if (b->fd < 0)
		return err_set(err, errno, "drive '%s': %s%s", cfg->path, strerror(errno),
			       cfg->direct && errno == EINVAL ? " (direct=on not supported here)" : "");
	if (fstat(b->fd, &st) < 0)
		return err_set(err, errno, "drive '%s': %s", cfg->path, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
			return err_set(err, errno, "drive '%s': %s", cfg->path, strerror(errno));
		if (cfg->direct && ioctl(b->fd, BLKSSZGET, &lb) < 0)
			lb = 512;
	} else {
		return err_set(err, EINVAL, "drive '%s': not a file or block device", cfg->path);
	}
	if (size % SECTOR)
		log_warn("drive '%s': size is not a multiple of 512; the tail is unused",
			 cfg->path);
	b->sectors = size / SECTOR;
	*lbs = lb >= 512 && lb <= 65536 && !(lb & (lb - 1)) ? (uint32_t)lb : 512;
	return 0;
}

int blk_create(struct dev_host *h, unsigned n, const struct drive_cfg *cfg,
	       struct virtio_dev **out, struct errbuf *err)
{
	struct blk *b = calloc(1, sizeof(*b));
	uint64_t feat;
	uint32_t lbs = 512;
	char name[24];
	int rc;

	if (!b)
		return err_set(err, ENOMEM, "drive '%s': out of memory", cfg->path);
	b->fd = -1;
	b->reqs = calloc(BLK_QUEUE_MAX, sizeof(*b->reqs));
	if (!b->reqs) {
		rc = err_set(err, ENOMEM, "drive '%s': out of memory", cfg->path);
		goto fail;
	}
	rc = blk_open(b, cfg, &lbs, err);
	if (rc < 0)
		goto fail;
	for (unsigned i = 0; i < BLK_QUEUE_MAX; i++) {
		b->reqs[i].b = b;
		b->reqs[i].op.fn = on_complete;
		b->reqs[i].next_free = b->free;
		b->free = &b->reqs[i];
	}
	b->ro = cfg->ro;
	rl_init(&b->rl, &cfg->rl);
	b->rl.resume = blk_rl_resume;
	blk_batch_init(b);
	if (cfg->id)
		snprintf(name, sizeof(name), "%s", cfg->id);
	else
		snprintf(name, sizeof(name), "vd%c", 'a' + (n % 26));
	memcpy(b->id, name, strnlen(name, sizeof(b->id)));
	b->cfg.capacity = b->sectors;
	b->cfg.size_max = BLK_SIZE_MAX;
	b->cfg.seg_max = BLK_SEG_MAX;
	b->cfg.blk_size = lbs;
	b->cfg.num_queues = 1;
	b->cfg.max_discard_sectors = BLK_DISCARD_MAX;
	b->cfg.max_discard_seg = 1;
	b->cfg.discard_sector_alignment = lbs / 512;
	b->cfg.max_write_zeroes_sectors = BLK_DISCARD_MAX;
	b->cfg.max_write_zeroes_seg = 1;
	b->cfg.write_zeroes_may_unmap = 1;
	feat = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
	       (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH);
	feat |= cfg->ro ? 1ULL << VIRTIO_BLK_F_RO :
	       (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	rc = virtio_dev_init(&b->vd, h, n, &blk_ops, feat, name, err);
	if (rc < 0)
		goto fail;
	b->vd.stats.rl[0] = &b->rl;
	host_add_device(h, &b->vd.dev);
	if (out)
		*out = &b->vd;
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(b->reqs);
	free(b);
	return rc;
}

/* ---- for blk_ctl.c ---- */
struct blk *blk_of(struct device *d)
{
	struct virtio_dev *vd = virtio_dev_of(d);

	return vd && vd->ops == &blk_ops ? container_of(vd, struct blk, vd) : NULL;
}
