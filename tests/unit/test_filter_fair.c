/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fair destination policy (docs/algorithm.md, "Fair share") as a user
 * sees it: simulated devices send to a destination on a simulated clock, the
 * control thread's share tick runs every 100 ms, and the tests check what an
 * operator would: the share is the water-filling level, heavy senders get
 * about it, light ones lose nothing, the destination receives about T_F2 in
 * every second from the first, a flooding pair is held to T_F1 and flagged
 * only after tflag_ms of excess.  The last case runs the same trace under
 * fcfs for comparison.  Engine only, deterministic, no sleeping.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/filter.h"
#include "filter_fixture.h"

#define MS(x) ((uint64_t)(x)*XF_NSEC_PER_MSEC)
#define SEC(x) ((uint64_t)(x)*XF_NSEC_PER_SEC)
#define T0 SEC(1000) /* an arbitrary start of the monotonic clock */
#define TICK MS(100) /* the share tick's period, as the proxy's */
#define MAX_SRC 64
#define MAX_SECS 128

/* ------------------------------------------------------------------------- */
/* One engine (1000 records, 16 destinations per device) and its worker: filter_fixture.h. */

static void fx_engine(struct fx *f, const struct xf_params *p)
{
	assert_int_equal(xf_params_validate(p, NULL, 0), 0);
	fx_engine_new(f, p, 1000, 16, 42);
}

/* Defaults (fair is the default policy) with the destination's T_F2 given. */
static struct xf_params fair_params(uint64_t tf2)
{
	struct xf_params p;

	xf_params_default(&p);
	assert_int_equal(p.policy, XF_POLICY_FAIR);
	p.tf2_pps = tf2;
	p.pair_burst_ms = 200; /* the cases' numbers are worked out for this burst */
	return p;
}

static struct xf_key key4(uint32_t dev, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct xf_key k;

	xf_key_ipv4(&k, dev, htonl((uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d));
	return k;
}

static struct xf_dst_view dst_view(struct xf_engine *e, const struct xf_key *k)
{
	struct xf_dst_view v;

	memset(&v, 0, sizeof(v));
	rcu_read_lock();
	assert_true(xf_engine_dst(e, k->dst, &v));
	rcu_read_unlock();
	return v;
}

static struct xf_pair_view pair_view(struct xf_engine *e, const struct xf_key *k)
{
	struct xf_pair_view v;

	memset(&v, 0, sizeof(v));
	rcu_read_lock();
	assert_true(xf_engine_pair(e, k, &v));
	rcu_read_unlock();
	return v;
}

/* ------------------------------------------------------------------------- */
/* Simulated devices. */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Verdicts of one device, all of them and those at or after sim.from. */
struct cnt {
	uint64_t sent, pass, soft, hard, dst;
};

struct src {
	struct xf_key k;
	uint64_t period; /* ns between packets */
	uint64_t jitter; /* each gap is period +- up to this (ns) */
	uint64_t next, stop; /* next packet; no packet at or after stop (0: never) */
	uint64_t rs; /* its PRNG */
	struct cnt all, late;
	uint64_t first_hard; /* time of its first DROP_PAIR without XF_SOFT; 0: none */
	uint64_t soft_before_hard; /* DROP_PAIR | XF_SOFT before it */
	bool soft_after_hard; /* a soft DROP_PAIR after a hard one */
	unsigned first_drop; /* its first drop verdict (0: none yet) */
};

struct sim {
	struct xf_engine *e;
	struct xf_worker *w;
	struct src s[MAX_SRC];
	unsigned n;
	uint64_t t0; /* start of second 0 */
	uint64_t tick; /* share tick period, 0: no ticks */
	uint64_t next_tick;
	uint64_t from; /* start of the "late" counters */
	uint64_t sec_pass[MAX_SECS]; /* admitted per second since t0, every device */
};

static void sim_init(struct sim *S, struct fx *f, uint64_t t0, uint64_t tick)
{
	memset(S, 0, sizeof(*S));
	S->e = f->e;
	S->w = f->w;
	S->t0 = t0;
	S->tick = tick;
	S->next_tick = t0;
	S->from = t0;
}

/* A device sending every period ns (+- jitter) from start; returns its index. */
static unsigned sim_add(struct sim *S, const struct xf_key *k, double pps, double jitter,
			uint64_t start)
{
	struct src *s = &S->s[S->n];

	assert_true(S->n < MAX_SRC);
	memset(s, 0, sizeof(*s));
	s->k = *k;
	s->period = (uint64_t)(1e9 / pps);
	s->jitter = (uint64_t)(jitter * (double)s->period);
	s->next = start;
	s->rs = 0x5eed0000ULL + S->n;
	return S->n++;
}

static void count(struct cnt *c, unsigned v)
{
	c->sent++;
	switch (xf_verdict_of(v)) {
	case XF_PASS:
		c->pass++;
		break;
	case XF_DROP_PAIR:
		if (v & XF_SOFT)
			c->soft++;
		else
			c->hard++;
		break;
	case XF_DROP_DST:
		c->dst++;
		break;
	default:
		fail_msg("unexpected verdict 0x%x", v);
	}
}

static void sim_packet(struct sim *S, struct src *s)
{
	uint64_t t = s->next, sec = (t - S->t0) / SEC(1);
	unsigned v;

	rcu_read_lock();
	v = xf_filter(S->w, &s->k, t);
	rcu_read_unlock();
	/* The fair policy's flags: SOFT only on DROP_PAIR. */
	if (v & XF_SOFT)
		assert_int_equal(xf_verdict_of(v), XF_DROP_PAIR);
	count(&s->all, v);
	if (t >= S->from)
		count(&s->late, v);
	if (v != XF_PASS && !s->first_drop)
		s->first_drop = v;
	if (xf_verdict_of(v) == XF_DROP_PAIR) {
		if (!(v & XF_SOFT) && !s->first_hard)
			s->first_hard = t;
		else if ((v & XF_SOFT) && !s->first_hard)
			s->soft_before_hard++;
		else if (v & XF_SOFT)
			s->soft_after_hard = true;
	}
	if (v == XF_PASS && sec < MAX_SECS)
		S->sec_pass[sec]++;

	s->next += s->period;
	if (s->jitter) {
		uint64_t j = splitmix(&s->rs) % (2 * s->jitter + 1);

		s->next = s->next + j - s->jitter;
	}
}

/* Everything before until: packets in time order, a due share tick first. */
static void sim_run(struct sim *S, uint64_t until)
{
	for (;;) {
		struct src *best = NULL;

		for (unsigned i = 0; i < S->n; i++) {
			struct src *s = &S->s[i];

			if (s->next >= until || (s->stop && s->next >= s->stop))
				continue;
			if (!best || s->next < best->next)
				best = s;
		}
		if (S->tick && S->next_tick < until && (!best || S->next_tick <= best->next)) {
			xf_engine_share(S->e, S->next_tick);
			S->next_tick += S->tick;
			continue;
		}
		if (!best)
			return;
		sim_packet(S, best);
	}
}

/* Water-filling by bisection, in packets/s: the level f where sum min(r, f) = T. */
static double water_fill(const double *r, unsigned n, double T)
{
	double lo = 0, hi = T, sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += r[i];
	if (sum <= T)
		return -1; /* not congested */
	for (int it = 0; it < 200; it++) {
		double mid = (lo + hi) / 2, s = 0;

		for (unsigned i = 0; i < n; i++)
			s += r[i] < mid ? r[i] : mid;
		if (s > T)
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

static void print_seconds(const struct sim *S, unsigned nsec)
{
	printf("    admitted per second:");
	for (unsigned i = 0; i < nsec; i++)
		printf(" %" PRIu64, S->sec_pass[i]);
	printf("\n");
}

/* Every simulated second from the first: within [lo, hi]. */
static void check_seconds(const struct sim *S, unsigned nsec, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < nsec; i++) {
		if (S->sec_pass[i] < lo || S->sec_pass[i] > hi)
			fail_msg("second %u admitted %" PRIu64 ", want [%" PRIu64 ", %" PRIu64 "]",
				 i, S->sec_pass[i], lo, hi);
	}
}

/* ------------------------------------------------------------------------- */

/*
 * T_F2 = 1000 pps; 10 light devices at 20 pps, 10 heavy at 300 pps.  Demand
 * 3200 > 1000, so the share is the water-filling level (1000 - 10 * 20) / 10
 * = 80 pps.  After a warm-up second: f within 1 pps of it, each heavy device
 * gets f within 10% over 10 s, the light ones lose nothing to DROP_DST, and
 * the destination gets T_F2 within 5% overall and 10% in every second from
 * the very first (before the first tick the cap alone bounds it).
 */
static void test_share_mixed_rates(void **state)
{
	struct fx *f = *state;
	struct xf_params p = fair_params(1000);
	struct sim S;
	double rates[20];
	uint64_t heavy_pass = 0, total = 0, fstar;
	struct xf_dst_view dv;
	struct xf_key dst = key4(0, 198, 51, 100, 7);

	fx_engine(f, &p);
	sim_init(&S, f, T0, TICK);
	for (unsigned i = 0; i < 20; i++) {
		struct xf_key k = dst;
		bool heavy = i >= 10;

		k.dev = 100 + i;
		rates[i] = heavy ? 300 : 20;
		/* Offsets keep packets off the tick instants: exactly 2 light ones per tick. */
		sim_add(&S, &k, rates[i], 0, T0 + MS(1) + i * MS(2) + i * 7919);
	}
	fstar = (uint64_t)(water_fill(rates, 20, 1000) * XF_RATE_ONE + 0.5);
	assert_true(fstar >= 80 * XF_RATE_ONE - 1 && fstar <= 80 * XF_RATE_ONE + 1);

	S.from = T0 + SEC(1);
	sim_run(&S, T0 + SEC(1));
	dv = dst_view(f->e, &dst);
	printf("    after 1 s: share %" PRIu64 " (%.2f pps), cap %" PRIu64 ", senders %u, demand "
	       "%" PRIu64 " (%.1f pps)\n",
	       dv.share, (double)dv.share / XF_RATE_ONE, dv.cap, dv.senders, dv.demand,
	       (double)dv.demand / XF_RATE_ONE);
	assert_true(dv.share != XF_SHARE_NONE);
	assert_in_range(dv.share, fstar - XF_RATE_ONE, fstar + XF_RATE_ONE);
	assert_int_equal(dv.senders, 20);
	/* no other proxy: T_F2 and the congested headroom of 1/16 */
	assert_int_equal(dv.cap, 1000 * XF_RATE_ONE + 1000 * XF_RATE_ONE / 16);
	/* the estimates still converge (rate_ms 500): the heavy ones started late in the first tick */
	assert_in_range(dv.demand, 2800 * XF_RATE_ONE, 3300 * XF_RATE_ONE);

	sim_run(&S, T0 + SEC(11));
	dv = dst_view(f->e, &dst);
	printf("    after 11 s: share %.2f pps, demand %.1f pps\n", (double)dv.share / XF_RATE_ONE,
	       (double)dv.demand / XF_RATE_ONE);
	assert_in_range(dv.share, fstar - XF_RATE_ONE, fstar + XF_RATE_ONE);
	assert_in_range(dv.demand, 3150 * XF_RATE_ONE, 3250 * XF_RATE_ONE);
	print_seconds(&S, 11);
	for (unsigned i = 0; i < 20; i++) {
		const struct src *s = &S.s[i];

		total += s->all.pass;
		if (i >= 10) {
			/* 80 pps over 10 s, within 10% */
			assert_in_range(s->late.pass, 720, 880);
			heavy_pass += s->late.pass;
		} else {
			assert_int_equal(s->late.dst, 0);
			assert_int_equal(s->late.pass, s->late.sent);
		}
		assert_int_equal(s->all.soft + s->all.hard, 0); /* all under T_F1 */
	}
	printf("    heavy devices: %" PRIu64 " admitted in 10 s (%.1f pps each)\n", heavy_pass,
	       (double)heavy_pass / 100);
	/* 11 s at T_F2, within 5%; every second within 10%, the first included */
	assert_in_range(total, 10450, 11550);
	check_seconds(&S, 11, 900, 1100);
}

/*
 * Devices under the share never meet the destination check: 5 devices at
 * 500 pps flood a T_F2 = 1000 destination; from 1 s on, 6 devices at 10, 20,
 * .., 60 pps (jittered by 30%) join.  f = (1000 - 210) / 5 = 158 pps.  Over
 * 60 s no light packet is dropped at all; the heavy ones get about f each.
 */
static void test_light_never_dropped(void **state)
{
	struct fx *f = *state;
	struct xf_params p = fair_params(1000);
	struct xf_key dst = key4(0, 203, 0, 113, 9);
	double rates[11];
	struct xf_dst_view dv;
	struct sim S;
	double fs;

	fx_engine(f, &p);
	sim_init(&S, f, T0, TICK);
	for (unsigned i = 0; i < 11; i++) {
		struct xf_key k = dst;
		bool heavy = i < 5;

		k.dev = 500 + i;
		rates[i] = heavy ? 500 : 10.0 * (i - 4);
		sim_add(&S, &k, rates[i], 0.3, heavy ? T0 + i * 1234567 : T0 + SEC(1) + i * MS(3));
	}
	fs = water_fill(rates, 11, 1000);
	assert_true(fs > 157 && fs < 159);
	S.from = T0 + SEC(2);
	sim_run(&S, T0 + SEC(61));
	dv = dst_view(f->e, &dst);
	printf("    share %.2f pps (water-filling %.2f), senders %u\n",
	       (double)dv.share / XF_RATE_ONE, fs, dv.senders);
	assert_in_range(dv.share, (uint64_t)((fs - 1) * XF_RATE_ONE),
			(uint64_t)((fs + 1) * XF_RATE_ONE));
	assert_int_equal(dv.senders, 11);
	for (unsigned i = 5; i < 11; i++) {
		const struct src *s = &S.s[i];

		printf("    light %.0f pps: sent %" PRIu64 ", admitted %" PRIu64 "\n", rates[i],
		       s->all.sent, s->all.pass);
		assert_true(s->all.sent > 500);
		assert_int_equal(s->all.pass, s->all.sent);
	}
	for (unsigned i = 0; i < 5; i++) {
		const struct src *s = &S.s[i];

		/* 59 s at f, within 10% */
		assert_in_range(s->late.pass, (uint64_t)(0.9 * fs * 59), (uint64_t)(1.1 * fs * 59));
		assert_int_equal(s->all.soft + s->all.hard, 0);
	}
}

/*
 * A device at 3 x T_F1 towards a congested destination is held to T_F1 by
 * its pair limiter from the first packet: DROP_PAIR | XF_SOFT (not flagged)
 * while its excess is within tflag_ms worth of T_F1 packets, then DROP_PAIR
 * without XF_SOFT (flag the pair into XDP), well within T_T2 of its start.
 * T_F1 = 100, tflag_ms = 1000: the 101st excess packet is the first hard drop.
 */
static void test_flood_pair_flagged(void **state)
{
	struct fx *f = *state;
	struct xf_params p = fair_params(1000);
	struct xf_key dst = key4(0, 192, 0, 2, 44);
	struct xf_key bot = dst;
	struct xf_pair_view pv;
	struct xf_dst_view dv;
	struct sim S;
	const struct src *b;
	unsigned ib;

	p.tf1_pps = 100;
	p.tflag_ms = 1000;
	fx_engine(f, &p);
	sim_init(&S, f, T0, TICK);
	/* 20 devices at 90 pps (under T_F1) congest it from the start. */
	for (unsigned i = 0; i < 20; i++) {
		struct xf_key k = dst;

		k.dev = 700 + i;
		sim_add(&S, &k, 90, 0.2, T0 + i * 333333);
	}
	bot.dev = 666;
	ib = sim_add(&S, &bot, 300, 0, T0 + SEC(2));
	S.from = T0 + SEC(2);
	sim_run(&S, T0 + SEC(6));
	b = &S.s[ib];
	dv = dst_view(f->e, &dst);
	pv = pair_view(f->e, &bot);
	printf("    bot: sent %" PRIu64 " admitted %" PRIu64 " soft %" PRIu64 " hard %" PRIu64
	       " dst %" PRIu64 "; first hard drop after %.3f s, %" PRIu64
	       " soft drops before it; excess %u, rate %.1f pps; share %.1f pps\n",
	       b->all.sent, b->all.pass, b->all.soft, b->all.hard, b->all.dst,
	       (double)(b->first_hard - (T0 + SEC(2))) / 1e9, b->soft_before_hard, pv.excess,
	       (double)pv.rate / XF_RATE_ONE, (double)dv.share / XF_RATE_ONE);
	assert_true(dv.share != XF_SHARE_NONE);
	/* its first drop is the pair limiter's, soft (the first warns too) */
	assert_int_equal(b->first_drop & ~XF_WARN, XF_DROP_PAIR | XF_SOFT);
	assert_true(b->first_drop & XF_WARN);
	/* excess * 1000 > T_F1 * tflag_ms first at excess 101 */
	assert_int_equal(b->soft_before_hard, 100);
	assert_true(b->first_hard > 0);
	/* ~30 packets of burst, then 200 excess packets per second: ~0.6 s */
	assert_in_range(b->first_hard - (T0 + SEC(2)), MS(400), SEC(1));
	assert_false(b->soft_after_hard);
	/* its demand (what passes the limiter) is T_F1 */
	assert_in_range(pv.rate, 95 * XF_RATE_ONE, 105 * XF_RATE_ONE);
	/* it gets at most about its share of the destination */
	assert_true(b->all.pass <= (uint64_t)(4 * 1.1 * dv.share / XF_RATE_ONE) + 30);
	/* the compliant devices never see the pair limiter */
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(S.s[i].all.soft + S.s[i].all.hard, 0);
}

/*
 * A device 2 x over T_F1 for a second (T_F1 = 100 pps, burst 200 ms, tflag
 * 1000 ms: its excess, ~80 packets, stays under the 100 that flag), then at
 * 50 pps: it is never flagged (every drop soft), loses only about its excess
 * (200 sent - 100 - the burst's 20), nothing to the destination (not
 * congested), and nothing once back under T_F1.
 */
static void test_short_excess_soft_only(void **state)
{
	struct fx *f = *state;
	struct xf_params p = fair_params(10000);
	struct xf_key k = key4(9, 192, 0, 2, 45);
	struct sim S;
	const struct src *s;
	uint64_t first_sent, first_drops;

	p.tf1_pps = 100;
	p.tflag_ms = 1000;
	fx_engine(f, &p);
	sim_init(&S, f, T0, TICK);
	sim_add(&S, &k, 200, 0, T0 + MS(5));
	sim_run(&S, T0 + SEC(1) + MS(5));
	s = &S.s[0];
	first_sent = s->all.sent;
	first_drops = s->all.soft + s->all.hard;
	printf("    first second: sent %" PRIu64 ", dropped %" PRIu64 " (soft %" PRIu64
	       "), excess %u\n",
	       first_sent, first_drops, s->all.soft, pair_view(f->e, &k).excess);
	assert_int_equal(first_sent, 200);
	assert_int_equal(s->all.hard, 0);
	assert_in_range(first_drops, 200 - 100 - 25, 200 - 100);
	assert_int_equal(pair_view(f->e, &k).excess, first_drops);

	/* then 50 pps for 9 s */
	S.s[0].period = MS(20);
	sim_run(&S, T0 + SEC(10));
	assert_int_equal(s->all.hard, 0);
	assert_int_equal(s->all.soft, first_drops);
	assert_int_equal(s->all.dst, 0);
	assert_int_equal(s->all.sent - s->all.pass, first_drops);
}

/*
 * 50 new devices at 100 pps each hit a new destination at once (T_F2 = 1000,
 * dst_burst_ms 20): no blind window, the destination gets [0.9, 1.1] T_F2 in
 * the first second and in each of the next four, with the share tick running
 * every 100 ms and with no tick at all (the cap alone).
 */
static void run_first_window(struct fx *f, uint32_t policy, uint64_t tick, struct sim *S)
{
	struct xf_params p = fair_params(1000);
	struct xf_key dst = key4(0, 198, 18, 0, 1);

	p.policy = policy;
	p.dst_burst_ms = 20;
	fx_engine(f, &p);
	sim_init(S, f, T0, tick);
	for (unsigned i = 0; i < 50; i++) {
		struct xf_key k = dst;

		k.dev = 2000 + i;
		sim_add(S, &k, 100, 0.1, T0 + i * 12345);
	}
	sim_run(S, T0 + SEC(10));
	print_seconds(S, 10);
}

static void test_first_window_ticks(void **state)
{
	struct sim S;

	run_first_window(*state, XF_POLICY_FAIR, TICK, &S);
	check_seconds(&S, 10, 900, 1100);
}

static void test_first_window_no_tick(void **state)
{
	struct sim S;

	run_first_window(*state, XF_POLICY_FAIR, 0, &S);
	check_seconds(&S, 10, 900, 1100);
}

/*
 * The same trace under fcfs, the paper's windows: nothing is judged before
 * T_T3 (1 s), so the first second lets all 5000 packets through (5 x T_F2),
 * then the destination's window average pays it back with silence until
 * c* / window falls to T_F2 (about 5 s), then T_F2 again.
 */
static void test_first_window_fcfs(void **state)
{
	struct sim S;
	uint64_t total = 0;

	run_first_window(*state, XF_POLICY_FCFS, TICK, &S);
	assert_true(S.sec_pass[0] > 4500);
	for (unsigned i = 1; i < 4; i++)
		assert_int_equal(S.sec_pass[i], 0);
	for (unsigned i = 6; i < 10; i++)
		assert_in_range(S.sec_pass[i], 900, 1100);
	for (unsigned i = 0; i < 10; i++)
		total += S.sec_pass[i];
	/* over the whole 10 s both policies deliver about T_F2 on average */
	assert_in_range(total, 9000, 11000);
	for (unsigned i = 0; i < S.n; i++)
		assert_int_equal(S.s[i].all.soft, 0); /* fcfs never sets XF_SOFT */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_share_mixed_rates),  T(test_light_never_dropped),
		T(test_flood_pair_flagged), T(test_short_excess_soft_only),
		T(test_first_window_ticks), T(test_first_window_no_tick),
		T(test_first_window_fcfs),
	};
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
