/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's side of Algorithm 1 (docs/sync.md, "Applying the result"):
 * collecting pairs for a round, adopting the master's pair windows, the
 * global destination window the workers judge by, and re-sorting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/filter.h"

#define MS(x) ((uint64_t)(x)*XF_NSEC_PER_MSEC)
#define SEC(x) ((uint64_t)(x)*XF_NSEC_PER_SEC)
#define T0 SEC(1000)

struct fx {
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_pair_view got[16];
	size_t n;
};

static int setup(void **state)
{
	struct xf_limits lim = { .max_records = 1024, .max_dsts_per_dev = 64 };
	struct xf_params p;
	struct fx *f = calloc(1, sizeof(*f));

	xf_params_default(&p);
	p.policy = XF_POLICY_FCFS; /* these cases test Algorithm 2 */
	p.tt1_ms = 10000;
	p.tt2_ms = 100;
	p.tt3_ms = 100;
	p.tf1_pps = 1000;
	p.tf2_pps = 100;
	f->e = xf_engine_new(&p, &lim, 42);
	f->w = xf_worker_new(f->e);
	*state = f;
	return f->e && f->w ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xf_worker_free(f->w);
	xf_engine_free(f->e);
	free(f);
	return 0;
}

static struct xf_key key(uint32_t dev, const char *dst)
{
	struct xf_key k;

	xf_key_ipv4(&k, dev, inet_addr(dst));
	return k;
}

static unsigned filt(struct fx *f, const struct xf_key *k, uint64_t t)
{
	unsigned v;

	rcu_read_lock();
	v = xf_filter(f->w, k, t);
	rcu_read_unlock();
	return xf_verdict_of(v);
}

static void grab(const struct xf_pair_view *v, void *arg)
{
	struct fx *f = arg;

	if (f->n < 16)
		f->got[f->n] = *v;
	f->n++;
}

static size_t collect(struct fx *f, unsigned flags)
{
	f->n = 0;
	return xf_engine_collect(f->e, flags, grab, f);
}

static struct xf_pair_view pair(struct fx *f, const struct xf_key *k)
{
	struct xf_pair_view v;

	rcu_read_lock();
	assert_true(xf_engine_pair(f->e, k, &v));
	rcu_read_unlock();
	return v;
}

static struct xf_dst_view dst(struct fx *f, const struct xf_key *k)
{
	struct xf_dst_view v;

	rcu_read_lock();
	assert_true(xf_engine_dst(f->e, k->dst, &v));
	rcu_read_unlock();
	return v;
}

/* A new pair travels once as fresh; a dropped-only pair travels when its ts2 moves. */
static void test_collect_touched(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.1"), b = key(2, "198.19.0.1");

	assert_int_equal(filt(f, &a, T0), XF_PASS);
	assert_int_equal(filt(f, &b, T0), XF_PASS);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 2);
	assert_true(f->got[0].fresh && f->got[1].fresh);
	assert_int_equal(f->got[0].dc + f->got[1].dc, 2);
	assert_false(f->got[0].mark);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 0);

	/* Seen only in XDP: no delta, but the master must see it alive. */
	assert_true(xf_engine_touch(f->e, &a, T0 + MS(500)));
	assert_int_equal(xf_engine_harvest(f->e, NULL, NULL), 0);
	assert_true(xf_engine_touch(f->e, &a, T0 + MS(600)));
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	assert_memory_equal(&f->got[0].key, &a, sizeof(a));
	assert_int_equal(f->got[0].dc, 0);
	assert_false(f->got[0].fresh);
	assert_int_equal(f->got[0].ts2, T0 + MS(600));
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 0);

	/* Re-seeding: everything, nothing cleared twice. */
	assert_int_equal(collect(f, XF_COLLECT_ALL), 2);
	assert_int_equal(f->got[0].dc + f->got[1].dc, 0);
}

/* The master's count replaces the harvested one; packets since stay counted. */
static void test_pair_apply_counts(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.2");
	struct xf_pair_view at, now;

	for (int i = 0; i < 5; i++)
		assert_int_equal(filt(f, &a, T0 + MS(i)), XF_PASS);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	at = f->got[0];
	assert_int_equal(at.count, 5);
	for (int i = 5; i < 8; i++)
		assert_int_equal(filt(f, &a, T0 + MS(i)), XF_PASS);

	/* Another proxy sent 95 packets since T0 - 2 s, last at T0 + 20 ms. */
	assert_true(xf_engine_pair_apply(f->e, &at, 100, T0 - SEC(2), T0 + MS(20)));
	assert_int_equal(xf_engine_apply_end(f->e), 1);
	now = pair(f, &a);
	assert_int_equal(now.count, 103);
	assert_int_equal(now.ts1, T0 - SEC(2));
	assert_int_equal(now.ts2, T0 + MS(20));
	assert_int_equal(dst(f, &a).count, 103);
	assert_int_equal(dst(f, &a).ts1, T0 - SEC(2));
	/* The local delta is untouched: 3 packets still to merge. */
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	assert_int_equal(f->got[0].dc, 3);

	/* A decayed (smaller) master count lowers c', never below what came since. */
	at = f->got[0];
	assert_true(xf_engine_pair_apply(f->e, &at, 10, T0, T0 + MS(7)));
	assert_int_equal(pair(f, &a).count, 10);
	assert_int_equal(pair(f, &a).ts2, T0 + MS(20));
	assert_int_equal(dst(f, &a).count, 10);
}

/* A window that restarted locally since the collection wins over the master. */
static void test_pair_apply_restart_wins(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.3");
	struct xf_pair_view at;

	assert_int_equal(filt(f, &a, T0), XF_PASS);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	at = f->got[0];
	assert_int_equal(filt(f, &a, T0 + SEC(11)), XF_PASS); /* idle > T_T1: restart */
	assert_false(xf_engine_pair_apply(f->e, &at, 500, T0 - SEC(1), T0));
	assert_int_equal(pair(f, &a).count, 1);
	assert_int_equal(pair(f, &a).ts1, T0 + SEC(11));

	/* Gone: false as well. */
	struct xf_key gone = key(9, "198.19.9.9");

	at.key = gone;
	assert_false(xf_engine_pair_apply(f->e, &at, 1, T0, T0));
	assert_false(xf_engine_dst_global(f->e, gone.dst, 1, T0, 0, T0));
}

/* ts1* stays the minimum when the master moves a pair's start. */
static void test_apply_resorts(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.4"), b = key(2, "198.19.0.4"), c = key(3, "198.19.0.4");

	assert_int_equal(filt(f, &a, T0), XF_PASS);
	assert_int_equal(filt(f, &b, T0 + MS(10)), XF_PASS);
	assert_int_equal(filt(f, &c, T0 + MS(20)), XF_PASS);
	assert_int_equal(dst(f, &a).ts1, T0);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 3);
	for (size_t i = 0; i < 3; i++) {
		const struct xf_pair_view *at = &f->got[i];

		/* a decays forward past b and c; c is extended back */
		if (at->key.dev == 1)
			assert_true(xf_engine_pair_apply(f->e, at, 1, T0 + MS(30), T0 + MS(30)));
		if (at->key.dev == 3)
			assert_true(xf_engine_pair_apply(f->e, at, 1, T0 + MS(5), T0 + MS(20)));
	}
	assert_int_equal(xf_engine_apply_end(f->e), 1);
	assert_int_equal(dst(f, &a).ts1, T0 + MS(5));
	assert_int_equal(xf_engine_apply_end(f->e), 0);
}

/*
 * The other proxies' part of a destination (xf_engine_dst_global()) is
 * added to this proxy's own count: a destination each proxy alone sees
 * under T_F2 is judged by the sum, from the earliest start.
 */
static void test_dst_global_window(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.5"), b = key(1, "198.19.0.6"),
		      other = key(2, "198.19.0.9");
	uint64_t t = T0;
	struct xf_dst_view v;

	for (int i = 0; i < 50; i++, t += MS(20))
		assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	/* The others hold 100 since T0: 150 in all over 1 s. */
	assert_true(xf_engine_dst_global(f->e, a.dst, 100, T0, 0, t));
	v = dst(f, &a);
	assert_int_equal(v.g_ts1, T0);
	assert_int_equal(v.g_count, 150);
	/* (150 + 1) / 1 s > 100/s: dropped, and the local view alone would pass. */
	assert_int_equal(filt(f, &a, t), XF_DROP_DST);
	assert_int_equal(dst(f, &a).admitted, 50);
	/* Admitted packets here count on top of the others' figure. */
	assert_true(xf_engine_dst_global(f->e, a.dst, 0, T0, 0, t));
	for (int i = 0; i < 10; i++)
		assert_int_equal(filt(f, &a, t + MS(i)), XF_PASS);
	assert_int_equal(dst(f, &a).g_count, 60);
	/* Within T_T3 of the global start nothing is judged. */
	assert_int_equal(filt(f, &b, t), XF_PASS);
	assert_true(xf_engine_dst_global(f->e, b.dst, 1000000, t, 0, t));
	assert_int_equal(filt(f, &b, t + MS(50)), XF_PASS);
	assert_int_equal(filt(f, &b, t + MS(150)), XF_DROP_DST);
	/* Another destination is not affected. */
	assert_int_equal(filt(f, &other, t + MS(150)), XF_PASS);
}

/*
 * The other proxies' rate carries the global view forward while the store
 * is silent: the fast path keeps enforcing, for at most T_T4.
 */
static void test_dst_others_rate(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.7");
	struct xf_params p;
	uint64_t t = T0, t2;

	for (int i = 0; i < 20; i++, t += MS(100)) /* 10 packets/s here */
		assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(collect(f, XF_COLLECT_TOUCHED), 1);
	/* The others: 80 since T0, going on at 80/s. */
	assert_true(xf_engine_dst_global(f->e, a.dst, 80, T0, 80 * XF_RATE_ONE, t));
	assert_int_equal(dst(f, &a).g_rate, 80);
	t2 = t;
	/*
	 * The store falls silent.  T_F2 = 40/s.  3 s later, by the last global
	 * figure alone: (80 + 20 + 1) / 5 s = 20/s, admitted; with the others
	 * going on at 80/s for those 3 s: (80 + 20 + 1 + 240) / 5 s = 68/s:
	 * dropped; 30 s later still (78/s).  Long after (the estimate stops at
	 * T_T4 = 60 s): (80 + 20 + 1 + 4800) / 202 s = 24/s: admitted.
	 */
	xf_engine_get_params(f->e, &p);
	p.tf2_pps = 40;
	assert_int_equal(xf_engine_set_params(f->e, &p), 0);
	assert_int_equal(filt(f, &a, t2 + MS(3000)), XF_DROP_DST);
	assert_int_equal(filt(f, &a, t2 + MS(30000)), XF_DROP_DST);
	assert_int_equal(filt(f, &a, t2 + MS(200000)), XF_PASS);
}

/*
 * The destination round's two calls: this proxy's window and rate
 * (xf_engine_dst_local), and the others' part (xf_engine_dst_global) that
 * the fast path adds to its own count.
 */
static void test_dst_local_and_others(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.8");
	struct xf_dst_local l;
	struct xf_dst_view v;
	uint64_t t = T0;

	assert_false(xf_engine_dst_local(f->e, a.dst, t, &l));
	for (int i = 0; i < 20; i++, t += MS(50)) /* 20 packets/s here */
		assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_true(xf_engine_dst_local(f->e, a.dst, t, &l));
	assert_int_equal(l.count, 20);
	assert_int_equal(l.ts1, T0);
	assert_int_equal(l.admitted, 20);
	/* First call: the window's own rate, 20 packets over 1 s. */
	assert_int_equal(l.rate, 20 * XF_RATE_ONE);
	for (int i = 0; i < 20; i++, t += MS(50))
		assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_true(xf_engine_dst_local(f->e, a.dst, t, &l));
	assert_int_equal(l.rate, 20 * XF_RATE_ONE); /* 20 admitted over the second since */
	/* No other proxy: no global view. */
	assert_true(xf_engine_dst_global(f->e, a.dst, 0, 0, 0, t));
	assert_int_equal(dst(f, &a).g_ts1, 0);
	assert_int_equal(filt(f, &a, t), XF_PASS);
	/* Others hold 200 since T0 - 1 s, at 100/s: (200 + 41 + 1) / 3 s > 40/s. */
	{
		struct xf_params p;

		xf_engine_get_params(f->e, &p);
		p.tf2_pps = 40;
		assert_int_equal(xf_engine_set_params(f->e, &p), 0);
	}
	assert_true(xf_engine_dst_global(f->e, a.dst, 200, T0 - SEC(1), 100 * XF_RATE_ONE, t));
	v = dst(f, &a);
	assert_int_equal(v.g_ts1, T0 - SEC(1));
	assert_int_equal(v.g_count, 200 + 41);
	assert_int_equal(v.g_rate, 100);
	assert_int_equal(filt(f, &a, t), XF_DROP_DST);
}

/* --- the destination round's walk, notes, exact total ------------------------------ */

struct dr {
	struct xf_dst_round v[8];
	size_t n;
};

static void grab_dst(const struct xf_dst_round *v, void *arg)
{
	struct dr *d = arg;

	if (d->n < 8)
		d->v[d->n] = *v;
	d->n++;
}

static size_t dst_round(struct fx *f, unsigned flags, uint64_t now, struct dr *d)
{
	d->n = 0;
	return xf_engine_dst_round(f->e, flags, now, grab_dst, d);
}

/*
 * A destination is handed out once per change: a packet admitted, a packet
 * dropped, a pair seen in XDP; re-seeding hands out every one.  Its ref
 * names the record for the global window.
 */
static void test_dst_round_seen(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.9"), b = key(2, "198.19.0.9"), c = key(3, "198.19.1.9");
	uint64_t t = T0;
	struct dr d;

	assert_int_equal(dst_round(f, 0, t, &d), 0);
	assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(filt(f, &b, t), XF_PASS);
	assert_int_equal(filt(f, &c, t), XF_PASS);
	assert_int_equal(dst_round(f, 0, t, &d), 2);
	assert_int_equal(d.v[0].count + d.v[1].count, 3);
	assert_int_equal(d.v[0].ts1, T0);
	assert_int_equal(d.v[0].ts2, T0);
	assert_false(d.v[0].has_share); /* fcfs */
	assert_int_equal(dst_round(f, 0, t, &d), 0);

	/* Seen in XDP only: handed out, nothing counted. */
	assert_true(xf_engine_touch(f->e, &c, t + MS(10)));
	assert_int_equal(dst_round(f, 0, t + MS(10), &d), 1);
	assert_memory_equal(d.v[0].dst, c.dst, 16);
	assert_int_equal(d.v[0].count, 1);
	assert_int_equal(d.v[0].ts2, t + MS(10));

	/* Dropped only (over T_F2 = 100/s past T_T3): handed out too. */
	for (int i = 0; i < 20; i++)
		filt(f, &a, t + MS(i));
	t += MS(200);
	dst_round(f, 0, t, &d);
	assert_int_equal(filt(f, &a, t), XF_DROP_DST);
	assert_int_equal(dst_round(f, 0, t, &d), 1);
	assert_memory_equal(d.v[0].dst, a.dst, 16);
	assert_int_equal(d.v[0].ts2, t);
	assert_int_equal(dst_round(f, 0, t, &d), 0);

	/* Re-seeding: both, and the ref takes the global window. */
	assert_int_equal(dst_round(f, XF_COLLECT_ALL, t, &d), 2);
	rcu_read_lock();
	xf_engine_dst_round(f->e, XF_COLLECT_ALL, t, grab_dst, &(struct dr){ 0 });
	for (size_t i = 0; i < 2; i++)
		if (!memcmp(d.v[i].dst, c.dst, 16))
			xf_engine_dst_global_ref(f->e, d.v[i].ref, 500, T0 - SEC(1), 0, t);
	rcu_read_unlock();
	assert_int_equal(dst(f, &c).g_count, 501);
	assert_int_equal(dst(f, &c).g_ts1, T0 - SEC(1));
}

static void grab_n(const struct xf_pair_view *v, void *arg)
{
	struct fx *f = arg;

	grab(v, arg);
	(void)f;
}

static size_t heavy(struct fx *f)
{
	f->n = 0;
	return xf_engine_heavy(f->e, grab_n, f);
}

static size_t new_pairs(struct fx *f)
{
	f->n = 0;
	return xf_engine_new_pairs(f->e, grab_n, f);
}

/*
 * Heavy: T_F1 x max(window, T_T3) / 4 packets in the window (25 here, at
 * 1000/s and 100 ms).  A pair is one from its 25th packet while its rate
 * holds, not once its window outgrew it, and a candidate again after a
 * window restart only when it crosses again.  New pairs: each once.
 */
static void test_heavy_and_new(void **state)
{
	struct fx *f = *state;
	struct xf_key a = key(1, "198.19.0.10"), b = key(2, "198.19.0.10");
	uint64_t t = T0;
	struct xf_params p;

	xf_engine_get_params(f->e, &p);
	p.tf2_pps = 1000000; /* the pairs' own rates only */
	assert_int_equal(xf_engine_set_params(f->e, &p), 0);
	for (int i = 0; i < 24; i++, t += MS(1)) {
		assert_int_equal(filt(f, &a, t), XF_PASS);
		assert_int_equal(filt(f, &b, t), XF_PASS);
	}
	assert_int_equal(new_pairs(f), 2);
	assert_true(f->got[0].fresh && f->got[1].fresh);
	assert_int_equal(new_pairs(f), 0);
	assert_int_equal(heavy(f), 0);
	assert_int_equal(filt(f, &a, t), XF_PASS); /* a's 25th */
	assert_int_equal(heavy(f), 1);
	assert_memory_equal(&f->got[0].key, &a, sizeof(a));
	assert_int_equal(f->got[0].count, 25);
	assert_int_equal(heavy(f), 1); /* still */
	/* 26 packets over 1 s: no longer heavy, still a candidate. */
	t += SEC(1);
	assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(heavy(f), 0);
	/* 25 more within 25 ms: 51 over 1.05 s, under 1000/4 per second: not heavy */
	for (int i = 0; i < 25; i++, t += MS(1))
		filt(f, &a, t);
	assert_int_equal(heavy(f), 0);
	/* ... until the rate is back: 351 over 1.35 s */
	for (int i = 0; i < 300; i++, t += MS(1))
		filt(f, &a, t);
	assert_int_equal(heavy(f), 1);
	/* Idle past T_T1, then one packet: a restart, out of the candidates. */
	t += SEC(11);
	assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(heavy(f), 0);
	for (int i = 0; i < 24; i++, t += MS(1))
		filt(f, &a, t);
	assert_int_equal(heavy(f), 1);
	assert_int_equal(f->got[0].count, 25);
	assert_int_equal(new_pairs(f), 0);
}

/* A ring that overflowed, or a new threshold: the next call walks the pairs, once. */
static void test_notes_overflow(void **state)
{
	struct xf_limits lim = { .max_records = 8192, .max_dsts_per_dev = 8 };
	size_t n = 4096 + 100; /* past a worker's ring */
	struct fx *f = *state;
	struct xf_params p;
	struct xf_engine *e;
	struct xf_worker *w;
	size_t got = 0;

	xf_engine_get_params(f->e, &p);
	e = xf_engine_new(&p, &lim, 7);
	w = xf_worker_new(e);
	assert_non_null(w);
	rcu_read_lock();
	for (size_t i = 0; i < n; i++) {
		struct xf_key k;

		xf_key_ipv4(&k, (uint32_t)i, htonl(0xc6130000u + (uint32_t)(i % 100)));
		assert_int_equal(xf_verdict_of(xf_filter(w, &k, T0)), XF_PASS);
	}
	rcu_read_unlock();
	got = xf_engine_new_pairs(e, grab_n, &(struct fx){ 0 });
	assert_int_equal(got, n);
	assert_int_equal(xf_engine_new_pairs(e, grab_n, &(struct fx){ 0 }), 0);
	/* 10 packets each for 3 pairs: under 25; a threshold of 10 finds them by a walk. */
	rcu_read_lock();
	for (uint32_t i = 0; i < 3; i++)
		for (int j = 1; j < 10; j++) {
			struct xf_key k;

			xf_key_ipv4(&k, i, htonl(0xc6130000u + i));
			xf_filter(w, &k, T0 + MS(j));
		}
	rcu_read_unlock();
	assert_int_equal(xf_engine_heavy(e, grab_n, &(struct fx){ 0 }), 0);
	p.tf1_pps = 400; /* heavy_c = 400 x 0.1 / 4 = 10 */
	assert_int_equal(xf_engine_set_params(e, &p), 0);
	assert_int_equal(xf_engine_heavy(e, grab_n, &(struct fx){ 0 }), 3);
	assert_int_equal(xf_engine_heavy(e, grab_n, &(struct fx){ 0 }), 3);
	xf_worker_free(w);
	xf_engine_free(e);
}

/*
 * The exact total is every worker's PASS count, freed workers included, and
 * a pair reclaimed with its delta unharvested loses nothing of it.
 */
static void test_admitted_and_reclaim_idle(void **state)
{
	struct fx *f = *state;
	struct xf_worker *w2 = xf_worker_new(f->e);
	struct xf_key a = key(1, "198.19.0.11"), b = key(2, "198.19.0.11");
	uint64_t t = T0, pass = 0;

	assert_non_null(w2);
	for (int i = 0; i < 300; i++, t += MS(1)) {
		pass += filt(f, &a, t) == XF_PASS;
		rcu_read_lock();
		pass += xf_verdict_of(xf_filter(w2, &b, t)) == XF_PASS;
		rcu_read_unlock();
	}
	assert_true(pass < 600); /* some over T_F2: dropped, not counted */
	assert_true(pass > 0);
	assert_int_equal(xf_engine_admitted(f->e), pass);
	xf_worker_free(w2);
	assert_int_equal(xf_engine_admitted(f->e), pass);
	/* Nothing harvested: reclaim keeps them, reclaim_idle takes them. */
	t += SEC(11);
	assert_int_equal(xf_engine_reclaim(f->e, t), 0);
	assert_int_equal(xf_engine_reclaim_idle(f->e, t), 2);
	assert_int_equal(dst_round(f, XF_COLLECT_ALL, t, &(struct dr){ 0 }), 0); /* all gone */
	assert_int_equal(xf_engine_admitted(f->e), pass);
	assert_int_equal(filt(f, &a, t), XF_PASS);
	assert_int_equal(xf_engine_admitted(f->e), pass + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_collect_touched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pair_apply_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pair_apply_restart_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_resorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_global_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_local_and_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_others_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_round_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heavy_and_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notes_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admitted_and_reclaim_idle, setup, teardown),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
