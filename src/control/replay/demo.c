/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's built-in scenario ('make demo'): legitimate IoT devices, a few flood bots, a
 * low-rate botnet and a scanner, generated packet by packet in time order from a seed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "replay.h"

const struct xr_demo_group xr_demo_groups[XR_NGROUPS_DEMO] = {
	[XR_G_LEGIT] = { "legit", 20 },
	[XR_G_FLOOD] = { "flood bot", 3 },
	[XR_G_LOWRATE] = { "low-rate bot", 200 },
	[XR_G_SCAN] = { "scanner", 1 },
};

/* Benchmarking space only: 198.18.0.0/15 (RFC 2544) and 2001:2::/48 (RFC 5180). */
const struct xr_demo_dst xr_demo_dsts[XR_NDSTS_DEMO] = {
	[XR_D_VICTIM] = { "victim", "198.18.1.1" },
	[XR_D_BYSTANDER] = { "bystander", "198.18.1.2" },
	[XR_D_SERVICE] = { "service", "2001:2::80" },
	[XR_D_SCAN] = { "scan", NULL },
};

const struct xr_flow xr_demo_flows[] = {
	{ XR_G_LEGIT, XR_D_VICTIM, 20, 2, 0, 50 },
	{ XR_G_LEGIT, XR_D_BYSTANDER, 20, 2, 0, 50 },
	{ XR_G_LEGIT, XR_D_SERVICE, 5, 1, 0, 50 },
	{ XR_G_FLOOD, XR_D_VICTIM, 3, 5000, XR_DEMO_ATTACK_S, 10 },
	{ XR_G_LOWRATE, XR_D_VICTIM, 200, 75, XR_DEMO_ATTACK_S, 50 },
	{ XR_G_SCAN, XR_D_SCAN, 1, 200, XR_DEMO_ATTACK_S, 50 },
};

const size_t xr_demo_nflows = ARRAY_SIZE(xr_demo_flows);

struct xr_src {
	uint64_t next; /* ns of its next packet */
	uint32_t flow, dev;
};

struct xr_demo {
	struct xr_src *heap; /* min-heap on next */
	size_t n;
	uint64_t rng;
	uint32_t dev_base[XR_NGROUPS_DEMO];
};

static uint64_t xr_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t xr_demo_gap(struct xr_demo *dm, const struct xr_flow *f)
{
	uint64_t mean = XF_NSEC_PER_SEC / f->pps, j = f->jitter_pct;

	return mean * (100 - j + xr_rand(&dm->rng) % (2 * j + 1)) / 100;
}

static void xr_heap_down(struct xr_src *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		struct xr_src tmp;

		if (l < n && h[l].next < h[m].next)
			m = l;
		if (r < n && h[r].next < h[m].next)
			m = r;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static int xr_demo_tables(struct xr_run *run, struct xr_demo *dm)
{
	uint32_t g;
	uint8_t addr[16] = { 0 };
	char name[64];

	for (int i = 0; i < XR_NGROUPS_DEMO; i++) {
		if (xr_group_add(run, xr_demo_groups[i].name, &g))
			return -ENOMEM;
		dm->dev_base[i] = (uint32_t)run->ndevs;
		for (uint32_t k = 0; k < xr_demo_groups[i].devices; k++)
			if (xr_dev_add(run, g))
				return -ENOMEM;
	}
	for (int i = 0; i < XR_NDSTS_DEMO; i++) {
		const char *a = xr_demo_dsts[i].addr;

		if (a && !xr_parse_addr(a, addr))
			return -EINVAL;
		snprintf(name, sizeof(name), "%s %s", xr_demo_dsts[i].name,
			 a ? a : XR_DEMO_SCAN_NET);
		if (xr_dst_add(run, name, addr, !a))
			return -ENOMEM;
	}
	return 0;
}

static int xr_demo_sources(struct xr_run *run, struct xr_demo *dm)
{
	size_t n = 0;

	for (size_t f = 0; f < xr_demo_nflows; f++)
		n += xr_demo_flows[f].devices;
	dm->heap = calloc(n, sizeof(*dm->heap));
	if (!dm->heap)
		return -ENOMEM;
	for (size_t f = 0; f < xr_demo_nflows; f++) {
		const struct xr_flow *fl = &xr_demo_flows[f];
		uint64_t mean = XF_NSEC_PER_SEC / fl->pps;

		for (uint32_t k = 0; k < fl->devices; k++)
			dm->heap[dm->n++] =
				(struct xr_src){ fl->start_s * XF_NSEC_PER_SEC +
							 xr_rand(&dm->rng) % mean,
						 (uint32_t)f, dm->dev_base[fl->group] + k };
	}
	for (size_t i = dm->n / 2; i-- > 0;)
		xr_heap_down(dm->heap, dm->n, i);
	run->started = true;
	run->phase_from = XR_DEMO_ATTACK_S * XF_NSEC_PER_SEC;
	run->phase_to = XR_DEMO_END_S * XF_NSEC_PER_SEC;
	return 0;
}

static void xr_demo_event(struct xr_run *run, struct xr_demo *dm, const struct xr_src *s,
			  struct xr_event *ev)
{
	const struct xr_flow *fl = &xr_demo_flows[s->flow];
	uint32_t v4;

	ev->t = s->next;
	ev->dev = s->dev;
	ev->group = fl->group;
	ev->dst = fl->dst;
	if (!run->dsts[fl->dst].aggregate) {
		xr_key(&ev->key, s->dev, run->dsts[fl->dst].addr);
		return;
	}
	v4 = 0xc6130000u | (uint32_t)(xr_rand(&dm->rng) & 0xffff); /* 198.19.x.y */
	xf_key_ipv4(&ev->key, s->dev, htonl(v4));
}

/* Replay the scenario: always the next packet of whichever device sends soonest. */
int xr_demo_run(struct xr_run *run)
{
	struct xr_demo dm = { .rng = run->cfg->seed };
	int err = xr_demo_tables(run, &dm);

	run->demo = true;
	run->labelled = true;
	if (!err)
		err = xr_demo_sources(run, &dm);
	while (!err && dm.n) {
		struct xr_src *s = &dm.heap[0];
		struct xr_event ev;

		xr_demo_event(run, &dm, s, &ev);
		err = xr_packet(run, &ev);
		s->next += xr_demo_gap(&dm, &xr_demo_flows[s->flow]);
		if (s->next >= XR_DEMO_END_S * XF_NSEC_PER_SEC)
			*s = dm.heap[--dm.n];
		xr_heap_down(dm.heap, dm.n, 0);
	}
	free(dm.heap);
	return err;
}
