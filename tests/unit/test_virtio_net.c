/* tests/unit/test_virtio_net.c - virtio-net on a real TAP (skipped without
 * /dev/net/tun or CAP_NET_ADMIN): a frame the guest sends comes out of the
 * TAP, a frame sent into the TAP lands in guest buffers, merged across
 * several when MRG_RXBUF is on.  The host side is an AF_PACKET socket on
 * the TAP interface; waits are poll()s on it, with a deadline. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

#define ETHERTYPE 0x88b5	/* IEEE local experimental */
#define RXBUF(k) (VT_BUF + 0x1000ULL * (k))
#define TXBUF 0x200000ULL

static struct loop loop;
static int psock = -1;
static int ifindex;
static bool have_tap;

static void set_if(const char *ifname)
{
	char path[128];
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {		/* no router solicitations in our way */
		cr_assert_eq(write(fd, "1", 1), 1);
		close(fd);
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_mtu = 9000;
	cr_assert_eq(ioctl(s, SIOCSIFMTU, &ifr), 0);
	cr_assert_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	cr_assert_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
	ifindex = (int)if_nametoindex(ifname);
	cr_assert_gt(ifindex, 0);
}

static void setup_net_with(const struct ratelimit_cfg *rx, const struct ratelimit_cfg *tx)
{
	struct net_cfg cfg = { .tap = "embt%d", .mac_set = true,
			       .mac = { 0x02, 0, 0, 0, 0, 0x01 }, .rx_rl = *rx, .tx_rl = *tx };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct errbuf err;

	vt_setup_vm();
	cr_assert_eq(loop_init(&loop, 256), 0);
	vt_vm.host.loop = &loop;
	have_tap = net_create(&vt_vm.host, 0, &cfg, &vt_vd, &err) == 0;
	if (!have_tap)
		return;
	set_if(vt_vd->name + 4);	/* "net:<ifname>" */
	psock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));
	cr_assert_geq(psock, 0);
	sll.sll_protocol = htons(ETHERTYPE);
	sll.sll_ifindex = ifindex;
	cr_assert_eq(bind(psock, (struct sockaddr *)&sll, sizeof(sll)), 0);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(1ULL << VIRTIO_NET_F_MRG_RXBUF |
				   1ULL << VIRTIO_NET_F_MAC), 256);
}

static void setup_net(void)
{
	static const struct ratelimit_cfg none;

	setup_net_with(&none, &none);
}

static void teardown_net(void)
{
	if (psock >= 0)
		close(psock);
	psock = -1;
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
	vt_teardown();
}

static size_t make_frame(uint8_t *f, size_t payload, uint8_t fill)
{
	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, (uint8_t[]){ 0x02, 0, 0, 0, 0, 0x02 }, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	for (size_t i = 0; i < payload; i++)
		f[14 + i] = (uint8_t)(fill + i);
	return 14 + payload;
}

TestSuite(net, .init = setup_net, .fini = teardown_net);

Test(net, config_space)
{
	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_DEVICE_ID), 1);
	cr_assert_eq(vt_rd(0x100), 0x02);
	cr_assert_eq(vt_rd(0x104), 0x0100 | (VIRTIO_NET_S_LINK_UP << 16));
}

Test(net, guest_transmits)
{
	uint8_t got[2048];
	struct pollfd pfd;
	size_t len;
	ssize_t k;

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	memset(vt_g(TXBUF), 0, 12);		/* vnet header: nothing to offload */
	len = make_frame(vt_g(TXBUF + 0x100), 100, 7);
	vt_set_desc(1, 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
	vt_set_desc(1, 1, TXBUF + 0x100, (uint32_t)len, 0, 0);
	vt_avail_add(1, 0);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	cr_assert(vt_pump_until_used(&loop, 1, 1));
	pfd = (struct pollfd){ .fd = psock, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "the frame came out of the TAP");
	k = recv(psock, got, sizeof(got), 0);
	cr_assert_eq(k, (ssize_t)len);
	cr_assert_eq(memcmp(got, vt_g(TXBUF + 0x100), len), 0);
}

static void host_sends(size_t payload, uint8_t fill, uint8_t *frame, size_t *len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = ifindex,
				  .sll_halen = 6 };

	*len = make_frame(frame, payload, fill);
	memset(to.sll_addr, 0xff, 6);
	cr_assert_eq(sendto(psock, frame, *len, 0, (struct sockaddr *)&to, sizeof(to)),
		     (ssize_t)*len);
}

Test(net, guest_receives_merged)
{
	static uint8_t frame[6000], got[6000];
	struct virtio_net_hdr_mrg_rxbuf hdr;
	size_t len, off = 0;

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	for (unsigned k = 0; k < 8; k++)
		vt_post_write(0, (uint16_t)k, RXBUF(k), 2048);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* a small frame: one buffer */
	host_sends(50, 1, frame, &len);
	cr_assert(vt_pump_until_used(&loop, 0, 1));
	cr_assert_eq(vt_used_len(0, 0), 12 + len);
	memcpy(&hdr, vt_g(RXBUF(vt_used_id(0, 0))), sizeof(hdr));
	cr_assert_eq(hdr.num_buffers, 1);
	cr_assert_eq(memcmp(vt_g(RXBUF(vt_used_id(0, 0)) + 12), frame, len), 0);
	/* a jumbo frame: 12 + 5014 bytes over three 2 KiB buffers */
	host_sends(5000, 9, frame, &len);
	cr_assert(vt_pump_until_used(&loop, 0, 4));
	memcpy(&hdr, vt_g(RXBUF(vt_used_id(0, 1))), sizeof(hdr));
	cr_assert_eq(hdr.num_buffers, 3);
	for (unsigned i = 1; i < 4; i++) {
		uint32_t l = vt_used_len(0, i), skip = i == 1 ? 12 : 0;

		memcpy(got + off, vt_g(RXBUF(vt_used_id(0, i)) + skip), l - skip);
		off += l - skip;
	}
	cr_assert_eq(off, len);
	cr_assert_eq(memcmp(got, frame, len), 0);
}

Test(net, frame_waits_for_buffers)
{
	static uint8_t frame[200];
	size_t len;

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	vt_post_write(0, 0, RXBUF(0), 2048);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	host_sends(60, 3, frame, &len);
	host_sends(60, 4, frame, &len);
	cr_assert(vt_pump_until_used(&loop, 0, 1));
	/* the second frame waits in the device until a buffer is posted */
	vt_post_write(0, 1, RXBUF(1), 2048);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&loop, 0, 2));
	cr_assert_eq(memcmp(vt_g(RXBUF(1) + 12), frame, len), 0);
}

/* A guest republishing a chain too short to be a frame (dropped at once,
 * no TX slot taken): one pass of VIRTIO_BUDGET per turn of the loop, the
 * next pass posted in between, nothing sent. */
Test(net, flood_of_dropped_frames_yields)
{
	const uint16_t n = 200;
	struct pollfd pfd = { .fd = psock, .events = POLLIN };

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	cr_assert_gt(vt_loop_turn(&loop, true), 0);	/* DRIVER_OK's kicks */
	vt_set_desc(1, 0, TXBUF, 4, 0, 0);
	vt_avail_repeat(1, 0, n);
	virtio_dev_kick(vt_vd, 1);
	for (uint16_t want = VIRTIO_BUDGET; ; want += VIRTIO_BUDGET) {
		if (want > n)
			want = n;
		if (want > VIRTIO_BUDGET)
			cr_assert_gt(vt_loop_turn(&loop, true), 0);
		cr_assert_eq(vt_used_idx(1), want, "one pass a turn");
		cr_assert_eq(vt_vd->q[1].rerun, want < n, "the next pass is posted");
		if (want == n)
			break;
	}
	cr_assert_eq(vt_used_len(1, n - 1), 0);
	cr_assert_eq(poll(&pfd, 1, 0), 0, "nothing came out of the TAP");
}

/* A frame taken from the TX queue (its write queued on the ring, not yet
 * submitted) when the device is reset: stale until its write completes,
 * and then not given back to the driver of the new generation. */
static void tx_in_flight(void)
{
	size_t len;

	memset(vt_g(TXBUF), 0, 12);
	len = make_frame(vt_g(TXBUF + 0x100), 100, 9);
	vt_set_desc(1, 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
	vt_set_desc(1, 1, TXBUF + 0x100, (uint32_t)len, 0, 0);
	vt_avail_add(1, 0);
	virtio_dev_kick(vt_vd, 1);
}

static unsigned net_draining(void)
{
	unsigned n;

	pthread_mutex_lock(&vt_vd->lock);
	n = virtio_dev_draining(vt_vd);
	pthread_mutex_unlock(&vt_vd->lock);
	return n;
}

Test(net, reset_drains_tx)
{
	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	tx_in_flight();
	cr_assert_eq(net_draining(), 0);
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(net_draining(), 1, "the TX write reads guest memory until it ends");
	cr_assert_neq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	while (net_draining())
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	cr_assert_eq(vt_used_idx(1), 0);
}

/* Teardown: the TX write and the armed RX read of the TAP (into a buffer
 * freed with the device) are cancelled or completed before the ring goes. */
Test(net, teardown_drains_tx_and_rx)
{
	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	while (vt_loop_turn(&loop, false))	/* DRIVER_OK's kicks: RX read armed */
		;
	tx_in_flight();
	pthread_mutex_lock(&vt_vd->lock);
	vt_vd->quiesced = true;		/* (what virtio_quiesce sets first) */
	cr_assert_eq(virtio_dev_draining(vt_vd), 1, "the armed RX read counts once quiesced");
	vt_vd->quiesced = false;
	pthread_mutex_unlock(&vt_vd->lock);
	cr_assert_eq(virtio_quiesce(&vt_vm.host, 5000), 0);
	cr_assert_eq(net_draining(), 0);
	cr_assert_eq(virtio_vm_draining(&vt_vm.host), 0);
	cr_assert_eq(vt_used_idx(1), 0);
	cr_assert_eq(loop.ring.sq.sqe_tail - loop.ring.sq.sqe_head, 0);
}

/* ---- behind rate limiters: 2 frames at once, then 1 a 100 ms, each way ---- */
static void setup_limited(void)
{
	static const struct ratelimit_cfg two = { .ops = { 2, 0, 200 } };

	setup_net_with(&two, &two);
}

/* Whether a read of the TAP is armed (counted by draining once quiesced). */
static bool rx_read_armed(void)
{
	unsigned n;

	pthread_mutex_lock(&vt_vd->lock);
	vt_vd->quiesced = true;
	n = virtio_dev_draining(vt_vd);
	vt_vd->quiesced = false;
	pthread_mutex_unlock(&vt_vd->lock);
	return n != 0;
}

TestSuite(net_limited, .init = setup_limited, .fini = teardown_net);

/* Frames the limiter refuses stay in the avail ring until its timer. */
Test(net_limited, tx_frames_wait_for_the_timer)
{
	uint8_t got[2048];
	struct pollfd pfd = { .fd = psock, .events = POLLIN };
	uint64_t t0, dt;

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	while (vt_loop_turn(&loop, false))	/* DRIVER_OK's kicks */
		;
	for (unsigned k = 0; k < 4; k++) {
		uint64_t b = TXBUF + 0x1000ULL * k;
		size_t len = make_frame(vt_g(b + 0x100), 100, (uint8_t)(16 * k));

		memset(vt_g(b), 0, 12);
		vt_set_desc(1, 2 * k, b, 12, VRING_DESC_F_NEXT, (uint16_t)(2 * k + 1));
		vt_set_desc(1, 2 * k + 1, b + 0x100, (uint32_t)len, 0, 0);
		vt_avail_add(1, (uint16_t)(2 * k));
	}
	t0 = vt_mono_ms();
	virtio_dev_kick(vt_vd, 1);
	cr_assert(vt_pump_until_used(&loop, 1, 2), "a full bucket lets 2 frames go");
	while (vt_loop_turn(&loop, false))
		;
	cr_assert_eq(vt_used_idx(1), 2, "the other 2 wait for tokens");
	cr_assert(vt_pump_until_used(&loop, 1, 4));
	dt = vt_mono_ms() - t0;
	cr_assert(dt >= 190 && dt < 2000, "2 more frames at 10/s took %llu ms",
		  (unsigned long long)dt);
	for (unsigned k = 0; k < 4; k++) {
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "frame %u came out of the TAP", k);
		cr_assert_eq(recv(psock, got, sizeof(got), 0), 114);
		cr_assert_eq(got[14], 16 * k, "in order");
	}
}

/* Sends frames 0..3 (payload bytes from 16 k) with 8 RX buffers posted:
 * 2 reach the guest, the third waits in the device, the TAP is not read. */
static void rx_throttled(void)
{
	static uint8_t frame[200];
	size_t len;

	for (unsigned k = 0; k < 8; k++)
		vt_post_write(0, (uint16_t)k, RXBUF(k), 2048);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (unsigned k = 0; k < 4; k++)
		host_sends(60, (uint8_t)(16 * k), frame, &len);
	cr_assert(vt_pump_until_used(&loop, 0, 2), "a full bucket lets 2 frames in");
	while (vt_loop_turn(&loop, false))
		;
	cr_assert_eq(vt_used_idx(0), 2, "the others wait for tokens");
	cr_assert(!rx_read_armed(), "the TAP is not read while a frame waits for tokens");
}

static uint8_t rx_first_byte(unsigned slot)
{
	return vt_g(RXBUF(vt_used_id(0, slot)))[12 + 14];
}

Test(net_limited, rx_waits_for_the_timer_without_reading_the_tap)
{
	uint64_t t0, dt;

	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	t0 = vt_mono_ms();
	rx_throttled();
	cr_assert(vt_pump_until_used(&loop, 0, 4));
	dt = vt_mono_ms() - t0;
	cr_assert(dt >= 190 && dt < 2000, "2 more frames at 10/s took %llu ms",
		  (unsigned long long)dt);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(rx_first_byte(i), 16 * i, "frame %u in order", i);
	while (vt_loop_turn(&loop, false))
		;
	cr_assert(rx_read_armed(), "reading again once the frames are in");
}

/* A reset drops the frame the limiter held; the next one comes after it. */
Test(net_limited, reset_drops_the_held_frame)
{
	if (!have_tap)
		cr_skip_test("no TAP here (needs /dev/net/tun and CAP_NET_ADMIN)");
	rx_throttled();
	vt_driver_init(vt_features(1ULL << VIRTIO_NET_F_MRG_RXBUF | 1ULL << VIRTIO_NET_F_MAC),
		       256);
	for (unsigned k = 0; k < 8; k++)
		vt_post_write(0, (uint16_t)k, RXBUF(k), 2048);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&loop, 0, 1));
	cr_assert_eq(rx_first_byte(0), 48, "frame 2 was dropped with the reset, frame 3 came");
}
