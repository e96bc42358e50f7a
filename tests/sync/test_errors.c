/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * When the master misbehaves: nobody listening, a bad address, a wrong or
 * missing password, a master that accepts but never answers, one paused
 * mid-merge, scripts flushed, a master restarted empty or flushed, and two
 * processes sharing a proxy id.  Each gives a clear error (-errno and a
 * line naming the master) after a bounded wait, or is handled transparently.
 * Waits are asserted as "returned an error", never by how long they took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "xpro/filter.h"
#include "sync/keys.h"
#include "sync/merge.h"
#include "sync/read.h"
#include "sync/redis.h"
#include "redis_fixture.h"

#define SHORT_MS 200 /* command timeout where a test expects one to expire */

static struct rfx fx, fx_pw;
static int silent_fd = -1;
static char silent_path[96];

static const struct sync_params sp = { .tt1_ms = 10000,
				       .tt4_ms = 60000,
				       .r = 2,
				       .ttl_ms = 60000,
				       .batch = 2 };

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

static struct sync_conn *try_open(const char *addr, const char *pw, const char *id, char *err)
{
	struct sync_conn_opts o = {
		.addr = addr, .password = pw, .proxy_id = id, .connect_ms = 500, .cmd_ms = SHORT_MS
	};
	struct sync_conn *c;

	err[0] = '\0';
	errno = 0;
	c = sync_conn_open(&o, err, 256);
	if (!c)
		printf("  open %s: %s (errno %d)\n", addr, err, errno);
	return c;
}

static void expect_open_fails(const char *addr, const char *pw, const char *id, int e,
			      const char *text)
{
	char err[256];
	struct sync_conn *c = try_open(addr, pw, id, err);

	assert_null(c);
	assert_int_equal(errno, e);
	if (!strstr(err, text))
		fail_msg("error '%s' does not say '%s'", err, text);
}

static void fill(struct sync_pair_in *in, size_t n, uint64_t dc)
{
	for (size_t i = 0; i < n; i++) {
		in[i] = (struct sync_pair_in){
			.ts1 = 1000000000ULL, .ts2 = 2000000000ULL, .c = dc, .dc = dc
		};
		xf_key_ipv4(&in[i].key, (uint32_t)i, htonl(0xcb007101));
	}
}

static void test_refused(void **state)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char addr[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* A port that was free a moment ago and that nobody listens on. */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	expect_open_fails(addr, NULL, "p1", ECONNREFUSED, addr);
	expect_open_fails("unix:/nonexistent/xpro/redis.sock", NULL, "p1", ENOENT, "No such file");
}

static void test_bad_options(void **state)
{
	(void)state;
	expect_open_fails("localhost", NULL, "p1", EINVAL, "'localhost'");
	expect_open_fails("localhost:0", NULL, "p1", EINVAL, "bad value");
	expect_open_fails("localhost:65536", NULL, "p1", EINVAL, "bad value");
	expect_open_fails("[::1:6379", NULL, "p1", EINVAL, "bad value");
	expect_open_fails("unix:", NULL, "p1", EINVAL, "bad value");
	expect_open_fails(fx.addr, NULL, "a b", EINVAL, "proxy id");
	expect_open_fails(fx.addr, NULL, "", EINVAL, "proxy id");
}

static int start_pw(void **state)
{
	(void)state;
	return rfx_start(&fx_pw, "s3cret");
}

static int stop_pw(void **state)
{
	(void)state;
	rfx_stop(&fx_pw);
	return 0;
}

static void test_password(void **state)
{
	char err[256];
	struct sync_conn *c;

	(void)state;
	expect_open_fails(fx_pw.addr, "wrong", "p1", EACCES, "WRONGPASS");
	expect_open_fails(fx_pw.addr, NULL, "p1", EACCES, "NOAUTH");
	/* A password for a master that has none is a configuration error too. */
	expect_open_fails(fx.addr, "s3cret", "p1", EACCES, "AUTH");
	c = try_open(fx_pw.addr, "s3cret", "p1", err);
	assert_non_null(c);
	sync_conn_close(c);
}

static int start_silent(void **state)
{
	(void)state;
	snprintf(silent_path, sizeof(silent_path), "%s/silent.sock", fx.dir);
	silent_fd = rfx_silent_socket(silent_path);
	return 0;
}

static int stop_silent(void **state)
{
	(void)state;
	if (silent_fd >= 0)
		close(silent_fd);
	silent_fd = -1;
	unlink(silent_path);
	return 0;
}

/* Accepts connections (the kernel's backlog does) but never answers. */
static void test_silent_master(void **state)
{
	char addr[160];

	(void)state;
	snprintf(addr, sizeof(addr), "unix:%s", silent_path);
	expect_open_fails(addr, NULL, "p1", ETIMEDOUT, "no answer within 200 ms");
}

/* A master that stops answering mid-round: a bounded wait, then the same request again. */
static void test_paused_master(void **state)
{
	struct sync_pair_in in[6];
	struct sync_pair_out out[6];
	struct sync_record rec;
	char err[256];
	struct sync_conn *c;
	int rc, tries = 0;

	(void)state;
	rfx_ok(&fx, "FLUSHALL");
	c = try_open(fx.addr, NULL, "paused", err);
	assert_non_null(c);
	fill(in, 6, 5);
	rfx_ok(&fx, "CLIENT PAUSE 1000 ALL");
	assert_int_equal(sync_merge_batch(c, in, 6, out, &sp), -ETIMEDOUT);
	printf("  paused: %s\n", sync_conn_strerror(c));
	assert_non_null(strstr(sync_conn_strerror(c), "no answer within"));
	assert_true(sync_conn_in_doubt(c));
	while ((rc = sync_merge_batch(c, in, 6, out, &sp)) && tries++ < 100)
		rfx_sleep_ms(50);
	assert_int_equal(rc, 0);
	printf("  paused: merged after %d more tries\n", tries);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(sync_read_pair(c, &in[i].key, &rec), 0);
		assert_int_equal(rec.total, 5);
	}
	sync_conn_close(c);
}

/* Scripts flushed (or a master that never had them): re-loaded without a word. */
static void test_noscript(void **state)
{
	struct sync_pair_in in[5];
	struct sync_pair_out out[5];
	struct sync_conn_stats a, b;
	char err[256];
	struct sync_conn *c = try_open(fx.addr, NULL, "noscript", err);

	(void)state;
	assert_non_null(c);
	fill(in, 5, 1);
	assert_int_equal(sync_merge_batch(c, in, 5, out, &sp), 0);
	sync_conn_stats(c, &a);
	rfx_ok(&fx, "SCRIPT FLUSH");
	assert_int_equal(sync_merge_batch(c, in, 5, out, &sp), 0);
	sync_conn_stats(c, &b);
	assert_int_equal(b.script_loads, a.script_loads + 1);
	assert_int_equal(b.errors, a.errors);
	assert_int_equal(out[0].flags & SYNC_F_MERGE, SYNC_F_MERGE);
	sync_conn_close(c);
}

/* Restarted empty: the lost connection, then -ESTALE until the caller re-seeds. */
static void test_restarted_empty(void **state)
{
	struct sync_pair_in in[4];
	struct sync_pair_out out[4];
	struct sync_record rec;
	char err[256];
	struct sync_conn *c = try_open(fx.addr, NULL, "restart", err);
	int rc;

	(void)state;
	assert_non_null(c);
	fill(in, 4, 3);
	assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), 0);
	assert_int_equal(rfx_restart(&fx), 0);

	/* The old socket is dead: an I/O error (no SIGPIPE death), or already -ESTALE. */
	rc = sync_merge_batch(c, in, 4, out, &sp);
	printf("  restarted: %s\n", sync_conn_strerror(c));
	if (rc != -ESTALE) {
		assert_true(rc == -ECONNRESET || rc == -EIO);
		assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), -ESTALE);
		printf("  restarted: %s\n", sync_conn_strerror(c));
	}
	assert_non_null(strstr(sync_conn_strerror(c), "new instance"));
	assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), -ESTALE);
	/* Re-seed: accept the new master, push the full state. */
	assert_int_equal(sync_conn_resync(c), 0);
	assert_false(sync_conn_in_doubt(c));
	assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), 0);
	assert_int_equal(out[0].flags & SYNC_F_CREATE, SYNC_F_CREATE);
	assert_int_equal(sync_read_pair(c, &in[0].key, &rec), 0);
	assert_int_equal(rec.total, 3);

	/* Flushed without a restart: the script itself refuses. */
	rfx_ok(&fx, "FLUSHALL");
	assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), -ESTALE);
	assert_non_null(strstr(sync_conn_strerror(c), "XPRO GEN"));
	assert_int_equal(sync_conn_resync(c), 0);
	assert_int_equal(sync_merge_batch(c, in, 4, out, &sp), 0);
	sync_conn_close(c);
}

/* Two processes with one proxy id would skip each other's batches: refused. */
static void test_shared_proxy_id(void **state)
{
	struct sync_pair_in in[3];
	struct sync_pair_out out[3];
	char err[256];
	struct sync_conn *a = try_open(fx.addr, NULL, "twin", err);
	struct sync_conn *b = try_open(fx.addr, NULL, "twin", err);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	fill(in, 3, 1);
	assert_int_equal(sync_merge_batch(a, in, 3, out, &sp), 0);
	assert_int_equal(sync_merge_batch(b, in, 3, out, &sp), -EEXIST);
	printf("  twin: %s\n", sync_conn_strerror(b));
	assert_non_null(strstr(sync_conn_strerror(b), "used twice"));
	sync_conn_close(a);
	sync_conn_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test_setup_teardown(test_password, start_pw, stop_pw),
		cmocka_unit_test_setup_teardown(test_silent_master, start_silent, stop_silent),
		cmocka_unit_test(test_paused_master),
		cmocka_unit_test(test_noscript),
		cmocka_unit_test(test_restarted_empty),
		cmocka_unit_test(test_shared_proxy_id),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
