/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A deliberately naive second implementation of the merge as docs/sync.md
 * states it (plain arrays, linear search, 64-bit integers), including the
 * per-proxy batch sequence, to hold the Lua script to the text.
 *
 * Static functions in a header for the reason given in redis_fixture.h.
 */
#ifndef XPRO_TEST_MERGE_MODEL_H
#define XPRO_TEST_MERGE_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sync/keys.h"
#include "sync/merge.h"

#define MM_MAXREC 4096
#define MM_MAXPROXY 8
#define MM_UNUSED __attribute__((unused))

struct mm_win {
	uint64_t c, t1, t2, total; /* t1, t2 in wire units (us) */
};

struct mm_pair {
	bool live;
	struct xf_key key;
	struct mm_win w;
};

struct mm_dst {
	bool live;
	uint8_t addr[16];
	struct mm_win w;
};

struct mm_proxy {
	bool live;
	char id[SYNC_PROXY_ID_MAX + 1];
	uint64_t seq, total;
};

struct mm {
	struct mm_pair pair[MM_MAXREC];
	struct mm_dst dst[MM_MAXREC];
	struct mm_proxy proxy[MM_MAXPROXY];
};

static MM_UNUSED struct mm_pair *mm_pair(struct mm *m, const struct xf_key *k)
{
	struct mm_pair *free_slot = NULL;

	for (int i = 0; i < MM_MAXREC; i++) {
		struct mm_pair *p = &m->pair[i];

		if (p->live && p->key.dev == k->dev && !memcmp(p->key.dst, k->dst, 16))
			return p;
		if (!p->live && !free_slot)
			free_slot = p;
	}
	return free_slot; /* not live: the caller creates it */
}

static MM_UNUSED struct mm_dst *mm_dst(struct mm *m, const uint8_t addr[16])
{
	struct mm_dst *free_slot = NULL;

	for (int i = 0; i < MM_MAXREC; i++) {
		struct mm_dst *d = &m->dst[i];

		if (d->live && !memcmp(d->addr, addr, 16))
			return d;
		if (!d->live && !free_slot)
			free_slot = d;
	}
	return free_slot;
}

static MM_UNUSED struct mm_proxy *mm_proxy(struct mm *m, const char *id)
{
	struct mm_proxy *free_slot = NULL;

	for (int i = 0; i < MM_MAXPROXY; i++) {
		if (m->proxy[i].live && !strcmp(m->proxy[i].id, id))
			return &m->proxy[i];
		if (!m->proxy[i].live && !free_slot)
			free_slot = &m->proxy[i];
	}
	return free_slot;
}

/* Window longer than T_T4: move the start up to ts2 - len / r, divide c by r. */
static MM_UNUSED bool mm_decay(struct mm_win *w, uint64_t tt4, uint32_t r)
{
	uint64_t len = w->t2 - w->t1;

	if (len <= tt4)
		return false;
	w->t1 = w->t2 - len / r;
	w->c /= r;
	return true;
}

static MM_UNUSED void mm_out(struct sync_pair_out *o, uint32_t f, const struct mm_win *p,
			     const struct mm_win *d)
{
	o->flags = f;
	o->c = p ? p->c : 0;
	o->ts1 = p ? sync_wire_to_ns(p->t1) : 0;
	o->ts2 = p ? sync_wire_to_ns(p->t2) : 0;
	o->dst_c = d ? d->c : 0;
	o->dst_ts1 = d ? sync_wire_to_ns(d->t1) : 0;
	o->dst_ts2 = d ? sync_wire_to_ns(d->t2) : 0;
}

/* docs/sync.md, "The merge of one pair". */
static MM_UNUSED void mm_merge_pair(struct mm *m, const struct sync_params *sp,
				    const struct sync_pair_in *in, struct sync_pair_out *o)
{
	const uint64_t tt1 = sp->tt1_ms * 1000, tt4 = sp->tt4_ms * 1000;
	const uint64_t lt1 = sync_ns_to_wire(in->ts1), lt2 = sync_ns_to_wire(in->ts2);
	struct mm_pair *p = mm_pair(m, &in->key);
	struct mm_dst *d = mm_dst(m, in->key.dst);
	uint32_t f;

	/* The pair. */
	if (!p->live) {
		f = SYNC_F_CREATE;
		p->live = true;
		p->key = in->key;
		p->w = (struct mm_win){ .c = in->c, .t1 = lt1, .t2 = lt2, .total = 0 };
	} else if (in->mark && lt1 > p->w.t2 + tt1) {
		f = SYNC_F_REPLACE;
		p->w.c = in->c;
		p->w.t1 = lt1;
		p->w.t2 = lt2;
	} else {
		f = SYNC_F_MERGE;
		if (in->mark && lt1 < p->w.t1) {
			p->w.t1 = lt1;
			f |= SYNC_F_EXTEND;
		}
		if (lt2 < p->w.t2)
			f |= SYNC_F_LEARN;
		else
			p->w.t2 = lt2;
		if (mm_decay(&p->w, tt4, sp->r))
			f |= SYNC_F_DECAY;
		p->w.c += in->dc;
	}
	p->w.total += in->dc;

	/* Its destination. */
	if (!d->live) {
		f |= SYNC_F_DCREATE;
		d->live = true;
		memcpy(d->addr, in->key.dst, 16);
		d->w = (struct mm_win){ .c = p->w.c, .t1 = p->w.t1, .t2 = p->w.t2, .total = 0 };
	} else if (p->w.t1 > d->w.t2 + tt1) {
		f |= SYNC_F_DRESTART;
		d->w.c = p->w.c;
		d->w.t1 = p->w.t1;
		d->w.t2 = p->w.t2;
	} else {
		if (in->mark && lt1 < d->w.t1) {
			d->w.t1 = lt1;
			f |= SYNC_F_DEXTEND;
		}
		if (p->w.t2 > d->w.t2)
			d->w.t2 = p->w.t2;
		if (mm_decay(&d->w, tt4, sp->r))
			f |= SYNC_F_DDECAY;
		/* A pair new to the master brings its whole window (a re-seed). */
		d->w.c += f & SYNC_F_CREATE ? p->w.c : in->dc;
	}
	d->w.total += in->dc;
	mm_out(o, f, &p->w, &d->w);
}

/*
 * One batch of proxy id with sequence seq.  Returns 0, -EEXIST (applied
 * before and not a retry), -ESTALE (a gap).
 */
static MM_UNUSED int mm_batch(struct mm *m, const char *id, uint64_t seq, bool retry,
			      const struct sync_params *sp, const struct sync_pair_in *in, size_t n,
			      struct sync_pair_out *out)
{
	struct mm_proxy *x = mm_proxy(m, id);

	if (x->live && seq <= x->seq) {
		if (!retry)
			return -EEXIST;
		for (size_t i = 0; i < n; i++) {
			struct mm_pair *p = mm_pair(m, &in[i].key);
			struct mm_dst *d = mm_dst(m, in[i].key.dst);

			mm_out(&out[i], SYNC_F_DUP, p->live ? &p->w : NULL, d->live ? &d->w : NULL);
		}
		return 0;
	}
	if (x->live && seq != x->seq + 1)
		return -ESTALE;
	if (!x->live) {
		x->live = true;
		snprintf(x->id, sizeof(x->id), "%s", id);
	}
	for (size_t i = 0; i < n; i++) {
		mm_merge_pair(m, sp, &in[i], &out[i]);
		x->total += in[i].dc;
	}
	x->seq = seq;
	return 0;
}

/*
 * A call that was cut and then retried until it succeeded: got[] is the
 * retry's reply, seq_last the call's last batch.  The library sends a call's
 * pairs grouped by destination (merge.c), so the batches the cut call got
 * applied are not a prefix of in[]; the retry marks their pairs DUP.  Pairs
 * of different destinations touch different records and one destination's
 * pairs keep their order, so the model may take them in input order: first
 * the pairs the cut call applied; then (the retry) each of those returns the
 * state after all of them; then the others merge.
 */
static MM_UNUSED void mm_retry(struct mm *m, const char *id, uint64_t seq_last,
			       const struct sync_params *sp, const struct sync_pair_in *in,
			       const struct sync_pair_out *got, size_t n,
			       struct sync_pair_out *want)
{
	struct mm_proxy *x = mm_proxy(m, id);
	struct sync_pair_out scratch;

	if (!x->live) {
		x->live = true;
		snprintf(x->id, sizeof(x->id), "%s", id);
	}
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			bool dup = got[i].flags & SYNC_F_DUP;
			struct mm_pair *p = mm_pair(m, &in[i].key);
			struct mm_dst *d = mm_dst(m, in[i].key.dst);

			if (pass == 0 && dup) {
				mm_merge_pair(m, sp, &in[i], &scratch);
				x->total += in[i].dc;
			} else if (pass == 1 && dup) {
				mm_out(&want[i], SYNC_F_DUP, p->live ? &p->w : NULL,
				       d->live ? &d->w : NULL);
			} else if (pass == 2 && !dup) {
				mm_merge_pair(m, sp, &in[i], &want[i]);
				x->total += in[i].dc;
			}
		}
	}
	x->seq = seq_last;
}

#endif /* XPRO_TEST_MERGE_MODEL_H */
