/* vnet.pvh - virtio-net against a peer on the TAP's side.  Command line:
 * "ip=A.B.C.D peer=E.F.G.H" (the guest's address and the peer's, e.g.
 * the TAP's address in the test's network namespace).
 *
 * Negotiates MAC, STATUS and MRG_RXBUF (no EVENT_IDX: the flags paths),
 * reads the MAC and the link status from config space, offers 16 receive
 * buffers of 2 KiB and polls both queues.  Then:
 *   1. ARP request for the peer; waits for the reply ("vnet: peer is at
 *      <mac>" is not printed: the MAC is random);
 *   2. ICMP echo request to the peer; waits for the matching echo reply:
 *      "vnet: ping <peer> ok";
 *   3. prints "vnet: waiting for udp", then answers ARP requests for its
 *      address and echoes the first UDP datagram to its port 7 back to
 *      the sender, prints "vnet: udp echo <payload up to a newline>" and
 *      exits 0.
 * Every received frame must say num_buffers = 1.  Frames of other kinds
 * (IPv6 neighbour discovery and the like) are ignored.  Each wait is
 * bounded by the TSC (2^35 ticks); on a timeout or a bad frame it prints
 * what happened and exits 1. */
#include "pkt.h"
#include "vio.h"

#define QSIZE 16
#define RXBUF 2048
#define UDP_ECHO_PORT 7

static uint8_t rx_ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t tx_ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t rxbuf[QSIZE][RXBUF] __attribute__((aligned(4096)));
static uint8_t txframe[RXBUF];
static uint8_t txhdr[VNET_HDR];

static struct vio_dev dev;
static struct vio_vq rxq, txq;
static uint8_t mac[6], peer_mac[6];
static uint32_t my_ip, peer_ip;

static noreturn void die(const char *what)
{
	rt_puts("vnet: ");
	rt_println(what);
	rt_exit(1);
}

static void put_ip(uint32_t ip)
{
	for (int i = 3; i >= 0; i--) {
		rt_put_dec((ip >> (8 * i)) & 0xff);
		if (i)
			rt_putc('.');
	}
}

/* Sends one frame (header + frame in two descriptors) and waits until
 * the device has taken it. */
static void tx_send(const uint8_t *f, uint32_t len)
{
	struct vio_seg s[2] = { { txhdr, VNET_HDR, false }, { f, len, false } };
	uint32_t id, ulen;

	vq_add(&txq, vq_chain(&txq, 0, s, 2));
	vq_publish(&txq);
	vq_kick(&txq);
	if (!vq_wait_used(&txq, &id, &ulen) || id != 0)
		die("transmit did not complete");
}

static void rx_give(uint16_t i)
{
	struct vio_seg s = { rxbuf[i], RXBUF, true };

	vq_add(&rxq, vq_chain(&rxq, i, &s, 1));
}

/* Waits for a frame for which want(frame, len) is true, answering ARP
 * requests for my_ip meanwhile. */
static void wait_frame(bool (*want)(uint8_t *f, uint32_t len), const char *what)
{
	uint64_t t0 = rdtsc();

	for (;;) {
		uint32_t id, len;
		bool done = false;

		if (!vq_get_used(&rxq, &id, &len)) {
			if (rdtsc() - t0 > (1ULL << 35)) {
				rt_puts("vnet: timeout waiting for ");
				rt_println(what);
				rt_exit(1);
			}
			cpu_pause();
			continue;
		}
		if (id >= QSIZE || len < VNET_HDR || len > RXBUF)
			die("bad used element on the receive queue");
		if (pkt_get16(rxbuf[id] + VNET_HDR_NUM_BUFFERS) != 0x0100)	/* 1, LE */
			die("num_buffers is not 1");
		{
			uint8_t *f = rxbuf[id] + VNET_HDR;
			uint32_t flen = len - VNET_HDR, alen;

			alen = pkt_arp_answer(f, flen, mac, my_ip);
			if (alen)
				tx_send(f, alen);
			else
				done = want(f, flen);
		}
		rx_give((uint16_t)id);
		vq_publish(&rxq);
		vq_kick(&rxq);
		if (done)
			return;
	}
}

static bool is_arp_reply(uint8_t *f, uint32_t len)
{
	return pkt_arp_is_reply(f, len, peer_ip, peer_mac);
}

static const char ping_data[] = "ember-vnet-ping";

static bool is_echo_reply(uint8_t *f, uint32_t len)
{
	const uint8_t *icmp = f + PKT_L4;

	return pkt_is_ip(f, len, my_ip, IPPROTO_ICMP, 8 + sizeof(ping_data)) &&
	       pkt_get32(f + PKT_IP + 12) == peer_ip && icmp[0] == 0 &&
	       pkt_get16(icmp + 4) == 0x1234 && pkt_get16(icmp + 6) == 1 &&
	       !memcmp(icmp + 8, ping_data, sizeof(ping_data));
}

static bool is_udp_echo(uint8_t *f, uint32_t len)
{
	const uint8_t *u = f + PKT_L4;
	uint32_t ulen, n;

	if (!pkt_is_ip(f, len, my_ip, IPPROTO_UDP, UDP_HLEN) ||
	    pkt_get16(u + 2) != UDP_ECHO_PORT)
		return false;
	ulen = pkt_get16(u + 4);
	if (ulen < UDP_HLEN || PKT_L4 + ulen > len)
		return false;
	pkt_turn_around(f, true);
	tx_send(f, PKT_L4 + ulen);
	rt_puts("vnet: udp echo ");
	for (n = 0; n < ulen - UDP_HLEN && u[UDP_HLEN + n] != '\n'; n++)
		rt_putc(u[UDP_HLEN + n] >= 0x20 && u[UDP_HLEN + n] < 0x7f ?
			(char)u[UDP_HLEN + n] : '?');
	rt_putc('\n');
	return true;
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uint32_t len;

	if (!vio_cmdline_ip(cmdline, "ip", &my_ip) || !vio_cmdline_ip(cmdline, "peer", &peer_ip))
		die("needs ip=A.B.C.D peer=A.B.C.D on the command line");
	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_NET, VIO_BIT(VNET_F_MAC) | VIO_BIT(VNET_F_STATUS) |
		     VIO_BIT(VNET_F_MRG_RXBUF), "vnet") < 0)
		return 1;
	if (!(dev.features & VIO_BIT(VNET_F_MAC)) || !(dev.features & VIO_BIT(VNET_F_MRG_RXBUF)))
		die("MAC or MRG_RXBUF not offered");
	for (int i = 0; i < 6; i++)
		mac[i] = mmio_read8(dev.base + VIO_CONFIG + (unsigned)i);
	if (!(mmio_read8(dev.base + VIO_CONFIG + 6) & 1))
		die("link is down");
	if (vio_vq_setup(&dev, &rxq, VNET_RXQ, QSIZE, rx_ring, "vnet") < 0 ||
	    vio_vq_setup(&dev, &txq, VNET_TXQ, QSIZE, tx_ring, "vnet") < 0)
		return 1;
	for (uint16_t i = 0; i < QSIZE; i++)
		rx_give(i);
	vq_publish(&rxq);
	vq_no_interrupts(&rxq);
	vq_no_interrupts(&txq);
	vio_driver_ok(&dev);

	len = pkt_arp_request(txframe, mac, my_ip, peer_ip);
	tx_send(txframe, len);
	wait_frame(is_arp_reply, "the ARP reply");
	len = pkt_icmp_echo(txframe, peer_mac, mac, my_ip, peer_ip, 0x1234, 1, ping_data,
			    sizeof(ping_data));
	tx_send(txframe, len);
	wait_frame(is_echo_reply, "the ICMP echo reply");
	rt_puts("vnet: ping ");
	put_ip(peer_ip);
	rt_println(" ok");
	rt_println("vnet: waiting for udp");
	wait_frame(is_udp_echo, "a UDP datagram to port 7");
	return 0;
}
