/* tests/guests/virtio/pkt.c - Ethernet/ARP/IPv4/ICMP/UDP for the network
 * guests (see pkt.h). */
#include "pkt.h"

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

uint16_t pkt_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += pkt_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	pkt_put16(f + 12, type);
}

static void arp_body(uint8_t *a, uint16_t op, const uint8_t sha[6], uint32_t spa,
		     const uint8_t tha[6], uint32_t tpa)
{
	pkt_put16(a, 1);		/* Ethernet */
	pkt_put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	pkt_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	pkt_put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	pkt_put32(a + 24, tpa);
}

uint32_t pkt_arp_request(uint8_t *f, const uint8_t mac[6], uint32_t ip, uint32_t target)
{
	static const uint8_t zero[6];

	eth(f, broadcast, mac, ETH_P_ARP);
	arp_body(f + ETH_HLEN, 1, mac, ip, zero, target);
	return ETH_HLEN + 28;
}

static bool is_arp(const uint8_t *f, uint32_t len, uint16_t op, uint32_t tpa)
{
	const uint8_t *a = f + ETH_HLEN;

	return len >= ETH_HLEN + 28 && pkt_get16(f + 12) == ETH_P_ARP &&
	       pkt_get16(a) == 1 && pkt_get16(a + 2) == ETH_P_IP && a[4] == 6 &&
	       a[5] == 4 && pkt_get16(a + 6) == op && pkt_get32(a + 24) == tpa;
}

uint32_t pkt_arp_answer(uint8_t *f, uint32_t len, const uint8_t mac[6], uint32_t ip)
{
	uint8_t sha[6];
	uint32_t spa;

	if (!is_arp(f, len, 1, ip))
		return 0;
	memcpy(sha, f + ETH_HLEN + 8, 6);
	spa = pkt_get32(f + ETH_HLEN + 14);
	eth(f, sha, mac, ETH_P_ARP);
	arp_body(f + ETH_HLEN, 2, mac, ip, sha, spa);
	return ETH_HLEN + 28;
}

bool pkt_arp_is_reply(const uint8_t *f, uint32_t len, uint32_t ip, uint8_t mac_out[6])
{
	if (len < ETH_HLEN + 28 || pkt_get16(f + 12) != ETH_P_ARP ||
	    pkt_get16(f + ETH_HLEN + 6) != 2 || pkt_get32(f + ETH_HLEN + 14) != ip)
		return false;
	memcpy(mac_out, f + ETH_HLEN + 8, 6);
	return true;
}

void pkt_ip_header(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		   uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len)
{
	uint8_t *ip = f + PKT_IP;

	eth(f, dst_mac, src_mac, ETH_P_IP);
	ip[0] = 0x45;
	ip[1] = 0;
	pkt_put16(ip + 2, (uint16_t)(IP_HLEN + payload_len));
	pkt_put16(ip + 4, 0);
	pkt_put16(ip + 6, 0x4000);	/* DF */
	ip[8] = 64;
	ip[9] = proto;
	pkt_put16(ip + 10, 0);
	pkt_put32(ip + 12, src);
	pkt_put32(ip + 16, dst);
	pkt_put16(ip + 10, pkt_csum(ip, IP_HLEN));
}

uint32_t pkt_icmp_echo(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		       const void *payload, uint16_t plen)
{
	uint8_t *icmp = f + PKT_L4;

	pkt_ip_header(f, dst_mac, src_mac, src, dst, IPPROTO_ICMP, (uint16_t)(8 + plen));
	icmp[0] = 8;			/* echo request */
	icmp[1] = 0;
	pkt_put16(icmp + 2, 0);
	pkt_put16(icmp + 4, id);
	pkt_put16(icmp + 6, seq);
	memcpy(icmp + 8, payload, plen);
	pkt_put16(icmp + 2, pkt_csum(icmp, 8u + plen));
	return PKT_L4 + 8u + plen;
}

bool pkt_is_ip(const uint8_t *f, uint32_t len, uint32_t ip, uint8_t proto, uint32_t l4len)
{
	const uint8_t *h = f + PKT_IP;
	uint32_t tot;

	if (len < PKT_L4 + l4len || pkt_get16(f + 12) != ETH_P_IP || h[0] != 0x45 ||
	    h[9] != proto || pkt_get32(h + 16) != ip || pkt_csum(h, IP_HLEN) != 0)
		return false;
	tot = pkt_get16(h + 2);
	return tot >= IP_HLEN + l4len && ETH_HLEN + tot <= len;
}

static void swap(uint8_t *a, uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

void pkt_turn_around(uint8_t *f, bool udp_ports)
{
	swap(f, f + 6, 6);
	swap(f + PKT_IP + 12, f + PKT_IP + 16, 4);
	if (udp_ports)
		swap(f + PKT_L4, f + PKT_L4 + 2, 2);
}
