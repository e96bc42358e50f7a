/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tunnel protocol v1 (docs/protocol.md) on the proxy: the sealer, which
 * the proxy's replies and the traffic generator use, and the authenticator,
 * which runs the checks of the spec in order on each packet.  The wire
 * format, SipHash, the key derivation and the replay window are the
 * protocol core in include/xpro/, shared with the device library.
 */
#ifndef XPRO_DP_TUNNEL_H
#define XPRO_DP_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include "xpro/pair_key.h"
#include "xpro/siphash.h"
#include "xpro/tunnel.h"
#include "dataplane/devtab.h"

/* Bytes tun_seal() writes for a payload of payload_len bytes. */
static inline size_t tun_seal_len(size_t payload_len)
{
	return XPRO_TUN_OVERHEAD + payload_len;
}

/*
 * Build one complete message in buf: header (version 1, type, flags 0,
 * reserved 0, epoch, dev, seq), then the len payload bytes, then the tag under
 * ik (from xpro_derive_ik()).  This is the UDP payload to send.
 *
 * The payload is copied with memmove, so it may already sit in buf at
 * buf + XPRO_TUN_HDR_LEN (then nothing moves: seal in place).  The sealer does not
 * look inside the payload: a DATA payload the proxy would refuse (not one IP
 * packet, fewer than XPRO_TUN_MIN_PAYLOAD bytes) is sealed all the same, which the
 * tests need.  The caller owns seq: +1 per message, never reused in an epoch.
 *
 * Returns the message length, tun_seal_len(len), or -EINVAL (type not
 * 1..XPRO_MSG_MAX), -EMSGSIZE (longer than XPRO_TUN_MAX_MSG) or -ENOSPC (buflen
 * too small).  Any thread; no state.
 */
int tun_seal(uint8_t *buf, size_t buflen, const uint8_t ik[XPRO_IK_LEN], unsigned type,
	     uint32_t epoch, uint32_t dev, uint64_t seq, const void *payload, size_t len);

/*
 * Why tun_auth() refused a message; it returns the negated value.  The order
 * is the order of the checks.  Callers count rejections by this code.
 */
enum tun_rej {
	TUN_OK = 0,
	TUN_REJ_SHORT, /* fewer than XPRO_TUN_MIN_MSG bytes */
	TUN_REJ_VERSION, /* version is not 1 */
	TUN_REJ_TYPE, /* type not DATA or PROBE (proxy -> device types included) */
	TUN_REJ_FLAGS, /* unknown flag, ENCRYPTED (unsupported yet) or reserved != 0 */
	TUN_REJ_UNKNOWN_DEV, /* device index not provisioned */
	TUN_REJ_INACTIVE, /* device provisioned inactive */
	TUN_REJ_EPOCH, /* epoch older than the device's previous one */
	TUN_REJ_REPLAY, /* sequence already seen or below the window */
	TUN_REJ_MAC, /* tag does not verify */
	TUN_REJ_INNER, /* DATA: not one whole IPv4/IPv6 packet (version, IHL, length, ext. headers) */
	TUN_REJ_INNER_OPTIONS, /* DATA: IPv4 header with options (IHL > 5) */
	TUN_REJ_FRAGMENT, /* DATA: IPv4 fragment or IPv6 fragment header */
	TUN_REJ_SPOOF, /* DATA: inner source outside the device's prefix, or other family */
	TUN_REJ_N,
};

/* "OK", "SHORT", ... for tun_auth's return value r (0 or -TUN_REJ_*); "?" if unknown. */
const char *tun_rej_name(int r);

/* One authenticated message.  Pointers point into the caller's buffer. */
struct tun_pkt {
	uint8_t type; /* enum xpro_msg_type */
	uint8_t inner_ver; /* DATA: 4 or 6 */
	uint32_t dev; /* device index */
	uint32_t epoch;
	uint64_t seq;
	const uint8_t *inner; /* the payload; for DATA, the inner IP packet */
	size_t inner_len;
	struct xf_key key; /* DATA: inner destination (IPv4-mapped) and dev */
};

/*
 * Authenticate one tunnel message, the whole UDP payload of len bytes, with
 * the checks of docs/protocol.md in their order: structure, device, epoch,
 * replay, tag (constant time), then for DATA the inner packet.  Nothing is
 * written to shared state before the tag verifies; once it has, the device's
 * epoch and replay window are updated under the device's own lock (so two
 * workers may see the same device's packets), and a later inner-packet
 * rejection does not undo that: the sequence number was genuinely used.
 *
 * Returns 0 with *out filled, or -TUN_REJ_*.  On rejection, out's type, dev,
 * epoch and seq hold the header's values when len >= XPRO_TUN_HDR_LEN (for rate-
 * limited logs); the rest of *out is unspecified.  Messages of types other
 * than DATA are authenticated and returned without an inner check; the caller
 * decides what to do with them.
 *
 * Any number of worker threads, each a registered RCU reader inside
 * rcu_read_lock() (out->inner points into msg, not into the table, so it
 * stays valid after rcu_read_unlock()).  No allocation, no syscall.
 */
int tun_auth(struct tun_devtab *t, const uint8_t *msg, size_t len, struct tun_pkt *out);

#endif
