/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Outer headers of a frame received on an AF_XDP socket: find the tunnel
 * message inside Ethernet [/VLAN] / IPv4|IPv6 / UDP, and after the verdict
 * turn the frame into the inner packet behind a fresh Ethernet header.  The
 * XDP program has parsed the same headers already; userspace checks again
 * rather than trust whatever program is attached.
 */
#ifndef XPRO_DP_FRAME_H
#define XPRO_DP_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "xpro/addr.h"

struct dp_outer {
	uint32_t msg_off; /* tunnel message: offset and length in the frame */
	uint32_t msg_len;
	uint8_t src[16]; /* outer source address, IPv4-mapped (for replies) */
	uint16_t sport;
};

/* Returns 0, or -1 if the frame is not a well-formed UDP datagram to port. */
static inline int dp_frame_outer(const uint8_t *p, uint32_t len, uint16_t port, struct dp_outer *o)
{
	uint32_t off = sizeof(struct ethhdr), ulen;
	uint16_t proto;
	const struct udphdr *uh;

	if (len < off)
		return -1;
	proto = ntohs(((const struct ethhdr *)p)->h_proto);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		if (len < off + 4)
			return -1;
		proto = ntohs(*(const uint16_t *)(p + off + 2));
		off += 4;
	}
	memset(o->src, 0, sizeof(o->src));
	if (proto == ETH_P_IP) {
		const struct iphdr *ih = (const void *)(p + off);

		if (len < off + sizeof(*ih) || ih->ihl < 5 || ih->protocol != IPPROTO_UDP ||
		    (ntohs(ih->frag_off) & 0x3fff) || len < off + ih->ihl * 4u)
			return -1;
		xpro_addr_from_v4(o->src, &ih->saddr);
		off += ih->ihl * 4u;
	} else if (proto == ETH_P_IPV6) {
		const struct ipv6hdr *ih = (const void *)(p + off);

		if (len < off + sizeof(*ih) || ih->nexthdr != IPPROTO_UDP)
			return -1;
		memcpy(o->src, &ih->saddr, 16);
		off += sizeof(*ih);
	} else {
		return -1;
	}
	if (len < off + sizeof(*uh))
		return -1;
	uh = (const void *)(p + off);
	ulen = ntohs(uh->len);
	if (ntohs(uh->dest) != port || ulen < sizeof(*uh) || off + ulen > len)
		return -1;
	o->sport = ntohs(uh->source);
	o->msg_off = off + sizeof(*uh);
	o->msg_len = ulen - sizeof(*uh);
	return 0;
}

/*
 * Write an Ethernet header just before the inner packet at inner_off and
 * return the new frame start (inner_off - 14).  inner_off >= 14 always holds:
 * the outer Ethernet, IP and UDP headers were in front of it.
 */
static inline uint32_t dp_frame_decap(uint8_t *p, uint32_t inner_off, const uint8_t dmac[6],
				      const uint8_t smac[6])
{
	struct ethhdr *eh = (struct ethhdr *)(p + inner_off - sizeof(*eh));
	bool v6 = (p[inner_off] >> 4) == 6;

	memmove(eh->h_dest, dmac, ETH_ALEN);
	memmove(eh->h_source, smac, ETH_ALEN);
	eh->h_proto = htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	return inner_off - sizeof(*eh);
}

#endif
