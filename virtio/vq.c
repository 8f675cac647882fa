/* virtio/vq.c - the split virtqueue core.  It owns every guest-memory
 * invariant of a ring: the avail index never runs ahead by more than the
 * queue size, every index is < size, every chain is bounded by its table
 * (a loop ends as "too long"), indirect tables only when negotiated, well
 * formed and never nested, every buffer wholly inside guest RAM (gmem_ptr),
 * readable buffers before writable ones, and never more iovecs than the
 * caller gave room for.  The first violation breaks the queue for good
 * (until reset); the device layer turns that into NEEDS_RESET.
 *
 * Every write of the host into guest RAM on a queue's behalf is recorded
 * here for dirty tracking (gmem_mark; nothing when nobody tracks): the
 * used ring's element, index, flags and avail_event, and, when a chain is
 * given back (vq_push), all of its device-writable buffers.  Whole
 * buffers rather than the first `written` bytes: a device may write past
 * what it reports (virtio-blk's status byte ends the chain even when it
 * reports 1 byte), and marking is only ever too generous. */
#include <string.h>

#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "virtio/virtio.h"

/* Ring layout (virtio 1.x, split):
 *   desc:  size * 16 bytes
 *   avail: flags u16, idx u16, ring[size] u16, used_event u16
 *   used:  flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16 */
#define AVAIL_IDX 2
#define AVAIL_RING 4
#define USED_IDX 2
#define USED_RING 4

static inline uint16_t ld16(const uint8_t *p, int order)
{
	return __atomic_load_n((const uint16_t *)(const void *)p, order);
}

static inline void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)(void *)p, v, order);
}

/* The host wrote [p, p + len) of q's guest RAM. */
static inline void mark(const struct vq *q, const void *p, size_t len)
{
	gmem_mark(q->host->mem, p, len);
}

static inline void st32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED);
}

/* Reads one descriptor once.  The guest may change it under us: the asm
 * makes the compiler keep our copy and never re-read guest memory. */
static inline void desc_load(const uint8_t *p, struct vring_desc *d)
{
	memcpy(d, p, sizeof(*d));
	__asm__ volatile("" : "+m"(*d));
}

static inline uint16_t avail_idx(const struct vq *q)
{
	return ld16(q->avail + AVAIL_IDX, __ATOMIC_ACQUIRE);
}

static inline uint8_t *used_event_ptr(const struct vq *q)
{
	return q->avail + AVAIL_RING + 2 * (size_t)q->size;
}

static inline uint8_t *avail_event_ptr(const struct vq *q)
{
	return q->used + USED_RING + 8 * (size_t)q->size;
}

void vq_init(struct vq *q, struct dev_host *h)
{
	memset(q, 0, sizeof(*q));
	q->host = h;
	q->notify_on = true;
}

const char *vq_strerror(int err)
{
	switch (err) {
	case VQ_ERR_AVAIL: return "avail index ran ahead by more than the queue size";
	case VQ_ERR_INDEX: return "descriptor index out of range";
	case VQ_ERR_LOOP: return "descriptor chain too long (loop)";
	case VQ_ERR_ADDR: return "buffer or ring outside guest RAM";
	case VQ_ERR_NOINDIRECT: return "indirect descriptor not negotiated";
	case VQ_ERR_INDIRECT: return "malformed indirect descriptor";
	case VQ_ERR_NESTED: return "indirect descriptor inside an indirect table";
	case VQ_ERR_CAPACITY: return "too many buffers in one chain";
	case VQ_ERR_ORDER: return "readable buffer after a writable one";
	case VQ_ERR_BROKEN: return "queue broken or not ready";
	default: return "unknown virtqueue error";
	}
}

void vq_fail(struct vq *q, int err)
{
	if (!q->broken)
		q->err = err;
	q->broken = true;
}

/* Resolves the three rings; 0 or -errno.  Does not change q on failure. */
static int map_rings(struct vq *q, bool event_idx, uint16_t max_size)
{
	size_t n = q->size, ev = event_idx ? 2 : 0;
	uint8_t *d, *a, *u;

	if (n == 0 || n > max_size || n > VQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return -EINVAL;
	d = gmem_ptr(q->host->mem, q->desc_gpa, 16 * n);
	a = gmem_ptr(q->host->mem, q->avail_gpa, AVAIL_RING + 2 * n + ev);
	u = gmem_ptr(q->host->mem, q->used_gpa, USED_RING + 8 * n + ev);
	if (!d || !a || !u)
		return VQ_ERR_ADDR;
	q->desc = d;
	q->avail = a;
	q->used = u;
	return 0;
}

int vq_set_ready(struct vq *q, uint64_t features, uint16_t max_size)
{
	bool ev = features & (1ULL << VQ_F_EVENT_IDX);
	int rc = map_rings(q, ev, max_size);

	if (rc < 0)
		return rc;
	q->indirect = features & (1ULL << VQ_F_INDIRECT_DESC);
	q->event_idx = ev;
	q->ready = true;
	return 0;
}

/* Appends one buffer to the request; r NULL: marks it written if it is
 * device-writable (vq_push's walk), stores nothing. */
static int add_buf(struct vq *q, const struct vring_desc *d, struct vq_req *r)
{
	bool wr = d->flags & VRING_DESC_F_WRITE;
	void *p;

	if (r && !wr && r->nwr)
		return VQ_ERR_ORDER;
	if (d->len == 0)
		return 0;
	p = gmem_ptr(q->host->mem, d->addr, d->len);
	if (!p)
		return VQ_ERR_ADDR;
	if (!r) {
		if (wr)
			mark(q, p, d->len);
		return 0;
	}
	if (wr) {
		if (r->nwr >= r->wr_cap)
			return VQ_ERR_CAPACITY;
		r->wr[r->nwr].iov_base = p;
		r->wr[r->nwr++].iov_len = d->len;
		r->wr_len += d->len;
	} else {
		if (r->nrd >= r->rd_cap)
			return VQ_ERR_CAPACITY;
		r->rd[r->nrd].iov_base = p;
		r->rd[r->nrd++].iov_len = d->len;
		r->rd_len += d->len;
	}
	return 0;
}

/* Walks an indirect table described by d (the descriptor pointing at it). */
static int walk_indirect(struct vq *q, const struct vring_desc *d,
			 struct vq_req *r)
{
	uint32_t count, hops = 0;
	uint16_t i = 0;
	const uint8_t *tbl;
	struct vring_desc e;
	int rc;

	if (d->len == 0 || d->len % sizeof(e))
		return VQ_ERR_INDIRECT;
	count = d->len / sizeof(e);
	if (count > VQ_MAX_SIZE)
		return VQ_ERR_INDIRECT;
	tbl = gmem_ptr(q->host->mem, d->addr, d->len);
	if (!tbl)
		return VQ_ERR_ADDR;
	for (;;) {
		if (++hops > count)
			return VQ_ERR_LOOP;
		desc_load(tbl + (size_t)i * sizeof(e), &e);
		if (e.flags & VRING_DESC_F_INDIRECT)
			return VQ_ERR_NESTED;
		rc = add_buf(q, &e, r);
		if (rc < 0)
			return rc;
		if (!(e.flags & VRING_DESC_F_NEXT))
			return 0;
		if (e.next >= count)
			return VQ_ERR_INDEX;
		i = e.next;
	}
}

/* Walks the chain at head.  1 or a VQ_ERR_*; does not mark broken.  r
 * NULL: only marks the chain's device-writable buffers as written. */
static int walk(struct vq *q, uint16_t head, struct vq_req *r)
{
	uint32_t hops = 0;
	uint16_t i = head;
	struct vring_desc d;
	int rc;

	if (r) {
		r->nrd = r->nwr = 0;
		r->rd_len = r->wr_len = 0;
		r->head = head;
	}
	if (head >= q->size)
		return VQ_ERR_INDEX;
	for (;;) {
		if (++hops > q->size)
			return VQ_ERR_LOOP;
		desc_load(q->desc + (size_t)i * sizeof(d), &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				return VQ_ERR_NOINDIRECT;
			if (d.flags & VRING_DESC_F_NEXT)
				return VQ_ERR_INDIRECT;
			rc = walk_indirect(q, &d, r);
			return rc < 0 ? rc : 1;
		}
		rc = add_buf(q, &d, r);
		if (rc < 0)
			return rc;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 1;
		if (d.next >= q->size)
			return VQ_ERR_INDEX;
		i = d.next;
	}
}

/* EVENT_IDX: kicks on, avail_event = last_avail (the driver kicks when it
 * adds past what we consumed); off, last_avail - 1: an index behind every
 * one the driver can add next, which its additions never pass (until 65536
 * more, long after the device has asked for kicks again). */
static void publish_avail_event(struct vq *q)
{
	if (q->event_idx) {
		st16(avail_event_ptr(q), (uint16_t)(q->last_avail - !q->notify_on),
		     __ATOMIC_RELAXED);
		mark(q, avail_event_ptr(q), 2);
	}
}

int vq_pop(struct vq *q, struct vq_req *r)
{
	uint16_t idx, head;
	int rc;

	r->nrd = r->nwr = 0;
	r->rd_len = r->wr_len = 0;
	if (!q->ready || q->broken)
		return VQ_ERR_BROKEN;
	idx = avail_idx(q);
	if ((uint16_t)(idx - q->last_avail) > q->size) {
		vq_fail(q, VQ_ERR_AVAIL);
		return VQ_ERR_AVAIL;
	}
	if (idx == q->last_avail)
		return 0;
	head = ld16(q->avail + AVAIL_RING +
		    2 * (size_t)(q->last_avail & (q->size - 1)), __ATOMIC_RELAXED);
	rc = walk(q, head, r);
	if (rc < 0) {
		vq_fail(q, rc);
		return rc;
	}
	q->last_avail++;
	if (q->notify_on)	/* (off: the published index stays behind) */
		publish_avail_event(q);
	return 1;
}

void vq_unpop(struct vq *q, uint16_t n)
{
	q->last_avail -= n;
	if (q->ready && !q->broken)
		publish_avail_event(q);
}

int vq_get_chain(struct vq *q, uint16_t head, struct vq_req *r)
{
	int rc;

	r->nrd = r->nwr = 0;
	r->rd_len = r->wr_len = 0;
	if (!q->ready || q->broken)
		return VQ_ERR_BROKEN;
	rc = walk(q, head, r);
	if (rc < 0)
		vq_fail(q, rc);
	return rc;
}

void vq_push(struct vq *q, uint16_t head, uint32_t written)
{
	uint8_t *e;

	if (!q->ready || q->broken)
		return;
	e = q->used + USED_RING + 8 * (size_t)(q->used_idx & (q->size - 1));
	st32(e, head);
	st32(e + 4, written);
	q->used_idx++;
	/* the element (and the buffers' contents) before the index */
	st16(q->used + USED_IDX, q->used_idx, __ATOMIC_RELEASE);
	if (__builtin_expect(__atomic_load_n(&q->host->mem->track, __ATOMIC_RELAXED) != NULL, 0)) {
		/* the device filled the chain's writable buffers: walk it again
		 * (bounded like a pop; a chain the driver changed meanwhile,
		 * against the spec, is marked as far as it is still valid) */
		mark(q, e, 8);
		mark(q, q->used + USED_IDX, 2);
		walk(q, head, NULL);
	}
}

bool vq_should_notify(struct vq *q)
{
	uint16_t old = q->signalled, cur = q->used_idx;

	if (!q->ready || q->broken || old == cur)
		return false;
	q->signalled = cur;
	/* our used.idx store before the driver's suppression fields */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t ev = ld16(used_event_ptr(q), __ATOMIC_RELAXED);

		return (uint16_t)(cur - ev - 1) < (uint16_t)(cur - old);
	}
	return !(ld16(q->avail, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool vq_set_notify(struct vq *q, bool enable)
{
	q->notify_on = enable;
	if (!q->ready || q->broken)
		return false;
	if (q->event_idx)
		publish_avail_event(q);
	else {
		st16(q->used, enable ? 0 : VRING_USED_F_NO_NOTIFY,
		     __ATOMIC_RELAXED);
		mark(q, q->used, 2);
	}
	if (!enable)
		return false;
	/* the flag/event store before re-reading avail.idx */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(q) != q->last_avail;
}

bool vq_set_notify_after(struct vq *q, uint16_t n)
{
	if (!q->event_idx || n <= 1)
		return vq_set_notify(q, true);
	q->notify_on = true;
	if (!q->ready || q->broken)
		return false;
	if (n > q->size)	/* never past what the driver can add */
		n = q->size;
	/* the driver kicks when its avail.idx passes avail_event: at the n-th
	 * chain after last_avail (a pop puts it back to last_avail) */
	st16(avail_event_ptr(q), (uint16_t)(q->last_avail + n - 1), __ATOMIC_RELAXED);
	mark(q, avail_event_ptr(q), 2);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(q) != q->last_avail;
}

bool vq_has_avail(struct vq *q)
{
	if (!q->ready || q->broken)
		return false;
	return avail_idx(q) != q->last_avail;
}

/* ---- save / restore ---------------------------------------------------- */
enum { VQS_READY = 1, VQS_BROKEN = 2, VQS_INDIRECT = 4, VQS_EVENT_IDX = 8,
       VQS_NOTIFY = 16 };

void vq_save(const struct vq *q, struct sbuf *sb)
{
	uint32_t flags = (q->ready ? VQS_READY : 0) |
			 (q->broken ? VQS_BROKEN : 0) |
			 (q->indirect ? VQS_INDIRECT : 0) |
			 (q->event_idx ? VQS_EVENT_IDX : 0) |
			 (q->notify_on ? VQS_NOTIFY : 0);

	sbuf_put_u32(sb, q->size);
	sbuf_put_u32(sb, flags);
	sbuf_put_u64(sb, q->desc_gpa);
	sbuf_put_u64(sb, q->avail_gpa);
	sbuf_put_u64(sb, q->used_gpa);
	sbuf_put_u32(sb, q->last_avail);
	sbuf_put_u32(sb, q->used_idx);
	sbuf_put_u32(sb, q->signalled);
	sbuf_put_u32(sb, (uint32_t)-q->err);
}

int vq_restore(struct vq *q, struct sbuf *sb, uint16_t max_size)
{
	struct vq n;
	uint32_t size, flags, la, ui, sig, err;

	vq_init(&n, q->host);
	size = sbuf_get_u32(sb);
	flags = sbuf_get_u32(sb);
	n.desc_gpa = sbuf_get_u64(sb);
	n.avail_gpa = sbuf_get_u64(sb);
	n.used_gpa = sbuf_get_u64(sb);
	la = sbuf_get_u32(sb);
	ui = sbuf_get_u32(sb);
	sig = sbuf_get_u32(sb);
	err = sbuf_get_u32(sb);
	if (sb->err || size > max_size || la > 0xffff || ui > 0xffff ||
	    sig > 0xffff || err > 4095 || flags > 31)
		return -EINVAL;
	n.size = size;
	n.indirect = flags & VQS_INDIRECT;
	n.event_idx = flags & VQS_EVENT_IDX;
	n.notify_on = flags & VQS_NOTIFY;
	n.broken = flags & VQS_BROKEN;
	n.err = -(int)err;
	n.last_avail = la;
	n.used_idx = ui;
	n.signalled = sig;
	if (flags & VQS_READY) {
		if (map_rings(&n, n.event_idx, max_size) < 0)
			return -EINVAL;
		n.ready = true;
	}
	*q = n;
	return 0;
}

/* ---- iovec helpers ----------------------------------------------------- */
/* Copies between buf and the bytes of iov from off on: into the iovecs
 * when to_iov, else out of them.  Returns the bytes copied. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, uint8_t *buf,
		       size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len;
		uint8_t *p;

		if (off >= l) {
			off -= l;
			continue;
		}
		p = (uint8_t *)iov[i].iov_base + off;
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy(to_iov ? p : buf + done, to_iov ? buf + done : p, l);
		done += l;
		off = 0;
	}
	return done;
}

size_t vq_iov_read(const struct iovec *iov, unsigned n, size_t off,
		   void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t vq_iov_write(const struct iovec *iov, unsigned n, size_t off,
		    const void *buf, size_t len)
{
	return iov_copy(iov, n, off, (uint8_t *)buf, len, true);
}

int vq_iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
		 struct iovec *out, unsigned cap)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		if (k >= cap)
			return -ENOBUFS;
		out[k].iov_base = (uint8_t *)iov[i].iov_base + off;
		out[k++].iov_len = l;
		len -= l;
		off = 0;
	}
	return len ? -ERANGE : (int)k;
}
