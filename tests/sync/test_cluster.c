// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Redis Cluster slot router (src/sync/cluster.c) against a real
 * three-master cluster the test builds from three cluster-enabled
 * redis-server processes on [::1] (CLUSTER MEET, ADDSLOTSRANGE): every key
 * lands on the node that owns its slot; a slot moved behind the router's
 * back is followed through MOVED, a slot being migrated through ASK; bad
 * seeds, a dead seed and a server that is not a cluster are refused with
 * their reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sync/cluster.h"
#include "sync/slot.h"
#include "redis_fixture.h"

#define NODES 3

/* A command that must not fail (any reply but an error). */
#define OK(f, ...)                                                 \
	do {                                                       \
		redisReply *r_ = rfx_cmd(f, __VA_ARGS__);          \
		if (r_->type == REDIS_REPLY_ERROR)                 \
			fail_msg("%s: %s", #__VA_ARGS__, r_->str); \
		freeReplyObject(r_);                               \
	} while (0)

static struct rfx fx[NODES];
static char ids[NODES][48];
static const unsigned lo[NODES] = { 0, 5461, 10923 }, hi[NODES] = { 5460, 10922, 16383 };

static int owner_of(uint16_t slot)
{
	for (int i = 0; i < NODES; i++)
		if (slot >= lo[i] && slot <= hi[i])
			return i;
	return -1;
}

static bool cluster_ok(void)
{
	for (int i = 0; i < NODES; i++) {
		redisReply *r = rfx_cmd(&fx[i], "CLUSTER INFO");
		bool ok = r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
			  strstr(r->str, "cluster_known_nodes:3");

		freeReplyObject(r);
		if (!ok)
			return false;
	}
	return true;
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++) {
		redisReply *r;

		if (rfx_start_opts(&fx[i], &(struct rfx_opts){ .tcp = true, .cluster = true }))
			return -1;
		r = rfx_cmd(&fx[i], "CLUSTER MYID");
		snprintf(ids[i], sizeof(ids[i]), "%s", r->str);
		freeReplyObject(r);
		r = rfx_cmd(&fx[i], "CLUSTER ADDSLOTSRANGE %u %u", lo[i], hi[i]);
		freeReplyObject(r);
	}
	for (int i = 1; i < NODES; i++)
		OK(&fx[0], "CLUSTER MEET ::1 %s %s", fx[i].port, fx[i].bus_port);
	for (int t = 0; t < RFX_START_TRIES && !cluster_ok(); t++)
		rfx_sleep_ms(50);
	return cluster_ok() ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NODES; i++)
		rfx_stop(&fx[i]);
	return 0;
}

static struct sync_cluster *open_router(void)
{
	char seeds[64], err[256] = "";
	struct sync_cluster *c;

	/* The second node as the only seed: it must learn the others from it. */
	snprintf(seeds, sizeof(seeds), "%s", fx[1].tcp_addr);
	c = sync_cluster_open(&(struct sync_cluster_opts){ .seeds = seeds }, err, sizeof(err));
	if (!c)
		fail_msg("sync_cluster_open: %s", err);
	return c;
}

static redisReply *run(struct sync_cluster *c, const char *cmd, const char *key, const char *val)
{
	const char *argv[3] = { cmd, key, val };
	size_t len[3] = { strlen(cmd), strlen(key), val ? strlen(val) : 0 };
	int rc = 1;
	redisReply *r = sync_cluster_command(c, val ? 3 : 2, argv, len, 1, &rc);

	if (!r)
		fail_msg("%s %s: %s (%d)", cmd, key, sync_cluster_strerror(c), rc);
	assert_int_equal(rc, 0);
	return r;
}

static void test_keys_land_on_their_owner(void **state)
{
	struct sync_cluster *c = open_router();
	char key[32], val[32];

	(void)state;
	assert_int_equal(sync_cluster_nodes(c), NODES);
	for (int k = 0; k < 300; k++) {
		uint16_t slot;
		int o;
		redisReply *r;

		snprintf(key, sizeof(key), "xpro:t:%d", k);
		snprintf(val, sizeof(val), "v%d", k);
		freeReplyObject(run(c, "SET", key, val));
		slot = sync_key_slot(key, strlen(key));
		o = owner_of(slot);
		assert_string_equal(sync_cluster_slot_node(c, slot), fx[o].tcp_addr);
		/* Straight from the owner: the value is there. */
		r = rfx_cmd(&fx[o], "GET %s", key);
		assert_int_equal(r->type, REDIS_REPLY_STRING);
		assert_string_equal(r->str, val);
		freeReplyObject(r);
	}
	/* One hash tag, one slot, one node: what a script over several keys needs. */
	assert_int_equal(sync_key_slot("{xpro:f:1}:a", 12), sync_key_slot("{xpro:f:1}:b", 12));
	sync_cluster_close(c);
}

static void test_moved_is_followed(void **state)
{
	struct sync_cluster *c = open_router();
	const char *key = "moved-key";
	uint16_t slot = sync_key_slot(key, strlen(key));
	int from = owner_of(slot), to = (from + 1) % NODES;
	struct sync_cluster_stats st;
	redisReply *r;

	(void)state;
	/* Behind the router's back: the slot (empty) now belongs to another node. */
	for (int i = 0; i < NODES; i++)
		OK(&fx[i], "CLUSTER SETSLOT %u NODE %s", slot, ids[to]);
	freeReplyObject(run(c, "SET", key, "here"));
	sync_cluster_stats(c, &st);
	assert_true(st.moved >= 1);
	assert_string_equal(sync_cluster_slot_node(c, slot), fx[to].tcp_addr);
	r = rfx_cmd(&fx[to], "GET %s", key);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "here");
	freeReplyObject(r);
	/* Put it back for the other tests. */
	OK(&fx[to], "DEL %s", key);
	for (int i = 0; i < NODES; i++)
		OK(&fx[i], "CLUSTER SETSLOT %u NODE %s", slot, ids[from]);
	sync_cluster_close(c);
}

static void test_ask_is_followed(void **state)
{
	struct sync_cluster *c = open_router();
	const char *key = "ask-key";
	uint16_t slot = sync_key_slot(key, strlen(key));
	int from = owner_of(slot), to = (from + 2) % NODES;
	struct sync_cluster_stats st;
	redisReply *r;

	(void)state;
	OK(&fx[to], "CLUSTER SETSLOT %u IMPORTING %s", slot, ids[from]);
	OK(&fx[from], "CLUSTER SETSLOT %u MIGRATING %s", slot, ids[to]);
	/* The key is not on the old owner: it sends us to the new one for this key only. */
	r = run(c, "GET", key, NULL);
	assert_int_equal(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
	freeReplyObject(run(c, "SET", key, "moving"));
	sync_cluster_stats(c, &st);
	assert_true(st.ask >= 2);
	/* ASK leaves the map alone: the slot is still the old owner's. */
	assert_string_equal(sync_cluster_slot_node(c, slot), fx[from].tcp_addr);
	rfx_ok(&fx[to], "ASKING");
	r = rfx_cmd(&fx[to], "GET %s", key);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "moving");
	freeReplyObject(r);
	sync_cluster_close(c);
}

static void expect_open_fails(const char *seeds, int want, const char *text)
{
	char err[256] = "";
	struct sync_cluster *c;

	c = sync_cluster_open(&(struct sync_cluster_opts){ .seeds = seeds, .connect_ms = 500 }, err,
			      sizeof(err));
	if (c)
		fail_msg("'%s' opened", seeds);
	assert_int_equal(errno, want);
	if (!strstr(err, text))
		fail_msg("'%s': message '%s' lacks '%s'", seeds, err, text);
}

static void test_refusals(void **state)
{
	struct rfx plain;
	char seeds[64];

	(void)state;
	expect_open_fails("", EINVAL, "no seed");
	expect_open_fails("::1:7000", EINVAL, "bad seed '::1:7000'");
	expect_open_fails("[::1]:0", EINVAL, "bad seed");
	expect_open_fails("[::1]:1", ECONNREFUSED, "connect");
	assert_int_equal(rfx_start_opts(&plain, &(struct rfx_opts){ .tcp = true }), 0);
	snprintf(seeds, sizeof(seeds), "%s", plain.tcp_addr);
	expect_open_fails(seeds, EPROTO, "CLUSTER SLOTS");
	rfx_stop(&plain);
	/* A dead seed first, a live one after it: the live one serves. */
	snprintf(seeds, sizeof(seeds), "[::1]:1,%s", fx[2].tcp_addr);
	{
		char err[256];
		struct sync_cluster *c = sync_cluster_open(
			&(struct sync_cluster_opts){ .seeds = seeds }, err, sizeof(err));

		assert_non_null(c);
		assert_int_equal(sync_cluster_nodes(c), NODES);
		sync_cluster_close(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_land_on_their_owner),
		cmocka_unit_test(test_moved_is_followed),
		cmocka_unit_test(test_ask_is_followed),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
