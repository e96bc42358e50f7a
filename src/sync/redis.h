/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One proxy's connection to the Redis master, or to a read-only replica of
 * it: address parsing, connect and command timeouts, AUTH, the master
 * instance marker, script loading and re-loading, reconnection, and errors
 * turned into -errno plus one line of text that names the server and what
 * failed.
 *
 * Threads: a struct sync_conn belongs to one thread at a time (the proxy's
 * control thread; a test may give each thread its own).  Every call blocks
 * for at most the connect timeout plus a few command timeouts: a wrong
 * address, a wrong password or a master that stops answering is an error
 * after a bounded wait, never a hang.  Nothing here touches the workers.
 */
#ifndef XPRO_SYNC_REDIS_H
#define XPRO_SYNC_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sync_conn;

struct sync_conn_opts {
	const char *addr; /* "host:port", "[v6]:port" or "unix:/path" */
	const char *password; /* AUTH password, or NULL */
	const char *proxy_id; /* unique per proxy process: [A-Za-z0-9._-]{1,32} */
	uint32_t connect_ms; /* connect timeout; 0: 1000 ms */
	uint32_t cmd_ms; /* wait for any one reply or socket write; 0: 2000 ms */
	/*
	 * A read-only replica of the master: AUTH and its one script, no
	 * instance marker and no sequence (a replica cannot hold ours); only
	 * sync_read_loads() is for it.  Its messages say "redis replica ADDR".
	 */
	bool replica;
};

/*
 * Connect, authenticate, learn (or set, when the master is empty) the
 * instance marker, read this proxy's last applied batch, load the scripts
 * (a replica: connect, authenticate, load its script).
 * Returns NULL with errno set and one line in err (when not NULL):
 * EINVAL (bad options), ECONNREFUSED/ENOENT (nobody listens there),
 * ETIMEDOUT (no connection or no reply in time), EACCES (password missing
 * or wrong), EROFS (a replica given as the master), ENOMEM, EIO/EPROTO (other).
 * Host names are resolved with getaddrinfo(), which the timeouts do not
 * bound: give an address or a name in /etc/hosts.
 */
struct sync_conn *sync_conn_open(const struct sync_conn_opts *o, char *err, size_t errlen);

/* Close and free (NULL is fine). */
void sync_conn_close(struct sync_conn *c);

/* The text of the last error (empty if none). */
const char *sync_conn_strerror(const struct sync_conn *c);

/*
 * Make sure the connection is up: reconnect when a previous call lost it.
 * Returns 0, an error of sync_conn_open(), or -ESTALE when the master is not
 * the instance this connection synced with (restarted empty or flushed: the
 * marker is gone or different).  After -ESTALE the caller must call
 * sync_conn_resync() and then push its full local state, not just deltas
 * (never from a replica: it has no marker to check).
 */
int sync_conn_ensure(struct sync_conn *c);

/*
 * Accept the master as it is now: adopt its instance marker (setting a new
 * one if it has none), re-read this proxy's last applied batch, and forget
 * any merge left in doubt.  Call after -ESTALE or -EEXIST from a merge,
 * then re-seed the master with every local pair.  Returns 0 or -errno.
 */
int sync_conn_resync(struct sync_conn *c);

/*
 * True while a merge failed after sending something: its batches may or may
 * not have been applied, and the next sync_merge_batch() must be the same
 * request (see merge.h).
 */
bool sync_conn_in_doubt(const struct sync_conn *c);

/*
 * Offset from this host's CLOCK_MONOTONIC to the master's clock (TIME), in
 * ns: shared = local + *offset_ns, estimated at the middle of one round trip
 * (error at most half of it).  Proxies put their times on this shared clock
 * before merging (docs/sync.md, "Clock").  Returns 0 or -errno.
 */
int sync_clock_offset(struct sync_conn *c, int64_t *offset_ns);

struct sync_conn_stats {
	uint64_t connects; /* successful connections, the first included */
	uint64_t script_loads; /* SCRIPT LOAD of either script, NOSCRIPT reloads included */
	uint64_t batches; /* merge batches acknowledged */
	uint64_t dup_batches; /* of which a retry found already applied */
	uint64_t errors; /* calls that returned an error */
};
void sync_conn_stats(const struct sync_conn *c, struct sync_conn_stats *out);

/*
 * Fault injection for tests: the next merge drops the connection after
 * reading this many batch replies, as if it had been cut (0: never).
 */
void sync_conn_fault_after(struct sync_conn *c, unsigned replies);

#endif /* XPRO_SYNC_REDIS_H */
