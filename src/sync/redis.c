/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connection to the Redis master (or to a replica of it): every failure
 * becomes -errno and one line naming the server and the step that failed,
 * every wait is bounded by the connect or command timeout, and a lost
 * connection is re-established by the next call, which also notices when
 * the master is a new instance.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "xpro/addr.h"
#include "sync/conn_int.h"
#include "sync/lua.h"
#include "sync/store.h"

#define CONNECT_MS_DEFAULT 1000
#define CMD_MS_DEFAULT 2000 /* a 256-pair batch takes ~2 ms; leaves room for a busy master */

static const char *const script_src[SYNC_NSCRIPTS] = {
	[SYNC_SCRIPT_MERGE] = sync_merge_lua,
	[SYNC_SCRIPT_LOAD] = sync_load_lua,
	[SYNC_SCRIPT_LOAD_RO] = sync_load_ro_lua,
};

/* A replica loads its read-only script only; the master every other one. */
static bool loads_script(const struct sync_conn *c, enum sync_script_id id)
{
	return c->replica == (id == SYNC_SCRIPT_LOAD_RO);
}

/* --- errors ---------------------------------------------------------------- */

int sync_conn_fail(struct sync_conn *c, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->st.errors++;
	return -errnum;
}

/* hiredis 0.14 keeps only the text of an I/O error; errno is read right after. */
static int ctx_errno(const redisContext *ctx, int saved)
{
	const char *s = ctx->errstr;

	switch (ctx->err) {
	case REDIS_ERR_EOF:
		return ECONNRESET;
	case REDIS_ERR_OOM:
		return ENOMEM;
	case REDIS_ERR_PROTOCOL:
		return EPROTO;
	case REDIS_ERR_IO:
		if (saved == EAGAIN || saved == EWOULDBLOCK || saved == ETIMEDOUT ||
		    strstr(s, "temporarily unavailable") || strstr(s, "timed out"))
			return ETIMEDOUT;
		if (saved == EPIPE || strstr(s, "Broken pipe"))
			return ECONNRESET;
		if (strstr(s, "refused"))
			return ECONNREFUSED;
		if (strstr(s, "No such file"))
			return ENOENT;
		return saved ? saved : EIO;
	default:
		return EIO;
	}
}

static int ctx_fail(struct sync_conn *c, const redisContext *ctx, int saved, const char *what)
{
	int e = ctx_errno(ctx, saved);

	if (e == ETIMEDOUT)
		return sync_conn_fail(c, e, "redis %s: %s: no answer within %u ms", c->addr, what,
				      c->cmd_ms);
	return sync_conn_fail(c, e, "redis %s: %s: %s", c->addr, what, ctx->errstr);
}

void sync_conn_drop(struct sync_conn *c)
{
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
}

int sync_conn_lost(struct sync_conn *c, const char *what)
{
	int saved = errno, rc;

	rc = ctx_fail(c, c->ctx, saved, what);
	sync_conn_drop(c);
	return rc;
}

static const struct {
	const char *prefix;
	int err;
} reply_errs[] = {
	{ "NOAUTH", EACCES },
	{ "WRONGPASS", EACCES },
	{ "NOPERM", EACCES },
	{ "ERR AUTH", EACCES },
	{ "ERR invalid password", EACCES },
	{ "OOM", ENOMEM },
	{ "BUSY", EBUSY },
	{ "LOADING", EAGAIN },
	{ "MASTERDOWN", EAGAIN },
	{ "READONLY", EROFS },
	{ "NOSCRIPT", ENOENT },
	{ "XPRO ARG", EINVAL },
	{ "XPRO GEN", ESTALE },
	{ "XPRO SEQGAP", ESTALE },
	{ "XPRO SEQDUP", EEXIST },
	{ "XPRO CONFLICT", EEXIST },
	{ "ERR Function not found", ENOENT },
	{ "ERR unknown command", ENOSYS },
};

int sync_conn_reply_err(struct sync_conn *c, const redisReply *r, const char *what)
{
	int e = EPROTO;

	if (r->type != REDIS_REPLY_ERROR)
		return sync_conn_fail(c, EPROTO, "redis %s: %s: unexpected reply type %d", c->addr,
				      what, r->type);
	for (size_t i = 0; i < sizeof(reply_errs) / sizeof(reply_errs[0]); i++) {
		if (!strncmp(r->str, reply_errs[i].prefix, strlen(reply_errs[i].prefix))) {
			e = reply_errs[i].err;
			break;
		}
	}
	return sync_conn_fail(c, e, "redis %s: %s: %s", c->addr, what, r->str);
}

int sync_reply_errno(const redisReply *r)
{
	for (size_t i = 0; i < sizeof(reply_errs) / sizeof(reply_errs[0]); i++)
		if (!strncmp(r->str, reply_errs[i].prefix, strlen(reply_errs[i].prefix)))
			return -reply_errs[i].err;
	return -EPROTO;
}

bool sync_reply_noscript(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8);
}

/* --- SIGPIPE --------------------------------------------------------------- */

void sync_sigpipe_block(struct sync_sigpipe *g)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	g->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

void sync_sigpipe_restore(struct sync_sigpipe *g)
{
	static const struct timespec zero = { 0 };
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	if (!g->was_pending && sigismember(&pending, SIGPIPE) == 1) {
		while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* --- commands -------------------------------------------------------------- */

redisReply *sync_conn_cmd(struct sync_conn *c, int *rc, int argc, const char **argv,
			  const size_t *lens)
{
	redisReply *r;

	errno = 0;
	r = redisCommandArgv(c->ctx, argc, argv, lens);
	if (!r)
		*rc = sync_conn_lost(c, argv[0]);
	return r;
}

/* Commands in flight at once: enough to keep the server busy, bounded buffers. */
#define PIPE_WINDOW 128

int sync_conn_pipe(struct sync_conn *c, struct sync_cmd *cmds, size_t n)
{
	struct sync_sigpipe g;
	size_t sent = 0, got = 0;
	int rc = sync_conn_ensure(c);

	if (rc == -ESTALE) /* the round's buckets carry their own markers */
		rc = sync_conn_resync(c);
	for (size_t i = 0; i < n; i++) {
		cmds[i].reply = NULL;
		cmds[i].rc = rc;
	}
	if (rc)
		return rc;
	sync_sigpipe_block(&g);
	while (got < n) {
		void *reply = NULL;

		for (; sent < n && sent - got < PIPE_WINDOW; sent++)
			if (redisAppendCommandArgv(c->ctx, cmds[sent].argc, cmds[sent].argv,
						   cmds[sent].lens) != REDIS_OK)
				break;
		errno = 0;
		if (redisGetReply(c->ctx, &reply) != REDIS_OK || !reply) {
			rc = sync_conn_lost(c, "pipeline");
			break;
		}
		cmds[got].reply = reply;
		cmds[got++].rc = 0;
	}
	for (size_t i = got; i < n; i++)
		cmds[i].rc = rc;
	sync_sigpipe_restore(&g);
	return rc;
}

/* printf-style command; what names it in messages.  NULL: *rc says why. */
static redisReply *cmdf(struct sync_conn *c, int *rc, const char *what, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	errno = 0;
	va_start(ap, fmt);
	r = redisvCommand(c->ctx, fmt, ap);
	va_end(ap);
	if (!r)
		*rc = sync_conn_lost(c, what);
	return r;
}

/* A reply that must not be an error; on an error reply *rc says why. */
static redisReply *cmdf_ok(struct sync_conn *c, int *rc, const char *what, const char *fmt,
			   const char *a1, const char *a2)
{
	redisReply *r = cmdf(c, rc, what, fmt, a1, a2);

	if (r && r->type == REDIS_REPLY_ERROR) {
		*rc = sync_conn_reply_err(c, r, what);
		freeReplyObject(r);
		r = NULL;
	}
	return r;
}

int sync_conn_load_script(struct sync_conn *c, enum sync_script_id id)
{
	redisReply *r;
	int rc = 0;

	r = cmdf_ok(c, &rc, "SCRIPT LOAD", "SCRIPT LOAD %s", script_src[id], NULL);
	if (!r)
		return rc;
	if (r->type != REDIS_REPLY_STRING || r->len != 40)
		rc = sync_conn_fail(c, EPROTO, "redis %s: SCRIPT LOAD: unexpected reply", c->addr);
	else
		memcpy(c->sha[id], r->str, 41);
	freeReplyObject(r);
	if (!rc)
		c->st.script_loads++;
	return rc;
}

/* --- connecting ------------------------------------------------------------ */

static int dial(struct sync_conn *c)
{
	redisContext *ctx;
	int saved, rc;

	errno = 0;
	if (c->path)
		ctx = redisConnectUnixWithTimeout(c->path, c->connect_tv);
	else
		ctx = redisConnectWithTimeout(c->host, c->port, c->connect_tv);
	saved = errno;
	if (!ctx)
		return sync_conn_fail(c, ENOMEM, "redis %s: connect: out of memory", c->addr);
	if (ctx->err) {
		if (ctx_errno(ctx, saved) == ETIMEDOUT)
			rc = sync_conn_fail(c, ETIMEDOUT,
					    "redis %s: connect: no connection within %u ms",
					    c->addr, c->connect_ms);
		else
			rc = ctx_fail(c, ctx, saved, "connect");
		redisFree(ctx);
		return rc;
	}
	if (redisSetTimeout(ctx, c->cmd_tv) != REDIS_OK) {
		rc = ctx_fail(c, ctx, errno, "set timeout");
		redisFree(ctx);
		return rc;
	}
	c->ctx = ctx;
	return 0;
}

static int new_gen(struct sync_conn *c, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t b[SYNC_GEN_LEN / 2];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return sync_conn_fail(c, errno ? errno : EIO, "getrandom: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(b); i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[SYNC_GEN_LEN] = '\0';
	return 0;
}

/* The master's instance marker into gen (empty when it has none). */
static int read_gen(struct sync_conn *c, char *gen)
{
	redisReply *r;
	int rc = 0;

	r = cmdf_ok(c, &rc, "GET " SYNC_KEY_GEN, "GET %s", SYNC_KEY_GEN, NULL);
	if (!r)
		return rc;
	gen[0] = '\0';
	if (r->type == REDIS_REPLY_STRING && r->len == SYNC_GEN_LEN)
		memcpy(gen, r->str, SYNC_GEN_LEN + 1);
	else if (r->type != REDIS_REPLY_NIL)
		rc = sync_conn_fail(c, EPROTO, "redis %s: %s is not ours", c->addr, SYNC_KEY_GEN);
	freeReplyObject(r);
	return rc;
}

/* Adopt the master's marker, creating one on an empty master; read our sequence. */
static int adopt(struct sync_conn *c)
{
	char mine[SYNC_GEN_LEN + 1], key[sizeof(SYNC_KEY_PROXY) + SYNC_PROXY_ID_MAX];
	redisReply *r;
	int rc;

	rc = new_gen(c, mine);
	if (rc)
		return rc;
	r = cmdf_ok(c, &rc, "SET " SYNC_KEY_GEN, "SET %s %s NX", SYNC_KEY_GEN, mine);
	if (!r)
		return rc;
	freeReplyObject(r);
	rc = read_gen(c, c->gen);
	if (rc)
		return rc;
	if (!c->gen[0])
		return sync_conn_fail(c, EAGAIN, "redis %s: %s vanished", c->addr, SYNC_KEY_GEN);

	snprintf(key, sizeof(key), SYNC_KEY_PROXY "%s", c->proxy_id);
	r = cmdf_ok(c, &rc, "HGET seq", "HGET %s %s", key, "seq");
	if (!r)
		return rc;
	c->seq_next = (r->type == REDIS_REPLY_STRING ? strtoull(r->str, NULL, 10) : 0) + 1;
	freeReplyObject(r);
	c->stale = false;
	c->doubt.active = false;
	return 0;
}

/* AUTH, then the marker (adopted, or checked; a replica has none), then the scripts. */
static int handshake(struct sync_conn *c, bool adopting)
{
	char gen[SYNC_GEN_LEN + 1];
	redisReply *r;
	int rc = 0;

	if (c->password) {
		r = cmdf_ok(c, &rc, "AUTH", "AUTH %s", c->password, NULL);
		if (!r)
			return rc;
		freeReplyObject(r);
	}
	if (c->replica) {
		/* Nothing of ours to learn: a replica only serves reads. */
	} else if (adopting) {
		rc = adopt(c);
	} else {
		rc = read_gen(c, gen);
		if (!rc && strcmp(gen, c->gen)) {
			c->stale = true;
			rc = sync_conn_fail(
				c, ESTALE,
				"redis %s: the master is a new instance (marker %s, was %s): "
				"resync and push full state",
				c->addr, gen[0] ? gen : "absent", c->gen);
		}
	}
	for (int i = 0; !rc && i < SYNC_NSCRIPTS; i++) {
		if (loads_script(c, i))
			rc = sync_conn_load_script(c, i);
	}
	if (!rc)
		c->st.connects++;
	return rc;
}

int sync_conn_ensure(struct sync_conn *c)
{
	struct sync_sigpipe g;
	int rc;

	if (c->stale)
		return sync_conn_fail(c, ESTALE, "redis %s: the master is a new instance: resync",
				      c->addr);
	if (c->ctx)
		return 0;
	sync_sigpipe_block(&g);
	rc = dial(c);
	if (!rc)
		rc = handshake(c, false);
	if (rc)
		sync_conn_drop(c);
	sync_sigpipe_restore(&g);
	return rc;
}

int sync_conn_resync(struct sync_conn *c)
{
	struct sync_sigpipe g;
	int rc;

	sync_sigpipe_block(&g);
	rc = c->ctx ? 0 : dial(c);
	if (!rc)
		rc = handshake(c, true);
	if (rc)
		sync_conn_drop(c);
	sync_sigpipe_restore(&g);
	return rc;
}

/* --- options --------------------------------------------------------------- */

static int parse_addr(struct sync_conn *c, const char *a)
{
	char host[256];
	uint16_t port;

	if (!strncmp(a, "unix:", 5)) {
		if (!a[5])
			return -EINVAL;
		c->path = strdup(a + 5);
		return c->path ? 0 : -ENOMEM;
	}
	/* A name, a.b.c.d or [v6], then the port: the protocol core's one parser. */
	if (xpro_hostport_split(a, host, sizeof(host), &port, XPRO_HP_PORT))
		return -EINVAL;
	c->host = strdup(host);
	c->port = port;
	return c->host ? 0 : -ENOMEM;
}

static struct timeval ms_tv(uint32_t ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

static int conn_setup(struct sync_conn *c, const struct sync_conn_opts *o)
{
	int rc;

	if (!o->addr)
		return sync_conn_fail(c, EINVAL, "redis: no %s address",
				      o->replica ? "replica" : "master");
	if (sync_proxy_id_check(o->proxy_id))
		return sync_conn_fail(c, EINVAL,
				      "proxy id: bad value '%s' (1-%d of A-Z a-z 0-9 . _ -)",
				      o->proxy_id ? o->proxy_id : "", SYNC_PROXY_ID_MAX);
	c->replica = o->replica;
	if (asprintf(&c->addr, "%s%s", o->replica ? "replica " : "", o->addr) < 0) {
		c->addr = NULL;
		return sync_conn_fail(c, ENOMEM, "redis: out of memory");
	}
	rc = parse_addr(c, o->addr);
	if (rc)
		return sync_conn_fail(
			c, -rc,
			"redis %saddress: bad value '%s' (host:port, [v6]:port or unix:/path)",
			o->replica ? "replica " : "", o->addr);
	if (o->password) {
		c->password = strdup(o->password);
		if (!c->password)
			return sync_conn_fail(c, ENOMEM, "redis: out of memory");
	}
	snprintf(c->proxy_id, sizeof(c->proxy_id), "%s", o->proxy_id);
	c->cmd_ms = o->cmd_ms ? o->cmd_ms : CMD_MS_DEFAULT;
	c->connect_ms = o->connect_ms ? o->connect_ms : CONNECT_MS_DEFAULT;
	c->connect_tv = ms_tv(c->connect_ms);
	c->cmd_tv = ms_tv(c->cmd_ms);
	return 0;
}

struct sync_conn *sync_conn_open(const struct sync_conn_opts *o, char *err, size_t errlen)
{
	struct sync_conn *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		if (err && errlen)
			snprintf(err, errlen, "redis: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	rc = conn_setup(c, o);
	if (!rc)
		rc = sync_conn_resync(c);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s", c->err);
		sync_conn_close(c);
		errno = -rc;
		return NULL;
	}
	c->err[0] = '\0';
	return c;
}

void sync_conn_close(struct sync_conn *c)
{
	if (!c)
		return;
	sync_conn_drop(c);
	free(c->addr);
	free(c->host);
	free(c->path);
	free(c->password);
	free(c);
}

/* --- small things ---------------------------------------------------------- */

const char *sync_conn_strerror(const struct sync_conn *c)
{
	return c->err;
}

bool sync_conn_in_doubt(const struct sync_conn *c)
{
	return c->doubt.active;
}

void sync_conn_stats(const struct sync_conn *c, struct sync_conn_stats *out)
{
	*out = c->st;
}

void sync_conn_fault_after(struct sync_conn *c, unsigned replies)
{
	c->fault_after = replies;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sync_clock_offset(struct sync_conn *c, int64_t *offset_ns)
{
	int64_t t0, t1;
	struct sync_sigpipe g;
	redisReply *r;
	int rc = sync_conn_ensure(c);

	if (rc)
		return rc;
	sync_sigpipe_block(&g);
	t0 = mono_ns();
	r = cmdf_ok(c, &rc, "TIME", "TIME", NULL, NULL);
	t1 = mono_ns();
	sync_sigpipe_restore(&g);
	if (!r)
		return rc;
	rc = sync_time_offset(r, t0, t1, offset_ns);
	freeReplyObject(r);
	if (rc)
		return sync_conn_fail(c, EPROTO, "redis %s: TIME: unexpected reply", c->addr);
	return 0;
}

int sync_time_offset(const redisReply *r, int64_t t0, int64_t t1, int64_t *offset_ns)
{
	int64_t server;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING)
		return -EPROTO;
	server = strtoll(r->element[0]->str, NULL, 10) * 1000000000 +
		 strtoll(r->element[1]->str, NULL, 10) * 1000;
	*offset_ns = server - (t0 + (t1 - t0) / 2);
	return 0;
}
