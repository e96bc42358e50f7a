/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Three engines standing for three proxies, synced through a real store (a
 * redis-server of their own, or a Redis Cluster the test built), driven by a
 * simulated clock: ten bots per proxy towards one victim at 500/s per proxy
 * (1500/s in all, over T_F2 = 1000/s), a legitimate device per proxy to a
 * bystander.  Shared by test_round.c and test_cluster.c.
 */
#ifndef XPRO_TEST_SYNC_WORLD_H
#define XPRO_TEST_SYNC_WORLD_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "redis_fixture.h"
#include "sync/round.h"
#include "xpro/filter.h"

#define WORLD_UNUSED __attribute__((unused))

#define NPROXY 3
#define BOTS_PER_PROXY 10
#define BOT_GAP_MS 20 /* 50 packets/s per bot: 500/s per proxy, 1500/s in all */
#define TF2 1000
#define PERIOD_MS 100
#define TT3_MS 200
#define STEP_MS 10
#define MS(x) ((uint64_t)(x)*XF_NSEC_PER_MSEC)
#define T0 (1000 * XF_NSEC_PER_SEC)

struct px {
	struct xf_engine *e;
	struct xf_worker *w;
	struct sync_round *r;
	char id[16];
	uint64_t victim_pass, victim_drop, bystander_pass, first_drop;
};

struct world {
	struct rfx redis; /* its own redis-server, unless on a cluster */
	struct px px[NPROXY];
	bool sync;
	uint64_t t;
	int bots[NPROXY]; /* bots behind each proxy; 0: BOTS_PER_PROXY */
};

static WORLD_UNUSED struct xf_key bot(int proxy, int i, const char *dst)
{
	struct xf_key k;

	xf_key_ipv4(&k, (uint32_t)(100 + proxy * 100 + i), inet_addr(dst));
	return k;
}

struct world_opts {
	bool sync;
	uint32_t cmd_ms;
	const char *cluster; /* sync over this cluster's seeds; NULL: a redis-server of its own */
	uint32_t tf1_pps; /* 0: 10000, no bot over the pair limit */
};

static WORLD_UNUSED int world_up_opts(struct world *W, const struct world_opts *o)
{
	struct xf_limits lim = { .max_records = 4096, .max_dsts_per_dev = 16 };
	uint32_t cmd_ms = o->cmd_ms;
	bool sync = o->sync;
	struct xf_params p;
	char err[160];

	memset(W, 0, sizeof(*W));
	W->sync = sync;
	W->t = T0;
	if (!o->cluster && rfx_start(&W->redis, NULL))
		return -1;
	xf_params_default(&p);
	p.policy = XF_POLICY_FCFS; /* these cases test Algorithm 2 */
	p.tf1_pps = o->tf1_pps ? o->tf1_pps : 10000;
	p.tf2_pps = TF2;
	p.tt2_ms = TT3_MS;
	p.tt3_ms = TT3_MS;
	for (int i = 0; i < NPROXY; i++) {
		struct px *x = &W->px[i];
		struct sync_round_cfg cfg = { .period_ms = PERIOD_MS };

		snprintf(x->id, sizeof(x->id), "p%d", i + 1);
		x->e = xf_engine_new(&p, &lim, 7 + (uint64_t)i);
		x->w = xf_worker_new(x->e);
		if (!x->e || !x->w)
			return -1;
		if (!sync)
			continue;
		cfg.cluster = o->cluster;
		cfg.master = (struct sync_conn_opts){ .addr = o->cluster ? NULL : W->redis.addr,
						      .proxy_id = x->id,
						      .cmd_ms = cmd_ms,
						      .connect_ms = cmd_ms };
		/* Backing off longer than a period would only slow the test down. */
		cfg.backoff_max_ms = PERIOD_MS;
		x->r = sync_round_new(x->e, &cfg, err, sizeof(err));
		if (!x->r) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	return 0;
}

static WORLD_UNUSED int world_up(struct world *W, bool sync, uint32_t cmd_ms)
{
	return world_up_opts(W, &(struct world_opts){ .sync = sync, .cmd_ms = cmd_ms });
}

static WORLD_UNUSED void world_down(struct world *W)
{
	for (int i = 0; i < NPROXY; i++) {
		sync_round_free(W->px[i].r);
		xf_worker_free(W->px[i].w);
		xf_engine_free(W->px[i].e);
	}
	rfx_stop(&W->redis);
}

static WORLD_UNUSED unsigned send_one(struct px *x, const struct xf_key *k, uint64_t t)
{
	unsigned v;

	rcu_read_lock();
	v = xf_verdict_of(xf_filter(x->w, k, t));
	rcu_read_unlock();
	return v;
}

/* One step of STEP_MS: every bot whose turn it is sends one packet, then rounds. */
static WORLD_UNUSED void step(struct world *W, bool attack)
{
	uint64_t ms = (W->t - T0) / XF_NSEC_PER_MSEC;

	for (int p = 0; p < NPROXY; p++) {
		struct px *x = &W->px[p];

		for (int i = 0; attack && i < (W->bots[p] ? W->bots[p] : BOTS_PER_PROXY); i++) {
			struct xf_key k = bot(p, i, "198.19.1.1");

			/* Bots are spread over the 20 ms so the traffic is smooth. */
			if ((ms / STEP_MS + (uint64_t)i) % (BOT_GAP_MS / STEP_MS))
				continue;
			if (send_one(x, &k, W->t) == XF_PASS) {
				x->victim_pass++;
			} else {
				x->victim_drop++;
				if (!x->first_drop)
					x->first_drop = W->t;
			}
		}
		/* One legitimate device per proxy talks to a bystander, 10 packets/s. */
		if (ms % 100 == 0) {
			struct xf_key k = bot(p, 99, "198.19.2.2");

			x->bystander_pass += send_one(x, &k, W->t) == XF_PASS;
		}
		if (W->sync && ms % PERIOD_MS == (uint64_t)p * 30) {
			sigset_t old;

			rfx_sigpipe(true, &old);
			sync_round_run(x->r, W->t, &(struct sync_load){ .pps = 500 });
			rfx_sigpipe(false, &old);
		}
	}
	W->t += MS(STEP_MS);
}

/* A round on every proxy with no traffic in between: nothing left uncollected. */
static WORLD_UNUSED void final_rounds(struct world *W)
{
	sigset_t old;

	rfx_sigpipe(true, &old);
	for (int p = 0; p < NPROXY; p++)
		sync_round_run(W->px[p].r, W->t, NULL);
	rfx_sigpipe(false, &old);
}

static WORLD_UNUSED uint64_t victim_pass(const struct world *W)
{
	uint64_t n = 0;

	for (int i = 0; i < NPROXY; i++)
		n += W->px[i].victim_pass;
	return n;
}

static WORLD_UNUSED uint64_t admitted(const struct px *x)
{
	struct xf_worker_stats st;

	xf_worker_stats(x->w, &st);
	return st.verdict[XF_PASS];
}

#endif
