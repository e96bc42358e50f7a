/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's report: the header, the thresholds, the per-row and per-destination tables,
 * when each check first fired and the engine's footprint.  The closing prose is summary.c's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

/* Percent, never shown as 100.0 while something is missing. */
double xr_pct(uint64_t part, uint64_t whole)
{
	double p = whole ? 100.0 * (double)part / (double)whole : 0.0;

	return part < whole && p > 99.9 ? 99.9 : p;
}

static const char *xr_pl(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static int xr_max_len(int w, const char *s)
{
	return (int)strlen(s) > w ? (int)strlen(s) : w;
}

/* "N packets from N devices to N destinations over S s" */
void xr_print_volume(FILE *out, const struct xr_run *run)
{
	fprintf(out, "%" PRIu64 " packet%s from %zu device%s to %zu destination%s over %.3f s",
		run->total.offered, xr_pl(run->total.offered), run->ndevs, xr_pl(run->ndevs),
		run->ndsts, xr_pl(run->ndsts), xr_phase_s(run));
}

/* Sort the n pointers in v by order; above max, keep only the max first by rank.  Returns n. */
static size_t xr_top(void *v, size_t n, size_t max, int (*rank)(const void *, const void *),
		     int (*order)(const void *, const void *))
{
	if (n > max) {
		qsort(v, n, sizeof(void *), rank);
		n = max;
	}
	qsort(v, n, sizeof(void *), order);
	return n;
}

/* ---- header and thresholds ---------------------------------------------------------------- */

static void xr_print_demo_header(const struct xr_run *run)
{
	printf("X-Pro filter engine, built-in scenario (seed %" PRIu64 "): %d s simulated, "
	       "attack from %d s\n\n",
	       run->cfg->seed, XR_DEMO_END_S, XR_DEMO_ATTACK_S);
	printf("  %-14s %7s %10s  %-26s %s\n", "who", "devices", "pkt/s each", "to", "from");
	for (size_t f = 0; f < xr_demo_nflows; f++) {
		const struct xr_flow *fl = &xr_demo_flows[f];

		printf("  %-14s %7u %10u  %-26s %u s\n", xr_demo_groups[fl->group].name,
		       fl->devices, fl->pps, run->dsts[fl->dst].name, fl->start_s);
	}
	printf("  (gaps between a device's packets vary randomly around the mean; the scanner\n"
	       "  picks a random address in " XR_DEMO_SCAN_NET " per packet)\n\n");
}

static void xr_print_trace_header(const struct xr_run *run)
{
	printf("X-Pro filter engine, trace %s: ", xr_trace_name(run->cfg->trace));
	xr_print_volume(stdout, run);
	printf("\n\n");
}

static void xr_print_config(const struct xr_run *run)
{
	const struct xf_params *p = &run->cfg->params;
	const struct xf_limits *l = &run->cfg->limits;

	printf("Thresholds: T_F1 = %" PRIu64 " pkt/s per (device, destination) pair, "
	       "T_F2 = %" PRIu64 " pkt/s per destination;\n",
	       p->tf1_pps, p->tf2_pps);
	printf("  T_T1 = %" PRIu64 " ms idle before a pair's window restarts, "
	       "T_T2 = %" PRIu64 " ms and T_T3 = %" PRIu64 " ms\n"
	       "  of window before the pair and destination checks apply; at most one warning\n"
	       "  per device per %" PRIu32 " ms.  Limits: %" PRIu32 " live pairs, %" PRIu32
	       " destinations per device.\n",
	       p->tt1_ms, p->tt2_ms, p->tt3_ms, p->warn_interval_ms, l->max_records,
	       l->max_dsts_per_dev);
	printf("  One worker; harvest and reclaim every simulated second.  T_T4 and r (Alg. 1)\n"
	       "  belong to the sync layer and are not replayed.\n\n");
}

/* ---- packets per group (or device) and destination ----------------------------------------- */

static void xr_group_label(const struct xr_run *run, uint32_t g, char *buf, size_t len)
{
	const struct xr_group *gr = &run->groups[g];

	if (run->labelled)
		snprintf(buf, len, "%s (%u)", gr->name, gr->devices);
	else
		snprintf(buf, len, "%s", gr->name);
}

static int xr_colw(int v)
{
	return xr_max_len(9, xf_verdict_name((enum xf_verdict)v));
}

static int xr_row_by_key(const void *a, const void *b)
{
	const struct xr_row *x = *(const struct xr_row *const *)a;
	const struct xr_row *y = *(const struct xr_row *const *)b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

static int xr_row_by_drops(const void *a, const void *b)
{
	const struct xr_row *x = *(const struct xr_row *const *)a;
	const struct xr_row *y = *(const struct xr_row *const *)b;
	uint64_t dx = x->all.offered - x->all.verdict[XF_PASS];
	uint64_t dy = y->all.offered - y->all.verdict[XF_PASS];

	if (dx != dy)
		return dx < dy ? 1 : -1;
	if (x->all.offered != y->all.offered)
		return x->all.offered < y->all.offered ? 1 : -1;
	return xr_row_by_key(a, b);
}

static void xr_print_count(const char *who, int gw, const char *dst, int dw,
			   const struct xr_count *c)
{
	printf("%-*.*s  %-*.*s %9" PRIu64, gw, gw, who, dw, dw, dst, c->offered);
	for (int v = 0; v < XF_NVERDICTS; v++)
		printf(" %*" PRIu64, xr_colw(v), c->verdict[v]);
	printf(" %8" PRIu64 " %8.1f%%\n", c->warnings, xr_pct(c->verdict[XF_PASS], c->offered));
}

static void xr_count_sum(struct xr_count *sum, const struct xr_count *c)
{
	sum->offered += c->offered;
	for (int v = 0; v < XF_NVERDICTS; v++)
		sum->verdict[v] += c->verdict[v];
	sum->warnings += c->warnings;
}

static void xr_print_rows_of(const struct xr_run *run, const struct xr_row **rows, size_t n)
{
	const char *who = run->labelled ? "group (devices)" : "device";
	struct xr_count rest = { 0 };
	char label[96], more[48];
	int gw = xr_max_len(5, who), dw = 11;

	snprintf(more, sizeof(more), "(%zu more rows)", run->nrows - n);
	if (n < run->nrows)
		gw = xr_max_len(gw, more);
	for (size_t i = 0; i < n; i++) {
		xr_group_label(run, rows[i]->group, label, sizeof(label));
		gw = xr_max_len(gw, label);
		dw = xr_max_len(dw, run->dsts[rows[i]->dst].name);
	}
	gw = gw > 40 ? 40 : gw;
	printf("%-*s  %-*s %9s", gw, who, dw, "destination", "offered");
	for (int v = 0; v < XF_NVERDICTS; v++)
		printf(" %*s", xr_colw(v), xf_verdict_name((enum xf_verdict)v));
	printf(" %8s %9s\n", "warnings", "delivered");
	for (size_t i = 0; i < n; i++) {
		xr_group_label(run, rows[i]->group, label, sizeof(label));
		xr_print_count(label, gw, run->dsts[rows[i]->dst].name, dw, &rows[i]->all);
	}
	if (n < run->nrows) {
		for (size_t i = n; i < run->nrows; i++)
			xr_count_sum(&rest, &rows[i]->all);
		xr_print_count(more, gw, "", dw, &rest);
	}
	xr_print_count("total", gw, "", dw, &run->total);
}

/* Per group and destination; above --rows rows, the rows that dropped most. */
static int xr_print_rows(const struct xr_run *run)
{
	const struct xr_row **rows = calloc(run->nrows + 1, sizeof(*rows));
	size_t n;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; i < run->nrows; i++)
		rows[i] = &run->rows[i];
	n = xr_top(rows, run->nrows, run->cfg->rows, xr_row_by_drops, xr_row_by_key);
	printf("Packets per %s and destination (delivered = PASS / offered)\n",
	       run->labelled ? "device group" : "device");
	xr_print_rows_of(run, rows, n);
	free(rows);
	return 0;
}

/* ---- per destination ------------------------------------------------------------------------ */

/* Delivered packets per second to d over the phase. */
double xr_dst_rate(const struct xr_run *run, const struct xr_dst *d)
{
	double secs = xr_phase_s(run);

	return secs > 0 ? (double)d->phase_pass / secs : 0;
}

/* Delivered packets per second over the last XR_CLOSE_S whole seconds of the phase, or -1. */
double xr_dst_close_rate(const struct xr_run *run, const struct xr_dst *d)
{
	uint64_t end = run->phase_to / XF_NSEC_PER_SEC, sum = 0;

	if (end < XR_CLOSE_S || (end - XR_CLOSE_S) * XF_NSEC_PER_SEC < run->phase_from)
		return -1;
	for (int i = 0; i < XR_RING; i++)
		if (d->ring_sec[i] != XR_NONE && d->ring_sec[i] >= end - XR_CLOSE_S &&
		    d->ring_sec[i] < end)
			sum += d->ring_pass[i];
	return (double)sum / XR_CLOSE_S;
}

static void xr_print_dst(const struct xr_run *run, const struct xr_dst *d, int dw)
{
	double rate = xr_dst_rate(run, d), close = xr_dst_close_rate(run, d);
	char peak[32] = "-", last[16] = "-";

	if (d->peak_pass)
		snprintf(peak, sizeof(peak), "%" PRIu64 " in %" PRIu64 "-%" PRIu64 " s",
			 d->peak_pass, d->peak_sec, d->peak_sec + 1);
	if (close >= 0)
		snprintf(last, sizeof(last), "%.0f", close);
	printf("%-*s %9" PRIu64 " %9" PRIu64 " %10.0f %7.2f  %-18s %10s\n", dw, d->name,
	       d->all.offered, d->all.verdict[XF_PASS], rate,
	       rate / (double)run->cfg->params.tf2_pps, peak, last);
}

static int xr_dst_by_index(const void *a, const void *b)
{
	const struct xr_dst *x = *(const struct xr_dst *const *)a;
	const struct xr_dst *y = *(const struct xr_dst *const *)b;

	return x < y ? -1 : x > y;
}

static int xr_dst_by_offered(const void *a, const void *b)
{
	const struct xr_dst *x = *(const struct xr_dst *const *)a;
	const struct xr_dst *y = *(const struct xr_dst *const *)b;

	if (x->all.offered != y->all.offered)
		return x->all.offered < y->all.offered ? 1 : -1;
	return xr_dst_by_index(a, b);
}

/* Real destinations (not the demo's scan aggregate); above --rows, the busiest. */
static int xr_print_dsts(const struct xr_run *run)
{
	const struct xr_dst **d = calloc(run->ndsts + 1, sizeof(*d));
	size_t n = 0, all;
	int dw = 11;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < run->ndsts; i++)
		if (!run->dsts[i].aggregate)
			d[n++] = &run->dsts[i];
	all = n;
	n = xr_top(d, n, run->cfg->rows, xr_dst_by_offered, xr_dst_by_index);
	for (size_t i = 0; i < n; i++)
		dw = xr_max_len(dw, d[i]->name);
	printf("\nPer destination: delivered pkt/s over the %s, %.3f-%.3f s, against T_F2 = %" PRIu64
	       "\n",
	       run->demo ? "attack" : "trace", xr_s(run->phase_from), xr_s(run->phase_to),
	       run->cfg->params.tf2_pps);
	printf("%-*s %9s %9s %10s %7s  %-18s %10s\n", dw, "destination", "offered", "delivered",
	       "pkt/s", "x T_F2", "busiest second", "last 10 s");
	for (size_t i = 0; i < n; i++)
		xr_print_dst(run, d[i], dw);
	if (n < all)
		printf("(%zu quieter destinations not shown)\n", all - n);
	free(d);
	return 0;
}

/* ---- first drops and the engine -------------------------------------------------------------- */

static bool xr_dst_dropped(const struct xr_dst *d)
{
	return d->all.verdict[XF_PASS] != d->all.offered;
}

static void xr_print_first_of(const struct xr_run *run, const struct xr_dst *d)
{
	printf("  %s:", d->name);
	for (int v = XF_PASS + 1; v < XF_NVERDICTS; v++)
		if (d->first[v] != XR_NONE)
			printf("  %s at %.3f (%s)", xf_verdict_name((enum xf_verdict)v),
			       xr_s(d->first[v]), run->groups[d->first_group[v]].name);
	putchar('\n');
}

static void xr_print_first(const struct xr_run *run)
{
	size_t dropped = 0, quiet = 0;

	printf("\nFirst time each check fired (seconds on the %s clock; whose packet it was)\n",
	       run->demo ? "simulated" : "trace's");
	for (size_t i = 0; i < run->ndsts; i++) {
		if (!xr_dst_dropped(&run->dsts[i]))
			quiet++;
		else if (dropped++ < run->cfg->rows)
			xr_print_first_of(run, &run->dsts[i]);
	}
	if (dropped > run->cfg->rows)
		printf("  (%zu more destinations with drops)\n", dropped - run->cfg->rows);
	if (quiet && quiet <= 3)
		for (size_t i = 0; i < run->ndsts; i++)
			if (!xr_dst_dropped(&run->dsts[i]))
				printf("  %s: nothing dropped\n", run->dsts[i].name);
	if (quiet > 3)
		printf("  nothing dropped at %zu %sdestinations\n", quiet, dropped ? "other " : "");
}

static void xr_print_engine(const struct xr_run *run)
{
	struct xf_worker_stats ws;
	const struct xf_engine_stats *pk = &run->peak;

	xf_worker_stats(run->wk, &ws);
	printf("\nEngine: %" PRIu64 " pairs created, %" PRIu64
	       " window restarts (idle > T_T1), %" PRIu64 " pairs reclaimed over %" PRIu64
	       " control ticks;\n"
	       "  peak %" PRIu64 " live pairs, %" PRIu64 " destinations, %" PRIu64
	       " devices: %" PRIu64 " bytes of records, %" PRIu64 " bytes of tables",
	       ws.pairs_created, ws.window_resets, run->reclaimed, run->ticks, pk->pairs, pk->dsts,
	       pk->devs, pk->bytes_records, pk->bytes_tables);
	if (pk->alloc_bytes)
		printf(",\n  %" PRIu64 " bytes in its %s arena", pk->alloc_bytes, pk->allocator);
	printf(".\n");
}

int xr_report(const struct xr_run *run)
{
	if (run->demo)
		xr_print_demo_header(run);
	else
		xr_print_trace_header(run);
	xr_print_config(run);
	if (xr_print_rows(run) || xr_print_dsts(run))
		return -ENOMEM;
	xr_print_first(run);
	xr_print_engine(run);
	return xr_print_summary(run);
}
