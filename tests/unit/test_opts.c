/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of xpro-proxy's keys: every key from the command line and from
 * a file, bad values of every type and the exact error text, unknown keys,
 * precedence, SIGHUP reload, and that --help, docs/config.md and the filter
 * engine's bounds agree with the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "read_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/proxy/config.h"
#include "dataplane/filter_int.h" /* xf_param_table: the engine's bounds */

#define MAXARGS 96

/* A command line that outlives the config parsed from it (reload re-reads it). */
struct cmdline {
	int argc;
	char *argv[MAXARGS];
};

static void cmd_init(struct cmdline *c)
{
	memset(c, 0, sizeof(*c));
	c->argv[c->argc++] = "xpro-proxy";
}

static void cmd_add(struct cmdline *c, const char *arg)
{
	assert_true(c->argc < MAXARGS - 1);
	c->argv[c->argc++] = (char *)arg;
}

/* Add a NULL-terminated list. */
static void cmd_addv(struct cmdline *c, ...)
{
	va_list ap;
	const char *a;

	va_start(ap, c);
	while ((a = va_arg(ap, const char *)))
		cmd_add(c, a);
	va_end(ap);
}

static char err[512];

static int parse(struct cmdline *c, struct px_config *cfg)
{
	memset(err, 0, sizeof(err));
	return px_config_parse(c->argc, c->argv, cfg, NULL, err, sizeof(err));
}

/* The command line "-i eth0 -P d.conf" plus the given args must fail with msg. */
static void expect_cli_error(const char *msg, ...)
{
	struct px_config cfg;
	struct cmdline c;
	const char *a;
	va_list ap;

	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", "-P", "d.conf", NULL);
	va_start(ap, msg);
	while ((a = va_arg(ap, const char *)))
		cmd_add(&c, a);
	va_end(ap);
	assert_true(parse(&c, &cfg) < 0);
	assert_string_equal(err, msg);
}

static struct px_config *text_cfg(const char *text, int *rc)
{
	static struct px_config cfg;

	px_config_defaults(&cfg);
	memset(err, 0, sizeof(err));
	*rc = px_config_parse_text("proxy.conf", text, strlen(text), &cfg, err, sizeof(err));
	return &cfg;
}

static void expect_file_error(const char *text, const char *msg)
{
	int rc;

	text_cfg(text, &rc);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(err, msg);
}

/* --- files ------------------------------------------------------------------ */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/xpro-test-opts-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

/* Write text to tmpdir/name; returns the path (static, one per name slot). */
static const char *write_file(const char *name, const char *text)
{
	static char paths[4][128];
	static int slot;
	char *path = paths[slot++ % 4];
	FILE *f;

	snprintf(path, 128, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

/* --- every key ------------------------------------------------------------- */

/* One non-default value for every key but the command-line-only ones. */
static const struct {
	const char *key, *value;
} every[] = {
	{ "iface", "eth7" },
	{ "provision", "/etc/xpro/devices.conf" },
	{ "queues", "0-2,5" },
	{ "cpus", "1,3,5-6" },
	{ "xdp-mode", "generic" },
	{ "xsk-mode", "zerocopy" },
	{ "batch", "32" },
	{ "ring-size", "1024" },
	{ "umem-frames", "4096" },
	{ "busy-poll", "yes" },
	{ "port", "9000" },
	{ "hold-ms", "2500" },
	{ "tt1-ms", "20000" },
	{ "tt2-ms", "2000" },
	{ "tt3-ms", "3000" },
	{ "tt4-ms", "120000" },
	{ "tf1", "500" },
	{ "tf2", "5000" },
	{ "r", "4" },
	{ "warn-interval-ms", "0" },
	{ "dst-policy", "fcfs" },
	{ "pair-burst-ms", "150" },
	{ "dst-burst-ms", "30" },
	{ "tflag-ms", "0" },
	{ "rate-ms", "800" },
	{ "max-records", "4096" },
	{ "max-dsts", "16" },
	{ "stage", "filter" },
	{ "stats-file", "/run/xpro/s.json" },
	{ "tick-ms", "100" },
	{ "pin-root", "/sys/fs/bpf/t" },
	{ "redis", "198.18.0.1:6379" },
	{ "redis-replica", "127.0.0.1:6380" },
	{ "redis-password", "s3cret" },
	{ "proxy-id", "px-1.a_b" },
	{ "sync-ms", "250" },
	{ "redis-timeout-ms", "500" },
	{ "log-level", "debug" },
	{ "verbose", "2" },
	{ "ctl-socket", "/run/xpro/t.sock" },
	{ "metrics", "127.0.0.1:9464" },
};
#define NEVERY (sizeof(every) / sizeof(every[0]))

/* Field by field, so that a wrong offset in the table cannot hide. */
static void check_every(const struct px_config *c)
{
	static const int queues[] = { 0, 1, 2, 5 }, cpus[] = { 1, 3, 5, 6 };

	assert_string_equal(c->ifname, "eth7");
	assert_string_equal(c->provision, "/etc/xpro/devices.conf");
	assert_int_equal(c->nqueues, 4);
	assert_memory_equal(c->queues, queues, sizeof(queues));
	assert_int_equal(c->queues[4], 0);
	assert_int_equal(c->ncpus, 4);
	assert_memory_equal(c->cpus, cpus, sizeof(cpus));
	assert_int_equal(c->xdp_mode, PX_XDP_GENERIC);
	assert_int_equal(c->xsk.mode, DP_XSK_ZEROCOPY);
	assert_int_equal(c->batch, 32);
	assert_int_equal(c->xsk.ring_size, 1024);
	assert_int_equal(c->xsk.frames, 4096);
	assert_true(c->xsk.busy_poll);
	assert_int_equal(c->port, 9000);
	assert_int_equal(c->hold_ms, 2500);
	assert_int_equal(c->params.tt1_ms, 20000);
	assert_int_equal(c->params.tt2_ms, 2000);
	assert_int_equal(c->params.tt3_ms, 3000);
	assert_int_equal(c->params.tt4_ms, 120000);
	assert_int_equal(c->params.tf1_pps, 500);
	assert_int_equal(c->params.tf2_pps, 5000);
	assert_int_equal(c->params.r, 4);
	assert_int_equal(c->params.warn_interval_ms, 0);
	assert_int_equal(c->limits.max_records, 4096);
	assert_int_equal(c->limits.max_dsts_per_dev, 16);
	assert_int_equal(c->stage, DP_STAGE_FILTER);
	assert_string_equal(c->stats_file, "/run/xpro/s.json");
	assert_int_equal(c->tick_ms, 100);
	assert_string_equal(c->pin_root, "/sys/fs/bpf/t");
	assert_string_equal(c->sync.master, "198.18.0.1:6379");
	assert_string_equal(c->sync.replica, "127.0.0.1:6380");
	assert_string_equal(c->sync.password, "s3cret");
	assert_string_equal(c->sync.proxy_id, "px-1.a_b");
	assert_int_equal(c->sync.period_ms, 250);
	assert_int_equal(c->sync.cmd_ms, 500);
	assert_int_equal(c->log_level, PX_LOG_DEBUG);
	assert_int_equal(c->verbose, 2);
	assert_int_equal(px_config_log_level(c), PX_LOG_DEBUG + 2);
	assert_string_equal(c->ctl_socket, "/run/xpro/t.sock");
	assert_string_equal(c->metrics, "127.0.0.1:9464");
}

/* A new key must get a sample above (and a line in check_every). */
static void test_every_key_has_a_sample(void **state)
{
	(void)state;
	for (size_t i = 0; i < px_nopts; i++) {
		/* redis-cluster excludes redis: test_redis_cluster has its sample. */
		bool found =
			px_opts[i].flags & PX_OPT_CLI || !strcmp(px_opts[i].name, "redis-cluster");

		for (size_t j = 0; j < NEVERY && !found; j++)
			found = !strcmp(every[j].key, px_opts[i].name);
		if (!found)
			fail_msg("key '%s' has no sample in test_opts.c", px_opts[i].name);
	}
	/* All but config, help, help-config-md, help-man, help-config-example and
	 * redis-cluster. */
	assert_int_equal(NEVERY, px_nopts - 6);
}

/* A cluster instead of one master: alone it parses; beside redis it is refused. */
static void test_redis_cluster(void **state)
{
	struct px_config cfg;
	struct cmdline c;

	(void)state;
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", "-P", "d.conf", "--redis-cluster",
		 "198.18.0.2:7000,[2001:db8::1]:7001", NULL);
	assert_int_equal(parse(&c, &cfg), 0);
	assert_string_equal(cfg.sync.cluster, "198.18.0.2:7000,[2001:db8::1]:7001");
	assert_string_equal(cfg.sync.master, "");
	expect_cli_error("redis-cluster: set with redis; give one of them", "--redis",
			 "198.18.0.1:6379", "--redis-cluster", "198.18.0.2:7000", NULL);
}

static void test_every_key_cli(void **state)
{
	struct px_config cfg;
	struct cmdline c;
	char opt[NEVERY][64];

	(void)state;
	cmd_init(&c);
	for (size_t i = 0; i < NEVERY; i++) {
		if (!strcmp(every[i].key, "verbose")) {
			cmd_add(&c, "-vv"); /* a count on the command line */
			continue;
		}
		snprintf(opt[i], sizeof(opt[i]), "--%s", every[i].key);
		cmd_add(&c, opt[i]);
		/* The flag takes its value attached; the others as the next word. */
		if (!strcmp(every[i].key, "busy-poll"))
			continue;
		cmd_add(&c, every[i].value);
	}
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	check_every(&cfg);
	assert_string_equal(cfg.config_file, "");
	assert_ptr_equal(cfg.argv, c.argv);
}

static void test_short_options(void **state)
{
	struct px_config cfg;
	struct cmdline c;

	(void)state;
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth7", "-P", "/etc/xpro/devices.conf", "-q", "0-2,5", "-c", "1,3,5-6",
		 "-b", "32", "-p", "9000", "-s", "/run/xpro/s.json", "-R", "198.18.0.1:6379", "-t",
		 "250", "-v", "-v", NULL);
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	assert_string_equal(cfg.ifname, "eth7");
	assert_string_equal(cfg.provision, "/etc/xpro/devices.conf");
	assert_int_equal(cfg.nqueues, 4);
	assert_int_equal(cfg.ncpus, 4);
	assert_int_equal(cfg.batch, 32);
	assert_int_equal(cfg.port, 9000);
	assert_string_equal(cfg.stats_file, "/run/xpro/s.json");
	assert_string_equal(cfg.sync.master, "198.18.0.1:6379");
	assert_int_equal(cfg.sync.period_ms, 250);
	assert_int_equal(cfg.verbose, 2);
}

static void every_key_text(char *text, size_t len)
{
	size_t off = 0;

	off += (size_t)snprintf(text + off, len - off, "# every key\n\n");
	for (size_t i = 0; i < NEVERY; i++)
		off += (size_t)snprintf(text + off, len - off, "%s%s = %s\n", i % 2 ? "  " : "",
					every[i].key, every[i].value);
	assert_true(off < len);
}

static void test_every_key_file(void **state)
{
	struct px_config cfg;
	struct cmdline c;
	char text[4096];
	const char *path;

	(void)state;
	every_key_text(text, sizeof(text));
	path = write_file("every.conf", text);
	cmd_init(&c);
	cmd_addv(&c, "-C", path, NULL);
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	check_every(&cfg);
	assert_string_equal(cfg.config_file, path);
}

/* What the file format says: comments, blanks, CRLF, '#' inside a value. */
static void test_file_format(void **state)
{
	struct px_config *c;
	int rc;

	(void)state;
	c = text_cfg("# a comment\n"
		     "\n"
		     "   \t\n"
		     "\ttf2=5000   # trailing comment\r\n"
		     "redis-password = pa#ss word\n"
		     "  # indented comment\n"
		     "hold-ms = 7",
		     &rc);
	if (rc)
		fail_msg("unexpected error: %s", err);
	assert_int_equal(c->params.tf2_pps, 5000);
	assert_string_equal(c->sync.password, "pa#ss word");
	assert_int_equal(c->hold_ms, 7);
	expect_file_error("proxy-id = px-2#\n", "proxy.conf:1: proxy-id: bad value 'px-2#' "
						"(only letters, digits, '.', '_' and '-')");
	/* A value never starts with '#'. */
	c = text_cfg("stats-file =#x\nproxy-id = # y\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(c->stats_file, "");
	assert_string_equal(c->sync.proxy_id, "");
	/* An empty string value clears a string key. */
	c = text_cfg("stats-file =\n", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(c->stats_file, "");
	/* An empty file changes nothing. */
	c = text_cfg("", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(c->params.tf2_pps, 10000);
}

static void test_defaults(void **state)
{
	struct px_config cfg, d;
	struct cmdline c;

	(void)state;
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", "-P", "d.conf", NULL);
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	/* One worker per RX queue, unpinned: start-up counts the queues. */
	assert_int_equal(cfg.nqueues, 0);
	assert_int_equal(cfg.ncpus, 0);
	assert_int_equal(cfg.xsk.mode, DP_XSK_AUTO);
	assert_int_equal(cfg.xdp_mode, PX_XDP_NATIVE);
	assert_int_equal(cfg.log_level, PX_LOG_INFO);
	assert_int_equal(cfg.port, XPRO_TUN_PORT_DEFAULT);
	assert_int_equal(cfg.params.tf2_pps, 10000);
	px_config_defaults(&d);
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];

		if (!(o->flags & (PX_OPT_REQUIRED | PX_OPT_CLI)) && !px_opt_equal(o, &cfg, &d))
			fail_msg("%s is not at its default", o->name);
	}
}

/* --- bad values ---------------------------------------------------------- */

static void test_bad_numbers(void **state)
{
	(void)state;
	expect_cli_error("--tf2: bad value '0' (must be 1..1000000000)", "--tf2", "0", NULL);
	expect_cli_error("--tf1: bad value '1000000001' (must be 1..1000000000)", "--tf1",
			 "1000000001", NULL);
	expect_cli_error("--port: bad value 'abc' (not a number)", "--port", "abc", NULL);
	expect_cli_error("--port: bad value '65536' (must be 1..65535)", "-p", "65536", NULL);
	expect_cli_error("--batch: bad value '-1' (not a number)", "--batch", "-1", NULL);
	expect_cli_error("--batch: bad value '+5' (not a number)", "--batch", "+5", NULL);
	expect_cli_error("--batch: bad value '0x10' (not a number)", "--batch", "0x10", NULL);
	expect_cli_error("--batch: bad value ' 5' (not a number)", "--batch", " 5", NULL);
	expect_cli_error("--batch: bad value '' (not a number)", "--batch", "", NULL);
	expect_cli_error("--batch: bad value '257' (must be 1..256)", "-b", "257", NULL);
	expect_cli_error("--hold-ms: bad value '99999999999999999999999' (must be 1..86400000)",
			 "--hold-ms", "99999999999999999999999", NULL);
	expect_cli_error("--r: bad value '0' (must be 1..1024)", "--r", "0", NULL);
	expect_cli_error("--sync-ms: bad value '9' (must be 10..60000)", "-t", "9", NULL);
	expect_cli_error("--tt1-ms: bad value '0' (must be 1..86400000)", "--tt1-ms", "0", NULL);
	expect_file_error("tf2 = 5000x\n", "proxy.conf:1: tf2: bad value '5000x' (not a number)");
	expect_file_error("\n\ntf2 = abc\n", "proxy.conf:3: tf2: bad value 'abc' (not a number)");
	expect_file_error("verbose = 4\n", "proxy.conf:1: verbose: bad value '4' (must be 0..3)");
	expect_file_error("tf2 =\n", "proxy.conf:1: tf2: bad value '' (not a number)");
}

/* Decimal, so a leading zero does not make it octal. */
static void test_leading_zero_is_decimal(void **state)
{
	struct px_config *c;
	int rc;

	(void)state;
	c = text_cfg("tf2 = 010\n", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(c->params.tf2_pps, 10);
}

static void test_bad_lists(void **state)
{
	char all[8];

	(void)state;
	expect_cli_error("--queues: bad value '3-1' (expected a list like 0-3,5 of numbers 0..63)",
			 "-q", "3-1", NULL);
	expect_cli_error("--queues: bad value '0,,1' (expected a list like 0-3,5 of numbers 0..63)",
			 "-q", "0,,1", NULL);
	expect_cli_error("--queues: bad value '64' (expected a list like 0-3,5 of numbers 0..63)",
			 "--queues", "64", NULL);
	expect_cli_error("--queues: bad value '1,' (expected a list like 0-3,5 of numbers 0..63)",
			 "--queues", "1,", NULL);
	expect_cli_error("--queues: bad value '0-' (expected a list like 0-3,5 of numbers 0..63)",
			 "--queues", "0-", NULL);
	expect_cli_error("--cpus: bad value 'a' (expected a list like 0-3,5 of numbers 0..1023)",
			 "--cpus", "a", NULL);
	snprintf(all, sizeof(all), "0-64");
	expect_cli_error("--cpus: bad value '0-64' (more than 64 entries)", "-c", all, NULL);
	expect_file_error("queues = 0 - 3\n", "proxy.conf:1: queues: bad value '0 - 3' (expected "
					      "a list like 0-3,5 of numbers 0..63)");
}

static void test_bad_choices(void **state)
{
	(void)state;
	expect_cli_error("--xdp-mode: bad value 'fast' (native or generic)", "--xdp-mode", "fast",
			 NULL);
	expect_cli_error("--xsk-mode: bad value 'zero-copy' (auto, copy or zerocopy)", "--xsk-mode",
			 "zero-copy", NULL);
	expect_cli_error("--log-level: bad value 'trace' (error, warn, info or debug)",
			 "--log-level", "trace", NULL);
	expect_cli_error("--stage: bad value 'tx' (rx, parse, auth, filter, decap, full or "
			 "reflect)",
			 "--stage", "tx", NULL);
	expect_cli_error("--busy-poll: bad value 'maybe' (yes or no)", "--busy-poll=maybe", NULL);
	expect_file_error("busy-poll = Yes\n", "proxy.conf:1: busy-poll: bad value 'Yes' (yes or "
					       "no)");
	expect_file_error("xdp-mode = Native\n", "proxy.conf:1: xdp-mode: bad value 'Native' "
						 "(native or generic)");
}

static void test_flags(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no",
										       "false",
										       "off", "0" };
	struct px_config cfg, *c;
	struct cmdline cl;
	int rc;

	(void)state;
	cmd_init(&cl);
	cmd_addv(&cl, "-i", "e", "-P", "d", "--busy-poll", NULL);
	assert_int_equal(parse(&cl, &cfg), 0);
	assert_true(cfg.xsk.busy_poll);
	cmd_add(&cl, "--busy-poll=no");
	assert_int_equal(parse(&cl, &cfg), 0);
	assert_false(cfg.xsk.busy_poll);
	for (int i = 0; i < 4; i++) {
		char line[32];

		snprintf(line, sizeof(line), "busy-poll = %s\n", yes[i]);
		c = text_cfg(line, &rc);
		assert_int_equal(rc, 0);
		assert_true(c->xsk.busy_poll);
		snprintf(line, sizeof(line), "busy-poll = %s\n", no[i]);
		c = text_cfg(line, &rc);
		assert_int_equal(rc, 0);
		assert_false(c->xsk.busy_poll);
	}
}

static void test_bad_strings(void **state)
{
	char big[200];

	(void)state;
	expect_cli_error("--iface: bad value 'eth0123456789abcd' (longer than 15 bytes)", "-i",
			 "eth0123456789abcd", NULL);
	expect_cli_error("--proxy-id: bad value 'a/b' (only letters, digits, '.', '_' and '-')",
			 "--proxy-id", "a/b", NULL);
	expect_cli_error("--proxy-id: bad value '0123456789012345678901234567890123' (longer than "
			 "32 bytes)",
			 "--proxy-id", "0123456789012345678901234567890123", NULL);
	/* Non-printable bytes are shown as '?', long values cut at 48 bytes. */
	expect_cli_error("--port: bad value '1?2' (not a number)", "--port", "1\t2", NULL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_cli_error(
		"--pin-root: bad value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' "
		"(longer than 127 bytes)",
		"--pin-root", big, NULL);
	/* A secret is never quoted. */
	expect_cli_error("--redis-password: bad value (longer than 127 bytes; not shown, it is a "
			 "secret)",
			 "--redis-password", big, NULL);
}

/* --- command-line syntax and unknown keys ---------------------------------- */

static void test_cli_syntax(void **state)
{
	(void)state;
	expect_cli_error("unknown option '--nope' (see --help)", "--nope", NULL);
	expect_cli_error("unknown option '-x' (see --help)", "-x", NULL);
	expect_cli_error("--iface: needs a value", "--iface", NULL);
	expect_cli_error("--iface: needs a value", "-i", NULL);
	expect_cli_error("--tf2: needs a value", "--tf2", NULL);
	expect_cli_error("'--verbose=2': takes no value, or unknown (see --help)", "--verbose=2",
			 NULL);
	expect_cli_error("unexpected argument 'eth1'", "eth1", NULL);
	/* The configuration-file spelling is not an option. */
	expect_cli_error("unknown option '--tf2_pps' (see --help)", "--tf2_pps", "5", NULL);
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_file_error("tf3 = 5\n", "proxy.conf:1: unknown key 'tf3'");
	expect_file_error("tf2_pps = 5\n", "proxy.conf:1: unknown key 'tf2_pps'");
	expect_file_error("--tf2 = 5\n", "proxy.conf:1: unknown key '--tf2'");
	expect_file_error("TF2 = 5\n", "proxy.conf:1: unknown key 'TF2'");
	expect_file_error("tf 2 = 5\n", "proxy.conf:1: unknown key 'tf 2'");
	expect_file_error("x\x01y = 5\n", "proxy.conf:1: unknown key 'x?y'");
	expect_file_error("help = yes\n", "proxy.conf:1: help: only on the command line");
	expect_file_error("config = other.conf\n",
			  "proxy.conf:1: config: only on the command line");
	expect_file_error("tf2 5000\n", "proxy.conf:1: expected 'key = value', got 'tf2 5000'");
	expect_file_error("= 5000\n", "proxy.conf:1: expected 'key = value', got '= 5000'");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "tf2 = 1\ntf1\0 = 2\n";
	struct px_config cfg;

	(void)state;
	px_config_defaults(&cfg);
	assert_int_equal(
		px_config_parse_text("proxy.conf", text, sizeof(text) - 1, &cfg, err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "proxy.conf:2: a NUL byte in the line");
}

static void test_unknown_key_in_real_file(void **state)
{
	char want[256], missing[128];
	const char *path;

	(void)state;
	path = write_file("unknown.conf", "tf2 = 5000\n# fine so far\nthreshold = 7\n");
	snprintf(want, sizeof(want), "%s:3: unknown key 'threshold'", path);
	expect_cli_error(want, "-C", path, NULL);
	snprintf(missing, sizeof(missing), "%s/missing.conf", tmpdir);
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	expect_cli_error(want, "--config", missing, NULL);
}

/* A key set twice in one file is an error: neither value wins. */
static void test_duplicate_key(void **state)
{
	(void)state;
	expect_file_error("tf2 = 5000\nhold-ms = 1\ntf2 = 6000\n",
			  "proxy.conf:3: tf2: set twice (first on line 1)");
	expect_file_error("tf2 = 5000\ntf2 = 5000\n",
			  "proxy.conf:2: tf2: set twice (first on line 1)");
}

/* --- precedence ------------------------------------------------------------ */

static void test_cli_overrides_file(void **state)
{
	struct px_config cfg;
	struct cmdline c;
	const char *path;

	(void)state;
	path = write_file("over.conf", "iface = eth1\nprovision = d.conf\ntf2 = 5000\n"
				       "hold-ms = 3000\nverbose = 3\nbusy-poll = yes\n");
	/* Option before -C. */
	cmd_init(&c);
	cmd_addv(&c, "--tf2", "7000", "-C", path, NULL);
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	assert_int_equal(cfg.params.tf2_pps, 7000);
	assert_int_equal(cfg.hold_ms, 3000); /* only in the file */
	assert_string_equal(cfg.ifname, "eth1");
	assert_int_equal(cfg.verbose, 3);
	assert_true(cfg.xsk.busy_poll);
	/* Option after -C; -v replaces the file's count; a flag can be turned off. */
	cmd_init(&c);
	cmd_addv(&c, "-C", path, "--tf2", "7000", "-i", "eth2", "-v", "--busy-poll=no", NULL);
	if (parse(&c, &cfg))
		fail_msg("unexpected error: %s", err);
	assert_int_equal(cfg.params.tf2_pps, 7000);
	assert_string_equal(cfg.ifname, "eth2");
	assert_int_equal(cfg.verbose, 1);
	assert_false(cfg.xsk.busy_poll);
	/* Repeated on the command line: the last wins. */
	cmd_init(&c);
	cmd_addv(&c, "--tf2", "1", "-C", path, "--tf2", "2", NULL);
	assert_int_equal(parse(&c, &cfg), 0);
	assert_int_equal(cfg.params.tf2_pps, 2);
	/* Two -C: the last file is read, only that one. */
	cmd_init(&c);
	cmd_addv(&c, "-C", "/nonexistent.conf", "-C", path, NULL);
	assert_int_equal(parse(&c, &cfg), 0);
	assert_int_equal(cfg.params.tf2_pps, 5000);
}

/* A bad value in the file is reported even when the command line overrides it. */
static void test_bad_file_value_not_hidden(void **state)
{
	char want[256];
	const char *path;

	(void)state;
	path = write_file("bad.conf", "tf2 = 0\n");
	snprintf(want, sizeof(want), "%s:1: tf2: bad value '0' (must be 1..1000000000)", path);
	expect_cli_error(want, "-C", path, "--tf2", "5", NULL);
}

static void test_cross_key_checks(void **state)
{
	struct px_config cfg;
	struct cmdline c;
	const char *path;

	(void)state;
	cmd_init(&c);
	cmd_addv(&c, "-P", "d.conf", NULL);
	assert_int_equal(parse(&c, &cfg), -EINVAL);
	assert_string_equal(err, "--iface is required (or 'iface = ...' in the configuration "
				 "file); see --help");
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", NULL);
	assert_int_equal(parse(&c, &cfg), -EINVAL);
	assert_string_equal(err, "--provision is required (or 'provision = ...' in the "
				 "configuration file); see --help");
	/* Both from a file, with only the interface given on the command line. */
	path = write_file("req.conf", "provision = d.conf\n");
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", "-C", path, NULL);
	assert_int_equal(parse(&c, &cfg), 0);
	expect_cli_error("ring-size: bad value '1000' (must be a power of two)", "--ring-size",
			 "1000", NULL);
	expect_cli_error("umem-frames: bad value '2048' (must be a power of two, at least 2 x "
			 "ring-size = 4096)",
			 "--umem-frames", "2048", NULL);
	expect_cli_error("umem-frames: bad value '3000' (must be a power of two, at least 2 x "
			 "ring-size = 4096)",
			 "--umem-frames", "3000", NULL);
	expect_cli_error("cpus: 3 CPUs listed for 2 queues", "-q", "0-1", "-c", "0-2", NULL);
	expect_cli_error("redis-replica: set without redis (the master)", "--redis-replica",
			 "127.0.0.1:6380", NULL);
}

/* --- --help and docs/config.md --------------------------------------------- */

static char *capture(int (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, arg);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static int run_parse(FILE *out, void *arg)
{
	struct cmdline *c = arg;
	struct px_config cfg;

	return px_config_parse(c->argc, c->argv, &cfg, out, err, sizeof(err));
}

static void test_help(void **state)
{
	struct cmdline c;
	char *text;

	(void)state;
	/* --help wins over everything else, even bad values. */
	cmd_init(&c);
	cmd_addv(&c, "--tf2", "0", "--help", NULL);
	text = capture(run_parse, &c);
	assert_non_null(strstr(text, "Usage: xpro-proxy"));
	for (size_t i = 0; i < px_nopts; i++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s%s", px_opts[i].name, px_opts[i].arg ? " " : "");
		if (!strstr(text, want))
			fail_msg("--help does not list %s", want);
	}
	assert_non_null(strstr(text, "  -i, --iface NAME"));
	assert_non_null(strstr(text, "--tf2 PPS                  T_F2: max rate towards one "
				     "destination, all devices (10000) [SIGHUP]\n"));
	assert_non_null(strstr(text, "--xdp-mode MODE            XDP attach mode: native, "
				     "generic (native)\n"));
	free(text);
	cmd_init(&c);
	cmd_add(&c, "-h");
	memset(err, 0, sizeof(err));
	text = capture(run_parse, &c);
	assert_non_null(strstr(text, "Usage: xpro-proxy"));
	assert_string_equal(err, "");
	free(text);
}

static void test_docs_match_table(void **state)
{
	struct cmdline c;
	char *gen, *doc = read_all("docs/config.md");

	(void)state;
	if (!doc)
		fail_msg("docs/config.md not found: run from the top of the tree (make unit)");
	cmd_init(&c);
	cmd_add(&c, "--help-config-md");
	gen = capture(run_parse, &c);
	if (strcmp(gen, doc))
		fail_msg("docs/config.md differs from `xpro-proxy --help-config-md`: run "
			 "`make config-doc`");
	/* And it says what an operator looks for. */
	assert_non_null(strstr(doc, "| `tf2` |  | integer | packets/s | 1..1000000000 | 10000 | "
				    "yes | "));
	assert_non_null(strstr(doc, "| `iface` | `-i` | string |  | 15 bytes | required | no | "));
	assert_non_null(strstr(doc, "| `queues` | `-q` | list | queue ids | 0..63, at most 64 | "
				    "all RX queues | no | "));
	free(gen);
	free(doc);
}

/* The manual pages are printed from the same table: every option in xpro-proxy(8), every
 * file key in xpro-proxy.conf(5), each with its help text; a bad section is refused. */
static void test_man_pages(void **state)
{
	struct cmdline c;
	char *p8, *p5;

	(void)state;
	cmd_init(&c);
	cmd_addv(&c, "--help-man", "8", NULL);
	p8 = capture(run_parse, &c);
	cmd_init(&c);
	cmd_addv(&c, "--help-man", "5", NULL);
	p5 = capture(run_parse, &c);
	assert_non_null(strstr(p8, ".TH \"xpro\\-proxy\" \"8\""));
	assert_non_null(strstr(p5, ".TH \"xpro\\-proxy.conf\" \"5\""));
	for (size_t i = 0; i < px_nopts; i++) {
		char want[96], name[64];
		size_t n = 0;

		/* roff spells a hyphen \- */
		for (const char *q = px_opts[i].name; *q && n + 3 < sizeof(name); q++) {
			if (*q == '-')
				name[n++] = '\\';
			name[n++] = *q;
		}
		name[n] = 0;
		snprintf(want, sizeof(want), "\\fB\\-\\-%s\\fR", name);
		if (!strstr(p8, want))
			fail_msg("xpro-proxy(8) does not list %s", want);
		if (px_opts[i].flags & PX_OPT_CLI)
			continue;
		snprintf(want, sizeof(want), ".TP\n\\fB%s\\fR\n", name);
		if (!strstr(p5, want))
			fail_msg("xpro-proxy.conf(5) does not list key %s", px_opts[i].name);
	}
	free(p8);
	free(p5);
	cmd_init(&c);
	cmd_addv(&c, "--help-man", "7", NULL);
	assert_int_equal(parse(&c, &(struct px_config){ 0 }), -EINVAL);
	assert_non_null(strstr(err, "--help-man: bad value '7' (8 or 5)"));
}

/* The example configuration is a valid file: with the interface filled in it parses,
 * and gives the defaults. */
static void test_config_example(void **state)
{
	struct cmdline c;
	struct px_config ex, def;
	char *text, *full;
	size_t len;

	(void)state;
	cmd_init(&c);
	cmd_add(&c, "--help-config-example");
	text = capture(run_parse, &c);
	len = strlen(text) + 64;
	full = malloc(len);
	assert_non_null(full);
	snprintf(full, len, "%siface = eth0\n", text);
	px_config_defaults(&ex);
	if (px_config_parse_text("proxy.conf", full, strlen(full), &ex, err, sizeof(err)))
		fail_msg("the example does not parse: %s", err);
	cmd_init(&c);
	cmd_addv(&c, "-i", "eth0", "-P", "/etc/xpro/devices.conf", NULL);
	assert_int_equal(parse(&c, &def), 0);
	assert_string_equal(ex.provision, def.provision);
	{
		char diff[512];

		if (px_config_changes(&def, &ex, diff, sizeof(diff)))
			fail_msg("the example is not the defaults: %s", diff);
	}
	free(full);
	free(text);
}

/* The threshold keys carry the filter engine's own bounds and defaults. */
static void test_thresholds_match_engine(void **state)
{
	static const struct {
		const char *engine, *key;
	} names[] = {
		{ "tt1_ms", "tt1-ms" },
		{ "tt2_ms", "tt2-ms" },
		{ "tt3_ms", "tt3-ms" },
		{ "tt4_ms", "tt4-ms" },
		{ "tf1_pps", "tf1" },
		{ "tf2_pps", "tf2" },
		{ "r", "r" },
		{ "warn_interval_ms", "warn-interval-ms" },
		{ "policy", "dst-policy" },
		{ "pair_burst_ms", "pair-burst-ms" },
		{ "dst_burst_ms", "dst-burst-ms" },
		{ "tflag_ms", "tflag-ms" },
		{ "rate_ms", "rate-ms" },
	};
	size_t n = 0;

	(void)state;
	for (const struct xf_param_desc *d = xf_param_table; d->name; d++, n++) {
		const struct px_opt *o = NULL;

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(names[i].engine, d->name))
				o = px_opt_find(names[i].key);
		if (!o)
			fail_msg("engine threshold %s has no key", d->name);
		assert_int_equal(o->off, offsetof(struct px_config, params) + d->offset);
		assert_int_equal(o->size, d->size);
		assert_int_equal(o->min, d->min);
		assert_int_equal(o->max, d->max);
		assert_true(o->flags & PX_OPT_RUNTIME);
	}
	assert_int_equal(n, sizeof(names) / sizeof(names[0]));
}

/* --- SIGHUP reload ---------------------------------------------------------- */

static void test_reload_runtime_keys(void **state)
{
	static struct cmdline c; /* outlives cur: reload parses it again */
	struct px_config cur, next, live;
	char changes[256];
	const char *path;

	(void)state;
	path = write_file("hup.conf", "iface = eth0\nprovision = d.conf\ntf2 = 5000\n");
	cmd_init(&c);
	cmd_addv(&c, "-C", path, "--tf1", "300", NULL);
	if (parse(&c, &cur))
		fail_msg("unexpected error: %s", err);
	/* Start-up fills in the queues; reload compares with cur as parsed. */
	live = cur;
	live.nqueues = 2;
	write_file("hup.conf", "iface = eth0\nprovision = d.conf\ntf2 = 6000\nhold-ms = 1\n"
			       "tf1 = 900\nlog-level = warn\n");
	if (px_config_reload(&cur, &next, err, sizeof(err)))
		fail_msg("unexpected error: %s", err);
	assert_int_equal(next.params.tf2_pps, 6000);
	assert_int_equal(next.params.tf1_pps, 300); /* the command line still wins */
	assert_int_equal(next.hold_ms, 1);
	assert_int_equal(px_config_changes(&cur, &next, changes, sizeof(changes)), 3);
	assert_string_equal(changes,
			    "hold-ms 10000 -> 1, tf2 5000 -> 6000, log-level info -> warn");
	px_config_apply_runtime(&live, &next);
	assert_int_equal(live.params.tf2_pps, 6000);
	assert_int_equal(live.hold_ms, 1);
	assert_int_equal(live.log_level, PX_LOG_WARN);
	assert_int_equal(live.nqueues, 2); /* not a runtime key: untouched */
	/* Nothing changed: no changes. */
	assert_int_equal(px_config_reload(&next, &cur, err, sizeof(err)), 0);
	assert_int_equal(px_config_changes(&next, &cur, changes, sizeof(changes)), 0);
	assert_string_equal(changes, "");
}

static void test_reload_refuses_fixed_keys(void **state)
{
	static struct cmdline c;
	struct px_config cur, next;
	const char *path;

	(void)state;
	path = write_file("fixed.conf", "iface = eth0\nprovision = d.conf\n");
	cmd_init(&c);
	cmd_addv(&c, "-C", path, NULL);
	assert_int_equal(parse(&c, &cur), 0);
	write_file("fixed.conf", "iface = eth1\nprovision = d.conf\ntf2 = 1\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "iface: cannot change at run time ('eth0' -> 'eth1'); restart "
				 "xpro-proxy to apply");
	write_file("fixed.conf", "iface = eth0\nprovision = d.conf\nqueues = 0-1\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "queues: cannot change at run time ('all RX queues' -> '0-1'); "
				 "restart xpro-proxy to apply");
	write_file("fixed.conf", "iface = eth0\nprovision = d.conf\nredis-password = x\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "redis-password: cannot change at run time; restart xpro-proxy "
				 "to apply");
	write_file("fixed.conf", "iface = eth0\nprovision = d.conf\nring-size = 4096\n"
				 "umem-frames = 8192\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "ring-size: cannot change at run time ('2048' -> '4096'); "
				 "restart xpro-proxy to apply");
}

static void test_reload_bad_file(void **state)
{
	static struct cmdline c;
	struct px_config cur, next;
	char want[256];
	const char *path;

	(void)state;
	path = write_file("broken.conf", "iface = eth0\nprovision = d.conf\n");
	cmd_init(&c);
	cmd_addv(&c, "-C", path, "-i", "eth0", NULL);
	assert_int_equal(parse(&c, &cur), 0);
	write_file("broken.conf", "iface = eth9\nprovision = d.conf\ntf2 = lots\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: tf2: bad value 'lots' (not a number)", path);
	assert_string_equal(err, want);
	/* A fixed key the command line overrides may change in the file. */
	write_file("broken.conf", "iface = eth9\nprovision = d.conf\n");
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), 0);
	assert_string_equal(next.ifname, "eth0");
	unlink(path);
	assert_int_equal(px_config_reload(&cur, &next, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

/* The one call the control thread makes on SIGHUP. */
static void test_hup(void **state)
{
	static struct cmdline c;
	struct px_config given, live, before;
	char msg[256];
	const char *path;

	(void)state;
	path = write_file("hup2.conf", "iface = eth0\nprovision = d.conf\n");
	cmd_init(&c);
	cmd_addv(&c, "-C", path, NULL);
	assert_int_equal(parse(&c, &given), 0);
	live = given;
	live.nqueues = 4; /* filled in by start-up */
	assert_int_equal(px_config_hup(&given, &live, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
	write_file("hup2.conf", "iface = eth0\nprovision = d.conf\ntf2 = 20000\nsync-ms = 50\n");
	assert_int_equal(px_config_hup(&given, &live, msg, sizeof(msg)), 2);
	assert_string_equal(msg, "tf2 10000 -> 20000, sync-ms 100 -> 50");
	assert_int_equal(live.params.tf2_pps, 20000);
	assert_int_equal(live.sync.period_ms, 50);
	assert_int_equal(live.nqueues, 4);
	assert_int_equal(given.params.tf2_pps, 20000);
	assert_int_equal(given.nqueues, 0);
	/* Refused: neither changes. */
	before = live;
	write_file("hup2.conf", "iface = eth0\nprovision = d.conf\ntf2 = 30000\nport = 1\n");
	assert_int_equal(px_config_hup(&given, &live, msg, sizeof(msg)), -EPERM);
	assert_string_equal(msg, "port: cannot change at run time ('7447' -> '1'); restart "
				 "xpro-proxy to apply");
	assert_memory_equal(&live, &before, sizeof(live));
	assert_int_equal(given.params.tf2_pps, 20000);
}

static void test_runtime_flags(void **state)
{
	static const char *const runtime[] = { "hold-ms",      "tt1-ms",     "tt2-ms",
					       "tt3-ms",       "tt4-ms",     "tf1",
					       "tf2",	       "r",	     "warn-interval-ms",
					       "stats-file",   "sync-ms",    "log-level",
					       "verbose",      "dst-policy", "pair-burst-ms",
					       "dst-burst-ms", "tflag-ms",   "rate-ms" };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(runtime) / sizeof(runtime[0]); i++)
		assert_true(px_opt_find(runtime[i])->flags & PX_OPT_RUNTIME);
	for (size_t i = 0; i < px_nopts; i++)
		n += !!(px_opts[i].flags & PX_OPT_RUNTIME);
	assert_int_equal(n, sizeof(runtime) / sizeof(runtime[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_has_a_sample),
		cmocka_unit_test(test_redis_cluster),
		cmocka_unit_test(test_every_key_cli),
		cmocka_unit_test(test_short_options),
		cmocka_unit_test(test_every_key_file),
		cmocka_unit_test(test_file_format),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_leading_zero_is_decimal),
		cmocka_unit_test(test_bad_lists),
		cmocka_unit_test(test_bad_choices),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_cli_syntax),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_unknown_key_in_real_file),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_cli_overrides_file),
		cmocka_unit_test(test_bad_file_value_not_hidden),
		cmocka_unit_test(test_cross_key_checks),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_docs_match_table),
		cmocka_unit_test(test_man_pages),
		cmocka_unit_test(test_config_example),
		cmocka_unit_test(test_thresholds_match_engine),
		cmocka_unit_test(test_reload_runtime_keys),
		cmocka_unit_test(test_reload_refuses_fixed_keys),
		cmocka_unit_test(test_reload_bad_file),
		cmocka_unit_test(test_hup),
		cmocka_unit_test(test_runtime_flags),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
