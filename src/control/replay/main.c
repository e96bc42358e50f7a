/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay: run a packet trace, or a built-in IoT botnet scenario, through the filter engine
 * on a simulated clock, and report what it delivered, what it dropped and why.  This file holds
 * the option table, the command line and main().
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "replay.h"

enum xr_status {
	XR_OK = 0,
	XR_HELP, /* --help was printed */
	XR_ERR_USAGE, /* bad command line: exit 2 */
	XR_ERR_RUNTIME, /* I/O, memory, bad trace, engine failure or inconsistency: exit 1 */
};

static void xr_config_default(struct xr_config *c)
{
	memset(c, 0, sizeof(*c));
	xf_params_default(&c->params);
	c->limits.max_records = 65536;
	c->limits.max_dsts_per_dev = 64;
	c->rows = 40;
	c->seed = 1;
}

/* ---- the option table ---------------------------------------------------------------------- */

enum xr_kind { XR_FLAG, XR_STR, XR_U32, XR_U64, XR_HELP_OPT };

struct xr_opt {
	const char *name;
	int short_name; /* 0: long option only */
	enum xr_kind kind;
	size_t off; /* the field of struct xr_config it sets */
	const char *arg; /* argument name shown by --help */
	const char *help;
};

/* offsetof() of a config field, refusing to compile if the field's size is not sz. */
#define XR_FIELD(f, sz)                  \
	(offsetof(struct xr_config, f) + \
	 0 * sizeof(char[sizeof(((struct xr_config *)0)->f) == (sz) ? 1 : -1]))
#define XR_U32F(f) XR_U32, XR_FIELD(f, 4)
#define XR_U64F(f) XR_U64, XR_FIELD(f, 8)

static const struct xr_opt xr_opts[] = {
	{ "demo", 'd', XR_FLAG, XR_FIELD(demo, sizeof(bool)), NULL,
	  "replay the built-in botnet scenario ('make demo')" },
	{ "trace", 't', XR_STR, XR_FIELD(trace, sizeof(char *)), "FILE",
	  "replay FILE (CSV, see below; - reads stdin)" },
	{ "tf1", 0, XR_U64F(params.tf1_pps), "PPS",
	  "T_F1: max packets/s of one (device, dst) pair" },
	{ "tf2", 0, XR_U64F(params.tf2_pps), "PPS", "T_F2: max packets/s to one destination" },
	{ "tt1", 0, XR_U64F(params.tt1_ms), "MS", "T_T1: idle time after which a pair restarts" },
	{ "tt2", 0, XR_U64F(params.tt2_ms), "MS", "T_T2: pair window needed before T_F1 applies" },
	{ "tt3", 0, XR_U64F(params.tt3_ms), "MS", "T_T3: dst window needed before T_F2 applies" },
	{ "tt4", 0, XR_U64F(params.tt4_ms), "MS",
	  "T_T4: decay window (sync, Alg. 1; not replayed)" },
	{ "warn-interval", 0, XR_U32F(params.warn_interval_ms), "MS",
	  "min gap between warnings to one device" },
	{ "max-records", 0, XR_U32F(limits.max_records), "N", "live (device, dst) pairs in total" },
	{ "max-dsts", 0, XR_U32F(limits.max_dsts_per_dev), "N", "live destinations per device" },
	{ "rows", 0, XR_U32F(rows), "N", "print at most N rows per table" },
	{ "seed", 0, XR_U64F(seed), "N", "demo randomness and engine hash seed" },
	{ "help", 'h', XR_HELP_OPT, 0, NULL, "print this help and exit" },
};

static uint64_t xr_opt_value(const struct xr_opt *o, const struct xr_config *c)
{
	const char *f = (const char *)c + o->off;

	return o->kind == XR_U32 ? *(const uint32_t *)f : *(const uint64_t *)f;
}

static void xr_help(FILE *out)
{
	struct xr_config def;

	xr_config_default(&def);
	fprintf(out,
		"usage: xpro-replay (--demo | --trace FILE) [options]\n\n"
		"Replays packets through the X-Pro filter engine (Algorithm 2, docs/algorithm.md)\n"
		"on a simulated clock and prints, per device group and destination, what was\n"
		"delivered and what was dropped by which check.\n\noptions:\n");
	for (size_t i = 0; i < ARRAY_SIZE(xr_opts); i++) {
		const struct xr_opt *o = &xr_opts[i];
		char lhs[48];

		snprintf(lhs, sizeof(lhs), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-24s %s", lhs, o->help);
		if (o->kind == XR_U32 || o->kind == XR_U64)
			fprintf(out, " [%" PRIu64 "]", xr_opt_value(o, &def));
		fputc('\n', out);
	}
	fprintf(out,
		"\nTrace lines: time_ms,device,destination[,group]\n"
		"  time_ms      milliseconds (fractions allowed), never decreasing\n"
		"  device       any name; devices are numbered in order of appearance\n"
		"  destination  IPv4 or IPv6 address\n"
		"  group        optional label (e.g. benign, mirai): rows are per group instead\n"
		"               of per device; a device keeps the group of its first line\n"
		"'#' starts a comment; a first line 'time_ms,...' is skipped.\n\n"
		"Exit status: 0 ok, 1 runtime error or engine inconsistency, 2 usage error.\n");
}

/* ---- the command line ---------------------------------------------------------------------- */

/* A whole decimal number, no sign, no junk. */
static int xr_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static enum xr_status xr_opt_apply(const struct xr_opt *o, const char *arg, struct xr_config *c)
{
	char *f = (char *)c + o->off;
	uint64_t v;

	switch (o->kind) {
	case XR_FLAG:
		*(bool *)f = true;
		return XR_OK;
	case XR_STR:
		*(const char **)f = arg;
		return XR_OK;
	case XR_HELP_OPT:
		return XR_HELP;
	case XR_U32:
	case XR_U64:
		break;
	}
	if (xr_parse_u64(arg, &v) || (o->kind == XR_U32 && v > UINT32_MAX)) {
		fprintf(stderr, "xpro-replay: --%s: bad value '%s' (want a whole number%s)\n",
			o->name, arg, o->kind == XR_U32 ? " below 2^32" : "");
		return XR_ERR_USAGE;
	}
	if (o->kind == XR_U32)
		*(uint32_t *)f = (uint32_t)v;
	else
		*(uint64_t *)f = v;
	return XR_OK;
}

static const struct xr_opt *xr_opt_find(int c)
{
	if (c >= 256 && (size_t)(c - 256) < ARRAY_SIZE(xr_opts))
		return &xr_opts[c - 256];
	for (size_t i = 0; i < ARRAY_SIZE(xr_opts); i++)
		if (xr_opts[i].short_name && xr_opts[i].short_name == c)
			return &xr_opts[i];
	return NULL; /* '?': getopt_long has said what was wrong */
}

static enum xr_status xr_check_config(const struct xr_config *c)
{
	char err[256];

	if (c->demo == (c->trace != NULL)) {
		fprintf(stderr, "xpro-replay: give exactly one of --demo and --trace FILE\n");
		return XR_ERR_USAGE;
	}
	if (xf_params_validate(&c->params, err, sizeof(err))) {
		fprintf(stderr, "xpro-replay: %s\n", err);
		return XR_ERR_USAGE;
	}
	if (!c->limits.max_records || !c->limits.max_dsts_per_dev || !c->rows) {
		fprintf(stderr, "xpro-replay: --max-records, --max-dsts and --rows must be >= 1\n");
		return XR_ERR_USAGE;
	}
	return XR_OK;
}

static enum xr_status xr_parse_args(int argc, char **argv, struct xr_config *cfg)
{
	struct option lo[ARRAY_SIZE(xr_opts) + 1];
	char shorts[3 * ARRAY_SIZE(xr_opts) + 1], *sp = shorts;
	enum xr_status st;
	int c;

	for (size_t i = 0; i < ARRAY_SIZE(xr_opts); i++) {
		const struct xr_opt *o = &xr_opts[i];
		bool has_arg = o->kind == XR_STR || o->kind == XR_U32 || o->kind == XR_U64;

		lo[i] = (struct option){ o->name, has_arg ? required_argument : no_argument, NULL,
					 o->short_name ? o->short_name : (int)(256 + i) };
		if (o->short_name) {
			*sp++ = (char)o->short_name;
			if (has_arg)
				*sp++ = ':';
		}
	}
	lo[ARRAY_SIZE(xr_opts)] = (struct option){ NULL, 0, NULL, 0 };
	*sp = '\0';
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct xr_opt *o = xr_opt_find(c);

		if (!o)
			return XR_ERR_USAGE;
		st = xr_opt_apply(o, optarg, cfg);
		if (st != XR_OK)
			return st;
	}
	if (optind < argc) {
		fprintf(stderr, "xpro-replay: unexpected argument '%s'\n", argv[optind]);
		return XR_ERR_USAGE;
	}
	return xr_check_config(cfg);
}

/* ---- main ----------------------------------------------------------------------------------- */

static enum xr_status xr_replay(const struct xr_config *cfg)
{
	struct xr_run run;
	int err = xr_run_init(&run, cfg);

	if (err == -EINVAL) {
		fprintf(stderr,
			"xpro-replay: the engine refused --max-records %" PRIu32
			" --max-dsts %" PRIu32 "\n",
			cfg->limits.max_records, cfg->limits.max_dsts_per_dev);
		xr_run_free(&run);
		return XR_ERR_USAGE;
	}
	if (!err)
		err = cfg->demo ? xr_demo_run(&run) : xr_trace_run(&run, cfg->trace);
	if (!err) {
		xr_finish(&run);
		err = xr_report(&run);
	}
	if (err == -ENOMEM)
		fprintf(stderr, "xpro-replay: out of memory\n");
	if (!err && run.anomalies)
		fprintf(stderr, "xpro-replay: %" PRIu64 " engine check(s) failed\n", run.anomalies);
	xr_run_free(&run);
	return err || run.anomalies ? XR_ERR_RUNTIME : XR_OK;
}

int main(int argc, char **argv)
{
	struct xr_config cfg;
	enum xr_status st;

	xr_config_default(&cfg);
	st = xr_parse_args(argc, argv, &cfg);
	if (st == XR_OK) {
		rcu_register_thread();
		st = xr_replay(&cfg);
		rcu_unregister_thread();
	}
	switch (st) {
	case XR_OK:
		return 0;
	case XR_HELP:
		xr_help(stdout);
		return 0;
	case XR_ERR_USAGE:
		fprintf(stderr, "(xpro-replay --help lists the options)\n");
		return 2;
	case XR_ERR_RUNTIME:
		break;
	}
	return 1;
}
