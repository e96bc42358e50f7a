/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Naive, single-threaded reference model of docs/algorithm.md "Exact semantics":
 * a flat array of pairs, every aggregate recomputed by a full scan per packet.
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
	struct xf_worker_stats st;
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
		m->st.pairs_created++;
	} else if (now > pr->ts2 && now - pr->ts2 > tt1) {
		/* 2. Idle reset; dc is kept. */
		pr->ts1 = now;
		pr->c = 0;
		pr->mark = true;
		m->st.window_resets++;
	}

	/* 3. Last seen. */
	if (now > pr->ts2)
		pr->ts2 = now;

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
	if (!out->pairs)
		out->ts1 = 0;
	return out->pairs > 0;
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
