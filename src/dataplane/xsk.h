/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One AF_XDP socket and its UMEM, owned by one worker thread: the rings, the
 * frame pool and the counters are touched by that thread only (bpf-examples'
 * xsk_fwd model).  The control thread only reads the counters.
 */
#ifndef XPRO_DP_XSK_H
#define XPRO_DP_XSK_H

#include <stdbool.h>
#include <stdint.h>
#include <xdp/xsk.h>

enum dp_xsk_mode {
	DP_XSK_AUTO = 0, /* try zero-copy, fall back to copy */
	DP_XSK_COPY,
	DP_XSK_ZEROCOPY,
};

struct dp_xsk_config {
	uint32_t frames; /* UMEM frames (power of two); default 8192 */
	uint32_t ring_size; /* rx, tx, fill and completion ring entries; default 2048 */
	enum dp_xsk_mode mode;
	bool busy_poll;
};

struct dp_xsk {
	struct xsk_ring_cons rx, comp;
	struct xsk_ring_prod tx, fill;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
	size_t area_len;
	uint64_t *free; /* stack of free frame addresses */
	uint32_t nfree, frames, frame_size;
	uint32_t tx_outstanding; /* submitted, not yet completed */
	bool zerocopy;
	int queue;
};

/*
 * Create the socket for ifname/queue and register it in xsks_map_fd.
 * Returns 0 or -errno (msg gets a human reason).  Thread: control, at start.
 */
int dp_xsk_open(struct dp_xsk *x, const char *ifname, int queue, int xsks_map_fd,
		const struct dp_xsk_config *cfg, char *msg, size_t msglen);
void dp_xsk_close(struct dp_xsk *x);

/* Move free frames into the fill ring.  Owner thread. */
void dp_xsk_refill(struct dp_xsk *x);
/* Reap TX completions back into the free stack.  Owner thread. */
void dp_xsk_complete(struct dp_xsk *x);
/* Kick the kernel to transmit if it asked for a wakeup.  Owner thread. */
void dp_xsk_kick_tx(struct dp_xsk *x);

static inline void dp_xsk_free_frame(struct dp_xsk *x, uint64_t addr)
{
	/* Frames carry offsets (headroom, decap); the pool keeps chunk starts. */
	x->free[x->nfree++] = xsk_umem__extract_addr(addr) & ~((uint64_t)x->frame_size - 1);
}

static inline uint8_t *dp_xsk_data(const struct dp_xsk *x, uint64_t addr)
{
	return xsk_umem__get_data(x->area, addr);
}

#endif
