/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Algorithm 1's merge of a proxy's harvested pairs into the Redis master,
 * in pipelined batches, each applied atomically and exactly once by the
 * merge script (lua.h).  docs/sync.md gives the semantics line by line.
 *
 * Threads: the thread that owns the struct sync_conn (redis.h).
 */
#ifndef XPRO_SYNC_MERGE_H
#define XPRO_SYNC_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "xpro/filter.h"
#include "sync/redis.h"

/* Thresholds of one merge, in the engine's units (struct xf_params). */
struct sync_params {
	uint64_t tt1_ms; /* T_T1: idle time after which a window restarts */
	uint64_t tt4_ms; /* T_T4: window length beyond which it decays */
	uint32_t r; /* decay divisor, 1 .. 1024 (1: never decay) */
	uint32_t ttl_ms; /* PEXPIRE of pair and destination records, >= tt1_ms */
	uint32_t batch; /* pairs per EVALSHA, 1 .. SYNC_BATCH_MAX */
};
#define SYNC_BATCH_MAX 4096
/* ~18 KB of arguments, ~0.5 ms of script: amortises the call, short enough not to stall other proxies */
#define SYNC_BATCH_DEFAULT 256

/*
 * The engine's thresholds; ttl = T_T1 + 2 periods (a record that no proxy
 * merged for that long has no live window anywhere: each proxy merges a
 * pair within one period of admitting a packet, the second period covers a
 * late round); batch = SYNC_BATCH_DEFAULT.
 */
void sync_params_from_xf(struct sync_params *s, const struct xf_params *p, uint32_t period_ms);
int sync_params_check(const struct sync_params *s);

/*
 * One harvested pair.  Times are ns on the shared clock (redis.h,
 * sync_clock_offset()) and must be below SYNC_WIRE_MAX microseconds.
 */
struct sync_pair_in {
	struct xf_key key;
	uint32_t mark; /* 1: this local window started since the pair's last merge:
			* the engine's mark, or the pair is new since then */
	uint64_t ts1, ts2; /* ts1', ts2' at harvest, ts1 <= ts2 */
	uint64_t c; /* c' at harvest: admitted packets in the local window */
	uint64_t dc; /* admitted packets not merged yet */
};

/* The master's records after the merge (times ns on the shared clock). */
struct sync_pair_out {
	uint64_t c, ts1, ts2; /* the pair's window */
	uint64_t dst_c, dst_ts1, dst_ts2; /* its destination's window */
	uint32_t flags; /* SYNC_F_* (keys.h): which branches the merge took */
};

/*
 * Merge in[0..n) into the master, up to p->batch pairs per EVALSHA, all
 * batches pipelined, and write out[i] for in[i].  Pairs are merged in
 * order (one that appears twice is merged twice).  They travel grouped by
 * destination, so that each batch touches each destination once; pairs of
 * different destinations share no record, so every record and out[i] are
 * as if merged in input order (docs/sync.md, "One batch").  Memory: up to
 * 32 bytes per pair for that order, freed before returning.
 *
 * Returns 0 when every batch was applied (or found applied by an earlier
 * try) and out[] is complete.  Otherwise -errno, and out[] is undefined:
 *   -EINVAL   bad params or input (nothing sent), or a different request
 *             while one is in doubt;
 *   -ECONNRESET, -ETIMEDOUT, -EIO, -ECONNREFUSED, -EACCES, ...: the
 *             connection failed (it is re-established by the next call);
 *   -ESTALE   the master is a new instance, or older than what it
 *             acknowledged: call sync_conn_resync() and push full state;
 *   -EEXIST   the master holds later batches of this proxy id: two
 *             processes share it; resync after fixing that;
 *   -ENOMEM, -EBUSY, -EPROTO: the master refused (out of memory, busy
 *             script, other).
 *
 * Exactly once: every batch carries (proxy id, sequence number); the
 * master applies a proxy's batches strictly in sequence and records the
 * last one with the batch, atomically.  When a call fails after sending,
 * some batches may have been applied without the reply reaching us, so
 * the connection stays "in doubt" (sync_conn_in_doubt()) and the next call
 * must be the same request (same n, pairs, values, order and batch size;
 * a different one gets -EINVAL).  It re-sends every batch with the same
 * sequence numbers: the ones applied before return their current state
 * (SYNC_F_DUP) and change nothing, the others apply.  So the caller keeps
 * its deltas until a call returns 0, retries unchanged, and never counts a
 * packet twice or loses one.
 *
 * Each out[i] is the master's state right after in[i] was merged; the
 * caller applies it locally: c' = out.c + packets admitted since the
 * harvest, ts1' = out.ts1, ts2' = max(ts2', out.ts2) (docs/sync.md).
 */
int sync_merge_batch(struct sync_conn *c, const struct sync_pair_in *in, size_t n,
		     struct sync_pair_out *out, const struct sync_params *p);

#endif /* XPRO_SYNC_MERGE_H */
