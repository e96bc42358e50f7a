/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sync layer's Redis record layout: key names, hash fields, wire units
 * and the merge script's branch flags.  The C code and the Lua scripts (built
 * from these macros) share this one definition; docs/sync.md explains it.
 */
#ifndef XPRO_SYNC_KEYS_H
#define XPRO_SYNC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "xpro/pair_key.h"

/*
 * Keys.  <dev> is the device index in decimal, <dst> the 16-byte
 * (IPv4-mapped) destination as 32 lowercase hex digits, <id> a proxy id.
 *
 *   xpro:p:<dev>:<dst>  hash c ts1 ts2 total   one pair, PEXPIRE ttl_ms
 *   xpro:d:<dst>        hash c ts1 ts2 total   one destination's window, PEXPIRE ttl_ms
 *   xpro:s:<id>         hash seq total         one proxy: last applied batch, its packets
 *   xpro:w              hash <id> -> "pps util ts"   every proxy's workload W
 *   xpro:gen            string                 the master instance marker
 */
#define SYNC_KEY_PAIR "xpro:p:"
#define SYNC_KEY_DST "xpro:d:"
#define SYNC_KEY_PROXY "xpro:s:"
#define SYNC_KEY_LOAD "xpro:w"
#define SYNC_KEY_GEN "xpro:gen"

#define SYNC_DST_HEX_LEN 32
#define SYNC_PROXY_ID_MAX 32 /* [A-Za-z0-9._-], 1..32 characters */
#define SYNC_GEN_LEN 32 /* hex digits of the instance marker (128 random bits) */
/* "xpro:p:" + 10 digits + ':' + 32 hex + NUL */
#define SYNC_KEY_PAIR_MAX (sizeof(SYNC_KEY_PAIR) + 10 + 1 + SYNC_DST_HEX_LEN + 1)

/*
 * Times on the wire are microseconds on the clock all proxies share (see
 * docs/sync.md, "Clock"); the C API speaks nanoseconds.  Lua numbers are
 * doubles, so every integer the scripts handle must stay below 2^53: 285
 * years of microseconds since 1970, 9e15 packets.
 */
#define SYNC_NS_PER_WIRE 1000ULL
#define SYNC_WIRE_MAX ((1ULL << 53) - 1)

static inline uint64_t sync_ns_to_wire(uint64_t ns)
{
	return ns / SYNC_NS_PER_WIRE;
}

static inline uint64_t sync_wire_to_ns(uint64_t w)
{
	return w * SYNC_NS_PER_WIRE;
}

/*
 * What the merge did to one pair (struct sync_pair_out.flags).  Decimal
 * because the Lua script is built from these macros.  Paper lines refer to
 * Algorithm 1; docs/sync.md has the full mapping.
 */
#define SYNC_F_CREATE 1 /* master lacked the pair: took the local window (31-34) */
#define SYNC_F_REPLACE 2 /* local window restarted, master's idle: took the local (6-8) */
#define SYNC_F_MERGE 4 /* merged into the master's window (9-24) */
#define SYNC_F_EXTEND 8 /* a new local window started earlier: master start moved back (19-22) */
#define SYNC_F_LEARN 16 /* master had seen a later packet: ts2 unchanged (11-12) */
#define SYNC_F_DECAY 32 /* window longer than T_T4: start moved up, count divided (13-15) */
#define SYNC_F_DUP 64 /* batch applied before (a retry): nothing changed, state returned */
#define SYNC_F_DCREATE 256 /* destination record created */
#define SYNC_F_DRESTART 512 /* destination idle longer than T_T1: window restarted */
#define SYNC_F_DEXTEND 1024 /* destination start moved back to a new window's start */
#define SYNC_F_DDECAY 2048 /* destination window decayed */

#define SYNC_STR_(x) #x
#define SYNC_STR(x) SYNC_STR_(x)

/* dst as 32 lowercase hex digits and a NUL into out[SYNC_DST_HEX_LEN + 1]. */
void sync_dst_hex(const uint8_t dst[16], char *out);

/* Key names; out must hold SYNC_KEY_PAIR_MAX bytes.  Return the length. */
size_t sync_key_pair(const struct xf_key *k, char *out);
size_t sync_key_dst(const uint8_t dst[16], char *out);

/* 0 when id is a valid proxy id, else -EINVAL. */
int sync_proxy_id_check(const char *id);

#endif /* XPRO_SYNC_KEYS_H */
