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
	v->count = XF_LOAD(pr->c) & ~XF_DEAD;
	v->dc = XF_LOAD(pr->dc) & ~XF_DEAD;
	v->mark = XF_LOAD(pr->mark);
}

struct harvest_ctx {
	void (*fn)(const struct xf_pair_view *, void *);
	void *arg;
	size_t n;
};

static int harvest_one(void *entry, void *arg)
{
	struct harvest_ctx *hc = arg;
	struct xf_pair *pr = entry;
	struct xf_pair_view v;
	uint64_t dc = XF_LOAD(pr->dc);

	/* Only this thread sets XF_DEAD, so dc cannot be retired under us. */
	if (dc & XF_DEAD || (!dc && !XF_LOAD(pr->mark)))
		return 0;
	pair_view(pr, &v);
	v.dc = dc ? __atomic_exchange_n(&pr->dc, 0, __ATOMIC_RELAXED) : 0;
	v.mark = __atomic_exchange_n(&pr->mark, 0, __ATOMIC_RELAXED);
	if (hc->fn)
		hc->fn(&v, hc->arg);
	hc->n++;
	return 0;
}

size_t xf_engine_harvest(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			 void *arg)
{
	struct harvest_ctx hc = { fn, arg, 0 };

	rcu_read_lock();
	dp_tab_for_each(&e->pairs, harvest_one, &hc);
	rcu_read_unlock();
	return hc.n;
}

struct reclaim_ctx {
	struct xf_engine *e;
	uint64_t now, tt1;
	size_t n;
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

size_t xf_engine_reclaim(struct xf_engine *e, uint64_t now_ns)
{
	struct reclaim_ctx rc = { e, now_ns, 0, 0 };

	rcu_read_lock();
	rc.tt1 = __atomic_load_n(&e->rt, __ATOMIC_CONSUME)->tt1;
	dp_tab_for_each(&e->pairs, reclaim_one, &rc);
	rcu_read_unlock();
	return rc.n;
}

/* --- views ------------------------------------------------------------------- */

bool xf_engine_pair(struct xf_engine *e, const struct xf_key *key, struct xf_pair_view *out)
{
	struct xf_pair *pr = dp_tab_find(&e->pairs, xf_hash_pair(e->seed, key), xf_pair_eq, key);

	if (pr)
		pair_view(pr, out);
	return pr != NULL;
}

bool xf_engine_touch(struct xf_engine *e, const struct xf_key *key, uint64_t ts_ns)
{
	struct xf_pair *pr;

	rcu_read_lock();
	pr = dp_tab_find(&e->pairs, xf_hash_pair(e->seed, key), xf_pair_eq, key);
	if (pr)
		xf_ts2_advance(pr, XF_LOAD(pr->ts2), ts_ns);
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
