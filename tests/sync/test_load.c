/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Workload exchange (Algorithm 1 lines 1-2) on a real redis-server: each
 * proxy sees every other proxy's fresh W and not its own; entries nobody
 * refreshed within max_age disappear; the script survives SCRIPT FLUSH.
 * The replica's read gives the same entries and writes nothing (a real
 * read-only replica: tests/sync/test_round.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "sync/load.h"
#include "sync/redis.h"
#include "redis_fixture.h"

static struct rfx fx;

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

static struct sync_conn *open_as(const char *id, bool replica)
{
	struct sync_conn_opts o = { .addr = fx.addr, .proxy_id = id, .replica = replica };
	char err[256];
	struct sync_conn *c = sync_conn_open(&o, err, sizeof(err));

	if (!c)
		fail_msg("%s", err);
	return c;
}

static struct sync_conn *open_conn(const char *id)
{
	return open_as(id, false);
}

static void test_exchange(void **state)
{
	struct sync_conn *a = open_conn("pa"), *b = open_conn("pb"), *z = open_conn("pz");
	struct sync_load wa = { .pps = 1000, .util_permille = 250 };
	struct sync_load wb = { .pps = 2000, .util_permille = 500, .tun_addr = "198.18.0.2:7447" };
	struct sync_load got[4];

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	assert_int_equal(sync_exchange_loads(a, &wa, got, 4, 5000), 0);
	assert_int_equal(sync_exchange_loads(b, &wb, got, 4, 5000), 1);
	assert_string_equal(got[0].proxy_id, "pa");
	assert_int_equal(got[0].pps, 1000);
	assert_int_equal(got[0].util_permille, 250);
	assert_int_equal(sync_exchange_loads(a, NULL, got, 4, 5000), 1);
	assert_string_equal(got[0].proxy_id, "pb");
	assert_int_equal(got[0].pps, 2000);
	/* The tunnel address travels with W; a proxy that published none has an empty one. */
	assert_string_equal(got[0].tun_addr, "198.18.0.2:7447");
	assert_int_equal(sync_exchange_loads(b, NULL, got, 4, 5000), 1);
	assert_string_equal(got[0].tun_addr, "");
	/* A reader that publishes nothing sees both others; a short buffer gets the count. */
	assert_int_equal(sync_exchange_loads(z, NULL, got, 1, 5000), 2);
	assert_int_equal(sync_exchange_loads(z, NULL, NULL, 0, 5000), 2);
	wa.util_permille = 1001;
	assert_int_equal(sync_exchange_loads(a, &wa, got, 4, 5000), -EINVAL);

	/* Stale entries go: wait past a 10 ms max age (ages are the master's clock). */
	rfx_sleep_ms(30);
	assert_int_equal(sync_exchange_loads(z, NULL, got, 4, 10), 0);
	assert_int_equal(rfx_int(&fx, "HLEN %s", SYNC_KEY_LOAD), 0);

	rfx_ok(&fx, "SCRIPT FLUSH");
	wa.util_permille = 10;
	assert_int_equal(sync_exchange_loads(a, &wa, got, 4, 5000), 0);
	assert_int_equal(sync_exchange_loads(b, NULL, got, 4, 5000), 1);
	assert_int_equal(got[0].util_permille, 10);
	sync_conn_close(a);
	sync_conn_close(b);
	sync_conn_close(z);
}

static void test_read_loads(void **state)
{
	struct sync_conn *a = open_conn("pa"), *ra = open_as("pa", true), *rz = open_as("pz", true);
	struct sync_load wa = { .pps = 1000,
				.util_permille = 250,
				.tun_addr = "[2001:db8::1]:7447" };
	struct sync_load got[4];

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	assert_int_equal(sync_exchange_loads(a, &wa, got, 4, 5000), 0);
	/* Parsed as the master's readers parse it; our own entry is not among the others. */
	assert_int_equal(sync_read_loads(rz, got, 4, 5000), 1);
	assert_string_equal(got[0].proxy_id, "pa");
	assert_int_equal(got[0].pps, 1000);
	assert_int_equal(got[0].util_permille, 250);
	assert_string_equal(got[0].tun_addr, "[2001:db8::1]:7447");
	assert_int_equal(sync_read_loads(ra, got, 4, 5000), 0);
	/* Stale entries are skipped, never deleted: a replica cannot. */
	rfx_sleep_ms(30);
	assert_int_equal(sync_read_loads(rz, got, 4, 10), 0);
	assert_int_equal(rfx_int(&fx, "HLEN %s", SYNC_KEY_LOAD), 1);
	/* The script is loaded again after SCRIPT FLUSH, as the master's are. */
	rfx_ok(&fx, "SCRIPT FLUSH");
	assert_int_equal(sync_read_loads(rz, got, 4, 5000), 1);
	/* Only for replica connections. */
	assert_int_equal(sync_read_loads(a, got, 4, 5000), -EINVAL);
	sync_conn_close(a);
	sync_conn_close(ra);
	sync_conn_close(rz);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The master runs on this host, so its clock is our CLOCK_REALTIME: the
 * offset must match realtime - monotonic, within a generous sanity bound
 * (a wrong unit or sign would miss it by years).
 */
static void test_clock_offset(void **state)
{
	struct sync_conn *a = open_conn("clock");
	int64_t off, local;

	(void)state;
	assert_int_equal(sync_clock_offset(a, &off), 0);
	local = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	assert_true(off - local < 5000000000LL && local - off < 5000000000LL);
	sync_conn_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_read_loads),
		cmocka_unit_test(test_clock_offset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
