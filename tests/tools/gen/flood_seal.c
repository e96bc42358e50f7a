/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Flood mode "seal": the speed of "live" (BPF_PROG_RUN with live frames) with
 * every frame a valid, fresh message, as "afxdp" sends but an order of
 * magnitude faster.  The XDP program bpf/gen_seal.bpf.c (gen_seal.h) writes
 * into each frame a new sequence number, the next device of the rotation
 * (index, inner source, key) and destination, and the SipHash-2-4 tag under
 * that device's integrity key, then returns XDP_TX.  Devices: every active one
 * selected (--dev-first, --dev-count), in turn; destinations: every --dst, one
 * per round of devices.  IPv4 only, inner and outer.  The outer UDP checksum
 * is zero (allowed for IPv4; the proxy's fast path does not check it).
 *
 * The program is a BPF object read at run time (--bpf-obj, default
 * <directory of xpro-gen>/gen/gen_seal.bpf.o).  Before the flood one frame is
 * sealed by BPF_PROG_RUN without live frames and checked here (tag, sequence,
 * device, inner checksum), so a miscompiled program fails loudly instead of
 * flooding the proxy with rejects.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <endian.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpro/siphash.h"
#include "gen.h"
#include "gen_seal.h"

_Static_assert(GEN_SEAL_MSG_OFF == GEN_OUTER_HLEN, "seal frames: Ethernet, IPv4, UDP");

#define GEN_SEAL_BATCH_SIZE 64
#define GEN_SEAL_FIRST_REPEAT 65536
#define GEN_SEAL_CALL_NS 200000000ull /* as flood_live.c: calls of about 0.2 s */

struct gen_seal {
	struct bpf_object *obj;
	int prog, cfg_map, devs_map, dsts_map;
	uint8_t frame[GEN_MAX_FRAME];
	uint32_t len, msg_len;
};

static int gen_seal_obj_path(const struct gen_cfg *cfg, char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (cfg->bpf_obj) {
		snprintf(path, len, "%s", cfg->bpf_obj);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -errno;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, len, "%s/gen/gen_seal.bpf.o", exe);
	return 0;
}

static int gen_seal_load(struct gen_seal *s, const struct gen_cfg *cfg)
{
	char path[PATH_MAX + 32];
	struct bpf_program *p;
	int rc = gen_seal_obj_path(cfg, path, sizeof(path));

	if (rc)
		return rc;
	s->obj = bpf_object__open_file(path, NULL);
	if (!s->obj) {
		rc = -errno;
		fprintf(stderr, "xpro-gen: opening %s: %s (build it, or give --bpf-obj)\n", path,
			strerror(-rc));
		return rc;
	}
	rc = bpf_object__load(s->obj);
	if (rc) {
		fprintf(stderr, "xpro-gen: loading %s: %s\n", path, strerror(-rc));
		return rc;
	}
	p = bpf_object__find_program_by_name(s->obj, "gen_seal");
	s->prog = p ? bpf_program__fd(p) : -1;
	s->cfg_map = bpf_object__find_map_fd_by_name(s->obj, "gen_seal_cfg");
	s->devs_map = bpf_object__find_map_fd_by_name(s->obj, "gen_seal_devs");
	s->dsts_map = bpf_object__find_map_fd_by_name(s->obj, "gen_seal_dsts");
	if (s->prog < 0 || s->cfg_map < 0 || s->devs_map < 0 || s->dsts_map < 0) {
		fprintf(stderr, "xpro-gen: %s: program or maps missing\n", path);
		return -ENOENT;
	}
	return 0;
}

/* The template (device 0 to destination 0, sealed as the program would) and the maps. */
static int gen_seal_setup(struct gen_seal *s, struct gen_world *w, const struct gen_link *l)
{
	const struct gen_cfg *cfg = w->cfg;
	struct gen_flow f = { .id = cfg->flow_base, .dev = &w->devs[0], .dst = &w->dsts[0] };
	struct gen_seal_cfg c = { .seq_base = cfg->seq_start };
	uint32_t zero = 0;
	int n;

	c.ndevs = w->ndevs < GEN_SEAL_MAX_DEVS ? (uint32_t)w->ndevs : GEN_SEAL_MAX_DEVS;
	c.ndsts = (uint32_t)w->ndsts;
	for (uint32_t i = 0; i < c.ndevs; i++) {
		const struct gen_dev *d = &w->devs[i];
		struct xpro_sipkey k;
		struct gen_seal_dev v = { .dev_be = htonl(d->idx) };

		if (d->ver != 4) {
			fprintf(stderr, "xpro-gen: seal mode: device %u is IPv6 (IPv4 only)\n",
				d->idx);
			return -EAFNOSUPPORT;
		}
		xpro_sipkey_load(&k, d->ik);
		v.k0 = k.k0;
		v.k1 = k.k1;
		memcpy(&v.src_be, d->addr + 12, 4);
		if (bpf_map_update_elem(s->devs_map, &i, &v, BPF_ANY))
			return -errno;
	}
	for (uint32_t i = 0; i < c.ndsts; i++) {
		struct gen_seal_dst v = { .port_be = htons(w->dsts[i].port) };

		if (w->dsts[i].ver != 4) {
			fprintf(stderr, "xpro-gen: seal mode: IPv4 destinations only\n");
			return -EAFNOSUPPORT;
		}
		memcpy(&v.addr_be, w->dsts[i].addr + 12, 4);
		if (bpf_map_update_elem(s->dsts_map, &i, &v, BPF_ANY))
			return -errno;
	}
	n = gen_seal_next(s->frame + GEN_OUTER_HLEN, GEN_MAX_FRAME - GEN_OUTER_HLEN, &f, w, 0);
	if (n < 0)
		return n;
	if ((uint32_t)n > GEN_SEAL_MAX_MSG) {
		fprintf(stderr, "xpro-gen: seal mode: message of %d bytes; at most %d (--size)\n",
			n, GEN_SEAL_MAX_MSG);
		return -EMSGSIZE;
	}
	gen_frame_wrap(l, s->frame, (size_t)n, GEN_SPORT_BASE);
	memset(s->frame + GEN_OUTER_HLEN - 2, 0, 2); /* outer UDP checksum: none */
	s->msg_len = (uint32_t)n;
	s->len = GEN_OUTER_HLEN + (uint32_t)n;
	c.msg_len = s->msg_len;
	if (bpf_map_update_elem(s->cfg_map, &zero, &c, BPF_ANY))
		return -errno;
	return 0;
}

/* Seal one frame without sending it and check it as the proxy would. */
static int gen_seal_selfcheck(struct gen_seal *s, const struct gen_world *w)
{
	uint8_t out[GEN_MAX_FRAME], *msg = out + GEN_OUTER_HLEN, *ip = msg + GEN_SEAL_OFF_INNER;
	const struct gen_dev *d = &w->devs[0];
	uint64_t tag, seq;
	uint32_t dev, sum = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = s->frame, .data_size_in = s->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(s->prog, &o))
		return -errno;
	memcpy(&dev, msg + GEN_SEAL_OFF_DEV, 4);
	memcpy(&seq, msg + GEN_SEAL_OFF_SEQ, 8);
	memcpy(&tag, msg + s->msg_len - XPRO_TUN_TAG_LEN, 8);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	if (o.retval != XDP_TX || o.data_size_out != s->len || ntohl(dev) != d->idx ||
	    be64toh(seq) < w->cfg->seq_start || sum != 0xffff ||
	    le64toh(tag) != xpro_siphash_b(d->ik, msg, s->msg_len - XPRO_TUN_TAG_LEN)) {
		fprintf(stderr,
			"xpro-gen: seal self-check failed: verdict %u, len %u, device %u, "
			"inner checksum sum %#x, tag %s\n",
			o.retval, o.data_size_out, ntohl(dev), sum,
			le64toh(tag) == xpro_siphash_b(d->ik, msg, s->msg_len - XPRO_TUN_TAG_LEN)
				? "ok"
				: "BAD");
		return -EPROTO;
	}
	return 0;
}

int gen_flood_seal(struct gen_world *w, struct gen_result *r)
{
	const struct gen_cfg *cfg = w->cfg;
	struct gen_seal *s = calloc(1, sizeof(*s));
	struct xdp_md ctx = { 0 };
	uint64_t next_rep = GEN_SEAL_FIRST_REPEAT;
	struct gen_link l;
	int64_t tx0;
	int rc;

	if (!s)
		return -ENOMEM;
	rc = gen_link_init(&l, w, cfg->ifname, cfg->dst_mac);
	if (!rc && cfg->src_mac && gen_parse_mac(cfg->src_mac, l.src_mac)) {
		fprintf(stderr, "xpro-gen: --src-mac: bad MAC '%s'\n", cfg->src_mac);
		rc = -EINVAL;
	}
	if (!rc)
		rc = gen_seal_load(s, cfg);
	if (!rc)
		rc = gen_seal_setup(s, w, &l);
	if (!rc)
		rc = gen_seal_selfcheck(s, w);
	if (rc)
		goto out;
	ctx.ingress_ifindex = (uint32_t)l.ifindex;
	ctx.data_end = s->len;
	tx0 = gen_if_tx_packets(cfg->ifname);
	r->start_ns = gen_now_ns();
	while (gen_keep_going(cfg, r, gen_now_ns())) {
		uint64_t rep = next_rep < cfg->repeat ? next_rep : cfg->repeat, t0 = gen_now_ns(),
			 dt;
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = s->frame, .data_size_in = s->len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = GEN_SEAL_BATCH_SIZE);

		if (cfg->count && cfg->count - r->sent < rep)
			rep = cfg->count - r->sent;
		o.repeat = (int)rep;
		if (bpf_prog_test_run_opts(s->prog, &o)) {
			rc = -errno;
			fprintf(stderr, "xpro-gen: BPF_PROG_RUN live frames on %s: %s\n",
				cfg->ifname, strerror(-rc));
			break;
		}
		r->sent += rep;
		r->bytes += rep * s->len;
		dt = gen_now_ns() - t0;
		next_rep = dt ? (uint64_t)((double)rep * GEN_SEAL_CALL_NS / (double)dt) : rep * 2;
		if (next_rep < GEN_SEAL_FIRST_REPEAT)
			next_rep = GEN_SEAL_FIRST_REPEAT;
	}
	r->end_ns = gen_now_ns();
	r->if_tx_delta = tx0 >= 0 ? gen_if_tx_packets(cfg->ifname) - tx0 : -1;
	/* The rotation stands in for flows: report devices as flows, each sent ~equally. */
	w->nflows = 0;
	r->flow_sent_min = r->flow_sent_max = 0;
out:
	bpf_object__close(s->obj);
	free(s);
	return rc;
}
