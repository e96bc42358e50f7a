/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flood mode "afxdp": an AF_XDP socket (TX only, copy mode: veth has no
 * zero-copy) sends as fast as the kernel takes frames, each one freshly
 * sealed with the next sequence number, so every frame is a valid packet the
 * proxy must authenticate.  No XDP program is loaded on our interface.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "gen.h"

#define GEN_XSK_FRAMES 4096
#define GEN_XSK_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define GEN_XSK_RING 2048

struct gen_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	uint64_t free_addr[GEN_XSK_FRAMES]; /* frames not in flight */
	uint32_t nfree;
};

static int gen_xsk_open(struct gen_xsk *x, const struct gen_cfg *cfg)
{
	struct xsk_umem_config ucfg = {
		.fill_size = 64, /* TX only: the fill ring stays empty */
		.comp_size = GEN_XSK_RING,
		.frame_size = GEN_XSK_FRAME_SIZE,
	};
	struct xsk_socket_config scfg = {
		.rx_size = 0,
		.tx_size = GEN_XSK_RING,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	size_t size = (size_t)GEN_XSK_FRAMES * GEN_XSK_FRAME_SIZE;
	int rc;

	x->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	rc = xsk_umem__create(&x->umem, x->area, size, &x->fill, &x->comp, &ucfg);
	if (rc)
		goto out_unmap;
	rc = xsk_socket__create(&x->xsk, cfg->ifname, cfg->queue, x->umem, NULL, &x->tx, &scfg);
	if (rc)
		goto out_umem;
	for (x->nfree = 0; x->nfree < GEN_XSK_FRAMES; x->nfree++)
		x->free_addr[x->nfree] = (uint64_t)x->nfree * GEN_XSK_FRAME_SIZE;
	return 0;
out_umem:
	xsk_umem__delete(x->umem);
out_unmap:
	munmap(x->area, size);
	x->area = NULL;
	return rc;
}

static void gen_xsk_close(struct gen_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)GEN_XSK_FRAMES * GEN_XSK_FRAME_SIZE);
}

/* Take back the frames the kernel has sent; returns how many. */
static uint32_t gen_xsk_complete(struct gen_xsk *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, GEN_XSK_RING, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->free_addr[x->nfree++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&x->comp, n);
	return n;
}

/* Seal and queue up to want frames; returns how many were queued, or -errno. */
static int gen_xsk_fill_tx(struct gen_xsk *x, struct gen_world *w, const struct gen_link *l,
			   uint64_t *next_flow, uint32_t want, struct gen_result *r)
{
	uint32_t idx, n;

	if (want > x->nfree)
		want = x->nfree;
	n = xsk_ring_prod__reserve(&x->tx, want, &idx);
	for (uint32_t i = 0; i < n; i++) {
		struct gen_flow *f = &w->flows[(*next_flow)++ % w->nflows];
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);
		uint64_t addr = x->free_addr[--x->nfree];
		uint8_t *frame = xsk_umem__get_data(x->area, addr);
		int len = gen_seal_next(frame + GEN_OUTER_HLEN, GEN_XSK_FRAME_SIZE - GEN_OUTER_HLEN,
					f, w, gen_now_ns());

		if (len < 0)
			return len;
		gen_frame_wrap(l, frame, (size_t)len, GEN_SPORT_BASE + f->id % 64);
		d->addr = addr;
		d->len = GEN_OUTER_HLEN + (uint32_t)len;
		d->options = 0;
		f->sent++;
		r->bytes += d->len;
	}
	if (n)
		xsk_ring_prod__submit(&x->tx, n);
	return (int)n;
}

int gen_flood_afxdp(struct gen_world *w, struct gen_result *r)
{
	const struct gen_cfg *cfg = w->cfg;
	struct gen_xsk *x = calloc(1, sizeof(*x));
	uint64_t next_flow = 0, queued = 0;
	struct gen_link l;
	int64_t tx0;
	int rc;

	if (!x)
		return -ENOMEM;
	rc = gen_link_init(&l, w, cfg->ifname, cfg->dst_mac);
	if (rc)
		goto out_free;
	rc = gen_xsk_open(x, cfg);
	if (rc) {
		fprintf(stderr, "xpro-gen: AF_XDP socket on %s queue %u: %s\n", cfg->ifname,
			cfg->queue, strerror(-rc));
		goto out_free;
	}
	tx0 = gen_if_tx_packets(cfg->ifname);
	r->start_ns = gen_now_ns();
	while (gen_keep_going(cfg, r, gen_now_ns())) {
		uint32_t want = cfg->batch;
		int n;

		if (cfg->count && cfg->count - queued < want)
			want = (uint32_t)(cfg->count - queued);
		n = want ? gen_xsk_fill_tx(x, w, &l, &next_flow, want, r) : 0;
		if (n < 0) {
			rc = n;
			break;
		}
		queued += (uint64_t)n;
		/* Copy mode sends in this syscall; EAGAIN/EBUSY: the ring is busy, retry. */
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 &&
		    errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN) {
			rc = -errno;
			break;
		}
		r->sent += gen_xsk_complete(x);
	}
	/* Collect the frames still in flight (a second at most). */
	for (int i = 0; i < 1000 && r->sent < queued; i++) {
		sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
		r->sent += gen_xsk_complete(x);
		if (r->sent < queued)
			usleep(1000);
	}
	r->errors += queued - r->sent;
	r->end_ns = gen_now_ns();
	r->if_tx_delta = tx0 >= 0 ? gen_if_tx_packets(cfg->ifname) - tx0 : -1;
	gen_xsk_close(x);
out_free:
	free(x);
	return rc;
}
