/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The destination round (docs/sync.md, "The destination round"): what the
 * proxies must agree on is the per-destination picture, so that is what
 * travels.  Each proxy publishes, for every destination it admitted to in
 * the period, one entry of its own, absolute values (its window c*, ts1*,
 * ts2*, its admitted rate and, under the fair policy, its share summary),
 * and reads the other proxies' entries for the same destinations: a
 * state-based G-counter per destination, one field per proxy, summed on
 * read.  Pairs stay on the proxy that carries their device; what follows a
 * device that moves is its handoff record, the windows of its heavy pairs.
 *
 * Entries live in SYNC_BUCKETS bucket hashes (keys.h) chosen by a hash of
 * the destination, so one round costs at most three commands per bucket it
 * touches, pipelined, whatever the number of pairs, and each command names
 * one key: a Redis Cluster spreads the buckets over its shards.  Each field
 * has one writer and every write is absolute: a retry, a duplicate or a
 * lost reply changes nothing, and a store that lost its data (an empty
 * restart, asynchronous replication lost at a failover) is whole again
 * after one round that pushes every live destination (the bucket's marker
 * says when).
 *
 * Threads: the proxy's control thread.
 */
#ifndef XPRO_SYNC_DST_H
#define XPRO_SYNC_DST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync/store.h"
#include "xpro/filter.h"

/* This proxy's entry for one destination.  Times: us on the shared clock. */
struct sync_dst_mine {
	uint8_t dst[16];
	uint64_t c, ts1, ts2; /* this proxy's window towards dst: c*, ts1*, ts2* */
	uint64_t rate; /* admitted here lately, XF_RATE_ONE per packet/s */
	bool has_share; /* fair policy: sh holds this proxy's summary */
	struct xf_share_view sh;
};

/* The other proxies' entries for one destination, summed. */
struct sync_dst_sum {
	bool ok; /* its bucket answered (else: keep the last view) */
	uint32_t proxies; /* others with a live window (ts2 within T_T1) */
	uint64_t c, ts1, ts2; /* their windows: sum of c, min ts1, max ts2 (0: none) */
	uint64_t rate; /* their fresh rates, summed */
	uint32_t share_proxies; /* others with a fresh summary */
	struct xf_share_view sh; /* their summaries summed; share: the smallest, or XF_SHARE_NONE */
};

/* One pair of a device's handoff record. */
struct sync_handoff_pair {
	uint32_t dev;
	uint8_t dst[16];
	uint64_t c, ts1, ts2;
};

/* One call. */
struct sync_dst_req {
	uint64_t now_us; /* shared clock */
	uint64_t tt1_us; /* a window idle longer than this is over */
	uint64_t ttl_us; /* an entry not rewritten for this long is dead (swept) */
	uint64_t fresh_us; /* rates and summaries older than this are not summed */
	const uint32_t *peers; /* the other proxies' numbers (sync_proxy_num()) */
	size_t npeers;
	const struct sync_dst_mine *mine; /* n entries to publish, distinct dsts */
	struct sync_dst_sum *out; /* out[i]: the others' for mine[i].dst */
	size_t n;
	/* Handoff records to publish: pairs grouped by dev (one record per run). */
	const struct sync_handoff_pair *hw;
	size_t nhw;
	/* Devices whose records to read (distinct); pairs found go to hro. */
	const uint32_t *hr;
	size_t nhr;
	struct sync_handoff_pair *hro;
	size_t hro_cap, nhro; /* nhro: out */
};

struct sync_dst_stats {
	uint64_t buckets; /* touched by the last call */
	uint64_t commands; /* sent by the last call */
	uint64_t failed_buckets; /* whose node did not answer */
	uint64_t stale_buckets; /* whose marker changed: lost data, push everything */
	uint64_t swept; /* dead entries deleted by sweep steps, ever */
	uint64_t bytes_sent; /* arguments, last call */
};

struct sync_dst;

/* State across rounds (bucket markers, sweep cursors) for proxy id. */
struct sync_dst *sync_dst_new(const char *proxy_id);
void sync_dst_free(struct sync_dst *d);

/* A proxy id's number in entry field names: FNV-1a, never 0. */
uint32_t sync_proxy_num(const char *id);

/* The bucket of a destination, of a device. */
unsigned sync_dst_bucket(const uint8_t dst[16]);
unsigned sync_dev_bucket(uint32_t dev);

/*
 * Publish q->mine and q->hw, read the others' entries into q->out and the
 * records of q->hr into q->hro, and take one sweep step where due, in one
 * pipeline.  Returns 0, or the first failure's -errno; the buckets that
 * answered are valid either way (out[i].ok).  st->stale_buckets > 0: the
 * store lost entries of ours, push every live destination next time.
 */
int sync_dst_exchange(struct sync_dst *d, struct sync_store *s, struct sync_dst_req *q,
		      struct sync_dst_stats *st);

/* Forget every bucket's marker (the next call treats all as first contact). */
void sync_dst_forget(struct sync_dst *d);

#endif /* XPRO_SYNC_DST_H */
