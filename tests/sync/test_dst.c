// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination exchange (src/sync/dst.c) against a real redis-server,
 * held to a deliberately naive model of docs/sync.md ("The destination
 * round"): several proxies publish random windows for random destinations
 * at random times; after every call, what the exchange returns for each
 * destination must equal the model's sum over the other proxies' last
 * entries by the documented rules (dead after ttl, a window over after
 * T_T1 idle, rates and summaries only while fresh, the smallest share).
 * Then handoff records, the bucket markers after a flush, the sweep, and
 * values or keys that are not ours.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "redis_fixture.h"
#include "sync/dst.h"
#include "sync/keys.h"
#include "sync/store.h"

#define NPROXY 4
#define NDST 300
#define ROUNDS 60
#define TT1 2000000ULL /* us */
#define TTL 5000000ULL
#define FRESH 1000000ULL

static struct rfx srv;

static int setup(void **state)
{
	(void)state;
	return rfx_start(&srv, NULL);
}

static int teardown(void **state)
{
	(void)state;
	rfx_stop(&srv);
	return 0;
}

static struct sync_store *open_store(const char *id)
{
	char err[200];
	struct sync_store *s = sync_store_open(
		&(struct sync_store_opts){ .addr = srv.addr, .proxy_id = id }, err, sizeof(err));

	if (!s)
		fail_msg("sync_store_open: %s", err);
	return s;
}

static uint64_t rng_state = 0x1234567;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static void dst_of(int i, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = 198;
	out[13] = 19;
	out[14] = (uint8_t)(i >> 8);
	out[15] = (uint8_t)i;
}

/* The model: every proxy's last entry per destination, as written. */
struct model_entry {
	bool set;
	struct sync_dst_mine m;
	uint64_t wts;
};
static struct model_entry model[NPROXY][NDST];

static void model_sum(int me, int d, uint64_t now, struct sync_dst_sum *o)
{
	memset(o, 0, sizeof(*o));
	o->ok = true;
	o->sh.share = XF_SHARE_NONE;
	for (int p = 0; p < NPROXY; p++) {
		const struct model_entry *e = &model[p][d];

		if (p == me || !e->set || e->wts + TTL < now)
			continue;
		if (e->m.ts2 + TT1 >= now) {
			o->c += e->m.c;
			if (!o->proxies || e->m.ts1 < o->ts1)
				o->ts1 = e->m.ts1;
			if (e->m.ts2 > o->ts2)
				o->ts2 = e->m.ts2;
			o->proxies++;
		}
		if (e->wts + FRESH < now)
			continue;
		o->rate += e->m.rate;
		if (!e->m.has_share)
			continue;
		o->share_proxies++;
		o->sh.senders += e->m.sh.senders;
		o->sh.heavy += e->m.sh.heavy;
		o->sh.demand += e->m.sh.demand;
		o->sh.admitted += e->m.sh.admitted;
		if (e->m.sh.share != XF_SHARE_NONE &&
		    (o->sh.share == XF_SHARE_NONE || e->m.sh.share < o->sh.share))
			o->sh.share = e->m.sh.share;
	}
}

static const char *const ids[NPROXY] = { "p1", "p2", "p3", "p4" };

static void req_init(struct sync_dst_req *q, int me, uint64_t now, uint32_t *peers)
{
	size_t np = 0;

	for (int p = 0; p < NPROXY; p++)
		if (p != me)
			peers[np++] = sync_proxy_num(ids[p]);
	*q = (struct sync_dst_req){ .now_us = now,
				    .tt1_us = TT1,
				    .ttl_us = TTL,
				    .fresh_us = FRESH,
				    .peers = peers,
				    .npeers = np };
}

/* Random rounds of random proxies; every answer checked against the model. */
static void test_sums_match_the_model(void **state)
{
	struct sync_store *s[NPROXY];
	struct sync_dst *d[NPROXY];
	static struct sync_dst_mine mine[NDST];
	static struct sync_dst_sum out[NDST];
	static int which[NDST];
	uint64_t now = 1000000000, checked = 0, live = 0, shares = 0;

	(void)state;
	for (int p = 0; p < NPROXY; p++) {
		s[p] = open_store(ids[p]);
		d[p] = sync_dst_new(ids[p]);
	}
	for (int r = 0; r < ROUNDS; r++) {
		int me = (int)rnd(NPROXY);
		struct sync_dst_stats st;
		struct sync_dst_req q;
		uint32_t peers[NPROXY];
		size_t n = 0;

		now += rnd(800000); /* up to 0.8 s between calls: entries age and die */
		for (int i = 0; i < NDST; i++) {
			struct sync_dst_mine *m = &mine[n];

			if (rnd(3))
				continue;
			memset(m, 0, sizeof(*m));
			dst_of(i, m->dst);
			m->ts2 = now - rnd(2 * TT1);
			m->ts1 = m->ts2 - rnd(10000000);
			m->c = rnd(100000);
			m->rate = rnd(50000);
			m->has_share = rnd(2);
			if (m->has_share) {
				m->sh.senders = (uint32_t)rnd(100);
				m->sh.heavy = (uint32_t)rnd(10);
				m->sh.demand = rnd(1000000);
				m->sh.admitted = rnd(1000000);
				m->sh.share = rnd(4) ? rnd(100000) + 1 : XF_SHARE_NONE;
			}
			which[n++] = i;
		}
		req_init(&q, me, now, peers);
		q.mine = mine;
		q.out = out;
		q.n = n;
		assert_int_equal(sync_dst_exchange(d[me], s[me], &q, &st), 0);
		assert_int_equal(st.failed_buckets, 0);
		for (size_t j = 0; j < n; j++) {
			struct sync_dst_sum want;

			model_sum(me, which[j], now, &want);
			assert_true(out[j].ok);
			assert_int_equal(out[j].proxies, want.proxies);
			assert_int_equal(out[j].c, want.c);
			assert_int_equal(out[j].ts1, want.ts1);
			assert_int_equal(out[j].ts2, want.ts2);
			assert_int_equal(out[j].rate, want.rate);
			assert_int_equal(out[j].share_proxies, want.share_proxies);
			assert_int_equal(out[j].sh.senders, want.sh.senders);
			assert_int_equal(out[j].sh.heavy, want.sh.heavy);
			assert_int_equal(out[j].sh.demand, want.sh.demand);
			assert_int_equal(out[j].sh.admitted, want.sh.admitted);
			assert_int_equal(out[j].sh.share, want.sh.share);
			checked++;
			live += want.proxies > 0;
			shares += want.share_proxies > 0;
		}
		for (size_t j = 0; j < n; j++) {
			model[me][which[j]].set = true;
			model[me][which[j]].m = mine[j];
			model[me][which[j]].wts = now;
		}
	}
	printf("    %" PRIu64 " destination answers checked, %" PRIu64 " with live windows of "
	       "others, %" PRIu64 " with their summaries\n",
	       checked, live, shares);
	/* The trace reached every rule, or it proves little. */
	assert_true(live > 100 && shares > 100 && live < checked);
	for (int p = 0; p < NPROXY; p++) {
		sync_dst_free(d[p]);
		sync_store_close(s[p]);
	}
}

/* A device's record: written by one proxy, read by another, never by its writer. */
static void test_handoff_records(void **state)
{
	struct sync_store *a = open_store("ha"), *b = open_store("hb");
	struct sync_dst *da = sync_dst_new("ha"), *db = sync_dst_new("hb");
	struct sync_handoff_pair hw[70], hro[80];
	uint32_t pb = sync_proxy_num("hb"), pa = sync_proxy_num("ha"), dev = 77;
	struct sync_dst_stats st;
	struct sync_dst_req q;

	(void)state;
	for (int i = 0; i < 70; i++) {
		hw[i] = (struct sync_handoff_pair){
			.dev = dev, .c = 100 + (uint64_t)i, .ts1 = 5000, .ts2 = 9000 + (uint64_t)i
		};
		dst_of(i, hw[i].dst);
	}
	q = (struct sync_dst_req){ .now_us = 10000,
				   .tt1_us = TT1,
				   .ttl_us = TTL,
				   .fresh_us = FRESH,
				   .peers = &pb,
				   .npeers = 1,
				   .hw = hw,
				   .nhw = 70,
				   .hr = &dev,
				   .nhr = 1,
				   .hro = hro,
				   .hro_cap = 80 };
	assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	assert_int_equal(q.nhro, 0); /* nothing there yet, and never our own */
	q.peers = &pa;
	q.hw = NULL;
	q.nhw = 0;
	q.now_us = 20000;
	assert_int_equal(sync_dst_exchange(db, b, &q, &st), 0);
	/* A record holds 64 pairs: the first 64 the caller gave (it sorts the heaviest first). */
	assert_int_equal(q.nhro, SYNC_HANDOFF_MAX);
	for (size_t i = 0; i < q.nhro; i++) {
		assert_int_equal(hro[i].dev, dev);
		assert_int_equal(hro[i].c, 100 + i);
		assert_int_equal(hro[i].ts1, 5000);
		assert_int_equal(hro[i].ts2, 9000 + i);
	}
	/* The writer reads nothing back. */
	q.peers = &pb;
	assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	assert_int_equal(q.nhro, 0);
	/* A dead record (older than ttl) is not handed out. */
	q.peers = &pa;
	q.now_us = 20000 + TTL;
	assert_int_equal(sync_dst_exchange(db, b, &q, &st), 0);
	assert_int_equal(q.nhro, 0);
	sync_dst_free(da);
	sync_dst_free(db);
	sync_store_close(a);
	sync_store_close(b);
}

/* A flush is noticed through the markers; the sweep deletes what died. */
static void test_markers_and_sweep(void **state)
{
	struct sync_store *a = open_store("ma");
	struct sync_dst *da = sync_dst_new("ma");
	static struct sync_dst_mine mine[200];
	static struct sync_dst_sum out[200];
	struct sync_dst_stats st;
	struct sync_dst_req q;
	uint64_t now = 2000000000, fields = 0;
	redisReply *r;

	(void)state;
	rfx_ok(&srv, "FLUSHALL");
	for (int i = 0; i < 200; i++) {
		memset(&mine[i], 0, sizeof(mine[i]));
		dst_of(1000 + i, mine[i].dst);
		mine[i].c = 5;
		mine[i].ts1 = mine[i].ts2 = now;
	}
	q = (struct sync_dst_req){ .now_us = now,
				   .tt1_us = TT1,
				   .ttl_us = TTL,
				   .fresh_us = FRESH,
				   .mine = mine,
				   .out = out,
				   .n = 200 };
	assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	assert_int_equal(st.stale_buckets, 0); /* first contact is not news */
	q.n = 0;
	q.now_us = ++now;
	assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	assert_int_equal(st.stale_buckets, 0);
	assert_true(st.buckets >= 100); /* the buckets written are checked, untouched */
	rfx_ok(&srv, "FLUSHALL");
	q.now_us = ++now;
	assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	{
		static bool seen[SYNC_BUCKETS];
		uint64_t distinct = 0;

		for (int i = 0; i < 200; i++) {
			unsigned k = sync_dst_bucket(mine[i].dst);

			distinct += !seen[k];
			seen[k] = true;
		}
		/* Every bucket we wrote to lost our entries, and says so. */
		assert_int_equal(st.stale_buckets, distinct);
	}
	/* Long after: every entry is dead; the sweep passes delete them all. */
	for (int i = 0; i < 3; i++) {
		q.n = 200;
		q.now_us = ++now;
		assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	}
	now += 2 * TTL;
	q.n = 0;
	for (int i = 0; i < 2 * SYNC_BUCKETS; i++) {
		q.now_us = ++now;
		assert_int_equal(sync_dst_exchange(da, a, &q, &st), 0);
	}
	r = rfx_cmd(&srv, "KEYS xpro:b:*");
	for (size_t i = 0; i < r->elements; i++)
		fields += (uint64_t)rfx_int(&srv, "HLEN %s", r->element[i]->str) - 1;
	freeReplyObject(r);
	printf("    sweep: %" PRIu64 " deleted, %" PRIu64 " fields left besides the markers\n",
	       st.swept, fields);
	assert_int_equal(fields, 0);
	assert_true(st.swept >= 200);
	sync_dst_free(da);
	sync_store_close(a);
}

/* Values that are not ours are skipped; a key of the wrong type fails its bucket only. */
static void test_foreign_values(void **state)
{
	struct sync_store *a = open_store("fa");
	struct sync_dst *da = sync_dst_new("fa");
	struct sync_dst_mine mine[2];
	struct sync_dst_sum out[2];
	uint32_t peer = sync_proxy_num("fb");
	struct sync_dst_stats st;
	struct sync_dst_req q;
	char key[32], field[SYNC_ENTRY_FIELD_LEN];
	unsigned k0, k1;
	int i = 0;

	(void)state;
	rfx_ok(&srv, "FLUSHALL");
	memset(mine, 0, sizeof(mine));
	dst_of(3000, mine[0].dst);
	/* A second destination in another bucket. */
	k0 = sync_dst_bucket(mine[0].dst);
	do
		dst_of(3001 + i++, mine[1].dst);
	while ((k1 = sync_dst_bucket(mine[1].dst)) == k0);
	/* The peer's field for mine[0] holds garbage; mine[1]'s bucket is a string. */
	memcpy(field, mine[0].dst, 16);
	field[16] = (char)(peer >> 24);
	field[17] = (char)(peer >> 16);
	field[18] = (char)(peer >> 8);
	field[19] = (char)peer;
	snprintf(key, sizeof(key), SYNC_KEY_BUCKET "{%u}", k0);
	freeReplyObject(rfx_cmd(&srv, "HSET %s %b %s", key, field, sizeof(field), "garbage"));
	snprintf(key, sizeof(key), SYNC_KEY_BUCKET "{%u}", k1);
	freeReplyObject(rfx_cmd(&srv, "SET %s notahash", key));
	q = (struct sync_dst_req){ .now_us = 100,
				   .tt1_us = TT1,
				   .ttl_us = TTL,
				   .fresh_us = FRESH,
				   .peers = &peer,
				   .npeers = 1,
				   .mine = mine,
				   .out = out,
				   .n = 2 };
	assert_true(sync_dst_exchange(da, a, &q, &st) < 0);
	assert_int_equal(st.failed_buckets, 1);
	assert_true(out[0].ok);
	assert_int_equal(out[0].proxies, 0); /* the garbage counted for nothing */
	assert_false(out[1].ok);
	sync_dst_free(da);
	sync_store_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_match_the_model),
		cmocka_unit_test(test_handoff_records),
		cmocka_unit_test(test_markers_and_sweep),
		cmocka_unit_test(test_foreign_values),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
