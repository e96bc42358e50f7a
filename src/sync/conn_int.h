/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside struct sync_conn: shared by redis.c (connection), merge.c, load.c
 * (the scripts' callers), read.c, store.c and cluster.c.  Not for use outside src/sync/.
 */
#ifndef XPRO_SYNC_CONN_INT_H
#define XPRO_SYNC_CONN_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "sync/keys.h"
#include "sync/redis.h"

enum sync_script_id {
	SYNC_SCRIPT_MERGE,
	SYNC_SCRIPT_LOAD,
	SYNC_SCRIPT_LOAD_RO, /* a replica's only script */
	SYNC_NSCRIPTS,
};

/* A merge request that failed after sending: it must be retried as is. */
struct sync_doubt {
	bool active;
	uint64_t seq0; /* sequence number of its first batch */
	uint64_t n; /* pairs */
	uint32_t batch; /* pairs per batch */
	uint64_t sum; /* fingerprint of the pairs and values */
};

/* Owned by one thread at a time; no field is shared. */
struct sync_conn {
	redisContext *ctx; /* NULL while disconnected */
	bool replica; /* a read-only replica: no marker, no sequence (redis.h) */
	char *addr; /* as given, for messages; a replica's with "replica " before it */
	char *host; /* TCP host, or NULL */
	char *path; /* unix socket path, or NULL */
	int port;
	char *password;
	char proxy_id[SYNC_PROXY_ID_MAX + 1];
	struct timeval connect_tv, cmd_tv;
	uint32_t connect_ms, cmd_ms;

	char gen[SYNC_GEN_LEN + 1]; /* the master instance we synced with */
	bool stale; /* the master is another instance: resync first */
	uint64_t seq_next; /* sequence number of our next new batch */
	struct sync_doubt doubt;
	char sha[SYNC_NSCRIPTS][41];
	unsigned fault_after; /* tests: drop the connection after this many replies */

	struct sync_conn_stats st;
	char err[256];
};

/*
 * Writing to a socket the master closed raises SIGPIPE, which would kill the
 * process.  A library must not change the process's signal handling, so
 * every public call that does I/O blocks SIGPIPE in its own thread for the
 * duration and consumes one it raised (the write itself fails with EPIPE).
 */
struct sync_sigpipe {
	sigset_t old;
	bool was_pending; /* a SIGPIPE pending before us is not ours to consume */
};
void sync_sigpipe_block(struct sync_sigpipe *g);
void sync_sigpipe_restore(struct sync_sigpipe *g);

/* Record a failure: message into c->err, count it, return -errnum. */
int sync_conn_fail(struct sync_conn *c, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The context failed (I/O, EOF, protocol): record why, free it (the next
 * call reconnects) and return -errno.  what names the failing step.
 */
int sync_conn_lost(struct sync_conn *c, const char *what);

/* An error reply: record it and return its -errno (see merge.h). */
int sync_conn_reply_err(struct sync_conn *c, const redisReply *r, const char *what);

/* Drop the connection (the next call reconnects). */
void sync_conn_drop(struct sync_conn *c);

/*
 * Run one command and return its reply, or NULL after recording the error
 * in *rc (the connection is dropped on I/O errors).  Error replies are
 * returned as replies.
 */
redisReply *sync_conn_cmd(struct sync_conn *c, int *rc, int argc, const char **argv,
			  const size_t *lens);

/*
 * Pipeline cmds[0..n) on the connection (store.h): each gets its reply, or
 * the -errno of the failure that cut the pipeline (the connection is then
 * dropped; the next call reconnects).  Returns 0 or that -errno.
 */
struct sync_cmd;
int sync_conn_pipe(struct sync_conn *c, struct sync_cmd *cmds, size_t n);

/*
 * A TIME reply r, asked at t0 and answered at t1 (CLOCK_MONOTONIC ns), as
 * the offset server - local at the middle of the round trip.  0 or -EPROTO.
 */
int sync_time_offset(const redisReply *r, int64_t t0, int64_t t1, int64_t *offset_ns);

/* SCRIPT LOAD one script into c->sha[id].  Returns 0 or -errno. */
int sync_conn_load_script(struct sync_conn *c, enum sync_script_id id);

/* True when r is the error reply NOSCRIPT. */
bool sync_reply_noscript(const redisReply *r);

#endif /* XPRO_SYNC_CONN_INT_H */
