/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flood mode "live": the fastest injector on these machines (BENCH.md).  An
 * XDP program that returns XDP_TX runs under BPF_PROG_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on our interface, so each repetition leaves
 * through it as a real frame.  The kernel recycles one template per call, so
 * a prepared batch of sealed frames (distinct sequence numbers) is rotated
 * call by call: after the first copy, the proxy sees replays.  This measures
 * the kernel path (XDP drops before authentication); --flood-mode=afxdp is the
 * honest valid flood.  --vary-dev makes the program write a random device
 * index into every frame (the tag no longer verifies: a kernel-path test).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "gen.h"
#include "xdp_prog.h"

#define GEN_LIVE_BATCH_SIZE 64 /* frames the kernel allocates and sends at once */
/*
 * Each BPF_PROG_RUN call costs milliseconds of set-up (measured: about 25 ms
 * here), so calls must be long; but a call cannot be interrupted, so not so
 * long that --duration overshoots.  Start small, then size each call to last
 * about GEN_LIVE_CALL_NS at the rate the last one reached, within --repeat.
 */
#define GEN_LIVE_FIRST_REPEAT 65536
#define GEN_LIVE_CALL_NS 200000000ull

struct gen_live_frame {
	uint8_t data[GEN_MAX_FRAME];
	uint32_t len;
};

/* Seal batch frames in turn from the flows and wrap them for the wire. */
static int gen_live_prepare(struct gen_world *w, const struct gen_link *l,
			    struct gen_live_frame *fr, uint32_t batch)
{
	for (uint32_t i = 0; i < batch; i++) {
		struct gen_flow *f = &w->flows[i % w->nflows];
		int n = gen_seal_next(fr[i].data + GEN_OUTER_HLEN, GEN_MAX_FRAME - GEN_OUTER_HLEN,
				      f, w, 0);

		if (n < 0)
			return n;
		gen_frame_wrap(l, fr[i].data, (size_t)n, GEN_SPORT_BASE + f->id % 64);
		fr[i].len = GEN_OUTER_HLEN + (uint32_t)n;
	}
	return 0;
}

int gen_flood_live(struct gen_world *w, struct gen_result *r)
{
	const struct gen_cfg *cfg = w->cfg;
	struct gen_live_frame *fr = calloc(cfg->batch, sizeof(*fr));
	const uint32_t dev_off = GEN_OUTER_HLEN + offsetof(struct xpro_tun_hdr, dev);
	struct xdp_md ctx = { 0 };
	struct gen_link l;
	int64_t tx0;
	uint64_t calls = 0, next_rep = GEN_LIVE_FIRST_REPEAT;
	int prog = -1, rc;

	if (!fr)
		return -ENOMEM;
	rc = gen_link_init(&l, w, cfg->ifname, cfg->dst_mac);
	if (!rc)
		rc = gen_live_prepare(w, &l, fr, cfg->batch);
	if (rc)
		goto out_free;
	prog = gen_prog_tx(w->devs[0].idx, cfg->vary_dev, dev_off);
	if (prog < 0) {
		rc = prog;
		goto out_free;
	}
	ctx.ingress_ifindex = (uint32_t)l.ifindex;
	tx0 = gen_if_tx_packets(cfg->ifname);
	r->start_ns = gen_now_ns();
	while (gen_keep_going(cfg, r, gen_now_ns())) {
		struct gen_live_frame *f = &fr[calls++ % cfg->batch];
		uint64_t rep = next_rep < cfg->repeat ? next_rep : cfg->repeat, t0 = gen_now_ns(),
			 dt;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = f->len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = GEN_LIVE_BATCH_SIZE);

		if (cfg->count && cfg->count - r->sent < rep)
			rep = cfg->count - r->sent;
		o.repeat = (int)rep;
		ctx.data_end = f->len;
		if (bpf_prog_test_run_opts(prog, &o)) {
			rc = -errno;
			fprintf(stderr, "xpro-gen: BPF_PROG_RUN live frames on %s: %s\n",
				cfg->ifname, strerror(-rc));
			break;
		}
		r->sent += rep;
		r->bytes += rep * f->len;
		dt = gen_now_ns() - t0;
		next_rep = dt ? (uint64_t)((double)rep * GEN_LIVE_CALL_NS / (double)dt) : rep * 2;
		if (next_rep < GEN_LIVE_FIRST_REPEAT)
			next_rep = GEN_LIVE_FIRST_REPEAT;
	}
	r->end_ns = gen_now_ns();
	r->if_tx_delta = tx0 >= 0 ? gen_if_tx_packets(cfg->ifname) - tx0 : -1;
	close(prog);
out_free:
	free(fr);
	return rc;
}
