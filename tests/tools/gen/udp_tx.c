/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sending tunnel messages through the kernel: a few unconnected UDP sockets
 * (one outer source port each, so the proxy's queues share the load), each
 * with a queue of messages flushed by sendmmsg().  Unconnected, so an ICMP
 * "port unreachable" from a proxy not yet listening never fails a send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "udp_tx.h"

int gen_udp_open(struct gen_udp *u, const struct gen_world *w, unsigned nsock)
{
	int buf = 4 << 20;

	memset(u, 0, sizeof(*u));
	if (w->proxy_ver == 4) {
		struct sockaddr_in *a = (struct sockaddr_in *)&u->to;

		a->sin_family = AF_INET;
		a->sin_port = htons(w->proxy_port);
		memcpy(&a->sin_addr, w->proxy + 12, 4);
		u->tolen = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&u->to;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(w->proxy_port);
		memcpy(&a->sin6_addr, w->proxy, 16);
		u->tolen = sizeof(*a);
	}
	u->q = calloc(nsock, sizeof(*u->q));
	if (!u->q)
		return -ENOMEM;
	for (u->nsock = 0; u->nsock < nsock; u->nsock++) {
		int fd = socket(u->to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			int err = -errno;

			gen_udp_close(u);
			return err;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		u->q[u->nsock].fd = fd;
	}
	return 0;
}

void gen_udp_close(struct gen_udp *u)
{
	for (unsigned i = 0; i < u->nsock; i++)
		close(u->q[i].fd);
	free(u->q);
	u->q = NULL;
	u->nsock = 0;
}

void gen_udp_flush(struct gen_udp *u, unsigned s, struct gen_result *r)
{
	struct gen_udp_q *q = &u->q[s];
	unsigned off = 0;

	for (unsigned i = 0; i < q->n; i++) {
		q->iov[i] = (struct iovec){ q->buf[i], q->len[i] };
		q->m[i].msg_hdr = (struct msghdr){
			.msg_name = &u->to,
			.msg_namelen = u->tolen,
			.msg_iov = &q->iov[i],
			.msg_iovlen = 1,
		};
	}
	while (off < q->n) {
		int k = sendmmsg(q->fd, q->m + off, q->n - off, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r->errors++; /* this one is lost; go on with the rest */
			off++;
			continue;
		}
		for (int i = 0; i < k; i++) {
			r->sent++;
			r->bytes += q->len[off + i];
		}
		off += (unsigned)k;
	}
	q->n = 0;
}

void gen_udp_flush_all(struct gen_udp *u, struct gen_result *r)
{
	for (unsigned s = 0; s < u->nsock; s++)
		if (u->q[s].n)
			gen_udp_flush(u, s, r);
}

uint8_t *gen_udp_slot(struct gen_udp *u, unsigned s, struct gen_result *r)
{
	struct gen_udp_q *q = &u->q[s];

	if (q->n == GEN_UDP_BATCH)
		gen_udp_flush(u, s, r);
	return q->buf[q->n];
}

void gen_udp_commit(struct gen_udp *u, unsigned s, size_t len)
{
	struct gen_udp_q *q = &u->q[s];

	q->len[q->n++] = len;
	u->committed++;
}
