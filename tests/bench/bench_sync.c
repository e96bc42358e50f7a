/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cost of one sync round (Algorithm 1's merge, issue 4) against a real
 * redis-server that this program starts on a unix socket in a temporary
 * directory and stops on every exit path (atexit, SIGINT/SIGTERM/SIGHUP, and
 * PR_SET_PDEATHSIG should this process die without either).
 *
 * For each record count and destination spread, each trial empties the
 * master, merges every record once (round=first: every pair and destination
 * is created) and then once more (round=steady: every pair merges into its
 * record).  Printed: the median round over the trials and its spread, records
 * per second, bytes the master received and sent (its own counters, so the
 * whole protocol is counted), CPU of this process and of the master during
 * the round, and the master's memory per record (INFO used_memory after the
 * round minus before, over records).
 *
 *   bench_sync [--records N[,N...]] [--dsts D[,D...]] [--trials T] [--batch B]
 *
 * Defaults: 10000,100000,1000000 records, 3 trials, the library's batch, and
 * three spreads: 10 pairs per destination, all pairs on 1000 destinations,
 * each pair its own destination (the worst case: nothing to group).
 * BENCH_QUICK=1: 10000,100000 and 1 trial.  Benchmarks never fail: a failed
 * merge is reported and the case skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "bench_args.h"
#include "xpro/filter.h"
#include "sync/merge.h"
#include "sync/redis.h"

#define MAX_TRIALS 15
#define SEED 0x5eed5eed5eedULL
#define STEADY_GAP_NS 100000000ULL /* the steady round's packets come 100 ms later */

/* The master: global so that the exit paths can stop it. */
static struct {
	pid_t pid;
	char dir[64], sock[96], log[96], addr[112];
} srv;

static void srv_stop(void)
{
	int status;

	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(srv.pid, &status, WNOHANG) != srv.pid; i++)
			usleep(10000);
		kill(srv.pid, SIGKILL); /* harmless if it already exited */
		waitpid(srv.pid, &status, 0);
		srv.pid = 0;
	}
	if (srv.dir[0]) {
		unlink(srv.sock);
		unlink(srv.log);
		rmdir(srv.dir);
		srv.dir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	srv_stop();
	signal(sig, SIG_DFL);
	raise(sig);
}

static redisContext *srv_dial(void)
{
	redisContext *ctx = redisConnectUnixWithTimeout(srv.sock, (struct timeval){ .tv_sec = 1 });

	if (ctx && !ctx->err) {
		redisSetTimeout(ctx, (struct timeval){ .tv_sec = 60 });
		return ctx;
	}
	if (ctx)
		redisFree(ctx);
	return NULL;
}

/* Start redis-server and return a plain connection to it, or NULL (all stopped). */
static redisContext *srv_start(void)
{
	pid_t parent = getpid();
	redisContext *ctx;
	int fd, status;

	snprintf(srv.dir, sizeof(srv.dir), "/tmp/xpro-bench-sync-XXXXXX");
	if (!mkdtemp(srv.dir)) {
		srv.dir[0] = '\0';
		return NULL;
	}
	snprintf(srv.sock, sizeof(srv.sock), "%s/redis.sock", srv.dir);
	snprintf(srv.log, sizeof(srv.log), "%s/redis.log", srv.dir);
	snprintf(srv.addr, sizeof(srv.addr), "unix:%s", srv.sock);
	atexit(srv_stop);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	srv.pid = fork();
	if (srv.pid < 0) {
		srv.pid = 0;
		return NULL;
	}
	if (srv.pid == 0) {
		const char *argv[] = { "redis-server", "--port",  "0",
				       "--unixsocket", srv.sock,  "--unixsocketperm",
				       "700",	       "--save",  "",
				       "--appendonly", "no",	  "--maxmemory-policy",
				       "noeviction",   "--dir",	  srv.dir,
				       "--loglevel",   "warning", NULL };

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		fd = open(srv.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp("redis-server", (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
			srv.pid = 0;
			break;
		}
		ctx = srv_dial();
		if (ctx)
			return ctx;
		usleep(50000);
	}
	srv_stop();
	return NULL;
}

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

struct snap {
	double wall_ms, client_ms, server_ms, in, out, mem;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void take(redisContext *ctx, struct snap *s, bool before)
{
	struct rusage ru;

	if (!before)
		s->wall_ms = now_ms();
	getrusage(RUSAGE_SELF, &ru);
	s->client_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	s->server_ms =
		(info_field(ctx, "cpu", "used_cpu_user") + info_field(ctx, "cpu", "used_cpu_sys")) *
		1e3;
	s->in = info_field(ctx, "stats", "total_net_input_bytes");
	s->out = info_field(ctx, "stats", "total_net_output_bytes");
	s->mem = info_field(ctx, "memory", "used_memory");
	if (before)
		s->wall_ms = now_ms();
}

struct result {
	double ms, client_ms, server_ms, in, out, mem;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n, double *lo, double *hi)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	*lo = v[0];
	*hi = v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * n distinct pairs over ndst destinations (pair k: destination k % ndst),
 * in a random order, as a harvest hands them out: every window new.
 */
static void make_pairs(struct sync_pair_in *in, size_t n, size_t ndst)
{
	uint64_t rng = SEED, t = realtime_ns();

	for (size_t k = 0; k < n; k++) {
		xf_key_ipv4(&in[k].key, (uint32_t)(k / ndst),
			    htonl(0x0a000000u + (uint32_t)(k % ndst)));
		in[k].mark = 1;
		in[k].ts1 = in[k].ts2 = t;
		in[k].dc = in[k].c = 1 + rng_next(&rng) % 100;
	}
	for (size_t k = n; k > 1; k--) {
		size_t j = rng_next(&rng) % k;
		struct sync_pair_in x = in[k - 1];

		in[k - 1] = in[j];
		in[j] = x;
	}
}

/* The next round of the same pairs: later packets into the same windows. */
static void advance(struct sync_pair_in *in, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		in[k].mark = 0;
		in[k].ts2 += STEADY_GAP_NS;
		in[k].dc = 1 + in[k].dc % 7;
		in[k].c += in[k].dc;
	}
}

/* One merge of in[0..n), measured; false when it failed. */
static bool round_once(struct sync_conn *c, redisContext *ctx, const struct sync_pair_in *in,
		       size_t n, struct sync_pair_out *out, const struct sync_params *sp,
		       struct result *res)
{
	struct snap a, b;
	int rc;

	take(ctx, &a, true);
	rc = sync_merge_batch(c, in, n, out, sp);
	take(ctx, &b, false);
	if (rc) {
		fprintf(stderr, "bench_sync: merge of %zu records failed: %s\n", n,
			sync_conn_strerror(c));
		return false;
	}
	*res = (struct result){ .ms = b.wall_ms - a.wall_ms,
				.client_ms = b.client_ms - a.client_ms,
				.server_ms = b.server_ms - a.server_ms,
				.in = b.in - a.in,
				.out = b.out - a.out,
				.mem = b.mem - a.mem };
	return true;
}

static void report(const char *round, size_t n, size_t ndst, uint32_t batch, struct result *r,
		   int trials)
{
	double v[MAX_TRIALS], lo, hi, ms, cl, sv, in, out, mem;

	for (int k = 0; k < trials; k++)
		v[k] = r[k].ms;
	ms = median(v, trials, &lo, &hi);
	for (int k = 0; k < trials; k++)
		v[k] = r[k].client_ms;
	cl = median(v, trials, &in, &out);
	for (int k = 0; k < trials; k++)
		v[k] = r[k].server_ms;
	sv = median(v, trials, &in, &out);
	for (int k = 0; k < trials; k++)
		v[k] = r[k].mem;
	mem = median(v, trials, &in, &out);
	in = r[0].in; /* the same request every trial: the same bytes, INFO aside */
	out = r[0].out;
	printf("BENCH name=sync_round records=%zu dsts=%zu round=%s batch=%u trials=%d "
	       "round_ms=%.1f round_ms_min=%.1f round_ms_max=%.1f records_per_s=%.0f "
	       "bytes_sent=%.0f bytes_per_record=%.1f bytes_recv=%.0f client_cpu_ms=%.1f "
	       "master_cpu_ms=%.1f master_mem_delta_per_record=%.1f\n",
	       n, ndst, round, batch, trials, ms, lo, hi, ms > 0 ? n / (ms / 1e3) : 0, in,
	       in / (double)n, out, cl, sv, mem / (double)n);
	fflush(stdout);
}

static void run_case(struct sync_conn *c, redisContext *ctx, size_t n, size_t ndst,
		     const struct sync_params *sp, int trials)
{
	struct sync_pair_in *in = calloc(n, sizeof(*in));
	struct sync_pair_out *out = calloc(n, sizeof(*out));
	struct result first[MAX_TRIALS], steady[MAX_TRIALS];
	redisReply *r;
	int ok = 0;

	if (!in || !out) {
		fprintf(stderr, "bench_sync: out of memory for %zu records\n", n);
		goto out_free;
	}
	for (int t = 0; t < trials; t++) {
		r = redisCommand(ctx, "FLUSHALL");
		if (r)
			freeReplyObject(r);
		if (sync_conn_resync(c)) {
			fprintf(stderr, "bench_sync: resync: %s\n", sync_conn_strerror(c));
			goto out_free;
		}
		make_pairs(in, n, ndst);
		if (!round_once(c, ctx, in, n, out, sp, &first[ok]))
			goto out_free;
		advance(in, n);
		if (!round_once(c, ctx, in, n, out, sp, &steady[ok]))
			goto out_free;
		ok++;
	}
out_free:
	if (ok) {
		report("first", n, ndst, sp->batch, first, ok);
		report("steady", n, ndst, sp->batch, steady, ok);
	}
	free(in);
	free(out);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_sync [--records N[,N...]] [--dsts D[,D...]] [--trials T] "
			"[--batch B]\n");
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = { 10000, 100000, 1000000 }, dsts[MAX_SIZES];
	int nsizes = 3, ndsts = 0, trials = 3, rc = 0;
	struct xf_params xp = { 0 };
	struct sync_params sp;
	struct sync_conn *c;
	redisContext *ctx;
	char err[256];

	xp.tt1_ms = 10000;
	xp.tt4_ms = 60000;
	xp.r = 2;
	sync_params_from_xf(&sp, &xp, 1000);
	if (getenv("BENCH_QUICK")) {
		nsizes = 2;
		trials = 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--records") && v) {
			nsizes = parse_sizes(v, sizes);
		} else if (!strcmp(argv[i], "--dsts") && v) {
			ndsts = parse_sizes(v, dsts);
			nsizes = ndsts < 0 ? -1 : nsizes;
		} else if (!strcmp(argv[i], "--trials") && v) {
			trials = atoi(v);
		} else if (!strcmp(argv[i], "--batch") && v) {
			sp.batch = (uint32_t)atoi(v);
		} else {
			usage();
			return 2;
		}
		i++;
		if (nsizes <= 0 || trials < 1 || trials > MAX_TRIALS || sync_params_check(&sp)) {
			fprintf(stderr, "bench_sync: bad value for %s: %s\n", argv[i - 1], v);
			return 2;
		}
	}

	ctx = srv_start();
	if (!ctx) {
		fprintf(stderr, "bench_sync: could not start redis-server (is it installed?)\n");
		return 1;
	}
	c = sync_conn_open(
		&(struct sync_conn_opts){ .addr = srv.addr, .proxy_id = "bench", .cmd_ms = 60000 },
		err, sizeof(err));
	if (!c) {
		fprintf(stderr, "bench_sync: %s\n", err);
		rc = 1;
		goto out_stop;
	}
	printf("# sync_round: one proxy, unix socket, %d trial(s); round_ms is the median\n",
	       trials);
	for (int s = 0; s < nsizes; s++) {
		size_t n = sizes[s];
		/* 10 pairs per destination; all on 1000; each its own (the worst case). */
		size_t spreads[] = { n / 10 ? n / 10 : 1, n < 1000 ? n : 1000, n };

		for (int k = 0; k < (ndsts ? ndsts : 3); k++) {
			size_t d = ndsts ? (dsts[k] < n ? dsts[k] : n) : spreads[k];

			if (ndsts || !k || d != spreads[k - 1]) /* small n: spreads coincide */
				run_case(c, ctx, n, d, &sp, trials);
		}
	}
	sync_conn_close(c);
out_stop:
	redisFree(ctx);
	srv_stop();
	return rc;
}
