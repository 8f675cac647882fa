/* virtio/vsock/conn.c - virtio-vsock's packets: the TX queue (what the
 * guest sends), the RX queue (what it is owed), the event queue, the
 * connection table, reset, save and restore.  Packets are copied: no
 * guest buffer is held across loop turns, so a reset has nothing of the
 * guest's in flight, and a snapshot has no chain to remember.
 *
 * Errors of a connection (a packet out of its protocol, a guest ignoring
 * credit, a host socket failing) end it with an RST; a packet for no
 * connection is answered with an RST; a packet with a foreign CID or a
 * chain that cannot hold a header marks the device NEEDS_RESET only when
 * it breaks the ring's contract (no readable header, a writable RX
 * buffer too short). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ids.h>

#include "snapshot/sbuf.h"
#include "virtio/vsock/vsock.h"

#define SHUT_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

uint32_t vsock_peer_free(const struct vsock_conn *c)
{
	uint32_t held = c->rx_cnt - c->peer_fwd_cnt;

	return held >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - held;
}

struct vsock_conn *vsock_conn_new(struct vsock *v)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state != VS_FREE)
			continue;
		c->tx_buf = malloc(VSOCK_BUF_ALLOC);
		c->rx_buf = malloc(VSOCK_RX_CHUNK);
		if (!c->tx_buf || !c->rx_buf) {
			free(c->tx_buf);
			free(c->rx_buf);
			c->tx_buf = c->rx_buf = NULL;
			return NULL;
		}
		c->v = v;
		c->fd = -1;
		return c;
	}
	return NULL;
}

static struct vsock_conn *conn_find(struct vsock *v, uint32_t local, uint32_t peer)
{
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (c->state != VS_FREE && c->state != VS_DEAD && c->state != VS_LINE &&
		    c->local_port == local && c->peer_port == peer)
			return c;
	}
	return NULL;
}

void vsock_conn_close(struct vsock_conn *c, bool rst)
{
	if (c->state == VS_FREE || c->state == VS_DEAD || c->state == VS_RST)
		return;
	c->pend = 0;
	if (rst && c->state != VS_LINE) {
		c->state = VS_RST;	/* vsock_rx_run sends it, then closes */
		return;
	}
	c->state = VS_DEAD;
	vsock_conn_reap(c);
}

void vsock_forwarded(struct vsock_conn *c, uint32_t n)
{
	c->fwd_cnt += n;
	/* the guest stops sending when it thinks we are full; a quarter of
	 * the buffer freed since we last said is worth a packet */
	if (c->fwd_cnt - c->fwd_told >= VSOCK_BUF_ALLOC / 4)
		c->pend |= VP_CREDIT;
}

void vsock_conn_check_done(struct vsock_conn *c)
{
	bool flushed = c->tx_cnt == c->fwd_cnt && c->line_off == c->line_len && !c->writing;

	if (c->state != VS_OPEN || !flushed)
		return;
	if (c->guest_shut == SHUT_BOTH ||
	    ((c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) && c->shut_sent))
		vsock_conn_close(c, true);
}

/* ---- RX: to the guest ------------------------------------------------- */
static bool owed(const struct vsock_conn *c)
{
	switch (c->state) {
	case VS_RST:
		return true;
	case VS_REQUEST:
		return c->pend & VP_REQUEST;
	case VS_OPEN:
		if (c->pend & (VP_RESPONSE | VP_CREDIT))
			return true;
		if (c->rx_off < c->rx_len)
			return vsock_peer_free(c) > 0;
		return c->pend & VP_SHUTDOWN;
	default:
		return false;
	}
}

static struct vsock_conn *next_owed(struct vsock *v)
{
	for (unsigned k = 0; k < VSOCK_MAX_CONNS; k++) {
		unsigned i = (v->scan + k) % VSOCK_MAX_CONNS;

		if (owed(&v->conns[i])) {
			v->scan = i + 1;
			return &v->conns[i];
		}
	}
	return NULL;
}

static void hdr_init(struct vsock *v, struct virtio_vsock_hdr *h, uint32_t src,
		     uint32_t dst, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = v->cid;
	h->src_port = src;
	h->dst_port = dst;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
}

/* Fills chain r with c's next packet; returns the bytes written.  A
 * buffer with no room past the header gets a CREDIT_UPDATE, never an empty
 * RW; SHUTDOWN goes only after the last byte. */
static uint32_t conn_packet(struct vsock_conn *c, struct vq_req *r)
{
	struct virtio_vsock_hdr h;
	uint32_t n = 0;

	hdr_init(c->v, &h, c->local_port, c->peer_port, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	if (c->state == VS_RST) {
		h.op = VIRTIO_VSOCK_OP_RST;
	} else if (c->pend & VP_REQUEST) {
		h.op = VIRTIO_VSOCK_OP_REQUEST;
		c->pend &= ~VP_REQUEST;
	} else if (c->pend & VP_RESPONSE) {
		h.op = VIRTIO_VSOCK_OP_RESPONSE;
		c->pend &= ~VP_RESPONSE;
	} else if (c->rx_off < c->rx_len && vsock_peer_free(c) && r->wr_len > VSOCK_HDR) {
		uint32_t room = (uint32_t)(r->wr_len - VSOCK_HDR), free = vsock_peer_free(c);

		n = c->rx_len - c->rx_off;
		n = n < free ? n : free;
		n = n < room ? n : room;
		h.op = VIRTIO_VSOCK_OP_RW;
		vq_iov_write(r->wr, r->nwr, VSOCK_HDR, c->rx_buf + c->rx_off, n);
		c->rx_off += n;
		c->rx_cnt += n;
	} else if ((c->pend & VP_SHUTDOWN) && c->rx_off == c->rx_len) {
		h.op = VIRTIO_VSOCK_OP_SHUTDOWN;
		h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
		c->pend &= ~VP_SHUTDOWN;
		c->shut_sent = true;
	}
	h.len = n;
	h.buf_alloc = VSOCK_BUF_ALLOC;
	h.fwd_cnt = c->fwd_cnt;
	c->fwd_told = c->fwd_cnt;
	c->pend &= ~VP_CREDIT;	/* every header carries the credit */
	vq_iov_write(r->wr, r->nwr, 0, &h, VSOCK_HDR);
	if (c->state == VS_RST) {
		c->state = VS_DEAD;
		vsock_conn_reap(c);
	} else if (n && c->rx_off == c->rx_len) {
		c->rx_off = c->rx_len = 0;
		vsock_read_arm(c);
	} else if (h.op == VIRTIO_VSOCK_OP_SHUTDOWN) {
		vsock_conn_check_done(c);
	}
	return VSOCK_HDR + n;
}

void vsock_rx_run(struct vsock *v)
{
	struct vq *q = &v->vd.q[VSOCK_RXQ].vq;
	bool pushed = false;

	while (virtio_dev_queue_live(&v->vd, VSOCK_RXQ)) {
		struct vq_req r = { .rd = v->rd, .wr = v->wr, .rd_cap = VSOCK_IOV,
				    .wr_cap = VSOCK_IOV };
		struct vsock_conn *c = NULL;
		int rc;

		if (!v->nrst && !(c = next_owed(v)))
			break;
		rc = virtio_dev_pop(&v->vd, VSOCK_RXQ, &r);
		if (rc < 0)
			break;
		if (rc == 0) {
			if (vq_set_notify(q, true))
				continue;
			break;
		}
		if (r.nrd || r.wr_len < VSOCK_HDR) {
			vq_unpop(q, 1);
			virtio_dev_fail(&v->vd, "RX buffer not writable or shorter than "
					"the 44-byte packet header", 0);
			break;
		}
		if (c) {
			uint32_t len = conn_packet(c, &r);

			vq_push(q, r.head, len);
			virtio_stat_io(&v->vd, false, len - VSOCK_HDR);
		} else {
			struct virtio_vsock_hdr h;

			v->nrst--;
			hdr_init(v, &h, v->rst[v->nrst].src_port, v->rst[v->nrst].dst_port,
				 VIRTIO_VSOCK_OP_RST);
			vq_iov_write(r.wr, r.nwr, 0, &h, VSOCK_HDR);
			vq_push(q, r.head, VSOCK_HDR);
		}
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_used(&v->vd, VSOCK_RXQ);
}

/* ---- TX: from the guest ----------------------------------------------- */
static void queue_rst(struct vsock *v, const struct virtio_vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return;		/* never answer an RST */
	if (v->nrst == VSOCK_RST_QUEUE) {
		log_debug("%s: RST queue full: packet to port %u dropped", v->vd.name,
			  h->dst_port);
		return;
	}
	v->rst[v->nrst++] = (struct vsock_rst){ .src_port = h->dst_port,
						.dst_port = h->src_port };
}

static void guest_request(struct vsock *v, const struct virtio_vsock_hdr *h)
{
	struct vsock_conn *c = vsock_conn_new(v);

	if (!c) {
		log_debug("%s: guest connection to port %u refused: %d connections open",
			  v->vd.name, h->dst_port, VSOCK_MAX_CONNS);
		queue_rst(v, h);
		return;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->state = VS_CONNECTING;
	if (vsock_connect(c) < 0)
		vsock_conn_close(c, true);
}

/* An RW packet's payload into c's ring. */
static void guest_data(struct vsock_conn *c, const struct vq_req *r, uint32_t len)
{
	uint32_t held = c->tx_cnt - c->fwd_cnt, pos, first;

	if (c->state != VS_OPEN || (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND)) {
		vsock_conn_close(c, true);
		return;
	}
	if (len > VSOCK_BUF_ALLOC - held) {
		log_debug("%s: port %u: the guest sent %u bytes with credit for %u: RST",
			  c->v->vd.name, c->local_port, len, VSOCK_BUF_ALLOC - held);
		vsock_conn_close(c, true);
		return;
	}
	pos = c->tx_cnt % VSOCK_BUF_ALLOC;
	first = VSOCK_BUF_ALLOC - pos < len ? VSOCK_BUF_ALLOC - pos : len;
	vq_iov_read(r->rd, r->nrd, VSOCK_HDR, c->tx_buf + pos, first);
	vq_iov_read(r->rd, r->nrd, VSOCK_HDR + first, c->tx_buf, len - first);
	c->tx_cnt += len;
	vsock_write_kick(c);
}

static void tx_packet(struct vsock *v, const struct vq_req *r)
{
	struct virtio_vsock_hdr h;
	struct vsock_conn *c;

	vq_iov_read(r->rd, r->nrd, 0, &h, VSOCK_HDR);
	if (h.src_cid != v->cid || h.dst_cid != VSOCK_HOST_CID) {
		log_debug("%s: packet from CID %llu to CID %llu dropped (the guest is %llu)",
			  v->vd.name, (unsigned long long)h.src_cid,
			  (unsigned long long)h.dst_cid, (unsigned long long)v->cid);
		return;
	}
	c = conn_find(v, h.dst_port, h.src_port);
	if (h.type != VIRTIO_VSOCK_TYPE_STREAM || h.len > r->rd_len - VSOCK_HDR ||
	    (h.len && h.op != VIRTIO_VSOCK_OP_RW)) {
		if (c)
			vsock_conn_close(c, true);
		else
			queue_rst(v, &h);
		return;
	}
	if (!c) {
		if (h.op == VIRTIO_VSOCK_OP_REQUEST)
			guest_request(v, &h);
		else
			queue_rst(v, &h);
		return;
	}
	if (c->state == VS_RST)
		return;		/* it is being reset anyway */
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VS_REQUEST) {
			vsock_conn_close(c, true);
			break;
		}
		c->state = VS_OPEN;
		vsock_request_answered(c);
		c->line_len = (uint8_t)snprintf(c->line, sizeof(c->line), "OK %u\n",
						c->local_port);
		vsock_write_kick(c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		vsock_conn_close(c, false);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->guest_shut |= h.flags & SHUT_BOTH;
		if (c->state == VS_OPEN) {
			vsock_write_kick(c);	/* SHUT_WR once flushed */
			vsock_conn_check_done(c);
		}
		break;
	case VIRTIO_VSOCK_OP_RW:
		guest_data(c, r, h.len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pend |= VP_CREDIT;
		break;
	default:		/* REQUEST on an open connection, unknown ops */
		vsock_conn_close(c, true);
		return;
	}
	vsock_read_arm(c);	/* the guest's credit may have grown */
}

static void tx_run(struct vsock *v)
{
	struct vq *q = &v->vd.q[VSOCK_TXQ].vq;
	struct virtio_pass p;
	bool pushed = false;

	virtio_pass_begin(&p, &v->vd, VSOCK_TXQ);
	for (;;) {
		struct vq_req r = { .rd = v->rd, .wr = v->wr, .rd_cap = VSOCK_IOV,
				    .wr_cap = VSOCK_IOV };
		int rc = virtio_pass_pop(&p, &r);

		if (rc < 0)
			break;
		if (rc == 0) {
			if (virtio_pass_more(&p))
				continue;
			break;
		}
		if (r.nwr || r.rd_len < VSOCK_HDR) {
			vq_push(q, r.head, 0);
			virtio_dev_notify_used(&v->vd, VSOCK_TXQ);
			virtio_dev_fail(&v->vd, "TX packet without its 44-byte header or "
					"with a writable buffer", 0);
			return;
		}
		tx_packet(v, &r);
		virtio_stat_io(&v->vd, true, r.rd_len - VSOCK_HDR);
		vq_push(q, r.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_dev_notify_used(&v->vd, VSOCK_TXQ);
	vsock_rx_run(v);
}

/* ---- the event queue: TRANSPORT_RESET after a restore ----------------- */
static void evt_run(struct vsock *v)
{
	struct vq *q = &v->vd.q[VSOCK_EVQ].vq;
	struct virtio_vsock_event e = { .id = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET };
	struct vq_req r = { .rd = v->rd, .wr = v->wr, .rd_cap = VSOCK_IOV,
			    .wr_cap = VSOCK_IOV };
	int rc;

	if (!v->evt_pending || !virtio_dev_queue_live(&v->vd, VSOCK_EVQ))
		return;
	rc = virtio_dev_pop(&v->vd, VSOCK_EVQ, &r);
	if (rc == 0 && vq_set_notify(q, true))
		rc = virtio_dev_pop(&v->vd, VSOCK_EVQ, &r);
	if (rc <= 0)
		return;		/* the next event-queue kick */
	if (r.nrd || r.wr_len < sizeof(e)) {
		vq_unpop(q, 1);
		virtio_dev_fail(&v->vd, "event buffer not writable or shorter than 4 bytes", 0);
		return;
	}
	vq_iov_write(r.wr, r.nwr, 0, &e, sizeof(e));
	vq_push(q, r.head, sizeof(e));
	virtio_dev_notify_used(&v->vd, VSOCK_EVQ);
	v->evt_pending = false;
}

/* ---- virtio_dev_ops ---------------------------------------------------- */
static void vsock_notify(struct virtio_dev *vd, unsigned q)
{
	struct vsock *v = container_of(vd, struct vsock, vd);

	if (q == VSOCK_TXQ)
		tx_run(v);
	else if (q == VSOCK_EVQ)
		evt_run(v);
	else
		vsock_rx_run(v);
}

/* A reset may come on a vCPU thread, which must not touch the ring or
 * close fds: the connections are only marked dead here; draining() counts
 * them, so the transport has the loop run vsock_cancel, which closes
 * them, and the reset waits for that. */
static void vsock_reset(struct virtio_dev *vd)
{
	struct vsock *v = container_of(vd, struct vsock, vd);

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		if (v->conns[i].state != VS_FREE) {
			v->conns[i].state = VS_DEAD;
			v->conns[i].pend = 0;
		}
	v->nrst = 0;
	v->evt_pending = false;
}

static unsigned vsock_draining(struct virtio_dev *vd)
{
	struct vsock *v = container_of(vd, struct vsock, vd);
	unsigned k = vd->quiesced && v->accepting;

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		k += v->conns[i].state == VS_DEAD ||
		     (vd->quiesced && v->conns[i].state != VS_FREE);
	return k;
}

static void vsock_cancel(struct virtio_dev *vd)
{
	struct vsock *v = container_of(vd, struct vsock, vd);

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conns[i];

		if (vd->quiesced && c->state != VS_FREE)
			c->state = VS_DEAD;
		if (c->state == VS_DEAD)
			vsock_conn_reap(c);
	}
	if (vd->quiesced && v->accepting)
		virtio_cancel_op(vd, &v->acc_op);
}

static void vsock_start(struct virtio_dev *vd)
{
	struct vsock *v = container_of(vd, struct vsock, vd);

	vsock_accept_arm(v);
	evt_run(v);
	vsock_rx_run(v);
}

/* The device's state is its guest CID; connections are not saved: as
 * Firecracker does, they are reset, and the guest hears so from a
 * TRANSPORT_RESET event once restored. */
static int vsock_save(struct virtio_dev *vd, struct sbuf *sb)
{
	sbuf_put_u64(sb, container_of(vd, struct vsock, vd)->cid);
	return 0;
}

static int vsock_restore(struct virtio_dev *vd, struct sbuf *sb)
{
	struct vsock *v = container_of(vd, struct vsock, vd);
	uint64_t cid = sbuf_get_u64(sb);

	if (sb->err)
		return -EINVAL;
	if (cid != v->cid) {
		log_error("%s: the snapshot's guest CID is %llu, --vsock says %llu",
			  vd->name, (unsigned long long)cid, (unsigned long long)v->cid);
		return -EINVAL;
	}
	v->evt_pending = true;	/* sent once the event queue is live */
	return 0;
}

static void vsock_cfg_read(struct virtio_dev *vd, uint32_t off, void *data, unsigned size)
{
	struct virtio_vsock_config cfg = { .guest_cid = container_of(vd, struct vsock, vd)->cid };

	memcpy(data, (const uint8_t *)&cfg + off, size);
}

static void vsock_destroy(struct virtio_dev *vd)
{
	struct vsock *v = container_of(vd, struct vsock, vd);

	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
		if (v->conns[i].fd >= 0 && v->conns[i].state != VS_FREE)
			close(v->conns[i].fd);
		free(v->conns[i].tx_buf);
		free(v->conns[i].rx_buf);
	}
	if (v->lfd >= 0)
		close(v->lfd);
	if (v->unlink_uds && unlinkat(AT_FDCWD, v->uds, 0) < 0)
		log_warn("%s: removing '%s': %m", vd->name, v->uds);
	free(v);
}

const struct virtio_dev_ops vsock_ops = {
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.queue_max = VSOCK_QUEUE_MAX,
	.cfg_size = sizeof(struct virtio_vsock_config),
	.cfg_read = vsock_cfg_read,
	.notify = vsock_notify,
	.start = vsock_start,
	.reset = vsock_reset,
	.draining = vsock_draining,
	.cancel = vsock_cancel,
	.save = vsock_save,
	.restore = vsock_restore,
	.destroy = vsock_destroy,
};
