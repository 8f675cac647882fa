/* virtio/vsock/vsock.h - virtio-vsock (device 19) with Firecracker's hybrid
 * host side: the host speaks to the guest through Unix sockets.  A host
 * program connects to the listening socket at uds, writes "CONNECT <port>\n"
 * and, once the guest accepts, reads "OK <hostport>\n"; a guest connection
 * to host port P is connected to the socket "<uds>_P".  The one internal
 * header of virtio/vsock/: conn.c holds the packets and the connection
 * table, host.c the host sockets' I/O on the event loop.
 *
 * Credit (virtio 1.2, 5.10.6.3): each connection takes at most
 * VSOCK_BUF_ALLOC bytes from the guest that the host socket has not taken
 * yet (a guest sending more is answered with RST), and ember reads from a
 * host socket only as much as the guest said it has room for.  Threads:
 * everything runs on the loop thread with vd.lock held, except reset
 * (a vCPU thread), which only marks connections dead; the loop closes
 * them (ops->cancel). */
#pragma once
#include <stdint.h>
#include <sys/un.h>

#include <linux/virtio_vsock.h>

#include "virtio/virtio.h"

#define VSOCK_HOST_CID 2
#define VSOCK_QUEUE_MAX 256
#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))	/* 44 */
#define VSOCK_MAX_CONNS 64	/* at once; a REQUEST over that gets RST */
#define VSOCK_BUF_ALLOC (256u * 1024)	/* guest -> host bytes buffered per
					 * connection: Firecracker's value */
#define VSOCK_RX_CHUNK (64u * 1024)	/* host -> guest bytes read at once */
#define VSOCK_LINE_MAX 32	/* "CONNECT 4294967295\n" is 19 */
#define VSOCK_RST_QUEUE 32	/* RSTs for packets of no connection */
#define VSOCK_PORT_FIRST (1u << 30)	/* host ports of host-made connections */
#define VSOCK_IOV 16
/* A host-made connection the guest has not accepted (RESPONSE) or refused
 * (RST) this long after its CONNECT line is closed: Firecracker's
 * CONN_REQUEST_TIMEOUT_MS */
#define VSOCK_REQUEST_MS 2000
/* the longest uds path: "<uds>_4294967295" must fit a sun_path */
#define VSOCK_UDS_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 12)

enum vsock_state {
	VS_FREE,
	VS_LINE,	/* host-made: reading "CONNECT <port>\n" */
	VS_REQUEST,	/* host-made: REQUEST to the guest, waiting for RESPONSE */
	VS_CONNECTING,	/* guest-made: connect() to <uds>_<port> in flight */
	VS_OPEN,	/* established */
	VS_RST,		/* an RST to the guest is to go, then the connection dies */
	VS_DEAD,	/* closed: waits for its I/O to end, then freed */
};

/* What is owed to the guest (vsock_conn.pend). */
enum {
	VP_REQUEST = 1u << 0,
	VP_RESPONSE = 1u << 1,
	VP_CREDIT = 1u << 2,	/* CREDIT_UPDATE */
	VP_SHUTDOWN = 1u << 3,	/* SHUTDOWN(SEND): the host socket reached EOF */
};

struct vsock;
struct vsock_conn {
	struct vsock *v;
	enum vsock_state state;
	int fd;
	uint32_t local_port;	/* the host side's port */
	uint32_t peer_port;	/* the guest's port */
	unsigned pend;		/* VP_* */
	/* guest -> host: a ring of VSOCK_BUF_ALLOC bytes */
	uint8_t *tx_buf;
	uint32_t tx_cnt;	/* payload bytes taken from the guest */
	uint32_t fwd_cnt;	/* of them, written to the host socket */
	uint32_t fwd_told;	/* fwd_cnt in the last header sent */
	char line[24];		/* "OK <port>\n", written before any data */
	uint8_t line_len, line_off;
	bool writing, wr_shut;
	struct loop_op wr_op;
	struct iovec wr_iov[2];
	/* host -> guest */
	uint8_t *rx_buf;	/* VSOCK_RX_CHUNK bytes */
	uint32_t rx_len, rx_off;	/* [rx_off, rx_len) waits for the guest */
	uint32_t rx_cnt;	/* payload bytes sent to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool reading, host_eof, shut_sent;
	struct loop_op rd_op;
	uint32_t guest_shut;	/* VIRTIO_VSOCK_SHUTDOWN_* the guest sent */
	/* host-made: the REQUEST's timer (VSOCK_REQUEST_MS) */
	bool req_timing;
	struct loop_op req_op;
	struct __kernel_timespec req_ts;
	/* guest-made */
	bool connecting;
	struct loop_op conn_op;
	struct sockaddr_un addr;
};

struct vsock_rst {
	uint32_t src_port, dst_port;	/* as the RST carries them */
};

struct vsock {
	struct virtio_dev vd;
	uint64_t cid;
	char uds[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd;		/* the listening socket */
	bool unlink_uds;	/* we made the file: remove it at the end */
	bool accepting, lfd_dead;
	struct loop_op acc_op;
	bool evt_pending;	/* TRANSPORT_RESET to send (after a restore) */
	bool dead_conns;	/* reset left connections for the loop to close */
	uint32_t next_port;
	unsigned scan;		/* round-robin start over conns[] */
	struct vsock_rst rst[VSOCK_RST_QUEUE];
	unsigned nrst;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	/* scratch for one chain */
	struct iovec rd[VSOCK_IOV], wr[VSOCK_IOV];
};

/* ---- conn.c: packets and connections ---------------------------------- */
extern const struct virtio_dev_ops vsock_ops;
/* A free slot made ready for a new connection (fd -1, counters 0), or NULL
 * when VSOCK_MAX_CONNS are in use. */
struct vsock_conn *vsock_conn_new(struct vsock *v);
/* Ends c: with rst, an RST goes to the guest first (VS_RST); without, it
 * is VS_DEAD at once, its I/O cancelled (loop thread) and its fd closed
 * once none is left. */
void vsock_conn_close(struct vsock_conn *c, bool rst);
/* Bytes the guest has room for on c (its buf_alloc less what it holds). */
uint32_t vsock_peer_free(const struct vsock_conn *c);
/* Sends what the guest is owed (control packets, data within its credit)
 * into the RX queue.  Loop thread. */
void vsock_rx_run(struct vsock *v);
/* c's host socket took n bytes of the guest's: counts them and owes a
 * CREDIT_UPDATE when the guest may be waiting for room. */
void vsock_forwarded(struct vsock_conn *c, uint32_t n);
/* Checks whether c is over: the guest shut both ways (or shut SEND after
 * the host's EOF went to it) and every byte reached the host socket: an
 * RST then ends it, as Linux's close waits for. */
void vsock_conn_check_done(struct vsock_conn *c);

/* ---- host.c: the host sockets ----------------------------------------- */
/* Arms the accept on the listening socket (loop thread; no-op if armed). */
void vsock_accept_arm(struct vsock *v);
/* The guest answered c's REQUEST: its timer is cancelled (loop thread). */
void vsock_request_answered(struct vsock_conn *c);
/* Arms c's host read within the guest's credit, if it may read now. */
void vsock_read_arm(struct vsock_conn *c);
/* Starts writing c's pending bytes (the OK line, then the guest's data)
 * to its host socket, if not already. */
void vsock_write_kick(struct vsock_conn *c);
/* A guest REQUEST to host port c->local_port: connects a new socket to
 * "<uds>_<port>" (RESPONSE on success, RST on failure).  0 or -errno
 * (the caller answers RST). */
int vsock_connect(struct vsock_conn *c);
/* Cancels c's I/O in flight (loop thread); frees c if none is left. */
void vsock_conn_reap(struct vsock_conn *c);
/* I/O of c still in the kernel. */
unsigned vsock_conn_inflight(const struct vsock_conn *c);
