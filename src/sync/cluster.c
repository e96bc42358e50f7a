/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Redis Cluster slot router (cluster.h).  Plain hiredis contexts, one
 * per master node, under the sync layer's SIGPIPE guard; the slot map is an
 * array of node indexes, rebuilt whole from CLUSTER SLOTS.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpro/addr.h"
#include "sync/cluster.h"
#include "sync/conn_int.h"
#include "sync/slot.h"
#include "sync/store.h"

struct node {
	char host[64];
	int port;
	char name[80]; /* "host:port", for messages and redirections */
	redisContext *ctx; /* NULL while disconnected */
};

struct sync_cluster {
	struct node nodes[SYNC_CLUSTER_MAX_NODES];
	unsigned nnodes;
	int16_t slot_node[SYNC_SLOTS]; /* index into nodes, -1: not served */
	char *password;
	struct timeval connect_tv, cmd_tv;
	struct sync_cluster_stats st;
	char err[256];
};

static int fail(struct sync_cluster *c, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct sync_cluster *c, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -errnum;
}

static struct timeval ms_tv(uint32_t ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* The node host:port, added when new; NULL when the table is full. */
static struct node *node_get(struct sync_cluster *c, const char *host, int port)
{
	struct node *n;

	for (unsigned i = 0; i < c->nnodes; i++)
		if (c->nodes[i].port == port && !strcmp(c->nodes[i].host, host))
			return &c->nodes[i];
	if (c->nnodes == SYNC_CLUSTER_MAX_NODES || strlen(host) >= sizeof(n->host))
		return NULL;
	n = &c->nodes[c->nnodes++];
	snprintf(n->host, sizeof(n->host), "%s", host);
	n->port = port;
	/* Redis's own endpoint form: an IPv6 host is not bracketed. */
	snprintf(n->name, sizeof(n->name), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	n->ctx = NULL;
	return n;
}

/*
 * "host:port" as Redis writes an endpoint in MOVED and ASK: the port after
 * the last colon, an IPv6 host unbracketed.  NULL if malformed.
 */
static struct node *node_of_endpoint(struct sync_cluster *c, const char *ep, size_t len)
{
	char host[64];
	const char *colon = NULL;
	long port;

	for (size_t i = 0; i < len; i++)
		if (ep[i] == ':')
			colon = ep + i;
	if (!colon || colon == ep || (size_t)(colon - ep) >= sizeof(host))
		return NULL;
	memcpy(host, ep, (size_t)(colon - ep));
	host[colon - ep] = 0;
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535)
		return NULL;
	return node_get(c, host, (int)port);
}

static void node_drop(struct sync_cluster *c, struct node *n)
{
	if (n->ctx) {
		redisFree(n->ctx);
		n->ctx = NULL;
		c->st.node_failures++;
	}
}

static int node_connect(struct sync_cluster *c, struct node *n)
{
	redisReply *r;
	int rc = 0;

	int saved;

	if (n->ctx)
		return 0;
	errno = 0;
	n->ctx = redisConnectWithTimeout(n->host, n->port, c->connect_tv);
	saved = errno;
	if (!n->ctx)
		return fail(c, ENOMEM, "redis cluster node %s: out of memory", n->name);
	if (n->ctx->err || redisSetTimeout(n->ctx, c->cmd_tv) != REDIS_OK) {
		/* hiredis 0.14 says a connect timed out only through errno. */
		rc = fail(c, saved == ETIMEDOUT || saved == EINPROGRESS ? ETIMEDOUT : ECONNREFUSED,
			  "redis cluster node %s: connect: %s", n->name, n->ctx->errstr);
		goto out_free;
	}
	if (!c->password)
		return 0;
	r = redisCommand(n->ctx, "AUTH %s", c->password);
	if (!r) {
		rc = fail(c, ECONNRESET, "redis cluster node %s: AUTH: %s", n->name,
			  n->ctx->errstr);
		goto out_free;
	}
	if (r->type == REDIS_REPLY_ERROR)
		rc = fail(c, EACCES, "redis cluster node %s: AUTH: %s", n->name, r->str);
	freeReplyObject(r);
	if (!rc)
		return 0;
out_free:
	redisFree(n->ctx);
	n->ctx = NULL;
	c->st.node_failures++;
	return rc;
}

/* One CLUSTER SLOTS entry's master into the map.  0, or -1 if malformed. */
static int map_range(struct sync_cluster *c, int16_t *map, const struct node *asked,
		     const redisReply *e, unsigned *covered)
{
	const redisReply *m;
	struct node *n;
	long long lo, hi;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	lo = e->element[0]->integer;
	hi = e->element[1]->integer;
	m = e->element[2];
	if (lo < 0 || hi >= SYNC_SLOTS || lo > hi || m->type != REDIS_REPLY_ARRAY ||
	    m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
	    m->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	/* An empty or "?" endpoint: the node we asked knows it by our address. */
	n = node_get(c,
		     m->element[0]->len && strcmp(m->element[0]->str, "?") ? m->element[0]->str
									   : asked->host,
		     (int)m->element[1]->integer);
	if (!n)
		return -1;
	for (long long s = lo; s <= hi; s++) {
		if (map[s] < 0)
			(*covered)++;
		map[s] = (int16_t)(n - c->nodes);
	}
	return 0;
}

/* The slot map from node n.  Number of slots served, or -errno. */
static int refresh_from(struct sync_cluster *c, struct node *n)
{
	int16_t map[SYNC_SLOTS]; /* 32 KiB: built aside, the old map serves until done */
	unsigned covered = 0;
	redisReply *r;
	int rc;

	rc = node_connect(c, n);
	if (rc)
		return rc;
	r = redisCommand(n->ctx, "CLUSTER SLOTS");
	if (!r) {
		rc = fail(c, ECONNRESET, "redis cluster node %s: CLUSTER SLOTS: %s", n->name,
			  n->ctx->errstr);
		node_drop(c, n);
		return rc;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = fail(c, EPROTO, "redis cluster node %s: CLUSTER SLOTS: %s", n->name,
			  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return rc;
	}
	memset(map, 0xff, sizeof(map));
	for (size_t i = 0; i < r->elements; i++)
		if (map_range(c, map, n, r->element[i], &covered)) {
			freeReplyObject(r);
			return fail(c, EPROTO,
				    "redis cluster node %s: CLUSTER SLOTS: bad entry %zu", n->name,
				    i);
		}
	freeReplyObject(r);
	memcpy(c->slot_node, map, sizeof(map));
	c->st.refreshes++;
	return (int)covered;
}

int sync_cluster_refresh(struct sync_cluster *c)
{
	struct sync_sigpipe g;
	int rc = -ENOENT;

	sync_sigpipe_block(&g);
	/* Any node may answer: the ones we know, in order (a failed one is skipped). */
	for (unsigned i = 0; i < c->nnodes; i++) {
		rc = refresh_from(c, &c->nodes[i]);
		if (rc >= 0)
			break;
	}
	sync_sigpipe_restore(&g);
	return rc < 0 ? rc : 0;
}

struct sync_cluster *sync_cluster_open(const struct sync_cluster_opts *o, char *err, size_t errlen)
{
	struct sync_cluster *c = calloc(1, sizeof(*c));
	char buf[256], host[64], *tok, *save;
	uint16_t port;
	int rc = -ENOENT;

	if (!c) {
		if (err && errlen)
			snprintf(err, errlen, "redis cluster: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->connect_tv = ms_tv(o->connect_ms ? o->connect_ms : 1000);
	c->cmd_tv = ms_tv(o->cmd_ms ? o->cmd_ms : 2000);
	memset(c->slot_node, 0xff, sizeof(c->slot_node));
	if (o->password && !(c->password = strdup(o->password))) {
		rc = fail(c, ENOMEM, "redis cluster: out of memory");
		goto out_fail;
	}
	snprintf(buf, sizeof(buf), "%s", o->seeds ? o->seeds : "");
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (xpro_hostport_split(tok, host, sizeof(host), &port, XPRO_HP_PORT) ||
		    !node_get(c, host, port)) {
			rc = fail(
				c, EINVAL,
				"redis cluster: bad seed '%s' (host:port[,host:port...], at most %d)",
				tok, SYNC_CLUSTER_MAX_NODES);
			goto out_fail;
		}
	if (!c->nnodes) {
		rc = fail(c, EINVAL, "redis cluster: no seed address");
		goto out_fail;
	}
	{
		struct sync_sigpipe g;

		sync_sigpipe_block(&g);
		for (unsigned i = 0; i < c->nnodes && rc < 0; i++) {
			rc = refresh_from(c, &c->nodes[i]);
			/* A wrong password is wrong everywhere: say so, do not try on. */
			if (rc == -EACCES)
				break;
		}
		sync_sigpipe_restore(&g);
	}
	if (rc >= 0 && rc < SYNC_SLOTS)
		rc = fail(c, EPROTO, "redis cluster: the cluster serves %d of %d slots", rc,
			  SYNC_SLOTS);
	if (rc >= 0)
		return c;
out_fail:
	if (err && errlen)
		snprintf(err, errlen, "%s", c->err);
	sync_cluster_close(c);
	errno = -rc;
	return NULL;
}

void sync_cluster_close(struct sync_cluster *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nnodes; i++)
		if (c->nodes[i].ctx)
			redisFree(c->nodes[i].ctx);
	free(c->password);
	free(c);
}

/* A redirection in r: 'M' (MOVED) or 'A' (ASK) with its target, else 0. */
static int redirect_of(struct sync_cluster *c, const redisReply *r, struct node **to)
{
	const char *sp;
	int kind;

	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	if (!strncmp(r->str, "MOVED ", 6))
		kind = 'M';
	else if (!strncmp(r->str, "ASK ", 4))
		kind = 'A';
	else
		return 0;
	/* "MOVED 3999 127.0.0.1:6381": the endpoint after the second space. */
	sp = strchr(r->str + (kind == 'M' ? 6 : 4), ' ');
	*to = sp ? node_of_endpoint(c, sp + 1, strlen(sp + 1)) : NULL;
	return *to ? kind : 0;
}

static redisReply *send_on(struct sync_cluster *c, struct node *n, int asking, int argc,
			   const char **argv, const size_t *argvlen, int *rc)
{
	redisReply *r;

	*rc = node_connect(c, n);
	if (*rc)
		return NULL;
	if (asking) {
		r = redisCommand(n->ctx, "ASKING");
		if (!r)
			goto out_lost;
		freeReplyObject(r);
	}
	r = redisCommandArgv(n->ctx, argc, argv, argvlen);
	if (r)
		return r;
out_lost:
	*rc = fail(c, n->ctx->err == REDIS_ERR_IO && errno == EAGAIN ? ETIMEDOUT : ECONNRESET,
		   "redis cluster node %s: %s", n->name, n->ctx->errstr);
	node_drop(c, n);
	return NULL;
}

redisReply *sync_cluster_command(struct sync_cluster *c, int argc, const char **argv,
				 const size_t *argvlen, int key_arg, int *rc)
{
	uint16_t slot = sync_key_slot(argv[key_arg], argvlen[key_arg]);
	struct sync_sigpipe g;
	struct node *n = NULL, *to;
	redisReply *r = NULL;
	int asking = 0, hops;

	sync_sigpipe_block(&g);
	for (hops = 0; hops <= SYNC_CLUSTER_MAX_REDIRECTS; hops++) {
		if (!n) {
			if (c->slot_node[slot] < 0 && hops)
				sync_cluster_refresh(c);
			if (c->slot_node[slot] < 0) {
				*rc = fail(c, EPROTO, "redis cluster: slot %u is not served", slot);
				break;
			}
			n = &c->nodes[c->slot_node[slot]];
		}
		r = send_on(c, n, asking, argc, argv, argvlen, rc);
		asking = 0;
		if (!r) {
			/* The node is gone (failover?): ask the others who serves the slot now. */
			n = NULL;
			sync_cluster_refresh(c);
			continue;
		}
		switch (redirect_of(c, r, &to)) {
		case 'M':
			c->st.moved++;
			freeReplyObject(r);
			r = NULL;
			/* The map is stale: re-read it, and trust the redirection meanwhile. */
			if (sync_cluster_refresh(c) || c->slot_node[slot] != to - c->nodes)
				c->slot_node[slot] = (int16_t)(to - c->nodes);
			n = to;
			continue;
		case 'A':
			c->st.ask++;
			freeReplyObject(r);
			r = NULL;
			n = to;
			asking = 1;
			continue;
		default:
			c->st.commands++;
			sync_sigpipe_restore(&g);
			*rc = 0;
			return r;
		}
	}
	if (hops > SYNC_CLUSTER_MAX_REDIRECTS)
		*rc = fail(c, ELOOP, "redis cluster: slot %u: more than %d redirections", slot,
			   SYNC_CLUSTER_MAX_REDIRECTS);
	sync_sigpipe_restore(&g);
	return NULL;
}

const char *sync_cluster_slot_node(const struct sync_cluster *c, uint16_t slot)
{
	return slot < SYNC_SLOTS && c->slot_node[slot] >= 0 ? c->nodes[c->slot_node[slot]].name
							    : NULL;
}

unsigned sync_cluster_nodes(const struct sync_cluster *c)
{
	uint8_t seen[SYNC_CLUSTER_MAX_NODES] = { 0 };
	unsigned n = 0;

	for (unsigned s = 0; s < SYNC_SLOTS; s++)
		if (c->slot_node[s] >= 0 && !seen[c->slot_node[s]]) {
			seen[c->slot_node[s]] = 1;
			n++;
		}
	return n;
}

void sync_cluster_stats(const struct sync_cluster *c, struct sync_cluster_stats *out)
{
	*out = c->st;
}

const char *sync_cluster_strerror(const struct sync_cluster *c)
{
	return c->err;
}

/* --- pipelines (store.h) ------------------------------------------------------- */

/* A node's command failed: every unanswered one of its gets -errno; the node is dropped. */
static int node_lost(struct sync_cluster *c, struct node *n, struct sync_cmd *cmds,
		     const size_t *idx, size_t from, size_t m)
{
	int rc = fail(c, n->ctx->err == REDIS_ERR_IO && errno == EAGAIN ? ETIMEDOUT : ECONNRESET,
		      "redis cluster node %s: %s", n->name, n->ctx->errstr);

	node_drop(c, n);
	for (size_t j = from; j < m; j++)
		cmds[idx[j]].rc = rc;
	return rc;
}

/*
 * One pass: every command in todo[0..m) to the node its slot maps to.  All
 * nodes' commands are appended and written first, then the replies read
 * node by node, so that the shards work at the same time.  Commands whose
 * slot nobody serves get -EPROTO.
 */
static void pipe_pass(struct sync_cluster *c, struct sync_cmd *cmds, const size_t *todo, size_t m,
		      size_t *idx)
{
	size_t start[SYNC_CLUSTER_MAX_NODES + 1] = { 0 }, fill[SYNC_CLUSTER_MAX_NODES];
	bool up[SYNC_CLUSTER_MAX_NODES] = { false };

	for (size_t j = 0; j < m; j++) {
		struct sync_cmd *q = &cmds[todo[j]];
		int16_t k = c->slot_node[sync_key_slot(q->argv[q->key_arg], q->lens[q->key_arg])];

		if (k < 0)
			q->rc = fail(c, EPROTO, "redis cluster: a slot is not served");
		else
			start[k + 1]++;
	}
	for (unsigned k = 0; k < c->nnodes; k++)
		start[k + 1] += start[k];
	memcpy(fill, start, sizeof(fill));
	for (size_t j = 0; j < m; j++) {
		struct sync_cmd *q = &cmds[todo[j]];
		int16_t k = c->slot_node[sync_key_slot(q->argv[q->key_arg], q->lens[q->key_arg])];

		if (k >= 0)
			idx[fill[k]++] = todo[j];
	}
	/* Append and write everything, node by node. */
	for (unsigned k = 0; k < c->nnodes; k++) {
		struct node *n = &c->nodes[k];
		size_t lo = start[k], hi = start[k + 1];
		int rc, done = 0;

		if (lo == hi)
			continue;
		rc = node_connect(c, n);
		for (size_t j = lo; !rc && j < hi; j++) {
			const struct sync_cmd *q = &cmds[idx[j]];

			if (redisAppendCommandArgv(n->ctx, q->argc, q->argv, q->lens) != REDIS_OK)
				rc = -ENOMEM;
		}
		while (!rc && !done)
			if (redisBufferWrite(n->ctx, &done) != REDIS_OK)
				rc = -EIO;
		if (rc && n->ctx)
			node_lost(c, n, cmds, idx, lo, hi);
		else if (rc)
			for (size_t j = lo; j < hi; j++)
				cmds[idx[j]].rc = rc;
		up[k] = !rc;
	}
	/* Then every reply. */
	for (unsigned k = 0; k < c->nnodes; k++) {
		struct node *n = &c->nodes[k];

		for (size_t j = start[k]; up[k] && j < start[k + 1]; j++) {
			void *reply = NULL;

			errno = 0;
			if (redisGetReply(n->ctx, &reply) != REDIS_OK || !reply) {
				node_lost(c, n, cmds, idx, j, start[k + 1]);
				break;
			}
			cmds[idx[j]].reply = reply;
			cmds[idx[j]].rc = 0;
			c->st.commands++;
		}
	}
}

int sync_cluster_pipe(struct sync_cluster *c, struct sync_cmd *cmds, size_t n)
{
	size_t *todo = malloc((n ? n : 1) * sizeof(*todo));
	size_t *idx = malloc((n ? n : 1) * sizeof(*idx));
	struct sync_sigpipe g;
	size_t m = n, redo;
	int rc = 0;

	if (!todo || !idx) {
		free(todo);
		free(idx);
		for (size_t i = 0; i < n; i++)
			cmds[i].rc = -ENOMEM;
		return fail(c, ENOMEM, "redis cluster: out of memory");
	}
	sync_sigpipe_block(&g);
	for (size_t i = 0; i < n; i++) {
		todo[i] = i;
		cmds[i].reply = NULL;
		cmds[i].rc = 0;
	}
	/*
	 * Two passes: the second re-sends what a lost node or a MOVED left
	 * unanswered, after one refresh of the map (a failover promotes a
	 * replica; a resharding moves slots).  A node still failing then fails
	 * its commands: the caller goes on with the other shards' answers.
	 */
	for (int pass = 0; pass < 2 && m; pass++) {
		struct node *to;
		bool refresh = false;

		pipe_pass(c, cmds, todo, m, idx);
		redo = 0;
		for (size_t j = 0; j < m; j++) {
			struct sync_cmd *q = &cmds[todo[j]];
			int kind = q->reply ? redirect_of(c, q->reply, &to) : 0;

			if (kind == 'A' && pass == 1) {
				/* Mid-migration key: the one-command path sends ASKING. */
				freeReplyObject(q->reply);
				q->reply = sync_cluster_command(c, q->argc, q->argv, q->lens,
								q->key_arg, &q->rc);
				continue;
			}
			if (kind) {
				c->st.moved += kind == 'M';
				c->st.ask += kind == 'A';
				freeReplyObject(q->reply);
				q->reply = NULL;
				q->rc = -EAGAIN;
				refresh = true;
			}
			if (q->rc && pass == 0 && q->rc != -EPROTO) {
				refresh = true;
				todo[redo++] = todo[j];
			}
		}
		if (refresh && pass == 0)
			sync_cluster_refresh(c);
		m = redo;
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = cmds[i].rc;
	sync_sigpipe_restore(&g);
	free(todo);
	free(idx);
	return rc;
}

redisReply *sync_cluster_node_command(struct sync_cluster *c, const char *key, size_t keylen,
				      int argc, const char **argv, const size_t *lens, int *rc)
{
	uint16_t slot = sync_key_slot(key, keylen);
	struct sync_sigpipe g;
	redisReply *r;

	if (c->slot_node[slot] < 0) {
		*rc = fail(c, EPROTO, "redis cluster: slot %u is not served", slot);
		return NULL;
	}
	sync_sigpipe_block(&g);
	r = send_on(c, &c->nodes[c->slot_node[slot]], 0, argc, argv, lens, rc);
	sync_sigpipe_restore(&g);
	return r;
}
