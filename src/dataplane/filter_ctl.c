/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control side of the filter engine: creation and teardown, threshold
 * swaps under RCU, harvesting deltas for Algorithm 1, reclaiming idle
 * records, and read-only views for tests and the control tool.  Everything
 * here runs on the one control thread, concurrently with the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/filter_int.h"

#define ROUND16(x) (((x) + 15) & ~(size_t)15)
#define PAIR_BYTES sizeof(struct xf_pair)
#define DST_BYTES ROUND16(sizeof(struct xf_dst))
#define DEV_BYTES ROUND16(sizeof(struct xf_dev))
#define MAX_RECORDS_LIMIT (1u << 28)

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct xf_rt *rt_new(const struct xf_params *p)
{
	struct xf_rt *rt;

	if (xf_params_validate(p, NULL, 0)) {
		errno = EINVAL;
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (rt)
		xf_params_compile(p, rt);
	return rt;
}

static void rt_free_cb(struct rcu_head *h)
{
	free(caa_container_of(h, struct xf_rt, rcu));
}

struct xf_engine *xf_engine_new(const struct xf_params *p, const struct xf_limits *lim,
				uint64_t seed)
{
	struct xf_engine *e;

	if (!lim->max_records || lim->max_records > MAX_RECORDS_LIMIT || !lim->max_dsts_per_dev) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->lim = *lim;
	pthread_mutex_init(&e->workers_lock, NULL);
	CDS_INIT_LIST_HEAD(&e->workers);
	for (int i = 0; i < 4; i++)
		e->seed[i] = splitmix64(&seed);
	e->rt = rt_new(p);
	if (!e->rt)
		goto out_free_engine;
	e->mem = dp_mem_new();
	if (!e->mem)
		goto out_free_rt;
	if (dp_tab_init(&e->pairs, lim->max_records, e->mem))
		goto out_free_mem;
	if (dp_tab_init(&e->dsts, lim->max_records, e->mem))
		goto out_fini_pairs;
	if (dp_tab_init(&e->devs, lim->max_records, e->mem))
		goto out_fini_dsts;
	return e;

out_fini_dsts:
	dp_tab_fini(&e->dsts);
out_fini_pairs:
	dp_tab_fini(&e->pairs);
out_free_mem:
	dp_mem_free_arena(e->mem);
out_free_rt:
	free(e->rt);
out_free_engine:
	free(e);
	errno = errno ? errno : ENOMEM;
	return NULL;
}

static int free_entry(void *entry, void *size)
{
	dp_mem_free(NULL, entry, (size_t)size);
	return 0;
}

void xf_engine_free(struct xf_engine *e)
{
	if (!e)
		return;
	/* Let pending call_rcu frees run before their arena goes. */
	rcu_barrier();
	dp_tab_for_each(&e->pairs, free_entry, (void *)PAIR_BYTES);
	dp_tab_for_each(&e->dsts, free_entry, (void *)DST_BYTES);
	dp_tab_for_each(&e->devs, free_entry, (void *)DEV_BYTES);
	dp_tab_fini(&e->devs);
	dp_tab_fini(&e->dsts);
	dp_tab_fini(&e->pairs);
	dp_mem_free_arena(e->mem);
	free(e->share_buf);
	free(e->cand);
	free(e->fresh);
	free(e->cand_ix);
	pthread_mutex_destroy(&e->workers_lock);
	free(e->rt);
	free(e);
}

int xf_engine_set_params(struct xf_engine *e, const struct xf_params *p)
{
	struct xf_rt *rt = rt_new(p), *old;

	if (!rt)
		return -errno;
	old = __atomic_exchange_n(&e->rt, rt, __ATOMIC_ACQ_REL);
	call_rcu(&old->rcu, rt_free_cb);
	/* A new heavy_c: pairs past it that never crossed it are found by a walk. */
	if (rt->heavy_c != old->heavy_c)
		__atomic_store_n(&e->notes_lost, 1, __ATOMIC_RELAXED);
	return 0;
}

void xf_engine_get_params(struct xf_engine *e, struct xf_params *out)
{
	rcu_read_lock();
	*out = __atomic_load_n(&e->rt, __ATOMIC_CONSUME)->src;
	rcu_read_unlock();
}

/* --- harvest and reclaim ----------------------------------------------------- */

static void pair_view(const struct xf_pair *pr, struct xf_pair_view *v)
{
	v->key = pr->key;
	v->ts1 = XF_LOAD(pr->ts1);
	v->ts2 = XF_LOAD(pr->ts2);
	/* A restart stores ts1 = t before it moves ts2 to t: we may see between. */
	if (v->ts2 < v->ts1)
		v->ts2 = v->ts1;
	v->count = XF_LOAD(pr->c) & ~XF_DEAD;
	v->dc = XF_LOAD(pr->dc) & ~XF_DEAD;
	v->mark = XF_LOAD(pr->mark) & XF_MARK_RESTART;
	v->fresh = XF_LOAD(pr->mark) & XF_MARK_FRESH;
	v->demand = XF_LOAD(pr->demand);
	v->excess = XF_LOAD(pr->excess);
	v->rate = XF_LOAD(pr->rate);
}

struct harvest_ctx {
	void (*fn)(const struct xf_pair_view *, void *);
	void *arg;
	unsigned flags;
	size_t n;
};

static bool wanted(const struct xf_pair *pr, uint64_t dc, unsigned flags)
{
	uint32_t mark = XF_LOAD(pr->mark);

	if (dc || mark & XF_MARK_RESTART || flags & XF_COLLECT_ALL)
		return true;
	return flags & XF_COLLECT_TOUCHED &&
	       (mark & XF_MARK_FRESH || XF_LOAD(pr->ts2) != pr->ts2_sync);
}

static int harvest_one(void *entry, void *arg)
{
	struct harvest_ctx *hc = arg;
	struct xf_pair *pr = entry;
	struct xf_pair_view v;
	uint64_t dc = XF_LOAD(pr->dc);
	uint32_t mark;

	/* Only this thread sets XF_DEAD, so dc cannot be retired under us. */
	if (dc & XF_DEAD || !wanted(pr, dc, hc->flags))
		return 0;
	pair_view(pr, &v);
	v.dc = dc ? __atomic_exchange_n(&pr->dc, 0, __ATOMIC_RELAXED) : 0;
	mark = __atomic_exchange_n(&pr->mark, 0, __ATOMIC_RELAXED);
	v.mark = mark & XF_MARK_RESTART;
	v.fresh = mark & XF_MARK_FRESH;
	pr->ts2_sync = v.ts2;
	if (hc->fn)
		hc->fn(&v, hc->arg);
	hc->n++;
	return 0;
}

size_t xf_engine_collect(struct xf_engine *e, unsigned flags,
			 void (*fn)(const struct xf_pair_view *, void *), void *arg)
{
	struct harvest_ctx hc = { fn, arg, flags, 0 };

	rcu_read_lock();
	dp_tab_for_each(&e->pairs, harvest_one, &hc);
	rcu_read_unlock();
	return hc.n;
}

size_t xf_engine_harvest(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			 void *arg)
{
	return xf_engine_collect(e, 0, fn, arg);
}

/* --- applying the master's state (Algorithm 1) ---------------------------------- */

bool xf_engine_pair_apply(struct xf_engine *e, const struct xf_pair_view *at, uint64_t c,
			  uint64_t ts1, uint64_t ts2)
{
	struct xf_pair *pr;
	struct xf_dst *d;
	bool ok = false;

	rcu_read_lock();
	pr = dp_tab_find(&e->pairs, xf_hash_pair(e->seed, &at->key), xf_pair_eq, &at->key);
	if (!pr)
		goto out;
	d = pr->dst;
	/* Window restarts and retirement (dst_unlink) happen under this lock. */
	xf_dst_lock(d);
	if (!(XF_LOAD(pr->dc) & XF_DEAD) && !(XF_LOAD(pr->mark) & XF_MARK_RESTART) &&
	    XF_LOAD(pr->ts1) == at->ts1) {
		uint64_t delta = c - at->count; /* mod 2^64: may be "negative" */

		if (delta) {
			__atomic_fetch_add(&pr->c, delta, __ATOMIC_RELAXED);
			__atomic_fetch_add(&d->csum, delta, __ATOMIC_RELAXED);
		}
		if (ts1 != at->ts1) {
			XF_STORE(pr->ts1, ts1);
			d->resort = 1;
		}
		xf_ts2_advance(pr, XF_LOAD(pr->ts2), ts2 > ts1 ? ts2 : ts1);
		ok = true;
	}
	xf_dst_unlock(d);
out:
	rcu_read_unlock();
	return ok;
}

/* The window over which xf_engine_dst_local() measures a rate. */
#define XF_RATE_BASE XF_NSEC_PER_SEC

static void dst_local(struct xf_dst *d, uint64_t now_ns, struct xf_dst_local *out)
{
	uint64_t dt;

	out->count = XF_LOAD(d->csum);
	out->ts1 = XF_LOAD(d->ts1min);
	out->admitted = XF_LOAD(d->adm);
	dt = now_ns > d->l_t0 ? now_ns - d->l_t0 : 0;
	if (!d->l_t0) {
		/* No baseline yet: the window's own rate. */
		if (now_ns > out->ts1 && out->ts1)
			d->l_rate = (uint64_t)((unsigned __int128)out->count * XF_RATE_ONE *
					       XF_NSEC_PER_SEC / (now_ns - out->ts1));
		d->l_t0 = now_ns;
		d->l_adm0 = out->admitted;
	} else if (dt >= XF_RATE_BASE / 4) {
		d->l_rate = (uint64_t)((unsigned __int128)(out->admitted - d->l_adm0) *
				       XF_RATE_ONE * XF_NSEC_PER_SEC / dt);
		if (dt >= XF_RATE_BASE) {
			d->l_t0 = now_ns;
			d->l_adm0 = out->admitted;
		}
	}
	out->rate = d->l_rate;
}

bool xf_engine_dst_local(struct xf_engine *e, const uint8_t dst[16], uint64_t now_ns,
			 struct xf_dst_local *out)
{
	struct xf_dst *d;

	rcu_read_lock();
	d = dp_tab_find(&e->dsts, xf_hash_dst(e->seed, dst), xf_dst_eq, dst);
	if (d)
		dst_local(d, now_ns, out);
	rcu_read_unlock();
	return d != NULL;
}

static void dst_global(struct xf_dst *d, uint64_t c, uint64_t ts1, uint64_t rate, uint64_t now_ns)
{
	uint64_t mine = XF_LOAD(d->csum), adm = __atomic_load_n(&d->adm, __ATOMIC_RELAXED);
	uint64_t start = XF_LOAD(d->ts1min);
	uint32_t seq;

	if (start && start < ts1)
		ts1 = start;
	seq = __atomic_fetch_add(&d->g_seq, 1, __ATOMIC_ACQ_REL);
	/* Global c at time t: c + mine + what is admitted here after now. */
	XF_STORE(d->g_off, (int64_t)(c + mine) - (int64_t)adm);
	XF_STORE(d->g_ts1, ts1);
	XF_STORE(d->g_rate, rate / XF_RATE_ONE);
	XF_STORE(d->g_t, now_ns);
	__atomic_store_n(&d->g_seq, seq + 2, __ATOMIC_RELEASE);
}

bool xf_engine_dst_global(struct xf_engine *e, const uint8_t dst[16], uint64_t c, uint64_t ts1,
			  uint64_t rate, uint64_t now_ns)
{
	struct xf_dst *d;

	rcu_read_lock();
	d = dp_tab_find(&e->dsts, xf_hash_dst(e->seed, dst), xf_dst_eq, dst);
	if (d)
		dst_global(d, c, ts1, rate, now_ns);
	rcu_read_unlock();
	return d != NULL;
}

void xf_engine_dst_global_ref(struct xf_engine *e, void *ref, uint64_t c, uint64_t ts1,
			      uint64_t rate, uint64_t now_ns)
{
	(void)e;
	dst_global(ref, c, ts1, rate, now_ns);
}

/* --- the destination round's walk ---------------------------------------------- */

struct dst_round_ctx {
	unsigned flags;
	bool fair;
	uint64_t now;
	void (*fn)(const struct xf_dst_round *, void *);
	void *arg;
	size_t n;
};

static int dst_round_one(void *entry, void *arg)
{
	struct dst_round_ctx *rc = arg;
	struct xf_dst *d = entry;
	uint64_t ts2 = XF_LOAD(d->ts2), adm = XF_LOAD(d->adm);
	const struct xf_share_sum *sh = &d->sh_local;
	struct xf_dst_round v;
	struct xf_dst_local l;
	bool seen = ts2 != d->r_ts2 || adm != d->r_adm;

	if (XF_LOAD(d->dead))
		return 0;
	v.has_share = rc->fair && sh->senders;
	if (!seen && !v.has_share && !(rc->flags & XF_COLLECT_ALL))
		return 0;
	d->r_ts2 = ts2;
	d->r_adm = adm;
	dst_local(d, rc->now, &l);
	memcpy(v.dst, d->addr, 16);
	v.count = l.count;
	v.ts1 = l.ts1;
	v.ts2 = ts2 > l.ts1 ? ts2 : l.ts1;
	v.rate = l.rate;
	if (v.has_share)
		v.share = (struct xf_share_view){ .senders = sh->senders,
						  .heavy = sh->heavy,
						  .demand = sh->demand,
						  .admitted = sh->admitted,
						  .share = sh->share };
	memcpy(v.share.dst, d->addr, 16);
	v.ref = d;
	rc->fn(&v, rc->arg);
	rc->n++;
	return 0;
}

size_t xf_engine_dst_round(struct xf_engine *e, unsigned flags, uint64_t now_ns,
			   void (*fn)(const struct xf_dst_round *, void *), void *arg)
{
	struct dst_round_ctx rc = { flags, false, now_ns, fn, arg, 0 };

	rcu_read_lock();
	rc.fair = __atomic_load_n(&e->rt, __ATOMIC_CONSUME)->policy == XF_POLICY_FAIR;
	dp_tab_for_each(&e->dsts, dst_round_one, &rc);
	rcu_read_unlock();
	return rc.n;
}

uint64_t xf_engine_admitted(struct xf_engine *e)
{
	struct cds_list_head *pos;
	uint64_t n;

	/* cds_list_for_each, not _entry: the 64-byte aligned xf_worker must not be
	 * formed from the list head (UBSan, as in xf_engine_dst_stats). */
	pthread_mutex_lock(&e->workers_lock);
	n = e->pass_gone;
	cds_list_for_each(pos, &e->workers)
	{
		const struct xf_worker *w = cds_list_entry(pos, struct xf_worker, node);

		n += XF_LOAD(w->st.verdict[XF_PASS]);
	}
	pthread_mutex_unlock(&e->workers_lock);
	return n;
}

/* --- notes: handoff candidates and new pairs ----------------------------------- */

static bool push_key(struct xf_key **a, size_t *n, size_t *cap, const struct xf_key *k)
{
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 1024;
		struct xf_key *p = realloc(*a, nc * sizeof(**a));

		if (!p)
			return false;
		*a = p;
		*cap = nc;
	}
	(*a)[(*n)++] = *k;
	return true;
}

struct walk_notes_ctx {
	struct xf_engine *e;
	uint64_t heavy_c;
	bool ok;
};

/* A ring overflowed: every pair that may be a candidate or new, from the table. */
static int walk_notes_one(void *entry, void *arg)
{
	struct walk_notes_ctx *wc = arg;
	struct xf_engine *e = wc->e;
	struct xf_pair *pr = entry;

	if (XF_LOAD(pr->dc) & XF_DEAD)
		return 0;
	if ((XF_LOAD(pr->c) & ~XF_DEAD) >= wc->heavy_c)
		wc->ok &= push_key(&e->cand, &e->ncand, &e->cand_cap, &pr->key);
	if (XF_LOAD(pr->mark) & XF_MARK_FRESH)
		wc->ok &= push_key(&e->fresh, &e->nfresh, &e->fresh_cap, &pr->key);
	return 0;
}

/* Control thread: what the workers noted since the last drain. */
static void drain_notes(struct xf_engine *e)
{
	struct cds_list_head *pos;
	bool lost = __atomic_exchange_n(&e->notes_lost, 0, __ATOMIC_RELAXED);

	pthread_mutex_lock(&e->workers_lock);
	cds_list_for_each(pos, &e->workers)
	{
		struct xf_worker *w = cds_list_entry(pos, struct xf_worker, node);
		uint32_t t = w->note_tail, h = __atomic_load_n(&w->note_head, __ATOMIC_ACQUIRE);

		for (; t != h; t++) {
			const struct xf_note *nt = &w->notes[t & (XF_NOTES - 1)];
			bool ok =
				nt->kind == XF_NOTE_HEAVY
					? push_key(&e->cand, &e->ncand, &e->cand_cap, &nt->key)
					: push_key(&e->fresh, &e->nfresh, &e->fresh_cap, &nt->key);

			lost |= !ok;
		}
		__atomic_store_n(&w->note_tail, t, __ATOMIC_RELEASE);
		lost |= __atomic_exchange_n(&w->note_lost, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&e->workers_lock);
	if (lost) {
		struct walk_notes_ctx wc = { e, 0, true };

		wc.heavy_c = __atomic_load_n(&e->rt, __ATOMIC_CONSUME)->heavy_c;
		e->nfresh = 0; /* the walk finds them all again */
		dp_tab_for_each(&e->pairs, walk_notes_one, &wc);
		if (!wc.ok)
			__atomic_store_n(&e->notes_lost, 1, __ATOMIC_RELAXED); /* try again */
	}
}

static bool heavy_now(const struct xf_rt *rt, const struct xf_pair_view *v)
{
	uint64_t win = v->ts2 > v->ts1 ? v->ts2 - v->ts1 : 0;

	if (win < rt->tt3)
		win = rt->tt3;
	return v->count >= 2 && (unsigned __int128)v->count * XF_NSEC_PER_SEC * XF_HEAVY_DIV >=
					(unsigned __int128)rt->tf1 * win;
}

/*
 * Candidates stay while their window holds heavy_c (a restart takes them out
 * until they cross it again); duplicates go through a small index.
 */
size_t xf_engine_heavy(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
		       void *arg)
{
	const struct xf_rt *rt;
	size_t w = 0, n = 0, cap = 16;
	uint32_t *ix;

	rcu_read_lock();
	drain_notes(e);
	rt = __atomic_load_n(&e->rt, __ATOMIC_CONSUME);
	while (cap < 2 * e->ncand)
		cap *= 2;
	if (cap > e->cand_ix_cap) {
		ix = realloc(e->cand_ix, cap * sizeof(*ix));
		if (!ix) {
			rcu_read_unlock();
			return 0; /* the candidates wait for the next call */
		}
		e->cand_ix = ix;
		e->cand_ix_cap = cap;
	}
	ix = e->cand_ix;
	memset(ix, 0, cap * sizeof(*ix));
	for (size_t i = 0; i < e->ncand; i++) {
		const struct xf_key *k = &e->cand[i];
		uint64_t h = xf_hash_pair(e->seed, k);
		struct xf_pair *pr = dp_tab_find(&e->pairs, h, xf_pair_eq, k);
		struct xf_pair_view v;
		size_t j;

		if (!pr || (XF_LOAD(pr->c) & ~XF_DEAD) < rt->heavy_c)
			continue;
		for (j = h & (cap - 1); ix[j]; j = (j + 1) & (cap - 1))
			if (!memcmp(&e->cand[ix[j] - 1], k, sizeof(*k)))
				break;
		if (ix[j])
			continue; /* a duplicate */
		e->cand[w] = *k;
		ix[j] = (uint32_t)++w;
		pair_view(pr, &v);
		if (heavy_now(rt, &v)) {
			fn(&v, arg);
			n++;
		}
	}
	e->ncand = w;
	rcu_read_unlock();
	return n;
}

size_t xf_engine_new_pairs(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			   void *arg)
{
	size_t n = 0;

	rcu_read_lock();
	drain_notes(e);
	for (size_t i = 0; i < e->nfresh; i++) {
		const struct xf_key *k = &e->fresh[i];
		struct xf_pair *pr =
			dp_tab_find(&e->pairs, xf_hash_pair(e->seed, k), xf_pair_eq, k);
		struct xf_pair_view v;

		/* Once: the mark goes with the first hand-out. */
		if (!pr || !(__atomic_fetch_and(&pr->mark, ~XF_MARK_FRESH, __ATOMIC_RELAXED) &
			     XF_MARK_FRESH))
			continue;
		pair_view(pr, &v);
		v.fresh = true;
		fn(&v, arg);
		n++;
	}
	e->nfresh = 0;
	rcu_read_unlock();
	return n;
}

/* Merge two ts1-sorted, NULL-terminated chains (next only); a's first on ties. */
static struct cds_list_head *merge_ts1(struct cds_list_head *a, struct cds_list_head *b)
{
	struct cds_list_head head, *tail = &head;

	while (a && b) {
		struct cds_list_head **min =
			XF_LOAD(cds_list_entry(b, struct xf_pair, dnode)->ts1) <
					XF_LOAD(cds_list_entry(a, struct xf_pair, dnode)->ts1)
				? &b
				: &a;

		tail->next = *min;
		tail = *min;
		*min = (*min)->next;
	}
	tail->next = a ? a : b;
	return head.next;
}

/* Bottom-up merge sort of a destination's pairs by ts1: O(n log n), stable. */
static void sort_pairs(struct cds_list_head *head)
{
	struct cds_list_head *parts[64] = { 0 }, *list, *cur = NULL, *prev;
	int k;

	if (cds_list_empty(head))
		return;
	head->prev->next = NULL;
	for (list = head->next; list;) {
		cur = list;
		list = list->next;
		cur->next = NULL;
		for (k = 0; parts[k]; k++) {
			cur = merge_ts1(parts[k], cur);
			parts[k] = NULL;
		}
		parts[k] = cur;
	}
	cur = NULL;
	for (k = 0; k < 64; k++)
		if (parts[k])
			cur = cur ? merge_ts1(parts[k], cur) : parts[k];
	prev = head;
	for (list = cur; list; list = list->next) {
		list->prev = prev;
		prev->next = list;
		prev = list;
	}
	prev->next = head;
	head->prev = prev;
}

static int resort_one(void *entry, void *arg)
{
	struct xf_dst *d = entry;

	if (!d->resort)
		return 0;
	xf_dst_lock(d);
	if (!d->dead) {
		sort_pairs(&d->pairs);
		XF_STORE(d->ts1min,
			 XF_LOAD(cds_list_entry(d->pairs.next, struct xf_pair, dnode)->ts1));
	}
	d->resort = 0;
	xf_dst_unlock(d);
	(*(size_t *)arg)++;
	return 0;
}

size_t xf_engine_apply_end(struct xf_engine *e)
{
	size_t n = 0;

	rcu_read_lock();
	dp_tab_for_each(&e->dsts, resort_one, &n);
	rcu_read_unlock();
	return n;
}

struct reclaim_ctx {
	struct xf_engine *e;
	uint64_t now, tt1;
	size_t n;
	bool unharvested; /* xf_engine_reclaim_idle(): whatever dc holds */
};

static int reclaim_one(void *entry, void *arg)
{
	struct reclaim_ctx *rc = arg;
	struct xf_engine *e = rc->e;
	struct xf_pair *pr = entry;
	struct xf_dev *dv = pr->dev;
	uint64_t ts2 = XF_LOAD(pr->ts2), zero = 0;

	if (!(rc->now > ts2 && rc->now - ts2 > rc->tt1))
		return 0;
	/*
	 * Retire only a synced pair (a worker's admit in between makes the CAS
	 * fail), under the device's lock so that creators see the pair either
	 * live and counted or gone and uncounted.
	 */
	xf_dev_lock(dv);
	if (rc->unharvested) {
		zero = XF_LOAD(pr->dc);
		if (zero & XF_DEAD) {
			xf_dev_unlock(e, dv);
			return 0;
		}
	}
	if (!__atomic_compare_exchange_n(&pr->dc, &zero, XF_DEAD, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED)) {
		xf_dev_unlock(e, dv);
		return 0;
	}
	dp_tab_remove(&e->pairs, xf_hash_pair(e->seed, &pr->key), pr);
	dv->npairs--;
	xf_dev_unlock(e, dv);
	xf_dst_unlink(e, pr);
	xf_pair_free_rcu(e, pr);
	rc->n++;
	return 0;
}

static size_t reclaim(struct xf_engine *e, uint64_t now_ns, bool unharvested)
{
	struct reclaim_ctx rc = { e, now_ns, 0, 0, unharvested };

	rcu_read_lock();
	rc.tt1 = __atomic_load_n(&e->rt, __ATOMIC_CONSUME)->tt1;
	dp_tab_for_each(&e->pairs, reclaim_one, &rc);
	rcu_read_unlock();
	return rc.n;
}

size_t xf_engine_reclaim(struct xf_engine *e, uint64_t now_ns)
{
	return reclaim(e, now_ns, false);
}

size_t xf_engine_reclaim_idle(struct xf_engine *e, uint64_t now_ns)
{
	return reclaim(e, now_ns, true);
}

/* --- the fair share (docs/algorithm.md, "Exact semantics of fair") --------------- */

struct share_ctx {
	struct xf_engine *e;
	const struct xf_rt *rt;
	uint64_t dt;
	size_t congested;
	void (*fn)(const struct xf_share_view *, void *);
	void *arg;
	size_t n;
};

/* Step 1: every pair's demand rate from what it offered since the last tick. */
static int share_rate_one(void *entry, void *arg)
{
	struct share_ctx *sc = arg;
	struct xf_pair *pr = entry;
	uint32_t dem = XF_LOAD(pr->demand), rate = pr->rate;
	uint64_t inst;

	if (XF_LOAD(pr->dc) & XF_DEAD)
		return 0;
	inst = (uint64_t)((unsigned __int128)(uint32_t)(dem - pr->seen) * XF_RATE_ONE *
			  XF_NSEC_PER_SEC / sc->dt);
	if (inst > UINT32_MAX)
		inst = UINT32_MAX;
	pr->seen = dem;
	if (!rate || sc->dt >= sc->rt->taur)
		rate = (uint32_t)inst;
	else
		rate = (uint32_t)(((unsigned __int128)rate * (sc->rt->taur - sc->dt) +
				   (unsigned __int128)inst * sc->dt) /
				  sc->rt->taur);
	XF_STORE(pr->rate, rate);
	return 0;
}

/* O(f): what the other proxies admit at share f, linear around theirs. */
static uint64_t others_at(const struct xf_share_sum *o, uint64_t f)
{
	__int128 x;

	if (f == XF_SHARE_NONE)
		return o->admitted < o->demand ? o->admitted : o->demand;
	if (o->share == XF_SHARE_NONE) { /* not congested there: as if their senders sent alike */
		x = (__int128)o->senders * f;
		return x > (__int128)o->demand ? o->demand : (uint64_t)x;
	}
	x = (__int128)o->admitted + (__int128)o->heavy * ((__int128)f - (__int128)o->share);
	if (x < 0)
		return 0;
	return x > (__int128)o->demand ? o->demand : (uint64_t)x;
}

static uint64_t ival_of(uint64_t fp_rate)
{
	const uint64_t one = (uint64_t)XF_RATE_ONE * XF_NSEC_PER_SEC;

	return (one + fp_rate - 1) / fp_rate;
}

/*
 * Step 2 for one destination, on a copy of its pairs' rates: water-filling by
 * Newton's method on L(f) = sum min(rate, f) + O(f), concave and piecewise
 * linear, from below.
 */
static void share_solve(struct xf_dst *d, const uint32_t *r, uint32_t n, uint64_t tf2,
			uint64_t tau2)
{
	const struct xf_share_sum *o = &d->sh_others;
	struct xf_share_sum *l = &d->sh_local;
	uint64_t t = (uint64_t)XF_RATE_ONE * tf2, s = 0, f = XF_SHARE_NONE, adm, c;
	uint32_t senders = 0, heavy = 0;

	for (uint32_t i = 0; i < n; i++) {
		senders += r[i] > 0;
		s += r[i];
	}
	if ((unsigned __int128)s + o->demand > t) {
		/* senders + others is 0 only for a summary with demand and no sender. */
		f = t / ((uint64_t)senders + o->senders ? (uint64_t)senders + o->senders : 1);
		if (f < 1)
			f = 1;
		for (int it = 0; it < 16; it++) {
			__int128 sum = others_at(o, f), step;
			/* O's slope: oh, or on where it stands for equal senders under od */
			uint64_t m = o->share != XF_SHARE_NONE			      ? o->heavy
				     : (__int128)o->senders * f < (__int128)o->demand ? o->senders
										      : 0;

			for (uint32_t i = 0; i < n; i++) {
				sum += r[i] < f ? r[i] : f;
				m += r[i] > f;
			}
			if (!m)
				break;
			step = ((__int128)t - sum) / (__int128)m;
			if (!step)
				break;
			step += (__int128)f;
			f = step < 1				   ? 1
			    : step > (__int128)(XF_SHARE_NONE - 1) ? XF_SHARE_NONE - 1
								   : (uint64_t)step;
		}
	}
	adm = s;
	if (f != XF_SHARE_NONE) {
		adm = 0;
		for (uint32_t i = 0; i < n; i++) {
			adm += r[i] < f ? r[i] : f;
			heavy += r[i] > f;
		}
	}
	/* This proxy's cap: T_F2 less what the others admit, at least 1 packet/s. */
	c = others_at(o, f);
	c = c >= t - XF_RATE_ONE ? XF_RATE_ONE : t - c;
	if (d->prov > 1 && c > t / d->prov) /* no summary from the others yet */
		c = t / d->prov < XF_RATE_ONE ? XF_RATE_ONE : t / d->prov;
	if (f != XF_SHARE_NONE) /* the shares bound the sum; headroom for their jitter */
		c += c / 16;
	l->senders = senders;
	l->heavy = heavy;
	l->demand = s;
	l->admitted = adm;
	l->share = f;
	d->cap = c;
	/* share_int before share: a worker that sees the share sees its interval. */
	XF_STORE(d->share_int, f == XF_SHARE_NONE ? XF_OPEN_BURSTS * tau2 : ival_of(f));
	XF_STORE(d->share, f);
	XF_STORE(d->cap_int, ival_of(c));
}

static int share_dst_one(void *entry, void *arg)
{
	struct share_ctx *sc = arg;
	struct xf_engine *e = sc->e;
	struct xf_dst *d = entry;
	struct cds_list_head *pos;
	uint32_t n = 0;

	xf_dst_lock(d);
	if (d->dead) {
		xf_dst_unlock(d);
		return 0;
	}
	if (d->npairs > e->share_cap) {
		size_t cap = d->npairs * 2;
		uint32_t *nb = realloc(e->share_buf, cap * sizeof(*nb));

		if (!nb) { /* keep the last share: no worse than one missed tick */
			xf_dst_unlock(d);
			return 0;
		}
		e->share_buf = nb;
		e->share_cap = cap;
	}
	cds_list_for_each(pos, &d->pairs)
	{
		const struct xf_pair *pr = cds_list_entry(pos, struct xf_pair, dnode);

		e->share_buf[n++] = pr->rate;
	}
	xf_dst_unlock(d);
	share_solve(d, e->share_buf, n, sc->rt->tf2, sc->rt->tau2);
	sc->congested += d->share != XF_SHARE_NONE;
	return 0;
}

size_t xf_engine_share(struct xf_engine *e, uint64_t now_ns)
{
	struct share_ctx sc = { .e = e };

	rcu_read_lock();
	sc.rt = __atomic_load_n(&e->rt, __ATOMIC_CONSUME);
	if (!e->share_ticked) {
		e->share_ticked = true;
		e->share_last = now_ns;
	} else if (now_ns > e->share_last) {
		sc.dt = now_ns - e->share_last;
		dp_tab_for_each(&e->pairs, share_rate_one, &sc);
		e->share_last = now_ns;
	}
	dp_tab_for_each(&e->dsts, share_dst_one, &sc);
	rcu_read_unlock();
	return sc.congested;
}

static int share_foreach_one(void *entry, void *arg)
{
	struct share_ctx *sc = arg;
	struct xf_dst *d = entry;
	struct xf_share_view v;

	if (XF_LOAD(d->dead) || !d->sh_local.senders)
		return 0;
	memcpy(v.dst, d->addr, 16);
	v.senders = d->sh_local.senders;
	v.heavy = d->sh_local.heavy;
	v.demand = d->sh_local.demand;
	v.admitted = d->sh_local.admitted;
	v.share = d->sh_local.share;
	sc->fn(&v, sc->arg);
	sc->n++;
	return 0;
}

size_t xf_engine_share_foreach(struct xf_engine *e,
			       void (*fn)(const struct xf_share_view *, void *), void *arg)
{
	struct share_ctx sc = { .e = e, .fn = fn, .arg = arg };

	rcu_read_lock();
	dp_tab_for_each(&e->dsts, share_foreach_one, &sc);
	rcu_read_unlock();
	return sc.n;
}

void xf_engine_share_peers(struct xf_engine *e, uint32_t proxies)
{
	__atomic_store_n(&e->share_peers, proxies ? proxies : 1, __ATOMIC_RELAXED);
}

static void share_apply(struct xf_dst *d, const struct xf_share_view *others)
{
	struct xf_share_sum o = { others->senders, others->heavy, others->demand, others->admitted,
				  others->share };

	if (!o.senders)
		o = (struct xf_share_sum){ 0, 0, 0, 0, XF_SHARE_NONE };
	d->sh_others = o;
	d->prov = 1;
}

bool xf_engine_share_apply(struct xf_engine *e, const struct xf_share_view *others)
{
	struct xf_dst *d;

	rcu_read_lock();
	d = dp_tab_find(&e->dsts, xf_hash_dst(e->seed, others->dst), xf_dst_eq, others->dst);
	if (d)
		share_apply(d, others);
	rcu_read_unlock();
	return d != NULL;
}

void xf_engine_share_apply_ref(struct xf_engine *e, void *ref, const struct xf_share_view *others)
{
	(void)e;
	share_apply(ref, others);
}

/* --- views ------------------------------------------------------------------- */

bool xf_engine_pair(struct xf_engine *e, const struct xf_key *key, struct xf_pair_view *out)
{
	struct xf_pair *pr = dp_tab_find(&e->pairs, xf_hash_pair(e->seed, key), xf_pair_eq, key);

	if (pr)
		pair_view(pr, out);
	return pr != NULL;
}

struct foreach_ctx {
	void (*fn)(const struct xf_pair_view *, void *);
	void *arg;
	size_t n;
};

static int foreach_one(void *entry, void *arg)
{
	struct foreach_ctx *fc = arg;
	const struct xf_pair *pr = entry;
	struct xf_pair_view v;

	if (XF_LOAD(pr->dc) & XF_DEAD)
		return 0;
	pair_view(pr, &v);
	fc->fn(&v, fc->arg);
	fc->n++;
	return 0;
}

size_t xf_engine_foreach_pair(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			      void *arg)
{
	struct foreach_ctx fc = { fn, arg, 0 };

	dp_tab_for_each(&e->pairs, foreach_one, &fc);
	return fc.n;
}

bool xf_engine_touch(struct xf_engine *e, const struct xf_key *key, uint64_t ts_ns)
{
	struct xf_pair *pr;

	rcu_read_lock();
	pr = dp_tab_find(&e->pairs, xf_hash_pair(e->seed, key), xf_pair_eq, key);
	if (pr) {
		xf_ts2_advance(pr, XF_LOAD(pr->ts2), ts_ns);
		if (ts_ns > XF_LOAD(pr->dst->ts2))
			XF_STORE(pr->dst->ts2, ts_ns);
	}
	rcu_read_unlock();
	return pr != NULL;
}

bool xf_engine_dst(struct xf_engine *e, const uint8_t dst[16], struct xf_dst_view *out)
{
	struct xf_dst *d = dp_tab_find(&e->dsts, xf_hash_dst(e->seed, dst), xf_dst_eq, dst);
	struct cds_list_head *pos;
	struct xf_pair *pr;
	bool live;

	if (!d)
		return false;
	xf_dst_lock(d);
	live = !d->dead;
	if (live) {
		out->ts1 = d->ts1min;
		out->ts2 = 0;
		/* Not cds_list_for_each_entry: it forms an xf_pair pointer from the
		 * list head, misaligned for the 64-byte aligned type (UBSan). */
		cds_list_for_each(pos, &d->pairs)
		{
			pr = cds_list_entry(pos, struct xf_pair, dnode);
			if (XF_LOAD(pr->ts2) > out->ts2)
				out->ts2 = XF_LOAD(pr->ts2);
		}
		out->count = XF_LOAD(d->csum);
		out->pairs = d->npairs;
		out->admitted = XF_LOAD(d->adm);
		out->g_ts1 = XF_LOAD(d->g_seq) ? XF_LOAD(d->g_ts1) : 0;
		out->g_count =
			out->g_ts1 ? (uint64_t)(XF_LOAD(d->g_off) + (int64_t)out->admitted) : 0;
		out->g_rate = out->g_ts1 ? XF_LOAD(d->g_rate) : 0;
		out->share = XF_LOAD(d->share);
		out->cap = d->cap;
		out->senders = d->sh_local.senders;
		out->demand = d->sh_local.demand;
	}
	xf_dst_unlock(d);
	return live;
}

void xf_engine_stats(struct xf_engine *e, struct xf_engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->pairs = XF_LOAD(e->npairs);
	out->dsts = XF_LOAD(e->ndsts);
	out->devs = XF_LOAD(e->ndevs);
	out->bytes_records =
		out->pairs * PAIR_BYTES + out->dsts * DST_BYTES + out->devs * DEV_BYTES;
	out->bytes_tables =
		dp_tab_bytes(&e->pairs) + dp_tab_bytes(&e->dsts) + dp_tab_bytes(&e->devs);
	out->alloc_bytes = dp_mem_allocated(e->mem);
	out->allocator = dp_mem_backend();
}

/*
 * Worst case per live pair: its record, a destination and a device of its
 * own, and its share of three tables sized at most 2 * capacity / 4 buckets
 * of 64 bytes (power-of-two rounding).  Add DP_TAB_PROBE buckets per table,
 * a fixed 3 KiB, for the whole engine.
 */
size_t xf_bytes_per_record(void)
{
	return PAIR_BYTES + DST_BYTES + DEV_BYTES + 3 * (2 * sizeof(struct dp_tab_bucket) / 4);
}
