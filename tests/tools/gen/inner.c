/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inner packets: IPv4/UDP or IPv6/UDP from a device's inner address to its
 * flow's destination, with correct checksums and the flow payload, or with
 * one deliberate defect for bad mode; and sealing them into tunnel messages.
 */
#include <errno.h>
#include <string.h>
#include <endian.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include "xpro/siphash.h"
#include "../flowpay.h"
#include "gen.h"

#define GEN_V6_FRAG_LEN 8

static uint32_t gen_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t gen_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP checksum (host order) of ulen bytes at udp, checksum field zero. */
static uint16_t gen_udp_csum(const uint8_t *saddr, const uint8_t *daddr, size_t alen,
			     const uint8_t *udp, size_t ulen)
{
	uint32_t sum = gen_sum(gen_sum(0, saddr, alen), daddr, alen);
	uint16_t c;

	sum += IPPROTO_UDP + (uint32_t)(ulen & 0xffff) + (uint32_t)(ulen >> 16);
	c = gen_fold(gen_sum(sum, udp, ulen));
	return c ? c : 0xffff;
}

/*
 * Headers are composed in local structs and copied out, and checksums are
 * written byte by byte: in a frame the inner headers sit at odd offsets
 * (Ethernet is 14 bytes), where struct access would be misaligned.
 */
static void gen_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void gen_ipv4_csum(uint8_t *ip)
{
	size_t hl = (ip[0] & 0x0f) * 4u;

	gen_put16(ip + offsetof(struct iphdr, check), 0);
	gen_put16(ip + offsetof(struct iphdr, check), gen_fold(gen_sum(0, ip, hl)));
}

void gen_udp4_csum(const uint8_t *ip, uint8_t *udp, size_t ulen)
{
	gen_put16(udp + offsetof(struct udphdr, check), 0);
	gen_put16(udp + offsetof(struct udphdr, check),
		  gen_udp_csum(ip + offsetof(struct iphdr, saddr),
			       ip + offsetof(struct iphdr, daddr), 4, udp, ulen));
}

static void gen_src_of(const struct gen_flow *f, enum gen_inner_kind kind, uint8_t src[16])
{
	memcpy(src, f->dev->addr, 16);
	/*
	 * A neighbour's address, outside the device's /32 or /64 but still in the
	 * benchmarking ranges: 198.18.64.0/18 becomes 198.18.192.0/18, 2001:2:0:40::
	 * becomes 2001:2:0:c0::.
	 */
	if (kind == GEN_INNER_SPOOF)
		src[f->dev->ver == 4 ? 14 : 7] ^= 0x80;
}

static void gen_udp_hdr(uint8_t *p, const struct gen_flow *f, size_t ulen)
{
	struct udphdr uh = {
		.source = htons(GEN_INNER_SPORT_BASE + f->id % 50000),
		.dest = htons(f->dst->port),
		.len = htons(ulen),
	};

	memcpy(p, &uh, sizeof(uh));
}

static int gen_inner_v4(uint8_t *buf, size_t buflen, const struct gen_flow *f, uint64_t seq,
			uint32_t size, uint64_t tx_ns, enum gen_inner_kind kind)
{
	size_t hl = kind == GEN_INNER_OPTIONS ? 24 : 20, ulen = sizeof(struct udphdr) + size;
	struct iphdr ih = {
		.version = 4,
		.ihl = hl / 4,
		.tot_len = htons(hl + ulen + (kind == GEN_INNER_BADLEN)),
		.id = htons((uint16_t)seq),
		.frag_off = htons(kind == GEN_INNER_FRAGMENT ? 0x2000 : 0x4000), /* MF : DF */
		.ttl = 64,
		.protocol = IPPROTO_UDP,
	};
	uint8_t src[16], *udp = buf + hl;

	if (buflen < hl + ulen)
		return -ENOSPC;
	gen_src_of(f, kind, src);
	memcpy(&ih.saddr, src + 12, 4);
	memcpy(&ih.daddr, f->dst->addr + 12, 4);
	memcpy(buf, &ih, sizeof(ih));
	if (hl > sizeof(ih))
		memcpy(buf + sizeof(ih), "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
	gen_ipv4_csum(buf);
	gen_udp_hdr(udp, f, ulen);
	fp_fill(udp + sizeof(struct udphdr), size, f->id, seq, tx_ns);
	gen_udp4_csum(buf, udp, ulen);
	return (int)(hl + ulen);
}

static int gen_inner_v6(uint8_t *buf, size_t buflen, const struct gen_flow *f, uint64_t seq,
			uint32_t size, uint64_t tx_ns, enum gen_inner_kind kind)
{
	size_t fl = kind == GEN_INNER_FRAGMENT ? GEN_V6_FRAG_LEN : 0;
	size_t ulen = sizeof(struct udphdr) + size, hl = sizeof(struct ipv6hdr) + fl;
	struct ipv6hdr ih = {
		.version = 6,
		.payload_len = htons(fl + ulen + (kind == GEN_INNER_BADLEN)),
		.nexthdr = fl ? IPPROTO_FRAGMENT : IPPROTO_UDP,
		.hop_limit = 64,
	};
	uint8_t src[16], *udp = buf + hl;

	if (buflen < hl + ulen)
		return -ENOSPC;
	gen_src_of(f, kind, src);
	memcpy(ih.saddr.s6_addr, src, 16);
	memcpy(ih.daddr.s6_addr, f->dst->addr, 16);
	memcpy(buf, &ih, sizeof(ih));
	if (fl) {
		uint8_t *fh = buf + sizeof(ih);
		uint32_t ident = htonl((uint32_t)seq);

		memset(fh, 0, fl);
		fh[0] = IPPROTO_UDP;
		fh[3] = 1; /* offset 0, more fragments */
		memcpy(fh + 4, &ident, 4);
	}
	gen_udp_hdr(udp, f, ulen);
	fp_fill(udp + sizeof(struct udphdr), size, f->id, seq, tx_ns);
	gen_put16(udp + offsetof(struct udphdr, check),
		  gen_udp_csum(src, f->dst->addr, 16, udp, ulen));
	return (int)(hl + ulen);
}

int gen_inner_build(uint8_t *buf, size_t buflen, const struct gen_flow *f, uint64_t seq,
		    uint32_t size, uint64_t tx_ns, enum gen_inner_kind kind)
{
	if (f->dev->ver == 4)
		return gen_inner_v4(buf, buflen, f, seq, size, tx_ns, kind);
	return gen_inner_v6(buf, buflen, f, seq, size, tx_ns, kind);
}

int gen_seal_next(uint8_t *buf, size_t buflen, struct gen_flow *f, const struct gen_world *w,
		  uint64_t tx_ns)
{
	int n;

	if (buflen < XPRO_TUN_OVERHEAD)
		return -ENOSPC;
	n = gen_inner_build(buf + XPRO_TUN_HDR_LEN, buflen - XPRO_TUN_OVERHEAD, f, f->seq,
			    w->cfg->size, tx_ns, GEN_INNER_OK);
	if (n < 0)
		return n;
	n = tun_seal(buf, buflen, f->dev->ik, XPRO_MSG_DATA, w->epoch, f->dev->idx, f->dev->seq,
		     buf + XPRO_TUN_HDR_LEN, (size_t)n);
	if (n < 0)
		return n;
	f->seq++;
	f->dev->seq++;
	return n;
}

void gen_retag(uint8_t *msg, size_t len, const uint8_t ik[XPRO_IK_LEN])
{
	uint64_t tag = htole64(xpro_siphash_b(ik, msg, len - XPRO_TUN_TAG_LEN));

	memcpy(msg + len - XPRO_TUN_TAG_LEN, &tag, XPRO_TUN_TAG_LEN);
}
