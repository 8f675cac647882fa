/* tests/unit/test_virtio_vsock.c - virtio-vsock's packets over fake guest
 * RAM, with real Unix sockets in a temporary directory as the host side:
 * a guest connection to a host listener, a host connection through
 * "CONNECT <port>\n", credit both ways, RST for bad packets and for a
 * guest ignoring credit, shutdown in both orders, reset, restore's
 * TRANSPORT_RESET, and rings that break the contract. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "tests/unit/test_virtio.h"
#include "virtio/vsock/vsock.h"

#define CID 5
#define RXQ VSOCK_RXQ
#define TXQ VSOCK_TXQ
#define EVQ VSOCK_EVQ
#define RXB(k) (VT_BUF + 0x2000ULL * (k))	/* RX buffers, 8 KiB apart */
#define TXB(k) (0x400000ULL + 0x1000ULL * (k))	/* TX packets, 4 KiB apart */
#define BIGB 0x800000ULL			/* one large TX packet */
#define NRX 32

static struct loop loop;
static char dir[64], uds[96];
static uint16_t tx_used, rx_used, tx_head, rx_next;

static void setup(void)
{
	struct vsock_cfg cfg = { .cid = CID, .uds = uds };
	struct errbuf err;

	snprintf(dir, sizeof(dir), "/tmp/ember-vsock-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(uds, sizeof(uds), "%s/v", dir);
	vt_setup_vm();
	cr_assert_eq(loop_init(&loop, 256), 0);
	vt_vm.host.loop = &loop;
	cr_assert_eq(vsock_create(&vt_vm.host, 0, &cfg, &vt_vd, &err), 0, "%s", err.msg);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), 64);
	tx_used = rx_used = tx_head = rx_next = 0;
}

static void teardown(void)
{
	char p[128];

	virtio_quiesce(&vt_vm.host, 2000);
	vt_teardown();
	loop_destroy(&loop);
	snprintf(p, sizeof(p), "%s/v_5000", dir);
	unlink(p);
	rmdir(dir);
}

TestSuite(virtio_vsock, .init = setup, .fini = teardown, .timeout = 30);

static void kick(unsigned q)
{
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* n more 4 KiB + header RX buffers for the guest to receive into */
static void post_rx(unsigned n)
{
	for (unsigned i = 0; i < n; i++, rx_next++)
		vt_post_write(RXQ, rx_next % NRX, RXB(rx_next % NRX), VSOCK_HDR + 4096);
	kick(RXQ);
}

static struct virtio_vsock_hdr hdr(uint16_t op, uint32_t src, uint32_t dst, uint32_t len)
{
	return (struct virtio_vsock_hdr){ .src_cid = CID, .dst_cid = VSOCK_HOST_CID,
		.src_port = src, .dst_port = dst, .len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .buf_alloc = 65536 };
}

/* Sends one packet (header + payload in one readable buffer) at addr and
 * waits for the device to give it back. */
static void send_at(uint64_t addr, struct virtio_vsock_hdr h, const void *data)
{
	uint16_t head = tx_head++ % 64;

	memcpy(vt_g(addr), &h, VSOCK_HDR);
	if (h.len)
		memcpy(vt_g(addr + VSOCK_HDR), data, h.len);
	vt_set_desc(TXQ, head, addr, VSOCK_HDR + h.len, 0, 0);
	vt_avail_add(TXQ, head);
	kick(TXQ);
	cr_assert(vt_pump_until_used(&loop, TXQ, ++tx_used), "TX packet not used");
}

static void gsend(struct virtio_vsock_hdr h, const void *data)
{
	send_at(TXB(tx_head % 64), h, data);
}

/* Waits for the next packet to the guest; its payload into data (cap). */
static struct virtio_vsock_hdr grecv(void *data, size_t cap)
{
	struct virtio_vsock_hdr h;
	uint32_t id;

	cr_assert(vt_pump_until_used(&loop, RXQ, (uint16_t)(rx_used + 1)),
		  "no packet came to the guest");
	id = vt_used_id(RXQ, rx_used % 64);
	cr_assert_geq(vt_used_len(RXQ, rx_used % 64), VSOCK_HDR);
	rx_used++;
	memcpy(&h, vt_g(RXB(id)), VSOCK_HDR);
	cr_assert_eq(h.src_cid, VSOCK_HOST_CID);
	cr_assert_eq(h.dst_cid, CID);
	cr_assert_eq(vt_used_len(RXQ, (uint16_t)(rx_used - 1) % 64), VSOCK_HDR + h.len);
	if (data) {
		cr_assert_leq(h.len, cap);
		memcpy(data, vt_g(RXB(id) + VSOCK_HDR), h.len);
	}
	return h;
}

/* Reads exactly n bytes from the host socket fd, turning the loop while
 * ember's writes are still to come. */
static void host_read(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&p, 1, 0) == 1) {
			k = read(fd, (char *)buf + got, n - got);
			cr_assert_gt(k, 0, "host socket closed after %zu of %zu bytes", got, n);
			got += (size_t)k;
		} else {
			cr_assert_gt(vt_loop_turn(&loop, true), 0, "nothing came for the host");
		}
	}
}

/* EOF on the host socket (turning the loop until it comes). */
static void host_eof(int fd)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, 0) == 1) {
			/* ECONNRESET: ember closed with bytes it had not read */
			cr_assert(read(fd, &c, 1) == 0 || errno == ECONNRESET,
				  "data where EOF was expected");
			return;
		}
		cr_assert_gt(vt_loop_turn(&loop, true), 0, "no EOF came for the host");
	}
}

static int listen_at(unsigned port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", uds, port);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 4), 0);
	return s;
}

/* The guest connects from port 1234 to host port 5000: the host's socket. */
static int guest_connect(void)
{
	int l = listen_at(5000), c;
	struct virtio_vsock_hdr h;

	post_rx(8);
	gsend(hdr(VIRTIO_VSOCK_OP_REQUEST, 1234, 5000, 0), NULL);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RESPONSE);
	cr_assert_eq(h.src_port, 5000);
	cr_assert_eq(h.dst_port, 1234);
	cr_assert_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	cr_assert_eq(h.fwd_cnt, 0);
	c = accept(l, NULL, NULL);
	cr_assert_geq(c, 0);
	close(l);
	return c;
}

Test(virtio_vsock, guest_connects_and_data_flows_both_ways)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h;
	char buf[16];

	gsend(hdr(VIRTIO_VSOCK_OP_RW, 1234, 5000, 5), "hello");
	host_read(c, buf, 5);
	cr_assert_eq(memcmp(buf, "hello", 5), 0);
	cr_assert_eq(write(c, "world!", 6), 6);
	h = grecv(buf, sizeof(buf));
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(h.len, 6);
	cr_assert_eq(memcmp(buf, "world!", 6), 0);
	cr_assert_eq(h.fwd_cnt, 5, "the header tells the guest what the host took");
	close(c);
}

Test(virtio_vsock, guest_connect_with_no_listener_gets_rst)
{
	struct virtio_vsock_hdr h;

	post_rx(2);
	gsend(hdr(VIRTIO_VSOCK_OP_REQUEST, 1234, 5001, 0), NULL);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(h.src_port, 5001);
	cr_assert_eq(h.dst_port, 1234);
}

/* the first connection slot (the one a test's only connection takes) */
static struct vsock_conn *vt_conn0(void)
{
	return &container_of(vt_vd, struct vsock, vd)->conns[0];
}

static int host_connect(const char *first, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	cr_assert_eq(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(write(s, first, n), (ssize_t)n);
	return s;
}

Test(virtio_vsock, host_connects_with_connect_line)
{
	static const char first[] = "CONNECT 77\nabc";
	int s = host_connect(first, sizeof(first) - 1);
	struct virtio_vsock_hdr h;
	char buf[32];

	post_rx(8);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
	cr_assert_eq(h.dst_port, 77);
	cr_assert_eq(h.src_port, VSOCK_PORT_FIRST);
	gsend(hdr(VIRTIO_VSOCK_OP_RESPONSE, 77, VSOCK_PORT_FIRST, 0), NULL);
	host_read(s, buf, 14);
	cr_assert_eq(memcmp(buf, "OK 1073741824\n", 14), 0);
	h = grecv(buf, sizeof(buf));	/* the bytes after the line */
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(h.len, 3);
	cr_assert_eq(memcmp(buf, "abc", 3), 0);
	/* the REQUEST's timer was cancelled when the RESPONSE came: its
	 * completion is in (or comes at once), and nothing is left armed */
	for (int k = 0; k < 100 && vt_conn0()->req_timing; k++)
		vt_loop_turn(&loop, false);
	cr_assert(!vt_conn0()->req_timing, "the answered REQUEST's timer is still armed");
	cr_assert_eq(vt_conn0()->state, VS_OPEN);
	close(s);
}

/* A guest that takes the REQUEST and never answers: after
 * VSOCK_REQUEST_MS the host socket is closed and the guest gets an RST
 * that withdraws the REQUEST. */
Test(virtio_vsock, host_request_unanswered_is_closed)
{
	static const char first[] = "CONNECT 78\n";
	int s = host_connect(first, sizeof(first) - 1);
	struct virtio_vsock_hdr h;
	struct timespec t0, t1;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	post_rx(8);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
	host_eof(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_geq(ms, VSOCK_REQUEST_MS - 10, "closed after %ld ms", ms);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(h.dst_port, 78);
	cr_assert_eq(h.src_port, VSOCK_PORT_FIRST);
	close(s);
}

Test(virtio_vsock, host_bad_connect_line_is_closed)
{
	static const char first[] = "HELLO 77\n";
	int s = host_connect(first, sizeof(first) - 1);

	post_rx(2);
	host_eof(s);
	cr_assert_eq(vt_used_idx(RXQ), 0, "the guest heard nothing");
	close(s);
}

Test(virtio_vsock, host_line_without_newline_is_bounded)
{
	char junk[VSOCK_LINE_MAX + 8];
	int s;

	memset(junk, 'C', sizeof(junk));
	s = host_connect(junk, sizeof(junk));
	host_eof(s);
	close(s);
}

Test(virtio_vsock, packets_of_no_connection_get_rst)
{
	struct virtio_vsock_hdr h, bad = hdr(VIRTIO_VSOCK_OP_REQUEST, 9, 5000, 0);

	post_rx(4);
	gsend(hdr(VIRTIO_VSOCK_OP_RW, 9, 4000, 3), "xyz");
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	cr_assert_eq(h.src_port, 4000);
	cr_assert_eq(h.dst_port, 9);
	bad.type = 7;		/* not a stream */
	gsend(bad, NULL);
	cr_assert_eq(grecv(NULL, 0).op, VIRTIO_VSOCK_OP_RST);
	gsend(hdr(VIRTIO_VSOCK_OP_RST, 9, 4000, 0), NULL);	/* never answered */
	bad = hdr(VIRTIO_VSOCK_OP_RW, 9, 4000, 0);
	bad.src_cid = 99;	/* not the guest's CID: dropped */
	gsend(bad, NULL);
	cr_assert_eq(vt_used_idx(RXQ), 2);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

Test(virtio_vsock, bad_packet_on_a_connection_resets_it)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 5000, 4);

	gsend(h, "oops");	/* a payload on a control packet */
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	host_eof(c);
	close(c);
}

Test(virtio_vsock, guest_ignoring_credit_gets_rst)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_RW, 1234, 5000, VSOCK_BUF_ALLOC + 1);
	static char big[VSOCK_BUF_ALLOC + 1];

	send_at(BIGB, h, big);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	host_eof(c);
	close(c);
}

Test(virtio_vsock, host_data_waits_for_guest_credit)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 5000, 0);
	char buf[64];

	h.buf_alloc = 10;	/* the guest has room for 10 bytes */
	gsend(h, NULL);
	cr_assert_eq(write(c, "0123456789abcdefghij", 20), 20);
	h = grecv(buf, sizeof(buf));
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(h.len, 10);
	cr_assert_eq(memcmp(buf, "0123456789", 10), 0);
	vt_loop_turn(&loop, false);
	cr_assert_eq(vt_used_idx(RXQ), rx_used, "nothing past the guest's credit");
	h = hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 5000, 0);
	h.buf_alloc = 10;
	h.fwd_cnt = 10;		/* it read them */
	gsend(h, NULL);
	h = grecv(buf, sizeof(buf));
	cr_assert_eq(h.len, 10);
	cr_assert_eq(memcmp(buf, "abcdefghij", 10), 0);
	close(c);
}

/* a buffer that holds only a header carries no data: a credit update */
Test(virtio_vsock, header_only_rx_buffer_gets_no_empty_rw)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h;
	char buf[8];
	uint16_t head;

	rx_used = vt_used_idx(RXQ);
	cr_assert_eq(write(c, "data", 4), 4);
	h = grecv(buf, sizeof(buf));	/* one of the 8 posted buffers */
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	/* use up what is left, then offer a 44-byte buffer with data waiting */
	for (unsigned i = 0; i < 6; i++) {
		gsend(hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1234, 5000, 0), NULL);
		cr_assert_eq(grecv(NULL, 0).op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	}
	cr_assert_eq(write(c, "more", 4), 4);
	head = rx_next++ % NRX;
	vt_post_write(RXQ, head, RXB(head), VSOCK_HDR);
	kick(RXQ);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(h.len, 0);
	post_rx(1);
	h = grecv(buf, sizeof(buf));
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	cr_assert_eq(memcmp(buf, "more", 4), 0);
	close(c);
}

Test(virtio_vsock, credit_request_is_answered)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h;

	gsend(hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1234, 5000, 0), NULL);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	close(c);
}

Test(virtio_vsock, guest_shuts_down_first)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 5000, 0);
	char buf[4];

	gsend(hdr(VIRTIO_VSOCK_OP_RW, 1234, 5000, 4), "last");
	h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	gsend(h, NULL);
	host_read(c, buf, 4);	/* what was sent before still arrives */
	cr_assert_eq(memcmp(buf, "last", 4), 0);
	host_eof(c);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST, "the close is confirmed with RST");
	close(c);
}

Test(virtio_vsock, host_shuts_down_first)
{
	int c = guest_connect();
	struct virtio_vsock_hdr h;
	char buf[8];

	cr_assert_eq(write(c, "bye", 3), 3);
	cr_assert_eq(shutdown(c, SHUT_WR), 0);
	h = grecv(buf, sizeof(buf));
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RW);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	cr_assert_eq(h.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	/* the guest can still send; then it closes */
	gsend(hdr(VIRTIO_VSOCK_OP_RW, 1234, 5000, 2), "ok");
	host_read(c, buf, 2);
	h = hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 1234, 5000, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	gsend(h, NULL);
	h = grecv(NULL, 0);
	cr_assert_eq(h.op, VIRTIO_VSOCK_OP_RST);
	host_eof(c);
	close(c);
}

Test(virtio_vsock, guest_rst_closes_host_socket)
{
	int c = guest_connect();

	gsend(hdr(VIRTIO_VSOCK_OP_RST, 1234, 5000, 0), NULL);
	host_eof(c);
	close(c);
}

Test(virtio_vsock, reset_closes_every_connection)
{
	int c = guest_connect();

	vt_wr(VIRTIO_MMIO_STATUS, 0);
	host_eof(c);		/* the loop closed it (ops->cancel) */
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	close(c);
}

Test(virtio_vsock, restore_sends_transport_reset)
{
	struct sbuf sb, rb;
	struct virtio_vsock_event e;

	sbuf_init(&sb);
	cr_assert_eq(vt_vd->dev.ops->save(&vt_vd->dev, &sb), 0);
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), 0);
	vt_post_write(EVQ, 0, RXB(40), 4);
	kick(EVQ);
	cr_assert(vt_pump_until_used(&loop, EVQ, 1));
	memcpy(&e, vt_g(RXB(40)), 4);
	cr_assert_eq(e.id, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	cr_assert_eq(vt_used_len(EVQ, 0), 4);
	sbuf_free(&sb);
}

Test(virtio_vsock, rx_buffer_readable_needs_reset)
{
	vt_set_desc(RXQ, 0, RXB(0), 4096, 0, 0);	/* not device-writable */
	vt_avail_add(RXQ, 0);
	gsend(hdr(VIRTIO_VSOCK_OP_RW, 9, 4000, 0), NULL);	/* an RST is owed */
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

Test(virtio_vsock, tx_packet_shorter_than_header_needs_reset)
{
	vt_set_desc(TXQ, 0, TXB(0), 20, 0, 0);
	vt_avail_add(TXQ, 0);
	kick(TXQ);
	cr_assert(vt_pump_until_used(&loop, TXQ, 1));
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

Test(virtio_vsock, tx_packet_length_past_its_buffer_gets_rst)
{
	struct virtio_vsock_hdr h = hdr(VIRTIO_VSOCK_OP_RW, 9, 4000, 1000);
	uint16_t head = tx_head++;

	post_rx(1);
	memcpy(vt_g(TXB(0)), &h, VSOCK_HDR);
	vt_set_desc(TXQ, head, TXB(0), VSOCK_HDR + 10, 0, 0);	/* len says 1000 */
	vt_avail_add(TXQ, head);
	kick(TXQ);
	cr_assert(vt_pump_until_used(&loop, TXQ, ++tx_used));
	cr_assert_eq(grecv(NULL, 0).op, VIRTIO_VSOCK_OP_RST);
}

Test(virtio_vsock, config_reads_the_guest_cid)
{
	cr_assert_eq(vt_rd(VIRTIO_MMIO_DEVICE_ID), 19);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_CONFIG), CID);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_CONFIG + 4), 0);
}
