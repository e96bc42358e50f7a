/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * AF_XDP socket set-up and frame bookkeeping.  Every RX frame is either
 * transmitted (and comes back through the completion ring) or returned to
 * the free stack at once, so the UMEM never leaks frames under any verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_xdp.h>

#include "dataplane/xsk.h"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

static int umem_open(struct dp_xsk *x, const struct dp_xsk_config *cfg)
{
	struct xsk_umem_config ucfg = {
		.fill_size = cfg->ring_size,
		.comp_size = cfg->ring_size,
		.frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE,
		.frame_headroom = 0,
	};
	int err;

	x->frames = cfg->frames;
	x->frame_size = XSK_UMEM__DEFAULT_FRAME_SIZE;
	x->area_len = (size_t)x->frames * x->frame_size;
	x->area =
		mmap(NULL, x->area_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &ucfg);
	if (err)
		goto out_unmap;
	x->free = calloc(x->frames, sizeof(*x->free));
	if (!x->free) {
		err = -ENOMEM;
		goto out_delete;
	}
	for (uint32_t i = 0; i < x->frames; i++)
		x->free[i] = (uint64_t)i * x->frame_size;
	x->nfree = x->frames;
	return 0;

out_delete:
	xsk_umem__delete(x->umem);
	x->umem = NULL;
out_unmap:
	munmap(x->area, x->area_len);
	x->area = NULL;
	return err;
}

static int socket_open(struct dp_xsk *x, const char *ifname, const struct dp_xsk_config *cfg,
		       __u16 bind_flags)
{
	struct xsk_socket_config scfg = {
		.rx_size = cfg->ring_size,
		.tx_size = cfg->ring_size,
		/* Our own program redirects; libxdp must not load its default. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create(&x->xsk, ifname, x->queue, x->umem, &x->rx, &x->tx, &scfg);
}

static void busy_poll_on(struct dp_xsk *x)
{
	int fd = xsk_socket__fd(x->xsk), one = 1, usec = 20, budget = 64;

	setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec));
	setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget));
}

int dp_xsk_open(struct dp_xsk *x, const char *ifname, int queue, int xsks_map_fd,
		const struct dp_xsk_config *cfg, char *msg, size_t msglen)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->queue = queue;
	err = umem_open(x, cfg);
	if (err) {
		snprintf(msg, msglen, "UMEM of %u frames: %s", cfg->frames, strerror(-err));
		return err;
	}
	err = -EOPNOTSUPP;
	if (cfg->mode != DP_XSK_COPY) {
		err = socket_open(x, ifname, cfg, XDP_ZEROCOPY);
		x->zerocopy = !err;
	}
	if (err && cfg->mode != DP_XSK_ZEROCOPY)
		err = socket_open(x, ifname, cfg, XDP_COPY);
	if (err) {
		snprintf(msg, msglen, "AF_XDP socket on %s queue %d (%s): %s%s", ifname, queue,
			 cfg->mode == DP_XSK_ZEROCOPY ? "zero-copy" : "copy", strerror(-err),
			 err == -EBUSY ? " (queue in use by another socket?)" : "");
		goto out_close;
	}
	err = xsk_socket__update_xskmap(x->xsk, xsks_map_fd);
	if (err) {
		snprintf(msg, msglen, "registering queue %d in xsks_map: %s", queue,
			 strerror(-err));
		goto out_close;
	}
	if (cfg->busy_poll)
		busy_poll_on(x);
	dp_xsk_refill(x);
	return 0;

out_close:
	dp_xsk_close(x);
	return err;
}

void dp_xsk_close(struct dp_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	free(x->free);
	memset(x, 0, sizeof(*x));
}

void dp_xsk_refill(struct dp_xsk *x)
{
	uint32_t idx, n = xsk_prod_nb_free(&x->fill, x->nfree);

	if (n > x->nfree)
		n = x->nfree;
	if (!n || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->free[--x->nfree];
	xsk_ring_prod__submit(&x->fill, n);
}

void dp_xsk_complete(struct dp_xsk *x)
{
	uint32_t idx, n;

	if (!x->tx_outstanding)
		return;
	n = xsk_ring_cons__peek(&x->comp, x->tx_outstanding, &idx);
	for (uint32_t i = 0; i < n; i++)
		dp_xsk_free_frame(x, *xsk_ring_cons__comp_addr(&x->comp, idx + i));
	xsk_ring_cons__release(&x->comp, n);
	x->tx_outstanding -= n;
}

/*
 * In copy mode one sendto() transmits at most 32 frames and answers EAGAIN
 * while more are queued, so kick until the ring is handed over (bounded by
 * the ring, in case the kernel keeps answering EAGAIN for another reason).
 */
void dp_xsk_kick_tx(struct dp_xsk *x)
{
	int fd = xsk_socket__fd(x->xsk);

	if (!x->tx_outstanding || !xsk_ring_prod__needs_wakeup(&x->tx))
		return;
	for (uint32_t i = 0; i <= x->tx_outstanding / 32; i++) {
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 || errno != EAGAIN)
			return;
	}
}
