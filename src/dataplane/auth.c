/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tun_auth(): the proxy's per-packet authenticator, docs/protocol.md "Proxy
 * checks" in their order.  Everything before the tag is read-only, so a
 * forged packet costs one lookup and one SipHash (three for a forged new
 * epoch, whose key is derived on the stack) and changes nothing.
 */
#include <stdbool.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "xpro/addr.h"
#include "xpro/filter.h"
#include "dataplane/devtab_int.h"
#include "dataplane/tunnel.h"

#define IP4_HDR_LEN 20
#define IP4_IHL_MIN 5 /* 32-bit words: a header without options */
#define IP4_MF 0x2000
#define IP4_OFFSET 0x1fff
#define IP6_HDR_LEN 40
#define IP6_NH_HIP 139 /* RFC 7401; same generic layout as the options headers */
#define IP6_NH_SHIM6 140 /* RFC 5533 */

/* The structure check leaves at least this much payload to read headers from. */
_Static_assert(XPRO_TUN_MIN_PAYLOAD >= IP4_HDR_LEN, "an IPv4 header fits in the smallest payload");

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool src_in_prefix(const struct tun_dev *d, const uint8_t src[16])
{
	uint64_t a[2];

	memcpy(a, src, sizeof(a));
	return !(((a[0] & d->mask[0]) ^ d->net[0]) | ((a[1] & d->mask[1]) ^ d->net[1]));
}

static int inner_ipv4(const struct tun_dev *d, const uint8_t *p, size_t len, struct tun_pkt *out)
{
	unsigned ihl = p[0] & 0x0f;
	uint8_t src[16];
	uint32_t dst_be;

	if (ihl < IP4_IHL_MIN)
		return -TUN_REJ_INNER;
	if (ihl > IP4_IHL_MIN)
		return -TUN_REJ_INNER_OPTIONS;
	if (load_be16(p + 2) != len)
		return -TUN_REJ_INNER;
	if (load_be16(p + 6) & (IP4_MF | IP4_OFFSET))
		return -TUN_REJ_FRAGMENT;
	xpro_addr_from_v4(src, p + 12);
	if (d->ipver != 4 || !src_in_prefix(d, src))
		return -TUN_REJ_SPOOF;
	memcpy(&dst_be, p + 16, 4);
	xf_key_ipv4(&out->key, d->dev, dst_be);
	out->inner_ver = 4;
	return 0;
}

/*
 * Walk the extension headers that may precede a fragment header (RFC 8200
 * section 4.1), so that a fragment cannot hide behind, say, a hop-by-hop
 * header.  Stops at the first upper-layer (or unknown) header.
 */
static int ipv6_ext_check(const uint8_t *p, size_t len)
{
	size_t off = IP6_HDR_LEN, hlen;
	uint8_t nh = p[6];

	for (;;) {
		switch (nh) {
		case IPPROTO_FRAGMENT:
			return -TUN_REJ_FRAGMENT;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_MH:
		case IP6_NH_HIP:
		case IP6_NH_SHIM6:
			if (len - off < 2)
				return -TUN_REJ_INNER;
			hlen = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (len - off < 2)
				return -TUN_REJ_INNER;
			hlen = ((size_t)p[off + 1] + 2) * 4;
			break;
		default:
			return 0;
		}
		if (len - off < hlen)
			return -TUN_REJ_INNER;
		nh = p[off];
		off += hlen;
	}
}

static int inner_ipv6(const struct tun_dev *d, const uint8_t *p, size_t len, struct tun_pkt *out)
{
	int r;

	if (len < IP6_HDR_LEN || (size_t)load_be16(p + 4) + IP6_HDR_LEN != len)
		return -TUN_REJ_INNER;
	r = ipv6_ext_check(p, len);
	if (r)
		return r;
	if (d->ipver != 6 || !src_in_prefix(d, p + 8))
		return -TUN_REJ_SPOOF;
	xf_key_ipv6(&out->key, d->dev, p + 24);
	out->inner_ver = 6;
	return 0;
}

static int inner_check(const struct tun_dev *d, const uint8_t *p, size_t len, struct tun_pkt *out)
{
	switch (p[0] >> 4) {
	case 4:
		return inner_ipv4(d, p, len, out);
	case 6:
		return inner_ipv6(d, p, len, out);
	default:
		return -TUN_REJ_INNER;
	}
}

_Static_assert(TUN_STATE_REJ_FIRST == TUN_REJ_INACTIVE &&
		       TUN_STATE_REJ_FIRST + TUN_STATE_NREJ == TUN_REJ_SPOOF + 1,
	       "a device's rejection counters are INACTIVE..SPOOF");
_Static_assert(sizeof(struct tun_state) == 128, "the device state is two cache lines");

/* Check 1, structure: everything that needs nothing but the bytes. */
static int header_check(const uint8_t *msg, size_t len, struct tun_pkt *out)
{
	struct xpro_tun_hdr h;

	if (len < XPRO_TUN_HDR_LEN)
		return -TUN_REJ_SHORT;
	memcpy(&h, msg, sizeof(h));
	out->type = xpro_tun_type(&h);
	out->epoch = ntohl(h.epoch);
	out->dev = ntohl(h.dev);
	out->seq = (uint64_t)ntohl(h.seq_hi) << 32 | ntohl(h.seq_lo);
	if (len < XPRO_TUN_MIN_MSG)
		return -TUN_REJ_SHORT;
	if (xpro_tun_version(&h) != XPRO_TUN_VERSION)
		return -TUN_REJ_VERSION;
	/* PROBE_REPLY and OVERLOAD go the other way: a reflected one is refused here. */
	if (out->type < 1 || out->type > XPRO_MSG_TO_PROXY_MAX)
		return -TUN_REJ_TYPE;
	/* ENCRYPTED is known, but this proxy does not decrypt (it never says ENC_OK). */
	if (h.flags || h.reserved)
		return -TUN_REJ_FLAGS;
	return 0;
}

/*
 * Equal in time independent of where the values differ: one 64-bit XOR and
 * one test, with no early exit over the bytes (a per-byte memcmp would leak
 * how many leading tag bytes a forger got right).
 */
static inline bool tag_equal(uint64_t a, uint64_t b)
{
	return (a ^ b) == 0;
}

int tun_auth(struct tun_devtab *t, const uint8_t *msg, size_t len, struct tun_pkt *out)
{
	const struct tun_devset *set;
	const struct tun_idx *sl;
	const struct tun_dev *d;
	struct tun_ep ep[2];
	struct xpro_sipkey ik;
	uint8_t ikb[XPRO_IK_LEN];
	size_t body; /* header and payload: what the tag covers */
	uint64_t tag;
	int r, slot;

	r = header_check(msg, len, out);
	if (r)
		return r;

	/* Check 2, device. */
	set = tun_devtab_cur(t);
	sl = tun_devset_slot(set, out->dev);
	if (!sl)
		return -TUN_REJ_UNKNOWN_DEV;
	/* Entry and state in parallel (see struct tun_idx); reading is harmless. */
	d = &set->devs[sl->pos];
	__builtin_prefetch(d);
	tun_state_read(sl->st, ep);
	if (!d->active)
		return tun_state_reject(sl->st, -TUN_REJ_INACTIVE);

	/* Checks 3 and 4, epoch and replay, on the snapshot: no writes yet. */
	slot = tun_state_check(ep, out->epoch, out->seq);
	if (slot < 0)
		return tun_state_reject(sl->st, slot);
	if (slot == TUN_SLOT_NEW) {
		xpro_derive_ik(d->secret, out->epoch, ikb);
		xpro_sipkey_load(&ik, ikb);
	} else {
		ik = ep[slot].ik;
	}

	/* Check 5, tag (sent little-endian). */
	body = len - XPRO_TUN_TAG_LEN;
	tag = xpro_get_le64(msg + body);
	if (!tag_equal(xpro_siphash(&ik, msg, body), tag))
		return tun_state_reject(sl->st, -TUN_REJ_MAC);
	r = tun_state_commit(sl->st, out->epoch, out->seq, &ik);
	if (r)
		return tun_state_reject(sl->st, r);

	out->inner = msg + XPRO_TUN_HDR_LEN;
	out->inner_len = body - XPRO_TUN_HDR_LEN;
	if (out->type != XPRO_MSG_DATA) {
		out->inner_ver = 0;
		memset(&out->key, 0, sizeof(out->key));
		return 0;
	}
	/* Check 6, the inner packet. */
	r = inner_check(d, out->inner, out->inner_len, out);
	return r ? tun_state_reject(sl->st, r) : 0;
}
