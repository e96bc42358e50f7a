/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The store the destination round talks to: one Redis instance (--redis,
 * struct sync_conn) or a Redis Cluster (--redis-cluster, struct
 * sync_cluster), behind one interface.  Every command the round sends names
 * one key, so that a cluster can route it by the key's slot; commands are
 * pipelined (per node in a cluster), and the sync layer's Functions library
 * (lib_lua.c) is loaded on a node the first time a call there finds it
 * missing (a new node, a flushed one, a restarted one without persistence).
 *
 * A node that fails fails only the commands routed to it: the caller sees
 * which ones (struct sync_cmd.rc) and goes on with the others' answers, so
 * one shard away does not stop the round on the others.
 *
 * Threads: one thread at a time (the proxy's control thread).
 */
#ifndef XPRO_SYNC_STORE_H
#define XPRO_SYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

/* One command of a pipeline. */
struct sync_cmd {
	int argc;
	const char **argv;
	const size_t *lens;
	int key_arg; /* argv[key_arg] is the key that routes it */
	/* Out: the reply (an error reply is a reply), the caller frees it; or
	 * NULL with rc = -errno when the node could not be asked or answer. */
	redisReply *reply;
	int rc;
};

struct sync_store_opts {
	const char *addr; /* one instance: "host:port", "[v6]:port", "unix:/path" */
	const char *cluster; /* or a cluster: "host:port[,host:port...]" seeds */
	const char *password;
	const char *proxy_id;
	uint32_t connect_ms, cmd_ms; /* 0: 1000, 2000 */
};

struct sync_store_stats {
	uint64_t pipelines, commands; /* sent */
	uint64_t failed; /* commands without a reply (node away) */
	uint64_t lib_loads; /* FUNCTION LOAD of the library */
	unsigned nodes; /* masters serving slots (1 for one instance) */
};

struct sync_store;

/*
 * Connect (to one seed that answers, for a cluster) and load the library.
 * NULL with errno and one line in err: as sync_conn_open() and
 * sync_cluster_open().  A store that is merely unreachable is an error
 * here; the round retries opening it with backoff.
 */
struct sync_store *sync_store_open(const struct sync_store_opts *o, char *err, size_t errlen);
void sync_store_close(struct sync_store *s);

/*
 * Send cmds[0..n), pipelined, and fill each one's reply or rc.  A command
 * whose FCALL finds the library missing on its node has the library loaded
 * there and is sent again.  Returns 0 when every command has a reply, else
 * the first failure's -errno (sync_store_strerror() says which node and
 * why); the answered ones are valid either way.
 */
int sync_store_pipe(struct sync_store *s, struct sync_cmd *cmds, size_t n);

/* Free the replies of cmds[0..n) and clear them. */
void sync_cmds_free(struct sync_cmd *cmds, size_t n);

/*
 * Offset from CLOCK_MONOTONIC to the clock all proxies share: the TIME of
 * the node that holds key (the instance, or the cluster node of key's
 * slot), as sync_clock_offset().  0 or -errno.
 */
int sync_store_clock_offset(struct sync_store *s, const char *key, int64_t *offset_ns);

const char *sync_store_strerror(const struct sync_store *s);
void sync_store_stats(const struct sync_store *s, struct sync_store_stats *out);
bool sync_store_is_cluster(const struct sync_store *s);

/* The error reply r as -errno (the sync layer's table, redis.c). */
int sync_reply_errno(const redisReply *r);

#endif /* XPRO_SYNC_STORE_H */
