/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the filter engine against docs/algorithm.md "Exact semantics":
 * every branch of Algorithm 2 at, just below and just above each threshold.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/filter.h"

#define MS(x) ((uint64_t)(x)*XF_NSEC_PER_MSEC)
#define SEC(x) ((uint64_t)(x)*XF_NSEC_PER_SEC)
#define T0 SEC(1000) /* an arbitrary start of the monotonic clock */

/* Engines and workers of one test; teardown frees them even after a failure. */
struct fx {
	struct xf_engine *e[2];
	struct xf_worker *w[4]; /* w[0] on e[0], w[1] on e[1], w[2..3] extra */
};

static int fx_setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	unsigned i;

	for (i = 0; i < 4; i++)
		if (f->w[i])
			xf_worker_free(f->w[i]);
	for (i = 0; i < 2; i++)
		if (f->e[i])
			xf_engine_free(f->e[i]);
	free(f);
	return 0;
}

/* Engine i of the fixture, with its worker w[i]. */
static struct xf_engine *fx_engine(struct fx *f, unsigned i, const struct xf_params *p,
				   uint32_t max_records, uint32_t max_dsts, uint64_t seed)
{
	struct xf_limits lim = { .max_records = max_records, .max_dsts_per_dev = max_dsts };

	f->e[i] = xf_engine_new(p, &lim, seed);
	assert_non_null(f->e[i]);
	f->w[i] = xf_worker_new(f->e[i]);
	assert_non_null(f->w[i]);
	return f->e[i];
}

static struct xf_params defaults(void)
{
	struct xf_params p;

	xf_params_default(&p);
	p.policy = XF_POLICY_FCFS; /* these cases test Algorithm 2 */
	return p;
}

static unsigned filt(struct xf_worker *w, const struct xf_key *k, uint64_t t)
{
	unsigned v;

	rcu_read_lock();
	v = xf_filter(w, k, t);
	rcu_read_unlock();
	return v;
}

static bool find_pair(struct xf_engine *e, const struct xf_key *k, struct xf_pair_view *out)
{
	bool found;

	memset(out, 0, sizeof(*out));
	rcu_read_lock();
	found = xf_engine_pair(e, k, out);
	rcu_read_unlock();
	return found;
}

static bool find_dst(struct xf_engine *e, const uint8_t dst[16], struct xf_dst_view *out)
{
	bool found;

	memset(out, 0, sizeof(*out));
	rcu_read_lock();
	found = xf_engine_dst(e, dst, out);
	rcu_read_unlock();
	return found;
}

static struct xf_worker_stats wstats(struct xf_worker *w)
{
	struct xf_worker_stats s;

	memset(&s, 0, sizeof(s));
	xf_worker_stats(w, &s);
	return s;
}

static struct xf_engine_stats estats(struct xf_engine *e)
{
	struct xf_engine_stats s;

	memset(&s, 0, sizeof(s));
	xf_engine_stats(e, &s);
	return s;
}

static struct xf_key key4(uint32_t dev, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct xf_key k;

	xf_key_ipv4(&k, dev, htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d));
	return k;
}

/* The verdict, WARN flag included, of one packet. */
#define EXPECT(w, k, t, v) assert_int_equal(filt((w), (k), (t)), (v))

/* One pair's whole view; the failing line is the caller's. */
#define CHECK_PAIR(e, k, ts1_, ts2_, c_, dc_, mark_)                       \
	do {                                                               \
		struct xf_pair_view pv_;                                   \
		assert_true(find_pair((e), (k), &pv_));                    \
		assert_memory_equal(&pv_.key, (k), sizeof(struct xf_key)); \
		assert_int_equal(pv_.ts1, (ts1_));                         \
		assert_int_equal(pv_.ts2, (ts2_));                         \
		assert_int_equal(pv_.count, (c_));                         \
		assert_int_equal(pv_.dc, (dc_));                           \
		assert_int_equal(pv_.mark, (mark_));                       \
	} while (0)

#define CHECK_DST(e, dst, ts1_, ts2_, c_, pairs_)        \
	do {                                             \
		struct xf_dst_view dv_;                  \
		assert_true(find_dst((e), (dst), &dv_)); \
		assert_int_equal(dv_.ts1, (ts1_));       \
		assert_int_equal(dv_.ts2, (ts2_));       \
		assert_int_equal(dv_.count, (c_));       \
		assert_int_equal(dv_.pairs, (pairs_));   \
	} while (0)

#define CHECK_ESTATS(e, pairs_, dsts_, devs_)           \
	do {                                            \
		struct xf_engine_stats es_ = estats(e); \
		assert_int_equal(es_.pairs, (pairs_));  \
		assert_int_equal(es_.dsts, (dsts_));    \
		assert_int_equal(es_.devs, (devs_));    \
	} while (0)

/* Harvest collector: counts calls, sums dc, keeps the first views. */
#define HV_MAX 256
struct hv {
	size_t calls;
	uint64_t sum_dc;
	struct xf_pair_view v[HV_MAX];
};

static void hv_cb(const struct xf_pair_view *v, void *arg)
{
	struct hv *h = arg;

	if (h->calls < HV_MAX)
		h->v[h->calls] = *v;
	h->calls++;
	h->sum_dc += v->dc;
}

static const struct xf_pair_view *hv_find(const struct hv *h, const struct xf_key *k)
{
	size_t i;

	for (i = 0; i < h->calls && i < HV_MAX; i++)
		if (!memcmp(&h->v[i].key, k, sizeof(*k)))
			return &h->v[i];
	return NULL;
}

static size_t harvest(struct xf_engine *e, struct hv *h)
{
	size_t n;

	memset(h, 0, sizeof(*h));
	n = xf_engine_harvest(e, hv_cb, h);
	assert_int_equal(n, h->calls);
	return n;
}

/* --- pair creation ---------------------------------------------------------- */

static void test_new_pair(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e = fx_engine(f, 0, &p, 1000, 100, 1);
	struct xf_worker *w = f->w[0];
	struct xf_key k = key4(7, 192, 0, 2, 1);
	struct xf_pair_view pv;
	struct xf_dst_view dv;
	struct xf_worker_stats s;

	assert_false(find_pair(e, &k, &pv));
	assert_false(find_dst(e, k.dst, &dv));
	CHECK_ESTATS(e, 0, 0, 0);

	EXPECT(w, &k, T0, XF_PASS);
	s = wstats(w);
	assert_int_equal(s.pairs_created, 1);
	assert_int_equal(s.verdict[XF_PASS], 1);
	assert_int_equal(s.window_resets, 0);
	assert_int_equal(s.warnings, 0);
	/* created with ts1 = ts2 = t, c = 0, then admitted: c = dc = 1 */
	CHECK_PAIR(e, &k, T0, T0, 1, 1, false);
	CHECK_DST(e, k.dst, T0, T0, 1, 1);
	CHECK_ESTATS(e, 1, 1, 1);

	/* the second packet finds the pair */
	EXPECT(w, &k, T0 + MS(1), XF_PASS);
	s = wstats(w);
	assert_int_equal(s.pairs_created, 1);
	assert_int_equal(s.verdict[XF_PASS], 2);
	CHECK_PAIR(e, &k, T0, T0 + MS(1), 2, 2, false);
	CHECK_DST(e, k.dst, T0, T0 + MS(1), 2, 1);
	CHECK_ESTATS(e, 1, 1, 1);
}

/* --- T_T2 and T_F1 (Alg. 2 lines 12-16) -------------------------------------- */

static void test_tt2_boundary(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(1, 10, 0, 0, 1);
	struct xf_key k2 = key4(2, 10, 0, 0, 2);
	unsigned i;

	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.tt1_ms = 60000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	/* 50 packets/s for a second: far above T_F1 but the window is too short */
	for (i = 0; i < 50; i++)
		EXPECT(w, &k, T0 + MS(20 * i), XF_PASS);
	/* window exactly T_T2: still not judged */
	EXPECT(w, &k, T0 + MS(1000), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + MS(1000), 51, 51, false);
	/* T_T2 + 1 ns: judged, 52 / 1.000000001 s > 1 */
	EXPECT(w, &k, T0 + MS(1000) + 1, XF_DROP_PAIR | XF_WARN);
	CHECK_PAIR(e, &k, T0, T0 + MS(1000) + 1, 51, 51, false);

	/* judged and within T_F1: 2 packets over 2 s = 1 pps, not > 1 */
	EXPECT(w, &k2, T0, XF_PASS);
	EXPECT(w, &k2, T0 + SEC(2), XF_PASS);
	CHECK_PAIR(e, &k2, T0, T0 + SEC(2), 2, 2, false);
}

static void test_tf1_boundary(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(3, 198, 51, 100, 7);
	struct xf_worker_stats s;
	unsigned i;

	p.tf1_pps = 10;
	p.tt2_ms = 1000;
	p.tt1_ms = 60000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &k, T0, XF_PASS);
	for (i = 1; i <= 18; i++)
		EXPECT(w, &k, T0 + MS(50 * i), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + MS(900), 19, 19, false);
	/* c + 1 = 20 over 2 s: exactly T_F1 = 10 pps, allowed */
	EXPECT(w, &k, T0 + SEC(2), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + SEC(2), 20, 20, false);
	/* one more at the same time: 21 / 2 s > 10 */
	EXPECT(w, &k, T0 + SEC(2), XF_DROP_PAIR | XF_WARN);
	CHECK_PAIR(e, &k, T0, T0 + SEC(2), 20, 20, false);
	/* 21 / (2.1 s - 1 ns) is just above 10 pps */
	EXPECT(w, &k, T0 + MS(2100) - 1, XF_DROP_PAIR);
	CHECK_PAIR(e, &k, T0, T0 + MS(2100) - 1, 20, 20, false);
	/* 21 / 2.1 s is exactly 10 pps */
	EXPECT(w, &k, T0 + MS(2100), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + MS(2100), 21, 21, false);

	s = wstats(w);
	assert_int_equal(s.verdict[XF_PASS], 21);
	assert_int_equal(s.verdict[XF_DROP_PAIR], 2);
	assert_int_equal(s.verdict[XF_DROP_DST], 0);
	assert_int_equal(s.warnings, 1);
	assert_int_equal(s.pairs_created, 1);
}

/*
 * Rates are compared as c * 10^9 > T * dt in 128 bits.  With T = 2^29 and
 * dt = 2^35 ns, T * dt = 2^64 exactly: a 64-bit product wraps to 0.
 */
static void test_rate_no_overflow(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(9, 203, 0, 113, 9);
	const uint64_t dt = 1ULL << 35;

	p.tf1_pps = 1ULL << 29;
	p.tf2_pps = 1ULL << 29;
	p.tt1_ms = 86400000;
	p.tt2_ms = 1;
	p.tt3_ms = 1;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &k, T0, XF_PASS);
	EXPECT(w, &k, T0 + dt, XF_PASS);
	EXPECT(w, &k, T0 + 2 * dt, XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + 2 * dt, 3, 3, false);
}

/* Gap 1: a dropped packet is not counted but moves ts2 (a flood never idles). */
static void test_drop_not_counted_ts2_advances(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(4, 192, 0, 2, 44);
	struct xf_worker_stats s;
	unsigned i;

	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.tt1_ms = 2000;
	p.warn_interval_ms = 1000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	for (i = 0; i < 10; i++)
		EXPECT(w, &k, T0 + MS(100 * i), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + MS(900), 10, 10, false);
	/*
	 * Drops every 1.5 s: 11 / (1.5 j) s > 1 for j <= 7.  Admitted packets
	 * stop at T0 + 0.9 s, so without ts2 moving the pair would look idle
	 * (> T_T1 = 2 s) at j = 2 and restart.
	 */
	for (i = 1; i <= 7; i++) {
		EXPECT(w, &k, T0 + MS(1500) * i, XF_DROP_PAIR | XF_WARN);
		CHECK_PAIR(e, &k, T0, T0 + MS(1500) * i, 10, 10, false);
		CHECK_DST(e, k.dst, T0, T0 + MS(1500) * i, 10, 1);
	}
	/* 11 / 12 s < 1 pps: admitted in the same, never restarted window */
	EXPECT(w, &k, T0 + SEC(12), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + SEC(12), 11, 11, false);

	s = wstats(w);
	assert_int_equal(s.window_resets, 0);
	assert_int_equal(s.verdict[XF_PASS], 11);
	assert_int_equal(s.verdict[XF_DROP_PAIR], 7);
	assert_int_equal(s.warnings, 7);
}

/* --- overload warnings (Alg. 2 line 15) -------------------------------------- */

static void test_warn_interval(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_worker *w;
	struct xf_key a = key4(1, 10, 1, 0, 1); /* device 1 */
	struct xf_key b = key4(1, 10, 1, 0, 2); /* device 1, other destination */
	struct xf_key c = key4(2, 10, 1, 0, 3); /* device 2 */
	const uint64_t tw = T0 + MS(1500);
	unsigned i;

	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.tt1_ms = 60000;
	p.warn_interval_ms = 1000;
	fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	for (i = 0; i < 10; i++) {
		EXPECT(w, &a, T0 + MS(10 * i), XF_PASS);
		EXPECT(w, &b, T0 + MS(10 * i), XF_PASS);
		EXPECT(w, &c, T0 + MS(10 * i), XF_PASS);
	}
	/* first drop of each device warns; a second pair of device 1 does not */
	EXPECT(w, &a, tw, XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &b, tw, XF_DROP_PAIR);
	EXPECT(w, &c, tw, XF_DROP_PAIR | XF_WARN);
	/* 1 ns short of warn_interval_ms: no */
	EXPECT(w, &a, tw + MS(1000) - 1, XF_DROP_PAIR);
	EXPECT(w, &b, tw + MS(1000) - 1, XF_DROP_PAIR);
	/* exactly warn_interval_ms after the last warning: yes (>=) */
	EXPECT(w, &b, tw + MS(1000), XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &a, tw + MS(1000), XF_DROP_PAIR);
	EXPECT(w, &a, tw + MS(1000) + 1, XF_DROP_PAIR);
	EXPECT(w, &a, tw + MS(2000) - 1, XF_DROP_PAIR);
	EXPECT(w, &a, tw + MS(2000), XF_DROP_PAIR | XF_WARN);
	/* device 2 last warned at tw */
	EXPECT(w, &c, tw + MS(2000), XF_DROP_PAIR | XF_WARN);

	assert_int_equal(wstats(w).warnings, 5);
	assert_int_equal(wstats(w).verdict[XF_DROP_PAIR], 11);
}

static void test_warn_interval_zero(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_worker *w;
	struct xf_key k = key4(1, 10, 2, 0, 1);
	unsigned i;

	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.warn_interval_ms = 0;
	fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	for (i = 0; i < 10; i++)
		EXPECT(w, &k, T0 + MS(10 * i), XF_PASS);
	/* every drop warns, even two at the same instant */
	EXPECT(w, &k, T0 + SEC(2), XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &k, T0 + SEC(2), XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &k, T0 + SEC(2) + 1, XF_DROP_PAIR | XF_WARN);
	assert_int_equal(wstats(w).warnings, 3);
}

/* "never warned" must not be confused with "warned at time 0". */
static void test_warn_first_drop_early_clock(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_worker *w;
	struct xf_key k = key4(1, 10, 3, 0, 1);

	p.tf1_pps = 1;
	p.tt2_ms = 1;
	p.warn_interval_ms = 1000;
	fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &k, 1000, XF_PASS);
	/* 2 packets / 2 ms > 1 pps, 2 ms after the clock's origin */
	EXPECT(w, &k, 1000 + MS(2), XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &k, 1000 + MS(3), XF_DROP_PAIR);
}

/* The pair check comes first; a destination drop never warns. */
static void test_drop_order_and_dst_no_warn(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_key k = key4(1, 10, 4, 0, 1);
	unsigned i;

	p.tf1_pps = 5;
	p.tf2_pps = 3;
	p.tt2_ms = 1000;
	p.tt3_ms = 1000;
	fx_engine(f, 0, &p, 1000, 100, 1);
	p.tf1_pps = 1000;
	fx_engine(f, 1, &p, 1000, 100, 1);

	for (i = 0; i < 10; i++) {
		EXPECT(f->w[0], &k, T0 + MS(10 * i), XF_PASS);
		EXPECT(f->w[1], &k, T0 + MS(10 * i), XF_PASS);
	}
	/* both thresholds exceeded: pair verdict, with its warning */
	EXPECT(f->w[0], &k, T0 + MS(1500), XF_DROP_PAIR | XF_WARN);
	/* only T_F2 exceeded: destination verdict, no warning */
	EXPECT(f->w[1], &k, T0 + MS(1500), XF_DROP_DST);
	EXPECT(f->w[1], &k, T0 + MS(1600), XF_DROP_DST);
	assert_int_equal(wstats(f->w[1]).warnings, 0);
	CHECK_PAIR(f->e[1], &k, T0, T0 + MS(1600), 10, 10, false);
	CHECK_DST(f->e[1], k.dst, T0, T0 + MS(1600), 10, 1);
}

/* --- idle reset (Alg. 2 lines 3-4) ------------------------------------------- */

static void test_idle_reset(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(5, 192, 0, 2, 5);
	const uint64_t t1 = T0 + MS(2100); /* exactly T_T1 after ts2 */
	const uint64_t t2 = t1 + MS(2000) + 1; /* T_T1 + 1 ns after ts2 */
	struct xf_worker_stats s;
	struct hv h;

	p.tt1_ms = 2000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &k, T0, XF_PASS);
	EXPECT(w, &k, T0 + MS(50), XF_PASS);
	EXPECT(w, &k, T0 + MS(100), XF_PASS);
	CHECK_PAIR(e, &k, T0, T0 + MS(100), 3, 3, false);

	/* idle exactly T_T1: same window */
	EXPECT(w, &k, t1, XF_PASS);
	CHECK_PAIR(e, &k, T0, t1, 4, 4, false);
	assert_int_equal(wstats(w).window_resets, 0);

	/* idle T_T1 + 1 ns: the window restarts at t, c restarts, dc is kept */
	EXPECT(w, &k, t2, XF_PASS);
	CHECK_PAIR(e, &k, t2, t2, 1, 5, true);
	CHECK_DST(e, k.dst, t2, t2, 1, 1);
	s = wstats(w);
	assert_int_equal(s.window_resets, 1);
	assert_int_equal(s.pairs_created, 1);
	assert_int_equal(s.verdict[XF_PASS], 5);

	/* gap 2: every admitted packet is harvested, across the restart */
	assert_int_equal(harvest(e, &h), 1);
	assert_int_equal(h.sum_dc, 5);
	assert_true(h.v[0].mark);
	assert_int_equal(h.v[0].count, 1);
	CHECK_PAIR(e, &k, t2, t2, 1, 0, false);

	EXPECT(w, &k, t2 + 1, XF_PASS);
	CHECK_PAIR(e, &k, t2, t2 + 1, 2, 1, false);
}

/* A restart forgives a pair that was being dropped. */
static void test_idle_reset_forgives(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(6, 192, 0, 2, 6);
	const uint64_t td = T0 + MS(1500);
	unsigned i;

	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.tt1_ms = 2000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	for (i = 0; i < 10; i++)
		EXPECT(w, &k, T0 + MS(10 * i), XF_PASS);
	EXPECT(w, &k, td, XF_DROP_PAIR | XF_WARN);
	/* the drop moved ts2: exactly T_T1 later is not idle, still dropped */
	EXPECT(w, &k, td + MS(2000), XF_DROP_PAIR | XF_WARN);
	EXPECT(w, &k, td + MS(4000) + 1, XF_PASS);
	CHECK_PAIR(e, &k, td + MS(4000) + 1, td + MS(4000) + 1, 1, 11, true);
	assert_int_equal(wstats(w).window_resets, 1);
}

/* --- destination aggregate (Alg. 2 lines 18-25) ------------------------------ */

static void test_dst_many_devices(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k[51];
	const uint64_t tb = T0 + MS(2010); /* 201 packets / 2.01 s = T_F2 */
	struct xf_worker_stats s;
	unsigned i;

	p.tf1_pps = 10;
	p.tf2_pps = 100;
	p.tt2_ms = 1000;
	p.tt3_ms = 1000;
	p.tt1_ms = 60000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];
	for (i = 0; i < 51; i++)
		k[i] = key4(100 + i, 203, 0, 113, 1);

	/* 50 devices, 3 packets each at T0: 150 towards one destination */
	for (i = 0; i < 50; i++) {
		EXPECT(w, &k[i], T0, XF_PASS);
		EXPECT(w, &k[i], T0, XF_PASS);
		EXPECT(w, &k[i], T0, XF_PASS);
	}
	CHECK_DST(e, k[0].dst, T0, T0, 150, 50);
	/* window exactly T_T3: not judged (151..200 / 1 s would exceed 100) */
	for (i = 0; i < 50; i++)
		EXPECT(w, &k[i], T0 + SEC(1), XF_PASS);
	CHECK_DST(e, k[0].dst, T0, T0 + SEC(1), 200, 50);
	/* T_T3 + 1 ns: 201 / 1.000000001 s > 100; each pair (5 / 1 s) is fine */
	EXPECT(w, &k[0], T0 + SEC(1) + 1, XF_DROP_DST);
	CHECK_PAIR(e, &k[0], T0, T0 + SEC(1) + 1, 4, 4, false);
	CHECK_DST(e, k[0].dst, T0, T0 + SEC(1) + 1, 200, 50);
	/* 201 / (2.01 s - 1 ns): just above */
	EXPECT(w, &k[1], tb - 1, XF_DROP_DST);
	/* 201 / 2.01 s: exactly T_F2, allowed */
	EXPECT(w, &k[1], tb, XF_PASS);
	CHECK_PAIR(e, &k[1], T0, tb, 5, 5, false);
	CHECK_DST(e, k[0].dst, T0, tb, 201, 50);
	/* 202 / 2.01 s: above; 202 / 2.02 s: exactly */
	EXPECT(w, &k[2], tb, XF_DROP_DST);
	EXPECT(w, &k[2], T0 + MS(2020), XF_PASS);
	CHECK_DST(e, k[0].dst, T0, T0 + MS(2020), 202, 50);

	/*
	 * A new device towards the saturated destination: its pair is created
	 * (step 1) but the packet is dropped and not counted (step 5).
	 */
	EXPECT(w, &k[50], T0 + MS(2020), XF_DROP_DST);
	CHECK_PAIR(e, &k[50], T0 + MS(2020), T0 + MS(2020), 0, 0, false);
	CHECK_DST(e, k[0].dst, T0, T0 + MS(2020), 202, 51);
	CHECK_ESTATS(e, 51, 1, 51);

	s = wstats(w);
	assert_int_equal(s.verdict[XF_PASS], 202);
	assert_int_equal(s.verdict[XF_DROP_DST], 4);
	assert_int_equal(s.verdict[XF_DROP_PAIR], 0);
	assert_int_equal(s.warnings, 0);
	assert_int_equal(s.pairs_created, 51);
}

/* ts1* is the minimum over live pairs: a restart moves it to the next oldest. */
static void test_dst_ts1_min_moves(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key a = key4(1, 203, 0, 113, 50);
	struct xf_key b = key4(2, 203, 0, 113, 50);
	struct xf_key c = key4(3, 203, 0, 113, 50);

	p.tt1_ms = 5000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &a, T0, XF_PASS);
	EXPECT(w, &a, T0, XF_PASS);
	EXPECT(w, &b, T0 + SEC(1), XF_PASS);
	EXPECT(w, &b, T0 + SEC(1), XF_PASS);
	EXPECT(w, &c, T0 + SEC(2), XF_PASS);
	EXPECT(w, &c, T0 + SEC(2), XF_PASS);
	CHECK_DST(e, a.dst, T0, T0 + SEC(2), 6, 3);
	EXPECT(w, &b, T0 + SEC(4), XF_PASS);
	EXPECT(w, &c, T0 + SEC(5), XF_PASS);
	CHECK_DST(e, a.dst, T0, T0 + SEC(5), 8, 3);

	/* a restarts: ts1* moves from a (T0) to b (T0 + 1 s), c* loses a's 2 */
	EXPECT(w, &a, T0 + SEC(5) + 1, XF_PASS);
	CHECK_PAIR(e, &a, T0 + SEC(5) + 1, T0 + SEC(5) + 1, 1, 3, true);
	CHECK_DST(e, a.dst, T0 + SEC(1), T0 + SEC(5) + 1, 7, 3);

	/* b restarts: ts1* is c's (T0 + 2 s), although c has been idle 4 s */
	EXPECT(w, &b, T0 + SEC(9) + 1, XF_PASS);
	CHECK_PAIR(e, &b, T0 + SEC(9) + 1, T0 + SEC(9) + 1, 1, 4, true);
	CHECK_DST(e, a.dst, T0 + SEC(2), T0 + SEC(9) + 1, 5, 3);
	assert_int_equal(wstats(w).window_resets, 2);
}

/* --- keys ------------------------------------------------------------------- */

static void test_keys_ipv4_ipv6(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	static const uint8_t mapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1
	};
	static const uint8_t compat[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1 };
	static const uint8_t front[16] = { 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct xf_key k4, k6m, k6c, k6f, other;

	/* the helpers fill every byte, whatever was there */
	memset(&k4, 0xaa, sizeof(k4));
	memset(&k6m, 0x55, sizeof(k6m));
	xf_key_ipv4(&k4, 5, htonl(0xc0000201));
	xf_key_ipv6(&k6m, 5, mapped);
	xf_key_ipv6(&k6c, 5, compat);
	xf_key_ipv6(&k6f, 5, front);
	assert_memory_equal(k4.dst, mapped, 16);
	assert_int_equal(k4.dev, 5);
	assert_int_equal(k6c.dev, 5);
	/* by design: 192.0.2.1 and ::ffff:192.0.2.1 are the same destination */
	assert_memory_equal(&k4, &k6m, sizeof(k4));
	assert_memory_not_equal(&k4, &k6c, sizeof(k4));
	assert_memory_not_equal(&k4, &k6f, sizeof(k4));
	xf_key_ipv4(&other, 6, htonl(0xc0000201));
	assert_int_equal(other.dev, 6);

	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];
	EXPECT(w, &k4, T0, XF_PASS);
	EXPECT(w, &k6m, T0, XF_PASS);
	EXPECT(w, &k6c, T0, XF_PASS);
	EXPECT(w, &k6f, T0, XF_PASS);
	EXPECT(w, &k6f, T0, XF_PASS);
	EXPECT(w, &k6f, T0, XF_PASS);
	EXPECT(w, &other, T0, XF_PASS);
	assert_int_equal(wstats(w).pairs_created, 4);
	CHECK_PAIR(e, &k4, T0, T0, 2, 2, false);
	CHECK_PAIR(e, &k6c, T0, T0, 1, 1, false);
	CHECK_PAIR(e, &k6f, T0, T0, 3, 3, false);
	CHECK_DST(e, mapped, T0, T0, 3, 2);
	CHECK_DST(e, compat, T0, T0, 1, 1);
	CHECK_DST(e, front, T0, T0, 3, 1);
	CHECK_ESTATS(e, 4, 3, 2);
}

/* --- xf_filter_burst == n x xf_filter --------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define POOL_DEV 10
#define POOL_DST 12

static void pool_key(struct xf_key *k, unsigned dev, unsigned dst)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (dst % 2 == 0) {
		xf_key_ipv4(k, dev + 1, htonl(0x0a000000u | dst));
	} else {
		a[15] = (uint8_t)dst;
		xf_key_ipv6(k, dev + 1, a);
	}
}

static void compare_engines(struct xf_engine *a, struct xf_engine *b)
{
	struct xf_pair_view va, vb;
	struct xf_dst_view da, db;
	struct xf_engine_stats sa = estats(a), sb = estats(b);
	struct xf_key k;
	unsigned i, j;
	bool fa, fb;

	assert_int_equal(sa.pairs, sb.pairs);
	assert_int_equal(sa.dsts, sb.dsts);
	assert_int_equal(sa.devs, sb.devs);
	for (i = 0; i < POOL_DEV; i++) {
		for (j = 0; j < POOL_DST; j++) {
			pool_key(&k, i, j);
			fa = find_pair(a, &k, &va);
			fb = find_pair(b, &k, &vb);
			assert_int_equal(fa, fb);
			if (!fa)
				continue;
			assert_int_equal(va.ts1, vb.ts1);
			assert_int_equal(va.ts2, vb.ts2);
			assert_int_equal(va.count, vb.count);
			assert_int_equal(va.dc, vb.dc);
			assert_int_equal(va.mark, vb.mark);
		}
	}
	for (j = 0; j < POOL_DST; j++) {
		pool_key(&k, 0, j);
		fa = find_dst(a, k.dst, &da);
		fb = find_dst(b, k.dst, &db);
		assert_int_equal(fa, fb);
		if (!fa)
			continue;
		assert_int_equal(da.ts1, db.ts1);
		assert_int_equal(da.ts2, db.ts2);
		assert_int_equal(da.count, db.count);
		assert_int_equal(da.pairs, db.pairs);
	}
}

static void test_burst_equals_single(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_key keys[64];
	uint8_t vb[64];
	unsigned vs[64];
	uint64_t rs = 42, t = T0, seen[XF_NVERDICTS] = { 0 }, warned = 0;
	struct xf_worker_stats sa, sb;
	struct hv ha, hb;
	unsigned b, i, n, dev, dst, r;

	p.tt1_ms = 300;
	p.tt2_ms = 20;
	p.tt3_ms = 30;
	p.tf1_pps = 200;
	p.tf2_pps = 500;
	p.warn_interval_ms = 50;
	/* different seeds: verdicts must not depend on the hash key */
	fx_engine(f, 0, &p, 40, 6, 0x1234);
	fx_engine(f, 1, &p, 40, 6, 0x9876abcdULL);

	for (b = 0; b < 4096; b++) {
		n = 1 + (b * 37) % 64; /* every size 1..64, in a shuffled order */
		r = (unsigned)(splitmix(&rs) % 100);
		if (r == 0)
			t += MS(301) + splitmix(&rs) % MS(100); /* everything idles */
		else if (r < 10)
			t += splitmix(&rs) % MS(50);
		else if (r < 80)
			t += splitmix(&rs) % MS(2);
		/* else: same instant as the previous burst */
		for (i = 0; i < n; i++) {
			if (i > 0 && splitmix(&rs) % 4 == 0) {
				keys[i] = keys[i - 1 - splitmix(&rs) % i];
				continue;
			}
			r = (unsigned)splitmix(&rs);
			dev = (r & 1) ? (r >> 1) % 3 : (r >> 1) % POOL_DEV;
			dst = (r & 0x100) ? (r >> 9) % 2 : (r >> 9) % POOL_DST;
			pool_key(&keys[i], dev, dst);
		}

		rcu_read_lock();
		i = xf_filter_burst(f->w[0], keys, vb, n, t);
		rcu_read_unlock();
		assert_int_equal(i, n);
		for (i = 0; i < n; i++)
			vs[i] = filt(f->w[1], &keys[i], t);
		for (i = 0; i < n; i++) {
			if (vb[i] != vs[i])
				print_error("burst %u (n=%u) packet %u: burst 0x%x, single 0x%x\n",
					    b, n, i, vb[i], vs[i]);
			assert_int_equal(vb[i], vs[i]);
			seen[xf_verdict_of(vb[i])]++;
			warned += !!(vb[i] & XF_WARN);
		}

		if (b % 97 == 96) {
			assert_int_equal(harvest(f->e[0], &ha), harvest(f->e[1], &hb));
			assert_int_equal(ha.sum_dc, hb.sum_dc);
			assert_int_equal(xf_engine_reclaim(f->e[0], t),
					 xf_engine_reclaim(f->e[1], t));
			compare_engines(f->e[0], f->e[1]);
		}
	}
	compare_engines(f->e[0], f->e[1]);
	sa = wstats(f->w[0]);
	sb = wstats(f->w[1]);
	assert_memory_equal(&sa, &sb, sizeof(sa));
	for (i = 0; i < XF_NVERDICTS; i++)
		assert_int_equal(sa.verdict[i], seen[i]);
	assert_int_equal(sa.warnings, warned);

	/* the trace reached every verdict */
	print_message("burst trace: pass=%" PRIu64 " pair=%" PRIu64 " dst=%" PRIu64
		      " devcap=%" PRIu64 " full=%" PRIu64 " warn=%" PRIu64 " resets=%" PRIu64
		      " created=%" PRIu64 "\n",
		      seen[XF_PASS], seen[XF_DROP_PAIR], seen[XF_DROP_DST], seen[XF_DROP_DEVCAP],
		      seen[XF_DROP_FULL], warned, sa.window_resets, sa.pairs_created);
	for (i = 0; i < XF_NVERDICTS; i++)
		assert_true(seen[i] > 0);
	assert_true(warned > 0);
	assert_true(sa.window_resets > 0);
}

/* State changes inside one burst are seen by the later packets of that burst. */
static void test_burst_sees_own_changes(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key keys[130], a = key4(1, 10, 15, 0, 1), b = key4(1, 10, 15, 0, 2);
	uint8_t v[130];
	unsigned i, n;

	p.tf1_pps = 10;
	p.tt2_ms = 1000;
	p.tt1_ms = 60000;
	e = fx_engine(f, 0, &p, 1000, 3, 1);
	w = f->w[0];

	/* two new keys, each repeated: created once, then found */
	keys[0] = a;
	keys[1] = a;
	keys[2] = b;
	keys[3] = a;
	keys[4] = b;
	rcu_read_lock();
	n = xf_filter_burst(w, keys, v, 5, T0);
	rcu_read_unlock();
	assert_int_equal(n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(v[i], XF_PASS);
	assert_int_equal(wstats(w).pairs_created, 2);
	CHECK_PAIR(e, &a, T0, T0, 3, 3, false);
	CHECK_PAIR(e, &b, T0, T0, 2, 2, false);

	/* a: 3 + 17 = 20 admitted, then over T_F1 within the burst at T0 + 2 s */
	for (i = 0; i < 20; i++)
		keys[i] = a;
	rcu_read_lock();
	xf_filter_burst(w, keys, v, 16, T0 + MS(500));
	n = xf_filter_burst(w, keys, v, 4, T0 + SEC(2));
	rcu_read_unlock();
	assert_int_equal(n, 4);
	assert_int_equal(v[0], XF_PASS); /* 20 / 2 s */
	assert_int_equal(v[1], XF_DROP_PAIR | XF_WARN);
	assert_int_equal(v[2], XF_DROP_PAIR);
	assert_int_equal(v[3], XF_DROP_PAIR);
	CHECK_PAIR(e, &a, T0, T0 + SEC(2), 20, 20, false);

	/* more than 64 packets in one call, device cap reached inside it */
	for (i = 0; i < 130; i++)
		keys[i] = key4(2, 10, 16, (uint8_t)(i / 64), (uint8_t)i);
	rcu_read_lock();
	n = xf_filter_burst(w, keys, v, 130, T0 + SEC(3));
	rcu_read_unlock();
	assert_int_equal(n, 130);
	for (i = 0; i < 130; i++)
		assert_int_equal(v[i], i < 3 ? XF_PASS : XF_DROP_DEVCAP);
	CHECK_ESTATS(e, 5, 5, 2);
}

/* --- run-time parameters ------------------------------------------------------ */

static void test_set_params_runtime(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults(), q, got;
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key k = key4(8, 192, 0, 2, 8);
	const uint64_t t = T0 + MS(1500);
	unsigned i;

	p.tt1_ms = 60000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];
	xf_engine_get_params(e, &got);
	assert_memory_equal(&got, &p, sizeof(p));

	for (i = 0; i < 10; i++)
		EXPECT(w, &k, T0 + MS(100 * i), XF_PASS);
	EXPECT(w, &k, t, XF_PASS); /* 11 / 1.5 s < 1000 pps */

	q = p;
	q.tf1_pps = 1;
	assert_int_equal(xf_engine_set_params(e, &q), 0);
	xf_engine_get_params(e, &got);
	assert_memory_equal(&got, &q, sizeof(q));
	EXPECT(w, &k, t, XF_DROP_PAIR | XF_WARN); /* 12 / 1.5 s > 1 */

	/* a longer T_T2: the window is not judged any more */
	q.tt2_ms = 10000;
	assert_int_equal(xf_engine_set_params(e, &q), 0);
	EXPECT(w, &k, t, XF_PASS);

	/* an invalid set is refused and changes nothing */
	got = q;
	got.r = 0;
	assert_int_equal(xf_engine_set_params(e, &got), -EINVAL);
	xf_engine_get_params(e, &got);
	assert_memory_equal(&got, &q, sizeof(q));
	EXPECT(w, &k, t, XF_PASS);

	/* a shorter T_T1: the next packet 101 ms later restarts the window */
	q.tt1_ms = 100;
	assert_int_equal(xf_engine_set_params(e, &q), 0);
	EXPECT(w, &k, t + MS(100), XF_PASS);
	assert_int_equal(wstats(w).window_resets, 0);
	EXPECT(w, &k, t + MS(200) + 1, XF_PASS);
	assert_int_equal(wstats(w).window_resets, 1);
	CHECK_PAIR(e, &k, t + MS(200) + 1, t + MS(200) + 1, 1, 15, true);

	/* a tighter T_F2 turns the destination check on */
	q = p;
	q.tf2_pps = 1;
	q.tt3_ms = 1;
	assert_int_equal(xf_engine_set_params(e, &q), 0);
	EXPECT(w, &k, t + MS(210), XF_DROP_DST); /* 2 / 10 ms > 1 */
	assert_int_equal(xf_engine_set_params(e, &p), 0);
	EXPECT(w, &k, t + MS(210), XF_PASS);
}

/* --- xf_params_validate ------------------------------------------------------- */

struct field {
	const char *key;
	size_t off, size;
	uint64_t lo, hi;
};

#define FIELD(name, lo, hi)                                                                     \
	{                                                                                       \
#name, offsetof(struct xf_params, name), sizeof(((struct xf_params *)0)->name), \
			lo, hi                                                                  \
	}

static const struct field fields[] = {
	FIELD(tt1_ms, 1, 86400000),
	FIELD(tt2_ms, 1, 86400000),
	FIELD(tt3_ms, 1, 86400000),
	FIELD(tt4_ms, 1, 86400000),
	FIELD(tf1_pps, 1, 1000000000),
	FIELD(tf2_pps, 1, 1000000000),
	FIELD(r, 1, 1024),
	FIELD(warn_interval_ms, 0, 86400000),
};

static void set_field(struct xf_params *p, const struct field *fd, uint64_t v)
{
	char *at = (char *)p + fd->off;

	if (fd->size == sizeof(uint64_t)) {
		memcpy(at, &v, sizeof(v));
	} else {
		uint32_t v32 = (uint32_t)v;

		assert_int_equal(fd->size, sizeof(uint32_t));
		memcpy(at, &v32, sizeof(v32));
	}
}

/* One value of one field, on top of the defaults: accepted or the exact error. */
static void check_value(const struct field *fd, uint64_t v, bool ok)
{
	struct xf_params p = defaults();
	struct xf_limits lim = { .max_records = 100, .max_dsts_per_dev = 10 };
	struct xf_engine *e;
	char err[256], want[128];
	size_t wl, el;
	int rc;

	set_field(&p, fd, v);
	memset(err, 0, sizeof(err));
	rc = xf_params_validate(&p, err, sizeof(err));
	if (ok) {
		if (rc != 0)
			print_error("%s=%" PRIu64 " refused: %s\n", fd->key, v, err);
		assert_int_equal(rc, 0);
		return;
	}
	assert_int_equal(rc, -EINVAL);
	/* "KEY: bad value 'VALUE' (REASON)" */
	snprintf(want, sizeof(want), "%s: bad value '%" PRIu64 "' (", fd->key, v);
	wl = strlen(want);
	el = strlen(err);
	if (strncmp(err, want, wl) != 0)
		print_error("want prefix \"%s\", got \"%s\"\n", want, err);
	assert_true(strncmp(err, want, wl) == 0);
	assert_true(el > wl);
	assert_int_equal(err[el - 1], ')');
	/* without a buffer: same answer */
	assert_int_equal(xf_params_validate(&p, NULL, 0), -EINVAL);

	errno = 0;
	e = xf_engine_new(&p, &lim, 1);
	rc = errno;
	if (e)
		xf_engine_free(e);
	assert_null(e);
	assert_int_equal(rc, EINVAL);
}

static void test_params_default(void **state)
{
	struct xf_params p = defaults();
	char err[128] = "";

	(void)state;
	assert_int_equal(p.tt1_ms, 10000);
	assert_int_equal(p.tt2_ms, 1000);
	assert_int_equal(p.tt3_ms, 1000);
	assert_int_equal(p.tt4_ms, 60000);
	assert_int_equal(p.tf1_pps, 1000);
	assert_int_equal(p.tf2_pps, 10000);
	assert_int_equal(p.r, 2);
	assert_int_equal(p.warn_interval_ms, 1000);
	assert_int_equal(xf_params_validate(&p, err, sizeof(err)), 0);
	assert_int_equal(xf_params_validate(&p, NULL, 0), 0);
}

static void test_params_validate_bounds(void **state)
{
	size_t i;
	const struct field *fd;

	(void)state;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		fd = &fields[i];
		check_value(fd, fd->lo, true);
		check_value(fd, fd->lo + 1, true);
		check_value(fd, fd->hi - 1, true);
		check_value(fd, fd->hi, true);
		if (fd->lo > 0)
			check_value(fd, fd->lo - 1, false);
		check_value(fd, fd->hi + 1, false);
		check_value(fd, fd->size == 8 ? UINT64_MAX : UINT32_MAX, false);
	}
}

static void test_params_validate_short_buffer(void **state)
{
	struct xf_params p = defaults();
	char buf[32];

	(void)state;
	p.tf1_pps = 0;
	/* truncated to errlen, always terminated, nothing written beyond */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(xf_params_validate(&p, buf, 8), -EINVAL);
	assert_string_equal(buf, "tf1_pps");
	assert_int_equal(buf[8], 'Z');
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(xf_params_validate(&p, buf, 1), -EINVAL);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'Z');
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(xf_params_validate(&p, buf, 0), -EINVAL);
	assert_int_equal(buf[0], 'Z');
	memset(buf, 0, sizeof(buf));
	assert_int_equal(xf_params_validate(&p, buf, sizeof(buf)), -EINVAL);
	assert_true(strncmp(buf, "tf1_pps: bad value '0' (", 24) == 0);
}

static void expect_new_einval(const struct xf_params *p, const struct xf_limits *lim)
{
	struct xf_engine *e;
	int err;

	errno = 0;
	e = xf_engine_new(p, lim, 1);
	err = errno;
	if (e)
		xf_engine_free(e);
	assert_null(e);
	assert_int_equal(err, EINVAL);
}

static void test_engine_new_invalid(void **state)
{
	struct xf_params p = defaults();
	struct xf_limits lim = { .max_records = 100, .max_dsts_per_dev = 10 };

	(void)state;
	p.tf2_pps = 0;
	expect_new_einval(&p, &lim);

	/* a table that can hold nothing is a configuration error */
	p = defaults();
	lim.max_records = 0;
	expect_new_einval(&p, &lim);
	lim.max_records = 100;
	lim.max_dsts_per_dev = 0;
	expect_new_einval(&p, &lim);
}

/* --- harvest ------------------------------------------------------------------ */

static void test_harvest(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key a = key4(1, 10, 9, 0, 1), b = key4(1, 10, 9, 0, 2), c = key4(2, 10, 9, 0, 1);
	const struct xf_pair_view *v;
	uint64_t total;
	struct hv h;
	unsigned i;

	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];
	assert_int_equal(harvest(e, &h), 0);

	for (i = 0; i < 5; i++)
		EXPECT(w, &a, T0 + MS(i), XF_PASS);
	for (i = 0; i < 3; i++)
		EXPECT(w, &b, T0 + MS(10 + i), XF_PASS);
	EXPECT(w, &c, T0 + MS(20), XF_PASS);

	assert_int_equal(harvest(e, &h), 3);
	assert_int_equal(h.sum_dc, 9);
	assert_int_equal(h.sum_dc, wstats(w).verdict[XF_PASS]);
	v = hv_find(&h, &a);
	assert_non_null(v);
	assert_int_equal(v->dc, 5);
	assert_int_equal(v->count, 5);
	assert_int_equal(v->ts1, T0);
	assert_int_equal(v->ts2, T0 + MS(4));
	assert_false(v->mark);
	v = hv_find(&h, &b);
	assert_non_null(v);
	assert_int_equal(v->dc, 3);
	v = hv_find(&h, &c);
	assert_non_null(v);
	assert_int_equal(v->dc, 1);
	total = h.sum_dc;

	/* harvest clears dc only */
	CHECK_PAIR(e, &a, T0, T0 + MS(4), 5, 0, false);
	CHECK_DST(e, a.dst, T0, T0 + MS(20), 6, 2);
	assert_int_equal(harvest(e, &h), 0);
	assert_int_equal(h.sum_dc, 0);

	EXPECT(w, &a, T0 + MS(30), XF_PASS);
	EXPECT(w, &a, T0 + MS(31), XF_PASS);
	assert_int_equal(harvest(e, &h), 1);
	assert_int_equal(h.sum_dc, 2);
	assert_int_equal(h.v[0].count, 7);
	total += h.sum_dc;

	/* fn may be NULL: the deltas are still taken */
	EXPECT(w, &b, T0 + MS(40), XF_PASS);
	assert_int_equal(xf_engine_harvest(e, NULL, NULL), 1);
	total += 1;
	CHECK_PAIR(e, &b, T0 + MS(10), T0 + MS(40), 4, 0, false);
	assert_int_equal(harvest(e, &h), 0);
	assert_int_equal(total, wstats(w).verdict[XF_PASS]);
}

/* A restarted window is handed out even when nothing was admitted since. */
static void test_harvest_mark_without_delta(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key a = key4(1, 10, 10, 0, 1), b = key4(2, 10, 10, 0, 1);
	const uint64_t t = T0 + MS(3000) + 1;
	struct hv h;
	unsigned i;

	p.tf2_pps = 1;
	p.tt3_ms = 1000;
	p.tt1_ms = 3000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &a, T0, XF_PASS);
	for (i = 0; i < 5; i++)
		EXPECT(w, &b, T0 + MS(500), XF_PASS);
	assert_int_equal(harvest(e, &h), 2);
	assert_int_equal(h.sum_dc, 6);

	/* a restarts (idle T_T1 + 1 ns), then (0 + 5 + 1) / 2.5 s > T_F2 = 1 */
	EXPECT(w, &a, t, XF_DROP_DST);
	CHECK_PAIR(e, &a, t, t, 0, 0, true);
	CHECK_DST(e, a.dst, T0 + MS(500), t, 5, 2);
	assert_int_equal(wstats(w).window_resets, 1);

	assert_int_equal(harvest(e, &h), 1);
	assert_memory_equal(&h.v[0].key, &a, sizeof(a));
	assert_int_equal(h.v[0].dc, 0);
	assert_true(h.v[0].mark);
	CHECK_PAIR(e, &a, t, t, 0, 0, false);
	assert_int_equal(harvest(e, &h), 0);
}

/* --- reclaim ------------------------------------------------------------------ */

static void test_reclaim(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_key a = key4(1, 10, 11, 0, 1); /* device 1, D1 */
	struct xf_key b = key4(1, 10, 11, 0, 2); /* device 1, D2 */
	struct xf_key c = key4(2, 10, 11, 0, 1); /* device 2, D1 */
	struct xf_pair_view pv;
	struct xf_dst_view dv;
	struct hv h;

	p.tt1_ms = 2000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];

	EXPECT(w, &a, T0, XF_PASS);
	EXPECT(w, &b, T0 + SEC(1), XF_PASS);
	EXPECT(w, &c, T0 + MS(1500), XF_PASS);
	CHECK_ESTATS(e, 3, 2, 2);

	/* idle for long, but not harvested: kept */
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(100)), 0);
	CHECK_ESTATS(e, 3, 2, 2);
	assert_int_equal(harvest(e, &h), 3);

	/* a idle exactly T_T1: kept */
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(2)), 0);
	CHECK_ESTATS(e, 3, 2, 2);
	/* a idle T_T1 + 1 ns: freed; D1 keeps c, device 1 keeps b */
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(2) + 1), 1);
	assert_false(find_pair(e, &a, &pv));
	CHECK_PAIR(e, &b, T0 + SEC(1), T0 + SEC(1), 1, 0, false);
	CHECK_DST(e, a.dst, T0 + MS(1500), T0 + MS(1500), 1, 1);
	CHECK_ESTATS(e, 2, 2, 2);
	/* b: D2 and device 1 go with it */
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(3) + 1), 1);
	assert_false(find_pair(e, &b, &pv));
	assert_false(find_dst(e, b.dst, &dv));
	CHECK_ESTATS(e, 1, 1, 1);
	/* c: the last pair, D1 goes */
	assert_int_equal(xf_engine_reclaim(e, T0 + MS(3500)), 0);
	assert_int_equal(xf_engine_reclaim(e, T0 + MS(3500) + 1), 1);
	assert_false(find_pair(e, &c, &pv));
	assert_false(find_dst(e, a.dst, &dv));
	CHECK_ESTATS(e, 0, 0, 0);
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(100)), 0);

	/* the key comes back as a fresh pair */
	EXPECT(w, &a, T0 + SEC(4), XF_PASS);
	CHECK_PAIR(e, &a, T0 + SEC(4), T0 + SEC(4), 1, 1, false);
	CHECK_DST(e, a.dst, T0 + SEC(4), T0 + SEC(4), 1, 1);
	assert_int_equal(wstats(w).pairs_created, 4);
	CHECK_ESTATS(e, 1, 1, 1);

	/* the control thread's clock behind a worker's: not idle */
	assert_int_equal(harvest(e, &h), 1);
	assert_int_equal(xf_engine_reclaim(e, T0 + SEC(3)), 0);
	assert_true(find_pair(e, &a, &pv));
}

/* Workers read their clocks independently: a lagging one must not look idle. */
static void test_workers_out_of_order(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w0, *w1;
	struct xf_key a = key4(1, 10, 12, 0, 1), b = key4(2, 10, 12, 0, 2);
	unsigned i;

	p.tt1_ms = 10000;
	p.tf1_pps = 1;
	p.tt2_ms = 1000;
	p.warn_interval_ms = 1000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w0 = f->w[0];
	w1 = f->w[2] = xf_worker_new(e);
	assert_non_null(w1);

	for (i = 0; i < 10; i++)
		EXPECT(w0, &b, T0 + MS(10 * i), XF_PASS);
	EXPECT(w0, &b, T0 + SEC(3), XF_DROP_PAIR | XF_WARN);
	/*
	 * The lagging worker: t is before ts2 (not idle, no restart) and before
	 * the last warning (not "at least warn_interval_ms old").
	 */
	EXPECT(w1, &b, T0 + MS(2500), XF_DROP_PAIR);
	CHECK_PAIR(e, &b, T0, T0 + SEC(3), 10, 10, false);
	EXPECT(w0, &b, T0 + MS(3500), XF_DROP_PAIR);
	EXPECT(w0, &b, T0 + SEC(4), XF_DROP_PAIR | XF_WARN);

	EXPECT(w0, &a, T0 + SEC(5), XF_PASS);
	EXPECT(w1, &a, T0 + MS(4500), XF_PASS);
	CHECK_PAIR(e, &a, T0 + SEC(5), T0 + SEC(5), 2, 2, false);
	assert_int_equal(wstats(w0).window_resets, 0);
	assert_int_equal(wstats(w1).window_resets, 0);
}

/*
 * ts2* is the packet's own pair's ts2 (docs/algorithm.md, gap 0): a worker
 * whose clock lags judges the destination over a window shorter by its lag.
 */
static void test_dst_ts2_lagging_worker(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w0, *w1;
	struct xf_key a = key4(1, 10, 14, 0, 1), b = key4(2, 10, 14, 0, 1);

	p.tf2_pps = 1;
	p.tt3_ms = 1000;
	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w0 = f->w[0];
	w1 = f->w[2] = xf_worker_new(e);
	assert_non_null(w1);

	EXPECT(w0, &a, T0, XF_PASS);
	EXPECT(w1, &b, T0, XF_PASS);
	/* (2 + 1) / 4 s <= 1 */
	EXPECT(w0, &a, T0 + SEC(4), XF_PASS);
	CHECK_DST(e, a.dst, T0, T0 + SEC(4), 3, 2);
	/*
	 * w1 is 0.5 s behind: it judges over its own 3.5 s window, where
	 * (3 + 1) / 3.5 s > T_F2, although over 4 s the rate would be allowed.
	 */
	EXPECT(w1, &b, T0 + MS(3500), XF_DROP_DST);
	CHECK_PAIR(e, &b, T0, T0 + MS(3500), 1, 1, false);
	CHECK_DST(e, a.dst, T0, T0 + SEC(4), 3, 2);
	/* Once its clock has caught up, the same packet fits: (3 + 1) / 4 s. */
	EXPECT(w1, &b, T0 + SEC(4), XF_PASS);
}

/* --- small API pieces ---------------------------------------------------------- */

static void test_stats_counts(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_engine_stats s;
	struct xf_key k;

	e = fx_engine(f, 0, &p, 1000, 100, 1);
	w = f->w[0];
	s = estats(e);
	assert_int_equal(s.pairs, 0);
	assert_non_null(s.allocator);
	assert_true(!strcmp(s.allocator, "jemalloc") || !strcmp(s.allocator, "libc"));
	assert_true(xf_bytes_per_record() > 0);

	/* dev1 -> D1, D2; dev2 -> D1; dev3 -> D3, D4, D1 */
	k = key4(1, 10, 13, 0, 1);
	EXPECT(w, &k, T0, XF_PASS);
	k = key4(1, 10, 13, 0, 2);
	EXPECT(w, &k, T0, XF_PASS);
	k = key4(2, 10, 13, 0, 1);
	EXPECT(w, &k, T0, XF_PASS);
	k = key4(3, 10, 13, 0, 3);
	EXPECT(w, &k, T0, XF_PASS);
	k = key4(3, 10, 13, 0, 4);
	EXPECT(w, &k, T0, XF_PASS);
	k = key4(3, 10, 13, 0, 1);
	EXPECT(w, &k, T0, XF_PASS);
	EXPECT(w, &k, T0, XF_PASS);
	s = estats(e);
	assert_int_equal(s.pairs, 6);
	assert_int_equal(s.dsts, 4);
	assert_int_equal(s.devs, 3);
	assert_true(s.bytes_records > 0);
	assert_true(s.bytes_records + s.bytes_tables <= 1000 * xf_bytes_per_record());
	k = key4(1, 10, 13, 0, 1);
	CHECK_DST(e, k.dst, T0, T0, 4, 3);
	assert_int_equal(wstats(w).verdict[XF_PASS], 7);
}

static void test_verdict_names(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < XF_NVERDICTS; i++) {
		assert_non_null(xf_verdict_name((enum xf_verdict)i));
		assert_true(strlen(xf_verdict_name((enum xf_verdict)i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(xf_verdict_name((enum xf_verdict)i),
						xf_verdict_name((enum xf_verdict)j));
	}
	assert_int_equal(xf_verdict_of(XF_DROP_PAIR | XF_WARN), XF_DROP_PAIR);
	assert_int_equal(xf_verdict_of(XF_PASS), XF_PASS);
	/* one clock reading never precedes an earlier one */
	{
		uint64_t a = xf_now_ns(), b = xf_now_ns();

		assert_true(b >= a);
		assert_true(a > 0);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_pair),
		T(test_tt2_boundary),
		T(test_tf1_boundary),
		T(test_rate_no_overflow),
		T(test_drop_not_counted_ts2_advances),
		T(test_warn_interval),
		T(test_warn_interval_zero),
		T(test_warn_first_drop_early_clock),
		T(test_drop_order_and_dst_no_warn),
		T(test_idle_reset),
		T(test_idle_reset_forgives),
		T(test_dst_many_devices),
		T(test_dst_ts1_min_moves),
		T(test_keys_ipv4_ipv6),
		T(test_burst_equals_single),
		T(test_burst_sees_own_changes),
		T(test_set_params_runtime),
		cmocka_unit_test(test_params_default),
		cmocka_unit_test(test_params_validate_bounds),
		cmocka_unit_test(test_params_validate_short_buffer),
		cmocka_unit_test(test_engine_new_invalid),
		T(test_harvest),
		T(test_harvest_mark_without_delta),
		T(test_reclaim),
		T(test_workers_out_of_order),
		T(test_dst_ts2_lagging_worker),
		T(test_stats_counts),
		cmocka_unit_test(test_verdict_names),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
