/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The destination round's exchange (dst.h).  Per bucket touched, in one
 * pipeline over every bucket:
 *
 *   HSETNX xpro:b:{k} m <candidate>          the bucket's marker, if new
 *   HMGET  xpro:b:{k} m <dst><peer> ... "h"<dev> ...
 *   HSET   xpro:b:{k} <dst><me> <entry> ... "h"<dev> <record> ...
 *   FCALL  xpro_sweep 1 xpro:b:{k} <cursor> <now> <ttl>     when due
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sync/dst.h"
#include "sync/keys.h"

struct bucket_state {
	uint64_t mark; /* the marker last seen; 0: none yet */
	uint64_t sweep_at; /* us, shared clock: next sweep pass starts */
	uint64_t cursor; /* of the pass under way; 0: none */
	uint64_t written; /* us, shared clock: our last write here; 0: never */
};

struct sync_dst {
	uint32_t me;
	unsigned rr; /* round-robin sweep of buckets nobody touches */
	uint64_t swept;
	struct bucket_state b[SYNC_BUCKETS];
};

static uint32_t fnv1a(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t sync_proxy_num(const char *id)
{
	uint32_t h = fnv1a(id, strlen(id));

	return h ? h : 1;
}

unsigned sync_dst_bucket(const uint8_t dst[16])
{
	return fnv1a(dst, 16) % SYNC_BUCKETS;
}

unsigned sync_dev_bucket(uint32_t dev)
{
	uint8_t b[4] = { (uint8_t)(dev >> 24), (uint8_t)(dev >> 16), (uint8_t)(dev >> 8),
			 (uint8_t)dev };

	return fnv1a(b, 4) % SYNC_BUCKETS;
}

struct sync_dst *sync_dst_new(const char *proxy_id)
{
	struct sync_dst *d = calloc(1, sizeof(*d));

	if (d)
		d->me = sync_proxy_num(proxy_id);
	return d;
}

void sync_dst_free(struct sync_dst *d)
{
	free(d);
}

void sync_dst_forget(struct sync_dst *d)
{
	for (unsigned k = 0; k < SYNC_BUCKETS; k++)
		d->b[k].mark = 0;
}

/* --- argument arena -------------------------------------------------------- */

/*
 * Every argument of the pipeline in one allocation: sized exactly before
 * anything is written, so the pointers into it never move.
 */
struct arena {
	char *buf;
	size_t len, cap;
	const char **argv;
	size_t *lens;
	size_t nargs, cap_args;
};

static char *arg(struct arena *a, size_t len)
{
	char *p = a->buf + a->len;

	a->argv[a->nargs] = p;
	a->lens[a->nargs++] = len;
	a->len += len;
	return p;
}

static void arg_str(struct arena *a, const char *s)
{
	memcpy(arg(a, strlen(s)), s, strlen(s));
}

static void arg_u64(struct arena *a, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);

	memcpy(arg(a, (size_t)n), tmp, (size_t)n);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void arg_entry_field(struct arena *a, const uint8_t dst[16], uint32_t pid)
{
	uint8_t *p = (uint8_t *)arg(a, SYNC_ENTRY_FIELD_LEN);

	memcpy(p, dst, 16);
	put_be32(p + 16, pid);
}

static void arg_handoff_field(struct arena *a, uint32_t dev)
{
	uint8_t *p = (uint8_t *)arg(a, SYNC_HANDOFF_FIELD_LEN);

	p[0] = 'h';
	put_be32(p + 1, dev);
}

/* Values the store would refuse to read back exactly are clamped. */
static uint64_t wire(uint64_t v)
{
	return v > SYNC_WIRE_MAX ? SYNC_WIRE_MAX : v;
}

static void arg_entry(struct arena *a, const struct sync_dst_mine *m, uint64_t now)
{
	size_t n = m->has_share ? SYNC_ENTRY_SHARE_N : SYNC_ENTRY_N;
	uint8_t *p = (uint8_t *)arg(a, 8 * n);
	uint64_t v[SYNC_ENTRY_SHARE_N] = { now, m->c, m->ts1, m->ts2, m->rate };

	if (m->has_share) {
		v[5] = m->sh.senders;
		v[6] = m->sh.heavy;
		v[7] = m->sh.demand;
		v[8] = m->sh.admitted;
		v[9] = m->sh.share == XF_SHARE_NONE ? 0 : m->sh.share;
	}
	for (size_t i = 0; i < n; i++)
		sync_put_f64(p + 8 * i, wire(v[i]));
}

/* --- the call -------------------------------------------------------------- */

/* Items sorted by bucket: start[k] .. start[k + 1] in ord. */
struct by_bucket {
	size_t start[SYNC_BUCKETS + 1];
	size_t *ord;
};

static int sort_buckets(struct by_bucket *bb, size_t n, const unsigned *bucket)
{
	size_t fill[SYNC_BUCKETS];

	bb->ord = malloc((n ? n : 1) * sizeof(*bb->ord));
	if (!bb->ord)
		return -ENOMEM;
	memset(bb->start, 0, sizeof(bb->start));
	for (size_t i = 0; i < n; i++)
		bb->start[bucket[i] + 1]++;
	for (unsigned k = 0; k < SYNC_BUCKETS; k++)
		bb->start[k + 1] += bb->start[k];
	memcpy(fill, bb->start, sizeof(fill));
	for (size_t i = 0; i < n; i++)
		bb->ord[fill[bucket[i]]++] = i;
	return 0;
}

static size_t in_bucket(const struct by_bucket *bb, unsigned k)
{
	return bb->start[k + 1] - bb->start[k];
}

/* What one bucket's commands are, to parse their replies. */
struct bucket_cmds {
	unsigned k;
	bool live; /* entries of ours may have been live there before this call */
	int setnx, hset, hmget, sweep; /* indices into cmds, -1: none */
};

static uint64_t parse_mark(const redisReply *r)
{
	uint64_t v = 0;

	if (!r || r->type != REDIS_REPLY_STRING || r->len != SYNC_MARK_LEN)
		return 0;
	for (int i = 0; i < SYNC_MARK_LEN; i++) {
		char ch = r->str[i];
		unsigned x = ch >= '0' && ch <= '9'   ? (unsigned)(ch - '0')
			     : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
						      : 16;

		if (x > 15)
			return 0;
		v = v << 4 | x;
	}
	return v;
}

/* Doubles v[0..n) of a value, or false when it is not in our layout. */
static bool get_vals(const redisReply *r, size_t n, uint64_t *v)
{
	if (!r || r->type != REDIS_REPLY_STRING || (size_t)r->len < 8 * n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sync_get_f64((const uint8_t *)r->str + 8 * i, &v[i]))
			return false;
	return true;
}

static void sum_entry(const struct sync_dst_req *q, const redisReply *r, struct sync_dst_sum *o)
{
	uint64_t v[SYNC_ENTRY_SHARE_N];
	bool share;

	if (!r || r->type != REDIS_REPLY_STRING)
		return;
	share = (size_t)r->len == 8 * SYNC_ENTRY_SHARE_N;
	if ((!share && (size_t)r->len != 8 * SYNC_ENTRY_N) ||
	    !get_vals(r, share ? SYNC_ENTRY_SHARE_N : SYNC_ENTRY_N, v))
		return;
	/* v: wts c ts1 ts2 rate [senders heavy demand admitted share] */
	if (v[0] + q->ttl_us < q->now_us)
		return; /* dead: its writer stopped; the sweep will delete it */
	if (v[3] + q->tt1_us >= q->now_us && v[2] <= v[3]) {
		o->c += v[1];
		if (!o->proxies || v[2] < o->ts1)
			o->ts1 = v[2];
		if (v[3] > o->ts2)
			o->ts2 = v[3];
		o->proxies++;
	}
	if (v[0] + q->fresh_us < q->now_us)
		return; /* its rate and summary are too old to extrapolate from */
	o->rate += v[4];
	if (!share)
		return;
	o->share_proxies++;
	o->sh.senders += (uint32_t)v[5];
	o->sh.heavy += (uint32_t)v[6];
	o->sh.demand += v[7];
	o->sh.admitted += v[8];
	if (v[9] && (o->sh.share == XF_SHARE_NONE || v[9] < o->sh.share))
		o->sh.share = v[9];
}

static void read_handoff(struct sync_dst *d, struct sync_dst_req *q, uint32_t dev,
			 const redisReply *r)
{
	uint64_t h[3], pv[3];
	const uint8_t *p;

	if (!get_vals(r, 3, h) || h[0] + q->ttl_us < q->now_us || h[1] == d->me ||
	    h[2] > SYNC_HANDOFF_MAX ||
	    (size_t)r->len != SYNC_HANDOFF_HDR_LEN + h[2] * SYNC_HANDOFF_PAIR_LEN)
		return;
	p = (const uint8_t *)r->str + SYNC_HANDOFF_HDR_LEN;
	for (uint64_t i = 0; i < h[2] && q->nhro < q->hro_cap; i++, p += SYNC_HANDOFF_PAIR_LEN) {
		struct sync_handoff_pair *o = &q->hro[q->nhro];
		int bad = 0;

		for (int j = 0; j < 3; j++)
			bad |= sync_get_f64(p + 16 + 8 * j, &pv[j]);
		if (bad || pv[1] > pv[2])
			continue;
		o->dev = dev;
		memcpy(o->dst, p, 16);
		o->c = pv[0];
		o->ts1 = pv[1];
		o->ts2 = pv[2];
		q->nhro++;
	}
}

/*
 * Entries of ours that may still be live sit in this bucket: its marker is
 * read every round, touched or not, so that a store that lost them (an
 * empty restart, a failover that lost writes) is noticed within one round.
 */
static bool live_here(const struct sync_dst_req *q, const struct bucket_state *b)
{
	return b->written && b->written + q->ttl_us >= q->now_us;
}

/*
 * One record per device: its run in q->hw is [run[i], end[i]), at most
 * SYNC_HANDOFF_MAX pairs (the first ones: the caller sorts the heaviest
 * first); the rest of a longer run is not published.
 */
static size_t handoff_runs(const struct sync_dst_req *q, size_t *run, size_t *end)
{
	size_t nr = 0;

	for (size_t i = 0; i < q->nhw; i++) {
		if (i && q->hw[i].dev == q->hw[i - 1].dev)
			continue;
		run[nr] = i;
		end[nr] = i;
		while (end[nr] < q->nhw && q->hw[end[nr]].dev == q->hw[i].dev &&
		       end[nr] - i < SYNC_HANDOFF_MAX)
			end[nr]++;
		nr++;
	}
	return nr;
}

int sync_dst_exchange(struct sync_dst *d, struct sync_store *s, struct sync_dst_req *q,
		      struct sync_dst_stats *st)
{
	unsigned *bm = NULL, *bw = NULL, *br = NULL;
	struct by_bucket om = { .ord = NULL }, ow = { .ord = NULL }, orr = { .ord = NULL };
	struct bucket_cmds *bc = NULL;
	struct sync_cmd *cmds = NULL;
	struct arena a = { 0 };
	size_t *run = NULL, *end = NULL, nrun, nb = 0, nc = 0;
	char cand[SYNC_MARK_LEN + 1];
	uint8_t rnd[SYNC_MARK_LEN / 2];
	unsigned extra;
	int rc = -ENOMEM;

	st->buckets = st->commands = st->failed_buckets = st->stale_buckets = 0;
	q->nhro = 0;
	for (size_t i = 0; i < q->n; i++)
		q->out[i] = (struct sync_dst_sum){ .sh.share = XF_SHARE_NONE };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(cand + 2 * i, 3, "%02x", rnd[i]);
	/* Never the "none" marker 0. */
	cand[0] = cand[0] == '0' ? '1' : cand[0];

	run = malloc((q->nhw + 1) * sizeof(*run));
	end = malloc((q->nhw + 1) * sizeof(*end));
	bm = malloc((q->n ? q->n : 1) * sizeof(*bm));
	bw = malloc((q->nhw + 1) * sizeof(*bw));
	br = malloc((q->nhr ? q->nhr : 1) * sizeof(*br));
	if (!run || !end || !bm || !bw || !br)
		goto out;
	nrun = handoff_runs(q, run, end);
	for (size_t i = 0; i < q->n; i++)
		bm[i] = sync_dst_bucket(q->mine[i].dst);
	for (size_t i = 0; i < nrun; i++)
		bw[i] = sync_dev_bucket(q->hw[run[i]].dev);
	for (size_t i = 0; i < q->nhr; i++)
		br[i] = sync_dev_bucket(q->hr[i]);
	if (sort_buckets(&om, q->n, bm) || sort_buckets(&ow, nrun, bw) ||
	    sort_buckets(&orr, q->nhr, br))
		goto out;

	/* Size everything first. */
	extra = d->rr;
	for (unsigned k = 0; k < SYNC_BUCKETS; k++) {
		size_t m = in_bucket(&om, k), w = in_bucket(&ow, k), r = in_bucket(&orr, k);
		bool due = d->b[k].cursor || q->now_us >= d->b[k].sweep_at;

		if (!m && !w && !r && !(k == extra && due) && !live_here(q, &d->b[k]))
			continue;
		nb++;
		a.cap_args += 4 + 2 + 2 * (m + w) + 3 + m * q->npeers + r + 7;
		a.cap += 4 * 32 + m * (SYNC_ENTRY_FIELD_LEN + 8 * SYNC_ENTRY_SHARE_N) +
			 m * q->npeers * SYNC_ENTRY_FIELD_LEN + r * SYNC_HANDOFF_FIELD_LEN +
			 w * (SYNC_HANDOFF_FIELD_LEN + SYNC_HANDOFF_HDR_LEN) + 3 * 24 +
			 SYNC_MARK_LEN + 64;
	}
	a.cap += q->nhw * SYNC_HANDOFF_PAIR_LEN;
	a.buf = malloc(a.cap ? a.cap : 1);
	a.argv = malloc((a.cap_args ? a.cap_args : 1) * sizeof(*a.argv));
	a.lens = malloc((a.cap_args ? a.cap_args : 1) * sizeof(*a.lens));
	cmds = calloc(4 * nb + 1, sizeof(*cmds));
	bc = calloc(nb + 1, sizeof(*bc));
	if (!a.buf || !a.argv || !a.lens || !cmds || !bc)
		goto out;

	nb = 0;
	for (unsigned k = 0; k < SYNC_BUCKETS; k++) {
		size_t m = in_bucket(&om, k), w = in_bucket(&ow, k), r = in_bucket(&orr, k);
		bool due = d->b[k].cursor || q->now_us >= d->b[k].sweep_at;
		struct bucket_cmds *b = &bc[nb];
		char key[32];
		size_t a0;

		if (!m && !w && !r && !(k == extra && due) && !live_here(q, &d->b[k]))
			continue;
		nb++;
		snprintf(key, sizeof(key), SYNC_KEY_BUCKET "{%u}", k);
		*b = (struct bucket_cmds){ k, live_here(q, &d->b[k]), -1, -1, -1, -1 };
#define CMD_BEGIN(which)            \
	do {                        \
		b->which = (int)nc; \
		a0 = a.nargs;       \
	} while (0)
#define CMD_END()                                                          \
	do {                                                               \
		cmds[nc] = (struct sync_cmd){ .argc = (int)(a.nargs - a0), \
					      .argv = a.argv + a0,         \
					      .lens = a.lens + a0,         \
					      .key_arg = 1 };              \
		nc++;                                                      \
	} while (0)
		if (!d->b[k].mark || m || w) {
			CMD_BEGIN(setnx);
			arg_str(&a, "HSETNX");
			arg_str(&a, key);
			arg_str(&a, SYNC_FIELD_MARK);
			arg_str(&a, cand);
			CMD_END();
		}
		/* Read before writing: a device's record may be ours to replace. */
		CMD_BEGIN(hmget);
		arg_str(&a, "HMGET");
		arg_str(&a, key);
		arg_str(&a, SYNC_FIELD_MARK);
		for (size_t j = om.start[k]; j < om.start[k + 1]; j++)
			for (size_t p = 0; p < q->npeers; p++)
				arg_entry_field(&a, q->mine[om.ord[j]].dst, q->peers[p]);
		for (size_t j = orr.start[k]; j < orr.start[k + 1]; j++)
			arg_handoff_field(&a, q->hr[orr.ord[j]]);
		CMD_END();
		if (m || w) {
			d->b[k].written = q->now_us;
			CMD_BEGIN(hset);
			arg_str(&a, "HSET");
			arg_str(&a, key);
			for (size_t j = om.start[k]; j < om.start[k + 1]; j++) {
				const struct sync_dst_mine *e = &q->mine[om.ord[j]];

				arg_entry_field(&a, e->dst, d->me);
				arg_entry(&a, e, q->now_us);
			}
			for (size_t j = ow.start[k]; j < ow.start[k + 1]; j++) {
				size_t lo = run[ow.ord[j]], hi = end[ow.ord[j]];
				uint8_t *p;

				arg_handoff_field(&a, q->hw[lo].dev);
				p = (uint8_t *)arg(&a, SYNC_HANDOFF_HDR_LEN +
							       (hi - lo) * SYNC_HANDOFF_PAIR_LEN);
				sync_put_f64(p, wire(q->now_us));
				sync_put_f64(p + 8, d->me);
				sync_put_f64(p + 16, hi - lo);
				p += SYNC_HANDOFF_HDR_LEN;
				for (size_t i = lo; i < hi; i++, p += SYNC_HANDOFF_PAIR_LEN) {
					memcpy(p, q->hw[i].dst, 16);
					sync_put_f64(p + 16, wire(q->hw[i].c));
					sync_put_f64(p + 24, wire(q->hw[i].ts1));
					sync_put_f64(p + 32, wire(q->hw[i].ts2));
				}
			}
			CMD_END();
		}
		if (due) {
			CMD_BEGIN(sweep);
			arg_str(&a, "FCALL");
			arg_str(&a, "xpro_sweep");
			arg_str(&a, "1");
			arg_str(&a, key);
			arg_u64(&a, d->b[k].cursor);
			arg_u64(&a, q->now_us);
			arg_u64(&a, q->ttl_us);
			CMD_END();
			cmds[nc - 1].key_arg = 3;
		}
#undef CMD_BEGIN
#undef CMD_END
	}
	d->rr = (d->rr + 1) % SYNC_BUCKETS;
	st->buckets = nb;
	st->commands = nc;
	st->bytes_sent = a.len;

	rc = sync_store_pipe(s, cmds, nc);

	for (size_t i = 0; i < nb; i++) {
		struct bucket_cmds *b = &bc[i];
		struct bucket_state *bs = &d->b[b->k];
		const redisReply *hm = cmds[b->hmget].reply;
		bool failed = (b->setnx >= 0 && cmds[b->setnx].rc) ||
			      (b->hset >= 0 && cmds[b->hset].rc) || cmds[b->hmget].rc;
		uint64_t mark;
		size_t f = 1;

		if (b->sweep >= 0) {
			const redisReply *sw = cmds[b->sweep].reply;

			if (sw && sw->type == REDIS_REPLY_ARRAY && sw->elements == 2 &&
			    sw->element[0]->type == REDIS_REPLY_STRING &&
			    sw->element[1]->type == REDIS_REPLY_INTEGER) {
				bs->cursor = strtoull(sw->element[0]->str, NULL, 10);
				d->swept += (uint64_t)sw->element[1]->integer;
				if (!bs->cursor)
					bs->sweep_at = q->now_us + q->ttl_us;
			}
		}
		if (!failed &&
		    (!hm || hm->type != REDIS_REPLY_ARRAY ||
		     hm->elements != 1 + in_bucket(&om, b->k) * q->npeers + in_bucket(&orr, b->k)))
			failed = true;
		for (int c = 0; c < 2 && !failed; c++) {
			int ix = c ? b->hset : b->setnx;

			if (ix >= 0 && cmds[ix].reply->type == REDIS_REPLY_ERROR)
				failed = true;
		}
		if (failed) {
			st->failed_buckets++;
			if (!rc)
				rc = -EPROTO;
			continue;
		}
		mark = parse_mark(hm->element[0]);
		if (mark != bs->mark) {
			/*
			 * The bucket lost what we wrote to it.  Not news on first
			 * contact, nor where everything of ours there was dead anyway.
			 */
			st->stale_buckets += bs->mark != 0 && b->live;
			bs->mark = mark;
		}
		for (size_t j = om.start[b->k]; j < om.start[b->k + 1]; j++) {
			struct sync_dst_sum *o = &q->out[om.ord[j]];

			o->ok = true;
			for (size_t p = 0; p < q->npeers; p++)
				sum_entry(q, hm->element[f++], o);
		}
		for (size_t j = orr.start[b->k]; j < orr.start[b->k + 1]; j++)
			read_handoff(d, q, q->hr[orr.ord[j]], hm->element[f++]);
	}
	st->swept = d->swept;
out:
	if (cmds)
		sync_cmds_free(cmds, nc);
	free(cmds);
	free(bc);
	free(a.buf);
	free(a.argv);
	free(a.lens);
	free(om.ord);
	free(ow.ord);
	free(orr.ord);
	free(run);
	free(end);
	free(bm);
	free(bw);
	free(br);
	return rc;
}
