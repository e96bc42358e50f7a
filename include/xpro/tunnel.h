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
	XPRO_MSG_PROBE = 2, /* device -> proxy: load query */
	XPRO_MSG_PROBE_REPLY = 3, /* proxy -> device: loads; never accepted by a proxy */
	XPRO_MSG_OVERLOAD = 4, /* proxy -> device: overload warning; never accepted by a proxy */
	XPRO_MSG_MAX = 4,
	/* Proxies accept only the device -> proxy types, 1..this (docs/protocol.md). */
	XPRO_MSG_TO_PROXY_MAX = XPRO_MSG_PROBE,
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
/*
 * Smallest control message a proxy accepts (PROBE): header, the 20-byte
 * minimum payload every message must carry (a PROBE's payload is exactly
 * that), tag.  Proxy -> device messages are longer still.
 */
#define XPRO_TUN_MIN_CTL (sizeof(struct xpro_tun_hdr) + 20 + XPRO_TUN_TAG_LEN)

/*
 * Payloads of the proxy management protocol (docs/protocol.md), big-endian,
 * the same bytes as modem-fw/include/mfw_wire.h's offsets (tests/modem
 * compares them).  Reserved bytes are sent as zero and ignored on receipt.
 */
#define XPRO_PAYLOAD_VERSION 1
#define XPRO_CAP_ENC 0x01 /* probe caps: the device can send ENCRYPTED DATA */
#define XPRO_ROLE_STANDBY 0
#define XPRO_ROLE_CURRENT 1

/* PROBE (device -> proxy), 20 bytes. */
struct xpro_probe {
	__u8 pver; /* XPRO_PAYLOAD_VERSION */
	__u8 caps; /* XPRO_CAP_* */
	__u8 role; /* XPRO_ROLE_*: does the device send DATA through this proxy */
	__u8 reserved[17];
};
_Static_assert(sizeof(struct xpro_probe) == 20, "PROBE payload is 20 bytes");

#define XPRO_REPLY_F_ENC_OK 0x01 /* the proxy accepts ENCRYPTED DATA from this device */
#define XPRO_REPLY_F_UNAVAIL 0x02 /* the proxy asks devices to go elsewhere */
#define XPRO_REPLY_MAX_PEERS 8

/* PROBE_REPLY (proxy -> device): this, then npeers struct xpro_peer. */
struct xpro_probe_reply {
	__be32 echo_hi; /* sequence number of the PROBE answered */
	__be32 echo_lo;
	__u8 pver;
	__u8 flags; /* XPRO_REPLY_F_* */
	__be16 load; /* the proxy's own load, permille */
	__u8 npeers; /* 0..XPRO_REPLY_MAX_PEERS */
	__u8 reserved[3];
};
_Static_assert(sizeof(struct xpro_probe_reply) == 16, "PROBE_REPLY fixed part is 16 bytes");

#define XPRO_PEER_AVAILABLE 0
#define XPRO_PEER_UNAVAILABLE 1 /* draining, or its load entry went stale */

struct xpro_peer {
	__u8 addr[16]; /* tunnel address, IPv4 as ::ffff:a.b.c.d */
	__be16 port; /* tunnel UDP port */
	__be16 load; /* permille */
	__u8 state; /* XPRO_PEER_* */
	__u8 reserved[3];
};
_Static_assert(sizeof(struct xpro_peer) == 24, "peer entry is 24 bytes");

#define XPRO_OVL_PAIR_DROPPED 1 /* Algorithm 2 dropped one of this device's pairs */
#define XPRO_OVL_BUSY 2 /* the proxy's own load is above its T_W */

/* OVERLOAD (proxy -> device), 24 bytes. */
struct xpro_overload {
	__u8 pver;
	__u8 reason; /* XPRO_OVL_* */
	__be16 load; /* the proxy's load, permille */
	__be32 hold_ms; /* how long the device should stay away; 0: its default */
	__u8 dst[16]; /* PAIR_DROPPED: the pair's inner destination; else zero */
};
_Static_assert(sizeof(struct xpro_overload) == 24, "OVERLOAD payload is 24 bytes");

#endif /* XPRO_TUNNEL_H */
