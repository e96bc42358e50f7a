/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Differential test of the merge: three simulated proxies run Algorithm 2's
 * bookkeeping on random traffic and merge their harvests through the real
 * script on a real redis-server and through the naive model of
 * merge_model.h, with connections cut mid-pipeline and retried.  Every
 * reply, every stored record and every total must agree, and every branch
 * of the script must have been taken.  Odd seeds keep time on a 1 ms lattice
 * so that thresholds are met with equality.  XPRO_SYNC_SEED=<n> runs one seed.
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

#include "xpro/filter.h"
#include "sync/keys.h"
#include "sync/merge.h"
#include "sync/read.h"
#include "sync/redis.h"
#include "redis_fixture.h"
#include "merge_model.h"

#define NPROXY 3
#define NDEV 5
#define NDST 3
#define NPAIR (NDEV * NDST)
#define NHOT 4 /* pairs that get most of the traffic */
#define NSEEDS 24
#define NSTEPS 1000
#define MS 1000000ULL
#define T0 (1700000000ULL * 1000000000ULL) /* ns since 1970: a realistic shared clock */
#define TT1_MS 50
#define TT4_MS 200

static struct rfx fx;

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

/* One proxy's local view of a pair (the fields Algorithm 2 keeps). */
struct lpair {
	bool live, mark, fresh; /* fresh: created since its last merge */
	uint64_t t1, t2, c, dc;
};

struct proxy {
	struct sync_conn *conn;
	char id[24];
	int64_t skew; /* its clock's offset from the simulation's */
	uint64_t seq_next; /* mirror of the connection's sequence */
	struct lpair p[NPAIR];
};

struct sim {
	struct rng rng;
	struct mm model;
	struct proxy px[NPROXY];
	struct sync_params sp;
	uint64_t now;
	struct xf_key keys[NPAIR];
	unsigned long long flag_count[16];
	unsigned long long merges, faults, dups;
	uint64_t seed;
	bool lattice; /* odd seeds: every time on a 1 ms lattice, so that the strict
		       * inequalities (> T_T1, > T_T4) meet equality */
};

static struct sim S;

static int setup(void **state)
{
	(void)state;
	if (rfx_start(&fx, NULL))
		return -1;
	for (int i = 0; i < NPROXY; i++) {
		char err[256];
		struct sync_conn_opts o = { .addr = fx.addr, .proxy_id = S.px[i].id };

		snprintf(S.px[i].id, sizeof(S.px[i].id), "model%d", i);
		S.px[i].conn = sync_conn_open(&o, err, sizeof(err));
		if (!S.px[i].conn) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NPROXY; i++)
		sync_conn_close(S.px[i].conn);
	rfx_stop(&fx);
	return 0;
}

static void sim_reset(uint64_t seed)
{
	S.seed = seed;
	S.rng.s = seed * 0x2545f4914f6cdd1dULL + 1;
	memset(&S.model, 0, sizeof(S.model));
	S.lattice = seed & 1;
	S.now = T0 + rng_below(&S.rng, 1000) * MS;
	S.sp = (struct sync_params){ .tt1_ms = TT1_MS,
				     .tt4_ms = TT4_MS,
				     .r = 1 + (uint32_t)rng_below(&S.rng, 4),
				     .ttl_ms = 600000,
				     .batch = 4 };
	for (int d = 0; d < NDEV; d++) {
		for (int j = 0; j < NDST; j++)
			xf_key_ipv4(&S.keys[d * NDST + j], 100 + d, htonl(0x0a000001 + j));
	}
	rfx_ok(&fx, "FLUSHALL");
	for (int i = 0; i < NPROXY; i++) {
		struct proxy *x = &S.px[i];

		memset(x->p, 0, sizeof(x->p));
		x->skew = (int64_t)rng_below(&S.rng, 6 * MS) - 3 * (int64_t)MS;
		if (S.lattice)
			x->skew -= x->skew % (int64_t)MS;
		assert_int_equal(sync_conn_resync(x->conn), 0);
		x->seq_next = 1;
	}
}

/* Algorithm 2's bookkeeping for k admitted packets of pair i at proxy x. */
static void admit(struct proxy *x, int i, uint64_t k)
{
	struct lpair *lp = &x->p[i];
	uint64_t t = (uint64_t)((int64_t)S.now + x->skew);

	if (!lp->live) {
		*lp = (struct lpair){ .live = true, .fresh = true, .t1 = t, .t2 = t };
	} else if (t > lp->t2 && t - lp->t2 > TT1_MS * MS) {
		lp->t1 = t;
		lp->c = 0;
		lp->mark = true;
	}
	if (t > lp->t2)
		lp->t2 = t;
	lp->c += k;
	lp->dc += k;
}

/* Reclaim: idle longer than T_T1 with nothing left to merge. */
static void reclaim(struct proxy *x)
{
	uint64_t t = (uint64_t)((int64_t)S.now + x->skew);

	for (int i = 0; i < NPAIR; i++) {
		struct lpair *lp = &x->p[i];

		if (lp->live && !lp->dc && !lp->mark && !lp->fresh && t > lp->t2 &&
		    t - lp->t2 > TT1_MS * MS)
			lp->live = false;
	}
}

static void print_out(const char *who, const struct sync_pair_out *o)
{
	fprintf(stderr,
		"  %s: flags %#x c %" PRIu64 " ts1 %" PRIu64 " ts2 %" PRIu64 " dst c %" PRIu64
		" ts1 %" PRIu64 " ts2 %" PRIu64 "\n",
		who, o->flags, o->c, o->ts1, o->ts2, o->dst_c, o->dst_ts1, o->dst_ts2);
}

static bool out_eq(const struct sync_pair_out *a, const struct sync_pair_out *b)
{
	return a->flags == b->flags && a->c == b->c && a->ts1 == b->ts1 && a->ts2 == b->ts2 &&
	       a->dst_c == b->dst_c && a->dst_ts1 == b->dst_ts1 && a->dst_ts2 == b->dst_ts2;
}

static void compare(const struct sync_pair_in *in, const struct sync_pair_out *got,
		    const struct sync_pair_out *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (out_eq(&got[i], &want[i]))
			continue;
		fprintf(stderr,
			"seed %" PRIu64 ": pair %zu (dev %u mark %u ts1 %" PRIu64 " ts2 %" PRIu64
			" c %" PRIu64 " dc %" PRIu64 ") differs\n",
			S.seed, i, in[i].key.dev, in[i].mark, in[i].ts1, in[i].ts2, in[i].c,
			in[i].dc);
		print_out("script", &got[i]);
		print_out("model ", &want[i]);
		fail_msg("script and model disagree (XPRO_SYNC_SEED=%" PRIu64 ")", S.seed);
	}
}

static void count_flags(const struct sync_pair_out *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 16; b++)
			S.flag_count[b] += (o[i].flags >> b) & 1;
	}
}

/* The model's view of a whole call: batches of sp.batch, in sequence. */
static void model_call(struct proxy *x, uint64_t seq0, bool retry, const struct sync_pair_in *in,
		       size_t n, size_t nbatches, struct sync_pair_out *out)
{
	for (size_t b = 0; b < nbatches; b++) {
		size_t lo = b * S.sp.batch, m = n - lo < S.sp.batch ? n - lo : S.sp.batch;

		assert_int_equal(
			mm_batch(&S.model, x->id, seq0 + b, retry, &S.sp, in + lo, m, out + lo), 0);
	}
}

/* Harvest x's dirty pairs, merge them both ways, compare, apply the result locally. */
static void sync_round(struct proxy *x, bool cut)
{
	struct sync_pair_in in[NPAIR];
	struct sync_pair_out got[NPAIR], want[NPAIR];
	int idx[NPAIR];
	size_t n = 0, nb, applied = 0;

	for (int i = 0; i < NPAIR; i++) {
		struct lpair *lp = &x->p[i];

		if (!lp->live || (!lp->dc && !lp->mark && !lp->fresh))
			continue;
		idx[n] = i;
		in[n++] = (struct sync_pair_in){ .key = S.keys[i],
						 .mark = lp->mark || lp->fresh,
						 .ts1 = lp->t1,
						 .ts2 = lp->t2,
						 .c = lp->c,
						 .dc = lp->dc };
	}
	for (size_t i = n; i > 1; i--) { /* shuffle: order within a round is arbitrary */
		size_t j = rng_below(&S.rng, i);
		struct sync_pair_in t = in[i - 1];
		int ti = idx[i - 1];

		in[i - 1] = in[j];
		in[j] = t;
		idx[i - 1] = idx[j];
		idx[j] = ti;
	}
	if (!n)
		return;
	S.sp.batch = 1 + (uint32_t)rng_below(&S.rng, 5);
	nb = (n + S.sp.batch - 1) / S.sp.batch;

	if (cut && nb > 1) {
		/* Cut after some replies; the retry finds some batches applied. */
		sync_conn_fault_after(x->conn, 1 + (unsigned)rng_below(&S.rng, nb - 1));
		assert_int_equal(sync_merge_batch(x->conn, in, n, got, &S.sp), -ECONNRESET);
		assert_true(sync_conn_in_doubt(x->conn));
		rfx_wait_clients(&fx,
				 NPROXY); /* the cut connection is gone: nothing more applies */
		assert_int_equal(sync_merge_batch(x->conn, in, n, got, &S.sp), 0);
		mm_retry(&S.model, x->id, x->seq_next + nb - 1, &S.sp, in, got, n, want);
		for (size_t i = 0; i < n; i++)
			applied += !!(got[i].flags & SYNC_F_DUP);
		assert_true(applied >= 1);
		S.faults++;
		S.dups += applied;
	} else {
		assert_int_equal(sync_merge_batch(x->conn, in, n, got, &S.sp), 0);
		model_call(x, x->seq_next, false, in, n, nb, want);
	}
	compare(in, got, want, n);
	count_flags(got, n);
	S.merges += n;
	x->seq_next += nb;

	for (size_t i = 0; i < n; i++) {
		struct lpair *lp = &x->p[idx[i]];

		lp->t1 = got[i].ts1;
		if (got[i].ts2 > lp->t2)
			lp->t2 = got[i].ts2;
		lp->c = got[i].c; /* no packet was admitted since the harvest */
		lp->dc = 0;
		lp->mark = lp->fresh = false;
	}
}

static void check_record(const char *what, int rc, const struct sync_record *r,
			 const struct mm_win *w)
{
	uint64_t t1 = sync_ns_to_wire(r->ts1), t2 = sync_ns_to_wire(r->ts2);

	if (rc)
		fail_msg("seed %" PRIu64 ": %s: read returned %d", S.seed, what, rc);
	if (r->c != w->c || t1 != w->t1 || t2 != w->t2 || r->total != w->total)
		fail_msg("seed %" PRIu64 ": %s holds c %" PRIu64 " ts1 %" PRIu64 " ts2 %" PRIu64
			 " total %" PRIu64 ", model c %" PRIu64 " ts1 %" PRIu64 " ts2 %" PRIu64
			 " total %" PRIu64,
			 S.seed, what, r->c, t1, t2, r->total, w->c, w->t1, w->t2, w->total);
	assert_true(r->ttl_ms > 0 && r->ttl_ms <= S.sp.ttl_ms);
}

/* Every stored record, every total, and no record the model lacks. */
static void check_master(void)
{
	struct sync_conn *c = S.px[0].conn;
	struct sync_totals t;
	struct sync_record rec;
	size_t npairs = 0, ndsts = 0;
	uint64_t sum = 0;

	for (int i = 0; i < MM_MAXREC; i++) {
		if (S.model.pair[i].live) {
			check_record("pair", sync_read_pair(c, &S.model.pair[i].key, &rec), &rec,
				     &S.model.pair[i].w);
			npairs++;
		}
		if (S.model.dst[i].live) {
			check_record("destination", sync_read_dst(c, S.model.dst[i].addr, &rec),
				     &rec, &S.model.dst[i].w);
			ndsts++;
		}
	}
	for (int i = 0; i < MM_MAXPROXY; i++) {
		const struct mm_proxy *x = &S.model.proxy[i];
		uint64_t seq, total;

		if (!x->live)
			continue;
		assert_int_equal(sync_read_proxy(c, x->id, &seq, &total), 0);
		assert_int_equal(seq, x->seq);
		assert_int_equal(total, x->total);
		sum += x->total;
	}
	assert_int_equal(sync_read_totals(c, &t), 0);
	assert_int_equal(t.pairs, npairs);
	assert_int_equal(t.dsts, ndsts);
	assert_int_equal(t.dead, 0);
	/* Nothing expired (ttl 10 min): the records hold every packet. */
	assert_int_equal(t.proxy_total, sum);
	assert_int_equal(t.pair_total, sum);
	assert_int_equal(t.dst_total, sum);
}

static void run_seed(uint64_t seed)
{
	sim_reset(seed);
	for (int step = 0; step < NSTEPS; step++) {
		uint64_t a = rng_below(&S.rng, 1000);
		struct proxy *x = &S.px[rng_below(&S.rng, NPROXY)];

		if (S.lattice)
			S.now += rng_below(&S.rng, 4) ? 0 : MS;
		else
			S.now += rng_below(&S.rng, MS / 2);
		if (a < 550) {
			/* Most traffic goes to a few hot pairs, so windows grow long. */
			int i = (int)rng_below(&S.rng, rng_below(&S.rng, 3) ? NHOT : NPAIR);

			admit(x, i, 1 + rng_below(&S.rng, 20));
		} else if (a < 800) {
			sync_round(x, rng_below(&S.rng, 8) == 0);
		} else if (a < 850) {
			reclaim(x);
		} else if (a < 996) {
			S.now += (1 + rng_below(&S.rng, 5)) * MS;
		} else {
			/* Idle beyond T_T1, now and then beyond T_T4. */
			S.now +=
				(TT1_MS + 10 + rng_below(&S.rng, rng_below(&S.rng, 4) ? 60 : 400)) *
				MS;
		}
	}
	for (int i = 0; i < NPROXY; i++)
		sync_round(&S.px[i], false);
	check_master();
}

static void test_model_random(void **state)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} flags[] = {
		{ SYNC_F_CREATE, "create" },	 { SYNC_F_REPLACE, "replace" },
		{ SYNC_F_MERGE, "merge" },	 { SYNC_F_EXTEND, "extend" },
		{ SYNC_F_LEARN, "learn" },	 { SYNC_F_DECAY, "decay" },
		{ SYNC_F_DUP, "dup" },		 { SYNC_F_DCREATE, "dcreate" },
		{ SYNC_F_DRESTART, "drestart" }, { SYNC_F_DEXTEND, "dextend" },
		{ SYNC_F_DDECAY, "ddecay" },
	};
	const char *one = getenv("XPRO_SYNC_SEED");

	(void)state;
	if (one) {
		run_seed(strtoull(one, NULL, 10));
	} else {
		for (uint64_t seed = 1; seed <= NSEEDS; seed++)
			run_seed(seed);
	}
	printf("merged %llu pairs, %llu cuts (%llu pairs found applied on retry)\n", S.merges,
	       S.faults, S.dups);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		unsigned long long k = S.flag_count[__builtin_ctz(flags[i].flag)];

		printf("  branch %-9s %llu\n", flags[i].name, k);
		if (!one && !k)
			fail_msg("branch %s never taken", flags[i].name);
	}
}

/*
 * A walk through the branches at their boundaries (T_T1 = 50 ms, T_T4 = 200
 * ms, r = 2; times in us after T0): each row is one merge and what it must
 * give, in the words of docs/sync.md.
 */
static void test_boundaries(void **state)
{
	static const struct {
		int dev; /* pairs (dev, 10.0.0.1) */
		uint32_t mark;
		uint64_t ts1, ts2, c, dc;
		uint32_t flags;
		uint64_t pc, pt1, pt2, dc_, dt1, dt2; /* expected pair and destination */
	} row[] = {
		/* new pair, new destination */
		{ 1, 1, 0, 10000, 5, 5, SYNC_F_CREATE | SYNC_F_DCREATE, 5, 0, 10000, 5, 0, 10000 },
		/* a new pair exactly T_T1 after the destination's last packet: no restart */
		{ 2, 1, 60000, 60000, 1, 1, SYNC_F_CREATE, 1, 60000, 60000, 6, 0, 60000 },
		/* 1 us later it restarts the destination's window */
		{ 3, 1, 110001, 110001, 1, 1, SYNC_F_CREATE | SYNC_F_DRESTART, 1, 110001, 110001, 1,
		  110001, 110001 },
		/* a local restart exactly T_T1 after the master's last packet: merged, and
		 * the destination's start moves back to the new window's */
		{ 1, 1, 60000, 60000, 2, 2, SYNC_F_MERGE | SYNC_F_DEXTEND, 7, 0, 60000, 3, 60000,
		  110001 },
		/* more than T_T1 after: the local window replaces the master's */
		{ 1, 1, 110001, 110001, 1, 1, SYNC_F_REPLACE, 1, 110001, 110001, 4, 60000, 110001 },
		/* a window of exactly T_T4 is not decayed; the destination's (250001) is:
		 * start 310001 - 250001 / 2 = 185001, count 4 / 2 + 4 */
		{ 1, 0, 110001, 310001, 5, 4, SYNC_F_MERGE | SYNC_F_DDECAY, 5, 110001, 310001, 6,
		  185001, 310001 },
		/* 1 us longer: start 310002 - 200001 / 2 = 210002, count 5 / 2 + 1 */
		{ 1, 0, 110001, 310002, 6, 1, SYNC_F_MERGE | SYNC_F_DECAY, 3, 210002, 310002, 7,
		  185001, 310002 },
		/* the master saw a later packet: ts2 stays */
		{ 1, 0, 210002, 300000, 4, 1, SYNC_F_MERGE | SYNC_F_LEARN, 4, 210002, 310002, 8,
		  185001, 310002 },
		/* a new local window that started earlier than the master's: start moves
		 * back; not before the destination's (185001) */
		{ 1, 1, 200000, 310002, 1, 1, SYNC_F_MERGE | SYNC_F_EXTEND, 5, 200000, 310002, 9,
		  185001, 310002 },
	};
	struct sync_params sp = {
		.tt1_ms = 50, .tt4_ms = 200, .r = 2, .ttl_ms = 60000, .batch = 1
	};
	const uint64_t t0 = sync_ns_to_wire(T0);
	struct sync_conn *c = S.px[0].conn;
	struct mm *m = &S.model;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	assert_int_equal(sync_conn_resync(c), 0);
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < sizeof(row) / sizeof(row[0]); i++) {
		struct sync_pair_in in = { .mark = row[i].mark,
					   .ts1 = sync_wire_to_ns(t0 + row[i].ts1),
					   .ts2 = sync_wire_to_ns(t0 + row[i].ts2),
					   .c = row[i].c,
					   .dc = row[i].dc };
		struct sync_pair_out got, want = {
			.flags = row[i].flags,
			.c = row[i].pc,
			.ts1 = sync_wire_to_ns(t0 + row[i].pt1),
			.ts2 = sync_wire_to_ns(t0 + row[i].pt2),
			.dst_c = row[i].dc_,
			.dst_ts1 = sync_wire_to_ns(t0 + row[i].dt1),
			.dst_ts2 = sync_wire_to_ns(t0 + row[i].dt2),
		};
		struct sync_pair_out mod;

		xf_key_ipv4(&in.key, (uint32_t)row[i].dev, htonl(0x0a000001));
		assert_int_equal(sync_merge_batch(c, &in, 1, &got, &sp), 0);
		mm_merge_pair(m, &sp, &in, &mod);
		if (!out_eq(&got, &want) || !out_eq(&mod, &want))
			fprintf(stderr, "row %zu:\n", i);
		compare(&in, &got, &want, 1);
		compare(&in, &mod, &want, 1);
	}
}

/* Times must stay exact in Lua's doubles: the limit passes, beyond it is refused. */
static void test_wire_limits(void **state)
{
	struct sync_pair_in in = { .ts1 = SYNC_WIRE_MAX * SYNC_NS_PER_WIRE,
				   .ts2 = SYNC_WIRE_MAX * SYNC_NS_PER_WIRE,
				   .c = 1,
				   .dc = 1 };
	struct sync_pair_out out;
	struct sync_params sp = { .tt1_ms = 10, .tt4_ms = 10, .r = 2, .ttl_ms = 1000, .batch = 1 };
	struct sync_conn *c = S.px[0].conn;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	assert_int_equal(sync_conn_resync(c), 0);
	xf_key_ipv4(&in.key, UINT32_MAX, htonl(0xc0000201));
	assert_int_equal(sync_merge_batch(c, &in, 1, &out, &sp), 0);
	assert_int_equal(out.ts2, in.ts2);
	assert_int_equal(out.flags, SYNC_F_CREATE | SYNC_F_DCREATE);
	in.ts2 += SYNC_NS_PER_WIRE;
	assert_int_equal(sync_merge_batch(c, &in, 1, &out, &sp), -EINVAL);
	assert_false(sync_conn_in_doubt(c));
	in.ts2 = in.ts1 - 1; /* ts1 > ts2 */
	assert_int_equal(sync_merge_batch(c, &in, 1, &out, &sp), -EINVAL);
	in.ts2 = in.ts1;
	in.mark = 2;
	assert_int_equal(sync_merge_batch(c, &in, 1, &out, &sp), -EINVAL);
	sp.r = 0;
	in.mark = 0;
	assert_int_equal(sync_merge_batch(c, &in, 1, &out, &sp), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_random),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_wire_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
