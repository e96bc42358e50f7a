/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The server-side Lua scripts of the sync layer and their argument layouts.
 * Each script's text lives in one C string: merge_lua.c and load_lua.c,
 * loaded with SCRIPT LOAD and called with EVALSHA (the pair protocol and a
 * replica's read of W); lib_lua.c, the Functions library the destination
 * round calls with FCALL (store.c loads it).
 */
#ifndef XPRO_SYNC_LUA_H
#define XPRO_SYNC_LUA_H

/*
 * Algorithm 1's merge of one batch (docs/sync.md, "One batch").
 *   ARGV: gen proxy seq retry tt1_us tt4_us r ttl_ms n ngroups, then
 *         ngroups times  dst_hex pairs
 *   pairs: the group's pairs, SYNC_MERGE_PAIR_LEN bytes each: dev (4 bytes,
 *         big-endian: the pair's field), then ts1_us ts2_us c dc as
 *         little-endian doubles, then mark (1 byte).  A group holds every
 *         pair of the batch that goes to its destination (at least one), so
 *         the script reads all groups before it writes any (merge_lua.c).
 *   reply: one string, SYNC_MERGE_REPLY_LEN bytes per pair in the order sent:
 *         flags (uint32, little-endian), then c ts1_us ts2_us dst_c
 *         dst_ts1_us dst_ts2_us as little-endian doubles.
 *   errors: "XPRO ARG ..." (nothing written), "XPRO GEN ..." (the master is
 *   not the instance the caller synced with), "XPRO SEQDUP ..." (batch
 *   applied before and not a retry: a proxy id used twice), "XPRO SEQGAP ..."
 *   (an earlier batch of this proxy is missing: an earlier batch of the same
 *   pipeline failed, or the master's state is older than ours).
 */
extern const char sync_merge_lua[];
#define SYNC_MERGE_ARGV_HDR 10
#define SYNC_MERGE_PAIR_LEN 37
#define SYNC_MERGE_REPLY_LEN 52

/*
 * Algorithm 1 lines 1-2: publish W, drop stale entries, read the others'.
 *   ARGV: proxy_id publish(0|1) pps util_permille max_age_ms tun_addr
 *   reply: m times  proxy_id pps util_permille age_us tun_addr  (other
 *          proxies only)
 * Ages are taken on the master's clock (TIME), so proxies' clocks may differ.
 */
extern const char sync_load_lua[];
#define SYNC_LOAD_REPLY_ENTRY 5

/*
 * The same read for a replica (flags=no-writes: a read-only replica refuses
 * any other script): same ARGV, publish must be 0; same reply.  Stale
 * entries are skipped, not deleted (the master's readers delete them); ages
 * are on the replica's clock.
 */
extern const char sync_load_ro_lua[];

/*
 * The Functions library (lib_lua.c), "xpro": xpro_load (the same ARGV and
 * reply as sync_load_lua, KEYS[1] = xpro:w), xpro_proxy (ARGV nonce total
 * now_us stale_us init; reply: the total stored, as a string) and
 * xpro_sweep (ARGV cursor now_us ttl_us; reply: {cursor, deleted}).
 */
extern const char sync_lib_lua[];

#endif /* XPRO_SYNC_LUA_H */
