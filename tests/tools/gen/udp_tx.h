/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UDP sockets towards the proxy with per-socket sendmmsg() batches, used by
 * the paced and bad modes.  One thread owns a struct gen_udp.
 */
#ifndef XPRO_GEN_UDP_TX_H
#define XPRO_GEN_UDP_TX_H

#include <sys/socket.h>

#include "gen.h"

#define GEN_UDP_BATCH 32

struct gen_udp_q {
	int fd;
	unsigned n;
	struct mmsghdr m[GEN_UDP_BATCH];
	struct iovec iov[GEN_UDP_BATCH];
	size_t len[GEN_UDP_BATCH];
	uint8_t buf[GEN_UDP_BATCH][GEN_MAX_FRAME];
};

struct gen_udp {
	struct sockaddr_storage to; /* the proxy's tunnel socket */
	socklen_t tolen;
	struct gen_udp_q *q;
	unsigned nsock;
	uint64_t committed; /* messages queued, ever (sent or not yet) */
};

/* Open nsock sockets towards w's proxy.  0 or -errno. */
int gen_udp_open(struct gen_udp *u, const struct gen_world *w, unsigned nsock);
void gen_udp_close(struct gen_udp *u);

/* A buffer of GEN_MAX_FRAME bytes for socket s's next message (flushes a full batch). */
uint8_t *gen_udp_slot(struct gen_udp *u, unsigned s, struct gen_result *r);
/* Queue the message written into the last slot. */
void gen_udp_commit(struct gen_udp *u, unsigned s, size_t len);
/* Send what is queued; counts sent, bytes and errors into r. */
void gen_udp_flush(struct gen_udp *u, unsigned s, struct gen_result *r);
void gen_udp_flush_all(struct gen_udp *u, struct gen_result *r);

/*
 * The paced scheduler (paced.c): call fn for event n = 0, 1, ... at
 * start + n / rate, until the duration, --count events or a signal; fn queues
 * what event n sends.  Sending stops at fn's first error, which is returned.
 */
typedef int (*gen_event_fn)(void *ctx, struct gen_world *w, struct gen_udp *u, struct gen_result *r,
			    uint64_t n, uint64_t now);
int gen_sched_run(struct gen_world *w, struct gen_result *r, double rate, gen_event_fn fn,
		  void *ctx);

#endif /* XPRO_GEN_UDP_TX_H */
