/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bad mode: tunnel messages that the proxy must refuse, one defect each, in
 * the order of the checks of docs/protocol.md.  Header defects are re-tagged
 * so that only the defect is wrong; forged inner packets carry a valid tag,
 * as from a device that holds its key.  --kind picks one, "all" cycles.
 * Valid messages sent along (a flow's first, a replay's original) are counted apart.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "udp_tx.h"

#define GEN_UNKNOWN_DEV 4000000000u /* test provisioning files stay below this index */

struct gen_bad;
typedef int (*gen_bad_fn)(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf);

struct gen_bad_kind {
	const char *name;
	const char *help;
	gen_bad_fn fn; /* returns the length to send, or -errno */
};

struct gen_bad {
	const struct gen_bad_kind *kinds[GEN_MAX_KINDS];
	unsigned slot[GEN_MAX_KINDS]; /* index into gen_result.kind_sent */
	unsigned nkinds;
	uint64_t trunc_i; /* which truncation length comes next */
	uint8_t first[GEN_MAX_FRAME]; /* replay: the first valid message sent, */
	size_t first_len; /*   which falls below the replay window later */
	uint64_t replays;
};

static int gen_bad_valid(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_seal_next(buf, GEN_MAX_FRAME, f, w, gen_now_ns());
}

/* A valid message, cut at one of the boundaries in turn. */
static int gen_bad_truncated(struct gen_bad *b, struct gen_world *w, struct gen_flow *f,
			     uint8_t *buf)
{
	int len = gen_bad_valid(b, w, f, buf);
	size_t cuts[] = { 0,
			  1,
			  XPRO_TUN_HDR_LEN - 1,
			  XPRO_TUN_HDR_LEN,
			  XPRO_TUN_HDR_LEN + XPRO_TUN_TAG_LEN - 1,
			  XPRO_TUN_HDR_LEN + 19,
			  XPRO_TUN_HDR_LEN + 20,
			  XPRO_TUN_MIN_MSG - 1,
			  0 };

	if (len < 0)
		return len;
	cuts[ARRAY_SIZE(cuts) - 1] = (size_t)len - 1; /* all but the tag's last byte */
	return (int)cuts[b->trunc_i++ % ARRAY_SIZE(cuts)];
}

static int gen_bad_header(struct gen_world *w, struct gen_flow *f, uint8_t *buf,
			  void (*edit)(struct xpro_tun_hdr *))
{
	int len = gen_bad_valid(NULL, w, f, buf);

	if (len < 0)
		return len;
	edit((struct xpro_tun_hdr *)buf);
	gen_retag(buf, (size_t)len, f->dev->ik);
	return len;
}

static void gen_edit_version(struct xpro_tun_hdr *h)
{
	h->ver_type = (XPRO_TUN_VERSION + 1) << 4 | XPRO_MSG_DATA;
}

static void gen_edit_type(struct xpro_tun_hdr *h)
{
	h->ver_type = XPRO_TUN_VERSION << 4 | (XPRO_MSG_MAX + 1);
}

static void gen_edit_flags(struct xpro_tun_hdr *h)
{
	h->flags = 0x80;
}

static void gen_edit_reserved(struct xpro_tun_hdr *h)
{
	h->reserved = htons(1);
}

static int gen_bad_version(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_bad_header(w, f, buf, gen_edit_version);
}

static int gen_bad_type(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_bad_header(w, f, buf, gen_edit_type);
}

static int gen_bad_flags(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_bad_header(w, f, buf, gen_edit_flags);
}

static int gen_bad_reserved(struct gen_bad *b, struct gen_world *w, struct gen_flow *f,
			    uint8_t *buf)
{
	(void)b;
	return gen_bad_header(w, f, buf, gen_edit_reserved);
}

/* Sealed as device GEN_UNKNOWN_DEV + k under the flow's device key. */
static int gen_bad_unknown(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	int n = gen_inner_build(buf + XPRO_TUN_HDR_LEN, GEN_MAX_FRAME - XPRO_TUN_OVERHEAD, f,
				f->seq++, w->cfg->size, gen_now_ns(), GEN_INNER_OK);

	(void)b;
	if (n < 0)
		return n;
	return tun_seal(buf, GEN_MAX_FRAME, f->dev->ik, XPRO_MSG_DATA, w->epoch,
			GEN_UNKNOWN_DEV + (uint32_t)(f->id % 1000), f->dev->seq++,
			buf + XPRO_TUN_HDR_LEN, (size_t)n);
}

/* A valid message from a device provisioned inactive. */
static int gen_bad_inactive(struct gen_bad *b, struct gen_world *w, struct gen_flow *f,
			    uint8_t *buf)
{
	struct gen_flow g = *f;
	int len;

	(void)b;
	g.dev = w->inactive;
	len = gen_seal_next(buf, GEN_MAX_FRAME, &g, w, gen_now_ns());
	f->seq = g.seq;
	return len;
}

/*
 * Sealed under GEN_STALE_EPOCH with that epoch's key: older than the current
 * epoch, which the flow's first (valid) message set, and than any previous one.
 */
static int gen_bad_epoch(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	int n = gen_inner_build(buf + XPRO_TUN_HDR_LEN, GEN_MAX_FRAME - XPRO_TUN_OVERHEAD, f,
				f->seq++, w->cfg->size, gen_now_ns(), GEN_INNER_OK);

	(void)b;
	if (n < 0)
		return n;
	return tun_seal(buf, GEN_MAX_FRAME, f->dev->ik_stale, XPRO_MSG_DATA, GEN_STALE_EPOCH,
			f->dev->idx, f->dev->seq++, buf + XPRO_TUN_HDR_LEN, (size_t)n);
}

static int gen_bad_mac(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	int len = gen_bad_valid(b, w, f, buf);

	if (len > 0)
		buf[len - 1 - (int)(f->dev->seq % XPRO_TUN_TAG_LEN)] ^= 0x01;
	return len;
}

/*
 * A copy of a message sent before: alternately the message just sent (a
 * duplicate inside the window) and the run's first one (soon below it).  The
 * originals are valid and counted as such.
 */
static int gen_bad_replay(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)w;
	(void)f;
	if (b->first_len && b->replays++ % 2) {
		memcpy(buf, b->first, b->first_len);
		return (int)b->first_len;
	}
	return -EAGAIN; /* the caller sends a valid original first, then its copy */
}

static int gen_bad_inner(struct gen_world *w, struct gen_flow *f, uint8_t *buf,
			 enum gen_inner_kind kind)
{
	int n = gen_inner_build(buf + XPRO_TUN_HDR_LEN, GEN_MAX_FRAME - XPRO_TUN_OVERHEAD, f,
				f->seq++, w->cfg->size, gen_now_ns(), kind);

	if (n < 0)
		return n;
	return tun_seal(buf, GEN_MAX_FRAME, f->dev->ik, XPRO_MSG_DATA, w->epoch, f->dev->idx,
			f->dev->seq++, buf + XPRO_TUN_HDR_LEN, (size_t)n);
}

static int gen_bad_spoof(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_bad_inner(w, f, buf, GEN_INNER_SPOOF);
}

static int gen_bad_options(struct gen_bad *b, struct gen_world *w, struct gen_flow *f, uint8_t *buf)
{
	(void)b;
	return gen_bad_inner(w, f, buf, GEN_INNER_OPTIONS);
}

static int gen_bad_fragment(struct gen_bad *b, struct gen_world *w, struct gen_flow *f,
			    uint8_t *buf)
{
	(void)b;
	return gen_bad_inner(w, f, buf, GEN_INNER_FRAGMENT);
}

static int gen_bad_innerlen(struct gen_bad *b, struct gen_world *w, struct gen_flow *f,
			    uint8_t *buf)
{
	(void)b;
	return gen_bad_inner(w, f, buf, GEN_INNER_BADLEN);
}

static const struct gen_bad_kind gen_bad_kinds[] = {
	{ "truncated", "cut at each header boundary in turn", gen_bad_truncated },
	{ "version", "version 2 (re-tagged)", gen_bad_version },
	{ "type", "unknown message type (re-tagged)", gen_bad_type },
	{ "flags", "unknown flag (re-tagged)", gen_bad_flags },
	{ "reserved", "reserved field not zero (re-tagged)", gen_bad_reserved },
	{ "unknown-dev", "device index not provisioned (4000000000+)", gen_bad_unknown },
	{ "inactive-dev", "device provisioned inactive", gen_bad_inactive },
	{ "wrong-epoch", "valid tag under a stale epoch (1)", gen_bad_epoch },
	{ "bad-mac", "one tag bit flipped", gen_bad_mac },
	{ "replayed", "a message sent before, again", gen_bad_replay },
	{ "spoofed", "inner source outside the device's prefix", gen_bad_spoof },
	{ "ip-options", "inner IPv4 header with options", gen_bad_options },
	{ "fragment", "inner fragment (IPv4 MF, IPv6 fragment header)", gen_bad_fragment },
	{ "inner-len", "inner IP length one more than the payload", gen_bad_innerlen },
};
_Static_assert(ARRAY_SIZE(gen_bad_kinds) < GEN_MAX_KINDS, "room for 'valid' in the result");

void gen_bad_list(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(gen_bad_kinds); i++)
		fprintf(out, "    %-13s %s\n", gen_bad_kinds[i].name, gen_bad_kinds[i].help);
}

static int gen_bad_select(struct gen_bad *b, const struct gen_world *w, struct gen_result *r)
{
	const char *k = w->cfg->kind;
	bool all = !strcmp(k, "all");

	for (size_t i = 0; i < ARRAY_SIZE(gen_bad_kinds); i++) {
		const struct gen_bad_kind *bk = &gen_bad_kinds[i];

		if (!all && strcmp(k, bk->name))
			continue;
		if (bk->fn == gen_bad_inactive && !w->inactive) {
			if (all)
				continue;
			fprintf(stderr,
				"xpro-gen: --kind inactive-dev: no inactive device selected\n");
			return -ENOENT;
		}
		b->kinds[b->nkinds] = bk;
		b->slot[b->nkinds++] = r->nkinds;
		r->kind_name[r->nkinds++] = bk->name;
	}
	if (!b->nkinds) {
		fprintf(stderr, "xpro-gen: --kind: unknown kind '%s' (--help lists them)\n", k);
		return -EINVAL;
	}
	return 0;
}

/*
 * Event n: kind n % K from flow n % F.  A flow's first event also sends a
 * valid message, so that its device has a current epoch and the epoch check
 * has something to refuse; a replay first sends its valid original.
 */
static int gen_bad_event(void *ctx, struct gen_world *w, struct gen_udp *u, struct gen_result *r,
			 uint64_t n, uint64_t now)
{
	struct gen_bad *b = ctx;
	struct gen_flow *f = &w->flows[n % w->nflows];
	unsigned k = (unsigned)(n % b->nkinds), s = f->id % u->nsock;
	uint8_t *buf = gen_udp_slot(u, s, r), *copy;
	int len;

	(void)now;
	if (!f->sent++) {
		int v = gen_bad_valid(b, w, f, buf);

		if (v < 0)
			return v;
		gen_udp_commit(u, s, (size_t)v);
		r->valid++;
		buf = gen_udp_slot(u, s, r);
	}
	len = b->kinds[k]->fn(b, w, f, buf);
	if (len == -EAGAIN) {
		len = gen_bad_valid(b, w, f, buf);
		if (len < 0)
			return len;
		if (!b->first_len) {
			memcpy(b->first, buf, (size_t)len);
			b->first_len = (size_t)len;
		}
		gen_udp_commit(u, s, (size_t)len);
		r->valid++;
		/* A flush inside gen_udp_slot() sends buf but leaves its bytes in place. */
		copy = gen_udp_slot(u, s, r);
		memcpy(copy, buf, (size_t)len);
	}
	if (len < 0)
		return len;
	gen_udp_commit(u, s, (size_t)len);
	r->kind_sent[b->slot[k]]++;
	return 0;
}

int gen_bad(struct gen_world *w, struct gen_result *r)
{
	static struct gen_bad b; /* holds a frame: not on the stack */
	int rc;

	memset(&b, 0, sizeof(b));
	rc = gen_bad_select(&b, w, r);
	if (rc)
		return rc;
	return gen_sched_run(w, r, (double)w->cfg->rate, gen_bad_event, &b);
}
