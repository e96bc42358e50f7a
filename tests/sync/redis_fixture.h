/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A real redis-server for the sync tests: started on a unix socket in a
 * fresh temporary directory (no persistence), stopped with SIGTERM and
 * waitpid() by the test's teardown, which cmocka runs after failures too;
 * PR_SET_PDEATHSIG kills it if the test process dies first.  Optionally it
 * also listens on [::1] and replicates another one (rfx_start_opts()).
 *
 * The functions are defined here, static, because the build links only the
 * tests' own test_*.c into each binary (see the report for a Makefile
 * change that would make this a .c of its own).  Include after cmocka.h.
 */
#ifndef XPRO_TEST_REDIS_FIXTURE_H
#define XPRO_TEST_REDIS_FIXTURE_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define RFX_UNUSED __attribute__((unused))
#define RFX_START_TRIES 200 /* x 50 ms: how long redis-server may take to answer */

struct rfx {
	pid_t pid; /* 0 when not running */
	char dir[64];
	char sock[96];
	char log[96];
	char addr[112]; /* "unix:<sock>", for struct sync_conn_opts */
	const char *password;
	redisContext *raw; /* the test's own plain connection */
	char port[8]; /* TCP port on ::1, or "" (unix socket only) */
	char tcp_addr[32]; /* "[::1]:<port>" when it listens there */
	char master_port[8]; /* a replica: its master's TCP port on ::1, or "" */
	bool cluster; /* started with cluster-enabled yes */
	char nodes_conf[112]; /* its cluster config file */
	char bus_port[8]; /* its cluster bus port (free, not port + 10000) */
	char node_timeout[12]; /* cluster-node-timeout, or "" */
};

/* What rfx_start_opts() starts besides a plain server on a unix socket. */
struct rfx_opts {
	const char *password; /* requirepass, and a replica's masterauth */
	bool tcp; /* also listen on [::1] at a free port (tcp_addr) */
	const struct rfx *replica_of; /* a read-only replica of this server (tcp) */
	bool cluster; /* cluster-enabled yes (a node with no slots yet; needs tcp) */
	unsigned node_timeout_ms; /* cluster-node-timeout; 0: Redis's default (15 s) */
};

static RFX_UNUSED void rfx_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static RFX_UNUSED redisContext *rfx_dial(const struct rfx *f)
{
	struct timeval tv = { .tv_sec = 1 };
	redisContext *ctx = redisConnectUnixWithTimeout(f->sock, tv);
	redisReply *r;

	if (!ctx || ctx->err)
		goto out_free;
	redisSetTimeout(ctx, (struct timeval){ .tv_sec = 10 });
	if (f->password) {
		r = redisCommand(ctx, "AUTH %s", f->password);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			if (r)
				freeReplyObject(r);
			goto out_free;
		}
		freeReplyObject(r);
	}
	r = redisCommand(ctx, "PING");
	if (r && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "PONG")) {
		freeReplyObject(r);
		return ctx;
	}
	if (r)
		freeReplyObject(r);
out_free:
	if (ctx)
		redisFree(ctx);
	return NULL;
}

static RFX_UNUSED void rfx_stop(struct rfx *f)
{
	int status;

	if (f->raw)
		redisFree(f->raw);
	f->raw = NULL;
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		for (int i = 0; i < 100; i++) {
			if (waitpid(f->pid, &status, WNOHANG) == f->pid)
				goto reaped;
			rfx_sleep_ms(50);
		}
		kill(f->pid, SIGKILL);
		waitpid(f->pid, &status, 0);
	}
reaped:
	f->pid = 0;
	if (f->dir[0]) {
		char rdb[sizeof(f->dir) + 16];

		/* A replica keeps what its master sent it there. */
		snprintf(rdb, sizeof(rdb), "%s/dump.rdb", f->dir);
		unlink(rdb);
		unlink(f->sock);
		unlink(f->log);
		if (f->cluster)
			unlink(f->nodes_conf);
		rmdir(f->dir);
		f->dir[0] = '\0';
	}
}

static RFX_UNUSED void rfx_child(const struct rfx *f, pid_t parent)
{
	const char *argv[40] = {
		"redis-server", "--port",      "0",  "--unixsocket", f->sock,  "--unixsocketperm",
		"700",		"--save",      "",   "--appendonly", "no",     "--dir",
		f->dir,		"--daemonize", "no", "--loglevel",   "warning"
	};
	int n = 17, fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	if (f->password) {
		argv[n++] = "--requirepass";
		argv[n++] = f->password;
	}
	if (f->port[0]) {
		argv[2] = f->port;
		argv[n++] = "--bind";
		argv[n++] = "::1";
	}
	if (f->cluster) {
		argv[n++] = "--cluster-enabled";
		argv[n++] = "yes";
		argv[n++] = "--cluster-config-file";
		argv[n++] = f->nodes_conf;
		argv[n++] = "--cluster-port";
		argv[n++] = f->bus_port;
		if (f->node_timeout[0]) {
			argv[n++] = "--cluster-node-timeout";
			argv[n++] = f->node_timeout;
		}
	}
	if (f->master_port[0]) {
		argv[n++] = "--replicaof";
		argv[n++] = "::1";
		argv[n++] = f->master_port;
		if (f->password) {
			argv[n++] = "--masterauth";
			argv[n++] = f->password;
		}
	}
	argv[n] = NULL;
	fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	execvp("redis-server", (char *const *)argv);
	_exit(127);
}

static RFX_UNUSED void rfx_dump_log(const struct rfx *f)
{
	char line[256];
	FILE *fp = fopen(f->log, "r");

	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		fprintf(stderr, "redis-server: %s", line);
	fclose(fp);
}

/* Start redis-server in f->dir and wait until it answers.  0 or -1 (all stopped). */
static RFX_UNUSED int rfx_spawn(struct rfx *f)
{
	pid_t parent = getpid();
	int status;

	f->pid = fork();
	if (f->pid < 0) {
		f->pid = 0;
		goto out_stop;
	}
	if (f->pid == 0)
		rfx_child(f, parent);
	for (int i = 0; i < RFX_START_TRIES; i++) {
		if (waitpid(f->pid, &status, WNOHANG) == f->pid) {
			f->pid = 0;
			rfx_dump_log(f);
			goto out_stop;
		}
		f->raw = rfx_dial(f);
		if (f->raw)
			return 0;
		rfx_sleep_ms(50);
	}
	rfx_dump_log(f);
out_stop:
	rfx_stop(f);
	return -1;
}

/* A TCP port on ::1 that was free a moment ago, or 0. */
static RFX_UNUSED int rfx_free_port(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_STREAM, 0), port = 0;

	if (fd < 0)
		return 0;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin6_port);
	close(fd);
	return port;
}

/* Start redis-server as o says.  0 or -1. */
static RFX_UNUSED int rfx_start_opts(struct rfx *f, const struct rfx_opts *o)
{
	/* Another process may take the free TCP port first: then try another. */
	for (int tries = 0; tries < (o->tcp ? 3 : 1); tries++) {
		int port = o->tcp ? rfx_free_port() : 0;

		memset(f, 0, sizeof(*f));
		f->password = o->password;
		if (o->tcp && !port)
			return -1;
		if (port) {
			snprintf(f->port, sizeof(f->port), "%d", port);
			snprintf(f->tcp_addr, sizeof(f->tcp_addr), "[::1]:%d", port);
		}
		if (o->replica_of)
			snprintf(f->master_port, sizeof(f->master_port), "%s", o->replica_of->port);
		snprintf(f->dir, sizeof(f->dir), "/tmp/xpro-sync-XXXXXX");
		if (!mkdtemp(f->dir)) {
			f->dir[0] = '\0';
			return -1;
		}
		snprintf(f->sock, sizeof(f->sock), "%s/redis.sock", f->dir);
		snprintf(f->log, sizeof(f->log), "%s/redis.log", f->dir);
		snprintf(f->addr, sizeof(f->addr), "unix:%s", f->sock);
		f->cluster = o->cluster;
		snprintf(f->nodes_conf, sizeof(f->nodes_conf), "%s/nodes.conf", f->dir);
		if (o->cluster)
			snprintf(f->bus_port, sizeof(f->bus_port), "%d", rfx_free_port());
		if (o->node_timeout_ms)
			snprintf(f->node_timeout, sizeof(f->node_timeout), "%u",
				 o->node_timeout_ms);
		if (!rfx_spawn(f))
			return 0;
	}
	return -1;
}

/* Start redis-server (requiring password when not NULL).  0 or -1. */
static RFX_UNUSED int rfx_start(struct rfx *f, const char *password)
{
	return rfx_start_opts(f, &(struct rfx_opts){ .password = password });
}

/* Kill the server and start a new, empty one on the same socket (a master restart). */
static RFX_UNUSED int rfx_restart(struct rfx *f)
{
	int status;

	if (f->raw)
		redisFree(f->raw);
	f->raw = NULL;
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &status, 0);
	f->pid = 0;
	return rfx_spawn(f);
}

/*
 * Run fn's I/O with SIGPIPE blocked in this thread and consume one it raised:
 * a test may have killed the connection, and the tests leave SIGPIPE at its
 * default so that the library's own handling of it is what they exercise.
 */
static RFX_UNUSED void rfx_sigpipe(bool block, sigset_t *old)
{
	static const struct timespec zero = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (block) {
		pthread_sigmask(SIG_BLOCK, &set, old);
		return;
	}
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* A command on the test's own connection (re-dialled if a test killed it). */
static RFX_UNUSED redisReply *rfx_cmd(struct rfx *f, const char *fmt, ...)
{
	redisReply *r = NULL;
	sigset_t old;
	va_list ap;

	rfx_sigpipe(true, &old);
	for (int tries = 0; tries < 2 && !r; tries++) {
		if (!f->raw || f->raw->err) {
			if (f->raw)
				redisFree(f->raw);
			f->raw = rfx_dial(f);
			if (!f->raw)
				break;
		}
		va_start(ap, fmt);
		r = redisvCommand(f->raw, fmt, ap);
		va_end(ap);
	}
	rfx_sigpipe(false, &old);
	assert_non_null(r);
	return r;
}

/* A command whose status reply must be OK. */
static RFX_UNUSED void rfx_ok(struct rfx *f, const char *cmd)
{
	redisReply *r = rfx_cmd(f, cmd);

	if (r->type != REDIS_REPLY_STATUS)
		fail_msg("%s: %s", cmd, r->type == REDIS_REPLY_ERROR ? r->str : "not a status");
	freeReplyObject(r);
}

/* Integer value of a hash field, -1 when absent. */
static RFX_UNUSED long long rfx_hget(struct rfx *f, const char *key, const char *field)
{
	redisReply *r = rfx_cmd(f, "HGET %s %s", key, field);
	long long v = -1;

	if (r->type == REDIS_REPLY_STRING)
		v = strtoll(r->str, NULL, 10);
	else
		assert_int_equal(r->type, REDIS_REPLY_NIL);
	freeReplyObject(r);
	return v;
}

static RFX_UNUSED long long rfx_int(struct rfx *f, const char *fmt, const char *arg)
{
	redisReply *r = rfx_cmd(f, fmt, arg);
	long long v;

	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* A replica: wait until its link to the master is up (10 s at most). */
static RFX_UNUSED void rfx_wait_replica_up(struct rfx *f)
{
	for (int i = 0; i < 2000; i++) {
		redisReply *r = rfx_cmd(f, "INFO replication");
		bool up = r->type == REDIS_REPLY_STRING && strstr(r->str, "master_link_status:up");

		freeReplyObject(r);
		if (up)
			return;
		rfx_sleep_ms(5);
	}
	fail_msg("the replica's link to its master is still down");
}

/* Wait until the server holds exactly n client connections (10 s at most). */
static RFX_UNUSED void rfx_wait_clients(struct rfx *f, long n)
{
	long now = -1;

	for (int i = 0; i < 2000; i++) {
		redisReply *r = rfx_cmd(f, "INFO clients");
		const char *s =
			r->type == REDIS_REPLY_STRING ? strstr(r->str, "connected_clients:") : NULL;

		now = s ? strtol(s + strlen("connected_clients:"), NULL, 10) : -1;
		freeReplyObject(r);
		if (now == n)
			return;
		rfx_sleep_ms(5);
	}
	fail_msg("redis-server still has %ld clients, want %ld", now, n);
}

/* A unix socket at path that listens but never accepts or answers: a hung master. */
static RFX_UNUSED int rfx_silent_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	size_t n = strlen(path);

	assert_true(fd >= 0);
	assert_true(n < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, n + 1);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

#endif /* XPRO_TEST_REDIS_FIXTURE_H */
