/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cost of the destination round (src/sync/dst.c, round.c; docs/sync.md,
 * "The destination round") against real redis-server processes that this
 * program starts and stops on every exit path (atexit, SIGINT/SIGTERM/SIGHUP,
 * and PR_SET_PDEATHSIG should this process die without either): one on a
 * unix socket in a temporary directory, then Redis Clusters of 1 and 2
 * masters on loopback TCP ports.
 *
 *   name=sync_dst        sync_dst_exchange() alone, for N destinations, with
 *                        no peers and with two peers ("p2", "p3") whose
 *                        entries are present; proxy "p1" is measured.  Each
 *                        trial empties the store (FLUSHALL, FUNCTION FLUSH),
 *                        lets the peers publish, runs p1's first call
 *                        (first_ms: markers, sweeps and the library's load on
 *                        first contact) and then its steady call, timed.
 *   name=sync_round_dst  sync_round_run() of one proxy with a real engine:
 *                        P pairs over D destinations fed through xf_filter(),
 *                        then per trial one more packet for every pair and one
 *                        round, timed.  lib_round_ms is the library's own
 *                        st.last_round_ns, split into last_collect_ms (the
 *                        engine's walk over its destinations, heavy and new
 *                        pairs), last_store_ms and last_apply_ms.
 *                        pair_walk_ms times xf_engine_collect() over every
 *                        pair on the same state (every pair touched once):
 *                        what the pair protocol's collect costs and the
 *                        destination round no longer pays.  share_ms is the
 *                        control tick's xf_engine_share() before the round
 *                        (fair policy), not part of round_ms.  layout=spread
 *                        scatters the destinations over the IPv4 space; the
 *                        first case runs again with layout=seq, one block.
 *                        The old pair protocol for the same pair counts is
 *                        bench_sync's name=sync_round; make bench runs both,
 *                        side by side.
 *   name=sync_cluster    sync_dst_exchange() for 100k destinations over a
 *                        Redis Cluster of 1 and of 2 masters; ratio= is the
 *                        2-shard throughput over the 1-shard one.  The
 *                        machine this was written on has 2 vCPUs shared by
 *                        this client and every server, so a second shard
 *                        competes for the same cores: this measures, it does
 *                        not predict a deployment with a machine per shard.
 *
 * Printed: the median steady round over the trials and its spread, per
 * second rates, bytes of arguments sent (st.bytes_sent) and the servers'
 * own network counters, commands, the servers' CPU during the round (INFO
 * cpu, used_cpu_sys + used_cpu_user) and their memory per entry (INFO
 * used_memory after the round minus after FLUSHALL, over the entries).
 *
 *   bench_round [--only dst|round|cluster] [--dsts N[,N...]] [--trials T]
 *
 * Defaults: 10000,100000,1000000 destinations, 3 trials; round cases 100k
 * pairs over 10k destinations, 1M over 100k, 1M over 1M, 10M over 100k and over 1M (when
 * MemAvailable holds the engine's worst case).  BENCH_QUICK=1: 10000,100000
 * destinations, the first round case, 1 trial.  Benchmarks never fail: a
 * failed case prints BENCH name=... error="why" and the next one runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <urcu.h>

#include "bench_args.h"
#include "xpro/filter.h"
#include "sync/dst.h"
#include "sync/round.h"
#include "sync/store.h"

#define MAX_TRIALS 15
#define MAX_SRV 3 /* the unix-socket server, then up to 2 cluster masters */
#define SEED 0x5eed5eed5eedULL
#define PERIOD_MS 100 /* t: the simulated time between rounds */
#define PERIOD_US (1000ULL * PERIOD_MS)
#define TT1_US 10000000ULL /* T_T1, the default */
#define TTL_US (TT1_US + 2 * PERIOD_US + 1000ULL * SYNC_BACKOFF_MAX_MS) /* as round.c */
#define FRESH_US 1000000ULL
#define FANOUT 10 /* destinations per device in the round cases */
#define DST_BASE 0x0a000000u /* layout=seq: destination i is 10.0.0.0 + i */
#define CMD_MS 60000
#define CLUSTER_DSTS 100000

/* --- the servers: global so that the exit paths can stop them ------------------ */

struct srv {
	pid_t pid;
	int port, bus; /* TCP port and cluster bus port on 127.0.0.1; 0: unix socket only */
	char dir[64], sock[96], log[96], conf[96], addr[112];
};

static struct srv srvs[MAX_SRV];

static void srv_stop(struct srv *s)
{
	int status;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(s->pid, &status, WNOHANG) != s->pid; i++)
			usleep(10000);
		kill(s->pid, SIGKILL); /* harmless if it already exited */
		waitpid(s->pid, &status, 0);
		s->pid = 0;
	}
	if (s->dir[0]) {
		unlink(s->sock);
		unlink(s->log);
		unlink(s->conf);
		rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

static void stop_all(void)
{
	for (int i = 0; i < MAX_SRV; i++)
		srv_stop(&srvs[i]);
}

static void on_signal(int sig)
{
	stop_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static redisContext *srv_dial(const struct srv *s)
{
	redisContext *ctx = redisConnectUnixWithTimeout(s->sock, (struct timeval){ .tv_sec = 1 });
	redisReply *r;

	if (ctx && !ctx->err) {
		redisSetTimeout(ctx, (struct timeval){ .tv_sec = 60 });
		r = redisCommand(ctx, "PING");
		if (r && r->type == REDIS_REPLY_STATUS) {
			freeReplyObject(r);
			return ctx;
		}
		if (r)
			freeReplyObject(r);
	}
	if (ctx)
		redisFree(ctx);
	return NULL;
}

/* A TCP port on 127.0.0.1 that was free a moment ago, or 0. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The last line of the server's log into why (what it said before it died). */
static void log_tail(const struct srv *s, char *why, size_t len)
{
	char line[256];
	FILE *fp = fopen(s->log, "r");

	snprintf(why, len, "redis-server did not answer (is it installed?)");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			snprintf(why, len, "redis-server: %s", line);
	}
	fclose(fp);
}

static void srv_child(const struct srv *s, pid_t parent)
{
	char port[8], bus[8];
	const char *argv[32] = {
		"redis-server", "--port", "0",	  "--unixsocket", s->sock,   "--unixsocketperm",
		"700",		"--save", "",	  "--appendonly", "no",	     "--maxmemory-policy",
		"noeviction",	"--dir",  s->dir, "--loglevel",	  "warning", NULL
	};
	int n = 17, fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	if (s->port) {
		snprintf(port, sizeof(port), "%d", s->port);
		snprintf(bus, sizeof(bus), "%d", s->bus);
		argv[2] = port;
		argv[n++] = "--bind";
		argv[n++] = "127.0.0.1";
		argv[n++] = "--cluster-enabled";
		argv[n++] = "yes";
		argv[n++] = "--cluster-config-file";
		argv[n++] = s->conf;
		argv[n++] = "--cluster-port";
		argv[n++] = bus;
	}
	argv[n] = NULL;
	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execvp("redis-server", (char *const *)argv);
	_exit(127);
}

/*
 * Start srvs[i] (a cluster node on free loopback ports when cluster) and
 * return a plain connection to it over its unix socket, or NULL with why.
 */
static redisContext *srv_start(int i, bool cluster, char *why, size_t whylen)
{
	static bool handlers;
	struct srv *s = &srvs[i];
	pid_t parent = getpid();
	redisContext *ctx;
	int status;

	if (!handlers) {
		atexit(stop_all);
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
		handlers = true;
	}
	/* Another process may take a free port first: then try others. */
	for (int tries = 0; tries < (cluster ? 3 : 1); tries++) {
		char dir[sizeof(s->dir)] = "/tmp/xpro-bench-round-XXXXXX";

		memset(s, 0, sizeof(*s));
		if (!mkdtemp(dir)) {
			snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
			return NULL;
		}
		/* Built from a local copy: gcc's -Wrestrict cannot tell s->dir from s->log. */
		memcpy(s->dir, dir, sizeof(dir));
		snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", dir);
		snprintf(s->log, sizeof(s->log), "%s/redis.log", dir);
		snprintf(s->conf, sizeof(s->conf), "%s/nodes.conf", dir);
		snprintf(s->addr, sizeof(s->addr), "unix:%s/redis.sock", dir);
		if (cluster) {
			s->port = free_port();
			s->bus = free_port();
			if (!s->port || !s->bus || s->port == s->bus) {
				srv_stop(s);
				continue;
			}
		}
		s->pid = fork();
		if (s->pid < 0) {
			s->pid = 0;
			snprintf(why, whylen, "fork: %s", strerror(errno));
			srv_stop(s);
			return NULL;
		}
		if (s->pid == 0)
			srv_child(s, parent);
		for (int k = 0; k < 200; k++) {
			if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
				s->pid = 0;
				break;
			}
			ctx = srv_dial(s);
			if (ctx)
				return ctx;
			usleep(50000);
		}
		log_tail(s, why, whylen);
		srv_stop(s);
	}
	return NULL;
}

/* --- measuring ----------------------------------------------------------------- */

/* A numeric field of INFO <section>, or 0. */
static double info_field(redisContext *ctx, const char *section, const char *field)
{
	redisReply *r = redisCommand(ctx, "INFO %s", section);
	char pat[64];
	const char *s;
	double v = 0;

	snprintf(pat, sizeof(pat), "\r\n%s:", field);
	if (r && r->type == REDIS_REPLY_STRING && (s = strstr(r->str, pat)))
		v = strtod(s + strlen(pat), NULL);
	if (r)
		freeReplyObject(r);
	return v;
}

/* A command whose reply must not be an error; false with why. */
static bool cmd_ok(redisContext *ctx, char *why, size_t whylen, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	r = redisvCommand(ctx, fmt, ap);
	va_end(ap);
	ok = r && r->type != REDIS_REPLY_ERROR;
	if (!ok)
		snprintf(why, whylen, "%s: %s", fmt, r ? r->str : ctx->errstr);
	if (r)
		freeReplyObject(r);
	return ok;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

/* The servers' counters, summed over ctx[0..n). */
struct snap {
	double wall_ms, cpu_ms, in, out, mem;
};

static void take(redisContext **ctx, int n, struct snap *s, bool before)
{
	if (!before)
		s->wall_ms = now_ms();
	s->cpu_ms = s->in = s->out = s->mem = 0;
	for (int i = 0; i < n; i++) {
		s->cpu_ms += (info_field(ctx[i], "cpu", "used_cpu_user") +
			      info_field(ctx[i], "cpu", "used_cpu_sys")) *
			     1e3;
		s->in += info_field(ctx[i], "stats", "total_net_input_bytes");
		s->out += info_field(ctx[i], "stats", "total_net_output_bytes");
		s->mem += info_field(ctx[i], "memory", "used_memory");
	}
	if (before)
		s->wall_ms = now_ms();
}

static double used_memory(redisContext **ctx, int n)
{
	double m = 0;

	for (int i = 0; i < n; i++)
		m += info_field(ctx[i], "memory", "used_memory");
	return m;
}

/* Empty every server: data and the Functions library (a first contact again). */
static bool flush_all(redisContext **ctx, int n, char *why, size_t whylen)
{
	for (int i = 0; i < n; i++)
		if (!cmd_ok(ctx[i], why, whylen, "FLUSHALL") ||
		    !cmd_ok(ctx[i], why, whylen, "FUNCTION FLUSH"))
			return false;
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of v[0..n) (sorted in place), with its smallest and largest. */
static double median(double *v, int n, double *lo, double *hi)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	if (lo)
		*lo = v[0];
	if (hi)
		*hi = v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A failed case: its identifying fields, then error="why" (quotes made single). */
static void report_error(const char *fields, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	for (char *p = why; *p; p++)
		if (*p == '"' || *p == '\n' || *p == '\r')
			*p = *p == '"' ? '\'' : ' ';
	printf("BENCH %s error=\"%s\"\n", fields, why);
	fflush(stdout);
}

/* --- the exchange alone: name=sync_dst and name=sync_cluster -------------------------- */

/*
 * Destination i as an IPv4 address (host order).  layout=spread: a bijection
 * of i over the whole space, distinct addresses scattered as a proxy's
 * destinations are; layout=seq: 10.0.0.0 + i, one block (a victim's /16).
 */
static uint32_t dst_v4(size_t i, bool seq)
{
	uint32_t x = (uint32_t)i;

	if (seq)
		return DST_BASE + x;
	x *= 0x9e3779b1u; /* odd multipliers and xor-shifts: each step is invertible */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	return x;
}

static void dst_addr(uint8_t out[16], size_t i)
{
	struct xf_key k;

	xf_key_ipv4(&k, 0, htonl(dst_v4(i, false)));
	memcpy(out, k.dst, 16);
}

/* This proxy's entries at now_us: a window of 1 s, a rate, a fair-share summary. */
static void fill_mine(struct sync_dst_mine *m, size_t n, uint64_t now_us)
{
	for (size_t i = 0; i < n; i++) {
		m[i].c = 100;
		m[i].ts1 = now_us - 1000000;
		m[i].ts2 = now_us;
		m[i].rate = 100 * XF_RATE_ONE;
		m[i].has_share = true;
		m[i].sh = (struct xf_share_view){ .senders = 10,
						  .demand = 100 * XF_RATE_ONE,
						  .admitted = 100 * XF_RATE_ONE,
						  .share = XF_SHARE_NONE };
		memcpy(m[i].sh.dst, m[i].dst, 16);
	}
}

static struct sync_store *store_open(const char *addr, const char *cluster, const char *id,
				     char *why, size_t whylen)
{
	struct sync_store_opts o = {
		.addr = cluster ? NULL : addr, .cluster = cluster, .proxy_id = id, .cmd_ms = CMD_MS
	};

	return sync_store_open(&o, why, whylen);
}

/* One proxy's exchange at now_us; 0 or -errno with why. */
static int exchange(struct sync_dst *d, struct sync_store *s, struct sync_dst_mine *mine,
		    struct sync_dst_sum *out, size_t n, const uint32_t *peers, size_t npeers,
		    uint64_t now_us, struct sync_dst_stats *st, char *why, size_t whylen)
{
	struct sync_dst_req q = { .now_us = now_us,
				  .tt1_us = TT1_US,
				  .ttl_us = TTL_US,
				  .fresh_us = FRESH_US,
				  .peers = peers,
				  .npeers = npeers,
				  .mine = mine,
				  .out = out,
				  .n = n };
	int rc;

	fill_mine(mine, n, now_us);
	rc = sync_dst_exchange(d, s, &q, st);
	if (rc)
		snprintf(why, whylen, "exchange: %s (%s; %llu of %llu buckets failed)",
			 strerror(-rc), sync_store_strerror(s),
			 (unsigned long long)st->failed_buckets, (unsigned long long)st->buckets);
	return rc;
}

struct dst_res {
	double ms, first_ms, cpu_ms, in, out, mem;
	struct sync_dst_stats st;
	uint64_t lib_loads, read_ok;
};

/*
 * One trial: an empty store, the peers' entries (each peer's own store and
 * struct sync_dst), p1's first call, then p1's steady call, measured.
 * cluster: the seeds, or NULL for srvs[0].  false with why.
 */
static bool dst_trial(redisContext **ctx, int nctx, const char *cluster, size_t n, size_t npeers,
		      struct sync_dst_mine *mine, struct sync_dst_sum *out, struct dst_res *res,
		      char *why, size_t whylen)
{
	static const char *const ids[] = { "p1", "p2", "p3" };
	struct sync_store *st[3] = { NULL, NULL, NULL };
	struct sync_dst *d[3] = { NULL, NULL, NULL };
	uint32_t peers[2] = { sync_proxy_num("p2"), sync_proxy_num("p3") };
	uint64_t t = realtime_us();
	struct sync_store_stats ss;
	struct sync_dst_stats ds;
	double mem0, t0;
	struct snap a, b;
	bool ok = false;

	memset(res, 0, sizeof(*res));
	if (!flush_all(ctx, nctx, why, whylen))
		return false;
	mem0 = used_memory(ctx, nctx);
	for (size_t p = 0; p <= npeers; p++) {
		st[p] = store_open(srvs[0].addr, cluster, ids[p], why, whylen);
		d[p] = sync_dst_new(ids[p]);
		if (!st[p] || !d[p]) {
			if (d[p] && !st[p])
				snprintf(why + strlen(why), whylen - strlen(why), " (%s)", ids[p]);
			else if (!d[p])
				snprintf(why, whylen, "out of memory");
			goto out;
		}
	}
	/* The peers publish in this period, p1 a little later (times: the shared clock). */
	for (size_t p = 1; p <= npeers; p++)
		if (exchange(d[p], st[p], mine, out, n, NULL, 0, t, &ds, why, whylen))
			goto out;
	t0 = now_ms();
	if (exchange(d[0], st[0], mine, out, n, peers, npeers, t + PERIOD_US / 2, &ds, why, whylen))
		goto out;
	res->first_ms = now_ms() - t0;
	take(ctx, nctx, &a, true);
	if (exchange(d[0], st[0], mine, out, n, peers, npeers, t + PERIOD_US / 2 + PERIOD_US,
		     &res->st, why, whylen))
		goto out;
	take(ctx, nctx, &b, false);
	res->ms = b.wall_ms - a.wall_ms;
	res->cpu_ms = b.cpu_ms - a.cpu_ms;
	res->in = b.in - a.in;
	res->out = b.out - a.out;
	res->mem = used_memory(ctx, nctx) - mem0;
	for (size_t p = 0; p <= npeers; p++) {
		sync_store_stats(st[p], &ss);
		res->lib_loads += ss.lib_loads;
	}
	/* What p1 read: every destination answered, each peer's window summed. */
	for (size_t i = 0; i < n; i++)
		res->read_ok += out[i].ok && out[i].proxies == npeers && out[i].c == 100 * npeers;
	ok = true;
out:
	for (int p = 0; p < 3; p++) {
		sync_dst_free(d[p]);
		sync_store_close(st[p]);
	}
	return ok;
}

/* Trials of one case; the medians go into *med.  false: the case failed (printed). */
static bool dst_case(redisContext **ctx, int nctx, const char *cluster, size_t n, size_t npeers,
		     int trials, const char *fields, struct dst_res *med, double *ms_lo,
		     double *ms_hi)
{
	struct sync_dst_mine *mine = calloc(n, sizeof(*mine));
	struct sync_dst_sum *out = calloc(n, sizeof(*out));
	struct dst_res r[MAX_TRIALS];
	double v[6][MAX_TRIALS];
	char why[512] = "";
	int ok = 0;

	if (!mine || !out) {
		report_error(fields, "out of memory for %zu destinations", n);
		goto out_free;
	}
	for (size_t i = 0; i < n; i++)
		dst_addr(mine[i].dst, i);
	for (int t = 0; t < trials; t++) {
		if (!dst_trial(ctx, nctx, cluster, n, npeers, mine, out, &r[ok], why, sizeof(why)))
			break;
		ok++;
	}
	if (!ok) {
		report_error(fields, "%s", why);
		goto out_free;
	}
	for (int t = 0; t < ok; t++) {
		v[0][t] = r[t].ms;
		v[1][t] = r[t].first_ms;
		v[2][t] = r[t].cpu_ms;
		v[3][t] = r[t].mem;
		v[4][t] = r[t].in;
		v[5][t] = r[t].out;
	}
	/* The same request every trial: commands, bytes and reads from the first. */
	*med = r[0];
	med->ms = median(v[0], ok, ms_lo, ms_hi);
	med->first_ms = median(v[1], ok, NULL, NULL);
	med->cpu_ms = median(v[2], ok, NULL, NULL);
	med->mem = median(v[3], ok, NULL, NULL);
	med->in = median(v[4], ok, NULL, NULL);
	med->out = median(v[5], ok, NULL, NULL);
	if (ok < trials)
		report_error(fields, "only %d of %d trials ran: %s", ok, trials, why);
out_free:
	free(mine);
	free(out);
	return ok > 0;
}

static void bench_dst(redisContext *ctx, const size_t *sizes, int nsizes, int trials)
{
	printf("# sync_dst: sync_dst_exchange() alone, one redis-server on a unix socket, "
	       "%d trial(s); round_ms is the median steady call of proxy p1\n",
	       trials);
	for (int s = 0; s < nsizes; s++) {
		for (size_t npeers = 0; npeers <= 2; npeers += 2) {
			size_t n = sizes[s];
			struct dst_res m;
			char fields[96];
			double lo, hi;

			snprintf(fields, sizeof(fields), "name=sync_dst dsts=%zu npeers=%zu", n,
				 npeers);
			if (!dst_case(&ctx, 1, NULL, n, npeers, trials, fields, &m, &lo, &hi))
				continue;
			printf("BENCH %s share=1 round=steady trials=%d round_ms=%.1f "
			       "round_ms_min=%.1f round_ms_max=%.1f dsts_per_s=%.0f "
			       "bytes_sent=%llu bytes_per_dst=%.1f wire_in=%.0f wire_out=%.0f "
			       "commands=%llu buckets=%llu master_cpu_ms=%.1f "
			       "master_mem_per_entry=%.1f first_ms=%.1f lib_loads=%llu "
			       "read_ok=%llu\n",
			       fields, trials, m.ms, lo, hi, m.ms > 0 ? n / (m.ms / 1e3) : 0,
			       (unsigned long long)m.st.bytes_sent, m.st.bytes_sent / (double)n,
			       m.in, m.out, (unsigned long long)m.st.commands,
			       (unsigned long long)m.st.buckets, m.cpu_ms,
			       m.mem / (double)(n * (1 + npeers)), m.first_ms,
			       (unsigned long long)m.lib_loads, (unsigned long long)m.read_ok);
			fflush(stdout);
		}
	}
}

/* --- the whole round with a real engine: name=sync_round_dst ------------------------ */

/* One packet for every pair at t: pair i is device i / FANOUT towards destination i % ndsts. */
static size_t feed(struct xf_worker *w, size_t npairs, size_t ndsts, bool seq, uint64_t t)
{
	struct xf_key k;
	size_t dropped = 0;

	rcu_read_lock();
	for (size_t i = 0; i < npairs; i++) {
		xf_key_ipv4(&k, (uint32_t)(i / FANOUT), htonl(dst_v4(i % ndsts, seq)));
		dropped += xf_verdict_of(xf_filter(w, &k, t)) != XF_PASS;
		if ((i & 4095) == 4095) { /* let grace periods end */
			rcu_read_unlock();
			rcu_read_lock();
		}
	}
	rcu_read_unlock();
	return dropped;
}

static double mem_available(void)
{
	char line[128];
	double kb = 0;
	FILE *fp = fopen("/proc/meminfo", "r");

	if (!fp)
		return 0;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, "MemAvailable:", 13))
			kb = strtod(line + 13, NULL);
	fclose(fp);
	return kb * 1024;
}

static void round_case(redisContext *ctx, size_t npairs, size_t ndsts, bool seq, int trials)
{
	struct xf_limits lim = { .max_records = (uint32_t)(npairs + npairs / 8 + 1024),
				 .max_dsts_per_dev = 2 * FANOUT };
	double ms[MAX_TRIALS], lib[MAX_TRIALS], cpu[MAX_TRIALS], shr[MAX_TRIALS];
	double need = (double)xf_bytes_per_record() * lim.max_records, avail = mem_available();
	struct sync_round_cfg cfg = { .period_ms = PERIOD_MS };
	struct sync_load load = { .pps = 1000 };
	struct sync_round_stats st;
	struct xf_engine_stats es;
	struct xf_worker *w = NULL;
	struct sync_round *r = NULL;
	struct xf_engine *e = NULL;
	double feed_ms, first_ms, collect_ms, lo, hi, mem0, t0;
	uint64_t t, sent0, dropped;
	size_t collected;
	struct snap a, b;
	struct xf_params xp;
	char fields[96], err[256];
	int rc;

	snprintf(fields, sizeof(fields), "name=sync_round_dst pairs=%zu dsts=%zu layout=%s", npairs,
		 ndsts, seq ? "seq" : "spread");
	/* Reserve 2 GiB for the store, the round's arrays and everything else. */
	if (avail && need > avail - 2.0 * (1 << 30)) {
		report_error(fields,
			     "skipped: the engine may need %.1f GiB (%zu bytes per record at "
			     "most), %.1f GiB available",
			     need / (1 << 30), xf_bytes_per_record(), avail / (1 << 30));
		return;
	}
	if (!flush_all(&ctx, 1, err, sizeof(err))) {
		report_error(fields, "%s", err);
		return;
	}
	mem0 = used_memory(&ctx, 1);
	xf_params_default(&xp); /* the fair policy, as a proxy runs by default */
	e = xf_engine_new(&xp, &lim, SEED);
	if (!e) {
		report_error(fields, "xf_engine_new(max_records=%u): %s", lim.max_records,
			     strerror(errno));
		return;
	}
	w = xf_worker_new(e);
	if (!w) {
		report_error(fields, "xf_worker_new: out of memory");
		goto out;
	}
	/* A simulated clock from now: feeding 10M pairs takes longer than T_T1. */
	t = xf_now_ns();
	t0 = now_ms();
	dropped = feed(w, npairs, ndsts, seq, t);
	feed_ms = now_ms() - t0;
	xf_engine_stats(e, &es);
	if (es.pairs != npairs) {
		report_error(fields, "the engine holds %llu pairs, not %zu (%zu refused)",
			     (unsigned long long)es.pairs, npairs, dropped);
		goto out;
	}
	cfg.master =
		(struct sync_conn_opts){ .addr = srvs[0].addr, .proxy_id = "p1", .cmd_ms = CMD_MS };
	r = sync_round_new(e, &cfg, err, sizeof(err));
	if (!r) {
		report_error(fields, "sync_round_new: %s", err);
		goto out;
	}
	t += PERIOD_MS * XF_NSEC_PER_MSEC;
	xf_engine_share(e, t);
	t0 = now_ms();
	rc = sync_round_run(r, t, &load); /* the first: every live destination (re-seed) */
	first_ms = now_ms() - t0;
	sync_round_stats(r, &st);
	if (rc) {
		report_error(fields, "first round: %s (%s)", strerror(-rc), st.error);
		goto out;
	}
	for (int k = 0; k < trials; k++) {
		t += PERIOD_MS * XF_NSEC_PER_MSEC;
		dropped += feed(w, npairs, ndsts, seq, t);
		t += PERIOD_MS * XF_NSEC_PER_MSEC;
		t0 = now_ms();
		xf_engine_share(e, t);
		shr[k] = now_ms() - t0;
		sent0 = st.dsts_sent;
		take(&ctx, 1, &a, true);
		rc = sync_round_run(r, t, &load);
		take(&ctx, 1, &b, false);
		sync_round_stats(r, &st);
		if (rc) {
			report_error(fields, "steady round %d: %s (%s)", k + 1, strerror(-rc),
				     st.error);
			goto out;
		}
		if (st.dsts_sent - sent0 != ndsts) {
			report_error(fields, "steady round %d published %llu destinations, not %zu",
				     k + 1, (unsigned long long)(st.dsts_sent - sent0), ndsts);
			goto out;
		}
		ms[k] = b.wall_ms - a.wall_ms;
		lib[k] = st.last_round_ns / 1e6;
		cpu[k] = b.cpu_ms - a.cpu_ms;
	}
	/*
	 * What a walk over every pair would cost on the state the rounds saw
	 * (every pair touched once): the pair protocol's collect, which the
	 * destination round does not do.
	 */
	t += PERIOD_MS * XF_NSEC_PER_MSEC;
	dropped += feed(w, npairs, ndsts, seq, t);
	t0 = now_ms();
	collected = xf_engine_collect(e, XF_COLLECT_TOUCHED, NULL, NULL);
	collect_ms = now_ms() - t0;
	xf_engine_stats(e, &es);
	{
		double m = median(ms, trials, &lo, &hi), mem = used_memory(&ctx, 1) - mem0;

		printf("BENCH %s policy=%s round=steady trials=%d round_ms=%.1f round_ms_min=%.1f "
		       "round_ms_max=%.1f lib_round_ms=%.1f pairs_per_s=%.0f dsts_per_s=%.0f "
		       "pair_walk_ms=%.1f walked=%zu share_ms=%.1f buckets=%llu bytes_sent=%llu "
		       "master_cpu_ms=%.1f master_mem_per_dst=%.1f engine_bytes_per_pair=%.1f "
		       "feed_first_ms=%.0f first_round_ms=%.1f refused=%zu last_collect_ms=%.1f "
		       "last_store_ms=%.1f last_apply_ms=%.1f\n",
		       fields, xf_policy_name(xp.policy), trials, m, lo, hi,
		       median(lib, trials, NULL, NULL), m > 0 ? npairs / (m / 1e3) : 0,
		       m > 0 ? ndsts / (m / 1e3) : 0, collect_ms, collected,
		       median(shr, trials, NULL, NULL), (unsigned long long)st.last_buckets,
		       (unsigned long long)st.last_bytes, median(cpu, trials, NULL, NULL),
		       mem / (double)ndsts,
		       (double)(es.bytes_records + es.bytes_tables) / (double)npairs, feed_ms,
		       first_ms, dropped, st.last_collect_ns / 1e6, st.last_store_ns / 1e6,
		       st.last_apply_ns / 1e6);
		fflush(stdout);
	}
out:
	sync_round_free(r);
	xf_worker_free(w);
	xf_engine_free(e);
}

static void bench_round(redisContext *ctx, bool quick, int trials)
{
	static const size_t cases[][2] = {
		{ 100000, 10000 },    { 1000000, 100000 },   { 1000000, 1000000 },
		{ 10000000, 100000 }, { 10000000, 1000000 },
	};

	printf("# sync_round_dst: sync_round_run() of one proxy (no peers), fed by a real engine, "
	       "%d trial(s); round_ms is the median steady round; compare bench_sync's "
	       "name=sync_round (the pair protocol)\n",
	       trials);
	for (size_t c = 0; c < (quick ? 1 : sizeof(cases) / sizeof(cases[0])); c++)
		round_case(ctx, cases[c][0], cases[c][1], false, trials);
	/*
	 * The first case again with its destinations in one block (10.0.0.0/16):
	 * every hash on the way (the engine's table, the store's buckets) must
	 * spread a block as well as scattered addresses.
	 */
	if (!quick)
		round_case(ctx, cases[0][0], cases[0][1], true, trials);
}

/* --- Redis Cluster: name=sync_cluster --------------------------------------------- */

/* Every node of ctx[0..n) says the cluster is ok and knows all n. */
static bool cluster_ok(redisContext **ctx, int n)
{
	char known[32];

	snprintf(known, sizeof(known), "cluster_known_nodes:%d\r", n);
	for (int i = 0; i < n; i++) {
		redisReply *r = redisCommand(ctx[i], "CLUSTER INFO");
		bool ok = r && r->type == REDIS_REPLY_STRING &&
			  strstr(r->str, "cluster_state:ok") && strstr(r->str, known);

		if (r)
			freeReplyObject(r);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * A cluster of n masters in srvs[1..n], the slots split evenly, met through
 * the first (CLUSTER ADDSLOTSRANGE and MEET: no redis-cli needed).  Its
 * seeds into seeds; false with why (the servers are stopped by the caller).
 */
static bool cluster_build(int n, redisContext **ctx, char *seeds, size_t seedlen, char *why,
			  size_t whylen)
{
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		unsigned lo = 16384u * (unsigned)i / (unsigned)n;
		unsigned hi = 16384u * (unsigned)(i + 1) / (unsigned)n - 1;

		ctx[i] = srv_start(1 + i, true, why, whylen);
		if (!ctx[i])
			return false;
		if (!cmd_ok(ctx[i], why, whylen, "CLUSTER ADDSLOTSRANGE %u %u", lo, hi))
			return false;
		len += (size_t)snprintf(seeds + len, seedlen - len, "%s127.0.0.1:%d", i ? "," : "",
					srvs[1 + i].port);
	}
	for (int i = 1; i < n; i++)
		if (!cmd_ok(ctx[0], why, whylen, "CLUSTER MEET 127.0.0.1 %d %d", srvs[1 + i].port,
			    srvs[1 + i].bus))
			return false;
	for (int t = 0; t < 400 && !cluster_ok(ctx, n); t++)
		usleep(50000);
	if (!cluster_ok(ctx, n)) {
		snprintf(why, whylen, "the cluster of %d masters is not ok after 20 s", n);
		return false;
	}
	return true;
}

static void bench_cluster(int trials)
{
	double rate[3] = { 0, 0, 0 };

	printf("# sync_cluster: sync_dst_exchange() for %d destinations over a Redis Cluster, "
	       "%d trial(s); client and servers share this machine's %ld CPU(s)\n",
	       CLUSTER_DSTS, trials, sysconf(_SC_NPROCESSORS_ONLN));
	for (int shards = 1; shards <= 2; shards++) {
		redisContext *ctx[2] = { NULL, NULL };
		char fields[96], seeds[64] = "", why[512] = "";
		struct dst_res m;
		double lo, hi;

		snprintf(fields, sizeof(fields), "name=sync_cluster shards=%d dsts=%d", shards,
			 CLUSTER_DSTS);
		if (!cluster_build(shards, ctx, seeds, sizeof(seeds), why, sizeof(why))) {
			report_error(fields, "%s", why);
		} else if (dst_case(ctx, shards, seeds, CLUSTER_DSTS, 0, trials, fields, &m, &lo,
				    &hi)) {
			rate[shards] = m.ms > 0 ? CLUSTER_DSTS / (m.ms / 1e3) : 0;
			printf("BENCH %s npeers=0 share=1 round=steady trials=%d round_ms=%.1f "
			       "round_ms_min=%.1f round_ms_max=%.1f dsts_per_s=%.0f bytes_sent=%llu "
			       "commands=%llu buckets=%llu master_cpu_ms=%.1f "
			       "master_mem_per_entry=%.1f first_ms=%.1f lib_loads=%llu read_ok=%llu",
			       fields, trials, m.ms, lo, hi, rate[shards],
			       (unsigned long long)m.st.bytes_sent,
			       (unsigned long long)m.st.commands, (unsigned long long)m.st.buckets,
			       m.cpu_ms, m.mem / CLUSTER_DSTS, m.first_ms,
			       (unsigned long long)m.lib_loads, (unsigned long long)m.read_ok);
			if (shards == 2 && rate[1] > 0)
				printf(" ratio=%.2f", rate[2] / rate[1]);
			printf("\n");
			fflush(stdout);
		}
		for (int i = 0; i < shards; i++) {
			if (ctx[i])
				redisFree(ctx[i]);
			srv_stop(&srvs[1 + i]);
		}
	}
}

/* --- main ---------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: bench_round [--only dst|round|cluster] [--dsts N[,N...]] "
			"[--trials T]\n");
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = { 10000, 100000, 1000000 };
	int nsizes = 3, trials = 3;
	bool quick = getenv("BENCH_QUICK") != NULL;
	const char *only = NULL;
	redisContext *ctx;
	char why[512];

	if (quick) {
		nsizes = 2;
		trials = 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--only") && v) {
			only = v;
		} else if (!strcmp(argv[i], "--dsts") && v) {
			nsizes = parse_sizes(v, sizes);
		} else if (!strcmp(argv[i], "--trials") && v) {
			trials = atoi(v);
		} else {
			usage();
			return 2;
		}
		i++;
		if (nsizes <= 0 || trials < 1 || trials > MAX_TRIALS) {
			fprintf(stderr, "bench_round: bad value for %s: %s\n", argv[i - 1], v);
			return 2;
		}
	}
	/* A server that dies mid-case fails that case, not this process. */
	signal(SIGPIPE, SIG_IGN);
	rcu_register_thread();
	ctx = srv_start(0, false, why, sizeof(why));
	if (!ctx) {
		report_error("name=sync_dst", "%s", why);
		report_error("name=sync_round_dst", "%s", why);
	} else {
		if (!only || !strcmp(only, "dst"))
			bench_dst(ctx, sizes, nsizes, trials);
		if (!only || !strcmp(only, "round"))
			bench_round(ctx, quick, trials);
		redisFree(ctx);
		srv_stop(&srvs[0]);
	}
	if (!only || !strcmp(only, "cluster"))
		bench_cluster(trials);
	stop_all();
	rcu_unregister_thread();
	return 0;
}
