/* vbench.elf64 - the virtio benchmark guest (tests/perf/bench_virtio.sh).
 * A 64-bit ELF booted by the Linux 64-bit protocol; ring 0 sets up the
 * device (a few hundred emulated instructions), then the I/O loop runs in
 * ring 3 (user64.h), where code runs natively even when KVM emulates
 * ring 0: it kicks by writing QueueNotify (once per batch, and only when
 * EVENT_IDX says the device wants it) and polls the used ring (no
 * interrupts).  The measured part lies between control-port markers 1 and
 * 2 (ember --boot-time prints their times); then the guest prints
 * "vbench: <what> <n> requests <kicks> kicks <TSC ticks / 1024> kiloticks"
 * and exits 0.
 *
 * Command line (besides ember's virtio_mmio.device=...):
 *   bench=blk rw=randread|randwrite|read|write bs=BYTES qd=N n=N [warm=N]
 *       device 0 is a drive; n requests of bs bytes (512..1 MiB, a
 *       multiple of 512) at queue depth qd (1..64), after warm requests
 *       that are not measured; random offsets are bs-aligned.
 *   bench=tx size=BYTES n=N [warm=N]      device 0 is a NIC; sends n UDP
 *       frames of size bytes (60..1514, Ethernet header included) to
 *       peer:port, 256 in flight.
 *   bench=rx n=N                          prints "vbench: ready", counts
 *       n UDP frames to port (marker 1 at the first), then sends "done"
 *       to peer:port.
 *   bench=echo                            prints "vbench: ready", echoes
 *       UDP datagrams to port back to their sender until one says "quit".
 *   net: ip=A.B.C.D peer=A.B.C.D peermac=xx:xx:xx:xx:xx:xx port=N
 * Any failure prints "vbench: <what>" and exits 1. */
#include "bootparams.h"
#include "pkt.h"
#include "user64.h"
#include "vio.h"

#define QSIZE 256
#define BLK_QD_MAX 64
#define BLK_BUF_MAX (32u << 20)
#define NET_BUF 2048

static uint8_t ring0[3 * 4096] __attribute__((aligned(4096)));
static uint8_t ring1[3 * 4096] __attribute__((aligned(4096)));
static uint8_t bufs[BLK_BUF_MAX] __attribute__((aligned(4096)));
static struct vblk_hdr hdrs[BLK_QD_MAX];
static volatile uint8_t status[BLK_QD_MAX];
static uint8_t rxbufs[QSIZE][NET_BUF] __attribute__((aligned(4096)));

static struct vio_dev dev;
static struct vio_vq q0, q1;
static const char *cmdline;
static char mode[16], rw[16];
static uint64_t n, warm, bs, qd, size, port, cap_bytes, kicks;
static uint32_t my_ip, peer_ip;
static uint8_t my_mac[6], peer_mac[6];
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static noreturn void die(const char *what)
{
	rt_puts("vbench: ");
	rt_println(what);
	rt_exit(1);
}

static uint64_t num(const char *key, uint64_t def)
{
	uint64_t v;

	return rt_cmdline_num(cmdline, key, &v) ? v : def;
}

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void kick(struct vio_vq *q)
{
	vq_publish(q);
	if (vq_kick(q))
		kicks++;
}

static void report(const char *what, uint64_t count, uint64_t ticks)
{
	rt_puts("vbench: ");
	rt_puts(what);
	rt_putc(' ');
	rt_put_dec((uint32_t)count);
	rt_puts(" requests ");
	rt_put_dec((uint32_t)kicks);
	rt_puts(" kicks ");
	rt_put_dec((uint32_t)(ticks >> 10));
	rt_println(" kiloticks");
}

/* ---- virtio-blk ------------------------------------------------------------- */
static uint64_t seq_next;
static bool is_read, is_rand;

/* Puts request slot s (descriptors 3s..3s+2) on the avail ring. */
static void blk_submit(unsigned s)
{
	uint64_t off;
	struct vio_seg seg[3] = {
		{ &hdrs[s], sizeof(hdrs[s]), false },
		{ bufs + s * bs, (uint32_t)bs, is_read },
		{ (const void *)&status[s], 1, true },
	};

	if (is_rand) {
		off = rnd() % (cap_bytes / bs) * bs;
	} else {
		off = seq_next;
		seq_next = (seq_next + bs) % (cap_bytes / bs * bs);
	}
	hdrs[s] = (struct vblk_hdr){ .type = is_read ? VBLK_T_IN : VBLK_T_OUT, .sector = off / 512 };
	status[s] = VBLK_S_NONE;
	vq_add(&q0, vq_chain(&q0, (uint16_t)(3 * s), seg, 3));
}

/* count requests at depth qd; returns when all have completed. */
static void blk_run(uint64_t count)
{
	uint64_t submitted = 0, done = 0;

	for (unsigned s = 0; s < qd && submitted < count; s++, submitted++)
		blk_submit(s);
	kick(&q0);
	while (done < count) {
		uint32_t id, len;
		bool more = false;

		while (vq_get_used(&q0, &id, &len)) {
			unsigned s = id / 3;

			if (id % 3 || s >= qd || status[s] != VBLK_S_OK)
				die("request failed");
			done++;
			if (submitted < count) {
				blk_submit(s);
				submitted++;
				more = true;
			}
		}
		if (more)
			kick(&q0);
		else
			cpu_pause();
	}
}

static void blk_user(void *arg)
{
	uint64_t t0, t1;

	(void)arg;
	blk_run(warm);
	kicks = 0;
	rt_marker(1);
	t0 = rdtsc();
	blk_run(n);
	t1 = rdtsc();
	rt_marker(2);
	report(rw, n, t1 - t0);
	rt_exit(0);
}

static void blk_setup(void)
{
	vio_cmdline_word(cmdline, "rw", rw, sizeof(rw));
	bs = num("bs", 4096);
	qd = num("qd", 1);
	if (bs < 512 || bs % 512 || bs > (1u << 20) || qd < 1 || qd > BLK_QD_MAX ||
	    bs * qd > BLK_BUF_MAX)
		die("bad bs or qd");
	if (!rt_streq(rw, "read") && !rt_streq(rw, "write") && !rt_streq(rw, "randread") &&
	    !rt_streq(rw, "randwrite"))
		die("rw= must be read, write, randread or randwrite");
	is_read = rt_streq(rw, "read") || rt_streq(rw, "randread");
	is_rand = rw[0] == 'r' && rw[1] == 'a';
	if (vio_init(&dev, VIO_ID_BLOCK, VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VBLK_F_FLUSH),
		     "vbench") < 0)
		rt_exit(1);
	cap_bytes = ((uint64_t)vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY) |
		     (uint64_t)vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY + 4) << 32) * 512;
	if (cap_bytes < bs * qd)
		die("disk too small");
	if (vio_vq_setup(&dev, &q0, 0, QSIZE, ring0, "vbench") < 0)
		rt_exit(1);
	vio_driver_ok(&dev);
	vq_no_interrupts(&q0);
}

/* ---- virtio-net ------------------------------------------------------------- */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++, s++) {
			char c = *s;

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return false;
		}
		if (i < 5 && *s++ != ':')
			return false;
		mac[i] = (uint8_t)v;
	}
	return true;
}

/* A UDP frame of flen bytes (Ethernet header included) to peer:port in
 * f; the payload is zero except for its first bytes, `data`. */
static void udp_frame(uint8_t *f, uint32_t flen, const char *data)
{
	uint16_t ulen = (uint16_t)(flen - PKT_L4);

	vio_zero(f, flen);
	pkt_ip_header(f, peer_mac, my_mac, my_ip, peer_ip, IPPROTO_UDP, ulen);
	pkt_put16(f + PKT_L4, (uint16_t)port);
	pkt_put16(f + PKT_L4 + 2, (uint16_t)port);
	pkt_put16(f + PKT_L4 + 4, ulen);
	if (data)
		vio_copy(f + PKT_UDP_DATA, data, (uint32_t)rt_strlen(data));
}

/* TX: slot i's buffer (bufs + i * NET_BUF) holds vnet header + frame. */
static void tx_slot(unsigned i, uint32_t flen)
{
	struct vio_seg s = { bufs + i * NET_BUF, VNET_HDR + flen, false };

	vq_add(&q1, vq_chain(&q1, (uint16_t)i, &s, 1));
}

static void tx_run(uint64_t count)
{
	uint64_t submitted = 0, done = 0;

	for (unsigned i = 0; i < QSIZE && submitted < count; i++, submitted++)
		tx_slot(i, (uint32_t)size);
	kick(&q1);
	while (done < count) {
		uint32_t id, len;
		bool more = false;

		while (vq_get_used(&q1, &id, &len)) {
			done++;
			if (submitted < count) {
				tx_slot(id, (uint32_t)size);
				submitted++;
				more = true;
			}
		}
		if (more)
			kick(&q1);
		else
			cpu_pause();
	}
}

static void rx_give(uint16_t i)
{
	struct vio_seg s = { rxbufs[i], NET_BUF, true };

	vq_add(&q0, vq_chain(&q0, i, &s, 1));
}

static void rx_fill(void)
{
	for (uint16_t i = 0; i < QSIZE; i++)
		rx_give(i);
	kick(&q0);
}

/* True if the frame in RX buffer i is a UDP datagram to my port. */
static bool rx_is_mine(uint16_t i, uint32_t len)
{
	const uint8_t *f = rxbufs[i] + VNET_HDR;

	return len >= VNET_HDR + PKT_UDP_DATA &&
	       pkt_is_ip(f, len - VNET_HDR, my_ip, IPPROTO_UDP, UDP_HLEN) &&
	       pkt_get16(f + PKT_L4 + 2) == port;
}

/* Sends one frame from TX slot 0 and waits for it. */
static void tx_one(uint32_t flen)
{
	uint32_t id, len;

	tx_slot(0, flen);
	kick(&q1);
	while (!vq_get_used(&q1, &id, &len))
		cpu_pause();
}

static void tx_user(void *arg)
{
	uint64_t t0, t1;

	(void)arg;
	/* every TX slot holds the same frame: build one, copy */
	udp_frame(bufs + VNET_HDR, (uint32_t)size, "ember");
	for (unsigned i = 1; i < QSIZE; i++)
		vio_copy(bufs + i * NET_BUF, bufs, VNET_HDR + (uint32_t)size);
	tx_run(warm);
	kicks = 0;
	rt_marker(1);
	t0 = rdtsc();
	tx_run(n);
	t1 = rdtsc();
	rt_marker(2);
	report("tx", n, t1 - t0);
	rt_exit(0);
}

static void rx_user(void *arg)
{
	uint64_t got = 0, t0 = 0, t1;

	(void)arg;
	rx_fill();
	rt_println("vbench: ready");
	while (got < n) {
		uint32_t id, len;
		bool any = false;

		while (vq_get_used(&q0, &id, &len)) {
			if (rx_is_mine((uint16_t)id, len) && got++ == 0) {
				kicks = 0;
				rt_marker(1);
				t0 = rdtsc();
			}
			rx_give((uint16_t)id);
			any = true;
		}
		if (any)
			kick(&q0);
		else
			cpu_pause();
	}
	t1 = rdtsc();
	rt_marker(2);
	udp_frame(bufs + VNET_HDR, 64, "done");
	vio_zero(bufs, VNET_HDR);
	for (int i = 0; i < 3; i++)	/* the peer may miss one */
		tx_one(64);
	report("rx", n, t1 - t0);
	rt_exit(0);
}

static void echo_user(void *arg)
{
	uint64_t count = 0;

	(void)arg;
	rx_fill();
	rt_println("vbench: ready");
	for (;;) {
		uint32_t id, len;

		if (!vq_get_used(&q0, &id, &len)) {
			cpu_pause();
			continue;
		}
		if (rx_is_mine((uint16_t)id, len)) {
			uint8_t *f = rxbufs[id] + VNET_HDR;

			if (!memcmp(f + PKT_UDP_DATA, "quit", 4))
				break;
			pkt_turn_around(f, true);
			vio_copy(bufs + VNET_HDR, f, len - VNET_HDR);
			vio_zero(bufs, VNET_HDR);
			tx_one(len - VNET_HDR);
			count++;
		}
		rx_give((uint16_t)id);
		kick(&q0);
	}
	report("echo", count, 0);
	rt_exit(0);
}

static void net_setup(void)
{
	char mac[24];

	size = num("size", 1514);
	port = num("port", 9000);
	if (size < 60 || size > 1514)
		die("size must be 60..1514");
	if (!vio_cmdline_ip(cmdline, "ip", &my_ip) || !vio_cmdline_ip(cmdline, "peer", &peer_ip) ||
	    !vio_cmdline_word(cmdline, "peermac", mac, sizeof(mac)) || !parse_mac(mac, peer_mac))
		die("needs ip=, peer= and peermac=");
	if (vio_init(&dev, VIO_ID_NET, VIO_BIT(VNET_F_MAC) | VIO_BIT(VNET_F_MRG_RXBUF) |
		     VIO_BIT(VIO_F_EVENT_IDX), "vbench") < 0)
		rt_exit(1);
	for (int i = 0; i < 6; i++)
		my_mac[i] = mmio_read8(dev.base + VIO_CONFIG + (unsigned)i);
	if (vio_vq_setup(&dev, &q0, VNET_RXQ, QSIZE, ring0, "vbench") < 0 ||
	    vio_vq_setup(&dev, &q1, VNET_TXQ, QSIZE, ring1, "vbench") < 0)
		rt_exit(1);
	vio_driver_ok(&dev);
	vq_no_interrupts(&q0);
	vq_no_interrupts(&q1);
}

int main64(const uint8_t *bp);
int main64(const uint8_t *bp)
{
	cmdline = bp_check(bp, "vbench");
	if (!cmdline)
		return 1;
	n = num("n", 10000);
	warm = num("warm", n / 10);
	if (!vio_cmdline_word(cmdline, "bench", mode, sizeof(mode)))
		die("needs bench=blk|tx|rx|echo");
	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (rt_streq(mode, "blk")) {
		blk_setup();
		user64_enter(blk_user, NULL);
	}
	if (!rt_streq(mode, "tx") && !rt_streq(mode, "rx") && !rt_streq(mode, "echo"))
		die("bench= must be blk, tx, rx or echo");
	net_setup();
	user64_enter(rt_streq(mode, "tx") ? tx_user : rt_streq(mode, "rx") ? rx_user : echo_user,
		     NULL);
}
