/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel wire format v1: the one definition the XDP program, the proxy, the
 * device library (modem-fw) and the test tools compile (docs/protocol.md
 * describes it for humans).  Freestanding (xpro/types.h): no libc, no Linux
 * headers, strict C99 with -pedantic.
 *
 *   outer Ethernet / IPv4|IPv6 / UDP (dst port: configured, default below)
 *   struct xpro_tun_hdr            20 bytes, multi-byte fields big-endian
 *   payload                        DATA: one inner IPv4 or IPv6 packet
 *   tag                            8 bytes, SipHash-2-4 under the sender's
 *                                  key for this epoch, over header and
 *                                  payload, little-endian
 *
 * Structs give the layout (asserted below); the XPRO_*_OFF_* byte offsets
 * are derived from them for code that reads and writes byte by byte (the
 * device library: no alignment or byte-order assumption on the MCU).
 */
#ifndef XPRO_TUNNEL_H
#define XPRO_TUNNEL_H

#include "xpro/types.h"

#define XPRO_TUN_PORT_DEFAULT 7447
#define XPRO_TUN_VERSION 1
#define XPRO_TUN_TAG_LEN 8
#define XPRO_TUN_SECRET_LEN 16 /* per (device, proxy) shared secret */

/*
 * Message types.  The type fixes the direction: 1 and 2 go from device to
 * proxy (tag under IK), 3 and 4 from proxy to device (tag under PK).  Each
 * side refuses the other side's types before looking at the tag.
 */
enum xpro_msg_type {
	XPRO_MSG_DATA = 1, /* payload: an inner IP packet to forward */
	XPRO_MSG_PROBE = 2, /* device -> proxy: load query */
	XPRO_MSG_PROBE_REPLY = 3, /* proxy -> device: loads; never accepted by a proxy */
	XPRO_MSG_OVERLOAD = 4, /* proxy -> device: overload warning; never accepted by a proxy */
	XPRO_MSG_MAX = 4,
	/* Proxies accept only the device -> proxy types, 1..this (docs/protocol.md). */
	XPRO_MSG_TO_PROXY_MAX = XPRO_MSG_PROBE,
};

#define XPRO_TUN_F_ENCRYPTED 0x01 /* DATA: payload is AEAD ciphertext and tag, under EK */
#define XPRO_TUN_F_KNOWN XPRO_TUN_F_ENCRYPTED

struct xpro_tun_hdr {
	xpro_u8 ver_type; /* version << 4 | type */
	xpro_u8 flags; /* XPRO_TUN_F_* */
	xpro_be16 reserved; /* zero; receivers reject anything else */
	xpro_be32 epoch; /* key epoch: advances once per device boot */
	xpro_be32 dev; /* device index */
	xpro_be32 seq_hi; /* sequence number, 64 bits, never repeats */
	xpro_be32 seq_lo; /*   under one (device, epoch) key */
};
XPRO_STATIC_ASSERT(sizeof(struct xpro_tun_hdr) == 20, "tunnel header is 20 bytes on the wire");

#define XPRO_TUN_HDR_LEN ((xpro_size)sizeof(struct xpro_tun_hdr)) /* 20 */
#define XPRO_TUN_OFF_VER_TYPE XPRO_OFFSETOF(struct xpro_tun_hdr, ver_type)
#define XPRO_TUN_OFF_FLAGS XPRO_OFFSETOF(struct xpro_tun_hdr, flags)
#define XPRO_TUN_OFF_RESERVED XPRO_OFFSETOF(struct xpro_tun_hdr, reserved)
#define XPRO_TUN_OFF_EPOCH XPRO_OFFSETOF(struct xpro_tun_hdr, epoch)
#define XPRO_TUN_OFF_DEV XPRO_OFFSETOF(struct xpro_tun_hdr, dev)
#define XPRO_TUN_OFF_SEQ XPRO_OFFSETOF(struct xpro_tun_hdr, seq_hi) /* be64 */
XPRO_STATIC_ASSERT(XPRO_TUN_OFF_EPOCH == 4 && XPRO_TUN_OFF_DEV == 8 && XPRO_TUN_OFF_SEQ == 12 &&
			   XPRO_OFFSETOF(struct xpro_tun_hdr, seq_lo) == 16,
		   "header field offsets");

static inline xpro_u8 xpro_tun_version(const struct xpro_tun_hdr *h)
{
	return h->ver_type >> 4;
}

static inline xpro_u8 xpro_tun_type(const struct xpro_tun_hdr *h)
{
	return h->ver_type & 0x0f;
}

#define XPRO_TUN_OVERHEAD (XPRO_TUN_HDR_LEN + XPRO_TUN_TAG_LEN) /* 28: what the tunnel adds */
/* Proxies refuse any message whose payload is shorter (check 1), whatever its type. */
#define XPRO_TUN_MIN_PAYLOAD 20
#define XPRO_TUN_MIN_MSG (XPRO_TUN_OVERHEAD + XPRO_TUN_MIN_PAYLOAD) /* 48 */
#define XPRO_TUN_MAX_MSG 65535 /* a UDP payload can hold no more */
/* Smallest valid DATA message: header, a 20-byte IPv4 header, tag. */
#define XPRO_TUN_MIN_DATA XPRO_TUN_MIN_MSG
/* Smallest control message a proxy accepts (PROBE): its payload is exactly the minimum. */
#define XPRO_TUN_MIN_CTL XPRO_TUN_MIN_MSG

/*
 * Keys of one epoch, derived from the secret (xpro/siphash.h xpro_kdf()):
 * key word i of epoch E under label L is SipHash-2-4(secret, L || 00 ||
 * be32(E) || i), written little-endian.  Labels are 7 bytes.
 */
#define XPRO_IK_LEN 16 /* device -> proxy tag key */
#define XPRO_PK_LEN 16 /* proxy -> device tag key */
#define XPRO_EK_LEN 32 /* device -> proxy ChaCha20-Poly1305 key */
#define XPRO_AEAD_NONCE_LEN 12
#define XPRO_AEAD_TAG_LEN 16
#define XPRO_LABEL_IK "xpro-ik"
#define XPRO_LABEL_PK "xpro-pk"
#define XPRO_LABEL_EK "xpro-ek"
#define XPRO_LABEL_LEN 7
XPRO_STATIC_ASSERT(sizeof(XPRO_LABEL_IK) - 1 == XPRO_LABEL_LEN &&
			   sizeof(XPRO_LABEL_PK) - 1 == XPRO_LABEL_LEN &&
			   sizeof(XPRO_LABEL_EK) - 1 == XPRO_LABEL_LEN,
		   "labels are 7 bytes");

/*
 * Payloads of the proxy management protocol (docs/protocol.md), big-endian.
 * Reserved bytes are sent as zero and ignored on receipt.  Loads are
 * permille of the proxy's capacity; larger values mean more than full.
 */
#define XPRO_PAYLOAD_VERSION 1
#define XPRO_LOAD_FULL 1000
#define XPRO_CAP_ENC 0x01 /* probe caps: the device can send ENCRYPTED DATA */
#define XPRO_ROLE_STANDBY 0
#define XPRO_ROLE_CURRENT 1

/* PROBE (device -> proxy), 20 bytes: the proxies' minimum payload. */
struct xpro_probe {
	xpro_u8 pver; /* XPRO_PAYLOAD_VERSION */
	xpro_u8 caps; /* XPRO_CAP_* */
	xpro_u8 role; /* XPRO_ROLE_*: does the device send DATA through this proxy */
	xpro_u8 reserved[17]; /* room for later fields */
};
XPRO_STATIC_ASSERT(sizeof(struct xpro_probe) == XPRO_TUN_MIN_PAYLOAD, "PROBE payload is 20 bytes");
#define XPRO_PROBE_LEN ((xpro_size)sizeof(struct xpro_probe))
#define XPRO_PROBE_OFF_PVER XPRO_OFFSETOF(struct xpro_probe, pver)
#define XPRO_PROBE_OFF_CAPS XPRO_OFFSETOF(struct xpro_probe, caps)
#define XPRO_PROBE_OFF_ROLE XPRO_OFFSETOF(struct xpro_probe, role)

#define XPRO_REPLY_F_ENC_OK 0x01 /* the proxy accepts ENCRYPTED DATA from this device */
#define XPRO_REPLY_F_UNAVAIL 0x02 /* the proxy asks devices to go elsewhere (draining) */
#define XPRO_REPLY_MAX_PEERS 8

/* PROBE_REPLY (proxy -> device): this, then npeers struct xpro_peer. */
struct xpro_probe_reply {
	xpro_be32 echo_hi; /* sequence number of the PROBE answered */
	xpro_be32 echo_lo;
	xpro_u8 pver;
	xpro_u8 flags; /* XPRO_REPLY_F_* */
	xpro_be16 load; /* the proxy's own load, permille */
	xpro_u8 npeers; /* 0..XPRO_REPLY_MAX_PEERS */
	xpro_u8 reserved[3];
};
XPRO_STATIC_ASSERT(sizeof(struct xpro_probe_reply) == 16, "PROBE_REPLY fixed part is 16 bytes");
#define XPRO_REPLY_FIXED_LEN ((xpro_size)sizeof(struct xpro_probe_reply))
#define XPRO_REPLY_OFF_ECHO XPRO_OFFSETOF(struct xpro_probe_reply, echo_hi) /* be64 */
#define XPRO_REPLY_OFF_PVER XPRO_OFFSETOF(struct xpro_probe_reply, pver)
#define XPRO_REPLY_OFF_FLAGS XPRO_OFFSETOF(struct xpro_probe_reply, flags)
#define XPRO_REPLY_OFF_LOAD XPRO_OFFSETOF(struct xpro_probe_reply, load)
#define XPRO_REPLY_OFF_NPEERS XPRO_OFFSETOF(struct xpro_probe_reply, npeers)

#define XPRO_PEER_AVAILABLE 0
#define XPRO_PEER_UNAVAILABLE 1 /* draining, or its load entry went stale */

/* One peer entry: another proxy the replying proxy knows through the sync layer. */
struct xpro_peer {
	xpro_u8 addr[16]; /* tunnel address, IPv4 as ::ffff:a.b.c.d */
	xpro_be16 port; /* tunnel UDP port */
	xpro_be16 load; /* permille */
	xpro_u8 state; /* XPRO_PEER_* */
	xpro_u8 reserved[3];
};
XPRO_STATIC_ASSERT(sizeof(struct xpro_peer) == 24, "peer entry is 24 bytes");
#define XPRO_PEER_LEN ((xpro_size)sizeof(struct xpro_peer))
#define XPRO_PEER_OFF_ADDR XPRO_OFFSETOF(struct xpro_peer, addr)
#define XPRO_PEER_OFF_PORT XPRO_OFFSETOF(struct xpro_peer, port)
#define XPRO_PEER_OFF_LOAD XPRO_OFFSETOF(struct xpro_peer, load)
#define XPRO_PEER_OFF_STATE XPRO_OFFSETOF(struct xpro_peer, state)
#define XPRO_REPLY_MAX_LEN (XPRO_REPLY_FIXED_LEN + XPRO_REPLY_MAX_PEERS * XPRO_PEER_LEN)

#define XPRO_OVL_PAIR_DROPPED 1 /* Algorithm 2 dropped one of this device's pairs */
#define XPRO_OVL_BUSY 2 /* the proxy's own load is above its T_W */

/* OVERLOAD (proxy -> device), 24 bytes. */
struct xpro_overload {
	xpro_u8 pver;
	xpro_u8 reason; /* XPRO_OVL_* */
	xpro_be16 load; /* the proxy's load, permille */
	xpro_be32 hold_ms; /* how long the device should stay away; 0: its default */
	xpro_u8 dst[16]; /* PAIR_DROPPED: the pair's inner destination; else zero */
};
XPRO_STATIC_ASSERT(sizeof(struct xpro_overload) == 24, "OVERLOAD payload is 24 bytes");
#define XPRO_OVERLOAD_LEN ((xpro_size)sizeof(struct xpro_overload))
#define XPRO_OVL_OFF_PVER XPRO_OFFSETOF(struct xpro_overload, pver)
#define XPRO_OVL_OFF_REASON XPRO_OFFSETOF(struct xpro_overload, reason)
#define XPRO_OVL_OFF_LOAD XPRO_OFFSETOF(struct xpro_overload, load)
#define XPRO_OVL_OFF_HOLD XPRO_OFFSETOF(struct xpro_overload, hold_ms)
#define XPRO_OVL_OFF_DST XPRO_OFFSETOF(struct xpro_overload, dst)

#endif /* XPRO_TUNNEL_H */
