/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Concurrency tests, run under ThreadSanitizer: workers filter the same keys
 * while a control thread harvests, swaps thresholds and reclaims; afterwards
 * every counter, every harvested delta and every aggregate must add up exactly.
 * Cases: moderate thresholds; tiny thresholds and limits; retirement racing
 * admission; ts2 = max(ts2, t) under interleaved clocks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include <xpro/filter.h>

#define NWORKERS 3
#define NDEV 64
#define NDST 16
#define NDST6 4 /* of which IPv6 */
#define NKEYS (NDEV * NDST)
#define NHOT 32 /* keys every worker hammers */
#define MAX_BURST 32
#define US 1000ULL
#define MS XF_NSEC_PER_MSEC
#define SEC XF_NSEC_PER_SEC

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

struct scenario {
	const char *name;
	struct xf_params pa, pb; /* the control thread alternates between them */
	struct xf_limits lim;
	uint64_t pkts_per_worker;
	uint64_t step_max_ns; /* clock advance per burst: 0..step_max_ns */
	uint64_t jump_ns; /* occasional clock jump, longer than T_T1 */
	unsigned jump_one_in; /* bursts */
	/*
	 * The control thread owns the clock instead: before each harvest and
	 * reclaim it jumps it by jump_ns, so every harvested pair is idle and
	 * retired while workers keep admitting packets to it.
	 */
	bool control_clock;
	bool one_cpu; /* run every thread of the scenario on CPU 0 */
	unsigned ndst_used; /* workers use destinations 0..ndst_used-1 of every device; 0: all */
	bool expect_drops; /* DROP_PAIR and DROP_DST must occur */
	bool expect_caps; /* DROP_DEVCAP and DROP_FULL must occur */
	bool caps_unreachable; /* limits exceed the keys: DEVCAP and FULL must not occur */
	/*
	 * The control thread plays the sync round: it collects with
	 * xf_engine_collect() and adopts made-up master windows for every pair
	 * (counts up and down, starts back and forward) and destination.
	 */
	bool sync_apply;
	/*
	 * Fair policy: the control thread also runs the share tick
	 * (xf_engine_share()) and hands every summary back as made-up others
	 * (xf_engine_share_apply()) while the workers filter against the shares,
	 * caps and limiters it publishes.
	 */
	bool share;
};

struct shared {
	const struct scenario *sc;
	struct xf_engine *e;
	struct xf_key keys[NKEYS];
	unsigned hot[NHOT];
	uint64_t clock; /* ns; atomic, advanced by the workers (or the control thread) */
	int workers_done; /* atomic */
};

struct wctx {
	struct shared *s;
	unsigned id;
	pthread_t th;
	/* Results, read by the main thread after join. */
	int err; /* 1: no worker; 2: bad verdict; 3: bad burst return */
	unsigned bad_verdict;
	uint64_t fed;
	uint64_t tally[XF_NVERDICTS], warns;
	struct xf_worker_stats st;
};

struct cctx {
	struct shared *s;
	pthread_t th;
	int err; /* 1: set_params failed; 2: no worker for the anchors */
	uint64_t harvested, harvests, handed, reclaims, reclaimed, swaps, applied_dsts;
	uint64_t share_ticks, congested, share_views, share_applied;
	uint64_t round_dsts, round_heavy, round_new, round_seen, admitted_last;
	/* Anchor packets the control thread filters itself (control_clock). */
	uint64_t fed, tally[XF_NVERDICTS];
	struct xf_worker_stats st;
};

/* Best effort: the scenario wants interleavings by preemption on one CPU. */
static void pin_to_cpu0(const struct scenario *sc)
{
	cpu_set_t set;

	if (!sc->one_cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
}

static bool verdict_ok(unsigned v)
{
	if (v & ~(XF_WARN | XF_SOFT | 0x3fu))
		return false;
	if (xf_verdict_of(v) >= XF_NVERDICTS)
		return false;
	if ((v & XF_SOFT) && xf_verdict_of(v) != XF_DROP_PAIR)
		return false;
	return !(v & XF_WARN) || xf_verdict_of(v) == XF_DROP_PAIR;
}

static void *worker_main(void *arg)
{
	struct wctx *wc = arg;
	struct shared *s = wc->s;
	const struct scenario *sc = s->sc;
	struct rng r = { .s = 0x5eed0000ULL + wc->id };
	struct xf_key keys[MAX_BURST];
	uint8_t v8[MAX_BURST];
	unsigned v[MAX_BURST];
	struct xf_worker *w;
	uint64_t t = 0;
	unsigned stall = 0;

	pin_to_cpu0(sc);
	rcu_register_thread();
	w = xf_worker_new(s->e);
	if (!w) {
		wc->err = 1;
		goto out;
	}
	while (wc->fed < sc->pkts_per_worker) {
		unsigned n = 1 + (unsigned)rng_below(&r, MAX_BURST);
		uint64_t step = rng_below(&r, sc->step_max_ns + 1);
		bool burst = rng_below(&r, 4) != 0;

		if (n > sc->pkts_per_worker - wc->fed)
			n = (unsigned)(sc->pkts_per_worker - wc->fed);
		for (unsigned j = 0; j < n; j++) {
			unsigned k;

			if (sc->ndst_used)
				k = (unsigned)(rng_below(&r, NDEV) * NDST +
					       rng_below(&r, sc->ndst_used));
			else if (rng_below(&r, 2))
				k = s->hot[rng_below(&r, NHOT)];
			else
				k = (unsigned)rng_below(&r, NKEYS);
			keys[j] = s->keys[k];
		}
		if (rng_below(&r, sc->jump_one_in) == 0)
			step = sc->jump_ns;
		/*
		 * Each worker's time never decreases, but a worker may stall on an
		 * old time for a while (a slow core), so workers lag each other.
		 */
		if (sc->control_clock) {
			t = __atomic_load_n(&s->clock, __ATOMIC_SEQ_CST);
		} else if (stall) {
			stall--;
		} else {
			t = __atomic_add_fetch(&s->clock, step, __ATOMIC_SEQ_CST);
			if (rng_below(&r, 64) == 0)
				stall = 1 + (unsigned)rng_below(&r, 32);
		}

		rcu_read_lock();
		if (burst) {
			if (xf_filter_burst(w, keys, v8, n, t) != n)
				wc->err = 3;
			for (unsigned j = 0; j < n; j++)
				v[j] = v8[j];
		} else {
			for (unsigned j = 0; j < n; j++)
				v[j] = xf_filter(w, &keys[j], t);
		}
		rcu_read_unlock();

		for (unsigned j = 0; j < n; j++) {
			if (!verdict_ok(v[j])) {
				wc->err = 2;
				wc->bad_verdict = v[j];
				continue;
			}
			wc->tally[xf_verdict_of(v[j])]++;
			wc->warns += !!(v[j] & XF_WARN);
		}
		wc->fed += n;
	}
	xf_worker_stats(w, &wc->st);
	xf_worker_free(w);
out:
	__atomic_add_fetch(&s->workers_done, 1, __ATOMIC_SEQ_CST);
	rcu_unregister_thread();
	return NULL;
}

static void harvest_cb(const struct xf_pair_view *v, void *arg)
{
	*(uint64_t *)arg += v->dc;
}

struct collected {
	struct xf_pair_view v[NKEYS + 64];
	size_t n;
	uint64_t *sum;
};

static void collect_cb(const struct xf_pair_view *v, void *arg)
{
	struct collected *c = arg;

	*c->sum += v->dc;
	if (c->n < sizeof(c->v) / sizeof(c->v[0]))
		c->v[c->n++] = *v;
}

/*
 * One "round": collect, then adopt a master window per pair that moves its
 * count (up: other proxies' packets; down: a decay) and its start (back: an
 * older window elsewhere; forward: a decay), and a destination window.
 * Workers keep admitting to the same pairs meanwhile.
 */
static size_t sync_like_round(struct cctx *cc, uint64_t *sum, uint64_t iter)
{
	static struct collected col;
	struct shared *s = cc->s;
	size_t n;

	col.n = 0;
	col.sum = sum;
	n = xf_engine_collect(s->e, XF_COLLECT_TOUCHED, collect_cb, &col);
	for (size_t i = 0; i < col.n; i++) {
		const struct xf_pair_view *v = &col.v[i];
		uint64_t c = (i + iter) % 2 ? v->count * 2 + 3 : v->count / 2;
		uint64_t ts1 = (i + iter) % 3 ? v->ts1 + (v->ts2 - v->ts1) / 2 : v->ts1 - MS;

		xf_engine_pair_apply(s->e, v, c, ts1, v->ts2);
		xf_engine_dst_global(s->e, v->key.dst, c * 2, ts1, c * XF_RATE_ONE, v->ts2);
	}
	cc->applied_dsts += xf_engine_apply_end(s->e);
	return n;
}

struct share_back {
	struct cctx *cc;
	uint64_t iter;
};

/* Hand a summary back as if two other proxies sent the same, or forget them. */
static void share_back_cb(const struct xf_share_view *v, void *arg)
{
	struct share_back *sb = arg;
	struct xf_share_view o = *v;

	sb->cc->share_views++;
	if (sb->iter % 5 == 4) {
		o.senders = 0; /* forget the others */
	} else {
		o.senders *= 2;
		o.heavy *= 2;
		o.demand *= 2;
		o.admitted *= 2;
	}
	sb->cc->share_applied += xf_engine_share_apply(sb->cc->s->e, &o);
}

static void share_round(struct cctx *cc, uint64_t iter)
{
	struct share_back sb = { .cc = cc, .iter = iter };

	cc->congested +=
		xf_engine_share(cc->s->e, __atomic_load_n(&cc->s->clock, __ATOMIC_SEQ_CST));
	cc->share_ticks++;
	xf_engine_share_foreach(cc->s->e, share_back_cb, &sb);
}

/* The destination round's engine calls, racing the workers' notes and adds. */
static void count_dst(const struct xf_dst_round *v, void *arg)
{
	*(uint64_t *)arg += v->count > 0;
}

static void count_pair(const struct xf_pair_view *v, void *arg)
{
	*(uint64_t *)arg += v->count > 0 || v->fresh;
}

static void dst_round_calls(struct cctx *cc)
{
	struct xf_engine *e = cc->s->e;

	rcu_read_lock();
	xf_engine_dst_round(e, 0, __atomic_load_n(&cc->s->clock, __ATOMIC_SEQ_CST), count_dst,
			    &cc->round_dsts);
	rcu_read_unlock();
	xf_engine_heavy(e, count_pair, &cc->round_heavy);
	cc->round_new += xf_engine_new_pairs(e, count_pair, &cc->round_seen);
	if (xf_engine_admitted(e) < cc->admitted_last)
		cc->err = 3; /* the exact total never goes back */
	cc->admitted_last = xf_engine_admitted(e);
}

static void *control_main(void *arg)
{
	struct cctx *cc = arg;
	struct shared *s = cc->s;
	const struct scenario *sc = s->sc;
	uint64_t iter = 0;
	struct xf_worker *aw = NULL;

	pin_to_cpu0(sc);
	rcu_register_thread();
	if (sc->control_clock) {
		aw = xf_worker_new(s->e);
		if (!aw)
			cc->err = 2;
	}
	while (__atomic_load_n(&s->workers_done, __ATOMIC_SEQ_CST) < NWORKERS) {
		uint64_t sum = 0;

		if (aw) {
			/*
			 * Jump the clock past T_T1, then refresh one anchor pair per
			 * destination so that the destinations outlive the reclaim
			 * below and keep any miscount in c* for the final check.
			 */
			uint64_t now = __atomic_add_fetch(&s->clock, sc->jump_ns, __ATOMIC_SEQ_CST);

			rcu_read_lock();
			for (unsigned a = 0; a < sc->ndst_used; a++) {
				unsigned v = xf_filter(aw, &s->keys[a], now);

				cc->tally[xf_verdict_of(v)]++;
				cc->fed++;
			}
			rcu_read_unlock();
		}
		if (sc->share)
			share_round(cc, iter);
		dst_round_calls(cc);
		if (sc->sync_apply)
			cc->handed += sync_like_round(cc, &sum, iter);
		else
			cc->handed += xf_engine_harvest(s->e, harvest_cb, &sum);
		cc->harvested += sum;
		cc->harvests++;
		iter++;
		if (sc->control_clock) {
			cc->reclaimed += xf_engine_reclaim(
				s->e, __atomic_load_n(&s->clock, __ATOMIC_SEQ_CST));
			cc->reclaims++;
		} else if (iter % 8 == 0) {
			const struct xf_params *p = (cc->swaps % 2) ? &sc->pa : &sc->pb;

			if (xf_engine_set_params(s->e, p))
				cc->err = 1;
			cc->swaps++;
		}
		if (!sc->control_clock && iter % 3 == 0) {
			cc->reclaimed += xf_engine_reclaim(
				s->e, __atomic_load_n(&s->clock, __ATOMIC_SEQ_CST));
			cc->reclaims++;
		}
		sched_yield();
	}
	if (aw) {
		xf_worker_stats(aw, &cc->st);
		xf_worker_free(aw);
	}
	rcu_unregister_thread();
	return NULL;
}

static void make_keys(struct shared *s)
{
	struct rng r = { .s = 42 };

	for (unsigned d = 0; d < NDEV; d++) {
		for (unsigned i = 0; i < NDST; i++) {
			struct xf_key *k = &s->keys[d * NDST + i];

			if (i < NDST - NDST6) {
				xf_key_ipv4(k, 100 + d, htonl(0xc6336400u | i)); /* 198.51.100.i */
			} else {
				uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
						   0,	 0,    0,    0,	   0, 0, 0, (uint8_t)i };

				xf_key_ipv6(k, 100 + d, a6);
			}
		}
	}
	for (unsigned h = 0; h < NHOT; h++)
		s->hot[h] = (unsigned)rng_below(&r, NKEYS);
}

struct agg {
	uint64_t ts1, ts2, count;
	uint32_t pairs;
};

/*
 * Quiescent state: each destination's aggregate must equal what its pairs
 * say, the record counters must equal the records found, and the limits hold.
 */
static void check_quiescent(struct shared *s, uint64_t *npairs_out)
{
	const struct scenario *sc = s->sc;
	static struct xf_pair_view pv[NKEYS];
	static bool have[NKEYS];
	struct xf_dst_view dv[NDST];
	bool dfound[NDST];
	struct agg dst[NDST];
	unsigned per_dev[NDEV];
	uint64_t npairs = 0, ndsts = 0, ndevs = 0;
	struct xf_engine_stats es;

	/* Snapshot first: no assertion may leave an RCU read-side section open. */
	memset(dv, 0, sizeof(dv));
	rcu_read_lock();
	for (unsigned k = 0; k < NKEYS; k++)
		have[k] = xf_engine_pair(s->e, &s->keys[k], &pv[k]);
	for (unsigned i = 0; i < NDST; i++)
		dfound[i] = xf_engine_dst(s->e, s->keys[i].dst, &dv[i]);
	rcu_read_unlock();

	memset(per_dev, 0, sizeof(per_dev));
	for (unsigned i = 0; i < NDST; i++) {
		dst[i].ts1 = UINT64_MAX;
		dst[i].ts2 = 0;
		dst[i].count = 0;
		dst[i].pairs = 0;
	}
	for (unsigned k = 0; k < NKEYS; k++) {
		struct agg *a = &dst[k % NDST];

		if (!have[k])
			continue;
		if (pv[k].ts1 > pv[k].ts2 || pv[k].dc != 0)
			printf("pair #%u (dev %u, dst #%u): ts1 %" PRIu64 " ts2 %" PRIu64
			       " c %" PRIu64 " dc %" PRIu64 "\n",
			       k, s->keys[k].dev, k % NDST, pv[k].ts1, pv[k].ts2, pv[k].count,
			       pv[k].dc);
		assert_true(pv[k].ts1 <= pv[k].ts2); /* ts2 = max(ts2, t) never falls behind ts1 */
		assert_int_equal(pv[k].dc, 0); /* after the final harvest */
		npairs++;
		per_dev[k / NDST]++;
		if (pv[k].ts1 < a->ts1)
			a->ts1 = pv[k].ts1;
		if (pv[k].ts2 > a->ts2)
			a->ts2 = pv[k].ts2;
		a->count += pv[k].count;
		a->pairs++;
	}
	for (unsigned i = 0; i < NDST; i++) {
		if (dfound[i] != (dst[i].pairs > 0) ||
		    (dfound[i] && (dv[i].ts1 != dst[i].ts1 || dv[i].ts2 != dst[i].ts2 ||
				   dv[i].count != dst[i].count || dv[i].pairs != dst[i].pairs)))
			printf("dst #%u: engine %s ts1* %" PRIu64 " ts2* %" PRIu64 " c* %" PRIu64
			       " pairs %u; its pairs say ts1* %" PRIu64 " ts2* %" PRIu64
			       " c* %" PRIu64 " pairs %u\n",
			       i, dfound[i] ? "present" : "absent", dv[i].ts1, dv[i].ts2,
			       dv[i].count, dv[i].pairs, dst[i].ts1, dst[i].ts2, dst[i].count,
			       dst[i].pairs);
	}
	for (unsigned i = 0; i < NDST; i++) {
		assert_int_equal(dfound[i], dst[i].pairs > 0);
		if (!dfound[i])
			continue;
		ndsts++;
		assert_int_equal(dv[i].ts1, dst[i].ts1);
		assert_int_equal(dv[i].ts2, dst[i].ts2);
		assert_int_equal(dv[i].count, dst[i].count);
		assert_int_equal(dv[i].pairs, dst[i].pairs);
	}
	for (unsigned d = 0; d < NDEV; d++) {
		assert_true(per_dev[d] <= sc->lim.max_dsts_per_dev);
		ndevs += per_dev[d] > 0;
	}
	assert_true(npairs <= sc->lim.max_records);
	xf_engine_stats(s->e, &es);
	printf("    quiescent: %" PRIu64 " pairs, %" PRIu64 " destinations, %" PRIu64
	       " devices (engine counts %" PRIu64 "/%" PRIu64 "/%" PRIu64 ")\n",
	       npairs, ndsts, ndevs, es.pairs, es.dsts, es.devs);
	assert_int_equal(es.pairs, npairs);
	assert_int_equal(es.dsts, ndsts);
	assert_int_equal(es.devs, ndevs);
	*npairs_out = npairs;
}

static void run_scenario(const struct scenario *sc)
{
	struct shared *s = calloc(1, sizeof(*s));
	struct wctx wc[NWORKERS];
	struct cctx cc;
	struct xf_worker_stats tot;
	struct xf_engine_stats es;
	uint64_t fed = 0, pass = 0, final = 0, npairs, freed;

	assert_non_null(s);
	s->sc = sc;
	s->clock = 5 * SEC;
	make_keys(s);
	s->e = xf_engine_new(&sc->pa, &sc->lim, 0x7e57ULL);
	assert_non_null(s->e);

	memset(wc, 0, sizeof(wc));
	memset(&cc, 0, sizeof(cc));
	memset(&tot, 0, sizeof(tot));
	cc.s = s;
	for (unsigned i = 0; i < NWORKERS; i++) {
		wc[i].s = s;
		wc[i].id = i;
		assert_int_equal(pthread_create(&wc[i].th, NULL, worker_main, &wc[i]), 0);
	}
	assert_int_equal(pthread_create(&cc.th, NULL, control_main, &cc), 0);
	for (unsigned i = 0; i < NWORKERS; i++)
		assert_int_equal(pthread_join(wc[i].th, NULL), 0);
	assert_int_equal(pthread_join(cc.th, NULL), 0);

	/* The main thread is the control thread from here on. */
	xf_engine_harvest(s->e, harvest_cb, &final);

	for (unsigned i = 0; i < NWORKERS; i++) {
		uint64_t sum = 0;

		if (wc[i].err)
			printf("worker %u: error %d (verdict 0x%x)\n", i, wc[i].err,
			       wc[i].bad_verdict);
		assert_int_equal(wc[i].err, 0);
		assert_int_equal(wc[i].fed, sc->pkts_per_worker);
		for (unsigned v = 0; v < XF_NVERDICTS; v++) {
			sum += wc[i].st.verdict[v];
			assert_int_equal(wc[i].st.verdict[v], wc[i].tally[v]);
			tot.verdict[v] += wc[i].st.verdict[v];
		}
		assert_int_equal(sum, wc[i].fed);
		assert_int_equal(wc[i].st.warnings, wc[i].warns);
		tot.warnings += wc[i].st.warnings;
		tot.pairs_created += wc[i].st.pairs_created;
		tot.window_resets += wc[i].st.window_resets;
		fed += wc[i].fed;
		pass += wc[i].tally[XF_PASS];
	}
	assert_int_equal(cc.err, 0);
	for (unsigned v = 0; v < XF_NVERDICTS; v++)
		assert_int_equal(cc.st.verdict[v], cc.tally[v]);
	pass += cc.tally[XF_PASS];

	printf("%s: %d workers fed %" PRIu64 " packets over %.3f s of engine time: PASS %" PRIu64
	       ", DROP_PAIR %" PRIu64 " (WARN %" PRIu64 "), DROP_DST %" PRIu64
	       ", DROP_DEVCAP %" PRIu64 ", DROP_FULL %" PRIu64 "; pairs created %" PRIu64
	       ", window resets %" PRIu64 "\n",
	       sc->name, NWORKERS, fed, (double)(s->clock - 5 * SEC) / SEC, tot.verdict[XF_PASS],
	       tot.verdict[XF_DROP_PAIR], tot.warnings, tot.verdict[XF_DROP_DST],
	       tot.verdict[XF_DROP_DEVCAP], tot.verdict[XF_DROP_FULL], tot.pairs_created,
	       tot.window_resets);
	printf("    control: %" PRIu64 " harvests (%" PRIu64 " pairs handed, dc %" PRIu64
	       ") + final dc %" PRIu64 ", %" PRIu64 " reclaims freed %" PRIu64 ", %" PRIu64
	       " param swaps, %" PRIu64 " anchor packets (%" PRIu64 " passed)\n",
	       cc.harvests, cc.handed, cc.harvested, final, cc.reclaims, cc.reclaimed, cc.swaps,
	       cc.fed, cc.tally[XF_PASS]);

	if (sc->share)
		printf("    share: %" PRIu64 " ticks, %" PRIu64
		       " congested destinations seen, %" PRIu64 " summaries, %" PRIu64
		       " applied back\n",
		       cc.share_ticks, cc.congested, cc.share_views, cc.share_applied);

	/* Every admitted packet (workers' and anchors') is harvested exactly once. */
	assert_int_equal(cc.harvested + final, pass);
	/* ... and counted once in the workers' total, freed workers included. */
	assert_int_equal(xf_engine_admitted(s->e), pass);
	/* Each pair created is handed out as new at most once (its mark goes with it). */
	assert_true(cc.round_new <= tot.pairs_created + cc.st.pairs_created);
	printf("    destination round: %" PRIu64 " destinations, %" PRIu64 " heavy pairs, %" PRIu64
	       " new pairs handed out; total %" PRIu64 "\n",
	       cc.round_dsts, cc.round_heavy, cc.round_new, xf_engine_admitted(s->e));

	check_quiescent(s, &npairs);

	/* Everything is idle and harvested far in the future: all of it goes. */
	freed = xf_engine_reclaim(s->e, s->clock + 10 * SEC);
	assert_int_equal(freed, npairs);
	xf_engine_stats(s->e, &es);
	assert_int_equal(es.pairs, 0);
	assert_int_equal(es.dsts, 0);
	assert_int_equal(es.devs, 0);

	/* The run must have exercised what it is about. */
	assert_true(tot.verdict[XF_PASS] > 0);
	assert_true(tot.window_resets > 0);
	assert_true(cc.reclaimed > 0);
	if (!sc->control_clock)
		assert_true(cc.swaps > 0);
	if (sc->expect_drops) {
		assert_true(tot.verdict[XF_DROP_PAIR] > 0);
		assert_true(tot.verdict[XF_DROP_DST] > 0);
	}
	if (sc->share) {
		/* The shares bit (congested ticks, DROP_DST) and the summaries went round. */
		assert_true(cc.share_ticks > 0);
		assert_true(cc.congested > 0);
		assert_true(cc.share_applied > 0);
	}
	if (sc->expect_caps) {
		assert_true(tot.verdict[XF_DROP_DEVCAP] > 0);
		assert_true(tot.verdict[XF_DROP_FULL] > 0);
	}
	/*
	 * A device never has more live pairs than destinations here, nor the
	 * engine more than keys: a cap verdict has no sequential explanation.
	 */
	if (sc->caps_unreachable) {
		assert_int_equal(tot.verdict[XF_DROP_DEVCAP], 0);
		assert_int_equal(tot.verdict[XF_DROP_FULL], 0);
	}

	xf_engine_free(s->e);
	free(s);
}

static void params(struct xf_params *p, uint64_t tt1, uint64_t tt2, uint64_t tt3, uint64_t tf1,
		   uint64_t tf2, uint32_t warn)
{
	xf_params_default(p);
	p->policy = XF_POLICY_FCFS; /* these cases test Algorithm 2 */
	p->tt1_ms = tt1;
	p->tt2_ms = tt2;
	p->tt3_ms = tt3;
	p->tf1_pps = tf1;
	p->tf2_pps = tf2;
	p->warn_interval_ms = warn;
}

/* Moderate thresholds: hot keys exceed T_F1, cold keys idle past T_T1 and get reclaimed. */
static void test_mt_moderate(void **state)
{
	struct scenario sc = {
		.name = "moderate",
		.lim = { .max_records = 4096, .max_dsts_per_dev = NDST },
		.pkts_per_worker = 60000,
		.step_max_ns = 200 * US,
		.jump_ns = 50 * MS,
		.jump_one_in = 500,
		.expect_drops = true,
		.caps_unreachable = true,
	};

	(void)state;
	params(&sc.pa, 20, 5, 5, 300, 3000, 10);
	params(&sc.pb, 10, 2, 8, 150, 5000, 5);
	run_scenario(&sc);
}

/*
 * Tiny thresholds and limits: nearly every packet is dropped or restarts a
 * window, pairs are refused and reclaimed all the time, concurrently.
 */
static void test_mt_tiny(void **state)
{
	struct scenario sc = {
		.name = "tiny",
		.lim = { .max_records = 128, .max_dsts_per_dev = 4 },
		.pkts_per_worker = 60000,
		.step_max_ns = 200 * US,
		.jump_ns = 3 * MS,
		.jump_one_in = 200,
		.expect_drops = true,
		.expect_caps = true,
	};

	(void)state;
	params(&sc.pa, 1, 1, 1, 20, 50, 0);
	params(&sc.pb, 2, 1, 2, 5, 200, 1);
	run_scenario(&sc);
}

/*
 * Retirement against admission: every control iteration makes all pairs idle
 * and retires every harvested one while the workers admit to the same pairs
 * (no thresholds bite).  Many pairs share two destinations, so a packet
 * counted into a retired pair would show as c* above the sum of the pairs' c'.
 * All threads share one CPU, so a worker preempted between its admission's
 * atomic steps stays preempted while the control thread harvests and retires.
 */
static void test_mt_reclaim_vs_admit(void **state)
{
	struct scenario sc = {
		.name = "reclaim-vs-admit",
		.lim = { .max_records = 256,
			 .max_dsts_per_dev = NDST }, /* small table: fast walks */
		.pkts_per_worker = 100000,
		.jump_ns = 2 * MS,
		.jump_one_in = 1,
		.control_clock = true,
		.one_cpu = true,
		.ndst_used = 2,
		.caps_unreachable = true,
	};

	(void)state;
	params(&sc.pa, 1, 86400000, 86400000, 1000000000, 1000000000, 0);
	sc.pb = sc.pa;
	run_scenario(&sc);
}

/*
 * The sync round's applies against admission: c* must still equal the sum
 * of its pairs' c' and ts1* their minimum once quiet, every admitted packet
 * is still collected exactly once, and TSan sees no race.
 */
static void test_mt_sync_apply(void **state)
{
	struct scenario sc = {
		.name = "sync-apply",
		.lim = { .max_records = 4096, .max_dsts_per_dev = NDST },
		.pkts_per_worker = 60000,
		.step_max_ns = 200 * US,
		.jump_ns = 50 * MS,
		.jump_one_in = 500,
		.caps_unreachable = true,
		.sync_apply = true,
	};

	(void)state;
	params(&sc.pa, 20, 5, 5, 300, 3000, 10);
	sc.pb = sc.pa;
	run_scenario(&sc);
}

/*
 * The fair policy: share ticks and the others' summaries against workers
 * filtering on the shares, caps and limiters they publish, with parameter
 * swaps (burst and rate constants too) and reclaims; the accounting checks
 * of every scenario hold and TSan sees no race.
 */
static void test_mt_fair_share(void **state)
{
	struct scenario sc = {
		.name = "fair-share",
		.lim = { .max_records = 4096, .max_dsts_per_dev = NDST },
		.pkts_per_worker = 60000,
		.step_max_ns = 200 * US,
		.jump_ns = 50 * MS,
		.jump_one_in = 500,
		.expect_drops = true,
		.caps_unreachable = true,
		.share = true,
	};

	(void)state;
	params(&sc.pa, 20, 5, 5, 300, 3000, 10);
	params(&sc.pb, 10, 2, 8, 150, 2000, 5);
	sc.pa.policy = sc.pb.policy = XF_POLICY_FAIR;
	sc.pb.pair_burst_ms = 50;
	sc.pb.dst_burst_ms = 5;
	sc.pb.tflag_ms = 100;
	sc.pb.rate_ms = 50;
	run_scenario(&sc);
}

/*
 * ts2 = max(ts2, t) must hold under concurrency too.  Two workers send to the
 * same few keys with interleaved clocks (no restart, no reclaim: T_T1 is a
 * day).  done[k] is the largest time of a packet for key k that a worker has
 * finished filtering; whoever reads ts2 of k after reading done[k] must find
 * ts2 >= done[k].  A worker that stores its older time over a newer one
 * breaks that until the key's next packet: the workers check before every
 * packet and this thread keeps scanning all keys.
 */
#define MONO_PKTS 100000
#define MONO_KEYS 16
#define MONO_WORKERS 2

struct mono {
	struct xf_engine *e;
	struct xf_key keys[MONO_KEYS];
	uint64_t done[MONO_KEYS]; /* atomic */
	uint64_t clock; /* atomic */
	int finished; /* atomic: workers done */
};

struct mono_seen {
	uint64_t checks, regressions, want, got;
};

/* Under rcu_read_lock(): check key k once. */
static void mono_check(struct mono *m, unsigned k, struct mono_seen *ms)
{
	uint64_t want = __atomic_load_n(&m->done[k], __ATOMIC_SEQ_CST);
	struct xf_pair_view pv;

	if (!want || !xf_engine_pair(m->e, &m->keys[k], &pv))
		return;
	ms->checks++;
	if (pv.ts2 < want && !ms->regressions++) {
		ms->want = want;
		ms->got = pv.ts2;
	}
}

struct mono_w {
	struct mono *m;
	unsigned id;
	pthread_t th;
	int err;
	struct mono_seen seen;
};

static void *mono_worker(void *arg)
{
	struct mono_w *mw = arg;
	struct mono *m = mw->m;
	struct rng r = { .s = 0x3000 + mw->id };
	struct xf_worker *w;

	rcu_register_thread();
	w = xf_worker_new(m->e);
	if (!w) {
		mw->err = 1;
	} else {
		for (unsigned i = 0; i < MONO_PKTS; i++) {
			unsigned k = (unsigned)rng_below(&r, MONO_KEYS);
			uint64_t t = __atomic_add_fetch(&m->clock, 1 + rng_below(&r, 3),
							__ATOMIC_SEQ_CST);
			uint64_t d;

			rcu_read_lock();
			mono_check(m, k, &mw->seen);
			xf_filter(w, &m->keys[k], t);
			rcu_read_unlock();
			/* done[k] = max(done[k], t) */
			d = __atomic_load_n(&m->done[k], __ATOMIC_SEQ_CST);
			while (d < t &&
			       !__atomic_compare_exchange_n(&m->done[k], &d, t, false,
							    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				;
		}
		xf_worker_free(w);
	}
	__atomic_add_fetch(&m->finished, 1, __ATOMIC_SEQ_CST);
	rcu_unregister_thread();
	return NULL;
}

static void test_mt_ts2_monotonic(void **state)
{
	struct mono m = { .clock = 5 * SEC };
	struct mono_w mw[MONO_WORKERS];
	struct mono_seen seen = { 0 };
	struct xf_params p;
	struct xf_limits lim = { .max_records = 64, .max_dsts_per_dev = MONO_KEYS };
	struct xf_pair_view pv[MONO_KEYS];
	bool found[MONO_KEYS];
	uint64_t checks, regressions;

	(void)state;
	params(&p, 86400000, 1, 1, 1000000000, 1000000000, 1000);
	m.e = xf_engine_new(&p, &lim, 1);
	assert_non_null(m.e);
	for (unsigned k = 0; k < MONO_KEYS; k++)
		xf_key_ipv4(&m.keys[k], 7, htonl(0xc0000200u + k)); /* 192.0.2.k */
	memset(mw, 0, sizeof(mw));
	for (unsigned i = 0; i < MONO_WORKERS; i++) {
		mw[i].m = &m;
		mw[i].id = i;
		assert_int_equal(pthread_create(&mw[i].th, NULL, mono_worker, &mw[i]), 0);
	}
	/* This thread watches too. */
	for (unsigned k = 0; __atomic_load_n(&m.finished, __ATOMIC_SEQ_CST) < MONO_WORKERS;
	     k = (k + 1) % MONO_KEYS) {
		rcu_read_lock();
		mono_check(&m, k, &seen);
		rcu_read_unlock();
	}
	for (unsigned i = 0; i < MONO_WORKERS; i++)
		assert_int_equal(pthread_join(mw[i].th, NULL), 0);

	rcu_read_lock();
	for (unsigned k = 0; k < MONO_KEYS; k++)
		found[k] = xf_engine_pair(m.e, &m.keys[k], &pv[k]);
	rcu_read_unlock();
	checks = seen.checks;
	regressions = seen.regressions;
	for (unsigned i = 0; i < MONO_WORKERS; i++) {
		checks += mw[i].seen.checks;
		regressions += mw[i].seen.regressions;
		if (!seen.regressions && mw[i].seen.regressions)
			seen = mw[i].seen;
	}
	printf("ts2 monotonic: %" PRIu64 " checks, %" PRIu64 " saw ts2 below a finished packet's"
	       " time (first: ts2 %" PRIu64 " < %" PRIu64 ")\n",
	       checks, regressions, seen.got, seen.want);
	xf_engine_free(m.e);
	for (unsigned i = 0; i < MONO_WORKERS; i++)
		assert_int_equal(mw[i].err, 0);
	assert_int_equal(regressions, 0);
	for (unsigned k = 0; k < MONO_KEYS; k++) {
		assert_true(found[k]);
		assert_int_equal(pv[k].ts2, m.done[k]); /* ends at the largest time used */
	}
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
		cmocka_unit_test(test_mt_moderate),	    cmocka_unit_test(test_mt_tiny),
		cmocka_unit_test(test_mt_reclaim_vs_admit), cmocka_unit_test(test_mt_sync_apply),
		cmocka_unit_test(test_mt_ts2_monotonic),    cmocka_unit_test(test_mt_fair_share),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
