/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One proxy's sync round: Algorithm 1 every period t, between the filter
 * engine and the store (one Redis or a Redis Cluster, store.h).  Collect the
 * pairs touched since the last round, publish W, this proxy's exact total
 * and one entry per destination touched (dst.h), read the other proxies'
 * entries and the handoff records of devices new here, and give the engine
 * the global picture.
 *
 * The fast path never waits for any of this: a round runs on the control
 * thread, every Redis call is bounded, and while the store is away the
 * workers keep enforcing with local counts and the last global view.  Every
 * value written is absolute, so a failed round is simply followed by the
 * next one: nothing is lost or counted twice.  docs/sync.md, "The
 * destination round".
 *
 * Threads: the proxy's control thread (the engine's one control thread).
 */
#ifndef XPRO_SYNC_ROUND_H
#define XPRO_SYNC_ROUND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpro/filter.h"
#include "sync/load.h"
#include "sync/redis.h"

struct sync_round_cfg {
	struct sync_conn_opts master; /* writes (and reads without a replica) */
	/*
	 * Optional local replica: loads are read there while it answers, from
	 * the master otherwise.  Same address syntax; the master's password and
	 * timeouts.
	 */
	const char *replica;
	/*
	 * A Redis Cluster instead of master.addr: "host:port[,host:port...]",
	 * any of its nodes (master's password and timeouts).  No replica then.
	 */
	const char *cluster;
	uint32_t period_ms; /* t */
	uint32_t backoff_max_ms; /* 0: SYNC_BACKOFF_MAX_MS */
};

/*
 * Reconnection backoff doubles from t up to this.  Short on purpose: while
 * some proxies are back and others still wait, the master's windows hold
 * only the returned proxies' counts.  It is also added to the records'
 * expiry, so that an outage shorter than T_T1 does not cost the master its
 * windows.
 */
#define SYNC_BACKOFF_MAX_MS 1000

enum sync_state {
	SYNC_STATE_UP = 0, /* the last round merged */
	SYNC_STATE_DOWN, /* the master cannot be reached; retrying with backoff */
	SYNC_STATE_CONFLICT, /* another process uses our proxy id (operator error) */
};
const char *sync_state_name(enum sync_state s);

struct sync_round_stats {
	enum sync_state state;
	uint64_t rounds; /* attempted (not skipped by backoff) */
	uint64_t rounds_ok, rounds_failed;
	uint64_t outages; /* UP -> DOWN transitions */
	uint64_t reseeds; /* full-state pushes to a new master instance */
	uint64_t pairs_sent; /* heavy pairs published in their device's handoff record */
	uint64_t pairs_applied; /* pairs new here that took a window from their device's record */
	uint64_t packets_merged; /* this proxy's total as the store holds it (xpro:p:{id}) */
	uint64_t pending_packets; /* admitted here, not in the stored total yet */
	uint64_t last_round_ns, max_round_ns; /* wall time of a round's Redis work */
	/* the last round's parts: the engine's collect, the store's pipelines, the applies */
	uint64_t last_collect_ns, last_store_ns, last_apply_ns;
	uint64_t last_ok_ns; /* local time of the last acknowledged merge (0: never) */
	int64_t clock_offset_ns; /* master clock - local clock */
	int others; /* other proxies with a fresh W */
	uint64_t share_dsts; /* fair policy: destinations summarised in the last round */
	uint64_t replica_reads; /* rounds whose others' W came from the replica */
	uint64_t replica_failures; /* replica reads that failed (W read from the master) */
	uint64_t dsts_sent; /* destination entries published */
	uint64_t failed_buckets; /* buckets whose shard did not answer */
	uint64_t last_buckets, last_bytes; /* the last round's buckets touched and bytes sent */
	uint64_t last_stale; /* the last round's buckets that had lost our entries */
	uint64_t store_nodes; /* masters of the store (1: one instance) */
	char error[160]; /* the last error, "" once recovered */
};

/*
 * Open the round: connect to the master (and the replica) and check the
 * configuration.  Returns NULL with one line in err when the master or the
 * replica refuses us for a reason retrying cannot fix (wrong password, a
 * replica given as master, a bad address or proxy id).  A master that is
 * merely unreachable is not fatal: the round is returned DOWN and reconnects
 * with backoff; an unreachable replica is retried with the same backoff,
 * and W is read from the master meanwhile.
 */
struct sync_round *sync_round_new(struct xf_engine *e, const struct sync_round_cfg *cfg, char *err,
				  size_t errlen);
void sync_round_free(struct sync_round *r);

/*
 * One period's work at local time now_ns (CLOCK_MONOTONIC, the engine's
 * clock), with this proxy's W (proxy_id ignored).  Returns 0 after a merge
 * the master acknowledged, -EAGAIN while backing off (nothing done), or the
 * -errno of the failed step (the request is kept for the next round).
 */
int sync_round_run(struct sync_round *r, uint64_t now_ns, const struct sync_load *mine);

void sync_round_stats(const struct sync_round *r, struct sync_round_stats *out);

/*
 * New thresholds (after xf_engine_set_params()) or period (0: keep); batch
 * is ignored (the destination round has no batches):
 * the merge parameters follow.  Takes effect with the next request; one in
 * doubt is retried with the parameters it was sent with.
 */
void sync_round_retune(struct sync_round *r, uint32_t period_ms, uint32_t batch);

/* The other proxies' W from the last exchange; returns how many (<= max). */
size_t sync_round_loads(const struct sync_round *r, struct sync_load *out, size_t max);

#endif /* XPRO_SYNC_ROUND_H */
