/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sink's accounting: an open-addressing table of (source, flow) entries,
 * per-flow order, duplicate and corruption checks, and the rate windows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../flowpay.h"
#include "sink.h"

uint64_t sink_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sink_init(struct sink *s, const struct sink_cfg *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->cap = 1024;
	s->flows = calloc(s->cap, sizeof(*s->flows));
	s->window_ms = cfg->rate_window_ms ? cfg->rate_window_ms : 1000;
	s->windows = calloc(SINK_MAX_WINDOWS, sizeof(*s->windows));
	s->fwindows = calloc(SINK_MAX_WINDOWS, sizeof(*s->fwindows));
	if (!s->flows || !s->windows || !s->fwindows) {
		sink_free(s);
		return -ENOMEM;
	}
	s->start_ns = sink_now_ns();
	return 0;
}

void sink_free(struct sink *s)
{
	free(s->flows);
	free(s->windows);
	free(s->fwindows);
	s->fwindows = NULL;
	s->flows = NULL;
	s->windows = NULL;
}

static uint64_t sink_hash(const uint8_t src[16], uint32_t flow)
{
	uint64_t a, b, st;

	memcpy(&a, src, 8);
	memcpy(&b, src + 8, 8);
	st = a ^ (b * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)flow << 17);
	return fp_mix(&st);
}

static struct sink_flow *sink_slot(struct sink_flow *tab, size_t cap, const uint8_t src[16],
				   uint32_t flow)
{
	size_t i = sink_hash(src, flow) & (cap - 1);

	while (tab[i].used && (tab[i].flow != flow || memcmp(tab[i].src, src, 16)))
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Double the table; on failure keep the old one (it is only more crowded). */
static void sink_grow(struct sink *s)
{
	size_t ncap = s->cap * 2;
	struct sink_flow *n = calloc(ncap, sizeof(*n));

	if (!n)
		return;
	for (size_t i = 0; i < s->cap; i++)
		if (s->flows[i].used)
			*sink_slot(n, ncap, s->flows[i].src, s->flows[i].flow) = s->flows[i];
	free(s->flows);
	s->flows = n;
	s->cap = ncap;
}

static struct sink_flow *sink_lookup(struct sink *s, const uint8_t src[16], uint32_t flow)
{
	struct sink_flow *f = sink_slot(s->flows, s->cap, src, flow);

	if (f->used)
		return f;
	if (s->used >= s->cfg->max_flows || s->used + 1 > s->cap / 2) {
		if (s->used >= s->cfg->max_flows)
			return NULL;
		sink_grow(s);
		f = sink_slot(s->flows, s->cap, src, flow);
		if (s->used + 1 > s->cap * 3 / 4)
			return NULL;
	}
	f->used = true;
	memcpy(f->src, src, 16);
	f->flow = flow;
	s->used++;
	return f;
}

static bool sink_seen_test_set(struct sink_flow *f, uint64_t back)
{
	uint64_t bit = 1ull << (back % 64);
	bool was = f->seen[back / 64] & bit;

	f->seen[back / 64] |= bit;
	return was;
}

/* Slide the window up to a new highest sequence number seq > max_seq. */
static void sink_seen_advance(struct sink_flow *f, uint64_t seq)
{
	uint64_t d = seq - f->max_seq;
	const unsigned nw = SINK_DUP_WINDOW / 64;

	if (d >= SINK_DUP_WINDOW) {
		memset(f->seen, 0, sizeof(f->seen));
	} else {
		unsigned words = d / 64, bits = d % 64;

		for (int i = nw - 1; i >= 0; i--) {
			uint64_t lo = i >= (int)words ? f->seen[i - words] : 0;
			uint64_t lo2 = i >= (int)words + 1 ? f->seen[i - words - 1] : 0;

			f->seen[i] = bits ? (lo << bits) | (lo2 >> (64 - bits)) : lo;
		}
	}
	f->max_seq = seq;
	f->seen[0] |= 1;
}

/* The first good datagram of f sets its first, lowest and highest sequence numbers. */
static void sink_seq(struct sink *s, struct sink_flow *f, uint64_t seq)
{
	if (f->in_order + f->out_of_order + f->dups == 0) {
		f->first_seq = f->min_seq = f->max_seq = seq;
		f->seen[0] = 1;
		f->in_order++;
		s->tot.in_order++;
		return;
	}
	if (seq < f->min_seq)
		f->min_seq = seq;
	if (seq > f->max_seq) {
		sink_seen_advance(f, seq);
		f->in_order++;
		s->tot.in_order++;
	} else if (f->max_seq - seq < SINK_DUP_WINDOW && sink_seen_test_set(f, f->max_seq - seq)) {
		f->dups++;
		s->tot.dups++;
	} else {
		f->out_of_order++;
		s->tot.out_of_order++;
	}
}

void sink_account(struct sink *s, const uint8_t src[16], const void *p, size_t len, bool decoded,
		  uint64_t now_ns)
{
	uint32_t flow = SINK_NO_FLOW;
	uint64_t seq = 0, tx_ns = 0;
	int err = decoded ? fp_check(p, len, &flow, &seq, &tx_ns) : -EBADMSG;
	struct sink_flow *f;

	s->tot.rx++;
	s->tot.bytes += len;
	if (err == -ENOMSG || !decoded)
		flow = SINK_NO_FLOW;
	f = sink_lookup(s, src, flow);
	if (!f) {
		s->tot.table_full++;
		return;
	}
	f->rx++;
	f->bytes += len;
	if (f->rx == 1)
		f->first_ns = now_ns;
	f->last_ns = now_ns;
	if (err == -ENOMSG) {
		s->tot.not_flow++;
		return;
	}
	if (err) {
		/* A corrupted datagram's sequence number cannot be trusted: no order check. */
		f->corrupt++;
		s->tot.corrupt++;
		return;
	}
	if (tx_ns && tx_ns <= now_ns) {
		uint64_t lat = now_ns - tx_ns;

		if (!f->lat_n || lat < f->lat_min_ns)
			f->lat_min_ns = lat;
		if (lat > f->lat_max_ns)
			f->lat_max_ns = lat;
		f->lat_n++;
		f->lat_sum_ns += lat;
	}
	sink_seq(s, f, seq); /* order is over the good datagrams only */
}

uint64_t sink_flow_missing(const struct sink_flow *f)
{
	uint64_t unique = f->in_order + f->out_of_order, span;

	if (f->flow == SINK_NO_FLOW || !unique)
		return 0;
	span = f->max_seq - f->min_seq + 1;
	return span > unique ? span - unique : 0;
}

void sink_window_add(struct sink *s, uint64_t now_ns, unsigned n)
{
	uint64_t w = (now_ns - s->start_ns) / (s->window_ms * 1000000ull);

	if (w < SINK_MAX_WINDOWS) {
		s->windows[w] += n;
		if (w + 1 > s->nwindows)
			s->nwindows = w + 1;
	}
	if (!s->first_ns)
		s->first_ns = now_ns;
	w = (now_ns - s->first_ns) / (s->window_ms * 1000000ull);
	if (w < SINK_MAX_WINDOWS) {
		s->fwindows[w] += n;
		if (w + 1 > s->nfwindows)
			s->nfwindows = w + 1;
	}
}
