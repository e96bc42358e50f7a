// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Redis Cluster key slots (src/sync/slot.c): the specification's CRC16
 * vector and hash-tag examples, then every key of a varied set, braces
 * included, against CLUSTER KEYSLOT of a real redis-server started with
 * cluster-enabled yes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync/slot.h"
#include "redis_fixture.h"

static struct rfx fx;

static uint16_t slot_of(const char *key)
{
	return sync_key_slot(key, strlen(key));
}

static void test_spec_vectors(void **state)
{
	(void)state;
	/* "The CRC16 ... output for '123456789' is 0x31C3" (cluster spec, appendix A). */
	assert_int_equal(sync_crc16("123456789", 9), 0x31c3);
	assert_int_equal(sync_crc16("", 0), 0);
	assert_int_equal(slot_of("foo"), 12182);
	/* Hash tags, the specification's examples. */
	assert_int_equal(slot_of("{user1000}.following"), slot_of("user1000"));
	assert_int_equal(slot_of("{user1000}.followers"), slot_of("user1000"));
	assert_int_equal(slot_of("foo{}{bar}"), sync_crc16("foo{}{bar}", 10) % SYNC_SLOTS);
	assert_int_equal(slot_of("foo{{bar}}zap"), slot_of("{bar"));
	assert_int_equal(slot_of("foo{bar}{zap}"), slot_of("bar"));
	assert_int_equal(slot_of("{"), sync_crc16("{", 1) % SYNC_SLOTS);
	assert_int_equal(slot_of("}{"), sync_crc16("}{", 2) % SYNC_SLOTS);
	/* Binary keys: only the bytes count. */
	assert_int_equal(sync_key_slot("a\0b", 3), sync_crc16("a\0b", 3) % SYNC_SLOTS);
}

static int start(void **state)
{
	(void)state;
	return rfx_start_opts(&fx, &(struct rfx_opts){ .tcp = true, .cluster = true });
}

static int stop(void **state)
{
	(void)state;
	rfx_stop(&fx);
	return 0;
}

static void test_matches_a_cluster_node(void **state)
{
	static const char *const fixed[] = {
		"xpro:w",
		"{xpro}:w",
		"xpro:f:{0123456789abcdef}",
		"{}",
		"{}{x}",
		"a{b}c{d}",
		"{{}}",
		"}x{",
		"{x",
		"x}",
		"xpro:p:{7}:00112233445566778899aabbccddeeff",
	};
	char key[64];
	unsigned long long seed = 88172645463325252ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		redisReply *r = rfx_cmd(&fx, "CLUSTER KEYSLOT %s", fixed[i]);

		assert_int_equal(r->type, REDIS_REPLY_INTEGER);
		if (r->integer != slot_of(fixed[i]))
			fail_msg("'%s': redis says %lld, we say %u", fixed[i], r->integer,
				 slot_of(fixed[i]));
		freeReplyObject(r);
	}
	/* Random keys over an alphabet with braces, 1 to 40 bytes. */
	for (int k = 0; k < 2000; k++) {
		static const char abc[] = "ab{}:x0{}";
		size_t n;
		redisReply *r;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		n = 1 + seed % 40;
		for (size_t i = 0; i < n; i++)
			key[i] = abc[(seed >> (i % 48)) % (sizeof(abc) - 1)];
		key[n] = 0;
		r = rfx_cmd(&fx, "CLUSTER KEYSLOT %b", key, n);
		assert_int_equal(r->type, REDIS_REPLY_INTEGER);
		if (r->integer != sync_key_slot(key, n))
			fail_msg("'%s': redis says %lld, we say %u", key, r->integer,
				 sync_key_slot(key, n));
		freeReplyObject(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test_setup_teardown(test_matches_a_cluster_node, start, stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
