/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running proxy: everything setup.c sets up, the control thread owns,
 * and the status writer reads.
 */
#ifndef XPRO_PROXY_STATE_H
#define XPRO_PROXY_STATE_H

#include "control/proxy/counters.h"
#include "control/proxy/proxy.h"
#include "sync/round.h"

struct px_state {
	struct px_config cfg; /* live: setup() fills in defaults (queues, proxy id) */
	struct px_config cfg_given; /* as parsed: what SIGHUP compares the file with */
	struct px_xdp xdp;
	struct dp_env env;
	struct dp_worker workers[PX_MAX_QUEUES];
	int queue_ids[PX_MAX_QUEUES];
	int nworkers, nopen, nrunning;
	uint64_t started_ns;
	uint64_t reclaimed, flags_expired;
	uint64_t drop_map_entries; /* after the last sweep */
	struct px_rates *stats_rates; /* the status file's *_pps (stats.c); NULL: none yet */
	struct sync_round *sync; /* NULL: no master configured */
	struct sync_load load; /* W as last measured */
	struct {
		uint64_t at, rx, batches[PX_MAX_QUEUES], busy[PX_MAX_QUEUES];
	} load_prev;
	enum sync_state sync_logged; /* last state we logged, to log changes only */
	uint64_t sync_reseeds; /* the round's reseeds, as last logged */
	struct px_mgmt *mgmt; /* PROBE_REPLY and OVERLOAD (mgmt.c); NULL: none */
	struct px_ctl *ctl; /* xproctl socket and metrics threads (ctl.c), or NULL */
	struct px_trace *trace; /* xproctl trace (trace.c); NULL until the first */
	int stages_up; /* start-up stages done (setup.c): what teardown undoes */
};

#endif
