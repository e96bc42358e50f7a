/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-packet path of the filter engine: Algorithm 2, steps numbered as in
 * docs/algorithm.md ("Exact semantics").  The common case (pair exists, not
 * idle) takes no lock: relaxed loads, one store of ts2 and, when the packet is
 * admitted, three atomic adds.  Pair creation and window restarts take the
 * destination's spinlock, which also orders its pairs by ts1 so that ts1*
 * (the minimum) is the list head: O(1) per packet, no scan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xpro/addr.h"
#include "dataplane/filter_int.h"

/* --- small helpers --------------------------------------------------------- */

static bool dev_eq(const void *entry, const void *key)
{
	const struct xf_dev *dv = entry;

	return dv->dev == *(const uint32_t *)key && !XF_LOAD(dv->dead);
}

/* c / window > limit, exactly: c * 1e9 > limit * window_ns. */
static inline bool over_rate(uint64_t c, uint64_t window_ns, uint64_t limit_pps)
{
	return (unsigned __int128)c * XF_NSEC_PER_SEC > (unsigned __int128)limit_pps * window_ns;
}

static void spin_lock(uint32_t *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static void spin_unlock(uint32_t *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

void xf_dst_lock(struct xf_dst *d)
{
	spin_lock(&d->lock);
}

void xf_dst_unlock(struct xf_dst *d)
{
	spin_unlock(&d->lock);
}

void xf_dev_lock(struct xf_dev *dv)
{
	spin_lock(&dv->lock);
}

/* Under d->lock: keep the list ordered by ts1 and ts1min its head. */
static void dst_link_sorted(struct xf_dst *d, struct xf_pair *pr)
{
	struct cds_list_head *pos = d->pairs.prev;

	/* Workers' clocks may be a burst apart: walk back from the tail. */
	while (pos != &d->pairs &&
	       XF_LOAD(cds_list_entry(pos, struct xf_pair, dnode)->ts1) > XF_LOAD(pr->ts1))
		pos = pos->prev;
	cds_list_add(&pr->dnode, pos);
	XF_STORE(d->ts1min, XF_LOAD(cds_list_entry(d->pairs.next, struct xf_pair, dnode)->ts1));
}

/* --- records: find or create ---------------------------------------------- */

static void dev_free_cb(struct rcu_head *h)
{
	dp_mem_free(NULL, caa_container_of(h, struct xf_dev, rcu), sizeof(struct xf_dev));
}

static void dst_free_cb(struct rcu_head *h)
{
	dp_mem_free(NULL, caa_container_of(h, struct xf_dst, rcu), sizeof(struct xf_dst));
}

static void pair_free_cb(struct rcu_head *h)
{
	dp_mem_free(NULL, caa_container_of(h, struct xf_pair, rcu), sizeof(struct xf_pair));
}

void xf_pair_free_rcu(struct xf_engine *e, struct xf_pair *pr)
{
	__atomic_fetch_sub(&e->npairs, 1, __ATOMIC_RELAXED);
	call_rcu(&pr->rcu, pair_free_cb);
}

void xf_dev_unlock(struct xf_engine *e, struct xf_dev *dv)
{
	bool retire = dv->npairs == 0;

	if (retire) {
		XF_STORE(dv->dead, 1);
		dp_tab_remove(&e->devs, xf_hash_dev(e->seed, dv->dev), dv);
	}
	spin_unlock(&dv->lock);
	if (!retire)
		return;
	__atomic_fetch_sub(&e->ndevs, 1, __ATOMIC_RELAXED);
	call_rcu(&dv->rcu, dev_free_cb);
}

/*
 * Find or create device dev and return it locked.  Returns NULL with
 * *verdict = XF_DROP_FULL when a new device would be needed but the engine
 * is full (a new device has no pair to spare: refuse before allocating, so a
 * spray of unseen devices into a full engine stays cheap) or memory is out.
 */
static struct xf_dev *dev_get_locked(struct xf_engine *e, uint32_t dev, unsigned *verdict)
{
	uint64_t h = xf_hash_dev(e->seed, dev);

	for (;;) {
		struct xf_dev *dv = dp_tab_find(&e->devs, h, dev_eq, &dev), *got;

		if (!dv) {
			if (XF_LOAD(e->npairs) >= e->lim.max_records)
				break;
			dv = dp_mem_alloc(e->mem, sizeof(*dv), 16);
			if (!dv)
				break;
			dv->dev = dev;
			got = dp_tab_insert(&e->devs, h, dv, dev_eq, &dev);
			if (got != dv)
				dp_mem_free(e->mem, dv, sizeof(*dv));
			if (!got)
				break;
			if (got == dv)
				__atomic_fetch_add(&e->ndevs, 1, __ATOMIC_RELAXED);
			dv = got;
		}
		xf_dev_lock(dv);
		if (!dv->dead)
			return dv;
		spin_unlock(&dv->lock); /* retired under us: look again */
	}
	*verdict = XF_DROP_FULL;
	return NULL;
}

/* Find or create the destination and link pr into it.  0 or -ENOMEM. */
static int dst_link(struct xf_engine *e, struct xf_pair *pr)
{
	uint64_t h = xf_hash_dst(e->seed, pr->key.dst);

	for (;;) {
		struct xf_dst *d = dp_tab_find(&e->dsts, h, xf_dst_eq, pr->key.dst), *got;
		const struct xf_rt *rt;

		if (!d) {
			d = dp_mem_alloc(e->mem, sizeof(*d), 64);
			if (!d)
				return -ENOMEM;
			memcpy(d->addr, pr->key.dst, 16);
			CDS_INIT_LIST_HEAD(&d->pairs);
			/* Fair policy: bounded from the first packet, at T_F2 until a tick. */
			d->share = d->sh_local.share = d->sh_others.share = XF_SHARE_NONE;
			rt = __atomic_load_n(&e->rt, __ATOMIC_CONSUME);
			d->prov = __atomic_load_n(&e->share_peers, __ATOMIC_RELAXED);
			if (!d->prov)
				d->prov = 1;
			/* With P proxies, T_F2 / P each until the others' summaries come. */
			d->cap_int = rt->i2 * d->prov;
			d->cap = (uint64_t)XF_RATE_ONE * rt->tf2 / d->prov;
			got = dp_tab_insert(&e->dsts, h, d, xf_dst_eq, pr->key.dst);
			if (got != d)
				dp_mem_free(e->mem, d, sizeof(*d));
			if (!got)
				return -ENOMEM;
			if (got == d)
				__atomic_fetch_add(&e->ndsts, 1, __ATOMIC_RELAXED);
			d = got;
		}
		xf_dst_lock(d);
		if (d->dead) {
			xf_dst_unlock(d);
			continue;
		}
		pr->dst = d;
		d->npairs++;
		dst_link_sorted(d, pr);
		xf_dst_unlock(d);
		return 0;
	}
}

void xf_dst_unlink(struct xf_engine *e, struct xf_pair *pr)
{
	struct xf_dst *d = pr->dst;
	bool empty;

	xf_dst_lock(d);
	cds_list_del(&pr->dnode);
	/* Mark c as well: an admit racing with us must not add to csum after this. */
	__atomic_fetch_sub(&d->csum, __atomic_exchange_n(&pr->c, XF_DEAD, __ATOMIC_RELAXED),
			   __ATOMIC_RELAXED);
	empty = --d->npairs == 0;
	if (empty)
		d->dead = 1;
	else
		XF_STORE(d->ts1min,
			 XF_LOAD(cds_list_entry(d->pairs.next, struct xf_pair, dnode)->ts1));
	xf_dst_unlock(d);
	if (!empty)
		return;
	dp_tab_remove(&e->dsts, xf_hash_dst(e->seed, d->addr), d);
	__atomic_fetch_sub(&e->ndsts, 1, __ATOMIC_RELAXED);
	call_rcu(&d->rcu, dst_free_cb);
}

/* Tell the control thread about a pair (struct xf_note); a full ring is remembered. */
static void note(struct xf_worker *w, const struct xf_key *k, uint32_t kind)
{
	uint32_t h = w->note_head, t = __atomic_load_n(&w->note_tail, __ATOMIC_ACQUIRE);

	if (h - t >= XF_NOTES) {
		if (!XF_LOAD(w->note_lost))
			XF_STORE(w->note_lost, 1);
		return;
	}
	w->notes[h & (XF_NOTES - 1)] = (struct xf_note){ *k, kind };
	__atomic_store_n(&w->note_head, h + 1, __ATOMIC_RELEASE);
}

/*
 * Step 1 for a new pair, under its device's lock: look again (another worker
 * may have created it), check the caps, create it with ts1 = ts2 = t.
 * Returns the pair, or NULL with *verdict set.  Unwinds in reverse.
 */
static struct xf_pair *pair_create(struct xf_worker *w, const struct xf_key *k, uint64_t h,
				   uint64_t t, unsigned *verdict)
{
	struct xf_engine *e = w->e;
	struct xf_pair *pr;
	struct xf_dev *dv;

	dv = dev_get_locked(e, k->dev, verdict);
	if (!dv)
		return NULL;
	pr = dp_tab_find(&e->pairs, h, xf_pair_eq, k);
	if (pr)
		goto out_unlock;
	*verdict = XF_DROP_DEVCAP;
	if (dv->npairs >= e->lim.max_dsts_per_dev)
		goto out_unlock;
	*verdict = XF_DROP_FULL;
	if (__atomic_add_fetch(&e->npairs, 1, __ATOMIC_RELAXED) > e->lim.max_records)
		goto out_uncount;
	pr = dp_mem_alloc(e->mem, sizeof(*pr), 64);
	if (!pr)
		goto out_uncount;
	pr->key = *k;
	pr->ts1 = pr->ts2 = t;
	pr->mark = XF_MARK_FRESH;
	pr->dev = dv;
	if (dst_link(e, pr))
		goto out_free;
	/* The device lock makes us the only creator of this key: a NULL here is no room. */
	if (dp_tab_insert(&e->pairs, h, pr, xf_pair_eq, k) != pr)
		goto out_unlink;
	dv->npairs++;
	xf_count(&w->st.pairs_created);
	note(w, k, XF_NOTE_NEW);
	goto out_unlock;

out_unlink:
	xf_dst_unlink(e, pr);
out_free:
	dp_mem_free(e->mem, pr, sizeof(*pr));
	pr = NULL;
out_uncount:
	__atomic_fetch_sub(&e->npairs, 1, __ATOMIC_RELAXED);
out_unlock:
	xf_dev_unlock(e, dv);
	return pr;
}

/*
 * Step 2, under the destination's lock: restart an idle pair's window.
 * Also stores ts2, so that a second worker does not restart it again.
 * Returns -1 if the pair was retired meanwhile.
 */
static int pair_restart(struct xf_worker *w, struct xf_pair *pr, uint64_t t, uint64_t tt1)
{
	struct xf_dst *d = pr->dst;
	uint64_t ts2;

	xf_dst_lock(d);
	if (XF_LOAD(pr->dc) & XF_DEAD) {
		xf_dst_unlock(d);
		return -1;
	}
	ts2 = XF_LOAD(pr->ts2);
	if (t > ts2 && t - ts2 > tt1) {
		uint64_t old = __atomic_exchange_n(&pr->c, 0, __ATOMIC_RELAXED);

		__atomic_fetch_sub(&d->csum, old, __ATOMIC_RELAXED);
		XF_STORE(pr->ts1, t);
		XF_STORE(pr->excess, 0);
		__atomic_or_fetch(&pr->mark, XF_MARK_RESTART, __ATOMIC_RELAXED);
		cds_list_del(&pr->dnode);
		dst_link_sorted(d, pr);
		xf_count(&w->st.window_resets);
	}
	xf_ts2_advance(pr, ts2, t);
	xf_dst_unlock(d);
	return 0;
}

/* Alg. 2 line 15: at most one warning per device per interval. */
static unsigned maybe_warn(struct xf_worker *w, struct xf_pair *pr, uint64_t t,
			   const struct xf_rt *rt)
{
	struct xf_dev *dv = pr->dev;
	uint64_t last = XF_LOAD(dv->last_warn);

	if (last && (t + 1 < last || t + 1 - last < rt->warn_interval))
		return 0;
	if (!__atomic_compare_exchange_n(&dv->last_warn, &last, t + 1, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return 0; /* another worker warned for this device just now */
	xf_count(&w->st.warnings);
	return XF_WARN;
}

/* --- the per-packet path --------------------------------------------------- */

/*
 * The destination's global window (xf_engine_dst_global()): the other
 * proxies' count and this proxy's window as of the last round, plus what
 * this proxy admitted since and the others at their rate, over the global
 * window start up to this packet.  A seqcount keeps
 * the two fields consistent; the control thread writes them once a period.
 */
static bool dst_global_over(const struct xf_dst *d, const struct xf_rt *rt, uint64_t t)
{
	uint64_t ts1, c, rate, at, since;
	uint32_t seq;
	int64_t off;

	do {
		/* Acquire loads, not a fence (which TSan cannot follow): the
		 * second read of g_seq cannot move above them. */
		seq = __atomic_load_n(&d->g_seq, __ATOMIC_ACQUIRE);
		off = __atomic_load_n(&d->g_off, __ATOMIC_ACQUIRE);
		ts1 = __atomic_load_n(&d->g_ts1, __ATOMIC_ACQUIRE);
		rate = __atomic_load_n(&d->g_rate, __ATOMIC_ACQUIRE);
		at = __atomic_load_n(&d->g_t, __ATOMIC_ACQUIRE);
	} while ((seq & 1) || seq != XF_LOAD(d->g_seq));
	if (!ts1 || t <= ts1 || t - ts1 <= rt->tt3)
		return false;
	/*
	 * The other proxies go on at their last known rate since the store
	 * last answered: between rounds, and while it is away, for at most T_T4
	 * (beyond which their windows would have decayed anyway).  Capping it
	 * sooner lets each proxy drift towards its own local budget during a
	 * long outage (1.2 x T_F2 over 20 s with an uneven spread, and a debt
	 * the windows then repay by over-blocking: tests/sync/test_round.c).
	 */
	since = t > at ? t - at : 0;
	if (since > rt->tt4)
		since = rt->tt4;
	c = (uint64_t)(off + (int64_t)XF_LOAD(d->adm)) + 1 +
	    (uint64_t)((unsigned __int128)rate * since / XF_NSEC_PER_SEC);
	return over_rate(c, t - ts1, rt->tf2);
}

/* --- GCRA limiters (the fair policy) ---------------------------------------- */

/* Does a packet at t conform to the limiter at tat with tolerance tau? */
static inline bool gcra_ok(uint64_t tat, uint64_t t, uint64_t tau)
{
	return tat <= t + tau;
}

/* Take one packet at t if it conforms: tat = max(tat, t) + ival. */
static inline bool gcra_take(uint64_t *tat, uint64_t t, uint64_t ival, uint64_t tau)
{
	uint64_t old = XF_LOAD(*tat), nw;

	do {
		if (!gcra_ok(old, t, tau))
			return false;
		nw = (old > t ? old : t) + ival;
	} while (!__atomic_compare_exchange_n(tat, &old, nw, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

/*
 * The same for a pair's own limiters without a locked instruction: one worker
 * per pair in practice (RSS keeps a flow on its queue), and when two do race
 * a lost update admits one packet more, never corrupts anything.
 */
static inline void gcra_commit_pair(uint64_t *tat, uint64_t t, uint64_t ival)
{
	uint64_t old = XF_LOAD(*tat);

	XF_STORE(*tat, (old > t ? old : t) + ival);
}

static inline bool gcra_take_pair(uint64_t *tat, uint64_t t, uint64_t ival, uint64_t tau)
{
	if (!gcra_ok(XF_LOAD(*tat), t, tau))
		return false;
	gcra_commit_pair(tat, t, ival);
	return true;
}

static inline uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * Steps 4-6 of the fair policy, after the lookup, the idle restart and ts2:
 * the pair's T_F1 limiter over what it offers, the share limiter of a sender
 * above f(D), the destination's cap.  Returns XF_PASS or the drop verdict.
 */
static unsigned filter_fair(struct xf_worker *w, const struct xf_rt *rt, struct xf_pair *pr,
			    uint64_t t)
{
	struct xf_dst *d = pr->dst;
	uint64_t share, tau, ival;
	bool heavy;

	if (!gcra_take_pair(&pr->tat1, t, rt->i1, rt->tau1)) {
		uint32_t ex = XF_LOAD(pr->excess);
		unsigned v = XF_DROP_PAIR;

		if (ex != UINT32_MAX)
			XF_STORE(pr->excess, ++ex);
		if ((unsigned __int128)ex * 1000 <= rt->flag_excess)
			v |= XF_SOFT;
		return v | maybe_warn(w, pr, t, rt);
	}
	/* One worker per pair in practice (RSS): a lost update between two costs a count. */
	XF_STORE(pr->demand, XF_LOAD(pr->demand) + 1);
	share = XF_LOAD(d->share);
	heavy = share != XF_SHARE_NONE && XF_LOAD(pr->rate) > share;
	/*
	 * At least one interval of tolerance: a heavy sender's packets come closer
	 * than that, so it gets f itself, not f rounded down to a fraction of its
	 * rate (tolerance under its spacing admits every k-th packet).
	 */
	ival = XF_LOAD(d->share_int);
	if (heavy) {
		uint64_t tf = ival > rt->tau2 ? ival : rt->tau2, old = XF_LOAD(pr->tatf);

		/*
		 * A debt beyond one interval past the tolerance comes from a smaller
		 * share than today's (a transient one costs 1/f each): forgive it.
		 */
		if (old > t + tf + ival) {
			old = t + ival;
			XF_STORE(pr->tatf, old);
		}
		if (!gcra_ok(old, t, tf))
			return XF_DROP_DST;
	}
	/*
	 * A sender under its share may borrow one more burst, paid back by the
	 * heavy; a destination the last tick found open takes bursts up to
	 * XF_OPEN_BURSTS tau2 (share_int, clamped: it may be a share's interval
	 * for the instant the control thread takes to publish the share).
	 */
	if (share != XF_SHARE_NONE)
		tau = heavy ? rt->tau2 : 2 * rt->tau2;
	else
		tau = clamp_u64(ival, rt->tau2, XF_OPEN_BURSTS * rt->tau2);
	if (!gcra_take(&d->tat2, t, XF_LOAD(d->cap_int), tau))
		return XF_DROP_DST;
	if (heavy)
		gcra_commit_pair(&pr->tatf, t, ival);
	return XF_PASS;
}

static unsigned filter_one(struct xf_worker *w, const struct xf_rt *rt, const struct xf_key *k,
			   uint64_t h, struct xf_pair *pr, uint64_t t)
{
	struct xf_dst *d;
	uint64_t ts1, ts2, win, old;
	unsigned v;

again:
	if (!pr) {
		pr = dp_tab_find(&w->e->pairs, h, xf_pair_eq, k);
		if (!pr)
			pr = pair_create(w, k, h, t, &v);
		if (!pr)
			goto out;
	}
	ts2 = XF_LOAD(pr->ts2);
	if (t > ts2) {
		if (t - ts2 > rt->tt1) {
			if (pair_restart(w, pr, t, rt->tt1)) {
				pr = NULL;
				goto again;
			}
		} else {
			xf_ts2_advance(pr, ts2, t);
		}
		ts2 = t;
	}

	d = pr->dst;
	/* The destination was seen (the round publishes what was), to a grain. */
	if (t > XF_LOAD(d->ts2) + XF_DST_TS2_GRAIN)
		XF_STORE(d->ts2, t);
	if (rt->policy == XF_POLICY_FAIR) {
		v = filter_fair(w, rt, pr, t);
		if (v != XF_PASS)
			goto out;
		goto admit;
	}

	/* Step 4: the pair's rate, counting this packet as if admitted. */
	ts1 = XF_LOAD(pr->ts1);
	win = ts2 - ts1;
	if (win > rt->tt2 && over_rate((XF_LOAD(pr->c) & ~XF_DEAD) + 1, win, rt->tf1)) {
		v = XF_DROP_PAIR | maybe_warn(w, pr, t, rt);
		goto out;
	}

	/* Step 5: the destination's rate; ts2* is this packet's time. */
	ts1 = XF_LOAD(d->ts1min);
	win = ts2 > ts1 ? ts2 - ts1 : 0;
	if (win > rt->tt3 && over_rate(XF_LOAD(d->csum) + 1, win, rt->tf2)) {
		v = XF_DROP_DST;
		goto out;
	}
	/* Step 5b: the same over every proxy's traffic, as the master last saw it. */
	if (XF_LOAD(d->g_seq) && dst_global_over(d, rt, ts2)) {
		v = XF_DROP_DST;
		goto out;
	}

	/* Step 6: admit. */
admit:
	old = __atomic_fetch_add(&pr->dc, 1, __ATOMIC_RELAXED);
	if (old & XF_DEAD) {
		pr = NULL; /* retired between lookup and now */
		goto again;
	}
	/* A pair retired since the add above has left the destination's sum. */
	old = __atomic_fetch_add(&pr->c, 1, __ATOMIC_RELAXED);
	if (!(old & XF_DEAD)) {
		__atomic_fetch_add(&d->csum, 1, __ATOMIC_RELAXED);
		if (old + 1 == rt->heavy_c)
			note(w, &pr->key, XF_NOTE_HEAVY);
	}
	__atomic_fetch_add(&d->adm, 1, __ATOMIC_RELAXED);
	v = XF_PASS;
out:
	xf_count(&w->st.verdict[xf_verdict_of(v)]);
	return v;
}

unsigned xf_filter(struct xf_worker *w, const struct xf_key *key, uint64_t now_ns)
{
	const struct xf_rt *rt = __atomic_load_n(&w->e->rt, __ATOMIC_CONSUME);

	return filter_one(w, rt, key, xf_hash_pair(w->e->seed, key), NULL, now_ns);
}

#define XF_BURST_MAX 64

/*
 * Four passes over the burst so that its cache misses overlap: hash and
 * prefetch the buckets; prefetch the entries their tags point at; find the
 * pairs and prefetch their destinations; then run the packets in order.  A pair created by an earlier packet of the same burst is
 * found again by filter_one(), so semantics equal one call per packet.
 */
unsigned xf_filter_burst(struct xf_worker *w, const struct xf_key *keys, uint8_t *verdicts,
			 unsigned n, uint64_t now_ns)
{
	struct xf_engine *e = w->e;
	const struct xf_rt *rt = __atomic_load_n(&e->rt, __ATOMIC_CONSUME);
	uint64_t h[XF_BURST_MAX];
	struct xf_pair *pr[XF_BURST_MAX];
	bool fair = rt->policy == XF_POLICY_FAIR;

	for (unsigned base = 0; base < n; base += XF_BURST_MAX) {
		unsigned m = n - base < XF_BURST_MAX ? n - base : XF_BURST_MAX;
		const struct xf_key *k = keys + base;

		for (unsigned i = 0; i < m; i++) {
			h[i] = xf_hash_pair(e->seed, &k[i]);
			dp_tab_prefetch(&e->pairs, h[i]);
		}
		/*
		 * Prefetch by tag alone: comparing keys now would stall on the pair.
		 * The fair policy's limiters live on the second line of the pair and
		 * of the destination: those too.
		 */
		for (unsigned i = 0; i < m; i++)
			dp_tab_prefetch_entry(&e->pairs, h[i], fair ? 2 : 1);
		for (unsigned i = 0; i < m; i++) {
			pr[i] = dp_tab_find(&e->pairs, h[i], xf_pair_eq, &k[i]);
			if (pr[i]) {
				/* Line two holds ts2 (and the fair policy's limiters). */
				__builtin_prefetch(pr[i]->dst);
				__builtin_prefetch((const char *)pr[i]->dst + 64);
			}
		}
		for (unsigned i = 0; i < m; i++)
			verdicts[base + i] = (uint8_t)filter_one(w, rt, &k[i], h[i], pr[i], now_ns);
	}
	return n;
}

/* --- workers, keys, clock --------------------------------------------------- */

struct xf_worker *xf_worker_new(struct xf_engine *e)
{
	struct xf_worker *w = aligned_alloc(64, sizeof(*w));

	if (!w)
		return NULL;
	memset(w, 0, sizeof(*w));
	w->e = e;
	pthread_mutex_lock(&e->workers_lock);
	cds_list_add(&w->node, &e->workers);
	pthread_mutex_unlock(&e->workers_lock);
	return w;
}

void xf_worker_free(struct xf_worker *w)
{
	struct xf_engine *e;

	if (!w)
		return;
	e = w->e;
	pthread_mutex_lock(&e->workers_lock);
	cds_list_del(&w->node);
	e->pass_gone += XF_LOAD(w->st.verdict[XF_PASS]);
	/* Its unread notes go with it: the next drain walks the pairs. */
	if (w->note_head != w->note_tail)
		XF_STORE(e->notes_lost, 1);
	pthread_mutex_unlock(&e->workers_lock);
	free(w);
}

void xf_worker_stats(const struct xf_worker *w, struct xf_worker_stats *out)
{
	dp_count_snapshot((uint64_t *)out, (const uint64_t *)&w->st,
			  sizeof(*out) / sizeof(uint64_t));
}

static const char *const verdict_names[XF_NVERDICTS] = {
	[XF_PASS] = "PASS",	      [XF_DROP_PAIR] = "DROP_PAIR",
	[XF_DROP_DST] = "DROP_DST",   [XF_DROP_DEVCAP] = "DROP_DEVCAP",
	[XF_DROP_FULL] = "DROP_FULL",
};

const char *xf_verdict_name(enum xf_verdict v)
{
	return (unsigned)v < XF_NVERDICTS ? verdict_names[v] : "?";
}

void xf_key_ipv4(struct xf_key *k, uint32_t dev, uint32_t dst_be)
{
	/* Every byte of the key written: 16 of address, 4 of device, no padding. */
	xpro_addr_from_v4(k->dst, &dst_be);
	k->dev = dev;
}

void xf_key_ipv6(struct xf_key *k, uint32_t dev, const uint8_t dst[16])
{
	memcpy(k->dst, dst, 16);
	k->dev = dev;
}

uint64_t xf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * XF_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
