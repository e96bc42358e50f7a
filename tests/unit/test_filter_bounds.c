/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounds of the filter engine (docs/algorithm.md gap 5): spraying devices,
 * a full table, capacity coming back, and the memory bound measured.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/filter.h"
#include "filter_fixture.h"

#define MS(x) ((uint64_t)(x)*XF_NSEC_PER_MSEC)
#define SEC(x) ((uint64_t)(x)*XF_NSEC_PER_SEC)
#define T0 SEC(1000)

static struct xf_engine *fx_engine(struct fx *f, const struct xf_params *p, uint32_t max_records,
				   uint32_t max_dsts)
{
	return fx_engine_new(f, p, max_records, max_dsts, 0x5eed);
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

static bool find_pair(struct xf_engine *e, const struct xf_key *k)
{
	struct xf_pair_view v;
	bool found;

	rcu_read_lock();
	found = xf_engine_pair(e, k, &v);
	rcu_read_unlock();
	return found;
}

static bool find_dst(struct xf_engine *e, const uint8_t dst[16])
{
	struct xf_dst_view v;
	bool found;

	rcu_read_lock();
	found = xf_engine_dst(e, dst, &v);
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

#define EXPECT(w, k, t, v) assert_int_equal(filt((w), (k), (t)), (v))

#define CHECK_ESTATS(e, pairs_, dsts_, devs_)           \
	do {                                            \
		struct xf_engine_stats es_ = estats(e); \
		assert_int_equal(es_.pairs, (pairs_));  \
		assert_int_equal(es_.dsts, (dsts_));    \
		assert_int_equal(es_.devs, (devs_));    \
	} while (0)

/*
 * Destination number i, all distinct: IPv4 (scattered by a bijection of i)
 * for even i, IPv6 in 2001:db8::/32 with i in the low bytes for odd i.
 */
static void dst_key(struct xf_key *k, uint32_t dev, uint32_t i)
{
	uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x5a, 0x17 };
	uint32_t x;

	if (i % 2 == 0) {
		x = (i * 0x9e3779b1u) ^ 0x5bd1e995u;
		xf_key_ipv4(k, dev, htonl(x));
	} else {
		x = htonl(i);
		a[8] = (uint8_t)(i * 37);
		memcpy(&a[12], &x, sizeof(x));
		xf_key_ipv6(k, dev, a);
	}
}

/* Take every delta, then free all that has been idle longer than T_T1. */
static size_t harvest_reclaim(struct xf_engine *e, uint64_t now)
{
	xf_engine_harvest(e, NULL, NULL);
	return xf_engine_reclaim(e, now);
}

/* --- spraying device: max_dsts_per_dev ---------------------------------------- */

static void test_spray_devcap(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e = fx_engine(f, &p, 100000, 64);
	struct xf_worker *w = f->w;
	const uint32_t bot = 666, n = 5000;
	uint64_t t = T0, pass = 0, devcap = 0;
	struct xf_worker_stats s;
	struct xf_key k;
	unsigned v;
	uint32_t i;

	for (i = 0; i < n; i++) {
		dst_key(&k, bot, i);
		v = filt(w, &k, t);
		t += 1000; /* 1 us apart: a fast scan */
		if (i < 64) {
			assert_int_equal(v, XF_PASS);
			pass++;
		} else {
			assert_int_equal(v, XF_DROP_DEVCAP);
			devcap++;
			/* nothing changes for a refused pair */
			if (i % 500 == 0) {
				assert_false(find_pair(e, &k));
				assert_false(find_dst(e, k.dst));
			}
		}
	}
	s = wstats(w);
	assert_int_equal(s.verdict[XF_PASS], 64);
	assert_int_equal(s.verdict[XF_DROP_DEVCAP], n - 64);
	assert_int_equal(s.pairs_created, 64);
	CHECK_ESTATS(e, 64, 64, 1);
	print_message("spray: %u destinations from one device: %" PRIu64 " pass, %" PRIu64
		      " devcap\n",
		      n, pass, devcap);

	/* the sprayer's existing pairs still pass */
	dst_key(&k, bot, 3);
	EXPECT(w, &k, t, XF_PASS);
	dst_key(&k, bot, 63);
	EXPECT(w, &k, t, XF_PASS);
	dst_key(&k, bot, 64);
	EXPECT(w, &k, t, XF_DROP_DEVCAP);

	/* another device creates pairs, also to destinations refused to the bot */
	for (i = 0; i < 50; i++) {
		dst_key(&k, 7, 1000 + i);
		EXPECT(w, &k, t, XF_PASS);
	}
	CHECK_ESTATS(e, 114, 114, 2);

	/* after harvest and reclaim past T_T1 the bot may create pairs again */
	t += MS(p.tt1_ms) + 1;
	assert_int_equal(harvest_reclaim(e, t), 114);
	CHECK_ESTATS(e, 0, 0, 0);
	for (i = 0; i < 64; i++) {
		dst_key(&k, bot, 10000 + i);
		EXPECT(w, &k, t, XF_PASS);
	}
	dst_key(&k, bot, 10064);
	EXPECT(w, &k, t, XF_DROP_DEVCAP);
}

/* The device cap is checked before the table cap (step 1). */
static void test_devcap_before_full(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e = fx_engine(f, &p, 10, 5);
	struct xf_worker *w = f->w;
	struct xf_key k;
	uint32_t i;

	for (i = 0; i < 5; i++) {
		dst_key(&k, 1, i);
		EXPECT(w, &k, T0, XF_PASS);
		dst_key(&k, 2, 100 + i);
		EXPECT(w, &k, T0, XF_PASS);
	}
	CHECK_ESTATS(e, 10, 10, 2);
	dst_key(&k, 1, 50);
	EXPECT(w, &k, T0, XF_DROP_DEVCAP);
	dst_key(&k, 3, 50);
	EXPECT(w, &k, T0, XF_DROP_FULL);
	/* an existing destination, new device: still a new pair */
	dst_key(&k, 3, 0);
	EXPECT(w, &k, T0, XF_DROP_FULL);
	dst_key(&k, 2, 104);
	EXPECT(w, &k, T0, XF_PASS);
	CHECK_ESTATS(e, 10, 10, 2);
	assert_int_equal(wstats(w).pairs_created, 10);
}

/* --- full table: max_records ------------------------------------------------------ */

static void test_table_full(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e;
	struct xf_worker *w;
	struct xf_worker_stats s;
	uint64_t t = T0;
	struct xf_key k;
	uint32_t i;

	p.tt1_ms = 2000;
	e = fx_engine(f, &p, 100, 1000);
	w = f->w;

	/* 500 devices, one pair each, over 7 destinations */
	for (i = 0; i < 500; i++) {
		dst_key(&k, 1000 + i, i % 7);
		EXPECT(w, &k, t, i < 100 ? XF_PASS : XF_DROP_FULL);
	}
	s = wstats(w);
	assert_int_equal(s.verdict[XF_PASS], 100);
	assert_int_equal(s.verdict[XF_DROP_FULL], 400);
	assert_int_equal(s.pairs_created, 100);
	CHECK_ESTATS(e, 100, 7, 100);
	dst_key(&k, 1000 + 100, 100 % 7);
	assert_false(find_pair(e, &k));

	/* existing pairs keep passing, a known device gets no new pair */
	t += MS(500);
	for (i = 0; i < 100; i++) {
		dst_key(&k, 1000 + i, i % 7);
		EXPECT(w, &k, t, XF_PASS);
	}
	dst_key(&k, 1000, 8);
	EXPECT(w, &k, t, XF_DROP_FULL);

	/* devices 0..49 stay active; 50..99 go idle */
	t += MS(1000);
	for (i = 0; i < 50; i++) {
		dst_key(&k, 1000 + i, i % 7);
		EXPECT(w, &k, t, XF_PASS);
	}
	/* 50..99 idle exactly T_T1: nothing to reclaim yet */
	assert_int_equal(harvest_reclaim(e, T0 + MS(500) + MS(2000)), 0);
	/* idle T_T1 + 1 ns: exactly those 50 go, capacity for exactly 50 */
	assert_int_equal(harvest_reclaim(e, T0 + MS(500) + MS(2000) + 1), 50);
	CHECK_ESTATS(e, 50, 7, 50);
	t = T0 + MS(2600);
	for (i = 0; i < 51; i++) {
		dst_key(&k, 5000 + i, 20 + i);
		EXPECT(w, &k, t, i < 50 ? XF_PASS : XF_DROP_FULL);
	}
	CHECK_ESTATS(e, 100, 57, 100);
	for (i = 0; i < 50; i++) {
		dst_key(&k, 1000 + i, i % 7);
		EXPECT(w, &k, t, XF_PASS);
	}
}

/* --- memory bound, measured ------------------------------------------------------- */

#define MEM_MAX 200000u

struct mem_fill {
	uint64_t pass, full, other;
};

/*
 * Offer keys [from, to): key j has its own destination; its device is j when
 * devs_own, else device (j % MEM_MAX) (a device that already has a pair).
 * Sent in bursts of 64, 1 us apart.
 */
static void fill(struct xf_worker *w, uint32_t from, uint32_t to, bool devs_own, uint64_t *t,
		 struct mem_fill *out)
{
	struct xf_key keys[64];
	uint8_t v[64];
	uint32_t j, n, i;

	memset(out, 0, sizeof(*out));
	for (j = from; j < to; j += n) {
		n = to - j < 64 ? to - j : 64;
		for (i = 0; i < n; i++)
			dst_key(&keys[i], devs_own ? j + i + 1 : (j + i) % MEM_MAX + 1, j + i);
		rcu_read_lock();
		xf_filter_burst(w, keys, v, n, *t);
		rcu_read_unlock();
		for (i = 0; i < n; i++) {
			if (v[i] == XF_PASS)
				out->pass++;
			else if (v[i] == XF_DROP_FULL)
				out->full++;
			else
				out->other++;
		}
		*t += 1000;
	}
}

static uint64_t report(const char *what, struct xf_engine *e, uint64_t bound)
{
	struct xf_engine_stats s = estats(e);

	print_message("memory %-26s pairs=%" PRIu64 " dsts=%" PRIu64 " devs=%" PRIu64
		      " bytes_records=%" PRIu64 " bytes_tables=%" PRIu64 " sum=%" PRIu64
		      " alloc_bytes=%" PRIu64 " (%s) bound=%" PRIu64 " (%zu B/record)\n",
		      what, s.pairs, s.dsts, s.devs, s.bytes_records, s.bytes_tables,
		      s.bytes_records + s.bytes_tables, s.alloc_bytes, s.allocator, bound,
		      xf_bytes_per_record());
	assert_true(s.pairs <= MEM_MAX);
	assert_true(s.bytes_records + s.bytes_tables <= bound);
	if (s.alloc_bytes != 0)
		assert_true(s.alloc_bytes <= bound);
	return s.bytes_records + s.bytes_tables;
}

static void test_memory_bound(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e = fx_engine(f, &p, MEM_MAX, 1024);
	const uint64_t bound = (uint64_t)MEM_MAX * xf_bytes_per_record();
	struct xf_engine_stats s0, s1;
	struct mem_fill m;
	uint64_t t = T0, full_bytes;

	report("empty", e, bound);

	/* worst case: every pair with a device and a destination of its own */
	fill(f->w, 0, MEM_MAX, true, &t, &m);
	assert_int_equal(m.pass, MEM_MAX);
	assert_int_equal(m.full + m.other, 0);
	full_bytes = report("full (200000 keys)", e, bound);
	s0 = estats(e);
	assert_int_equal(s0.pairs, MEM_MAX);
	assert_int_equal(s0.dsts, MEM_MAX);
	assert_int_equal(s0.devs, MEM_MAX);

	/* 2x max_records distinct keys: new devices, then known devices */
	fill(f->w, MEM_MAX, MEM_MAX + MEM_MAX / 2, true, &t, &m);
	assert_int_equal(m.full, MEM_MAX / 2);
	assert_int_equal(m.pass + m.other, 0);
	fill(f->w, MEM_MAX + MEM_MAX / 2, 2 * MEM_MAX, false, &t, &m);
	assert_int_equal(m.full, MEM_MAX / 2);
	assert_int_equal(m.pass + m.other, 0);
	assert_int_equal(report("after 400000 keys", e, bound), full_bytes);
	s1 = estats(e);
	assert_int_equal(s1.pairs, s0.pairs);
	assert_int_equal(s1.dsts, s0.dsts);
	assert_int_equal(s1.devs, s0.devs);
	/* records freed through call_rcu are back after a grace period */
	rcu_barrier();
	s1 = estats(e);
	print_message("memory after rcu_barrier()           alloc_bytes=%" PRIu64 "\n",
		      s1.alloc_bytes);
	if (s0.alloc_bytes != 0)
		assert_int_equal(s1.alloc_bytes, s0.alloc_bytes);

	/* everything idles out; memory is handed back after a grace period */
	t += MS(p.tt1_ms) + 1;
	assert_int_equal(harvest_reclaim(e, t), MEM_MAX);
	rcu_barrier();
	CHECK_ESTATS(e, 0, 0, 0);
	s1 = estats(e);
	assert_int_equal(s1.bytes_records, 0);
	if (s0.alloc_bytes != 0)
		assert_true(s1.alloc_bytes < s0.alloc_bytes);
	report("reclaimed", e, bound);

	/* a second generation of 200000 fresh keys fits in the same bound */
	fill(f->w, 2 * MEM_MAX, 3 * MEM_MAX, true, &t, &m);
	assert_int_equal(m.pass, MEM_MAX);
	assert_int_equal(m.full + m.other, 0);
	report("refilled", e, bound);
	fill(f->w, 3 * MEM_MAX, 3 * MEM_MAX + 1000, true, &t, &m);
	assert_int_equal(m.full, 1000);
	CHECK_ESTATS(e, MEM_MAX, MEM_MAX, MEM_MAX);
}

/* The usual shape: few devices, many destinations each; same bound. */
static void test_memory_bound_shared(void **state)
{
	struct fx *f = *state;
	struct xf_params p = defaults();
	struct xf_engine *e = fx_engine(f, &p, MEM_MAX, 1000);
	const uint64_t bound = (uint64_t)MEM_MAX * xf_bytes_per_record();
	struct xf_key keys[64];
	uint8_t v[64];
	uint64_t t = T0, pass = 0, full = 0, devcap = 0;
	uint32_t j, i;

	/* 500 devices x 1000 destinations (shared between devices) = 2.5 x max */
	for (j = 0; j < 500 * 1000; j += 64) {
		for (i = 0; i < 64 && j + i < 500 * 1000; i++)
			dst_key(&keys[i], (j + i) % 500 + 1, (j + i) / 500);
		rcu_read_lock();
		xf_filter_burst(f->w, keys, v, i, t);
		rcu_read_unlock();
		while (i--) {
			pass += v[i] == XF_PASS;
			full += v[i] == XF_DROP_FULL;
			devcap += v[i] == XF_DROP_DEVCAP;
		}
		t += 1000;
	}
	assert_int_equal(pass, MEM_MAX);
	assert_int_equal(full, 500 * 1000 - MEM_MAX);
	assert_int_equal(devcap, 0);
	report("500 devs x 1000 dsts", e, bound);
	CHECK_ESTATS(e, MEM_MAX, 400, 500);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_spray_devcap), T(test_devcap_before_full),  T(test_table_full),
		T(test_memory_bound), T(test_memory_bound_shared),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
