/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `xproctl trace FILE [SECONDS]`: record the authenticated DATA the workers filter
 * as xpro-replay's trace (time_ms,device,destination), to size thresholds from a
 * fleet's real traffic (docs/deploy.md).  The workers append to their rings
 * (dataplane/worker.h); a thread of its own drains them every few milliseconds,
 * merges them in time order and writes the file, until the time is up, the
 * packet limit is reached or `xproctl trace stop`.
 *
 * Threads: start, stop and status on the control thread (through the ctl
 * mailbox); the writer thread only reads the rings and writes the file.
 */
#ifndef XPRO_PROXY_TRACE_H
#define XPRO_PROXY_TRACE_H

#include <stddef.h>
#include <stdint.h>

struct px_state;

#define PX_TRACE_MAX_SECONDS 3600
#define PX_TRACE_MAX_PACKETS 100000000ULL

/* Start a trace into path (absolute; created 0600, replaced if there). 0 or -errno, msg says. */
int px_trace_start(struct px_state *s, const char *path, uint64_t seconds, char *msg, size_t len);
/* Stop the running trace now (the file is complete when this returns). 0 or -ENOENT. */
int px_trace_stop(struct px_state *s, char *msg, size_t len);
/* A trace's state as JSON members ("tracing":...,"file":...,...), no braces. */
void px_trace_status(struct px_state *s, char *buf, size_t len);
/* Every tick: reap a trace that ended by itself (time, limit, error) and log it. */
void px_trace_tick(struct px_state *s);
/* At exit: stop a running trace and free the rings. */
void px_trace_fini(struct px_state *s);

#endif
