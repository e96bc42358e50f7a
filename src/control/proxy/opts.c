/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's command line: one declarative table drives getopt_long, the
 * parser and --help.  Values are parsed into struct px_config, checked, and
 * every error names the option and quotes the bad value.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/proxy/proxy.h"

enum opt_type {
	OT_STR,
	OT_U32,
	OT_U64,
	OT_U16,
	OT_FLAG,
	OT_LIST,
	OT_XDP,
	OT_XSK,
	OT_VERB,
	OT_STAGE
};

/* --stage values, in ladder order (enum dp_stage). */
static const char *const stage_names[] = { "rx",    "parse", "auth",   "filter",
					   "decap", "full",  "reflect" };

struct opt {
	const char *name;
	int short_name;
	enum opt_type type;
	size_t off; /* into struct px_config */
	size_t size; /* OT_STR: buffer size */
	uint64_t min, max;
	const char *arg, *help;
};

#define CFG(f) offsetof(struct px_config, f), sizeof(((struct px_config *)0)->f)
#define PRM(f) offsetof(struct px_config, params.f), sizeof(((struct px_config *)0)->params.f)

static const struct opt opts[] = {
	{ "iface", 'i', OT_STR, CFG(ifname), 0, 0, "NAME", "interface to attach to (required)" },
	{ "provision", 'P', OT_STR, CFG(provision), 0, 0, "FILE",
	  "device provisioning file (required; docs/protocol.md)" },
	{ "queues", 'q', OT_LIST, CFG(queues), 0, PX_MAX_QUEUES - 1, "LIST",
	  "RX queues, e.g. 0-3 or 0,2 (default: all); one worker each" },
	{ "cpus", 'c', OT_LIST, CFG(cpus), 0, 1023, "LIST",
	  "CPUs for the workers, in queue order (default: not pinned)" },
	{ "xdp-mode", 0, OT_XDP, CFG(xdp_mode), 0, 0, "native|generic",
	  "XDP attach mode (native)" },
	{ "xsk-mode", 0, OT_XSK, CFG(xsk.mode), 0, 0, "auto|copy|zerocopy",
	  "AF_XDP mode; auto tries zero-copy first (auto)" },
	{ "batch", 'b', OT_U32, CFG(batch), 1, DP_BATCH_MAX, "N", "packets per burst (64)" },
	{ "ring-size", 0, OT_U32, CFG(xsk.ring_size), 64, 16384, "N",
	  "entries per AF_XDP ring, power of two (2048)" },
	{ "umem-frames", 0, OT_U32, CFG(xsk.frames), 256, 1 << 20, "N",
	  "4 KiB UMEM frames per queue, power of two (8192)" },
	{ "busy-poll", 0, OT_FLAG, CFG(xsk.busy_poll), 0, 0, NULL, "prefer busy polling" },
	{ "port", 'p', OT_U16, CFG(port), 1, 65535, "PORT", "tunnel UDP port (7447)" },
	{ "hold-ms", 0, OT_U64, CFG(hold_ms), 1, 86400000, "MS",
	  "how long a flagged pair is dropped in XDP (10000)" },
	{ "tt1-ms", 0, OT_U64, PRM(tt1_ms), 0, 0, "MS", "T_T1, idle before a window restarts" },
	{ "tt2-ms", 0, OT_U64, PRM(tt2_ms), 0, 0, "MS", "T_T2, min pair window" },
	{ "tt3-ms", 0, OT_U64, PRM(tt3_ms), 0, 0, "MS", "T_T3, min destination window" },
	{ "tt4-ms", 0, OT_U64, PRM(tt4_ms), 0, 0, "MS", "T_T4, sync decay window" },
	{ "tf1", 0, OT_U64, PRM(tf1_pps), 0, 0, "PPS", "T_F1, max packets/s per pair" },
	{ "tf2", 0, OT_U64, PRM(tf2_pps), 0, 0, "PPS", "T_F2, max packets/s per destination" },
	{ "r", 0, OT_U32, PRM(r), 0, 0, "N", "Alg. 1 decay divisor" },
	{ "warn-interval-ms", 0, OT_U32, PRM(warn_interval_ms), 0, 0, "MS",
	  "min gap between overload warnings per device" },
	{ "max-records", 0, OT_U32, CFG(limits.max_records), 1, 1 << 28, "N",
	  "live (device, destination) pairs (1048576)" },
	{ "max-dsts", 0, OT_U32, CFG(limits.max_dsts_per_dev), 1, 1 << 20, "N",
	  "distinct destinations per device (256)" },
	{ "stage", 0, OT_STAGE, CFG(stage), 0, 0, "STAGE",
	  "benchmark: stop at rx|parse|auth|filter|decap, or reflect (full)" },
	{ "stats-file", 's', OT_STR, CFG(stats_file), 0, 0, "FILE",
	  "write counters as JSON here every tick" },
	{ "tick-ms", 0, OT_U32, CFG(tick_ms), 10, 60000, "MS",
	  "control period: stats, reclaim, neighbours (200)" },
	{ "pin-root", 0, OT_STR, CFG(pin_root), 0, 0, "DIR",
	  "bpffs directory for pinned maps (/sys/fs/bpf/xpro)" },
	{ "redis", 'R', OT_STR, CFG(sync.master), 0, 0, "ADDR",
	  "Redis master for Algorithm 1: host:port or unix:/path (off)" },
	{ "redis-replica", 0, OT_STR, CFG(sync.replica), 0, 0, "ADDR",
	  "local replica of the master to read from (none)" },
	{ "redis-password", 0, OT_STR, CFG(sync.password), 0, 0, "PASS",
	  "AUTH password of the master (none)" },
	{ "proxy-id", 0, OT_STR, CFG(sync.proxy_id), 0, 0, "ID",
	  "this proxy's name on the master, [A-Za-z0-9._-] (hostname-iface)" },
	{ "sync-ms", 't', OT_U32, CFG(sync.period_ms), 10, 60000, "MS",
	  "sync period t (100)" },
	{ "sync-batch", 0, OT_U32, CFG(sync.batch), 1, 4096, "N", "pairs per merge call (256)" },
	{ "redis-timeout-ms", 0, OT_U32, CFG(sync.cmd_ms), 10, 60000, "MS",
	  "longest wait for the master, connect or reply (1000)" },
	{ "verbose", 'v', OT_VERB, CFG(verbose), 0, 0, NULL, "more log output (repeatable)" },
	{ "help", 'h', OT_FLAG, 0, 0, 0, 0, NULL, "this text" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void defaults(struct px_config *c)
{
	memset(c, 0, sizeof(*c));
	c->xsk.frames = 8192;
	c->xsk.ring_size = 2048;
	c->batch = 64;
	c->port = XPRO_TUN_PORT_DEFAULT;
	c->hold_ms = 10000;
	xf_params_default(&c->params);
	c->limits.max_records = 1 << 20;
	c->limits.max_dsts_per_dev = 256;
	c->tick_ms = 200;
	c->stage = DP_STAGE_FULL;
	snprintf(c->pin_root, sizeof(c->pin_root), "%s", XPRO_PIN_ROOT);
	c->sync.period_ms = 100;
	c->sync.batch = 256;
	c->sync.cmd_ms = 1000;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: xpro-proxy -i IFACE -P FILE [options]\n\n"
		   "The X-Pro proxy: authenticates tunnelled packets from IoT devices, filters\n"
		   "them (Algorithm 2) and forwards the rest.  Options:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s", opts[i].short_name ? '-' : ' ',
			 opts[i].short_name ? opts[i].short_name : ' ',
			 opts[i].short_name ? ", " : "  ", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-34s %s\n", lhs, opts[i].help);
	}
}

static int bad(const struct opt *o, const char *val, const char *why)
{
	fprintf(stderr, "xpro-proxy: --%s: bad value '%s' (%s)\n", o->name, val, why);
	return -EINVAL;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	if (*s == '-' || !*s)
		return -EINVAL;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* "0-3,5" into an int array; returns the count or -EINVAL. */
static int parse_list(const char *s, int *out, int max, int hi)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0 || a > hi)
			return -EINVAL;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a || b > hi)
				return -EINVAL;
		}
		for (long v = a; v <= b; v++) {
			if (n == max)
				return -EINVAL;
			out[n++] = (int)v;
		}
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return n ? n : -EINVAL;
}

static int apply_num(const struct opt *o, const char *arg, void *dst)
{
	char why[64];
	uint64_t v;

	if (parse_u64(arg, &v))
		return bad(o, arg, "not a number");
	if (o->max && (v < o->min || v > o->max)) {
		snprintf(why, sizeof(why), "must be %" PRIu64 "..%" PRIu64, o->min, o->max);
		return bad(o, arg, why);
	}
	if (o->type == OT_U64)
		*(uint64_t *)dst = v;
	else if (o->type == OT_U16)
		*(uint16_t *)dst = (uint16_t)v;
	else if (v > UINT32_MAX)
		return bad(o, arg, "too large");
	else
		*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int apply(const struct opt *o, const char *arg, struct px_config *c)
{
	void *dst = (char *)c + o->off;
	int n;

	switch (o->type) {
	case OT_STR:
		if (strlen(arg) >= o->size)
			return bad(o, arg, "too long");
		memcpy(dst, arg, strlen(arg) + 1);
		return 0;
	case OT_FLAG:
		*(bool *)dst = true;
		return 0;
	case OT_VERB:
		(*(int *)dst)++;
		return 0;
	case OT_LIST:
		n = parse_list(arg, dst, PX_MAX_QUEUES, (int)o->max);
		if (n < 0)
			return bad(o, arg, "expected a list like 0-3,5");
		*(o->off == offsetof(struct px_config, queues) ? &c->nqueues : &c->ncpus) = n;
		return 0;
	case OT_XDP:
		if (strcmp(arg, "native") && strcmp(arg, "generic"))
			return bad(o, arg, "native or generic");
		c->xdp_mode = strcmp(arg, "native") ? PX_XDP_GENERIC : PX_XDP_NATIVE;
		return 0;
	case OT_STAGE:
		for (size_t i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++) {
			if (!strcmp(arg, stage_names[i])) {
				c->stage = (enum dp_stage)i;
				return 0;
			}
		}
		return bad(o, arg, "rx, parse, auth, filter, decap, full or reflect");
	case OT_XSK:
		if (!strcmp(arg, "auto"))
			c->xsk.mode = DP_XSK_AUTO;
		else if (!strcmp(arg, "copy"))
			c->xsk.mode = DP_XSK_COPY;
		else if (!strcmp(arg, "zerocopy"))
			c->xsk.mode = DP_XSK_ZEROCOPY;
		else
			return bad(o, arg, "auto, copy or zerocopy");
		return 0;
	default:
		return apply_num(o, arg, dst);
	}
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int check(const struct px_config *c)
{
	char err[160];

	if (!c->ifname[0] || !c->provision[0]) {
		fprintf(stderr, "xpro-proxy: --iface and --provision are required (see --help)\n");
		return -EINVAL;
	}
	if (!pow2(c->xsk.ring_size) || !pow2(c->xsk.frames) ||
	    c->xsk.frames < 2 * c->xsk.ring_size) {
		fprintf(stderr, "xpro-proxy: --ring-size and --umem-frames must be powers of two, "
				"with at least two frames per ring entry\n");
		return -EINVAL;
	}
	if (c->ncpus && c->nqueues && c->ncpus != c->nqueues) {
		fprintf(stderr, "xpro-proxy: --cpus lists %d CPUs for %d queues\n", c->ncpus,
			c->nqueues);
		return -EINVAL;
	}
	if (xf_params_validate(&c->params, err, sizeof(err))) {
		fprintf(stderr, "xpro-proxy: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

int px_parse_args(int argc, char **argv, struct px_config *cfg)
{
	struct option lopts[NOPTS + 1];
	char sopts[2 * NOPTS + 1], *sp = sopts;
	int c, idx;

	defaults(cfg);
	memset(lopts, 0, sizeof(lopts));
	for (size_t i = 0; i < NOPTS; i++) {
		bool has_arg = opts[i].type != OT_FLAG && opts[i].type != OT_VERB;

		lopts[i] = (struct option){ opts[i].name, has_arg, NULL, 256 + (int)i };
		if (opts[i].short_name) {
			*sp++ = (char)opts[i].short_name;
			if (has_arg)
				*sp++ = ':';
		}
	}
	*sp = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, sopts, lopts, &idx)) != -1) {
		const struct opt *o = NULL;

		for (size_t i = 0; i < NOPTS && !o; i++)
			if (c == 256 + (int)i || (c < 256 && c == opts[i].short_name))
				o = &opts[i];
		if (!o)
			return -EINVAL; /* getopt printed why */
		if (!strcmp(o->name, "help")) {
			usage(stdout);
			return 1;
		}
		if (apply(o, optarg, cfg))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "xpro-proxy: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return check(cfg);
}
