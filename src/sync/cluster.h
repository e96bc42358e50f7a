/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A Redis Cluster slot router (issue 11): Debian's hiredis (0.14) has no
 * cluster support, so this is the small part of one the sync round needs.
 * It learns which node serves which slot from CLUSTER SLOTS, keeps one
 * connection per master node, sends each command to the node owning its
 * key's slot (src/sync/slot.c), and follows the cluster's redirections:
 *
 *   -MOVED <slot> <host>:<port>   the slot lives there now: refresh the map
 *                                 (one CLUSTER SLOTS) and send it there
 *   -ASK <slot> <host>:<port>     this one key is being migrated: send
 *                                 ASKING then the command to that node, once;
 *                                 the map is left as it is
 *
 * at most SYNC_CLUSTER_MAX_REDIRECTS times per command.  A node that fails
 * (I/O, timeout, EOF) has its connection dropped and the map refreshed from
 * any node that answers, so a replica promoted by a failover is found.
 *
 * Threads: one thread at a time, as struct sync_conn.  Every call blocks for
 * at most the connect timeout plus a few command timeouts per node tried.
 */
#ifndef XPRO_SYNC_CLUSTER_H
#define XPRO_SYNC_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#define SYNC_CLUSTER_MAX_NODES 64
#define SYNC_CLUSTER_MAX_REDIRECTS 5

struct sync_cluster;

struct sync_cluster_opts {
	const char *seeds; /* "host:port[,host:port...]": any nodes of the cluster */
	const char *password; /* AUTH on every node, or NULL */
	uint32_t connect_ms; /* per connection; 0: 1000 */
	uint32_t cmd_ms; /* per reply; 0: 2000 */
};

struct sync_cluster_stats {
	uint64_t commands; /* sent and answered */
	uint64_t moved, ask; /* redirections followed */
	uint64_t refreshes; /* CLUSTER SLOTS read */
	uint64_t node_failures; /* connections lost or refused */
};

/*
 * Connect to the first seed that answers and read the slot map.  NULL with
 * errno and one line in err: EINVAL (bad seeds), ECONNREFUSED/ETIMEDOUT (no
 * seed answers), EACCES (password), EPROTO (not a cluster, or slots not all
 * served: "cluster has N of 16384 slots"), ENOMEM.
 */
struct sync_cluster *sync_cluster_open(const struct sync_cluster_opts *o, char *err, size_t errlen);
void sync_cluster_close(struct sync_cluster *c);

/*
 * Run one command whose key is argv[key_arg] on the node owning that key's
 * slot, following MOVED and ASK.  Returns the reply (the caller frees it; a
 * Redis error other than a redirection is returned as the reply), or NULL
 * with the reason in sync_cluster_strerror() and *rc = -errno: ETIMEDOUT,
 * ECONNRESET (node lost), ELOOP (too many redirections), EPROTO.
 */
redisReply *sync_cluster_command(struct sync_cluster *c, int argc, const char **argv,
				 const size_t *argvlen, int key_arg, int *rc);

/*
 * Pipeline cmds[0..n) (store.h): grouped by the node owning each command's
 * key, one pipeline per node; what a lost node or a redirection left
 * unanswered is sent again once after a refresh of the map.  Each command
 * gets its reply or its -errno.  Returns 0 or the first command's -errno.
 */
struct sync_cmd;
int sync_cluster_pipe(struct sync_cluster *c, struct sync_cmd *cmds, size_t n);

/*
 * A command without a key (FUNCTION LOAD, TIME) on the node that owns key's
 * slot, no redirection followed.  As sync_cluster_command().
 */
redisReply *sync_cluster_node_command(struct sync_cluster *c, const char *key, size_t keylen,
				      int argc, const char **argv, const size_t *lens, int *rc);

/* Re-read the slot map from any node that answers.  0 or -errno. */
int sync_cluster_refresh(struct sync_cluster *c);

/* "host:port" of the master serving slot, or NULL if none (map not complete). */
const char *sync_cluster_slot_node(const struct sync_cluster *c, uint16_t slot);

/* Distinct master nodes in the map. */
unsigned sync_cluster_nodes(const struct sync_cluster *c);

void sync_cluster_stats(const struct sync_cluster *c, struct sync_cluster_stats *out);
const char *sync_cluster_strerror(const struct sync_cluster *c);

#endif
