/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Exact accounting on a real redis-server: three clients, each with its own
 * connection and proxy id, push deltas for the same records at the same
 * time for three seconds while a fourth kills their connections at random
 * (CLIENT KILL), cutting pipelines anywhere; every failed call is retried
 * unchanged.  At the end every pair's, destination's and proxy's total in
 * the master equals what the clients had acknowledged, exactly.  A second
 * case cuts a pipeline at a chosen reply, deterministically.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "xpro/filter.h"
#include "sync/keys.h"
#include "sync/merge.h"
#include "sync/read.h"
#include "sync/redis.h"
#include "redis_fixture.h"

#define NCLIENTS 3
#define NDEV 10
#define NDST 4
#define NPAIR (NDEV * NDST)
#define RUN_MS 3000
#define BATCH 8 /* small, so that a request spans several pipelined batches */

static struct rfx fx;
static struct xf_key keys[NPAIR];
static atomic_bool stop;

struct client {
	pthread_t th;
	int id;
	char proxy_id[16];
	uint64_t pushed[NPAIR]; /* acknowledged by the master */
	uint64_t total, calls, errors, unexpected;
	struct sync_conn_stats st;
	char err[256];
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int setup(void **state)
{
	(void)state;
	for (int d = 0; d < NDEV; d++) {
		for (int j = 0; j < NDST; j++)
			xf_key_ipv4(&keys[d * NDST + j], 1000 + d, htonl(0xc6336401 + j));
	}
	return rfx_start(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	rfx_stop(&fx);
	return 0;
}

static struct sync_conn *open_conn(const char *id, char *err, size_t errlen)
{
	struct sync_conn_opts o = { .addr = fx.addr, .proxy_id = id, .cmd_ms = 2000 };

	return sync_conn_open(&o, err, errlen);
}

/* One request: n (0: a random number of) pairs, each with a random delta. */
static size_t make_request(uint64_t *rng, struct sync_pair_in *in, size_t n)
{
	int idx[NPAIR];
	uint64_t now = realtime_ns();

	if (!n)
		n = 1 + rng_next(rng) % NPAIR;
	for (int i = 0; i < NPAIR; i++)
		idx[i] = i;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + rng_next(rng) % (NPAIR - i);
		int t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		in[i] = (struct sync_pair_in){ .key = keys[idx[i]],
					       .mark = rng_next(rng) % 10 == 0,
					       .ts1 = now - 1000000,
					       .ts2 = now,
					       .dc = 1 + rng_next(rng) % 50 };
		in[i].c = in[i].dc;
	}
	return n;
}

static int pair_index(const struct xf_key *k)
{
	for (int i = 0; i < NPAIR; i++) {
		if (keys[i].dev == k->dev && !memcmp(keys[i].dst, k->dst, 16))
			return i;
	}
	return -1;
}

static void *client_main(void *arg)
{
	struct client *cl = arg;
	struct sync_params sp = {
		.tt1_ms = 10000, .tt4_ms = 60000, .r = 2, .ttl_ms = 120000, .batch = BATCH
	};
	struct sync_pair_in in[NPAIR];
	struct sync_pair_out out[NPAIR];
	uint64_t rng = 0x1234 + (uint64_t)cl->id;
	struct sync_conn *c = open_conn(cl->proxy_id, cl->err, sizeof(cl->err));

	if (!c) {
		cl->unexpected++;
		return NULL;
	}
	while (!atomic_load(&stop)) {
		size_t n = make_request(&rng, in, 0);
		int rc;

		/* Keep the deltas until the master acknowledged them; retry unchanged. */
		while ((rc = sync_merge_batch(c, in, n, out, &sp))) {
			cl->errors++;
			if (rc == -ESTALE || rc == -EEXIST || rc == -EINVAL) {
				snprintf(cl->err, sizeof(cl->err), "%s", sync_conn_strerror(c));
				cl->unexpected++;
				goto out_close;
			}
			rfx_sleep_ms(1);
		}
		cl->calls++;
		for (size_t i = 0; i < n; i++) {
			cl->pushed[pair_index(&in[i].key)] += in[i].dc;
			cl->total += in[i].dc;
		}
	}
out_close:
	sync_conn_stats(c, &cl->st);
	sync_conn_close(c);
	return NULL;
}

static void *killer_main(void *arg)
{
	uint64_t *kills = arg, rng = 99;
	redisContext *ctx = rfx_dial(&fx);

	if (!ctx)
		return NULL;
	while (!atomic_load(&stop)) {
		redisReply *r;

		rfx_sleep_ms(20 + (unsigned)(rng_next(&rng) % 40));
		r = redisCommand(ctx, "CLIENT KILL TYPE normal SKIPME yes");
		if (!r)
			break;
		if (r->type == REDIS_REPLY_INTEGER)
			*kills += (uint64_t)r->integer;
		freeReplyObject(r);
	}
	redisFree(ctx);
	return NULL;
}

/* Pair, destination and proxy totals in the master equal the sums acknowledged. */
static void check_totals(struct client *cl, int ncl)
{
	char err[256];
	struct sync_conn *c = open_conn("checker", err, sizeof(err));
	uint64_t dst_sum[NDST] = { 0 }, sum = 0, seq, total;
	struct sync_record rec;
	struct sync_totals t;

	assert_non_null(c);
	for (int i = 0; i < NPAIR; i++) {
		uint64_t want = 0;

		for (int k = 0; k < ncl; k++)
			want += cl[k].pushed[i];
		dst_sum[i % NDST] += want;
		if (!want) {
			assert_int_equal(sync_read_pair(c, &keys[i], &rec), -ENOENT);
			continue;
		}
		assert_int_equal(sync_read_pair(c, &keys[i], &rec), 0);
		assert_int_equal(rec.total, want);
	}
	for (int j = 0; j < NDST; j++) {
		if (!dst_sum[j]) {
			assert_int_equal(sync_read_dst(c, keys[j].dst, &rec), -ENOENT);
			continue;
		}
		assert_int_equal(sync_read_dst(c, keys[j].dst, &rec), 0);
		assert_int_equal(rec.total, dst_sum[j]);
	}
	for (int k = 0; k < ncl; k++) {
		assert_int_equal(sync_read_proxy(c, cl[k].proxy_id, &seq, &total), 0);
		assert_int_equal(total, cl[k].total);
		sum += cl[k].total;
	}
	/* The same, summed over the whole master. */
	assert_int_equal(sync_read_totals(c, &t), 0);
	assert_int_equal(t.proxies, ncl);
	assert_int_equal(t.proxy_total, sum);
	assert_int_equal(t.pair_total, sum);
	assert_int_equal(t.dst_total, sum);
	sync_conn_close(c);
}

static void test_concurrent_exact(void **state)
{
	struct client cl[NCLIENTS];
	uint64_t kills = 0, sum = 0, dups = 0;
	pthread_t killer;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	memset(cl, 0, sizeof(cl));
	atomic_store(&stop, false);
	for (int k = 0; k < NCLIENTS; k++) {
		cl[k].id = k;
		snprintf(cl[k].proxy_id, sizeof(cl[k].proxy_id), "acct%d", k);
		assert_int_equal(pthread_create(&cl[k].th, NULL, client_main, &cl[k]), 0);
	}
	assert_int_equal(pthread_create(&killer, NULL, killer_main, &kills), 0);
	rfx_sleep_ms(RUN_MS);
	atomic_store(&stop, true);
	pthread_join(killer, NULL);
	for (int k = 0; k < NCLIENTS; k++)
		pthread_join(cl[k].th, NULL);

	for (int k = 0; k < NCLIENTS; k++) {
		printf("client %s: %llu requests, %llu packets, %llu failed calls retried, "
		       "%llu batches, %llu found applied on retry, %llu connects\n",
		       cl[k].proxy_id, (unsigned long long)cl[k].calls,
		       (unsigned long long)cl[k].total, (unsigned long long)cl[k].errors,
		       (unsigned long long)cl[k].st.batches,
		       (unsigned long long)cl[k].st.dup_batches,
		       (unsigned long long)cl[k].st.connects);
		if (cl[k].unexpected)
			fail_msg("client %s: %s", cl[k].proxy_id, cl[k].err);
		assert_true(cl[k].calls > 0);
		sum += cl[k].total;
		dups += cl[k].st.dup_batches;
	}
	printf("%llu packets in total, %llu connections killed, %llu batches found applied\n",
	       (unsigned long long)sum, (unsigned long long)kills, (unsigned long long)dups);
	check_totals(cl, NCLIENTS);
}

/* Cut a 20-batch pipeline after its third reply: the retry finds the applied ones. */
static void test_cut_mid_pipeline(void **state)
{
	struct sync_params sp = {
		.tt1_ms = 10000, .tt4_ms = 60000, .r = 2, .ttl_ms = 120000, .batch = 2
	};
	struct sync_pair_in in[NPAIR];
	struct sync_pair_out out[NPAIR];
	struct client cl = { .proxy_id = "cut0" };
	struct sync_conn_stats st;
	uint64_t rng = 7, dup = 0;
	char err[256];
	struct sync_conn *c;
	size_t n;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	c = open_conn(cl.proxy_id, err, sizeof(err));
	assert_non_null(c);
	n = make_request(&rng, in, NPAIR);
	sync_conn_fault_after(c, 3);
	assert_int_equal(sync_merge_batch(c, in, n, out, &sp), -ECONNRESET);
	assert_true(sync_conn_in_doubt(c));
	/* A different request now would reuse the doubtful sequence numbers. */
	assert_int_equal(sync_merge_batch(c, in, n - 1, out, &sp), -EINVAL);
	rfx_wait_clients(&fx, 1); /* the cut connection is gone: nothing more applies */
	assert_int_equal(sync_merge_batch(c, in, n, out, &sp), 0);
	assert_false(sync_conn_in_doubt(c));
	for (size_t i = 0; i < n; i++) {
		dup += !!(out[i].flags & SYNC_F_DUP);
		cl.pushed[pair_index(&in[i].key)] += in[i].dc;
		cl.total += in[i].dc;
	}
	sync_conn_stats(c, &st);
	printf("cut after 3 of %zu replies: %llu batches (%llu pairs) found applied on retry\n",
	       n / sp.batch, (unsigned long long)st.dup_batches, (unsigned long long)dup);
	/* the 3 acknowledged and the one read as the cut came, all full */
	assert_true(st.dup_batches >= 4);
	assert_int_equal(dup, st.dup_batches * sp.batch);
	check_totals(&cl, 1);
	sync_conn_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_exact),
		cmocka_unit_test(test_cut_mid_pipeline),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
