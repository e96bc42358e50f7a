/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sync layer's Redis record layout: key names, hash fields, wire units
 * and the merge script's branch flags.  The C code and the Lua scripts (built
 * from these macros) share this one definition; docs/sync.md explains it.
 */
#ifndef XPRO_SYNC_KEYS_H
#define XPRO_SYNC_KEYS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "xpro/pair_key.h"

/*
 * Keys.  <dst> is the 16-byte (IPv4-mapped) destination as 32 lowercase hex
 * digits, <id> a proxy id.
 *
 *   xpro:d:<dst>  hash   one destination and every pair that sends to it:
 *       field "d"        the destination's window (SYNC_DST_VAL_LEN bytes)
 *       field <dev>      one pair: the device index as 4 bytes, big-endian
 *                        (SYNC_PAIR_VAL_LEN bytes); expired lazily
 *                        PEXPIRE 2 x ttl_ms, renewed when less than ttl_ms is left
 *   xpro:s:<id>   hash   seq total   one proxy: last applied batch, its packets
 *   xpro:w        hash   <id> -> "pps util ts addr"   every proxy's workload W
 *   xpro:gen      string               the master instance marker
 *
 * One hash per destination, so that a batch reads and writes each of its
 * destinations with one HMGET and one HSET (docs/sync.md, "Cost").
 */
#define SYNC_KEY_DST "xpro:d:"
#define SYNC_KEY_PROXY "xpro:s:"
#define SYNC_KEY_LOAD "xpro:w"
#define SYNC_KEY_GEN "xpro:gen"
#define SYNC_FIELD_DST "d"
#define SYNC_FIELD_DEV_LEN 4

/*
 * Record values: little-endian IEEE-754 doubles, each holding an integer
 * below 2^53 (exact; Lua's struct library packs and unpacks them in C, which
 * is what makes the script fast).  Times in microseconds on the shared
 * clock, except exp, kexp and sweep, which are the master's own clock (TIME)
 * in milliseconds.
 *
 *   pair:  c ts1 ts2 total exp                       (5 x 8 bytes)
 *   dst:   c ts1 ts2 total exp kexp sweep cursor      (8 x 8 bytes)
 *
 * exp: the record is dead (as if absent) once the master's clock passes it;
 * it is set to now + ttl_ms by every merge of the record (for a destination:
 * of any of its pairs).  kexp: when the key's PEXPIRE falls due.  sweep,
 * cursor: the next sweep of dead pairs out of the hash (docs/sync.md, "Keys").
 */
#define SYNC_PAIR_VAL_N 5
#define SYNC_DST_VAL_N 8
#define SYNC_PAIR_VAL_LEN (SYNC_PAIR_VAL_N * 8)
#define SYNC_DST_VAL_LEN (SYNC_DST_VAL_N * 8)

/*
 * A destination that merges this many pairs in one batch has its value
 * written with a ninth, unused double (SYNC_DST_VAL_LEN + 8 bytes, read like
 * the short form): longer than Redis's hash-max-listpack-value (64), it turns
 * the hash from a listpack, whose lookups scan it, into a hash table.
 */
#define SYNC_DST_BIG 16

#define SYNC_DST_HEX_LEN 32
#define SYNC_PROXY_ID_MAX 32 /* [A-Za-z0-9._-], 1..32 characters */
#define SYNC_GEN_LEN 32 /* hex digits of the instance marker (128 random bits) */
/* "xpro:d:" + 32 hex + NUL, or "xpro:s:" + a proxy id + NUL */
#define SYNC_KEY_MAX (sizeof(SYNC_KEY_DST) + SYNC_DST_HEX_LEN)

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

/*
 * The destination round (dst.h, docs/sync.md "The destination round"): one
 * Redis Functions library, keys placed by hash tags so that every command
 * touches one slot.
 *
 *   xpro:b:{<k>}     hash   bucket k of SYNC_BUCKETS, holding
 *       field "m"                 the bucket's marker (16 hex digits)
 *       field <dst><pid>          one proxy's entry for one destination:
 *                                 the destination as 16 bytes, the proxy's
 *                                 number (sync_proxy_num()) as 4, big-endian
 *       field "h"<dev>            one device's handoff record (dev: 4 bytes,
 *                                 big-endian)
 *   xpro:p:{<id>}    hash   nonce total ts   one proxy: owner, exact total
 *   xpro:w           hash   as above
 *
 * A destination's entries live in the bucket of its hash, a device's record
 * in the bucket of the device's: each bucket is one key, so one shard.
 */
#define SYNC_LIB_NAME "xpro"
#define SYNC_BUCKETS 1024
#define SYNC_KEY_BUCKET "xpro:b:"
#define SYNC_KEY_PROXY_REC "xpro:p:"
#define SYNC_FIELD_MARK "m"
#define SYNC_MARK_LEN 16 /* hex digits */
#define SYNC_NONCE_LEN 16 /* hex digits of a proxy process's nonce */
#define SYNC_SWEEP_COUNT 256 /* HSCAN COUNT of one sweep step */
#define SYNC_ENTRY_FIELD_LEN 20 /* dst (16) + proxy number (4) */
#define SYNC_HANDOFF_FIELD_LEN 5 /* 'h' + device (4) */
/*
 * Values, little-endian doubles, the write time first (the sweep reads it):
 *   entry:    wts c ts1 ts2 rate                         (5 doubles)
 *             ... senders heavy demand admitted share    (10: fair policy)
 *   handoff:  wts pid n, then n times dst (16 bytes) c ts1 ts2
 * Times in microseconds on the shared clock; rate, demand, admitted and
 * share in XF_RATE_ONE per packet/s.
 */
#define SYNC_ENTRY_N 5
#define SYNC_ENTRY_SHARE_N 10
#define SYNC_HANDOFF_HDR_LEN 24
#define SYNC_HANDOFF_PAIR_LEN 40
#define SYNC_HANDOFF_MAX 64 /* pairs of one device in its record */

#define SYNC_STR_(x) #x
#define SYNC_STR(x) SYNC_STR_(x)

/* dst as 32 lowercase hex digits and a NUL into out[SYNC_DST_HEX_LEN + 1]. */
void sync_dst_hex(const uint8_t dst[16], char *out);

/* The destination's key name into out[SYNC_KEY_MAX].  Returns the length. */
size_t sync_key_dst(const uint8_t dst[16], char *out);

/* A pair's field in its destination's hash: the device index, big-endian. */
static inline void sync_field_dev(uint32_t dev, uint8_t out[SYNC_FIELD_DEV_LEN])
{
	out[0] = (uint8_t)(dev >> 24);
	out[1] = (uint8_t)(dev >> 16);
	out[2] = (uint8_t)(dev >> 8);
	out[3] = (uint8_t)dev;
}

/* v (below 2^53) as a little-endian double at p[0..8). */
static inline void sync_put_f64(uint8_t *p, uint64_t v)
{
	double d = (double)v;
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(b >> (8 * i));
}

/* The little-endian double at p as an integer: 0, or -EPROTO when it is not one below 2^53. */
static inline int sync_get_f64(const uint8_t *p, uint64_t *v)
{
	uint64_t b = 0;
	double d;

	for (int i = 0; i < 8; i++)
		b |= (uint64_t)p[i] << (8 * i);
	memcpy(&d, &b, sizeof(d));
	if (!(d >= 0 && d <= (double)SYNC_WIRE_MAX) || d != (double)(uint64_t)d)
		return -EPROTO;
	*v = (uint64_t)d;
	return 0;
}

/* 0 when id is a valid proxy id, else -EINVAL. */
int sync_proxy_id_check(const char *id);

#endif /* XPRO_SYNC_KEYS_H */
