/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The payload xpro-gen puts in every inner UDP packet and xpro-sink checks: a
 * flow id, a per-flow sequence number, the send time, and a pattern derived
 * from flow and sequence so that any corrupted, misplaced or truncated byte shows.
 */
#ifndef XPRO_TOOLS_FLOWPAY_H
#define XPRO_TOOLS_FLOWPAY_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>

#define FP_MAGIC 0x5850464cu /* "XPFL" */

/* On the wire, big-endian; the pattern fills the rest of the UDP payload. */
struct fp_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t tx_ns; /* CLOCK_MONOTONIC at send (one clock for all namespaces); 0: unknown */
};
_Static_assert(sizeof(struct fp_hdr) == 24, "flow payload header is 24 bytes");

#define FP_MIN_LEN sizeof(struct fp_hdr)

/* The pattern generator: splitmix64, seeded by flow and sequence. */
static inline uint64_t fp_mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void fp_pattern(uint8_t *p, size_t len, uint32_t flow, uint64_t seq)
{
	uint64_t s = ((uint64_t)flow << 32) ^ seq, v;

	while (len >= 8) {
		v = htole64(fp_mix(&s));
		memcpy(p, &v, 8);
		p += 8;
		len -= 8;
	}
	if (len) {
		v = htole64(fp_mix(&s));
		memcpy(p, &v, len);
	}
}

/* Fill len >= FP_MIN_LEN bytes at p. */
static inline void fp_fill(void *p, size_t len, uint32_t flow, uint64_t seq, uint64_t tx_ns)
{
	struct fp_hdr h = { htobe32(FP_MAGIC), htobe32(flow), htobe64(seq), htobe64(tx_ns) };

	memcpy(p, &h, sizeof(h));
	fp_pattern((uint8_t *)p + sizeof(h), len - sizeof(h), flow, seq);
}

/* Rewrite only the send time of a filled payload (a template sent many times). */
static inline void fp_set_tx(void *p, uint64_t tx_ns)
{
	uint64_t v = htobe64(tx_ns);

	memcpy((uint8_t *)p + offsetof(struct fp_hdr, tx_ns), &v, 8);
}

/*
 * Check len bytes at p.  Returns 0 and the header fields; -ENOMSG if it is not
 * a flow payload at all (short or no magic: flow and seq unknown); -EBADMSG if
 * the header parses but the pattern is wrong (flow and seq are filled in but
 * may themselves be the corrupted bytes).
 */
static inline int fp_check(const void *p, size_t len, uint32_t *flow, uint64_t *seq,
			   uint64_t *tx_ns)
{
	const uint8_t *b = (const uint8_t *)p + sizeof(struct fp_hdr);
	struct fp_hdr h;
	uint64_t s, v;
	size_t n;

	if (len < sizeof(h))
		return -ENOMSG;
	memcpy(&h, p, sizeof(h));
	if (be32toh(h.magic) != FP_MAGIC)
		return -ENOMSG;
	*flow = be32toh(h.flow);
	*seq = be64toh(h.seq);
	*tx_ns = be64toh(h.tx_ns);
	s = ((uint64_t)*flow << 32) ^ *seq;
	for (n = len - sizeof(h); n; b += 8) {
		size_t k = n < 8 ? n : 8;

		v = htole64(fp_mix(&s));
		if (memcmp(b, &v, k))
			return -EBADMSG;
		n -= k;
	}
	return 0;
}

#endif /* XPRO_TOOLS_FLOWPAY_H */
