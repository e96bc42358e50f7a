/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record layout on a real redis-server (docs/sync.md, "Keys"): requests
 * far larger than a batch, with one destination spanning batches and pairs
 * repeated, merged against the naive model (also cut and retried); records
 * that expire lazily and are swept out of their destination's hash; values
 * and keys that are not ours; and the read calls (read.h) that tests and
 * tools use to see the master.
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

#define BIG_DEV 3000 /* pairs to one destination: more than one HSET call holds */
#define SMALL_DST 40
#define NIN (BIG_DEV + 2 * SMALL_DST + 30)
#define MS 1000000ULL
#define T0 (1700000000ULL * 1000000000ULL)

static struct rfx fx;
static struct mm model; /* large: static */
static struct sync_pair_in in[NIN];
static struct sync_pair_out got[NIN], want[NIN];

static int setup(void **state)
{
	(void)state;
	return rfx_start(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	rfx_stop(&fx);
	return 0;
}

static struct sync_conn *open_conn(const char *id)
{
	char err[256];
	struct sync_conn *c = sync_conn_open(
		&(struct sync_conn_opts){ .addr = fx.addr, .proxy_id = id }, err, sizeof(err));

	if (!c)
		fail_msg("%s", err);
	return c;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A request of NIN pairs in random order: BIG_DEV pairs to one destination,
 * two pairs to each of SMALL_DST others, and 30 repeats of earlier pairs.
 */
static void make_request(uint64_t *rng, uint64_t t, uint32_t mark)
{
	size_t n = 0;

	for (uint32_t d = 0; d < BIG_DEV; d++)
		xf_key_ipv4(&in[n++].key, d, htonl(0xc6120001));
	for (uint32_t j = 0; j < SMALL_DST; j++) {
		xf_key_ipv4(&in[n++].key, 7, htonl(0xc6120100 + j));
		xf_key_ipv4(&in[n++].key, 8, htonl(0xc6120100 + j));
	}
	while (n < NIN) {
		in[n].key = in[rng_next(rng) % n].key;
		n++;
	}
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_next(rng) % i;
		struct xf_key k = in[i - 1].key;

		in[i - 1].key = in[j].key;
		in[j].key = k;
	}
	for (size_t i = 0; i < n; i++) {
		in[i].mark = mark;
		in[i].ts1 = t - rng_next(rng) % (100 * MS);
		in[i].ts2 = t;
		in[i].dc = 1 + rng_next(rng) % 9;
		in[i].c = in[i].dc + rng_next(rng) % 5;
	}
}

static bool out_eq(const struct sync_pair_out *a, const struct sync_pair_out *b)
{
	return a->flags == b->flags && a->c == b->c && a->ts1 == b->ts1 && a->ts2 == b->ts2 &&
	       a->dst_c == b->dst_c && a->dst_ts1 == b->dst_ts1 && a->dst_ts2 == b->dst_ts2;
}

static void compare(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!out_eq(&got[i], &want[i]))
			fail_msg("pair %zu (dev %u): script flags %#x c %" PRIu64 " dst_c %" PRIu64
				 ", model flags %#x c %" PRIu64 " dst_c %" PRIu64,
				 i, in[i].key.dev, got[i].flags, got[i].c, got[i].dst_c,
				 want[i].flags, want[i].c, want[i].dst_c);
	}
}

/* The model's batches in input order: what the grouped batches must equal. */
static void model_call(const char *id, uint64_t seq0, const struct sync_params *sp, size_t n)
{
	for (size_t lo = 0, b = 0; lo < n; lo += sp->batch, b++) {
		size_t m = n - lo < sp->batch ? n - lo : sp->batch;

		assert_int_equal(mm_batch(&model, id, seq0 + b, false, sp, in + lo, m, want + lo),
				 0);
	}
}

/* Every record and total of the model, read back through read.h. */
static void check_master(struct sync_conn *c)
{
	struct sync_record r;
	struct sync_totals t;
	uint64_t sum = 0, seq, total, npairs = 0, ndsts = 0;

	for (int i = 0; i < MM_MAXREC; i++) {
		const struct mm_pair *p = &model.pair[i];
		const struct mm_dst *d = &model.dst[i];

		if (p->live) {
			assert_int_equal(sync_read_pair(c, &p->key, &r), 0);
			assert_int_equal(r.c, p->w.c);
			assert_int_equal(sync_ns_to_wire(r.ts1), p->w.t1);
			assert_int_equal(sync_ns_to_wire(r.ts2), p->w.t2);
			assert_int_equal(r.total, p->w.total);
			npairs++;
		}
		if (d->live) {
			assert_int_equal(sync_read_dst(c, d->addr, &r), 0);
			assert_int_equal(r.c, d->w.c);
			assert_int_equal(r.total, d->w.total);
			ndsts++;
		}
	}
	for (int i = 0; i < MM_MAXPROXY; i++) {
		if (!model.proxy[i].live)
			continue;
		assert_int_equal(sync_read_proxy(c, model.proxy[i].id, &seq, &total), 0);
		assert_int_equal(seq, model.proxy[i].seq);
		assert_int_equal(total, model.proxy[i].total);
		sum += total;
	}
	assert_int_equal(sync_read_totals(c, &t), 0);
	assert_int_equal(t.pairs, npairs);
	assert_int_equal(t.dsts, ndsts);
	assert_int_equal(t.proxy_total, sum);
	assert_int_equal(t.pair_total, sum);
	assert_int_equal(t.dst_total, sum);
	assert_int_equal(t.dead, 0);
}

/*
 * Requests of 3,110 pairs, one destination holding 3,000 of them, some
 * pairs twice: in batches of 4096 (one batch, one group of 3,000 pairs),
 * of 1000 (the destination spans batches) and, cut after two replies and
 * retried, of 256.  Script and model agree on every pair and record.
 */
static void test_big_requests(void **state)
{
	struct sync_params sp = {
		.tt1_ms = 50, .tt4_ms = 200, .r = 2, .ttl_ms = 600000, .batch = SYNC_BATCH_MAX
	};
	const uint32_t batches[] = { SYNC_BATCH_MAX, 1000, 256 };
	struct sync_conn *c;
	uint64_t rng = 42, seq = 1, t = T0;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	memset(&model, 0, sizeof(model));
	c = open_conn("big");
	for (size_t k = 0; k < sizeof(batches) / sizeof(batches[0]); k++) {
		size_t nb;

		sp.batch = batches[k];
		nb = (NIN + sp.batch - 1) / sp.batch;
		t += 150 * MS; /* windows grow past T_T4 and decay */
		make_request(&rng, t, k == 0);
		if (k == 2) {
			sync_conn_fault_after(c, 2);
			assert_int_equal(sync_merge_batch(c, in, NIN, got, &sp), -ECONNRESET);
			rfx_wait_clients(&fx, 1);
			assert_int_equal(sync_merge_batch(c, in, NIN, got, &sp), 0);
			mm_retry(&model, "big", seq + nb - 1, &sp, in, got, NIN, want);
		} else {
			assert_int_equal(sync_merge_batch(c, in, NIN, got, &sp), 0);
			model_call("big", seq, &sp, NIN);
		}
		compare(NIN);
		seq += nb;
	}
	check_master(c);
	sync_conn_close(c);
}

static long long hlen(const uint8_t dst[16])
{
	char key[SYNC_KEY_MAX];

	sync_key_dst(dst, key);
	return rfx_int(&fx, "HLEN %s", key);
}

static void merge_one(struct sync_conn *c, uint32_t dev, const uint8_t dst[16],
		      const struct sync_params *sp, struct sync_pair_out *out)
{
	struct sync_pair_in p = { .mark = 1, .ts1 = T0, .ts2 = T0, .c = 1, .dc = 1 };

	xf_key_ipv6(&p.key, dev, dst);
	assert_int_equal(sync_merge_batch(c, &p, 1, out, sp), 0);
}

/*
 * A record that no merge touched for ttl is dead (reads absent, merges as a
 * create); dead pairs leave a live destination's hash within about a ttl;
 * a destination no merge touched for 2 ttl leaves the master.  ttl is
 * 300 ms, so that a slow machine does not let the live pair die meanwhile.
 */
static void test_expiry(void **state)
{
	struct sync_params sp = {
		.tt1_ms = 100, .tt4_ms = 1000, .r = 2, .ttl_ms = 300, .batch = 256
	};
	struct sync_pair_in p[400];
	struct sync_pair_out out[400], one;
	struct sync_record rec;
	struct sync_totals t;
	struct sync_conn *c;
	uint8_t big[16], small[16];
	char key[SYNC_KEY_MAX];
	int touches = 0;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	c = open_conn("expiry");
	for (int i = 0; i < 400; i++) {
		p[i] = (struct sync_pair_in){ .mark = 1, .ts1 = T0, .ts2 = T0, .c = 2, .dc = 2 };
		xf_key_ipv4(&p[i].key, (uint32_t)i, htonl(0xc6120201));
	}
	memcpy(big, p[0].key.dst, 16);
	xf_key_ipv4(&p[399].key, 1, htonl(0xc6120202));
	memcpy(small, p[399].key.dst, 16);
	assert_int_equal(sync_merge_batch(c, p, 400, out, &sp), 0);
	assert_int_equal(sync_read_pair(c, &p[5].key, &rec), 0);
	assert_true(rec.ttl_ms > 0 && rec.ttl_ms <= sp.ttl_ms);
	assert_int_equal(hlen(big), 400); /* 399 pairs and the destination */

	/* Past ttl: every record reads dead, while the keys stay (2 ttl). */
	rfx_sleep_ms(sp.ttl_ms + 50);
	assert_int_equal(sync_read_pair(c, &p[5].key, &rec), -ENOENT);
	assert_int_equal(sync_read_dst(c, big, &rec), -ENOENT);
	assert_int_equal(sync_read_totals(c, &t), 0);
	assert_int_equal(t.pairs + t.dsts, 0);

	/* Re-created, not merged into the dead record: total starts again. */
	merge_one(c, 5, big, &sp, &one);
	assert_int_equal(one.flags, SYNC_F_CREATE | SYNC_F_DCREATE);
	assert_int_equal(sync_read_pair(c, &p[5].key, &rec), 0);
	assert_int_equal(rec.total, 1);

	/*
	 * Kept alive by one pair: its 398 dead neighbours are swept out, a step
	 * per merge; the small destination's key expires (2 ttl after its merge).
	 */
	do {
		merge_one(c, 5, big, &sp, &one);
		assert_int_equal(sync_read_totals(c, &t), 0);
		rfx_sleep_ms(20);
	} while (t.dead && ++touches < 200);
	printf("  swept after %d merges: %lld fields left\n", touches, hlen(big));
	assert_int_equal(t.dead, 0);
	assert_int_equal(t.pairs, 1);
	assert_int_equal(hlen(big), 2);
	sync_key_dst(small, key);
	assert_int_equal(rfx_int(&fx, "EXISTS %s", key), 0);
	assert_int_equal(sync_read_pair(c, &p[6].key, &rec), -ENOENT);
	sync_conn_close(c);
}

/*
 * Values that are not in our layout read as an error and merge as absent;
 * a key of the wrong type fails the whole batch before anything is written.
 */
static void test_foreign_records(void **state)
{
	struct sync_params sp = {
		.tt1_ms = 100, .tt4_ms = 1000, .r = 2, .ttl_ms = 60000, .batch = 256
	};
	struct sync_pair_in p[2] = {
		{ .mark = 1, .ts1 = T0, .ts2 = T0, .c = 3, .dc = 3 },
		{ .mark = 1, .ts1 = T0, .ts2 = T0, .c = 4, .dc = 4 },
	};
	uint8_t field[SYNC_FIELD_DEV_LEN];
	struct sync_pair_out out[2];
	struct sync_record rec;
	uint64_t seq, total;
	char key[SYNC_KEY_MAX];
	struct sync_conn *c;
	redisReply *r;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	c = open_conn("foreign");
	xf_key_ipv4(&p[0].key, 9, htonl(0xc6120301));
	xf_key_ipv4(&p[1].key, 9, htonl(0xc6120302));

	sync_key_dst(p[0].key.dst, key);
	sync_field_dev(9, field);
	r = rfx_cmd(&fx, "HSET %s %b junk", key, field, sizeof(field));
	freeReplyObject(r);
	assert_int_equal(sync_read_pair(c, &p[0].key, &rec), -EPROTO);
	printf("  junk value: %s\n", sync_conn_strerror(c));

	/* The second destination's key is a string: refused, nothing written. */
	sync_key_dst(p[1].key.dst, key);
	r = rfx_cmd(&fx, "SET %s junk", key);
	freeReplyObject(r);
	assert_int_equal(sync_merge_batch(c, p, 2, out, &sp), -EPROTO);
	printf("  wrong type: %s\n", sync_conn_strerror(c));
	assert_int_equal(sync_read_proxy(c, "foreign", &seq, &total), -ENOENT);
	assert_int_equal(sync_read_pair(c, &p[0].key, &rec), -EPROTO);

	/* Fixed by the operator: the retry applies once, the junk value is replaced. */
	r = rfx_cmd(&fx, "DEL %s", key);
	freeReplyObject(r);
	assert_int_equal(sync_merge_batch(c, p, 2, out, &sp), 0);
	assert_int_equal(out[0].flags, SYNC_F_CREATE | SYNC_F_DCREATE);
	assert_int_equal(sync_read_pair(c, &p[0].key, &rec), 0);
	assert_int_equal(rec.total, 3);
	assert_int_equal(sync_read_proxy(c, "foreign", &seq, &total), 0);
	assert_int_equal(total, 7);
	assert_int_equal(sync_read_proxy(c, "no/such", &seq, &total), -EINVAL);
	sync_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_requests),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_foreign_records),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
