/* virtio/net.c - virtio-net on a TAP interface with a 12-byte vnet header
 * (the virtio 1.x header, num_buffers included), RX and TX through the
 * event loop's io_uring.
 *
 * TX is zero-copy: a chain's readable buffers (header + frame) are written
 * to the TAP as they are.  RX reads one frame at a time into a host buffer,
 * then copies it into as many guest buffers as it needs (MRG_RXBUF) or one
 * chain; no guest buffer is held while waiting for the TAP.  A frame that
 * finds no guest buffer waits for the next RX kick.  Checksum/TSO offloads
 * toward the guest are offered only if the TAP accepts them
 * (TUNSETOFFLOAD) and set to what the driver negotiated.
 *
 * Rate limiters (virtio/ratelimit.c; --net rx_bw_size=.., tx_ops_size=..)
 * count the Ethernet frames' bytes (the vnet header aside) and the frames.
 * A TX frame the limiter refuses goes back to the avail ring (vq_unpop)
 * and nothing more is taken until its timer fires; a frame read from the
 * TAP that the RX limiter refuses stays in the host buffer, and the TAP is
 * not read again until the timer lets it go to the guest.  Neither holds
 * a guest buffer: a reset or a snapshot finds nothing of theirs to drop or
 * save but the RX frame, which is dropped as a reset drops it. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "snapshot/sbuf.h"
#include "virtio/virtio.h"

#define NET_QUEUE_MAX 256
#define NET_HDR 12		/* struct virtio_net_hdr_mrg_rxbuf */
#define NET_FRAME_MAX (65536 + 14 + 4)	/* a GSO frame: IP max + Ethernet + VLAN */
#define NET_BUF (NET_HDR + NET_FRAME_MAX)
#define NET_IOV 64		/* buffers in one chain */
#define NET_TX_SLOTS 64		/* TX writes in flight */
#define RXQ 0
#define TXQ 1

struct net;
struct net_tx {
	struct loop_op op;
	struct net *n;
	struct net_tx *next_free;
	uint32_t gen;
	uint16_t head;
	bool busy;
	struct vq_req vqr;
	struct iovec rd[NET_IOV], wr[2];
};

struct net {
	struct virtio_dev vd;
	int tap;
	char ifname[IFNAMSIZ];
	struct virtio_net_config cfg;
	unsigned tap_offloads;	/* TUN_F_* the TAP accepts */
	int cur_offloads;	/* set on the TAP now, -1 unknown */
	/* RX */
	struct loop_op rx_op;
	bool rx_armed, rx_dead;
	size_t rx_len;		/* > 0: a frame waits in rx_buf */
	uint8_t *rx_buf;
	struct iovec rx_rd[1], rx_wr[NET_IOV], rx_first[NET_IOV];
	unsigned rx_nfirst;
	uint16_t rx_heads[NET_QUEUE_MAX];
	uint32_t rx_lens[NET_QUEUE_MAX];
	bool rx_held;		/* the frame in rx_buf waits for rx_rl's timer */
	struct ratelimit rx_rl;
	/* TX */
	struct net_tx *tx, *tx_free;
	unsigned tx_inflight;	/* TAP writes of the chain in flight */
	struct ratelimit tx_rl;	/* while its timer is armed no frame is taken */
};

static bool has(const struct net *n, unsigned bit)
{
	return n->vd.guest_features & (1ULL << bit);
}

/* Offloads toward the guest follow what the driver took. */
static void set_offloads(struct net *n)
{
	int want = 0;

	if (has(n, VIRTIO_NET_F_GUEST_CSUM)) {
		want |= TUN_F_CSUM;
		if (has(n, VIRTIO_NET_F_GUEST_TSO4))
			want |= TUN_F_TSO4;
		if (has(n, VIRTIO_NET_F_GUEST_TSO6))
			want |= TUN_F_TSO6;
		if (has(n, VIRTIO_NET_F_GUEST_ECN) && (want & (TUN_F_TSO4 | TUN_F_TSO6)))
			want |= TUN_F_TSO_ECN;
	}
	want &= (int)n->tap_offloads;
	if (want == n->cur_offloads)
		return;
	if (ioctl(n->tap, TUNSETOFFLOAD, (unsigned long)want) < 0)
		log_warn("%s: TUNSETOFFLOAD %#x: %m", n->vd.name, want);
	else
		n->cur_offloads = want;
}

/* ---- RX ------------------------------------------------------------------ */
static void rx_arm(struct net *n)
{
	struct io_uring_sqe *sqe;

	if (n->rx_armed || n->rx_len || n->rx_dead || !n->vd.host->loop ||
	    !virtio_dev_queue_live(&n->vd, RXQ))
		return;
	sqe = loop_sqe(n->vd.host->loop, &n->rx_op);
	io_uring_prep_read(sqe, n->tap, n->rx_buf, NET_BUF, 0);
	n->rx_armed = true;
}

/* Copies the waiting frame into guest buffers.  Returns false when it must
 * wait for more buffers (the frame stays). */
static bool rx_deliver(struct net *n)
{
	struct vq *q = &n->vd.q[RXQ].vq;
	bool mrg = has(n, VIRTIO_NET_F_MRG_RXBUF);
	struct vq_req r = { .rd = n->rx_rd, .wr = n->rx_wr, .rd_cap = 1,
			    .wr_cap = NET_IOV };
	unsigned nb;
	size_t off;
	uint16_t num;
	int rc;

	if (!virtio_dev_queue_live(&n->vd, RXQ)) {
		n->rx_len = 0;		/* nobody to give it to */
		return true;
	}
again:
	nb = 0;
	off = 0;
	while (off < n->rx_len) {
		if (nb == q->size) {	/* the whole ring is not enough */
			vq_unpop(q, (uint16_t)nb);
			n->rx_len = 0;
			return true;
		}
		rc = virtio_dev_pop(&n->vd, RXQ, &r);
		if (rc < 0) {
			n->rx_len = 0;
			return true;
		}
		if (rc == 0) {
			vq_unpop(q, (uint16_t)nb);
			if (vq_set_notify(q, true))
				goto again;
			return false;
		}
		if (r.nrd || (nb == 0 && r.wr_len < NET_HDR)) {
			vq_unpop(q, (uint16_t)(nb + 1));
			virtio_dev_fail(&n->vd, "RX buffer not writable or too short", 0);
			n->rx_len = 0;
			return true;
		}
		if (!mrg && r.wr_len < n->rx_len) {	/* does not fit: drop it */
			vq_unpop(q, 1);
			virtio_stat_inc(&n->vd, VSTAT_RX_FAILS);
			n->rx_len = 0;
			return true;
		}
		if (nb == 0) {
			memcpy(n->rx_first, r.wr, r.nwr * sizeof(r.wr[0]));
			n->rx_nfirst = r.nwr;
		}
		n->rx_heads[nb] = r.head;
		n->rx_lens[nb] = (uint32_t)vq_iov_write(r.wr, r.nwr, 0, n->rx_buf + off,
							n->rx_len - off);
		off += n->rx_lens[nb++];
	}
	num = (uint16_t)nb;
	vq_iov_write(n->rx_first, n->rx_nfirst, offsetof(struct virtio_net_hdr_mrg_rxbuf,
							 num_buffers), &num, 2);
	for (unsigned i = 0; i < nb; i++)
		vq_push(q, n->rx_heads[i], n->rx_lens[i]);
	virtio_stat_io(&n->vd, false, n->rx_len - NET_HDR);
	virtio_dev_notify_used(&n->vd, RXQ);
	n->rx_len = 0;
	return true;
}

/* Asks the RX limiter for the frame in rx_buf: true if it may go to the
 * guest, else it is held (rx_held) and the limiter's timer armed. */
static bool rx_admit(struct net *n)
{
	uint64_t wait = rl_try(&n->rx_rl, n->rx_len - NET_HDR);

	n->rx_held = wait != 0;
	if (wait)
		rl_arm(&n->rx_rl, n->vd.host->loop, wait);
	return !wait;
}

static void on_rx(struct loop_op *op, int res, uint32_t flags)
{
	struct net *n = container_of(op, struct net, rx_op);

	(void)flags;
	pthread_mutex_lock(&n->vd.lock);
	n->rx_armed = false;
	if (n->vd.quiesced) {	/* teardown: the read is over, nothing follows */
		virtio_dev_drained(&n->vd);
		pthread_mutex_unlock(&n->vd.lock);
		return;
	}
	if (res >= NET_HDR) {
		n->rx_len = (size_t)res;
		if (rx_admit(n))
			rx_deliver(n);
	} else if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
		log_warn("%s: TAP read: %s; receive stopped", n->vd.name, strerror(-res));
		n->rx_dead = true;
	}
	if (res != -ECANCELED)
		rx_arm(n);
	pthread_mutex_unlock(&n->vd.lock);
}

static void rx_kick(struct net *n)
{
	set_offloads(n);
	if (n->rx_held || (n->rx_len && !rx_deliver(n)))
		return;		/* the limiter's timer, or the next kick */
	rx_arm(n);
}

/* The RX limiter's timer (loop thread): the held frame goes if it may,
 * then the TAP is read again. */
static void rx_rl_resume(struct ratelimit *rl)
{
	struct net *n = container_of(rl, struct net, rx_rl);

	pthread_mutex_lock(&n->vd.lock);
	if (!n->vd.quiesced && (!n->rx_held || rx_admit(n)))
		rx_kick(n);
	pthread_mutex_unlock(&n->vd.lock);
}

/* ---- TX ------------------------------------------------------------------ */
static void tx_free(struct net *n, struct net_tx *t)
{
	t->busy = false;
	t->next_free = n->tx_free;
	n->tx_free = t;
}

static void tx_process(struct net *n);

static void on_tx(struct loop_op *op, int res, uint32_t flags)
{
	struct net_tx *t = container_of(op, struct net_tx, op);
	struct net *n = t->n;

	(void)flags;
	pthread_mutex_lock(&n->vd.lock);
	n->tx_inflight--;
	if (res < 0)
		log_debug("%s: TAP write: %s", n->vd.name, strerror(-res));
	if (t->gen == n->vd.gen) {
		if (res < NET_HDR)
			virtio_stat_inc(&n->vd, VSTAT_TX_FAILS);
		else
			virtio_stat_io(&n->vd, true, (uint64_t)res - NET_HDR);
		vq_push(&n->vd.q[TXQ].vq, t->head, 0);
		virtio_dev_notify_used(&n->vd, TXQ);
		tx_free(n, t);
		tx_process(n);
	} else {	/* reset meanwhile: the buffer is the driver's again */
		tx_free(n, t);
		virtio_dev_drained(&n->vd);
	}
	pthread_mutex_unlock(&n->vd.lock);
}

/* Sends the available frames there is a slot for, within a pass's budget
 * (the rest on the loop's next turn), as one chain of linked writes: the
 * TAP's writes may go to io_uring's workers, which would run them side by
 * side and reorder the guest's frames (TCP then takes them for losses);
 * linked, they run in order, and the next chain starts when this one has
 * ended.  Lock held. */
static void tx_process(struct net *n)
{
	struct vq *q = &n->vd.q[TXQ].vq;
	struct io_uring_sqe *prev = NULL;
	struct virtio_pass p;
	uint64_t wait;

	if (!virtio_dev_queue_live(&n->vd, TXQ) || !n->vd.host->loop || n->tx_rl.armed ||
	    n->tx_inflight)
		return;
	virtio_pass_begin(&p, &n->vd, TXQ);
	for (;;) {
		struct net_tx *t;

		while ((t = n->tx_free)) {
			struct io_uring_sqe *sqe;
			int rc;

			t->vqr = (struct vq_req){ .rd = t->rd, .wr = t->wr,
						  .rd_cap = NET_IOV, .wr_cap = 2 };
			rc = virtio_pass_pop(&p, &t->vqr);
			if (rc < 0)
				return;
			if (rc == 0)
				break;
			if (t->vqr.rd_len < NET_HDR || t->vqr.rd_len > NET_BUF) {
				vq_push(q, t->vqr.head, 0);	/* not a frame: dropped */
				virtio_dev_notify_used(&n->vd, TXQ);
				continue;
			}
			if ((wait = rl_try(&n->tx_rl, t->vqr.rd_len - NET_HDR))) {
				vq_unpop(q, 1);	/* taken again when the timer fires */
				rl_arm(&n->tx_rl, n->vd.host->loop, wait);
				return;
			}
			n->tx_free = t->next_free;
			t->busy = true;
			t->gen = n->vd.gen;
			t->head = t->vqr.head;
			sqe = loop_sqe(n->vd.host->loop, &t->op);
			io_uring_prep_writev(sqe, n->tap, t->rd, t->vqr.nrd, 0);
			if (prev)	/* (a failed write does not end the chain) */
				prev->flags |= IOSQE_IO_HARDLINK;
			prev = sqe;
			n->tx_inflight++;
		}
		if (!n->tx_free || !virtio_pass_more(&p))
			return;
	}
}

/* The TX limiter's timer (loop thread). */
static void tx_rl_resume(struct ratelimit *rl)
{
	struct net *n = container_of(rl, struct net, tx_rl);

	pthread_mutex_lock(&n->vd.lock);
	tx_process(n);
	pthread_mutex_unlock(&n->vd.lock);
}

static void net_notify(struct virtio_dev *vd, unsigned q)
{
	struct net *n = container_of(vd, struct net, vd);

	if (q == RXQ)
		rx_kick(n);
	else
		tx_process(n);
}

/* A held RX frame is dropped; an armed limiter timer finds nothing held
 * when it fires and only looks at the queues. */
static void net_reset(struct virtio_dev *vd)
{
	struct net *n = container_of(vd, struct net, vd);

	n->rx_len = 0;
	n->rx_held = false;
}

/* TX writes read guest buffers until they complete: after a reset the
 * driver may reuse them, after teardown they are unmapped.  The RX read
 * fills a host buffer (freed with the device): it matters at teardown. */
static bool stale_tx(const struct net *n, const struct net_tx *t)
{
	return t->busy && t->gen != n->vd.gen;
}

static unsigned net_draining(struct virtio_dev *vd)
{
	struct net *n = container_of(vd, struct net, vd);
	unsigned k = vd->quiesced && n->rx_armed;

	for (unsigned i = 0; i < NET_TX_SLOTS; i++)
		k += stale_tx(n, &n->tx[i]);
	return k;
}

static void net_cancel(struct virtio_dev *vd)
{
	struct net *n = container_of(vd, struct net, vd);

	for (unsigned i = 0; i < NET_TX_SLOTS; i++)
		if (stale_tx(n, &n->tx[i]))
			virtio_cancel_op(vd, &n->tx[i].op);
	if (vd->quiesced && n->rx_armed)
		virtio_cancel_op(vd, &n->rx_op);
}

/* ---- save / restore --------------------------------------------------- */
static int net_save(struct virtio_dev *vd, struct sbuf *sb)
{
	struct net *n = container_of(vd, struct net, vd);
	uint32_t ntx = 0;

	sbuf_put(sb, n->cfg.mac, 6);
	for (unsigned i = 0; i < NET_TX_SLOTS; i++)
		ntx += n->tx[i].busy && n->tx[i].gen == vd->gen;
	sbuf_put_u32(sb, ntx);
	for (unsigned i = 0; i < NET_TX_SLOTS; i++)
		if (n->tx[i].busy && n->tx[i].gen == vd->gen)
			sbuf_put_u32(sb, n->tx[i].head);
	return 0;
}

/* A frame in flight at save time counts as sent: its buffer is given back. */
static int net_restore(struct virtio_dev *vd, struct sbuf *sb)
{
	struct net *n = container_of(vd, struct net, vd);
	struct vq *q = &vd->q[TXQ].vq;
	uint8_t mac[6];
	uint32_t ntx;

	sbuf_get(sb, mac, 6);
	ntx = sbuf_get_u32(sb);
	if (sb->err || ntx > NET_TX_SLOTS)
		return -EINVAL;
	for (uint32_t i = 0; i < ntx; i++) {
		uint32_t h = sbuf_get_u32(sb);

		if (sb->err || !q->ready || h >= q->size)
			return -EINVAL;
		vq_push(q, (uint16_t)h, 0);
	}
	memcpy(n->cfg.mac, mac, 6);
	n->rx_len = 0;
	n->rx_held = false;
	n->cur_offloads = -1;
	if (ntx)
		virtio_dev_notify_used(vd, TXQ);
	return 0;
}

static void net_start(struct virtio_dev *vd)
{
	rx_kick(container_of(vd, struct net, vd));
}

static void net_cfg_read(struct virtio_dev *vd, uint32_t off, void *data,
			 unsigned size)
{
	memcpy(data, (const uint8_t *)&container_of(vd, struct net, vd)->cfg + off, size);
}

static void net_destroy(struct virtio_dev *vd)
{
	struct net *n = container_of(vd, struct net, vd);

	if (n->tap >= 0)
		close(n->tap);
	free(n->rx_buf);
	free(n->tx);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
	.device_id = VIRTIO_ID_NET,
	.nqueues = 2,
	.queue_max = NET_QUEUE_MAX,
	.cfg_size = offsetof(struct virtio_net_config, max_virtqueue_pairs),
	.cfg_read = net_cfg_read,
	.notify = net_notify,
	.start = net_start,
	.reset = net_reset,
	.draining = net_draining,
	.cancel = net_cancel,
	.save = net_save,
	.restore = net_restore,
	.destroy = net_destroy,
};

int net_update(struct dev_host *h, const char *tap, const struct ratelimit_cfg *rx,
	       const struct ratelimit_cfg *tx, struct errbuf *err)
{
	struct net *n = NULL;
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);

	for (unsigned i = 0; i < ndev && !n; i++) {
		struct virtio_dev *vd = virtio_dev_of(devs[i]);

		if (vd && vd->ops == &net_ops && !strncmp(container_of(vd, struct net, vd)->ifname,
							   tap, IFNAMSIZ))
			n = container_of(vd, struct net, vd);
	}
	if (!n)
		return err_set(err, ENODEV, "network interface on '%s': no such device", tap);
	pthread_mutex_lock(&n->vd.lock);
	if (rx)
		rl_update(&n->rx_rl, rx);
	if (tx)
		rl_update(&n->tx_rl, tx);
	pthread_mutex_unlock(&n->vd.lock);
	/* a held RX frame or a stopped TX queue waits for a timer set for
	 * the old limits: it fires now (cancelled), and the resume asks the
	 * new ones */
	if (rx)
		rl_rearm(&n->rx_rl, h->loop);
	if (tx)
		rl_rearm(&n->tx_rl, h->loop);
	return 0;
}

/* Opens the TAP with a vnet header and finds the offloads it takes. */
static int tap_open(struct net *n, const char *name, struct errbuf *err)
{
	static const unsigned probe[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, TUN_F_CSUM,
	};
	struct ifreq ifr;
	int hdr = NET_HDR;

	if (strlen(name) >= IFNAMSIZ)
		return err_set(err, EINVAL, "net '%s': interface name too long", name);
	n->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (n->tap < 0)
		return err_set(err, errno, "net '%s': /dev/net/tun: %s", name, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(n->tap, TUNSETIFF, &ifr) < 0)
		return err_set(err, errno, "net '%s': TUNSETIFF: %s", name, strerror(errno));
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0)
		return err_set(err, errno, "net '%s': TUNSETVNETHDRSZ: %s", name,
			       strerror(errno));
	memcpy(n->ifname, ifr.ifr_name, IFNAMSIZ);
	n->ifname[IFNAMSIZ - 1] = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(probe); i++)
		if (ioctl(n->tap, TUNSETOFFLOAD, (unsigned long)probe[i]) == 0) {
			n->tap_offloads = probe[i];
			break;
		}
	if (ioctl(n->tap, TUNSETOFFLOAD, 0UL) < 0)
		log_debug("net '%s': TUNSETOFFLOAD 0: %m", name);
	n->cur_offloads = 0;
	return 0;
}

int net_create(struct dev_host *h, unsigned idx, const struct net_cfg *cfg,
	       struct virtio_dev **out, struct errbuf *err)
{
	struct net *n = calloc(1, sizeof(*n));
	uint64_t feat;
	char name[24];
	int rc;

	if (!n)
		return err_set(err, ENOMEM, "net '%s': out of memory", cfg->tap);
	n->tap = -1;
	n->rx_buf = malloc(NET_BUF);
	n->tx = calloc(NET_TX_SLOTS, sizeof(*n->tx));
	if (!n->rx_buf || !n->tx) {
		rc = err_set(err, ENOMEM, "net '%s': out of memory", cfg->tap);
		goto fail;
	}
	rc = tap_open(n, cfg->tap, err);
	if (rc < 0)
		goto fail;
	n->rx_op.fn = on_rx;
	rl_init(&n->rx_rl, &cfg->rx_rl);
	n->rx_rl.resume = rx_rl_resume;
	rl_init(&n->tx_rl, &cfg->tx_rl);
	n->tx_rl.resume = tx_rl_resume;
	for (unsigned i = 0; i < NET_TX_SLOTS; i++) {
		n->tx[i].n = n;
		n->tx[i].op.fn = on_tx;
		tx_free(n, &n->tx[i]);
	}
	if (cfg->mac_set) {
		memcpy(n->cfg.mac, cfg->mac, 6);
	} else {	/* random, locally administered, unicast */
		if (getrandom(n->cfg.mac, 6, 0) != 6)
			memset(n->cfg.mac, 0x42, 6);
		n->cfg.mac[0] = (uint8_t)((n->cfg.mac[0] & 0xfe) | 0x02);
	}
	n->cfg.status = VIRTIO_NET_S_LINK_UP;
	feat = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
	       (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CSUM) |
	       (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
	       (1ULL << VIRTIO_NET_F_HOST_ECN);
	if (n->tap_offloads & TUN_F_CSUM)
		feat |= 1ULL << VIRTIO_NET_F_GUEST_CSUM;
	if (n->tap_offloads & TUN_F_TSO4)
		feat |= 1ULL << VIRTIO_NET_F_GUEST_TSO4;
	if (n->tap_offloads & TUN_F_TSO6)
		feat |= 1ULL << VIRTIO_NET_F_GUEST_TSO6;
	if (n->tap_offloads & TUN_F_TSO_ECN)
		feat |= 1ULL << VIRTIO_NET_F_GUEST_ECN;
	snprintf(name, sizeof(name), "net:%s", n->ifname);
	rc = virtio_dev_init(&n->vd, h, idx, &net_ops, feat, name, err);
	if (rc < 0)
		goto fail;
	host_add_device(h, &n->vd.dev);
	if (out)
		*out = &n->vd;
	return 0;
fail:
	if (n->tap >= 0)
		close(n->tap);
	free(n->rx_buf);
	free(n->tx);
	free(n);
	return rc;
}
