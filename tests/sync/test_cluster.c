// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Redis Cluster slot router (src/sync/cluster.c) against a real
 * three-master cluster the test builds from three cluster-enabled
 * redis-server processes on [::1] (redis-cli --cluster create): every key
 * lands on the node that owns its slot; a slot moved behind the router's
 * back is followed through MOVED, a slot being migrated through ASK; bad
 * seeds, a dead seed and a server that is not a cluster are refused with
 * their reasons.  Then the sync round over it (three engines of
 * tests/sync/world.h): the distributed attack held at T_F2 over three
 * shards, and a shard master SIGKILLed mid-attack: its replica is promoted,
 * the rounds follow it, the victim stays bounded, the totals are exact.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/wait.h>

#include "sync/cluster.h"
#include "sync/dst.h"
#include "sync/keys.h"
#include "sync/slot.h"
#include "redis_fixture.h"
#include "world.h"

#define NODES 3
#define ALL (2 * NODES) /* the last test's cluster: a replica per master */

/* A command that must not fail (any reply but an error). */
#define OK(f, ...)                                                 \
	do {                                                       \
		redisReply *r_ = rfx_cmd(f, __VA_ARGS__);          \
		if (r_->type == REDIS_REPLY_ERROR)                 \
			fail_msg("%s: %s", #__VA_ARGS__, r_->str); \
		freeReplyObject(r_);                               \
	} while (0)

static struct rfx fx[ALL];
static char ids[ALL][48];
static const unsigned lo[NODES] = { 0, 5461, 10923 }, hi[NODES] = { 5460, 10922, 16383 };

static int owner_of(uint16_t slot)
{
	for (int i = 0; i < NODES; i++)
		if (slot >= lo[i] && slot <= hi[i])
			return i;
	return -1;
}

/* Every live node of the first n says the cluster is ok and knows all n. */
static bool cluster_ok(int n)
{
	char known[32];

	snprintf(known, sizeof(known), "cluster_known_nodes:%d\r", n);
	for (int i = 0; i < n; i++) {
		redisReply *r;
		bool ok;

		if (!fx[i].pid)
			continue;
		r = rfx_cmd(&fx[i], "CLUSTER INFO");
		ok = r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok") &&
		     strstr(r->str, known);
		freeReplyObject(r);
		if (!ok)
			return false;
	}
	return true;
}

/* Run redis-cli --cluster create over fx[0..n): 0 when it exited 0. */
static int cluster_create(int n)
{
	char addrs[ALL][40], reps[4];
	const char *argv[ALL + 8];
	int argc = 0, st;
	pid_t pid;

	argv[argc++] = "redis-cli";
	argv[argc++] = "--cluster";
	argv[argc++] = "create";
	for (int i = 0; i < n; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "::1:%s", fx[i].port);
		argv[argc++] = addrs[i];
	}
	snprintf(reps, sizeof(reps), "%d", n == ALL ? 1 : 0);
	argv[argc++] = "--cluster-replicas";
	argv[argc++] = reps;
	argv[argc++] = "--cluster-yes";
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

/* The node of fx[] whose TCP port is port, or -1. */
static int node_by_port(long port)
{
	for (int i = 0; i < ALL; i++)
		if (fx[i].pid && atol(fx[i].port) == port)
			return i;
	return -1;
}

/*
 * Order fx[] as the tests expect: masters first, fx[i] owning slots
 * lo[i]..hi[i], then fx[NODES + i] the replica of fx[i].  redis-cli chose
 * the roles; this only renames them.
 */
static int order_nodes(int n)
{
	struct rfx tmp[ALL];
	int at[ALL];

	for (int i = 0; i < n; i++) {
		redisReply *r = rfx_cmd(&fx[i], "ROLE"), *k;
		int m = -1;

		if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
			freeReplyObject(r);
			return -1;
		}
		if (!strcmp(r->element[0]->str, "master")) {
			freeReplyObject(r);
			k = rfx_cmd(&fx[i], "CLUSTER COUNTKEYSINSLOT 0"); /* reachable */
			freeReplyObject(k);
			for (int j = 0; j < NODES; j++) {
				redisReply *sh = rfx_cmd(&fx[i], "CLUSTER NODES");
				char range[32];
				bool mine = false;

				snprintf(range, sizeof(range), " %u-%u", lo[j], hi[j]);
				for (char *line = sh->str; line && *line;) {
					char *nl = strchr(line, '\n');

					if (nl)
						*nl = '\0';
					if (strstr(line, "myself") && strstr(line, range))
						mine = true;
					line = nl ? nl + 1 : NULL;
				}
				freeReplyObject(sh);
				if (mine)
					m = j;
			}
			at[i] = m;
		} else {
			int mi = node_by_port(r->element[2]->type == REDIS_REPLY_INTEGER
						      ? (long)r->element[2]->integer
						      : -1);

			freeReplyObject(r);
			at[i] = mi < 0 ? -1 : -2 - mi; /* resolved below */
		}
		if (at[i] == -1)
			return -1;
	}
	for (int i = 0; i < n; i++)
		if (at[i] <= -2)
			at[i] = at[-2 - at[i]] < 0 ? -1 : at[-2 - at[i]] + NODES;
	for (int i = 0; i < n; i++) {
		if (at[i] < 0 || at[i] >= n)
			return -1;
		tmp[at[i]] = fx[i];
	}
	memcpy(fx, tmp, n * sizeof(fx[0]));
	return 0;
}

/*
 * n nodes: NODES masters with the slots split in three, then (n == ALL) a
 * replica of each, made into a cluster by redis-cli --cluster create, as an
 * operator would.
 */
static int build(int n, unsigned node_timeout_ms)
{
	for (int i = 0; i < n; i++)
		if (rfx_start_opts(&fx[i],
				   &(struct rfx_opts){ .tcp = true,
						       .cluster = true,
						       .node_timeout_ms = node_timeout_ms }))
			return -1;
	if (cluster_create(n)) {
		print_message("redis-cli --cluster create failed\n");
		return -1;
	}
	for (int t = 0; t < RFX_START_TRIES && !cluster_ok(n); t++)
		rfx_sleep_ms(50);
	if (!cluster_ok(n) || order_nodes(n)) {
		print_message("the cluster redis-cli created is not as expected\n");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		redisReply *r = rfx_cmd(&fx[i], "CLUSTER MYID");

		snprintf(ids[i], sizeof(ids[i]), "%s", r->str);
		freeReplyObject(r);
	}
	/* A replica that never finished its first sync may not be promoted. */
	for (int i = NODES; i < n; i++)
		rfx_wait_replica_up(&fx[i]);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return build(NODES, 0);
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < ALL; i++)
		rfx_stop(&fx[i]);
	return 0;
}

/*
 * The group's cluster replaced by one with a replica per master and a short
 * node timeout (the failover starts a second after a master dies).  Only
 * for the last test: a short timeout on a busy machine could fail a node
 * over in the middle of the others.
 */
static int setup_replicated(void **state)
{
	teardown(state);
	return build(ALL, 1000);
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

/*
 * A master is SIGKILLed; its replica is promoted by the cluster, and the
 * router, finding the old node gone, re-reads the map and writes there.
 */
static void test_failover_is_followed(void **state)
{
	struct sync_cluster *c = open_router();
	const char *argv[3] = { "SET", "failover-key", "after" };
	size_t len[3] = { 3, 12, 5 };
	uint16_t slot = sync_key_slot(argv[1], len[1]);
	int m = owner_of(slot), rc = 0, status;
	struct sync_cluster_stats st;
	redisReply *r = NULL;

	(void)state;
	assert_string_equal(sync_cluster_slot_node(c, slot), fx[m].tcp_addr);
	freeReplyObject(run(c, "SET", "failover-key", "before"));
	kill(fx[m].pid, SIGKILL);
	waitpid(fx[m].pid, &status, 0);
	fx[m].pid = 0;
	/* Until the replica takes over, the command fails with a reason, never hangs. */
	for (int t = 0; t < 4 * RFX_START_TRIES; t++) {
		r = sync_cluster_command(c, 3, argv, len, 1, &rc);
		if (r && r->type == REDIS_REPLY_STATUS)
			break;
		if (r) {
			freeReplyObject(r);
			r = NULL;
		} else {
			assert_true(rc < 0);
		}
		rfx_sleep_ms(50);
	}
	if (!r) {
		redisReply *n = rfx_cmd(&fx[(m + 1) % NODES], "CLUSTER NODES");

		fail_msg("no failover seen: %s (%d); a survivor's view:\n%s",
			 sync_cluster_strerror(c), rc,
			 n->type == REDIS_REPLY_STRING ? n->str : "?");
	}
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	sync_cluster_stats(c, &st);
	assert_true(st.node_failures >= 1);
	assert_string_equal(sync_cluster_slot_node(c, slot), fx[m + NODES].tcp_addr);
	r = rfx_cmd(&fx[m + NODES], "GET %s", "failover-key");
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	assert_string_equal(r->str, "after");
	freeReplyObject(r);
	sync_cluster_close(c);
}

/* --- the sync round over the cluster ---------------------------------------------- */

static void seeds_of(char *out, size_t len)
{
	snprintf(out, len, "%s,%s", fx[1].tcp_addr, fx[2].tcp_addr);
}

/* The master (index into fx) that holds key now, as the cluster says. */
static int holder_of(const char *key)
{
	uint16_t slot = sync_key_slot(key, strlen(key));
	struct sync_cluster *c = open_router();
	const char *node = sync_cluster_slot_node(c, slot);
	int who = -1;

	for (int i = 0; i < ALL && node; i++)
		if (fx[i].pid && !strcmp(fx[i].tcp_addr, node))
			who = i;
	sync_cluster_close(c);
	return who;
}

/* Every proxy's total as the cluster holds it equals what it admitted. */
static void check_totals(struct world *W)
{
	for (int i = 0; i < NPROXY; i++) {
		struct sync_round_stats st;
		char key[48];
		int h;

		snprintf(key, sizeof(key), SYNC_KEY_PROXY_REC "{%s}", W->px[i].id);
		h = holder_of(key);
		assert_true(h >= 0);
		sync_round_stats(W->px[i].r, &st);
		if (st.state != SYNC_STATE_UP)
			fail_msg("%s: %s (%s)", W->px[i].id, sync_state_name(st.state), st.error);
		assert_int_equal(st.packets_merged, admitted(&W->px[i]));
		assert_int_equal((uint64_t)rfx_hget(&fx[h], key, "total"), st.packets_merged);
	}
}

/* The distributed attack of test_round, synced over three shards. */
static void test_round_over_cluster(void **state)
{
	struct world W;
	struct sync_round_stats st;
	uint64_t at3, rate, first = 0;
	char seeds[80];

	(void)state;
	seeds_of(seeds, sizeof(seeds));
	assert_int_equal(
		world_up_opts(
			&W, &(struct world_opts){ .sync = true, .cmd_ms = 1000, .cluster = seeds }),
		0);
	for (int i = 0; i < 300; i++)
		step(&W, true);
	at3 = victim_pass(&W);
	for (int i = 0; i < 300; i++)
		step(&W, true);
	rate = (victim_pass(&W) - at3) / 3;
	final_rounds(&W);
	for (int i = 0; i < NPROXY; i++) {
		assert_true(W.px[i].first_drop > 0);
		if (W.px[i].first_drop - T0 > first)
			first = W.px[i].first_drop - T0;
		sync_round_stats(W.px[i].r, &st);
		assert_int_equal(st.store_nodes, NODES);
		assert_int_equal(st.rounds_failed, 0);
		assert_int_equal(st.others, NPROXY - 1);
		assert_int_equal(W.px[i].bystander_pass, 60);
	}
	printf("cluster of %d: victim receives %" PRIu64 " pkt/s (T_F2 %d), every proxy dropping "
	       "after %" PRIu64 " ms\n",
	       NODES, rate, TF2, (uint64_t)(first / XF_NSEC_PER_MSEC));
	assert_true(first <= MS(TT3_MS + 2 * PERIOD_MS + STEP_MS));
	assert_true(rate >= TF2 * 8 / 10 && rate <= TF2 * 12 / 10);
	check_totals(&W);
	world_down(&W);
}

/*
 * Mid-attack, the master holding the victim's bucket is SIGKILLed; its
 * replica is promoted after the node timeout.  Time runs at wall speed
 * here (a 10 ms step sleeps 10 ms) so that the failover happens inside the
 * attack.  Nothing crashes, the victim stays bounded throughout, and once
 * the rounds follow the new master every total is exact again: what
 * asynchronous replication lost is rewritten by the next round, because
 * every value is absolute.
 */
static void test_round_failover(void **state)
{
	struct world W;
	struct sync_round_stats st;
	struct xf_key vk = bot(0, 0, "198.19.1.1");
	uint64_t t_kill, pass0, pass_kill, secs, failed = 0;
	char seeds[80], key[32];
	int m, status;

	(void)state;
	seeds_of(seeds, sizeof(seeds));
	snprintf(key, sizeof(key), SYNC_KEY_BUCKET "{%u}", sync_dst_bucket(vk.dst));
	m = holder_of(key);
	assert_true(m >= 0 && m < NODES);
	/* A seed that will survive: the killed master must not be the only one given. */
	snprintf(seeds, sizeof(seeds), "%s,%s", fx[(m + 1) % NODES].tcp_addr,
		 fx[(m + 2) % NODES].tcp_addr);
	assert_int_equal(
		world_up_opts(
			&W, &(struct world_opts){ .sync = true, .cmd_ms = 300, .cluster = seeds }),
		0);
	for (int i = 0; i < 300; i++)
		step(&W, true);
	pass0 = victim_pass(&W);
	kill(fx[m].pid, SIGKILL);
	waitpid(fx[m].pid, &status, 0);
	fx[m].pid = 0;
	t_kill = W.t;
	for (int i = 0; i < 800; i++) { /* 8 s at wall speed */
		step(&W, true);
		rfx_sleep_ms(STEP_MS);
	}
	pass_kill = victim_pass(&W) - pass0;
	final_rounds(&W);
	final_rounds(&W);
	secs = (W.t - t_kill) / XF_NSEC_PER_SEC;
	for (int i = 0; i < NPROXY; i++) {
		sync_round_stats(W.px[i].r, &st);
		failed += st.failed_buckets;
	}
	printf("failover: shard %d killed; buckets that failed meanwhile %" PRIu64
	       "; the victim received %" PRIu64 " pkt/s over the %" PRIu64
	       " s after the kill (T_F2 %d); the bucket now on %s\n",
	       m, failed, pass_kill / secs, secs, TF2, fx[holder_of(key)].tcp_addr);
	assert_true(failed > 0);
	assert_int_equal(holder_of(key), m + NODES);
	assert_true(pass_kill <= (uint64_t)TF2 * 11 / 10 * secs);
	check_totals(&W);
	world_down(&W);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_land_on_their_owner),
		cmocka_unit_test(test_moved_is_followed),
		cmocka_unit_test(test_ask_is_followed),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_round_over_cluster),
		cmocka_unit_test_setup(test_failover_is_followed, setup_replicated),
		cmocka_unit_test_setup(test_round_failover, setup_replicated),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
