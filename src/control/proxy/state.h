/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running proxy: everything main.c sets up, the control thread owns,
 * and the status writer reads.
 */
#ifndef XPRO_PROXY_STATE_H
#define XPRO_PROXY_STATE_H

#include "control/proxy/proxy.h"

struct px_state {
	struct px_config cfg;
	struct px_xdp xdp;
	struct dp_env env;
	struct dp_worker workers[PX_MAX_QUEUES];
	int queue_ids[PX_MAX_QUEUES];
	int nworkers, nopen, nrunning;
	uint64_t started_ns;
	uint64_t reclaimed, flags_expired;
};

#endif
