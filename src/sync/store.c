/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One interface over one Redis instance or a Redis Cluster (store.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync/cluster.h"
#include "sync/conn_int.h"
#include "sync/lua.h"
#include "sync/slot.h"
#include "sync/store.h"

struct sync_store {
	struct sync_conn *conn; /* one instance, or */
	struct sync_cluster *cl; /* a cluster */
	struct sync_store_stats st;
	char err[256];
};

struct sync_store *sync_store_open(const struct sync_store_opts *o, char *err, size_t errlen)
{
	struct sync_store *s = calloc(1, sizeof(*s));
	int saved;

	if (!s) {
		snprintf(err, errlen, "redis: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (o->cluster) {
		struct sync_cluster_opts co = { .seeds = o->cluster,
						.password = o->password,
						.connect_ms = o->connect_ms,
						.cmd_ms = o->cmd_ms };

		s->cl = sync_cluster_open(&co, err, errlen);
	} else {
		struct sync_conn_opts co = { .addr = o->addr,
					     .password = o->password,
					     .proxy_id = o->proxy_id,
					     .connect_ms = o->connect_ms,
					     .cmd_ms = o->cmd_ms };

		s->conn = sync_conn_open(&co, err, errlen);
	}
	if (!s->conn && !s->cl) {
		saved = errno;
		free(s);
		errno = saved;
		return NULL;
	}
	return s;
}

void sync_store_close(struct sync_store *s)
{
	if (!s)
		return;
	sync_conn_close(s->conn);
	sync_cluster_close(s->cl);
	free(s);
}

bool sync_store_is_cluster(const struct sync_store *s)
{
	return s->cl != NULL;
}

const char *sync_store_strerror(const struct sync_store *s)
{
	if (s->err[0])
		return s->err;
	return s->cl ? sync_cluster_strerror(s->cl) : sync_conn_strerror(s->conn);
}

void sync_store_stats(const struct sync_store *s, struct sync_store_stats *out)
{
	*out = s->st;
	out->nodes = s->cl ? sync_cluster_nodes(s->cl) : 1;
}

void sync_cmds_free(struct sync_cmd *cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cmds[i].reply)
			freeReplyObject(cmds[i].reply);
		cmds[i].reply = NULL;
	}
}

static bool lib_missing(const redisReply *r)
{
	return r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "ERR Function not found", 22);
}

/* A command without a key on the node that holds key.  NULL: *rc says why. */
static redisReply *on_node(struct sync_store *s, const char *key, size_t keylen, int argc,
			   const char **argv, const size_t *lens, int *rc)
{
	struct sync_cmd q = { .argc = argc, .argv = argv, .lens = lens, .key_arg = 0 };

	if (s->cl)
		return sync_cluster_node_command(s->cl, key, keylen, argc, argv, lens, rc);
	*rc = sync_conn_pipe(s->conn, &q, 1);
	return q.reply;
}

/* FUNCTION LOAD REPLACE of the library on the node of key. */
static int load_lib(struct sync_store *s, const char *key, size_t keylen)
{
	const char *argv[] = { "FUNCTION", "LOAD", "REPLACE", sync_lib_lua };
	size_t lens[] = { 8, 4, 7, strlen(sync_lib_lua) };
	redisReply *r;
	int rc = 0;

	r = on_node(s, key, keylen, 4, argv, lens, &rc);
	if (!r)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		rc = sync_reply_errno(r);
		snprintf(s->err, sizeof(s->err), "redis: FUNCTION LOAD: %s%s", r->str,
			 rc == -ENOSYS ? " (Redis 7 or later is needed)" : "");
	} else {
		s->st.lib_loads++;
	}
	freeReplyObject(r);
	return rc;
}

/* The node that serves key ("" for one instance). */
static const char *node_of(const struct sync_store *s, const char *key, size_t keylen)
{
	const char *n = s->cl ? sync_cluster_slot_node(s->cl, sync_key_slot(key, keylen)) : "";

	return n ? n : "";
}

/*
 * Calls that found the library missing: load it once on each node they
 * went to, then send them again in one pipeline.
 */
static void resend_missing(struct sync_store *s, struct sync_cmd *cmds, size_t n)
{
	const char *loaded[SYNC_CLUSTER_MAX_NODES];
	int loaded_rc[SYNC_CLUSTER_MAX_NODES];
	struct sync_cmd *again;
	size_t *idx, nm = 0, nl = 0;

	for (size_t i = 0; i < n; i++)
		nm += lib_missing(cmds[i].reply);
	if (!nm)
		return;
	again = calloc(nm, sizeof(*again));
	idx = calloc(nm, sizeof(*idx));
	nm = 0;
	for (size_t i = 0; i < n; i++) {
		struct sync_cmd *q = &cmds[i];
		const char *key = q->argv[q->key_arg], *node;
		size_t keylen = q->lens[q->key_arg], l;

		if (!lib_missing(q->reply))
			continue;
		freeReplyObject(q->reply);
		q->reply = NULL;
		node = node_of(s, key, keylen);
		for (l = 0; l < nl && strcmp(loaded[l], node); l++)
			;
		if (l == nl && nl < SYNC_CLUSTER_MAX_NODES) {
			loaded[nl] = node;
			loaded_rc[nl++] = load_lib(s, key, keylen);
		}
		q->rc = l < nl ? loaded_rc[l] : -EPROTO;
		if (!q->rc && (!again || !idx))
			q->rc = -ENOMEM;
		if (q->rc)
			continue;
		again[nm] = *q;
		idx[nm++] = i;
	}
	if (nm) {
		if (s->cl)
			sync_cluster_pipe(s->cl, again, nm);
		else
			sync_conn_pipe(s->conn, again, nm);
	}
	for (size_t j = 0; j < nm; j++) {
		cmds[idx[j]].reply = again[j].reply;
		cmds[idx[j]].rc = again[j].rc;
	}
	free(again);
	free(idx);
}

int sync_store_pipe(struct sync_store *s, struct sync_cmd *cmds, size_t n)
{
	int rc;

	s->err[0] = '\0';
	s->st.pipelines++;
	s->st.commands += n;
	if (s->cl)
		sync_cluster_pipe(s->cl, cmds, n);
	else
		sync_conn_pipe(s->conn, cmds, n);
	resend_missing(s, cmds, n);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (cmds[i].rc)
			s->st.failed++;
		if (cmds[i].rc && !rc)
			rc = cmds[i].rc;
	}
	return rc;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int sync_store_clock_offset(struct sync_store *s, const char *key, int64_t *offset_ns)
{
	const char *argv[] = { "TIME" };
	size_t lens[] = { 4 };
	int64_t t0, t1;
	redisReply *r;
	int rc = 0;

	if (!s->cl)
		return sync_clock_offset(s->conn, offset_ns);
	t0 = mono_ns();
	r = on_node(s, key, strlen(key), 1, argv, lens, &rc);
	t1 = mono_ns();
	if (!r)
		return rc;
	rc = sync_time_offset(r, t0, t1, offset_ns);
	freeReplyObject(r);
	if (rc)
		snprintf(s->err, sizeof(s->err), "redis cluster: TIME: unexpected reply");
	return rc;
}
