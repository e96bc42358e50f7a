/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's driver: feeds packets to the filter engine in time order, runs the control
 * tick (harvest and reclaim) on the simulated clock, accounts every verdict, and holds the
 * engine to the contract of include/xpro/filter.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "replay.h"

#define XR_TICK_NS XF_NSEC_PER_SEC /* harvest and reclaim, as the control thread will */
#define XR_CLOCK_BASE_NS (1000 * XF_NSEC_PER_SEC) /* engine clock = this + trace clock */
#define XR_MAX_ANOMALY_MSGS 10

double xr_s(uint64_t ns)
{
	return (double)ns / XF_NSEC_PER_SEC;
}

/* The length of the phase rates are measured over, in seconds. */
double xr_phase_s(const struct xr_run *run)
{
	return xr_s(run->phase_to - run->phase_from);
}

static void __attribute__((format(printf, 2, 3)))
xr_anomaly(struct xr_run *run, const char *fmt, ...)
{
	va_list ap;

	if (run->anomalies++ >= XR_MAX_ANOMALY_MSGS)
		return;
	fprintf(stderr, "xpro-replay: engine check failed: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the control tick ---------------------------------------------------------------------- */

static void xr_harvest_cb(const struct xf_pair_view *v, void *arg)
{
	struct xr_run *run = arg;

	run->harvested += v->dc;
}

static uint64_t xr_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void xr_sample(struct xr_run *run)
{
	struct xf_engine_stats st;
	struct xf_engine_stats *pk = &run->peak;

	xf_engine_stats(run->eng, &st);
	pk->pairs = xr_max(pk->pairs, st.pairs);
	pk->dsts = xr_max(pk->dsts, st.dsts);
	pk->devs = xr_max(pk->devs, st.devs);
	pk->bytes_records = xr_max(pk->bytes_records, st.bytes_records);
	pk->bytes_tables = xr_max(pk->bytes_tables, st.bytes_tables);
	pk->alloc_bytes = xr_max(pk->alloc_bytes, st.alloc_bytes);
	pk->allocator = st.allocator;
}

/* What the control thread will do every second: harvest deltas, reclaim idle pairs. */
static void xr_control(struct xr_run *run, uint64_t t)
{
	xf_engine_harvest(run->eng, xr_harvest_cb, run);
	run->reclaimed += xf_engine_reclaim(run->eng, XR_CLOCK_BASE_NS + t);
	run->ticks++;
	xr_sample(run);
}

/* ---- accounting ------------------------------------------------------------------------------ */

/* The warning flag must follow docs/algorithm.md step 4 exactly (one worker, no races). */
static void xr_check_warn(struct xr_run *run, const struct xr_event *ev, uint64_t t,
			  enum xf_verdict v, bool warn)
{
	struct xr_dev *d = &run->devs[ev->dev];
	uint64_t gap = (uint64_t)run->cfg->params.warn_interval_ms * XF_NSEC_PER_MSEC;
	bool due = d->last_warn == XR_NONE || t - d->last_warn >= gap;

	if (warn && v != XF_DROP_PAIR)
		xr_anomaly(run, "XF_WARN on a %s verdict (device %u, %.6f s)", xf_verdict_name(v),
			   ev->dev, xr_s(t));
	else if (warn && !due)
		xr_anomaly(run, "device %u warned at %.6f s, only %.6f s after its last warning",
			   ev->dev, xr_s(t), xr_s(t - d->last_warn));
	else if (!warn && v == XF_DROP_PAIR && due)
		xr_anomaly(run, "DROP_PAIR without XF_WARN for device %u at %.6f s (warning due)",
			   ev->dev, xr_s(t));
	if (warn)
		d->last_warn = t;
}

static void xr_count_add(struct xr_count *c, enum xf_verdict v, bool warn)
{
	c->offered++;
	c->verdict[v]++;
	c->warnings += warn;
}

static void xr_dst_close_second(struct xr_dst *d)
{
	if (d->sec != XR_NONE && d->sec_pass > d->peak_pass) {
		d->peak_pass = d->sec_pass;
		d->peak_sec = d->sec;
	}
}

static void xr_dst_pass(struct xr_dst *d, uint64_t sec)
{
	unsigned i = sec % XR_RING;

	if (d->sec != sec) {
		xr_dst_close_second(d);
		d->sec = sec;
		d->sec_pass = 0;
	}
	d->sec_pass++;
	if (d->ring_sec[i] != sec) {
		d->ring_sec[i] = sec;
		d->ring_pass[i] = 0;
	}
	d->ring_pass[i]++;
}

static void xr_first(struct xr_run *run, struct xr_row *r, const struct xr_event *ev, uint64_t t,
		     enum xf_verdict v)
{
	struct xr_dst *d = &run->dsts[ev->dst];

	if (r->first[v] == XR_NONE)
		r->first[v] = t;
	if (d->first[v] == XR_NONE) {
		d->first[v] = t;
		d->first_group[v] = ev->group;
	}
	if (run->first[v] == XR_NONE) {
		run->first[v] = t;
		run->first_group[v] = ev->group;
		run->first_dst[v] = ev->dst;
	}
}

static int xr_account(struct xr_run *run, const struct xr_event *ev, uint64_t t, unsigned raw)
{
	enum xf_verdict v = xf_verdict_of(raw);
	bool warn = raw & XF_WARN;
	struct xr_dst *d = &run->dsts[ev->dst];
	struct xr_row *r;

	if ((unsigned)v >= XF_NVERDICTS) {
		xr_anomaly(run, "xf_filter returned %#x", raw);
		return 0;
	}
	r = xr_row_get(run, ev->group, ev->dst);
	if (!r)
		return -ENOMEM;
	xr_count_add(&r->all, v, warn);
	xr_count_add(&d->all, v, warn);
	xr_count_add(&run->total, v, warn);
	if (t >= run->phase_from && t < run->phase_to) {
		r->phase_offered++;
		r->phase_pass += v == XF_PASS;
		d->phase_pass += v == XF_PASS;
	}
	if (v == XF_PASS)
		xr_dst_pass(d, t / XF_NSEC_PER_SEC);
	xr_first(run, r, ev, t, v);
	xr_check_warn(run, ev, t, v, warn);
	return 0;
}

/* ---- the run ----------------------------------------------------------------------------------- */

/* One packet, in time order: control ticks that are due, then Algorithm 2. */
int xr_packet(struct xr_run *run, const struct xr_event *ev)
{
	uint64_t t;
	unsigned v;

	if (!run->started) {
		run->started = true;
		run->phase_from = ev->t;
	}
	t = ev->t;
	run->last = t;
	while (run->next_tick <= t) {
		if (t - run->next_tick >= XR_TICK_NS)
			run->next_tick = t - t % XR_TICK_NS; /* skip idle seconds */
		xr_control(run, run->next_tick);
		run->next_tick += XR_TICK_NS;
	}
	rcu_read_lock();
	v = xf_filter(run->wk, &ev->key, XR_CLOCK_BASE_NS + t);
	rcu_read_unlock();
	return xr_account(run, ev, t, v);
}

int xr_run_init(struct xr_run *run, const struct xr_config *cfg)
{
	memset(run, 0, sizeof(*run));
	run->cfg = cfg;
	run->next_tick = XR_TICK_NS;
	run->phase_to = XR_NONE;
	xr_fill_none(run->first, XF_NVERDICTS);
	if (xr_map_init(&run->group_map) || xr_map_init(&run->dev_map) ||
	    xr_map_init(&run->dst_map) || xr_map_init(&run->row_map))
		return -ENOMEM;
	run->eng = xf_engine_new(&cfg->params, &cfg->limits, cfg->seed);
	if (!run->eng)
		return errno == EINVAL ? -EINVAL : -ENOMEM;
	run->wk = xf_worker_new(run->eng);
	return run->wk ? 0 : -ENOMEM;
}

void xr_run_free(struct xr_run *run)
{
	xf_worker_free(run->wk);
	xf_engine_free(run->eng);
	for (size_t i = 0; i < run->ngroups; i++)
		free(run->groups[i].name);
	free(run->groups);
	free(run->devs);
	free(run->dsts);
	free(run->rows);
	xr_map_free(&run->group_map);
	xr_map_free(&run->dev_map);
	xr_map_free(&run->dst_map);
	xr_map_free(&run->row_map);
}

/*
 * After the last packet: collect the deltas still out, then hold the engine to what its
 * header promises a single worker (counters, exact harvest, live pairs).
 */
void xr_finish(struct xr_run *run)
{
	struct xf_worker_stats ws;
	struct xf_engine_stats es;

	xf_engine_harvest(run->eng, xr_harvest_cb, run);
	xr_sample(run);
	xf_worker_stats(run->wk, &ws);
	xf_engine_stats(run->eng, &es);
	for (int v = 0; v < XF_NVERDICTS; v++)
		if (ws.verdict[v] != run->total.verdict[v])
			xr_anomaly(run, "worker counted %" PRIu64 " %s, the replay saw %" PRIu64,
				   ws.verdict[v], xf_verdict_name(v), run->total.verdict[v]);
	if (ws.warnings != run->total.warnings)
		xr_anomaly(run, "worker counted %" PRIu64 " warnings, the replay saw %" PRIu64,
			   ws.warnings, run->total.warnings);
	if (run->harvested != run->total.verdict[XF_PASS])
		xr_anomaly(run, "harvest handed out %" PRIu64 " packets, %" PRIu64 " were admitted",
			   run->harvested, run->total.verdict[XF_PASS]);
	if (es.pairs + run->reclaimed != ws.pairs_created)
		xr_anomaly(run,
			   "%" PRIu64 " live pairs + %" PRIu64 " reclaimed != %" PRIu64 " created",
			   es.pairs, run->reclaimed, ws.pairs_created);
	if (run->phase_to == XR_NONE)
		run->phase_to = run->started ? run->last : run->phase_from;
	for (size_t i = 0; i < run->ndsts; i++)
		xr_dst_close_second(&run->dsts[i]);
}
