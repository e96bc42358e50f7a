/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's keys: one declarative table (name, short option, type, unit,
 * bounds, default, help, whether a SIGHUP may change it) from which the
 * command line, the configuration file, --help, docs/config.md and reload
 * all come; and the typed value parsers they share.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/proxy/config.h"

#define DAY_MS 86400000ULL

static const struct px_opt_enum xdp_modes[] = {
	{ "native", PX_XDP_NATIVE },
	{ "generic", PX_XDP_GENERIC },
	{ NULL, 0 },
};

static const struct px_opt_enum xsk_modes[] = {
	{ "auto", DP_XSK_AUTO },
	{ "copy", DP_XSK_COPY },
	{ "zerocopy", DP_XSK_ZEROCOPY },
	{ NULL, 0 },
};

/* In ladder order (enum dp_stage). */
static const struct px_opt_enum stages[] = {
	{ "rx", DP_STAGE_RX },		 { "parse", DP_STAGE_PARSE },
	{ "auth", DP_STAGE_AUTH },	 { "filter", DP_STAGE_FILTER },
	{ "decap", DP_STAGE_DECAP },	 { "full", DP_STAGE_FULL },
	{ "reflect", DP_STAGE_REFLECT }, { NULL, 0 },
};

static const struct px_opt_enum dst_policies[] = {
	{ "fcfs", XF_POLICY_FCFS },
	{ "fair", XF_POLICY_FAIR },
	{ NULL, 0 },
};

static const struct px_opt_enum log_levels[] = {
	{ "error", PX_LOG_ERROR },
	{ "warn", PX_LOG_WARN },
	{ "info", PX_LOG_INFO },
	{ "debug", PX_LOG_DEBUG },
	{ NULL, 0 },
};

#define FLD(f) offsetof(struct px_config, f), sizeof(((struct px_config *)0)->f)
#define LIST(f, n) FLD(f), offsetof(struct px_config, n)
#define RT PX_OPT_RUNTIME
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

/*
 * Threshold bounds come from the engine's one list (XF_PARAMS() in
 * xpro/filter.h), so a bad value is reported here, under the operator's name
 * for it, before the engine sees it; test_opts checks defaults agree too.
 */
const struct px_opt px_opts[] = {
	{ "iface", 'i', PX_OT_STR, FLD(ifname), 0, 0, 0, NULL, NULL, "", "NAME",
	  "interface to attach to", "required", PX_OPT_REQUIRED },
	{ "provision", 'P', PX_OT_STR, FLD(provision), 0, 0, 0, NULL, NULL, "path", "FILE",
	  "device provisioning file (docs/protocol.md); SIGHUP re-reads it", "required",
	  PX_OPT_REQUIRED },
	{ "queues", 'q', PX_OT_LIST, LIST(queues, nqueues), 0, PX_MAX_QUEUES - 1, NULL, NULL,
	  "queue ids", "LIST", "RX queues, e.g. 0-3 or 0,2; one worker each", "all RX queues", 0 },
	{ "cpus", 'c', PX_OT_LIST, LIST(cpus, ncpus), 0, 1023, NULL, NULL, "CPU ids", "LIST",
	  "CPU of each worker, in queue order", "not pinned", 0 },
	{ "xdp-mode", 0, PX_OT_ENUM, FLD(xdp_mode), 0, 0, 0, xdp_modes, NULL, "", "MODE",
	  "XDP attach mode", NULL, 0 },
	{ "xsk-mode", 0, PX_OT_ENUM, FLD(xsk.mode), 0, 0, 0, xsk_modes, NULL, "", "MODE",
	  "AF_XDP mode; auto tries zero-copy first, then copy", NULL, 0 },
	{ "batch", 'b', PX_OT_U32, FLD(batch), 0, 1, DP_BATCH_MAX, NULL, NULL, "packets", "N",
	  "packets per burst", NULL, 0 },
	{ "ring-size", 0, PX_OT_U32, FLD(xsk.ring_size), 0, 64, 16384, NULL, NULL, "entries", "N",
	  "entries per AF_XDP ring, a power of two", NULL, 0 },
	{ "umem-frames", 0, PX_OT_U32, FLD(xsk.frames), 0, 256, 1 << 20, NULL, NULL, "4 KiB frames",
	  "N", "UMEM frames per queue, a power of two, >= 2 x ring-size", NULL, 0 },
	{ "busy-poll", 0, PX_OT_FLAG, FLD(xsk.busy_poll), 0, 0, 0, NULL, NULL, "", NULL,
	  "prefer busy polling on the AF_XDP sockets", NULL, 0 },
	{ "port", 'p', PX_OT_U16, FLD(port), 0, 1, 65535, NULL, NULL, "UDP port", "PORT",
	  "tunnel port", NULL, 0 },
	{ "hold-ms", 0, PX_OT_U64, FLD(hold_ms), 0, 1, DAY_MS, NULL, NULL, "ms", "MS",
	  "how long a flagged pair is dropped in XDP", NULL, RT },
	{ "tt1-ms", 0, PX_OT_U64, FLD(params.tt1_ms), 0, XF_PARAM_BOUNDS(tt1_ms), NULL, NULL, "ms",
	  "MS", "T_T1: a pair idle this long restarts its window", NULL, RT },
	{ "tt2-ms", 0, PX_OT_U64, FLD(params.tt2_ms), 0, XF_PARAM_BOUNDS(tt2_ms), NULL, NULL, "ms",
	  "MS", "T_T2: minimum pair window before T_F1 is checked", NULL, RT },
	{ "tt3-ms", 0, PX_OT_U64, FLD(params.tt3_ms), 0, XF_PARAM_BOUNDS(tt3_ms), NULL, NULL, "ms",
	  "MS", "T_T3: minimum destination window before T_F2 is checked", NULL, RT },
	{ "tt4-ms", 0, PX_OT_U64, FLD(params.tt4_ms), 0, XF_PARAM_BOUNDS(tt4_ms), NULL, NULL, "ms",
	  "MS", "T_T4: window length at which sync decays counts", NULL, RT },
	{ "tf1", 0, PX_OT_U64, FLD(params.tf1_pps), 0, XF_PARAM_BOUNDS(tf1_pps), NULL, NULL,
	  "packets/s", "PPS", "T_F1: max rate of one (device, destination) pair", NULL, RT },
	{ "tf2", 0, PX_OT_U64, FLD(params.tf2_pps), 0, XF_PARAM_BOUNDS(tf2_pps), NULL, NULL,
	  "packets/s", "PPS", "T_F2: max rate towards one destination, all devices", NULL, RT },
	{ "r", 0, PX_OT_U32, FLD(params.r), 0, XF_PARAM_BOUNDS(r), NULL, NULL, "divisor", "N",
	  "Algorithm 1 decay divisor", NULL, RT },
	{ "warn-interval-ms", 0, PX_OT_U32, FLD(params.warn_interval_ms), 0,
	  XF_PARAM_BOUNDS(warn_interval_ms), NULL, NULL, "ms", "MS",
	  "min gap between overload warnings to one device", NULL, RT },
	{ "dst-policy", 0, PX_OT_ENUM, FLD(params.policy), 0, XF_PARAM_BOUNDS(policy), dst_policies,
	  NULL, "", "POLICY",
	  "how a destination over T_F2 is shared: fair (max-min fair share) or fcfs (Algorithm 2)",
	  NULL, RT },
	{ "pair-burst-ms", 0, PX_OT_U32, FLD(params.pair_burst_ms), 0,
	  XF_PARAM_BOUNDS(pair_burst_ms), NULL, NULL, "ms", "MS",
	  "fair: burst a pair may send above T_F1", NULL, RT },
	{ "dst-burst-ms", 0, PX_OT_U32, FLD(params.dst_burst_ms), 0, XF_PARAM_BOUNDS(dst_burst_ms),
	  NULL, NULL, "ms", "MS", "fair: burst above T_F2 and above a sender's share", NULL, RT },
	{ "tflag-ms", 0, PX_OT_U32, FLD(params.tflag_ms), 0, XF_PARAM_BOUNDS(tflag_ms), NULL, NULL,
	  "ms", "MS", "fair: excess over T_F1 (in ms of T_F1) before the pair is dropped in XDP",
	  NULL, RT },
	{ "rate-ms", 0, PX_OT_U32, FLD(params.rate_ms), 0, XF_PARAM_BOUNDS(rate_ms), NULL, NULL,
	  "ms", "MS", "fair: time constant of the senders' rate estimates", NULL, RT },
	{ "max-records", 0, PX_OT_U32, FLD(limits.max_records), 0, 1, 1 << 28, NULL, NULL, "pairs",
	  "N", "live (device, destination) pairs", NULL, 0 },
	{ "max-dsts", 0, PX_OT_U32, FLD(limits.max_dsts_per_dev), 0, 1, 1 << 20, NULL, NULL,
	  "destinations", "N", "distinct live destinations per device", NULL, 0 },
	{ "stage", 0, PX_OT_ENUM, FLD(stage), 0, 0, 0, stages, NULL, "", "STAGE",
	  "benchmarks: stop after this stage, or reflect", NULL, 0 },
	{ "stats-file", 's', PX_OT_STR, FLD(stats_file), 0, 0, 0, NULL, NULL, "path", "FILE",
	  "write every counter as JSON here every tick (docs/metrics.md)", "none", RT },
	{ "tick-ms", 0, PX_OT_U32, FLD(tick_ms), 0, 10, 60000, NULL, NULL, "ms", "MS",
	  "control period: stats, reclaim, neighbours", NULL, 0 },
	{ "pin-root", 0, PX_OT_STR, FLD(pin_root), 0, 0, 0, NULL, NULL, "path", "DIR",
	  "bpffs directory for pinned maps", NULL, 0 },
	{ "redis", 'R', PX_OT_STR, FLD(sync.master), 0, 0, 0, NULL, NULL, "address", "ADDR",
	  "Redis master for Algorithm 1: host:port, [v6]:port or unix:/path", "none (no sync)", 0 },
	{ "redis-replica", 0, PX_OT_STR, FLD(sync.replica), 0, 0, 0, NULL, NULL, "address", "ADDR",
	  "local replica of the master to read from", "none", 0 },
	{ "redis-password", 0, PX_OT_STR, FLD(sync.password), 0, 0, 0, NULL, NULL, "", "PASS",
	  "AUTH password of the master and the replica", "none", PX_OPT_SECRET },
	{ "proxy-id", 0, PX_OT_STR, FLD(sync.proxy_id), 0, 0, 0, NULL, ID_CHARS, "", "ID",
	  "this proxy's name on the master", "hostname-iface", 0 },
	{ "sync-ms", 't', PX_OT_U32, FLD(sync.period_ms), 0, 10, 60000, NULL, NULL, "ms", "MS",
	  "sync period t of Algorithm 1", NULL, RT },
	{ "redis-cluster", 0, PX_OT_STR, FLD(sync.cluster), 0, 0, 0, NULL, NULL, "addresses",
	  "ADDRS", "or a Redis Cluster: host:port[,host:port...], any of its nodes", "none", 0 },
	{ "redis-timeout-ms", 0, PX_OT_U32, FLD(sync.cmd_ms), 0, 10, 60000, NULL, NULL, "ms", "MS",
	  "longest wait for the master or replica, connect or reply", NULL, 0 },
	{ "log-level", 0, PX_OT_ENUM, FLD(log_level), 0, 0, 0, log_levels, NULL, "", "LEVEL",
	  "least severe messages logged", NULL, RT },
	{ "verbose", 'v', PX_OT_VERB, FLD(verbose), 0, 0, 3, NULL, NULL, "levels", NULL,
	  "one more level of log output (repeatable; in a file: a count)", NULL, RT },
	{ "ctl-socket", 0, PX_OT_STR, FLD(ctl_socket), 0, 0, 0, NULL, NULL, "path", "PATH",
	  "unix socket xproctl talks to (mode 0600); off: none", "/run/xpro/IFACE.sock", 0 },
	{ "metrics", 0, PX_OT_STR, FLD(metrics), 0, 0, 0, NULL, NULL, "address", "ADDR:PORT",
	  "serve Prometheus metrics at http://ADDR:PORT/metrics (docs/metrics.md)", "off", 0 },
	{ "config", 'C', PX_OT_CMD, FLD(config_file), 0, 0, 0, NULL, NULL, "path", "FILE",
	  "read keys from FILE; command-line options override it", "none", PX_OPT_CLI },
	{ "help", 'h', PX_OT_CMD, 0, 0, 0, 0, 0, NULL, NULL, "", NULL, "print this text", NULL,
	  PX_OPT_CLI },
	{ "help-config-md", 0, PX_OT_CMD, 0, 0, 0, 0, 0, NULL, NULL, "", NULL,
	  "print docs/config.md, the table of every key", NULL, PX_OPT_CLI },
	{ "help-man", 0, PX_OT_CMD, 0, 0, 0, 0, 0, NULL, NULL, "", "SECTION",
	  "print the manual page: 8, xpro-proxy(8); 5, xpro-proxy.conf(5)", NULL, PX_OPT_CLI },
	{ "help-config-example", 0, PX_OT_CMD, 0, 0, 0, 0, 0, NULL, NULL, "", NULL,
	  "print a proxy.conf with every key at its default, commented out", NULL, PX_OPT_CLI },
};
const size_t px_nopts = sizeof(px_opts) / sizeof(px_opts[0]);
_Static_assert(sizeof(px_opts) / sizeof(px_opts[0]) <= PX_OPTS_MAX, "raise PX_OPTS_MAX");
_Static_assert(sizeof(enum px_xdp_mode) == sizeof(int) && sizeof(enum dp_xsk_mode) == sizeof(int) &&
		       sizeof(enum dp_stage) == sizeof(int),
	       "PX_OT_ENUM fields are int-sized");

/*
 * Defaults, with why where it is not obvious.  docs/config.md and --help
 * print what this sets, so there is no second copy to keep in step.
 */
void px_config_defaults(struct px_config *c)
{
	memset(c, 0, sizeof(*c));
	c->xsk.frames = 8192; /* 4 x ring: fill and rx full with TX in flight */
	c->xsk.ring_size = 2048;
	c->batch = 64;
	c->port = XPRO_TUN_PORT_DEFAULT;
	c->hold_ms = 10000; /* long enough to outlast a sync period many times */
	xf_params_default(&c->params);
	c->limits.max_records = 1 << 20;
	c->limits.max_dsts_per_dev = 256; /* an IoT device talks to few hosts */
	c->tick_ms = 200;
	c->stage = DP_STAGE_FULL;
	snprintf(c->pin_root, sizeof(c->pin_root), "%s", XPRO_PIN_ROOT);
	c->sync.period_ms = 100; /* the paper's t */
	c->sync.cmd_ms = 1000;
	c->log_level = PX_LOG_INFO;
}

const struct px_opt *px_opt_find(const char *name)
{
	for (size_t i = 0; i < px_nopts; i++)
		if (!strcmp(px_opts[i].name, name))
			return &px_opts[i];
	return NULL;
}

const char *px_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t n = len < PX_QUOTE_SIZE - 8 ? len : PX_QUOTE_SIZE - 8, i;

	if (size < PX_QUOTE_SIZE)
		return "";
	for (i = 0; i < n; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (len > n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* Decimal digits only: "010" is ten, not eight, and "+1", " 1", "0x10" are refused. */
static int parse_dec(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

static int set_num(const struct px_opt *o, const char *val, void *dst, char *why, size_t len)
{
	uint64_t v;
	int rc = parse_dec(val, &v);

	if (rc == -EINVAL) {
		snprintf(why, len, "not a number");
		return -EINVAL;
	}
	if (rc || v < o->min || v > o->max) {
		snprintf(why, len, "must be %" PRIu64 "..%" PRIu64, o->min, o->max);
		return -EINVAL;
	}
	if (o->type == PX_OT_U64)
		*(uint64_t *)dst = v;
	else if (o->type == PX_OT_U16)
		*(uint16_t *)dst = (uint16_t)v;
	else if (o->type == PX_OT_U32)
		*(uint32_t *)dst = (uint32_t)v;
	else
		*(int *)dst = (int)v;
	return 0;
}

/* "0-3,5" into out[]; returns the count, or -EINVAL with why set. */
static int parse_list(const struct px_opt *o, const char *s, int *out, char *why, size_t len)
{
	int max = (int)(o->size / sizeof(int)), n = 0;

	while (*s) {
		uint64_t a, b;
		char num[24];
		size_t k = strspn(s, "0123456789");

		if (!k || k >= sizeof(num))
			goto out_form;
		memcpy(num, s, k);
		num[k] = '\0';
		if (parse_dec(num, &a) || a > o->max)
			goto out_form;
		s += k;
		b = a;
		if (*s == '-') {
			s++;
			k = strspn(s, "0123456789");
			if (!k || k >= sizeof(num))
				goto out_form;
			memcpy(num, s, k);
			num[k] = '\0';
			if (parse_dec(num, &b) || b < a || b > o->max)
				goto out_form;
			s += k;
		}
		for (uint64_t v = a; v <= b; v++) {
			if (n == max) {
				snprintf(why, len, "more than %d entries", max);
				return -EINVAL;
			}
			out[n++] = (int)v;
		}
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			goto out_form;
	}
	if (n)
		return n;
out_form:
	snprintf(why, len, "expected a list like 0-3,5 of numbers 0..%" PRIu64, o->max);
	return -EINVAL;
}

static int set_enum(const struct px_opt *o, const char *val, int *dst, char *why, size_t len)
{
	size_t off = 0;
	int i;

	for (i = 0; o->enums[i].name; i++) {
		if (!strcmp(val, o->enums[i].name)) {
			*dst = o->enums[i].value;
			return 0;
		}
	}
	/* "a, b or c" from the table. */
	for (int j = 0; j < i && off < len; j++)
		off += (size_t)snprintf(why + off, len - off, "%s%s",
					j == 0	     ? ""
					: j == i - 1 ? " or "
						     : ", ",
					o->enums[j].name);
	return -EINVAL;
}

static int set_flag(const char *val, bool *dst, char *why, size_t len)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no",
										       "false",
										       "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(val, yes[i]) || !strcmp(val, no[i])) {
			*dst = !strcmp(val, yes[i]);
			return 0;
		}
	}
	snprintf(why, len, "yes or no");
	return -EINVAL;
}

static int set_str(const struct px_opt *o, const char *val, char *dst, char *why, size_t len)
{
	size_t n = strlen(val);

	if (n >= o->size) {
		snprintf(why, len, "longer than %zu bytes", o->size - 1);
		return -EINVAL;
	}
	if (o->accept && val[strspn(val, o->accept)]) {
		snprintf(why, len, "only letters, digits, '.', '_' and '-'");
		return -EINVAL;
	}
	/* Zero the tail too: reload compares whole fields. */
	memset(dst, 0, o->size);
	memcpy(dst, val, n);
	return 0;
}

_Static_assert(sizeof(int[PX_MAX_QUEUES]) == sizeof(((struct px_config *)0)->queues) &&
		       sizeof(int[PX_MAX_QUEUES]) == sizeof(((struct px_config *)0)->cpus),
	       "px_opt_set's list buffer holds any list key");

int px_opt_set(const struct px_opt *o, const char *val, struct px_config *c, char *why,
	       size_t whylen)
{
	char *dst = (char *)c + o->off;
	int list[PX_MAX_QUEUES], n;

	switch (o->type) {
	case PX_OT_STR:
	case PX_OT_CMD:
		return set_str(o, val, dst, why, whylen);
	case PX_OT_FLAG:
		return set_flag(val, (bool *)dst, why, whylen);
	case PX_OT_ENUM:
		return set_enum(o, val, (int *)dst, why, whylen);
	case PX_OT_LIST:
		n = parse_list(o, val, list, why, whylen);
		if (n < 0)
			return n;
		memset(dst, 0, o->size);
		memcpy(dst, list, (size_t)n * sizeof(int));
		*(int *)((char *)c + o->cnt_off) = n;
		return 0;
	default:
		return set_num(o, val, dst, why, whylen);
	}
}

static void format_list(const int *v, int n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && off < len; i++) {
		int j = i;

		while (j + 1 < n && v[j + 1] == v[j] + 1)
			j++;
		if (j > i)
			off += (size_t)snprintf(buf + off, len - off, "%s%d-%d", i ? "," : "", v[i],
						v[j]);
		else
			off += (size_t)snprintf(buf + off, len - off, "%s%d", i ? "," : "", v[i]);
		i = j;
	}
}

void px_opt_format(const struct px_opt *o, const struct px_config *c, char *buf, size_t len)
{
	const char *src = (const char *)c + o->off;

	switch (o->type) {
	case PX_OT_STR:
	case PX_OT_CMD:
		snprintf(buf, len, "%.*s", (int)o->size, src);
		return;
	case PX_OT_FLAG:
		snprintf(buf, len, "%s", *(const bool *)src ? "yes" : "no");
		return;
	case PX_OT_ENUM:
		for (int i = 0; o->enums[i].name; i++) {
			if (o->enums[i].value == *(const int *)src) {
				snprintf(buf, len, "%s", o->enums[i].name);
				return;
			}
		}
		snprintf(buf, len, "%d", *(const int *)src);
		return;
	case PX_OT_LIST:
		format_list((const int *)src, *(const int *)((const char *)c + o->cnt_off), buf,
			    len);
		return;
	case PX_OT_U64:
		snprintf(buf, len, "%" PRIu64, *(const uint64_t *)src);
		return;
	case PX_OT_U32:
		snprintf(buf, len, "%" PRIu32, *(const uint32_t *)src);
		return;
	case PX_OT_U16:
		snprintf(buf, len, "%" PRIu16, *(const uint16_t *)src);
		return;
	case PX_OT_VERB:
		snprintf(buf, len, "%d", *(const int *)src);
		return;
	}
}

bool px_opt_equal(const struct px_opt *o, const struct px_config *a, const struct px_config *b)
{
	const char *pa = (const char *)a + o->off, *pb = (const char *)b + o->off;

	if (o->type == PX_OT_STR || o->type == PX_OT_CMD)
		return !strncmp(pa, pb, o->size);
	if (o->type == PX_OT_LIST && *(const int *)((const char *)a + o->cnt_off) !=
					     *(const int *)((const char *)b + o->cnt_off))
		return false;
	return !memcmp(pa, pb, o->size);
}

void px_opt_copy(const struct px_opt *o, struct px_config *dst, const struct px_config *src)
{
	memcpy((char *)dst + o->off, (const char *)src + o->off, o->size);
	if (o->type == PX_OT_LIST)
		memcpy((char *)dst + o->cnt_off, (const char *)src + o->cnt_off, sizeof(int));
}
