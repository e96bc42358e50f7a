/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel mode of the sink: listening on the proxy's tunnel port in place of the
 * proxy, it unwraps each DATA message (docs/protocol.md) and checks the inner
 * packet's checksums, which proves the generator end to end.  The tag is not
 * checked: the sink has no keys (the proxy's own tests do that).
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "xpro/addr.h"
#include "xpro/tunnel.h"
#include "sink.h"

static uint32_t sink_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t sink_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The UDP checksum over a pseudo-header; 0xffff when the datagram is intact. */
static uint16_t sink_udp_sum(const uint8_t *saddr, const uint8_t *daddr, size_t alen,
			     const uint8_t *udp, size_t ulen)
{
	uint32_t sum = sink_csum_add(0, saddr, alen);

	sum = sink_csum_add(sum, daddr, alen);
	sum += IPPROTO_UDP + (uint32_t)ulen;
	if (alen == 16)
		sum += (uint32_t)(ulen >> 16);
	return sink_csum_fold(sink_csum_add(sum, udp, ulen));
}

static int sink_inner_v4(const uint8_t *p, size_t len, uint8_t src[16], const uint8_t **pay,
			 size_t *plen)
{
	const struct iphdr *ih = (const void *)p;
	const struct udphdr *uh;
	size_t hl;

	if (len < sizeof(*ih) || ih->version != 4 || ih->ihl < 5)
		return -EBADMSG;
	hl = ih->ihl * 4u;
	if (len < hl + sizeof(*uh) || ntohs(ih->tot_len) != len || ih->protocol != IPPROTO_UDP ||
	    (ntohs(ih->frag_off) & 0x3fff) || sink_csum_fold(sink_csum_add(0, p, hl)) != 0xffff)
		return -EBADMSG;
	uh = (const void *)(p + hl);
	if (ntohs(uh->len) != len - hl)
		return -EBADMSG;
	if (uh->check && sink_udp_sum((const uint8_t *)&ih->saddr, (const uint8_t *)&ih->daddr, 4,
				      (const uint8_t *)uh, len - hl) != 0xffff)
		return -EBADMSG;
	xpro_addr_from_v4(src, &ih->saddr);
	*pay = p + hl + sizeof(*uh);
	*plen = len - hl - sizeof(*uh);
	return 0;
}

static int sink_inner_v6(const uint8_t *p, size_t len, uint8_t src[16], const uint8_t **pay,
			 size_t *plen)
{
	const struct ipv6hdr *ih = (const void *)p;
	const struct udphdr *uh;

	if (len < sizeof(*ih) + sizeof(*uh) || ih->version != 6 ||
	    ntohs(ih->payload_len) != len - sizeof(*ih) || ih->nexthdr != IPPROTO_UDP)
		return -EBADMSG;
	uh = (const void *)(p + sizeof(*ih));
	if (ntohs(uh->len) != len - sizeof(*ih) || !uh->check ||
	    sink_udp_sum(ih->saddr.s6_addr, ih->daddr.s6_addr, 16, (const uint8_t *)uh,
			 len - sizeof(*ih)) != 0xffff)
		return -EBADMSG;
	memcpy(src, ih->saddr.s6_addr, 16);
	*pay = p + sizeof(*ih) + sizeof(*uh);
	*plen = len - sizeof(*ih) - sizeof(*uh);
	return 0;
}

int sink_tunnel_decode(const uint8_t *msg, size_t len, uint8_t src[16], const uint8_t **pay,
		       size_t *plen)
{
	const struct xpro_tun_hdr *h = (const void *)msg;
	const uint8_t *in = msg + sizeof(*h);
	size_t inlen;

	if (len < XPRO_TUN_MIN_DATA || xpro_tun_version(h) != XPRO_TUN_VERSION ||
	    xpro_tun_type(h) != XPRO_MSG_DATA || h->flags || h->reserved)
		return -EBADMSG;
	inlen = len - sizeof(*h) - XPRO_TUN_TAG_LEN;
	switch (in[0] >> 4) {
	case 4:
		return sink_inner_v4(in, inlen, src, pay, plen);
	case 6:
		return sink_inner_v6(in, inlen, src, pay, plen);
	}
	return -EBADMSG;
}
