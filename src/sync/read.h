/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the master's records as the merge left them: one pair, one
 * destination, one proxy, or the sums over everything.  For tests, tools
 * and the proxy's status, not for the round: each call is a round trip, and
 * sync_read_totals() walks the whole master.  Records past their expiry
 * (docs/sync.md, "Keys": expired lazily) read as absent, exactly as the
 * merge script sees them.
 *
 * Threads: the thread that owns the struct sync_conn (redis.h).  A read does
 * not touch a merge in doubt, and works on a stale master (it only reads).
 */
#ifndef XPRO_SYNC_READ_H
#define XPRO_SYNC_READ_H

#include <stdint.h>

#include "xpro/filter.h"
#include "sync/redis.h"

/* One record on the master. */
struct sync_record {
	uint64_t c, ts1, ts2; /* its window; times ns on the shared clock */
	uint64_t total; /* every packet merged into it since it was created */
	uint64_t ttl_ms; /* until it expires, by the master's clock */
};

/* The pair's record: 0, -ENOENT (absent or expired), or -errno. */
int sync_read_pair(struct sync_conn *c, const struct xf_key *k, struct sync_record *out);

/* The destination's window: 0, -ENOENT (absent or expired), or -errno. */
int sync_read_dst(struct sync_conn *c, const uint8_t dst[16], struct sync_record *out);

/*
 * A proxy's last applied batch and every packet it got merged (its
 * xpro:s:<id>): 0, -ENOENT (it never merged on this master), -EINVAL (bad
 * id), or -errno.
 */
int sync_read_proxy(struct sync_conn *c, const char *proxy_id, uint64_t *seq, uint64_t *total);

struct sync_totals {
	uint64_t proxies, proxy_total; /* proxies that merged; sum of their totals */
	uint64_t pairs, pair_total; /* live pair records; sum of their totals */
	uint64_t dsts, dst_total; /* live destination records; sum of their totals */
	uint64_t dead; /* expired records still stored (not swept yet) */
};

/*
 * Walk the whole master (SCAN, then every destination's hash: O(records)).
 * proxy_total is every packet ever merged, exactly; pair_total and
 * dst_total are what the live records hold (equal to proxy_total while no
 * record expired).  Returns 0 or -errno.
 */
int sync_read_totals(struct sync_conn *c, struct sync_totals *out);

#endif /* XPRO_SYNC_READ_H */
