/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Naive, single-threaded reference model of docs/algorithm.md "Exact semantics"
 * and "Exact semantics of fair": a flat array of pairs and one of destinations,
 * every aggregate recomputed by a full scan per packet or per tick.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter_model.h"

struct fm_pair {
	struct xf_key key;
	uint64_t ts1, ts2; /* ts1', ts2' */
	uint64_t c; /* c': admitted in the current window */
	uint64_t dc; /* admitted, not yet harvested */
	bool mark; /* window restarted since the last harvest */
	bool live;
	/* fair policy */
	uint64_t tat1, tatf; /* T_F1 and share limiters */
	uint32_t demand, excess, rate, seen;
};

/*
 * A destination's fair-policy state: exists from the creation of its first
 * pair until fm_reclaim() finds it with no live pair.
 */
struct fm_dst {
	uint8_t addr[16];
	uint64_t tat2; /* cap limiter */
	uint64_t share, share_int, cap_int;
	uint64_t cap; /* C of the last tick */
	struct xf_share_view loc; /* local summary of the last tick */
	struct xf_share_view oth; /* the others' summary (xf_engine_share_apply) */
	uint32_t prov; /* proxies the cap is split over until the first apply; 1: none */
};

/* A device's last warning; exists from its first warning until it has no pair. */
struct fm_warn {
	uint32_t dev;
	uint64_t last_ns;
};

struct fm {
	struct xf_params p;
	struct xf_limits lim;
	struct fm_pair *pairs;
	size_t npairs, cap_pairs;
	struct fm_warn *warns;
	size_t nwarns, cap_warns;
	struct fm_dst *dsts;
	size_t ndsts, cap_dsts;
	bool ticked; /* fm_share() was called */
	uint64_t share_last; /* its now, as the spec's "last" */
	uint32_t peers; /* fm_share_peers(); 1 */
	struct xf_worker_stats st;
	struct fm_fair_stats fs;
};

static uint64_t ms_to_ns(uint64_t ms)
{
	return ms * XF_NSEC_PER_MSEC;
}

/* c / window > rate, exactly: c * 10^9 > rate * window. */
static bool fm_rate_above(uint64_t c, uint64_t window_ns, uint64_t rate_pps)
{
	return (unsigned __int128)c * XF_NSEC_PER_SEC > (unsigned __int128)rate_pps * window_ns;
}

static bool fm_key_eq(const struct xf_key *a, const struct xf_key *b)
{
	return a->dev == b->dev && memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

struct fm *fm_new(const struct xf_params *p, const struct xf_limits *lim)
{
	struct fm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->p = *p;
	m->lim = *lim;
	return m;
}

void fm_free(struct fm *m)
{
	if (!m)
		return;
	free(m->pairs);
	free(m->warns);
	free(m->dsts);
	free(m);
}

void fm_set_params(struct fm *m, const struct xf_params *p)
{
	m->p = *p;
}

static struct fm_pair *fm_find(const struct fm *m, const struct xf_key *key)
{
	for (size_t i = 0; i < m->npairs; i++)
		if (m->pairs[i].live && fm_key_eq(&m->pairs[i].key, key))
			return &m->pairs[i];
	return NULL;
}

static size_t fm_live_pairs(const struct fm *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->npairs; i++)
		n += m->pairs[i].live;
	return n;
}

static size_t fm_dev_pairs(const struct fm *m, uint32_t dev)
{
	size_t n = 0;

	for (size_t i = 0; i < m->npairs; i++)
		n += m->pairs[i].live && m->pairs[i].key.dev == dev;
	return n;
}

static struct fm_pair *fm_append(struct fm *m, const struct xf_key *key, uint64_t now)
{
	struct fm_pair *pr;

	if (m->npairs == m->cap_pairs) {
		size_t cap = m->cap_pairs ? 2 * m->cap_pairs : 64;
		struct fm_pair *np = realloc(m->pairs, cap * sizeof(*np));

		if (!np)
			abort();
		m->pairs = np;
		m->cap_pairs = cap;
	}
	pr = &m->pairs[m->npairs++];
	memset(pr, 0, sizeof(*pr));
	pr->key = *key;
	pr->ts1 = now;
	pr->ts2 = now;
	pr->live = true;
	return pr;
}

static bool fm_dst_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, 16) == 0;
}

static struct fm_dst *fm_dst_find(const struct fm *m, const uint8_t dst[16])
{
	for (size_t i = 0; i < m->ndsts; i++)
		if (fm_dst_eq(m->dsts[i].addr, dst))
			return &m->dsts[i];
	return NULL;
}

/* ceil(a / b) */
static uint64_t fm_div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

/* I(R) of a rate in packets/s, and of a fixed-point rate. */
static uint64_t fm_ival_pps(uint64_t pps)
{
	return fm_div_up(XF_NSEC_PER_SEC, pps);
}

static uint64_t fm_ival_fix(uint64_t f)
{
	return fm_div_up(XF_RATE_ONE * XF_NSEC_PER_SEC, f);
}

/* A destination's state, created with its first pair, with the T_F2 in force. */
static void fm_dst_get(struct fm *m, const uint8_t dst[16])
{
	struct fm_dst *d;

	if (fm_dst_find(m, dst))
		return;
	if (m->ndsts == m->cap_dsts) {
		size_t cap = m->cap_dsts ? 2 * m->cap_dsts : 16;
		struct fm_dst *nd = realloc(m->dsts, cap * sizeof(*nd));

		if (!nd)
			abort();
		m->dsts = nd;
		m->cap_dsts = cap;
	}
	d = &m->dsts[m->ndsts++];
	memset(d, 0, sizeof(*d));
	memcpy(d->addr, dst, 16);
	d->share = XF_SHARE_NONE;
	d->prov = m->peers ? m->peers : 1;
	d->cap_int = fm_ival_pps(m->p.tf2_pps) * d->prov;
	d->cap = (uint64_t)XF_RATE_ONE * m->p.tf2_pps / d->prov;
	d->loc.share = XF_SHARE_NONE;
	memcpy(d->loc.dst, dst, 16);
	memcpy(d->oth.dst, dst, 16);
}

static struct fm_warn *fm_warn_find(struct fm *m, uint32_t dev)
{
	for (size_t i = 0; i < m->nwarns; i++)
		if (m->warns[i].dev == dev)
			return &m->warns[i];
	return NULL;
}

/* Step 4's warning flag: never warned, or last warning at least the interval old. */
static bool fm_should_warn(struct fm *m, uint32_t dev, uint64_t now)
{
	struct fm_warn *w = fm_warn_find(m, dev);

	if (w) {
		if (now < w->last_ns || now - w->last_ns < ms_to_ns(m->p.warn_interval_ms))
			return false;
		w->last_ns = now;
		return true;
	}
	if (m->nwarns == m->cap_warns) {
		size_t cap = m->cap_warns ? 2 * m->cap_warns : 16;
		struct fm_warn *nw = realloc(m->warns, cap * sizeof(*nw));

		if (!nw)
			abort();
		m->warns = nw;
		m->cap_warns = cap;
	}
	m->warns[m->nwarns].dev = dev;
	m->warns[m->nwarns].last_ns = now;
	m->nwarns++;
	return true;
}

static unsigned fm_verdict(struct fm *m, unsigned v)
{
	m->st.verdict[xf_verdict_of(v)]++;
	if (v & XF_WARN)
		m->st.warnings++;
	return v;
}

/* A packet at t conforms to (tat, I, tau) when max(tat, t) <= t + tau. */
static bool fm_conforms(uint64_t tat, uint64_t t, uint64_t tau)
{
	return (tat > t ? tat : t) <= t + tau;
}

/* Committing it: tat = max(tat, t) + I. */
static void fm_commit(uint64_t *tat, uint64_t t, uint64_t ival)
{
	*tat = (*tat > t ? *tat : t) + ival;
}

/* The fair policy's steps 4-7, after the lookup, the idle restart and ts2. */
static unsigned fm_filter_fair(struct fm *m, struct fm_pair *pr, uint64_t now)
{
	struct fm_dst *d = fm_dst_find(m, pr->key.dst);
	const uint64_t tau1 = ms_to_ns(m->p.pair_burst_ms);
	const uint64_t tau2 = ms_to_ns(m->p.dst_burst_ms);
	uint64_t tau, tauf;
	bool heavy;

	if (!d)
		abort(); /* created with the pair, removed only with its last pair */

	/* 4. Pair limiter over everything the device offers. */
	if (!fm_conforms(pr->tat1, now, tau1)) {
		unsigned v = XF_DROP_PAIR;

		if (pr->excess != UINT32_MAX)
			pr->excess++;
		if (!((unsigned __int128)pr->excess * 1000 >
		      (unsigned __int128)m->p.tf1_pps * m->p.tflag_ms)) {
			v |= XF_SOFT;
			m->fs.pair_soft++;
		} else {
			m->fs.pair_hard++;
		}
		if (fm_should_warn(m, pr->key.dev, now))
			v |= XF_WARN;
		return fm_verdict(m, v);
	}
	fm_commit(&pr->tat1, now, fm_ival_pps(m->p.tf1_pps));
	pr->demand++;

	/* 5. Share: a sender above f(D) is held to it. */
	heavy = d->share != XF_SHARE_NONE && pr->rate > d->share;
	tauf = d->share_int > tau2 ? d->share_int : tau2;
	if (heavy && pr->tatf > now + tauf + d->share_int) /* spec: a smaller share's debt */
		pr->tatf = now + d->share_int;
	if (heavy && !fm_conforms(pr->tatf, now, tauf)) {
		m->fs.share_drops++;
		return fm_verdict(m, XF_DROP_DST);
	}

	/* 6. Cap; a sender under its share may borrow one more burst. */
	if (d->share != XF_SHARE_NONE)
		tau = heavy ? tau2 : 2 * tau2;
	else
		/* spec: share_int clamped to [tau2, 5 tau2]; 0 before the first tick */
		tau = d->share_int < tau2	? tau2
		      : d->share_int > 5 * tau2 ? 5 * tau2
						: d->share_int;
	if (!fm_conforms(d->tat2, now, tau)) {
		if (d->share == XF_SHARE_NONE)
			m->fs.cap_drops_open++;
		else if (heavy)
			m->fs.cap_drops_heavy++;
		else
			m->fs.cap_drops_light++;
		return fm_verdict(m, XF_DROP_DST);
	}
	if (!fm_conforms(d->tat2, now, tau2))
		m->fs.borrowed++;
	fm_commit(&d->tat2, now, d->cap_int);
	if (heavy)
		fm_commit(&pr->tatf, now, d->share_int);
	if (d->share == XF_SHARE_NONE)
		m->fs.pass_open++;
	else if (heavy)
		m->fs.pass_heavy++;
	else
		m->fs.pass_light++;

	/* 7. Admit. */
	pr->c++;
	pr->dc++;
	return fm_verdict(m, XF_PASS);
}

unsigned fm_filter(struct fm *m, const struct xf_key *key, uint64_t now)
{
	const uint64_t tt1 = ms_to_ns(m->p.tt1_ms);
	const uint64_t tt2 = ms_to_ns(m->p.tt2_ms);
	const uint64_t tt3 = ms_to_ns(m->p.tt3_ms);
	struct fm_pair *pr = fm_find(m, key);
	uint64_t ts1s = UINT64_MAX, ts2s = 0, cs = 0;

	/* 1. Lookup; create on a miss unless the device or the engine is full. */
	if (!pr) {
		if (fm_dev_pairs(m, key->dev) >= m->lim.max_dsts_per_dev)
			return fm_verdict(m, XF_DROP_DEVCAP);
		if (fm_live_pairs(m) >= m->lim.max_records)
			return fm_verdict(m, XF_DROP_FULL);
		pr = fm_append(m, key, now);
		fm_dst_get(m, key->dst);
		m->st.pairs_created++;
	} else if (now > pr->ts2 && now - pr->ts2 > tt1) {
		/* 2. Idle reset; dc is kept.  (fair: also the window's excess.) */
		pr->ts1 = now;
		pr->c = 0;
		pr->mark = true;
		pr->excess = 0;
		m->st.window_resets++;
	}

	/* 3. Last seen. */
	if (now > pr->ts2)
		pr->ts2 = now;

	if (m->p.policy == XF_POLICY_FAIR)
		return fm_filter_fair(m, pr, now);

	/* 4. Pair check. */
	if (pr->ts2 - pr->ts1 > tt2 && fm_rate_above(pr->c + 1, pr->ts2 - pr->ts1, m->p.tf1_pps)) {
		unsigned v = XF_DROP_PAIR;

		if (fm_should_warn(m, key->dev, now))
			v |= XF_WARN;
		return fm_verdict(m, v);
	}

	/* 5. Destination check over every live pair of the destination. */
	for (size_t i = 0; i < m->npairs; i++) {
		const struct fm_pair *q = &m->pairs[i];

		if (!q->live || memcmp(q->key.dst, key->dst, sizeof(key->dst)) != 0)
			continue;
		if (q->ts1 < ts1s)
			ts1s = q->ts1;
		if (q->ts2 > ts2s)
			ts2s = q->ts2;
		cs += q->c;
	}
	if (ts2s - ts1s > tt3 && fm_rate_above(cs + 1, ts2s - ts1s, m->p.tf2_pps))
		return fm_verdict(m, XF_DROP_DST);

	/* 6. Admit. */
	pr->c++;
	pr->dc++;
	return fm_verdict(m, XF_PASS);
}

uint64_t fm_harvest(struct fm *m, size_t *handed)
{
	uint64_t sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < m->npairs; i++) {
		struct fm_pair *pr = &m->pairs[i];

		if (!pr->live)
			continue;
		if (pr->dc || pr->mark)
			n++;
		sum += pr->dc;
		pr->dc = 0;
		pr->mark = false;
	}
	if (handed)
		*handed = n;
	return sum;
}

size_t fm_reclaim(struct fm *m, uint64_t now)
{
	const uint64_t tt1 = ms_to_ns(m->p.tt1_ms);
	size_t freed = 0, j = 0;

	for (size_t i = 0; i < m->npairs; i++) {
		struct fm_pair *pr = &m->pairs[i];

		if (pr->live && now > pr->ts2 && now - pr->ts2 > tt1 && pr->dc == 0) {
			pr->live = false;
			freed++;
		}
	}
	/* Compact the array (keeps the scans short); order is preserved. */
	for (size_t i = 0; i < m->npairs; i++)
		if (m->pairs[i].live)
			m->pairs[j++] = m->pairs[i];
	m->npairs = j;

	/* A destination with no pair left is removed, its fair state with it. */
	j = 0;
	for (size_t i = 0; i < m->ndsts; i++) {
		bool used = false;

		for (size_t k = 0; k < m->npairs && !used; k++)
			used = fm_dst_eq(m->pairs[k].key.dst, m->dsts[i].addr);
		if (used)
			m->dsts[j++] = m->dsts[i];
	}
	m->ndsts = j;

	/* A device with no pair left is removed, its warning time with it. */
	j = 0;
	for (size_t i = 0; i < m->nwarns; i++)
		if (fm_dev_pairs(m, m->warns[i].dev) > 0)
			m->warns[j++] = m->warns[i];
	m->nwarns = j;
	return freed;
}

static void fm_view(const struct fm_pair *pr, struct xf_pair_view *out)
{
	memset(out, 0, sizeof(*out));
	out->key = pr->key;
	out->ts1 = pr->ts1;
	out->ts2 = pr->ts2;
	out->count = pr->c;
	out->dc = pr->dc;
	out->mark = pr->mark;
	out->demand = pr->demand;
	out->excess = pr->excess;
	out->rate = pr->rate;
}

bool fm_pair(const struct fm *m, const struct xf_key *key, struct xf_pair_view *out)
{
	const struct fm_pair *pr = fm_find(m, key);

	if (!pr)
		return false;
	fm_view(pr, out);
	return true;
}

bool fm_dst(const struct fm *m, const uint8_t dst[16], struct xf_dst_view *out)
{
	const struct fm_dst *d;

	memset(out, 0, sizeof(*out));
	out->ts1 = UINT64_MAX;
	for (size_t i = 0; i < m->npairs; i++) {
		const struct fm_pair *q = &m->pairs[i];

		if (!q->live || memcmp(q->key.dst, dst, sizeof(q->key.dst)) != 0)
			continue;
		if (q->ts1 < out->ts1)
			out->ts1 = q->ts1;
		if (q->ts2 > out->ts2)
			out->ts2 = q->ts2;
		out->count += q->c;
		out->pairs++;
	}
	if (!out->pairs) {
		out->ts1 = 0;
		return false;
	}
	d = fm_dst_find(m, dst);
	if (!d)
		abort();
	out->share = d->share;
	out->cap = d->cap; /* before the first tick: 16 * T_F2 at creation */
	out->senders = d->loc.senders;
	out->demand = d->loc.demand;
	return true;
}

void fm_counts(const struct fm *m, uint64_t *pairs, uint64_t *dsts, uint64_t *devs)
{
	uint64_t np = 0, nd = 0, nv = 0;

	for (size_t i = 0; i < m->npairs; i++) {
		const struct fm_pair *q = &m->pairs[i];
		bool dst_seen = false, dev_seen = false;

		if (!q->live)
			continue;
		np++;
		/* First live pair of its destination / device counts it. */
		for (size_t k = 0; k < i; k++) {
			const struct fm_pair *o = &m->pairs[k];

			if (!o->live)
				continue;
			if (memcmp(o->key.dst, q->key.dst, sizeof(q->key.dst)) == 0)
				dst_seen = true;
			if (o->key.dev == q->key.dev)
				dev_seen = true;
		}
		nd += !dst_seen;
		nv += !dev_seen;
	}
	if (pairs)
		*pairs = np;
	if (dsts)
		*dsts = nd;
	if (devs)
		*devs = nv;
}

void fm_stats(const struct fm *m, struct xf_worker_stats *out)
{
	*out = m->st;
}

void fm_for_each_pair(const struct fm *m, void (*fn)(const struct xf_pair_view *, void *),
		      void *arg)
{
	struct xf_pair_view v;

	for (size_t i = 0; i < m->npairs; i++) {
		if (!m->pairs[i].live)
			continue;
		fm_view(&m->pairs[i], &v);
		fn(&v, arg);
	}
}

const char *fm_key_str(const struct xf_key *k, char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char a[INET6_ADDRSTRLEN];

	if (memcmp(k->dst, v4mapped, sizeof(v4mapped)) == 0) {
		inet_ntop(AF_INET, k->dst + 12, a, sizeof(a));
		snprintf(buf, len, "dev %u -> %s", k->dev, a);
	} else {
		inet_ntop(AF_INET6, k->dst, a, sizeof(a));
		snprintf(buf, len, "dev %u -> [%s]", k->dev, a);
	}
	return buf;
}

/* ------------------------------------------------------------------------- */
/* The fair share tick. */

static __int128 fm_min128(__int128 a, __int128 b)
{
	return a < b ? a : b;
}

/* O(f): what the other proxies admit at share f. */
static __int128 fm_others_at(const struct xf_share_view *o, __int128 f)
{
	__int128 x;

	if (o->share == XF_SHARE_NONE) /* spec: as if their senders sent alike */
		return fm_min128(o->demand, (__int128)o->senders * f);
	x = (__int128)o->admitted + (__int128)o->heavy * (f - (__int128)o->share);
	if (x < 0)
		x = 0;
	return fm_min128(o->demand, x);
}

/* Step 1 for one pair: its demand rate over the last dt ns. */
static void fm_rate_update(struct fm_pair *pr, uint64_t dt, uint64_t taur)
{
	uint32_t delta = pr->demand - pr->seen;
	unsigned __int128 inst;

	pr->seen = pr->demand;
	inst = (unsigned __int128)delta * XF_RATE_ONE * XF_NSEC_PER_SEC / dt;
	if (inst > UINT32_MAX)
		inst = UINT32_MAX;
	if (pr->rate == 0 || dt >= taur)
		pr->rate = (uint32_t)inst;
	else
		pr->rate =
			(uint32_t)(((unsigned __int128)pr->rate * (taur - dt) + inst * dt) / taur);
}

/* Step 2 for one destination: the water-filling solve, share_int, the cap. */
static void fm_solve(struct fm *m, struct fm_dst *d)
{
	const struct xf_share_view *o = &d->oth;
	const __int128 T = (__int128)XF_RATE_ONE * m->p.tf2_pps;
	uint64_t n = 0, S = 0, heavy = 0, adm = 0, share;
	__int128 C;

	for (size_t i = 0; i < m->npairs; i++) {
		const struct fm_pair *q = &m->pairs[i];

		if (q->live && fm_dst_eq(q->key.dst, d->addr) && q->rate > 0) {
			n++;
			S += q->rate;
		}
	}

	if ((__int128)S + o->demand <= T) {
		share = XF_SHARE_NONE;
	} else {
		/* n + on is 0 only for a summary with demand and no sender. */
		__int128 f = T / (__int128)(n + o->senders ? n + o->senders : 1);

		if (f < 1)
			f = 1;
		for (int it = 0; it < 16; it++) {
			__int128 L = fm_others_at(o, f), step;
			uint64_t mm = o->share != XF_SHARE_NONE			       ? o->heavy
				      : (__int128)o->senders * f < (__int128)o->demand ? o->senders
										       : 0;

			for (size_t i = 0; i < m->npairs; i++) {
				const struct fm_pair *q = &m->pairs[i];

				if (!q->live || !fm_dst_eq(q->key.dst, d->addr))
					continue;
				L += fm_min128(q->rate, f);
				mm += q->rate > f;
			}
			if (mm == 0)
				break;
			step = (T - L) / (__int128)mm; /* C: truncated towards zero */
			if (step == 0)
				break;
			f += step;
			if (f < 1)
				f = 1;
			m->fs.solve_steps++;
		}
		share = (uint64_t)f;
	}
	d->share = share;
	/* spec: while open, the cap's tolerance after a tick */
	d->share_int =
		share == XF_SHARE_NONE ? 5 * ms_to_ns(m->p.dst_burst_ms) : fm_ival_fix(share);

	C = T -
	    (share == XF_SHARE_NONE ? fm_min128(o->demand, o->admitted) : fm_others_at(o, share));
	if (C < XF_RATE_ONE)
		C = XF_RATE_ONE;
	if (C > T)
		C = T;
	if (d->prov > 1 && C > T / d->prov) /* spec: no summary from the others yet */
		C = T / d->prov < XF_RATE_ONE ? XF_RATE_ONE : T / d->prov;
	if (share != XF_SHARE_NONE) /* spec: headroom */
		C += C / 16;
	d->cap = (uint64_t)C;
	d->cap_int = fm_ival_fix((uint64_t)C);

	for (size_t i = 0; i < m->npairs; i++) {
		const struct fm_pair *q = &m->pairs[i];

		if (!q->live || !fm_dst_eq(q->key.dst, d->addr))
			continue;
		if (share != XF_SHARE_NONE) {
			heavy += q->rate > share;
			adm += q->rate < share ? q->rate : share;
		}
	}
	d->loc.senders = (uint32_t)n;
	d->loc.heavy = (uint32_t)heavy;
	d->loc.demand = S;
	d->loc.admitted = share == XF_SHARE_NONE ? S : adm;
	d->loc.share = share;
	if (n) {
		if (share == XF_SHARE_NONE)
			m->fs.dst_open++;
		else
			m->fs.dst_congested++;
	}
}

size_t fm_share(struct fm *m, uint64_t now)
{
	uint64_t dt = 0;
	size_t congested = 0;

	if (!m->ticked) {
		m->ticked = true;
		m->share_last = now;
	} else if (now > m->share_last) {
		dt = now - m->share_last;
		m->share_last = now;
	}
	m->fs.ticks++;
	if (dt > 0)
		for (size_t i = 0; i < m->npairs; i++)
			if (m->pairs[i].live)
				fm_rate_update(&m->pairs[i], dt, ms_to_ns(m->p.rate_ms));
	for (size_t i = 0; i < m->ndsts; i++) {
		fm_solve(m, &m->dsts[i]);
		congested += m->dsts[i].share != XF_SHARE_NONE;
	}
	return congested;
}

size_t fm_share_foreach(const struct fm *m, void (*fn)(const struct xf_share_view *, void *),
			void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < m->ndsts; i++) {
		if (!m->dsts[i].loc.senders)
			continue;
		fn(&m->dsts[i].loc, arg);
		n++;
	}
	return n;
}

void fm_share_peers(struct fm *m, uint32_t proxies)
{
	m->peers = proxies ? proxies : 1;
}

bool fm_share_apply(struct fm *m, const struct xf_share_view *others)
{
	struct fm_dst *d = fm_dst_find(m, others->dst);

	if (!d)
		return false;
	d->prov = 1;
	if (others->senders) {
		d->oth = *others;
	} else {
		memset(&d->oth, 0, sizeof(d->oth));
		memcpy(d->oth.dst, others->dst, 16);
	}
	return true;
}

void fm_fair_stats(const struct fm *m, struct fm_fair_stats *out)
{
	*out = m->fs;
}
