/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by ctl.c (socket thread, mailbox) and ctl_cmd.c (the commands):
 * struct px_ctl and the mailbox calls.  Not for the rest of the proxy.
 */
#ifndef XPRO_PROXY_CTL_INT_H
#define XPRO_PROXY_CTL_INT_H

#include <pthread.h>

#include "control/proxy/ctl.h"

enum px_ctl_mb {
	PX_MB_NONE = 0,
	PX_MB_SET,
	PX_MB_RELOAD,
	PX_MB_TRACE, /* key: seconds, "stop" or "" (state); val: the file */
};

/*
 * Written by: snap, mailbox -- the control thread (px_ctl_tick) and the ctl
 * thread, under lock; rates, scratch -- the ctl thread only.
 */
struct px_ctl {
	struct px_state *s;
	int lfd;
	char path[108];
	pthread_t thread;
	bool running;
	int quit; /* atomic */
	struct px_metrics *metrics;

	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	struct px_ctl_snap snap;
	enum px_ctl_mb mb_req;
	bool mb_done;
	int mb_rc;
	char mb_key[64], mb_val[256], mb_msg[512];

	/* The *_pps of `status`: snapshots PX_RATE_MS apart, read into scratch. */
	struct px_rates *rates;
	struct px_counters *scratch;
};

/*
 * Ctl thread: hand a request to the control loop and wait for its answer
 * (at most a few ticks).  Returns its rc with msg filled, or -ETIMEDOUT.
 */
int px_ctl_post(struct px_ctl *c, enum px_ctl_mb req, const char *key, const char *val, char *msg,
		size_t msglen);

/* One request line into a JSON reply (ctl_cmd.c).  Ctl thread. */
void px_ctl_handle(struct px_ctl *c, char *line, FILE *out);

#endif
