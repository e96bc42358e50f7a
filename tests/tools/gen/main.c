/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-gen: the option table, the command line and main().  The modes live in
 * paced.c, flood_live.c, flood_xsk.c, bad.c, provision_out.c and xdp_mode.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../flowpay.h"
#include "gen.h"

#define GEN_EPOCH_ORIGIN 1577836800ull /* 2020-01-01: default epoch = seconds since */
#define GEN_MAX_SIZE 1396 /* inner IPv6/UDP payload that fits a 1500-byte outer IPv4 MTU */

volatile sig_atomic_t gen_stop;

static void gen_on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

uint64_t gen_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool gen_keep_going(const struct gen_cfg *cfg, const struct gen_result *r, uint64_t now)
{
	if (gen_stop || (cfg->count && r->sent >= cfg->count))
		return false;
	return !cfg->duration_ms || now < r->start_ns + cfg->duration_ms * 1000000ull;
}

/* ---- the option table ---------------------------------------------------------------------- */

enum gen_kind { GK_FLAG, GK_STR, GK_U32, GK_U64, GK_HELP };

struct gen_opt {
	const char *name;
	int short_name;
	enum gen_kind kind;
	size_t off;
	const char *arg;
	const char *help;
};

#define GF(f) offsetof(struct gen_cfg, f)

static const struct gen_opt gen_opts[] = {
	{ "mode", 'm', GK_STR, GF(mode), "MODE", "paced, flood, bad, provision or xdp" },
	{ "provision", 'P', GK_STR, GF(provision), "FILE", "provisioning file (the proxy's)" },
	{ "proxy", 'x', GK_STR, GF(proxy), "ADDR[:PORT]", "the proxy's tunnel socket" },
	{ "dst", 'D', GK_STR, GF(dsts), "A:P[,A:P]", "inner destinations, IPv4 or [IPv6]" },
	{ "flows", 'f', GK_U32, GF(flows), "N", "flows: device i % D to destination" },
	{ "flow-base", 0, GK_U32, GF(flow_base), "N", "first flow id (payload)" },
	{ "rate", 'r', GK_U64, GF(rate), "PPS", "paced: per flow; bad: in total" },
	{ "size", 's', GK_U32, GF(size), "BYTES", "inner UDP payload (24..1396)" },
	{ "duration", 'd', GK_U64, GF(duration_ms), "MS", "stop after MS ms (0: no limit)" },
	{ "start-at", 0, GK_U64, GF(start_at_ms), "MS",
	  "paced: start at MS ms since the epoch (generators started one by one send together)" },
	{ "count", 'c', GK_U64, GF(count), "N", "stop after N packets (0: no limit)" },
	{ "epoch", 'e', GK_U64, GF(epoch), "N", "key epoch (default: seconds since 2020)" },
	{ "seq-start", 0, GK_U64, GF(seq_start), "N", "first tunnel sequence number" },
	{ "dev-first", 0, GK_U32, GF(dev_first), "I", "use devices with index >= I" },
	{ "dev-count", 0, GK_U32, GF(dev_count), "N", "... and below I + N (0: all)" },
	{ "sockets", 0, GK_U32, GF(sockets), "N", "paced, bad: UDP sockets (source ports)" },
	{ "ifname", 'i', GK_STR, GF(ifname), "IF", "flood, xdp: the interface" },
	{ "dst-mac", 0, GK_STR, GF(dst_mac), "MAC",
	  "flood: proxy MAC (default: ARP); xdp redirect" },
	{ "flood-mode", 0, GK_STR, GF(flood_mode), "M", "live (BPF_PROG_RUN), afxdp or seal" },
	{ "src-mac", 0, GK_STR, GF(src_mac), "MAC", "flood seal: source MAC of the frames" },
	{ "bpf-obj", 0, GK_STR, GF(bpf_obj), "FILE",
	  "flood seal: XDP object [<xpro-gen's dir>/gen/gen_seal.bpf.o]" },
	{ "batch", 0, GK_U32, GF(batch), "N", "live: frames rotated; afxdp: frames per burst" },
	{ "repeat", 0, GK_U32, GF(repeat), "N", "live: copies of a frame per BPF_PROG_RUN" },
	{ "vary-dev", 0, GK_U32, GF(vary_dev), "N", "live: random device index in [first, +N)" },
	{ "queue", 'q', GK_U32, GF(queue), "Q", "afxdp: TX queue" },
	{ "kind", 'k', GK_STR, GF(kind), "KIND", "bad: which defect (list below), or all" },
	{ "action", 0, GK_STR, GF(action), "ACT", "xdp: pass, drop or redirect" },
	{ "redirect-to", 0, GK_STR, GF(redirect_to), "IF", "xdp redirect: frames for --dst-mac" },
	{ "keep", 0, GK_FLAG, GF(keep), NULL, "xdp: leave the program attached and exit" },
	{ "out", 'o', GK_STR, GF(out), "FILE", "provision: file to write (- for stdout)" },
	{ "devices", 'n', GK_U32, GF(devices), "N", "provision: devices to write" },
	{ "seed", 0, GK_U64, GF(seed), "N", "provision: secrets from seed N (0: random)" },
	{ "inactive-last", 0, GK_FLAG, GF(inactive_last), NULL, "provision: last one inactive" },
	{ "v6", '6', GK_FLAG, GF(v6), NULL, "provision: IPv6 inner prefixes" },
	{ "json", 'j', GK_FLAG, GF(json), NULL, "final summary as one JSON object" },
	{ "help", 'h', GK_HELP, 0, NULL, "print this help and exit" },
};

static void gen_cfg_default(struct gen_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->proxy = "198.18.0.1:7447";
	c->dsts = "198.18.0.100:9000";
	c->ifname = "eth0";
	c->flood_mode = "live";
	c->kind = "all";
	c->action = "pass";
	c->out = "-";
	c->flows = 1;
	c->rate = 10;
	c->size = 64;
	c->sockets = 4;
	c->batch = 64;
	c->repeat = 1 << 20;
	c->devices = 16;
	c->epoch = (uint64_t)time(NULL) - GEN_EPOCH_ORIGIN;
}

static void gen_help(FILE *out)
{
	struct gen_cfg def;

	gen_cfg_default(&def);
	fprintf(out,
		"usage: xpro-gen --mode MODE [options]\n\n"
		"Simulates provisioned devices sending tunnel packets to an X-Pro proxy.\n"
		"  paced      F flows at R pps each over UDP sockets (legitimate devices)\n"
		"  flood      flat out: --flood-mode live (BPF_PROG_RUN live frames, a rotated batch:\n"
		"             the kernel path), afxdp (AF_XDP TX, every frame freshly sealed) or\n"
		"             seal (BPF_PROG_RUN live frames sealed by an XDP program: each frame a\n"
		"             fresh sequence number, devices and --dst in rotation, IPv4 only)\n"
		"  bad        malformed, forged and replayed messages (--kind), counted per kind\n"
		"  provision  write a provisioning file: index i at 198.18.64.0+i/32\n"
		"  xdp        attach a counting XDP pass/drop/redirect program to --ifname\n\n"
		"options:\n");
	for (size_t i = 0; i < ARRAY_SIZE(gen_opts); i++) {
		const struct gen_opt *o = &gen_opts[i];
		const char *f = (const char *)&def + o->off;
		char lhs[48];

		snprintf(lhs, sizeof(lhs), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-28s %s", lhs, o->help);
		if (o->kind == GK_U32)
			fprintf(out, " [%" PRIu32 "]", *(const uint32_t *)f);
		else if (o->kind == GK_U64 && o->off != GF(epoch))
			fprintf(out, " [%" PRIu64 "]", *(const uint64_t *)f);
		else if (o->kind == GK_STR && *(const char *const *)f)
			fprintf(out, " [%s]", *(const char *const *)f);
		fputc('\n', out);
	}
	fprintf(out, "\nbad kinds (--kind):\n");
	gen_bad_list(out);
	fprintf(out, "\nExit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

static int gen_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int gen_opt_apply(const struct gen_opt *o, const char *arg, struct gen_cfg *cfg)
{
	char *f = (char *)cfg + o->off;
	uint64_t v;

	switch (o->kind) {
	case GK_HELP:
		return 1;
	case GK_FLAG:
		*(bool *)f = true;
		return 0;
	case GK_STR:
		*(const char **)f = arg;
		return 0;
	case GK_U32:
	case GK_U64:
		break;
	}
	if (gen_parse_u64(arg, &v) || (o->kind == GK_U32 && v > UINT32_MAX)) {
		fprintf(stderr, "xpro-gen: --%s: bad value '%s' (want a whole number)\n", o->name,
			arg);
		return -EINVAL;
	}
	if (o->kind == GK_U32)
		*(uint32_t *)f = (uint32_t)v;
	else
		*(uint64_t *)f = v;
	return 0;
}

static bool gen_is(const struct gen_cfg *c, const char *mode)
{
	return !strcmp(c->mode, mode);
}

/* Cross-option checks; each error names the option and the bad value. */
static int gen_check(const struct gen_cfg *c)
{
	const char *why = NULL;

	if (!c->mode || (!gen_is(c, "paced") && !gen_is(c, "flood") && !gen_is(c, "bad") &&
			 !gen_is(c, "provision") && !gen_is(c, "xdp")))
		why = "--mode: want paced, flood, bad, provision or xdp";
	else if ((gen_is(c, "paced") || gen_is(c, "flood") || gen_is(c, "bad")) && !c->provision)
		why = "--provision FILE is required";
	else if (c->size < FP_MIN_LEN || c->size > GEN_MAX_SIZE)
		why = "--size: want 24..1396";
	else if (!c->flows || !c->rate)
		why = "--flows and --rate must be >= 1";
	else if (!c->sockets || c->sockets > GEN_MAX_SOCKETS)
		why = "--sockets: want 1..64";
	else if (!c->batch || c->batch > 2048 || !c->repeat || c->repeat > INT32_MAX)
		why = "--batch: want 1..2048, --repeat 1..2^31-1";
	else if (c->epoch < 2 || c->epoch > UINT32_MAX)
		why = "--epoch: want 2..4294967295";
	else if (gen_is(c, "flood") && strcmp(c->flood_mode, "live") &&
		 strcmp(c->flood_mode, "afxdp") && strcmp(c->flood_mode, "seal"))
		why = "--flood-mode: want live, afxdp or seal";
	else if (gen_is(c, "provision") && !c->devices)
		why = "--devices must be >= 1";
	if (why) {
		fprintf(stderr, "xpro-gen: %s\n", why);
		return -EINVAL;
	}
	return 0;
}

/* Returns 0, 1 for --help, or -EINVAL (message printed). */
static int gen_parse_args(int argc, char **argv, struct gen_cfg *cfg)
{
	struct option lo[ARRAY_SIZE(gen_opts) + 1];
	char shorts[3 * ARRAY_SIZE(gen_opts) + 1], *sp = shorts;
	int c, rc;

	for (size_t i = 0; i < ARRAY_SIZE(gen_opts); i++) {
		const struct gen_opt *o = &gen_opts[i];
		bool arg = o->kind == GK_STR || o->kind == GK_U32 || o->kind == GK_U64;

		lo[i] = (struct option){ o->name, arg ? required_argument : no_argument, NULL,
					 (int)(256 + i) };
		if (o->short_name) {
			*sp++ = (char)o->short_name;
			if (arg)
				*sp++ = ':';
		}
	}
	lo[ARRAY_SIZE(gen_opts)] = (struct option){ NULL, 0, NULL, 0 };
	*sp = '\0';
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct gen_opt *o = NULL;

		for (size_t i = 0; i < ARRAY_SIZE(gen_opts); i++)
			if (c == (int)(256 + i) || c == gen_opts[i].short_name)
				o = &gen_opts[i];
		if (!o)
			return -EINVAL;
		rc = gen_opt_apply(o, optarg, cfg);
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "xpro-gen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return gen_check(cfg);
}

/* ---- main ----------------------------------------------------------------------------------- */

static int gen_run(const struct gen_cfg *cfg, struct gen_result *r)
{
	struct gen_world w;
	int rc;

	if (gen_is(cfg, "provision"))
		return gen_provision_write(cfg);
	if (gen_is(cfg, "xdp"))
		return gen_xdp(cfg, r);
	rc = gen_world_init(&w, cfg);
	if (rc)
		return rc;
	if (gen_is(cfg, "paced"))
		rc = gen_paced(&w, r);
	else if (gen_is(cfg, "bad"))
		rc = gen_bad(&w, r);
	else if (!strcmp(cfg->flood_mode, "live"))
		rc = gen_flood_live(&w, r);
	else if (!strcmp(cfg->flood_mode, "seal"))
		rc = gen_flood_seal(&w, r);
	else
		rc = gen_flood_afxdp(&w, r);
	r->nflows = w.nflows;
	r->ndevs = w.ndevs;
	r->epoch = w.epoch;
	for (size_t i = 0; i < w.nflows; i++) {
		if (!i || w.flows[i].sent < r->flow_sent_min)
			r->flow_sent_min = w.flows[i].sent;
		if (w.flows[i].sent > r->flow_sent_max)
			r->flow_sent_max = w.flows[i].sent;
	}
	gen_world_free(&w);
	return rc;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = gen_on_signal };
	struct gen_result r = { .if_tx_delta = -1 };
	struct gen_cfg cfg;
	int rc;

	gen_cfg_default(&cfg);
	rc = gen_parse_args(argc, argv, &cfg);
	if (rc == 1) {
		gen_help(stdout);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "(xpro-gen --help lists the options)\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r.mode = gen_is(&cfg, "flood") ? cfg.flood_mode : cfg.mode;
	rc = gen_run(&cfg, &r);
	if (rc) {
		fprintf(stderr, "xpro-gen: %s failed: %s\n", cfg.mode, strerror(-rc));
		return 1;
	}
	if (!gen_is(&cfg, "provision") && !(gen_is(&cfg, "xdp") && cfg.keep))
		gen_report(&cfg, &r, stdout);
	return 0;
}
