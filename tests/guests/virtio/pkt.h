/* tests/guests/virtio/pkt.h - just enough Ethernet, ARP, IPv4, ICMP and
 * UDP for the network guests: build an ARP request or reply, an ICMP echo
 * request, recognise replies, and turn a UDP datagram around.  Frames are
 * byte arrays (network byte order); addresses are host-order uint32_t. */
#pragma once
#include "rt.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN 20
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17
#define UDP_HLEN 8
/* where things are in an untagged IPv4 frame without IP options */
#define PKT_IP (ETH_HLEN)
#define PKT_L4 (ETH_HLEN + IP_HLEN)
#define PKT_UDP_DATA (PKT_L4 + UDP_HLEN)

static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void pkt_put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p + 2, (uint16_t)v);
}

/* The Internet checksum of len bytes at p. */
uint16_t pkt_csum(const uint8_t *p, uint32_t len);
/* An ARP request "who has target? tell ip" from mac into f; its length. */
uint32_t pkt_arp_request(uint8_t *f, const uint8_t mac[6], uint32_t ip, uint32_t target);
/* If f is an ARP request for ip, turns it into the reply (from mac) in
 * place and returns its length; else 0. */
uint32_t pkt_arp_answer(uint8_t *f, uint32_t len, const uint8_t mac[6], uint32_t ip);
/* If f is an ARP reply telling ip's MAC, copies it to mac_out; true. */
bool pkt_arp_is_reply(const uint8_t *f, uint32_t len, uint32_t ip, uint8_t mac_out[6]);
/* An IPv4 header (no options, DF, TTL 64, checksum set) at f + PKT_IP
 * and the Ethernet header before it. */
void pkt_ip_header(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		   uint32_t src, uint32_t dst, uint8_t proto, uint16_t payload_len);
/* An ICMP echo request (id, seq, payload) to dst; the frame's length. */
uint32_t pkt_icmp_echo(uint8_t *f, const uint8_t dst_mac[6], const uint8_t src_mac[6],
		       uint32_t src, uint32_t dst, uint16_t id, uint16_t seq,
		       const void *payload, uint16_t plen);
/* True if f is an IPv4 frame for ip (no options) of protocol proto with
 * at least l4len bytes after the IP header, a good IP checksum and total
 * length within len. */
bool pkt_is_ip(const uint8_t *f, uint32_t len, uint32_t ip, uint8_t proto, uint32_t l4len);
/* Turns a frame around in place: MACs, IP addresses and (UDP) ports
 * swapped; checksums stay valid. */
void pkt_turn_around(uint8_t *f, bool udp_ports);
