/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel protocol v1 as the device sees it (docs/protocol.md): header
 * offsets, key labels and the payloads of the proxy management messages,
 * as byte offsets because the library builds and parses them byte by byte
 * (no struct layout, no alignment, no byte order assumptions on the MCU).
 * The proxy's own definitions live in include/xpro/tunnel.h, which the
 * library cannot include (Linux types); tests/modem checks that both agree.
 */
#ifndef MFW_WIRE_H
#define MFW_WIRE_H

#define MFW_VERSION 1
#define MFW_PORT_DEFAULT 7447
#define MFW_HDR_LEN 20
#define MFW_TAG_LEN 8 /* SipHash-2-4, sent little-endian */
#define MFW_OVERHEAD (MFW_HDR_LEN + MFW_TAG_LEN)
#define MFW_SECRET_LEN 16 /* per (device, proxy) */
#define MFW_SIPKEY_LEN 16 /* IK and PK */
#define MFW_EK_LEN 32 /* ChaCha20-Poly1305 key */
#define MFW_AEAD_NONCE_LEN 12
#define MFW_AEAD_TAG_LEN 16
/* Proxies refuse any message whose payload is shorter (check 1), whatever its type. */
#define MFW_MIN_PAYLOAD 20

/*
 * Message types.  The type fixes the direction: 1 and 2 go from device to
 * proxy (tag under IK), 3 and 4 from proxy to device (tag under PK).  Each
 * side refuses the other side's types before looking at the tag.
 */
enum mfw_msg_type {
	MFW_MSG_DATA = 1,
	MFW_MSG_PROBE = 2,
	MFW_MSG_PROBE_REPLY = 3,
	MFW_MSG_OVERLOAD = 4,
};

#define MFW_F_ENCRYPTED 0x01 /* DATA: payload is AEAD ciphertext and tag */

/* Header fields: byte offsets, multi-byte fields big-endian. */
#define MFW_OFF_VER_TYPE 0 /* version << 4 | type */
#define MFW_OFF_FLAGS 1
#define MFW_OFF_RESERVED 2 /* be16, zero */
#define MFW_OFF_EPOCH 4 /* be32: the device's key epoch */
#define MFW_OFF_DEV 8 /* be32: device index */
#define MFW_OFF_SEQ 12 /* be64: the sender's sequence number */

/*
 * Key derivation labels, 7 bytes each: key word i of epoch E is
 * SipHash-2-4(K, label || 00 || be32(E) || i), written little-endian.
 */
#define MFW_LABEL_IK "xpro-ik" /* device -> proxy tag, words 0-1 */
#define MFW_LABEL_PK "xpro-pk" /* proxy -> device tag, words 0-1 */
#define MFW_LABEL_EK "xpro-ek" /* device -> proxy AEAD key, words 0-3 */
#define MFW_LABEL_LEN 7

/* PROBE payload (device -> proxy): 20 bytes, the proxies' minimum. */
#define MFW_PROBE_LEN 20
#define MFW_PROBE_OFF_PVER 0 /* payload version, 1 */
#define MFW_PROBE_OFF_CAPS 1 /* MFW_CAP_* */
#define MFW_PROBE_OFF_ROLE 2 /* MFW_ROLE_*: does the device send DATA through you */
/* bytes 3..19: zero; receivers ignore them (room for later fields) */
#define MFW_CAP_ENC 0x01 /* the device can send ENCRYPTED DATA */
#define MFW_ROLE_STANDBY 0
#define MFW_ROLE_CURRENT 1

#define MFW_PAYLOAD_VERSION 1

/* PROBE_REPLY payload (proxy -> device): 16 bytes, then npeers entries. */
#define MFW_REPLY_FIXED_LEN 16
#define MFW_REPLY_OFF_ECHO 0 /* be64: sequence number of the PROBE answered */
#define MFW_REPLY_OFF_PVER 8
#define MFW_REPLY_OFF_FLAGS 9 /* MFW_REPLY_F_* */
#define MFW_REPLY_OFF_LOAD 10 /* be16: the proxy's own load, permille */
#define MFW_REPLY_OFF_NPEERS 12 /* u8: entries that follow, at most MFW_REPLY_MAX_PEERS */
/* bytes 13..15: zero */
#define MFW_REPLY_F_ENC_OK 0x01 /* the proxy accepts ENCRYPTED DATA from this device */
#define MFW_REPLY_F_UNAVAIL 0x02 /* the proxy asks devices to go elsewhere (draining) */
#define MFW_REPLY_MAX_PEERS 8

/* One peer entry: another proxy the replying proxy knows through the sync layer. */
#define MFW_PEER_LEN 24
#define MFW_PEER_OFF_ADDR 0 /* 16 bytes, IPv4 as ::ffff:a.b.c.d */
#define MFW_PEER_OFF_PORT 16 /* be16: its tunnel UDP port */
#define MFW_PEER_OFF_LOAD 18 /* be16: permille */
#define MFW_PEER_OFF_STATE 20 /* MFW_PEER_* */
/* bytes 21..23: zero */
#define MFW_PEER_AVAILABLE 0
#define MFW_PEER_UNAVAILABLE 1 /* draining, or its load entry went stale */

#define MFW_REPLY_MAX_LEN (MFW_REPLY_FIXED_LEN + MFW_REPLY_MAX_PEERS * MFW_PEER_LEN)

/* OVERLOAD payload (proxy -> device): 24 bytes. */
#define MFW_OVERLOAD_LEN 24
#define MFW_OVL_OFF_PVER 0
#define MFW_OVL_OFF_REASON 1 /* MFW_OVL_* */
#define MFW_OVL_OFF_LOAD 2 /* be16: the proxy's load, permille */
#define MFW_OVL_OFF_HOLD 4 /* be32: ms the proxy asks the device to stay away */
#define MFW_OVL_OFF_DST 8 /* 16 bytes: PAIR_DROPPED: the pair's inner destination */
#define MFW_OVL_PAIR_DROPPED 1 /* Algorithm 2 dropped one of this device's pairs */
#define MFW_OVL_BUSY 2 /* the proxy's own load is above its T_W */

/* Loads are permille of the proxy's capacity; larger values mean more than full. */
#define MFW_LOAD_FULL 1000

#endif /* MFW_WIRE_H */
