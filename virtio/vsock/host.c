/* virtio/vsock/host.c - virtio-vsock's host side: the listening Unix
 * socket, the "CONNECT <port>\n" line of a host-made connection, the
 * connect() of a guest-made one to "<uds>_<port>", and every connection's
 * reads and writes, all through the event loop's io_uring (no thread per
 * connection).  Each connection has at most one read, one write and one
 * connect in flight, into or out of its own buffers (never guest
 * memory): a reset or teardown cancels them and frees the connection
 * once they are over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "virtio/vsock/vsock.h"

unsigned vsock_conn_inflight(const struct vsock_conn *c)
{
	return (unsigned)c->reading + (unsigned)c->writing + (unsigned)c->connecting +
	       (unsigned)c->req_timing;
}

static void conn_release(struct vsock_conn *c)
{
	struct vsock *v = c->v;
	uint8_t *tx = c->tx_buf, *rx = c->rx_buf;

	if (c->fd >= 0)
		close(c->fd);
	free(tx);
	free(rx);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->state = VS_FREE;
	virtio_dev_drained(&v->vd);
}

void vsock_conn_reap(struct vsock_conn *c)
{
	struct virtio_dev *vd = &c->v->vd;

	if (!vsock_conn_inflight(c)) {
		conn_release(c);
		return;
	}
	if (c->reading)
		virtio_cancel_op(vd, &c->rd_op);
	if (c->writing)
		virtio_cancel_op(vd, &c->wr_op);
	if (c->connecting)
		virtio_cancel_op(vd, &c->conn_op);
	if (c->req_timing)
		virtio_cancel_op(vd, &c->req_op);
}

/* A completion of a dead connection: frees it when it was the last. */
static bool dead_done(struct vsock_conn *c)
{
	if (c->state != VS_DEAD)
		return false;
	if (!vsock_conn_inflight(c))
		conn_release(c);
	return true;
}

/* ---- reads: the CONNECT line, then data within the guest's credit ------ */
static void line_read(struct vsock_conn *c)
{
	struct io_uring_sqe *sqe = loop_sqe(c->v->vd.host->loop, &c->rd_op);

	io_uring_prep_read(sqe, c->fd, c->rx_buf + c->rx_len, VSOCK_LINE_MAX - c->rx_len, 0);
	c->reading = true;
}

void vsock_read_arm(struct vsock_conn *c)
{
	struct io_uring_sqe *sqe;
	uint32_t want = vsock_peer_free(c);

	if (c->reading || c->state != VS_OPEN || c->host_eof || c->rx_len ||
	    (c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) || !want || !c->v->vd.host->loop)
		return;
	if (want > VSOCK_RX_CHUNK)
		want = VSOCK_RX_CHUNK;
	sqe = loop_sqe(c->v->vd.host->loop, &c->rd_op);
	io_uring_prep_read(sqe, c->fd, c->rx_buf, want, 0);
	c->reading = true;
}

/* "CONNECT <port>\n" at the start of rx_buf: the port, or -1. */
static long parse_connect(const uint8_t *b, uint32_t n)
{
	static const char pfx[] = "CONNECT ";
	unsigned long port = 0;
	uint32_t i = sizeof(pfx) - 1;

	if (n <= i || memcmp(b, pfx, i))
		return -1;
	if (b[i] == '\n')
		return -1;
	for (; i < n && b[i] != '\n'; i++) {
		if (b[i] < '0' || b[i] > '9')
			return -1;
		port = port * 10 + (b[i] - '0');
		if (port > UINT32_MAX)
			return -1;
	}
	return i < n ? (long)port : -1;
}

static uint32_t port_alloc(struct vsock *v)
{
	for (;;) {
		uint32_t p = v->next_port++;
		bool used = false;

		if (v->next_port < VSOCK_PORT_FIRST)
			v->next_port = VSOCK_PORT_FIRST;
		for (unsigned i = 0; i < VSOCK_MAX_CONNS && !used; i++)
			used = v->conns[i].state != VS_FREE && v->conns[i].local_port == p;
		if (!used)
			return p;
	}
}

/* The REQUEST's timer: a guest that never answers (stuck, or its vsock
 * driver gone) must not hold the host's connection forever. */
static void on_request_timeout(struct loop_op *op, int res, uint32_t flags)
{
	struct vsock_conn *c = container_of(op, struct vsock_conn, req_op);
	struct vsock *v = c->v;

	(void)flags;
	pthread_mutex_lock(&v->vd.lock);
	c->req_timing = false;
	if (dead_done(c))
		goto out;
	if (res == -ETIME && c->state == VS_REQUEST) {
		log_info("%s: the guest did not answer a host connection to its port %u in "
			 "%u ms: closed", v->vd.name, c->peer_port, VSOCK_REQUEST_MS);
		/* an RST withdraws a REQUEST the guest may have taken */
		vsock_conn_close(c, !(c->pend & VP_REQUEST));
		vsock_rx_run(v);
	}
out:
	pthread_mutex_unlock(&v->vd.lock);
}

static void request_timer_arm(struct vsock_conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->v->vd.host->loop)
		return;
	c->req_op.fn = on_request_timeout;
	c->req_ts.tv_sec = VSOCK_REQUEST_MS / 1000;
	c->req_ts.tv_nsec = (VSOCK_REQUEST_MS % 1000) * 1000000LL;
	sqe = loop_sqe(c->v->vd.host->loop, &c->req_op);
	io_uring_prep_timeout(sqe, &c->req_ts, 0, 0);
	io_uring_sqe_set_data(sqe, &c->req_op);
	c->req_timing = true;
}

void vsock_request_answered(struct vsock_conn *c)
{
	if (c->req_timing)
		virtio_cancel_op(&c->v->vd, &c->req_op);
}

static void line_done(struct vsock_conn *c, int res)
{
	struct vsock *v = c->v;
	uint8_t *nl;
	long port;

	if (res <= 0) {		/* the host went before its CONNECT line */
		vsock_conn_close(c, false);
		return;
	}
	c->rx_len += (uint32_t)res;
	nl = memchr(c->rx_buf, '\n', c->rx_len);
	if (!nl) {
		if (c->rx_len < VSOCK_LINE_MAX) {
			line_read(c);
			return;
		}
		log_warn("%s: a host connection sent no \"CONNECT <port>\\n\" in its first "
			 "%u bytes: closed", v->vd.name, VSOCK_LINE_MAX);
		vsock_conn_close(c, false);
		return;
	}
	port = parse_connect(c->rx_buf, c->rx_len);
	if (port < 0) {
		log_warn("%s: a host connection's first line is not \"CONNECT <port>\": "
			 "closed", v->vd.name);
		vsock_conn_close(c, false);
		return;
	}
	/* what follows the line is data for the guest, sent once it accepts */
	c->rx_len -= (uint32_t)(nl + 1 - c->rx_buf);
	memmove(c->rx_buf, nl + 1, c->rx_len);
	c->peer_port = (uint32_t)port;
	c->local_port = port_alloc(v);
	c->state = VS_REQUEST;
	c->pend |= VP_REQUEST;
	request_timer_arm(c);
}

static void on_read(struct loop_op *op, int res, uint32_t flags)
{
	struct vsock_conn *c = container_of(op, struct vsock_conn, rd_op);
	struct vsock *v = c->v;

	(void)flags;
	pthread_mutex_lock(&v->vd.lock);
	c->reading = false;
	if (dead_done(c))
		goto out;
	if (c->state == VS_LINE) {
		line_done(c, res);
	} else if (c->state == VS_OPEN) {
		if (res > 0) {
			c->rx_off = 0;
			c->rx_len = (uint32_t)res;
		} else if (res == 0) {
			c->host_eof = true;
			c->pend |= VP_SHUTDOWN;
		} else if (res != -EINTR && res != -EAGAIN && res != -ECANCELED) {
			log_debug("%s: port %u: host socket read: %s", v->vd.name,
				  c->local_port, strerror(-res));
			vsock_conn_close(c, true);
		}
		vsock_read_arm(c);
	}
	vsock_rx_run(v);
out:
	pthread_mutex_unlock(&v->vd.lock);
}

/* ---- writes: the OK line, then the guest's bytes ---------------------- */
void vsock_write_kick(struct vsock_conn *c)
{
	struct io_uring_sqe *sqe;
	uint32_t held = c->tx_cnt - c->fwd_cnt;

	if (c->writing || c->state != VS_OPEN || !c->v->vd.host->loop)
		return;
	if (c->line_off < c->line_len) {
		sqe = loop_sqe(c->v->vd.host->loop, &c->wr_op);
		io_uring_prep_write(sqe, c->fd, c->line + c->line_off,
				    (unsigned)(c->line_len - c->line_off), 0);
	} else if (held) {
		uint32_t pos = c->fwd_cnt % VSOCK_BUF_ALLOC;
		uint32_t first = VSOCK_BUF_ALLOC - pos < held ? VSOCK_BUF_ALLOC - pos : held;
		unsigned n = 1;

		c->wr_iov[0] = (struct iovec){ c->tx_buf + pos, first };
		if (held > first)
			c->wr_iov[n++] = (struct iovec){ c->tx_buf, held - first };
		sqe = loop_sqe(c->v->vd.host->loop, &c->wr_op);
		io_uring_prep_writev(sqe, c->fd, c->wr_iov, n, 0);
	} else {		/* all written */
		if ((c->guest_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) && !c->wr_shut) {
			c->wr_shut = true;
			if (shutdown(c->fd, SHUT_WR) < 0)
				log_debug("%s: port %u: shutdown: %m", c->v->vd.name,
					  c->local_port);
		}
		return;
	}
	c->writing = true;
}

static void on_write(struct loop_op *op, int res, uint32_t flags)
{
	struct vsock_conn *c = container_of(op, struct vsock_conn, wr_op);
	struct vsock *v = c->v;

	(void)flags;
	pthread_mutex_lock(&v->vd.lock);
	c->writing = false;
	if (dead_done(c) || c->state != VS_OPEN)
		goto out;
	if (res > 0) {
		if (c->line_off < c->line_len) {
			c->line_off = (uint8_t)(c->line_off + res);
			if (c->line_off == c->line_len)
				vsock_read_arm(c);	/* the host knows: data may flow */
		} else {
			vsock_forwarded(c, (uint32_t)res);
		}
		vsock_write_kick(c);
		vsock_conn_check_done(c);
	} else if (res != -EINTR && res != -EAGAIN) {
		log_debug("%s: port %u: host socket write: %s", v->vd.name, c->local_port,
			  res ? strerror(-res) : "wrote nothing");
		vsock_conn_close(c, true);
	} else {
		vsock_write_kick(c);
	}
	vsock_rx_run(v);
out:
	pthread_mutex_unlock(&v->vd.lock);
}

/* ---- guest-made connections: connect to <uds>_<port> ------------------- */
static void on_connect(struct loop_op *op, int res, uint32_t flags)
{
	struct vsock_conn *c = container_of(op, struct vsock_conn, conn_op);
	struct vsock *v = c->v;

	(void)flags;
	pthread_mutex_lock(&v->vd.lock);
	c->connecting = false;
	if (dead_done(c) || c->state != VS_CONNECTING)
		goto out;
	if (res == 0) {
		c->state = VS_OPEN;
		c->pend |= VP_RESPONSE;
		vsock_read_arm(c);
	} else {
		log_debug("%s: guest connection to host port %u: '%s': %s", v->vd.name,
			  c->local_port, c->addr.sun_path, strerror(-res));
		vsock_conn_close(c, true);
	}
	vsock_rx_run(v);
out:
	pthread_mutex_unlock(&v->vd.lock);
}

int vsock_connect(struct vsock_conn *c)
{
	struct vsock *v = c->v;
	struct io_uring_sqe *sqe;
	int k;

	if (!v->vd.host->loop)
		return -ENOTCONN;
	c->addr.sun_family = AF_UNIX;
	k = snprintf(c->addr.sun_path, sizeof(c->addr.sun_path), "%s_%u", v->uds,
		     c->local_port);
	if (k < 0 || (size_t)k >= sizeof(c->addr.sun_path))
		return -ENAMETOOLONG;	/* cannot be: vsock_create checked */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		log_warn("%s: a socket for host port %u: %m", v->vd.name, c->local_port);
		return -errno;
	}
	c->rd_op.fn = on_read;
	c->wr_op.fn = on_write;
	c->conn_op.fn = on_connect;
	sqe = loop_sqe(v->vd.host->loop, &c->conn_op);
	io_uring_prep_connect(sqe, c->fd, (struct sockaddr *)&c->addr, sizeof(c->addr));
	c->connecting = true;
	return 0;
}

/* ---- host-made connections: the listening socket ------------------------ */
static void on_accept(struct loop_op *op, int res, uint32_t flags)
{
	struct vsock *v = container_of(op, struct vsock, acc_op);
	struct vsock_conn *c;

	(void)flags;
	pthread_mutex_lock(&v->vd.lock);
	v->accepting = false;
	if (v->vd.quiesced) {
		if (res >= 0)
			close(res);
		virtio_dev_drained(&v->vd);
		goto out;
	}
	if (res >= 0) {
		c = virtio_dev_queue_live(&v->vd, VSOCK_RXQ) ? vsock_conn_new(v) : NULL;
		if (!c) {
			log_debug("%s: host connection refused: the driver is not ready, "
				  "or %d connections are open", v->vd.name, VSOCK_MAX_CONNS);
			close(res);
		} else {
			c->fd = res;
			c->state = VS_LINE;
			c->rd_op.fn = on_read;
			c->wr_op.fn = on_write;
			c->conn_op.fn = on_connect;
			line_read(c);
		}
	} else if (res != -EINTR && res != -EAGAIN && res != -ECONNABORTED &&
		   res != -ECANCELED) {
		log_warn("%s: accept on '%s': %s; no more host connections", v->vd.name,
			 v->uds, strerror(-res));
		v->lfd_dead = true;
	}
	vsock_accept_arm(v);
	vsock_rx_run(v);
out:
	pthread_mutex_unlock(&v->vd.lock);
}

void vsock_accept_arm(struct vsock *v)
{
	struct io_uring_sqe *sqe;

	if (v->accepting || v->lfd_dead || v->vd.quiesced || !v->vd.host->loop)
		return;
	sqe = loop_sqe(v->vd.host->loop, &v->acc_op);
	io_uring_prep_accept(sqe, v->lfd, NULL, NULL, SOCK_CLOEXEC);
	v->accepting = true;
}

int vsock_create(struct dev_host *h, unsigned n, const struct vsock_cfg *cfg,
		 struct virtio_dev **out, struct errbuf *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vsock *v;
	int rc;

	if (cfg->cid < 3 || cfg->cid > UINT32_MAX - 1)
		return err_set(err, EINVAL, "vsock: guest CID %llu: it must be 3..%u (0-2 "
			       "are reserved, -1 means any)", (unsigned long long)cfg->cid,
			       UINT32_MAX - 1);
	if (strlen(cfg->uds) > VSOCK_UDS_MAX)
		return err_set(err, ENAMETOOLONG, "vsock: socket path '%s' is %zu bytes, over "
			       "%d (a Unix socket path, with \"_<port>\" for guest connections)",
			       cfg->uds, strlen(cfg->uds), VSOCK_UDS_MAX);
	v = calloc(1, sizeof(*v));
	if (!v)
		return err_set(err, ENOMEM, "vsock: out of memory");
	v->cid = cfg->cid;
	v->next_port = VSOCK_PORT_FIRST;
	v->acc_op.fn = on_accept;
	for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
		v->conns[i].fd = -1;
	snprintf(v->uds, sizeof(v->uds), "%s", cfg->uds);
	memcpy(sa.sun_path, v->uds, strlen(v->uds));
	v->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (v->lfd < 0) {
		rc = err_set(err, errno, "vsock: socket: %s", strerror(errno));
		goto fail;
	}
	if (bind(v->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = err_set(err, errno, "vsock: '%s': %s%s", v->uds, strerror(errno),
			     errno == EADDRINUSE ? " (remove the file, or name another path)" : "");
		goto fail;
	}
	v->unlink_uds = true;
	if (listen(v->lfd, 64) < 0) {
		rc = err_set(err, errno, "vsock: listen on '%s': %s", v->uds, strerror(errno));
		goto fail;
	}
	rc = virtio_dev_init(&v->vd, h, n, &vsock_ops, 0, "vsock", err);
	if (rc < 0)
		goto fail;
	host_add_device(h, &v->vd.dev);
	if (out)
		*out = &v->vd;
	return 0;
fail:
	if (v->lfd >= 0)
		close(v->lfd);
	if (v->unlink_uds)
		unlink(v->uds);
	free(v);
	return rc;
}
