/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workload W of each proxy, shared through the master (Algorithm 1 lines
 * 1-2) so that devices can be steered away from busy proxies.
 *
 * Threads: the thread that owns the struct sync_conn (redis.h).
 */
#ifndef XPRO_SYNC_LOAD_H
#define XPRO_SYNC_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "sync/keys.h"
#include "sync/redis.h"

/*
 * W.  pps: packets the proxy's workers received in the last period, all
 * verdicts (offered load, not forwarded load), per second.  util: the
 * busiest worker's busy time over the period, in permille (a proxy is as
 * loaded as its busiest queue: RSS does not move flows between queues).
 */
#define SYNC_TUN_ADDR_MAX 47 /* "[" INET6_ADDRSTRLEN - 1 "]:65535" */

struct sync_load {
	char proxy_id[SYNC_PROXY_ID_MAX + 1];
	uint64_t pps;
	uint32_t util_permille; /* 0 .. 1000 */
	uint64_t age_us; /* in results: how long ago it was published (master's clock) */
	/*
	 * The proxy's tunnel address, "a.b.c.d:port" or "[v6]:port", so that
	 * PROBE_REPLY can name its peers; empty: not published.
	 */
	char tun_addr[SYNC_TUN_ADDR_MAX + 1];
};

/*
 * Publish this proxy's W (mine may be NULL: only read; its proxy_id is
 * ignored, the connection's is used) and read the other proxies' entries,
 * at most max of them into others (may be NULL with max 0: only publish),
 * in one atomic round trip.  Entries not refreshed for max_age_ms (a few
 * periods) are deleted.  Returns how many other proxies have a fresh entry
 * (possibly more than max), or -errno.  Works while the master is a new
 * instance (-ESTALE from a merge): loads do not depend on its state.
 */
int sync_exchange_loads(struct sync_conn *c, const struct sync_load *mine, struct sync_load *others,
			size_t max, uint32_t max_age_ms);

/*
 * The other proxies' W from a replica connection (sync_conn_opts.replica),
 * which sync_exchange_loads() cannot use (a replica refuses writes): the
 * same entries, parsed alike, except that stale ones are skipped rather
 * than deleted and ages are on the replica's clock.  Returns as
 * sync_exchange_loads(); -EINVAL on a master connection.
 */
int sync_read_loads(struct sync_conn *c, struct sync_load *others, size_t max, uint32_t max_age_ms);

#endif /* XPRO_SYNC_LOAD_H */
