/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running proxy's operator interfaces: the unix socket xproctl talks to
 * (ctl.c) and the Prometheus endpoint (metrics.c), each served by a thread of
 * its own, never by a worker and never blocking the control loop.
 *
 * Threads and protection:
 *  - The ctl and metrics threads are registered RCU readers; they read
 *    worker and engine counters (relaxed atomics), the engine's tables under
 *    rcu_read_lock(), and the BPF maps through the kernel.
 *  - What only the control thread may read or write (the sync round, the
 *    live configuration, the engine's parameters) crosses in struct px_ctl:
 *    the control thread publishes a snapshot of it each tick and drains the
 *    mailbox (set, reload) in px_ctl_tick(); both under px_ctl.lock.
 */
#ifndef XPRO_PROXY_CTL_H
#define XPRO_PROXY_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "control/proxy/counters.h"
#include "control/proxy/proxy.h"

struct px_state;

/*
 * Start the ctl thread (and the metrics thread when --metrics is set).
 * Main thread, after the workers started.  Returns 0 or -errno (logged).
 */
int px_ctl_start(struct px_state *s);
/* Stop and join both threads, remove the socket.  Main thread; idempotent. */
void px_ctl_stop(struct px_state *s);
/*
 * Control thread, once per tick: publish the snapshot, run a queued `set`
 * or `reload` (px_reload(), as on SIGHUP) and answer it with the outcome.
 */
void px_ctl_tick(struct px_state *s);

/*
 * Every figure now into c (counters.h), with the snapshot the control thread
 * published last.  ctl or metrics thread (a registered RCU reader).
 */
void px_counters_read(struct px_state *s, struct px_counters *c);

/* metrics.c: the HTTP thread; addr is "ADDR:PORT".  Returns 0 or -errno (logged). */
struct px_metrics;
struct px_metrics *px_metrics_start(struct px_state *s, const char *addr);
void px_metrics_stop(struct px_metrics *m);

#endif
