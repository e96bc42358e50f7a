/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel wire format v1, shared by the XDP program, the proxy and the device
 * side (docs/protocol.md describes it for humans).  Only fixed-width types, so
 * that BPF and userspace compile the same bytes.
 *
 *   outer Ethernet / IPv4|IPv6 / UDP (dst port: configured, default below)
 *   struct xpro_tun_hdr            20 bytes, multi-byte fields big-endian
 *   payload                        DATA: one inner IPv4 or IPv6 packet
 *   tag                            8 bytes, SipHash-2-4 under the device's
 *                                  integrity key for this epoch, over header
 *                                  and payload
 */
#ifndef XPRO_TUNNEL_H
#define XPRO_TUNNEL_H

#include <linux/types.h>

#define XPRO_TUN_PORT_DEFAULT 7447
#define XPRO_TUN_VERSION 1
#define XPRO_TUN_TAG_LEN 8
#define XPRO_TUN_SECRET_LEN 16 /* per (device, proxy) shared secret */

enum xpro_msg_type {
	XPRO_MSG_DATA = 1, /* payload: an inner IP packet to forward */
	XPRO_MSG_PROBE = 2, /* device -> proxy: load query (issue 5) */
	XPRO_MSG_PROBE_REPLY = 3, /* proxy -> device: loads (issue 5) */
	XPRO_MSG_OVERLOAD = 4, /* proxy -> device: overload warning (issue 5) */
	XPRO_MSG_MAX = 4,
};

#define XPRO_TUN_F_ENCRYPTED 0x01 /* payload encrypted under the epoch's EK (issue 5) */
#define XPRO_TUN_F_KNOWN XPRO_TUN_F_ENCRYPTED

struct xpro_tun_hdr {
	__u8 ver_type; /* version << 4 | type */
	__u8 flags; /* XPRO_TUN_F_* */
	__be16 reserved; /* zero; receivers reject anything else */
	__be32 epoch; /* key epoch: advances once per device boot */
	__be32 dev; /* device index */
	__be32 seq_hi; /* sequence number, 64 bits, never repeats */
	__be32 seq_lo; /*   under one (device, epoch) key */
};
_Static_assert(sizeof(struct xpro_tun_hdr) == 20, "tunnel header is 20 bytes on the wire");

static inline __u8 xpro_tun_version(const struct xpro_tun_hdr *h)
{
	return h->ver_type >> 4;
}

static inline __u8 xpro_tun_type(const struct xpro_tun_hdr *h)
{
	return h->ver_type & 0x0f;
}

/* Smallest valid DATA message: header, a 20-byte IPv4 header, tag. */
#define XPRO_TUN_MIN_DATA (sizeof(struct xpro_tun_hdr) + 20 + XPRO_TUN_TAG_LEN)
/* Smallest valid control message (PROBE, PROBE_REPLY, OVERLOAD): header, tag. */
#define XPRO_TUN_MIN_CTL (sizeof(struct xpro_tun_hdr) + XPRO_TUN_TAG_LEN)

#endif /* XPRO_TUNNEL_H */
