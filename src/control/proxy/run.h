/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's life: start-up in stages and their unwind (setup.c), the
 * control loop with its signals (loop.c).  main.c calls them in order.
 *
 * Threads: all of it runs on the main thread, which becomes the control
 * thread once the workers run.
 */
#ifndef XPRO_PROXY_RUN_H
#define XPRO_PROXY_RUN_H

#include <stddef.h>

#include "control/proxy/state.h"

/*
 * Start everything s->cfg asks for, stage by stage (setup.c lists them).
 * Returns 0 with every stage up, or -errno (said in the log) with every
 * stage that was done undone, in reverse.
 */
int px_setup(struct px_state *s);

/* Undo every stage px_setup() did, in reverse: the same unwind as a failure. */
void px_teardown(struct px_state *s);

/*
 * Parse the provisioning file (nothing applied on error, said in the log),
 * then make the device table and the XDP device map hold it.  0 or -errno.
 */
/* The provisioning file: read it, apply it; msg gets the outcome (also logged). */
int px_devices_read(const char *path, struct tun_dev_conf **conf, size_t *n, char *msg, size_t len);
int px_devices_apply(struct px_state *s, const struct tun_dev_conf *conf, size_t n, char *msg,
		     size_t len);

/* SIGINT and SIGTERM stop the control loop, SIGHUP reloads; SIGPIPE is ignored. */
void px_signals_init(void);

/* The control loop, until SIGINT or SIGTERM. */
void px_loop_run(struct px_state *s);

/*
 * What SIGHUP and `xproctl reload` do: the configuration file's run-time keys,
 * then the provisioning file (applied whole or not at all).  0, or -errno if
 * either was refused; msg says what happened to both.  Control thread.
 */
int px_reload(struct px_state *s, char *msg, size_t len);

/*
 * After the workers stopped: hand the master what they admitted since the
 * last round, then write the final status, while sockets and program are
 * still there.
 */
void px_loop_finish(struct px_state *s);

#endif
