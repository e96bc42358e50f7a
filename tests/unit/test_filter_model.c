/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential test: the engine (xf_filter, then xf_filter_burst) against the
 * naive model of filter_model.c on seeded random traces, verdict for verdict,
 * with harvests, reclaims and (two cases) threshold swaps at the same points.
 * The fcfs cases set XF_POLICY_FCFS; the fair cases (docs/algorithm.md,
 * "Exact semantics of fair") also run the share tick on both every 50-150 ms
 * of trace time and compare every pair's and destination's view after it;
 * one swaps fair <-> fcfs, one feeds both made-up other proxies' summaries.
 * Odd seeds put time on a 10 ms lattice so that the strict inequalities meet
 * equality.  XF_MODEL_SEED=<n> runs only that seed, as printed by a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <urcu.h>

#include <xpro/filter.h>
#include "filter_model.h"

#define NDEV 200
#define NDST 50
#define NDST6 10 /* of which IPv6 */
#define NPOPULAR 5 /* destinations most devices talk to */
#define MAXDST_DEV 32
#define NPKTS 100000
#define MAX_BURST 64
#define MS XF_NSEC_PER_MSEC
#define SEC XF_NSEC_PER_SEC
#define LATTICE (10 * MS) /* time step of lattice traces */

/* ------------------------------------------------------------------------- */
/* Deterministic PRNG (splitmix64). */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_below(r, hi - lo + 1);
}

/* ------------------------------------------------------------------------- */
/* Traces. */

struct pkt {
	struct xf_key key;
	uint64_t t;
};

struct trace {
	struct pkt *p;
	size_t n, cap;
	uint32_t dev[NDEV];
	uint8_t dst[NDST][16];
};

struct devprof {
	double rate; /* packets/s while on */
	bool on;
	uint64_t toggle_ns; /* next on/off switch */
	unsigned ndst;
	uint8_t dst[MAXDST_DEV]; /* indexes into trace.dst; [0] is the favourite */
};

static void trace_push(struct trace *tr, const struct xf_key *k, uint64_t t)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? 2 * tr->cap : 4096;
		tr->p = realloc(tr->p, tr->cap * sizeof(*tr->p));
		if (!tr->p)
			abort();
	}
	tr->p[tr->n].key = *k;
	tr->p[tr->n].t = t;
	tr->n++;
}

static uint64_t on_time(struct rng *r)
{
	return rng_range(r, 100 * MS, 3 * SEC);
}

/* Off periods from 50 ms to 5 s: many exceed T_T1, so pairs restart windows. */
static uint64_t off_time(struct rng *r)
{
	return rng_range(r, 50 * MS, 5 * SEC);
}

/*
 * Devices: quiet (well under T_F1), near T_F1, heavy, flooding; some spray
 * many destinations (DEVCAP).  Most favour one of a few popular destinations
 * (DROP_DST).  Time advances in ticks of 0..50 ms with rare jumps of 2-6 s;
 * the packets of a tick are shuffled and spread over it.  With a quantum,
 * times are rounded down to its multiples (a lattice).
 */
static void trace_gen(struct trace *tr, struct rng *r, size_t npkts, uint64_t t0, uint64_t quantum,
		      uint64_t tt1)
{
	struct devprof dp[NDEV];
	struct xf_key *tick = NULL;
	size_t ntick, cap_tick = 0;
	uint64_t t = t0;

	memset(tr, 0, sizeof(*tr));
	for (unsigned i = 0; i < NDST; i++) {
		struct xf_key k;

		if (i < NDST - NDST6) {
			uint32_t a = 0x0a000000u | (i << 16) | (uint32_t)rng_below(r, 0xffff) | 1u;

			xf_key_ipv4(&k, 0, htonl(a));
		} else {
			uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			for (unsigned b = 4; b < 16; b++)
				a6[b] = (uint8_t)rng_next(r);
			a6[4] = (uint8_t)i; /* distinct */
			xf_key_ipv6(&k, 0, a6);
		}
		memcpy(tr->dst[i], k.dst, 16);
	}
	for (unsigned d = 0; d < NDEV; d++) {
		struct devprof *p = &dp[d];
		unsigned cls = (unsigned)rng_below(r, 100);

		tr->dev[d] = d == 0 ? 0 : d == 1 ? UINT32_MAX : 1000 + 37 * d;
		if (cls < 45)
			p->rate = 0.5 + 9.5 * rng_unit(r);
		else if (cls < 70)
			p->rate = 10 + 25 * rng_unit(r);
		else if (cls < 88)
			p->rate = 35 + 200 * rng_unit(r);
		else
			p->rate = 300 + 1200 * rng_unit(r);
		p->ndst = rng_below(r, 10) == 0 ? (unsigned)rng_range(r, 10, 30)
						: (unsigned)rng_range(r, 1, 4);
		for (unsigned j = 0; j < p->ndst; j++)
			p->dst[j] = (uint8_t)rng_below(r, NDST);
		if (rng_below(r, 10) < 6)
			p->dst[0] = (uint8_t)rng_below(r, NPOPULAR);
		p->on = rng_below(r, 10) < 6;
		p->toggle_ns = t + (p->on ? on_time(r) : off_time(r));
	}

	while (tr->n < npkts) {
		bool jump = rng_below(r, 400) == 0;
		uint64_t dt = jump ? rng_range(r, 2100 * MS, 6 * SEC) : rng_below(r, 50 * MS + 1);

		/*
		 * On a lattice, some jumps end a few steps short of T_T1 after the last
		 * tick's packets, so that idle times of exactly T_T1 occur.
		 */
		if (quantum && jump && rng_below(r, 2) == 0)
			dt = tt1 - quantum * rng_below(r, 4);
		else if (quantum)
			dt = dt / quantum * quantum;

		ntick = 0;
		for (unsigned d = 0; d < NDEV; d++) {
			struct devprof *p = &dp[d];
			double want;
			uint64_t n;

			while (p->toggle_ns <= t + dt) {
				p->on = !p->on;
				p->toggle_ns += p->on ? on_time(r) : off_time(r);
			}
			if (jump || !p->on)
				continue;
			want = p->rate * (double)dt / (double)SEC;
			n = (uint64_t)want;
			if (rng_unit(r) < want - (double)n)
				n++;
			for (uint64_t k = 0; k < n; k++) {
				unsigned j = rng_below(r, 2) ? 0 : (unsigned)rng_below(r, p->ndst);
				unsigned dup = rng_below(r, 20) == 0 ? 2 : 1;

				for (unsigned u = 0; u < dup; u++) {
					if (ntick == cap_tick) {
						cap_tick = cap_tick ? 2 * cap_tick : 1024;
						tick = realloc(tick, cap_tick * sizeof(*tick));
						if (!tick)
							abort();
					}
					memset(&tick[ntick], 0, sizeof(tick[ntick]));
					memcpy(tick[ntick].dst, tr->dst[p->dst[j]], 16);
					tick[ntick].dev = tr->dev[d];
					ntick++;
				}
			}
		}
		/* Shuffle (keeping some back-to-back duplicates), then spread over the tick. */
		for (size_t i = ntick; i > 1; i--) {
			size_t j = rng_below(r, i);
			struct xf_key tmp;

			if (rng_below(r, 8) == 0)
				continue;
			tmp = tick[i - 1];
			tick[i - 1] = tick[j];
			tick[j] = tmp;
		}
		for (size_t i = 0; i < ntick && tr->n < npkts; i++) {
			uint64_t ti = t + dt * i / ntick;

			trace_push(tr, &tick[i], quantum ? ti / quantum * quantum : ti);
		}
		t += dt;
	}
	free(tick);
}

/* ------------------------------------------------------------------------- */
/* Running a trace through the engine and the model. */

enum feed_mode { FEED_SINGLE, FEED_BURST };

struct run_cfg {
	uint64_t seed;
	enum feed_mode mode;
	bool swap_params;
	bool fair; /* the fair policy, with share ticks */
	bool swap_policy; /* (with swap_params) the other set is fcfs */
	bool others; /* (fair) apply made-up other proxies' summaries after ticks */
	bool strict; /* (fair) fail when a branch is not hit */
	size_t npkts;
	uint64_t quantum; /* lattice step (ns), 0 for none */
};

struct run {
	const struct run_cfg *cfg;
	struct xf_params pa, pb;
	struct xf_limits lim;
	struct trace tr;
	struct xf_engine *e;
	struct xf_worker *w;
	struct fm *m;
	uint64_t verdicts[XF_NVERDICTS], warns;
	uint64_t harvested, reclaimed, harvests, reclaims, swaps;
	uint64_t soft, ticks, congested, applies;
};

static const char *vname(unsigned v)
{
	static char buf[4][48];
	static unsigned slot;
	char *b = buf[slot++ % 4];

	if (xf_verdict_of(v) >= XF_NVERDICTS || (v & ~(XF_WARN | XF_SOFT | 0x3fu)))
		snprintf(b, 48, "invalid(0x%x)", v);
	else
		snprintf(b, 48, "%s%s%s", xf_verdict_name(xf_verdict_of(v)),
			 (v & XF_SOFT) ? "|SOFT" : "", (v & XF_WARN) ? "|WARN" : "");
	return b;
}

static void print_pair(const char *who, bool found, const struct xf_pair_view *v)
{
	if (!found) {
		printf("    %s pair: absent\n", who);
		return;
	}
	printf("    %s pair: ts1 %" PRIu64 " ts2 %" PRIu64 " (window %" PRIu64 " ns) c %" PRIu64
	       " dc %" PRIu64 " mark %d; demand %" PRIu32 " excess %" PRIu32 " rate %" PRIu32 "\n",
	       who, v->ts1, v->ts2, v->ts2 - v->ts1, v->count, v->dc, v->mark, v->demand, v->excess,
	       v->rate);
}

static void print_dst(const char *who, bool found, const struct xf_dst_view *v)
{
	if (!found) {
		printf("    %s dst: absent\n", who);
		return;
	}
	printf("    %s dst: ts1* %" PRIu64 " ts2* %" PRIu64 " (window %" PRIu64 " ns) c* %" PRIu64
	       " pairs %u; share %" PRId64 " cap %" PRIu64 " senders %u demand %" PRIu64 "\n",
	       who, v->ts1, v->ts2, v->ts2 - v->ts1, v->count, v->pairs,
	       v->share == XF_SHARE_NONE ? (int64_t)-1 : (int64_t)v->share, v->cap, v->senders,
	       v->demand);
}

static void print_key_state(struct run *R, const struct xf_key *k)
{
	struct xf_pair_view ev, mv;
	struct xf_dst_view ed, md;
	bool ef, mf, edf, mdf;

	memset(&ev, 0, sizeof(ev));
	memset(&ed, 0, sizeof(ed));
	rcu_read_lock();
	ef = xf_engine_pair(R->e, k, &ev);
	edf = xf_engine_dst(R->e, k->dst, &ed);
	rcu_read_unlock();
	mf = fm_pair(R->m, k, &mv);
	mdf = fm_dst(R->m, k->dst, &md);
	print_pair("engine", ef, &ev);
	print_pair("model ", mf, &mv);
	print_dst("engine", edf, &ed);
	print_dst("model ", mdf, &md);
}

static const char *mode_name(const struct run_cfg *c)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s", c->fair ? "fair " : "",
		 c->mode == FEED_BURST ? "burst" : "single",
		 c->swap_params ? (c->swap_policy ? "+swap fair/fcfs" : "+swap") : "",
		 c->others ? "+others" : "");
	return buf;
}

#define FAILF(R, ...)                                                                        \
	do {                                                                                 \
		printf("FAIL seed %" PRIu64 " (%s): ", (R)->cfg->seed, mode_name((R)->cfg)); \
		printf(__VA_ARGS__);                                                         \
		printf("\n");                                                                \
		fflush(stdout);                                                              \
	} while (0)

static bool pair_views_equal(const struct xf_pair_view *a, const struct xf_pair_view *b)
{
	return a->ts1 == b->ts1 && a->ts2 == b->ts2 && a->count == b->count && a->dc == b->dc &&
	       a->mark == b->mark && a->demand == b->demand && a->excess == b->excess &&
	       a->rate == b->rate;
}

static bool dst_views_equal(const struct xf_dst_view *a, const struct xf_dst_view *b)
{
	return a->ts1 == b->ts1 && a->ts2 == b->ts2 && a->count == b->count &&
	       a->pairs == b->pairs && a->share == b->share && a->cap == b->cap &&
	       a->senders == b->senders && a->demand == b->demand;
}

struct hctx {
	struct run *R;
	uint64_t sum;
	size_t calls;
	int bad;
};

/* Engine harvest callback: each view must be exactly the model's pair before harvest. */
static void harvest_cb(const struct xf_pair_view *v, void *arg)
{
	struct hctx *h = arg;
	struct xf_pair_view mv;
	char ks[96];

	h->sum += v->dc;
	h->calls++;
	if (h->bad)
		return;
	if (!fm_pair(h->R->m, &v->key, &mv)) {
		FAILF(h->R, "harvest handed %s, which the model does not hold",
		      fm_key_str(&v->key, ks, sizeof(ks)));
		h->bad = 1;
	} else if (!pair_views_equal(v, &mv)) {
		FAILF(h->R, "harvest view of %s differs", fm_key_str(&v->key, ks, sizeof(ks)));
		print_pair("engine", true, v);
		print_pair("model ", true, &mv);
		h->bad = 1;
	} else if (!v->dc && !v->mark) {
		FAILF(h->R, "harvest handed %s with dc 0 and no mark",
		      fm_key_str(&v->key, ks, sizeof(ks)));
		h->bad = 1;
	}
}

static int do_harvest(struct run *R)
{
	struct hctx h = { .R = R };
	size_t n, mn;
	uint64_t msum;

	n = xf_engine_harvest(R->e, harvest_cb, &h);
	msum = fm_harvest(R->m, &mn);
	R->harvests++;
	R->harvested += msum;
	if (h.bad)
		return -1;
	if (n != h.calls || h.sum != msum || n != mn) {
		FAILF(R,
		      "harvest #%" PRIu64
		      ": engine returned %zu, called back %zu times, dc sum %" PRIu64
		      "; model: %zu pairs, dc sum %" PRIu64,
		      R->harvests, n, h.calls, h.sum, mn, msum);
		return -1;
	}
	return 0;
}

struct cmp_ctx {
	struct run *R;
	int bad;
};

static void cmp_pair_cb(const struct xf_pair_view *mv, void *arg)
{
	struct cmp_ctx *c = arg;
	struct xf_pair_view ev;
	char ks[96];
	bool found;

	if (c->bad)
		return;
	memset(&ev, 0, sizeof(ev));
	rcu_read_lock();
	found = xf_engine_pair(c->R->e, &mv->key, &ev);
	rcu_read_unlock();
	if (!found || !pair_views_equal(&ev, mv)) {
		FAILF(c->R, "state of pair %s differs", fm_key_str(&mv->key, ks, sizeof(ks)));
		print_pair("engine", found, &ev);
		print_pair("model ", true, mv);
		c->bad = 1;
	}
}

/* Every model pair, every destination, the record counts and the worker stats. */
static int compare_state(struct run *R, bool all_keys)
{
	struct cmp_ctx c = { .R = R };
	struct xf_engine_stats es;
	struct xf_worker_stats ws, ms;
	uint64_t np, nd, nv;

	fm_for_each_pair(R->m, cmp_pair_cb, &c);
	if (c.bad)
		return -1;

	for (unsigned i = 0; i < NDST; i++) {
		struct xf_dst_view ed, md;
		bool ef, mf;
		struct xf_key k = { .dev = 0 };

		memset(&ed, 0, sizeof(ed));
		rcu_read_lock();
		ef = xf_engine_dst(R->e, R->tr.dst[i], &ed);
		rcu_read_unlock();
		mf = fm_dst(R->m, R->tr.dst[i], &md);
		if (ef != mf || (mf && !dst_views_equal(&ed, &md))) {
			memcpy(k.dst, R->tr.dst[i], 16);
			FAILF(R, "destination aggregate of dst #%u (%s) differs", i,
			      fm_key_str(&k, (char[96]){ 0 }, 96));
			print_dst("engine", ef, &ed);
			print_dst("model ", mf, &md);
			return -1;
		}
	}

	xf_engine_stats(R->e, &es);
	fm_counts(R->m, &np, &nd, &nv);
	if (es.pairs != np || es.dsts != nd || es.devs != nv) {
		FAILF(R,
		      "live records: engine pairs %" PRIu64 " dsts %" PRIu64 " devs %" PRIu64
		      ", model pairs %" PRIu64 " dsts %" PRIu64 " devs %" PRIu64,
		      es.pairs, es.dsts, es.devs, np, nd, nv);
		return -1;
	}

	xf_worker_stats(R->w, &ws);
	fm_stats(R->m, &ms);
	for (unsigned v = 0; v < XF_NVERDICTS; v++) {
		if (ws.verdict[v] != ms.verdict[v]) {
			FAILF(R, "worker stats: %s engine %" PRIu64 " model %" PRIu64,
			      xf_verdict_name(v), ws.verdict[v], ms.verdict[v]);
			return -1;
		}
	}
	if (ws.warnings != ms.warnings || ws.pairs_created != ms.pairs_created ||
	    ws.window_resets != ms.window_resets) {
		FAILF(R,
		      "worker stats: warnings %" PRIu64 "/%" PRIu64 " pairs_created %" PRIu64
		      "/%" PRIu64 " window_resets %" PRIu64 "/%" PRIu64 " (engine/model)",
		      ws.warnings, ms.warnings, ws.pairs_created, ms.pairs_created,
		      ws.window_resets, ms.window_resets);
		return -1;
	}

	if (!all_keys)
		return 0;
	/* Every key of the universe: present in one iff present in the other. */
	for (unsigned d = 0; d < NDEV; d++) {
		for (unsigned i = 0; i < NDST; i++) {
			struct xf_pair_view ev, mv;
			struct xf_key k;
			char ks[96];
			bool ef, mf;

			memset(&k, 0, sizeof(k));
			k.dev = R->tr.dev[d];
			memcpy(k.dst, R->tr.dst[i], 16);
			rcu_read_lock();
			ef = xf_engine_pair(R->e, &k, &ev);
			rcu_read_unlock();
			mf = fm_pair(R->m, &k, &mv);
			if (ef != mf) {
				FAILF(R, "pair %s: engine %s, model %s",
				      fm_key_str(&k, ks, sizeof(ks)), ef ? "present" : "absent",
				      mf ? "present" : "absent");
				return -1;
			}
		}
	}
	return 0;
}

static int do_reclaim(struct run *R, uint64_t now)
{
	size_t ef = xf_engine_reclaim(R->e, now);
	size_t mf = fm_reclaim(R->m, now);

	R->reclaims++;
	R->reclaimed += mf;
	if (ef != mf) {
		FAILF(R, "reclaim #%" PRIu64 " at %" PRIu64 ": engine freed %zu, model %zu",
		      R->reclaims, now, ef, mf);
		return -1;
	}
	return compare_state(R, false);
}

/* --- the fair share tick ---------------------------------------------------- */

#define SV_MAX (NDST + 8)
struct svs {
	size_t n;
	struct xf_share_view v[SV_MAX];
};

static void sv_cb(const struct xf_share_view *v, void *arg)
{
	struct svs *s = arg;

	if (s->n < SV_MAX)
		s->v[s->n] = *v;
	s->n++;
}

static void print_sv(const char *who, const struct xf_share_view *v)
{
	if (!v) {
		printf("    %s summary: absent\n", who);
		return;
	}
	printf("    %s summary: senders %u heavy %u demand %" PRIu64 " admitted %" PRIu64
	       " share %" PRId64 "\n",
	       who, v->senders, v->heavy, v->demand, v->admitted,
	       v->share == XF_SHARE_NONE ? (int64_t)-1 : (int64_t)v->share);
}

static const struct xf_share_view *sv_find(const struct svs *s, const uint8_t dst[16])
{
	for (size_t i = 0; i < s->n && i < SV_MAX; i++)
		if (!memcmp(s->v[i].dst, dst, 16))
			return &s->v[i];
	return NULL;
}

/* xf_engine_share_foreach() against fm_share_foreach(), as sets keyed by destination. */
static int compare_summaries(struct run *R)
{
	struct svs es = { 0 }, ms = { 0 };
	size_t en, mn;

	en = xf_engine_share_foreach(R->e, sv_cb, &es);
	mn = fm_share_foreach(R->m, sv_cb, &ms);
	if (en != es.n || mn != ms.n || en != mn) {
		FAILF(R,
		      "share_foreach after tick #%" PRIu64 ": engine returned %zu (%zu calls), "
		      "model %zu",
		      R->ticks, en, es.n, mn);
		return -1;
	}
	for (size_t i = 0; i < ms.n && i < SV_MAX; i++) {
		const struct xf_share_view *mv = &ms.v[i], *ev = sv_find(&es, mv->dst);
		struct xf_key k = { .dev = 0 };

		if (ev && ev->senders == mv->senders && ev->heavy == mv->heavy &&
		    ev->demand == mv->demand && ev->admitted == mv->admitted &&
		    ev->share == mv->share)
			continue;
		memcpy(k.dst, mv->dst, 16);
		FAILF(R, "share summary of %s after tick #%" PRIu64 " differs",
		      fm_key_str(&k, (char[96]){ 0 }, 96), R->ticks);
		print_sv("engine", ev);
		print_sv("model ", mv);
		return -1;
	}
	return 0;
}

/*
 * Made-up other proxies towards a random destination: senders 0 (forget) to
 * 8, heavy among them, demand up to 2 T_F2, admitted up to it, computed at no
 * share (a third) or one in [1, T_F2] pps.  Both sides get the same.
 */
static int apply_others(struct run *R, struct rng *r)
{
	const uint64_t T = (uint64_t)XF_RATE_ONE * R->pa.tf2_pps;
	unsigned k = 1 + (unsigned)rng_below(r, 3);

	/* Sometimes a new count of proxies: destinations created next start split. */
	if (rng_below(r, 4) == 0) {
		uint32_t peers = (uint32_t)rng_range(r, 1, 4);

		xf_engine_share_peers(R->e, peers);
		fm_share_peers(R->m, peers);
	}
	while (k--) {
		struct xf_share_view o;
		bool eok, mok;

		memset(&o, 0, sizeof(o));
		memcpy(o.dst, R->tr.dst[rng_below(r, NDST)], 16);
		o.senders = (uint32_t)rng_below(r, 9);
		if (o.senders) {
			o.heavy = (uint32_t)rng_below(r, o.senders + 1);
			o.demand = rng_below(r, 2 * T + 1);
			o.admitted = rng_below(r, o.demand + 1);
			o.share = rng_below(r, 3) == 0 ? XF_SHARE_NONE : rng_range(r, 1, T);
		}
		eok = xf_engine_share_apply(R->e, &o);
		mok = fm_share_apply(R->m, &o);
		R->applies++;
		if (eok != mok) {
			FAILF(R, "share_apply #%" PRIu64 " returned %d, model %d", R->applies, eok,
			      mok);
			return -1;
		}
	}
	return 0;
}

/* One share tick on both, then every pair's and destination's view and the summaries. */
static int do_tick(struct run *R, struct rng *r, uint64_t now)
{
	struct cmp_ctx c = { .R = R };
	size_t en = xf_engine_share(R->e, now), mn = fm_share(R->m, now);

	R->ticks++;
	R->congested += mn;
	if (en != mn) {
		FAILF(R, "share tick #%" PRIu64 " at %" PRIu64 ": engine %zu congested, model %zu",
		      R->ticks, now, en, mn);
		return -1;
	}
	fm_for_each_pair(R->m, cmp_pair_cb, &c);
	if (c.bad) {
		printf("    (after share tick #%" PRIu64 " at %" PRIu64 ")\n", R->ticks, now);
		return -1;
	}
	for (unsigned i = 0; i < NDST; i++) {
		struct xf_dst_view ed, md;
		struct xf_key k = { .dev = 0 };
		bool ef, mf;

		memset(&ed, 0, sizeof(ed));
		rcu_read_lock();
		ef = xf_engine_dst(R->e, R->tr.dst[i], &ed);
		rcu_read_unlock();
		mf = fm_dst(R->m, R->tr.dst[i], &md);
		if (ef == mf && (!mf || dst_views_equal(&ed, &md)))
			continue;
		memcpy(k.dst, R->tr.dst[i], 16);
		FAILF(R, "after share tick #%" PRIu64 " at %" PRIu64 ", dst #%u (%s) differs",
		      R->ticks, now, i, fm_key_str(&k, (char[96]){ 0 }, 96));
		print_dst("engine", ef, &ed);
		print_dst("model ", mf, &md);
		return -1;
	}
	if (compare_summaries(R))
		return -1;
	if (R->cfg->others && rng_below(r, 2) == 0)
		return apply_others(R, r);
	return 0;
}

static uint64_t tick_gap(struct rng *r)
{
	return rng_range(r, 50 * MS, 150 * MS);
}

static int do_swap(struct run *R)
{
	const struct xf_params *p = (R->swaps++ % 2) ? &R->pa : &R->pb;
	struct xf_params got;
	int rc = xf_engine_set_params(R->e, p);

	if (rc) {
		FAILF(R, "xf_engine_set_params returned %d", rc);
		return -1;
	}
	fm_set_params(R->m, p);
	memset(&got, 0, sizeof(got));
	xf_engine_get_params(R->e, &got);
	if (got.tt1_ms != p->tt1_ms || got.tt2_ms != p->tt2_ms || got.tt3_ms != p->tt3_ms ||
	    got.tt4_ms != p->tt4_ms || got.tf1_pps != p->tf1_pps || got.tf2_pps != p->tf2_pps ||
	    got.r != p->r || got.warn_interval_ms != p->warn_interval_ms ||
	    got.policy != p->policy || got.pair_burst_ms != p->pair_burst_ms ||
	    got.dst_burst_ms != p->dst_burst_ms || got.tflag_ms != p->tflag_ms ||
	    got.rate_ms != p->rate_ms) {
		FAILF(R, "xf_engine_get_params does not return what was set");
		return -1;
	}
	return 0;
}

/* Thresholds small enough that every branch fires; seed 1 uses exactly the base values. */
static void pick_params(struct rng *r, uint64_t seed, struct xf_params *pa, struct xf_params *pb,
			struct xf_limits *lim)
{
	xf_params_default(pa);
	pa->policy = XF_POLICY_FCFS;
	pa->tt1_ms = 2000;
	pa->tt2_ms = 200;
	pa->tt3_ms = 300;
	pa->tf1_pps = 20;
	pa->tf2_pps = 100;
	pa->warn_interval_ms = 500;
	lim->max_records = 300;
	lim->max_dsts_per_dev = 6;
	if (seed != 1) {
		pa->tt1_ms = rng_range(r, 1500, 2500);
		pa->tt2_ms = rng_range(r, 100, 300);
		pa->tt3_ms = rng_range(r, 200, 400);
		pa->tf1_pps = rng_range(r, 15, 30);
		pa->tf2_pps = rng_range(r, 80, 150);
		/* Longer than T_T1 + T_T2: a device's warning time must go with it. */
		switch (seed == 2 ? 1 : rng_below(r, 4)) {
		case 0:
			pa->warn_interval_ms = 0;
			break;
		case 1:
			pa->warn_interval_ms = (uint32_t)rng_range(r, 2500, 6000);
			break;
		default:
			pa->warn_interval_ms = (uint32_t)rng_range(r, 100, 1500);
		}
		lim->max_records = (uint32_t)rng_range(r, 250, 350);
		lim->max_dsts_per_dev = (uint32_t)rng_range(r, 4, 8);
	}
	/* The other set for the swap run: looser pairs, harsher destinations. */
	*pb = *pa;
	pb->tt1_ms = pa->tt1_ms * 3 / 4;
	pb->tt2_ms = pa->tt2_ms + 100;
	pb->tt3_ms = pa->tt3_ms / 2;
	pb->tf1_pps = pa->tf1_pps * 2;
	pb->tf2_pps = pa->tf2_pps * 2 / 3;
	pb->warn_interval_ms = pa->warn_interval_ms + 250;
}

/*
 * The fair policy's knobs, drawn after pick_params() (so the fcfs cases draw
 * what they always did): bursts, tflag_ms and rate_ms small enough that the
 * pair limiter flags within a trace's on period and the estimates move; seed
 * 1 again the base values.  The other set: longer pair bursts, a shorter
 * destination burst, a later flag, slower estimates; fcfs with swap_policy.
 */
static void pick_fair(struct rng *r, const struct run_cfg *cfg, struct xf_params *pa,
		      struct xf_params *pb)
{
	pa->policy = XF_POLICY_FAIR;
	pa->pair_burst_ms = 100;
	pa->dst_burst_ms = 20;
	pa->tflag_ms = 500;
	pa->rate_ms = 300;
	if (cfg->seed != 1) {
		pa->pair_burst_ms = (uint32_t)rng_range(r, 20, 400);
		pa->dst_burst_ms = (uint32_t)rng_range(r, 5, 60);
		pa->tflag_ms = (uint32_t)rng_range(r, 200, 1000);
		pa->rate_ms = (uint32_t)rng_range(r, 100, 1000);
	}
	pb->policy = cfg->swap_policy ? XF_POLICY_FCFS : XF_POLICY_FAIR;
	pb->pair_burst_ms = pa->pair_burst_ms * 2;
	pb->dst_burst_ms = pa->dst_burst_ms / 2 + 1;
	pb->tflag_ms = pa->tflag_ms + 300;
	pb->rate_ms = pa->rate_ms * 3 / 2;
}

static uint32_t round_to(uint32_t v, uint64_t q)
{
	v = (uint32_t)(v / q * q);
	return v ? v : (uint32_t)q;
}

/* On a lattice every time threshold is a multiple of the step, so equalities happen. */
static void params_to_lattice(struct xf_params *p, uint64_t quantum_ms)
{
	p->tt1_ms = p->tt1_ms / quantum_ms * quantum_ms;
	p->tt2_ms = p->tt2_ms / quantum_ms * quantum_ms;
	p->tt3_ms = p->tt3_ms / quantum_ms * quantum_ms;
	p->warn_interval_ms = (uint32_t)(p->warn_interval_ms / quantum_ms * quantum_ms);
	p->pair_burst_ms = round_to(p->pair_burst_ms, quantum_ms);
	p->dst_burst_ms = round_to(p->dst_burst_ms, quantum_ms);
}

static int check_packet(struct run *R, size_t idx, size_t first, size_t n, uint64_t now,
			unsigned ev, unsigned mv)
{
	char ks[96];

	if (ev == mv)
		return 0;
	FAILF(R,
	      "verdict mismatch at packet #%zu (burst #%zu..#%zu), %s, t %" PRIu64
	      " ns: engine %s, model %s",
	      idx, first, first + n - 1, fm_key_str(&R->tr.p[idx].key, ks, sizeof(ks)), now,
	      vname(ev), vname(mv));
	printf("    state after the burst:\n");
	print_key_state(R, &R->tr.p[idx].key);
	return -1;
}

/*
 * Packets between harvests: mostly a fraction of T_T1, sometimes several T_T1
 * (so windows restart with unharvested deltas and reclaim meets dc != 0).
 */
static size_t harvest_gap(struct rng *r)
{
	return rng_below(r, 8) == 0 ? rng_range(r, 5000, 40000) : rng_range(r, 200, 2000);
}

static size_t reclaim_gap(struct rng *r)
{
	return rng_range(r, 1000, 8000);
}

static size_t swap_gap(struct rng *r)
{
	return rng_range(r, 3000, 12000);
}

static int feed(struct run *R)
{
	struct xf_key keys[MAX_BURST];
	uint8_t ev[MAX_BURST];
	unsigned mv[MAX_BURST];
	struct rng br = { .s = R->cfg->seed ^ 0xb0b5b0b5ULL };
	struct rng tr = { .s = R->cfg->seed ^ 0x7a11c0deULL }; /* ticks: br as it always was */
	size_t i = 0;
	size_t next_harvest = harvest_gap(&br), next_reclaim = reclaim_gap(&br);
	size_t next_swap = swap_gap(&br);
	uint64_t prev = R->tr.p[0].t;
	uint64_t next_tick = prev + tick_gap(&tr);

	while (i < R->tr.n) {
		size_t n = R->cfg->mode == FEED_BURST ? (size_t)rng_range(&br, 1, MAX_BURST) : 1;
		uint64_t now = R->tr.p[i].t;

		if (n > R->tr.n - i)
			n = R->tr.n - i;
		/* Share ticks that fall before this burst (through jumps too), at their times. */
		while (R->cfg->fair && next_tick <= now) {
			if (do_tick(R, &tr, next_tick))
				return -1;
			next_tick += tick_gap(&tr);
		}
		/* Right after a jump, pairs idle for about T_T1: (harvest and) reclaim there. */
		if (now - prev >= SEC) {
			if (rng_below(&br, 2) && do_harvest(R))
				return -1;
			if (do_reclaim(R, now))
				return -1;
		}
		prev = now;
		for (size_t j = 0; j < n; j++)
			keys[j] = R->tr.p[i + j].key;

		rcu_read_lock();
		if (R->cfg->mode == FEED_BURST) {
			unsigned ret = xf_filter_burst(R->w, keys, ev, (unsigned)n, now);

			if (ret != n) {
				rcu_read_unlock();
				FAILF(R, "xf_filter_burst(n = %zu) returned %u", n, ret);
				return -1;
			}
		} else {
			ev[0] = (uint8_t)xf_filter(R->w, &keys[0], now);
		}
		rcu_read_unlock();
		for (size_t j = 0; j < n; j++)
			mv[j] = fm_filter(R->m, &keys[j], now);

		for (size_t j = 0; j < n; j++) {
			if (check_packet(R, i + j, i, n, now, ev[j], mv[j]))
				return -1;
			R->verdicts[xf_verdict_of(mv[j])]++;
			R->warns += !!(mv[j] & XF_WARN);
			R->soft += !!(mv[j] & XF_SOFT);
		}
		i += n;

		if (i >= next_harvest) {
			next_harvest = i + harvest_gap(&br);
			if (do_harvest(R))
				return -1;
		}
		if (i >= next_reclaim) {
			next_reclaim = i + reclaim_gap(&br);
			if (do_reclaim(R, now))
				return -1;
		}
		if (R->cfg->swap_params && i >= next_swap) {
			next_swap = i + swap_gap(&br);
			if (do_swap(R))
				return -1;
		}
	}
	if (do_harvest(R) || do_reclaim(R, R->tr.p[R->tr.n - 1].t))
		return -1;
	return compare_state(R, true);
}

static void run_trace(const struct run_cfg *cfg)
{
	struct run R = { .cfg = cfg };
	struct rng r = { .s = cfg->seed };
	struct fm_fair_stats fs;
	uint64_t t0;
	int rc;

	pick_params(&r, cfg->seed, &R.pa, &R.pb, &R.lim);
	if (cfg->fair)
		pick_fair(&r, cfg, &R.pa, &R.pb);
	if (cfg->quantum) {
		params_to_lattice(&R.pa, cfg->quantum / MS);
		params_to_lattice(&R.pb, cfg->quantum / MS);
	}
	assert_int_equal(xf_params_validate(&R.pa, NULL, 0), 0);
	assert_int_equal(xf_params_validate(&R.pb, NULL, 0), 0);
	t0 = cfg->seed == 2 ? 0 : rng_below(&r, 2 * SEC);
	if (cfg->quantum)
		t0 = t0 / cfg->quantum * cfg->quantum;
	trace_gen(&R.tr, &r, cfg->npkts, t0, cfg->quantum, R.pa.tt1_ms * MS);

	printf("seed %" PRIu64 " (%s%s): %zu packets over %.1f s from t0 %" PRIu64
	       " ns; tt1 %" PRIu64 " tt2 %" PRIu64 " tt3 %" PRIu64 " ms, tf1 %" PRIu64
	       " tf2 %" PRIu64 " pps, warn %u ms, max_records %u, max_dsts_per_dev %u\n",
	       cfg->seed, mode_name(cfg), cfg->quantum ? ", 10 ms lattice" : "", R.tr.n,
	       (double)(R.tr.p[R.tr.n - 1].t - t0) / SEC, t0, R.pa.tt1_ms, R.pa.tt2_ms, R.pa.tt3_ms,
	       R.pa.tf1_pps, R.pa.tf2_pps, R.pa.warn_interval_ms, R.lim.max_records,
	       R.lim.max_dsts_per_dev);
	if (cfg->fair)
		printf("    fair: pair_burst %u dst_burst %u tflag %u rate %u ms; other set: %s, "
		       "tf1 %" PRIu64 " tf2 %" PRIu64 " pps, %u/%u/%u/%u ms\n",
		       R.pa.pair_burst_ms, R.pa.dst_burst_ms, R.pa.tflag_ms, R.pa.rate_ms,
		       xf_policy_name(R.pb.policy), R.pb.tf1_pps, R.pb.tf2_pps, R.pb.pair_burst_ms,
		       R.pb.dst_burst_ms, R.pb.tflag_ms, R.pb.rate_ms);
	fflush(stdout);

	R.e = xf_engine_new(&R.pa, &R.lim, cfg->seed * 0x9e3779b97f4a7c15ULL);
	assert_non_null(R.e);
	R.w = xf_worker_new(R.e);
	assert_non_null(R.w);
	R.m = fm_new(&R.pa, &R.lim);
	assert_non_null(R.m);

	rc = feed(&R);
	fm_fair_stats(R.m, &fs);

	xf_worker_free(R.w);
	xf_engine_free(R.e);
	fm_free(R.m);
	free(R.tr.p);
	if (rc)
		fail_msg("seed %" PRIu64 " (%s): engine and model disagree, see above; rerun with "
			 "XF_MODEL_SEED=%" PRIu64,
			 cfg->seed, mode_name(cfg), cfg->seed);

	printf("    PASS %" PRIu64 ", DROP_PAIR %" PRIu64 " (WARN %" PRIu64 "), DROP_DST %" PRIu64
	       ", DROP_DEVCAP %" PRIu64 ", DROP_FULL %" PRIu64 "; %" PRIu64
	       " harvests handed out %" PRIu64 ", %" PRIu64 " reclaims freed %" PRIu64 ", %" PRIu64
	       " param swaps\n",
	       R.verdicts[XF_PASS], R.verdicts[XF_DROP_PAIR], R.warns, R.verdicts[XF_DROP_DST],
	       R.verdicts[XF_DROP_DEVCAP], R.verdicts[XF_DROP_FULL], R.harvests, R.harvested,
	       R.reclaims, R.reclaimed, R.swaps);
	fflush(stdout);
	if (!cfg->fair) {
		/*
		 * A trace that misses a branch proves nothing about it: every one
		 * must fire on the fixed seeds; a fresh seed that misses one (a
		 * table that never fills, now and then) only says so.
		 */
		unsigned missed = 0;

		for (unsigned v = 0; v < XF_NVERDICTS; v++)
			missed += R.verdicts[v] == 0;
		missed += R.warns == 0;
		missed += R.reclaimed == 0;
		if (missed)
			printf("    %s: %u branches not hit\n", cfg->strict ? "FAIL" : "note",
			       missed);
		if (missed && cfg->strict)
			fail_msg("seed %" PRIu64 " (%s): %u branches not hit", cfg->seed,
				 mode_name(cfg), missed);
		assert_int_equal(R.harvested, R.verdicts[XF_PASS]);
		assert_int_equal(R.soft, 0);
		return;
	}
	assert_int_equal(R.harvested, R.verdicts[XF_PASS]);
	printf("    fair: DROP_PAIR soft %" PRIu64 " hard %" PRIu64 "; DROP_DST share %" PRIu64
	       ", cap %" PRIu64 " heavy / %" PRIu64 " light / %" PRIu64
	       " uncongested; PASS %" PRIu64 " heavy / %" PRIu64 " light (%" PRIu64
	       " on the doubled burst) / %" PRIu64 " uncongested; %" PRIu64
	       " ticks: destinations %" PRIu64 " congested / %" PRIu64 " not, %" PRIu64
	       " Newton steps; %" PRIu64 " applies\n",
	       fs.pair_soft, fs.pair_hard, fs.share_drops, fs.cap_drops_heavy, fs.cap_drops_light,
	       fs.cap_drops_open, fs.pass_heavy, fs.pass_light, fs.borrowed, fs.pass_open, R.ticks,
	       fs.dst_congested, fs.dst_open, fs.solve_steps, R.applies);
	fflush(stdout);
	assert_int_equal(R.soft, fs.pair_soft);
	/*
	 * Every branch must fire on the fixed seeds (and XF_MODEL_SEED); a fresh
	 * seed that misses one (fewer admitted packets than fcfs leave the table
	 * short of DROP_FULL now and then) only says so: its equality still held.
	 */
	{
		const struct {
			const char *what;
			bool hit;
		} cover[] = {
			{ "PASS", R.verdicts[XF_PASS] > 0 },
			{ "DROP_PAIR", R.verdicts[XF_DROP_PAIR] > 0 },
			{ "DROP_DST", R.verdicts[XF_DROP_DST] > 0 },
			{ "DROP_DEVCAP", R.verdicts[XF_DROP_DEVCAP] > 0 },
			{ "DROP_FULL", R.verdicts[XF_DROP_FULL] > 0 },
			{ "WARN", R.warns > 0 },
			{ "reclaim", R.reclaimed > 0 },
			{ "soft pair drop", fs.pair_soft > 0 },
			{ "hard pair drop", fs.pair_hard > 0 },
			{ "share drop", fs.share_drops > 0 },
			{ "cap drop of a heavy pair", fs.cap_drops_heavy > 0 },
			{ "cap drop, uncongested", fs.cap_drops_open > 0 },
			{ "heavy pass", fs.pass_heavy > 0 },
			{ "light pass", fs.pass_light > 0 },
			{ "doubled burst", fs.borrowed > 0 },
			{ "uncongested pass", fs.pass_open > 0 },
			{ "congested destination", fs.dst_congested > 0 && R.congested > 0 },
			{ "uncongested destination", fs.dst_open > 0 },
			{ "Newton step", fs.solve_steps > 0 },
		};
		unsigned missed = 0;

		for (size_t i = 0; i < sizeof(cover) / sizeof(cover[0]); i++) {
			if (cover[i].hit)
				continue;
			printf("    %s: branch not hit: %s\n", cfg->strict ? "FAIL" : "note",
			       cover[i].what);
			missed++;
		}
		fflush(stdout);
		if (missed && cfg->strict)
			fail_msg("seed %" PRIu64 " (%s): %u branches not hit", cfg->seed,
				 mode_name(cfg), missed);
	}
}

/* ------------------------------------------------------------------------- */

static const uint64_t fixed_seeds[] = { 1, 2, 3, 20240611, 0xdeadbeef };

static void run_seeds_cfg(struct run_cfg cfg)
{
	const char *env = getenv("XF_MODEL_SEED");
	unsigned variant = cfg.fair << 4 | cfg.swap_policy << 5 | cfg.others << 6;

	cfg.strict = true;
	if (env && *env) {
		cfg.seed = strtoull(env, NULL, 0);
		cfg.quantum = (cfg.seed & 1) ? LATTICE : 0;
		run_trace(&cfg);
		return;
	}
	for (size_t i = 0; i < sizeof(fixed_seeds) / sizeof(fixed_seeds[0]); i++) {
		cfg.seed = fixed_seeds[i];
		cfg.quantum = (cfg.seed & 1) ? LATTICE : 0;
		run_trace(&cfg);
	}
	/* One fresh seed per run widens coverage; it is printed for reproduction. */
	cfg.strict = false;
	cfg.seed = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)cfg.mode << 8 ^
		   cfg.swap_params ^ variant << 8;
	cfg.quantum = (cfg.seed & 1) ? LATTICE : 0;
	run_trace(&cfg);
}

static void run_seeds(enum feed_mode mode, bool swap)
{
	run_seeds_cfg((struct run_cfg){ .mode = mode, .swap_params = swap, .npkts = NPKTS });
}

static void run_seeds_fair(enum feed_mode mode, bool swap, bool swap_policy, bool others)
{
	run_seeds_cfg((struct run_cfg){ .mode = mode,
					.swap_params = swap,
					.fair = true,
					.swap_policy = swap_policy,
					.others = others,
					.npkts = NPKTS });
}

static void test_model_single(void **state)
{
	(void)state;
	run_seeds(FEED_SINGLE, false);
}

static void test_model_burst(void **state)
{
	(void)state;
	run_seeds(FEED_BURST, false);
}

static void test_model_single_swap(void **state)
{
	(void)state;
	run_seeds(FEED_SINGLE, true);
}

static void test_model_burst_swap(void **state)
{
	(void)state;
	run_seeds(FEED_BURST, true);
}

static void test_model_fair_single(void **state)
{
	(void)state;
	run_seeds_fair(FEED_SINGLE, false, false, false);
}

static void test_model_fair_burst(void **state)
{
	(void)state;
	run_seeds_fair(FEED_BURST, false, false, false);
}

static void test_model_fair_single_swap(void **state)
{
	(void)state;
	run_seeds_fair(FEED_SINGLE, true, false, false);
}

static void test_model_fair_burst_swap_policy(void **state)
{
	(void)state;
	run_seeds_fair(FEED_BURST, true, true, false);
}

static void test_model_fair_single_swap_policy(void **state)
{
	(void)state;
	run_seeds_fair(FEED_SINGLE, true, true, false);
}

static void test_model_fair_burst_others(void **state)
{
	(void)state;
	run_seeds_fair(FEED_BURST, false, false, true);
}

static int group_setup(void **state)
{
	(void)state;
	rcu_register_thread();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rcu_unregister_thread();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_single),
		cmocka_unit_test(test_model_burst),
		cmocka_unit_test(test_model_single_swap),
		cmocka_unit_test(test_model_burst_swap),
		cmocka_unit_test(test_model_fair_single),
		cmocka_unit_test(test_model_fair_burst),
		cmocka_unit_test(test_model_fair_single_swap),
		cmocka_unit_test(test_model_fair_burst_swap_policy),
		cmocka_unit_test(test_model_fair_single_swap_policy),
		cmocka_unit_test(test_model_fair_burst_others),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
