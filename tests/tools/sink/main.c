/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-sink: the option table, the socket and the receive loop.  It runs until
 * SIGINT/SIGTERM or --duration, then prints the summary (sink.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "xpro/addr.h"
#include "sink.h"

#define SINK_BATCH 64
#define SINK_BUF 2048 /* larger than any datagram on an MTU-1500 testbed */

static volatile sig_atomic_t sink_stop;

static void sink_on_signal(int sig)
{
	(void)sig;
	sink_stop = 1;
}

/* ---- the option table ---------------------------------------------------------------------- */

enum sink_kind { SK_FLAG, SK_STR, SK_U32, SK_U64, SK_HELP };

struct sink_opt {
	const char *name;
	int short_name;
	enum sink_kind kind;
	size_t off;
	const char *arg;
	const char *help;
};

#define SK_FIELD(f) offsetof(struct sink_cfg, f)

static const struct sink_opt sink_opts[] = {
	{ "port", 'p', SK_U32, SK_FIELD(port), "PORT", "UDP port to listen on" },
	{ "bind", 'b', SK_STR, SK_FIELD(bind), "ADDR", "local address (default: any, v4 and v6)" },
	{ "duration", 'd', SK_U64, SK_FIELD(duration_ms), "MS",
	  "stop after MS milliseconds (0: at SIGINT/SIGTERM)" },
	{ "rate-window", 'r', SK_U64, SK_FIELD(rate_window_ms), "MS",
	  "print received pps every MS ms on stderr (0: off)" },
	{ "tunnel", 't', SK_FLAG, SK_FIELD(tunnel), NULL,
	  "datagrams are tunnel messages: check the inner packet" },
	{ "json", 'j', SK_FLAG, SK_FIELD(json), NULL, "final summary as one JSON object" },
	{ "rows", 0, SK_U32, SK_FIELD(rows), "N", "human table: at most N flow rows" },
	{ "no-flows", 0, SK_FLAG, SK_FIELD(no_flows), NULL, "totals and sources only" },
	{ "max-flows", 0, SK_U32, SK_FIELD(max_flows), "N", "distinct (source, flow) entries" },
	{ "quiet", 'q', SK_FLAG, SK_FIELD(quiet_start), NULL, "no 'listening' line on stderr" },
	{ "help", 'h', SK_HELP, 0, NULL, "print this help and exit" },
};

static void sink_cfg_default(struct sink_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->port = 9000;
	c->rows = 20;
	c->max_flows = 1u << 20;
}

static void sink_help(FILE *out)
{
	struct sink_cfg def;

	sink_cfg_default(&def);
	fprintf(out,
		"usage: xpro-sink [options]\n\n"
		"Counts UDP datagrams per source and per flow (xpro-gen's payload) and reports\n"
		"in-order, out-of-order, duplicate, missing and corrupted datagrams.\n\n"
		"options:\n");
	for (size_t i = 0; i < ARRAY_SIZE(sink_opts); i++) {
		const struct sink_opt *o = &sink_opts[i];
		const char *f = (const char *)&def + o->off;
		char lhs[40];

		snprintf(lhs, sizeof(lhs), "%c%c%c --%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ',' : ' ', o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-24s %s", lhs, o->help);
		if (o->kind == SK_U32)
			fprintf(out, " [%" PRIu32 "]", *(const uint32_t *)f);
		else if (o->kind == SK_U64)
			fprintf(out, " [%" PRIu64 "]", *(const uint64_t *)f);
		fputc('\n', out);
	}
	fprintf(out, "\nExit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

static int sink_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

/* Returns 0, 1 for --help, or -EINVAL (message printed). */
static int sink_parse_args(int argc, char **argv, struct sink_cfg *cfg)
{
	struct option lo[ARRAY_SIZE(sink_opts) + 1];
	char shorts[3 * ARRAY_SIZE(sink_opts) + 1], *sp = shorts;
	int c;

	for (size_t i = 0; i < ARRAY_SIZE(sink_opts); i++) {
		const struct sink_opt *o = &sink_opts[i];
		bool arg = o->kind == SK_STR || o->kind == SK_U32 || o->kind == SK_U64;

		lo[i] = (struct option){ o->name, arg ? required_argument : no_argument, NULL,
					 (int)(256 + i) };
		if (o->short_name) {
			*sp++ = (char)o->short_name;
			if (arg)
				*sp++ = ':';
		}
	}
	lo[ARRAY_SIZE(sink_opts)] = (struct option){ NULL, 0, NULL, 0 };
	*sp = '\0';
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct sink_opt *o = NULL;
		char *f;
		uint64_t v;

		for (size_t i = 0; i < ARRAY_SIZE(sink_opts); i++)
			if (c == (int)(256 + i) || c == sink_opts[i].short_name)
				o = &sink_opts[i];
		if (!o)
			return -EINVAL;
		f = (char *)cfg + o->off;
		switch (o->kind) {
		case SK_HELP:
			return 1;
		case SK_FLAG:
			*(bool *)f = true;
			continue;
		case SK_STR:
			*(const char **)f = optarg;
			continue;
		case SK_U32:
		case SK_U64:
			break;
		}
		if (sink_parse_u64(optarg, &v) || (o->kind == SK_U32 && v > UINT32_MAX)) {
			fprintf(stderr, "xpro-sink: --%s: bad value '%s' (want a whole number)\n",
				o->name, optarg);
			return -EINVAL;
		}
		if (o->kind == SK_U32)
			*(uint32_t *)f = (uint32_t)v;
		else
			*(uint64_t *)f = v;
	}
	if (optind < argc) {
		fprintf(stderr, "xpro-sink: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->port || cfg->port > 65535 || !cfg->max_flows) {
		fprintf(stderr, "xpro-sink: --port must be 1..65535, --max-flows >= 1\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- the socket ----------------------------------------------------------------------------- */

/* Returns a bound socket or -errno. */
static int sink_socket(const struct sink_cfg *cfg)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(cfg->port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	int one = 1, zero = 0, buf = 16 << 20, fd = -1, err;
	bool v6 = true;

	if (cfg->bind && inet_pton(AF_INET, cfg->bind, &a4.sin_addr) == 1)
		v6 = false;
	else if (cfg->bind && inet_pton(AF_INET6, cfg->bind, &a6.sin6_addr) != 1)
		return -EINVAL;
	if (v6) {
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero))) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0 && bind(fd, (struct sockaddr *)&a6, sizeof(a6))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0 && cfg->bind)
			return -errno;
	}
	if (fd < 0) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4))) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	/* Best effort: a bigger buffer (root may exceed rmem_max) and the kernel's drop count. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	return fd;
}

static void sink_src_of(const struct sockaddr_storage *ss, uint8_t src[16])
{
	if (ss->ss_family == AF_INET6)
		memcpy(src, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	else
		xpro_addr_from_v4(src, &((const struct sockaddr_in *)ss)->sin_addr);
}

/* ---- the loop ------------------------------------------------------------------------------- */

struct sink_rx {
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	struct sockaddr_storage from[SINK_BATCH];
	char ctl[SINK_BATCH][CMSG_SPACE(sizeof(uint32_t))];
	uint8_t buf[SINK_BATCH][SINK_BUF];
};

static void sink_rx_reset(struct sink_rx *rx)
{
	for (int i = 0; i < SINK_BATCH; i++) {
		rx->iov[i] = (struct iovec){ rx->buf[i], SINK_BUF };
		rx->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &rx->from[i],
			.msg_namelen = sizeof(rx->from[i]),
			.msg_iov = &rx->iov[i],
			.msg_iovlen = 1,
			.msg_control = rx->ctl[i],
			.msg_controllen = sizeof(rx->ctl[i]),
		};
	}
}

static void sink_one(struct sink *s, struct msghdr *mh, size_t len, uint64_t now)
{
	const uint8_t *p = mh->msg_iov->iov_base, *pay = p;
	size_t plen = len;
	bool decoded = true;
	uint8_t src[16];
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL)
			memcpy(&s->tot.socket_drops, CMSG_DATA(cm), sizeof(uint32_t));
	sink_src_of(mh->msg_name, src);
	if (s->cfg->tunnel && sink_tunnel_decode(p, len, src, &pay, &plen))
		decoded = false;
	sink_account(s, src, pay, plen, decoded, now);
}

static void sink_rate_line(struct sink *s, uint64_t *last_ns, uint64_t *last_rx, uint64_t now)
{
	double dt = (double)(now - *last_ns) / 1e9;

	fprintf(stderr, "rate t=%.1f rx=%" PRIu64 " pps=%.0f\n", (double)(now - s->start_ns) / 1e9,
		s->tot.rx - *last_rx, dt > 0 ? (double)(s->tot.rx - *last_rx) / dt : 0.0);
	*last_ns = now;
	*last_rx = s->tot.rx;
}

static int sink_run(struct sink *s, int fd)
{
	const struct sink_cfg *cfg = s->cfg;
	struct sink_rx *rx = malloc(sizeof(*rx));
	uint64_t now = s->start_ns, last_ns = now, last_rx = 0;
	uint64_t end = cfg->duration_ms ? now + cfg->duration_ms * 1000000ull : UINT64_MAX;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (!rx)
		return -ENOMEM;
	while (!sink_stop && now < end) {
		int n;

		if (poll(&pfd, 1, 50) < 0 && errno != EINTR) {
			free(rx);
			return -errno;
		}
		sink_rx_reset(rx);
		n = recvmmsg(fd, rx->msgs, SINK_BATCH, MSG_DONTWAIT, NULL);
		now = sink_now_ns();
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			free(rx);
			return -errno;
		}
		for (int i = 0; i < n; i++)
			sink_one(s, &rx->msgs[i].msg_hdr, rx->msgs[i].msg_len, now);
		if (n > 0)
			sink_window_add(s, now, n);
		if (cfg->rate_window_ms && now - last_ns >= cfg->rate_window_ms * 1000000ull)
			sink_rate_line(s, &last_ns, &last_rx, now);
	}
	s->end_ns = now < end ? now : end;
	free(rx);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = sink_on_signal };
	struct sink_cfg cfg;
	struct sink s;
	int fd, err;

	sink_cfg_default(&cfg);
	err = sink_parse_args(argc, argv, &cfg);
	if (err == 1) {
		sink_help(stdout);
		return 0;
	}
	if (err) {
		fprintf(stderr, "(xpro-sink --help lists the options)\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = sink_socket(&cfg);
	if (fd < 0) {
		fprintf(stderr, "xpro-sink: cannot listen on %s port %" PRIu32 ": %s\n",
			cfg.bind ? cfg.bind : "any", cfg.port, strerror(-fd));
		return 1;
	}
	err = sink_init(&s, &cfg);
	if (!err) {
		if (!cfg.quiet_start)
			fprintf(stderr, "xpro-sink: listening on port %" PRIu32 "\n", cfg.port);
		err = sink_run(&s, fd);
	}
	close(fd);
	if (err) {
		fprintf(stderr, "xpro-sink: %s\n", strerror(-err));
		sink_free(&s);
		return 1;
	}
	if (cfg.json)
		sink_report_json(&s, stdout);
	else
		sink_report_human(&s, stdout);
	sink_free(&s);
	return 0;
}
