/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sink's final summary: a human table, or one JSON object for scripts
 * (tests read it with jq or python3).  Flows are sorted by source, then flow id.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "xpro/addr_text.h"
#include "sink.h"

static void sink_addr_str(const uint8_t a[16], char *buf, size_t len)
{
	xpro_addr_format(a, 0, buf, len);
}

static int sink_flow_cmp(const void *a, const void *b)
{
	const struct sink_flow *x = *(const struct sink_flow *const *)a;
	const struct sink_flow *y = *(const struct sink_flow *const *)b;
	int c = memcmp(x->src, y->src, 16);

	if (c)
		return c;
	return x->flow < y->flow ? -1 : x->flow > y->flow;
}

/* The used entries, sorted; NULL if there are none or memory ran out. */
static struct sink_flow **sink_sorted(struct sink *s)
{
	struct sink_flow **v = calloc(s->used + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->cap; i++)
		if (s->flows[i].used)
			v[n++] = &s->flows[i];
	qsort(v, n, sizeof(*v), sink_flow_cmp);
	return v;
}

static double sink_flow_pps(const struct sink_flow *f)
{
	return f->rx > 1 && f->last_ns > f->first_ns
		       ? (double)(f->rx - 1) * 1e9 / (double)(f->last_ns - f->first_ns)
		       : 0.0;
}

static double sink_elapsed_s(const struct sink *s)
{
	return (double)(s->end_ns - s->start_ns) / 1e9;
}

static void sink_totals_finish(struct sink *s)
{
	s->tot.missing = 0;
	for (size_t i = 0; i < s->cap; i++)
		if (s->flows[i].used)
			s->tot.missing += sink_flow_missing(&s->flows[i]);
}

void sink_report_human(struct sink *s, FILE *out)
{
	struct sink_flow **v = sink_sorted(s);
	const struct sink_totals *t = &s->tot;
	char addr[INET6_ADDRSTRLEN];
	size_t shown = 0;

	sink_totals_finish(s);
	fprintf(out,
		"xpro-sink port %" PRIu32 ": %" PRIu64 " datagrams, %" PRIu64 " bytes in %.3f s"
		" (%.0f pps); %zu flows\n",
		s->cfg->port, t->rx, t->bytes, sink_elapsed_s(s),
		sink_elapsed_s(s) > 0 ? (double)t->rx / sink_elapsed_s(s) : 0.0, s->used);
	fprintf(out,
		"  in-order %" PRIu64 "  out-of-order %" PRIu64 "  duplicates %" PRIu64
		"  missing %" PRIu64 "  corrupted %" PRIu64 "  not-flow %" PRIu64
		"  table-full %" PRIu64 "  socket-drops %" PRIu64 "\n",
		t->in_order, t->out_of_order, t->dups, t->missing, t->corrupt, t->not_flow,
		t->table_full, t->socket_drops);
	if (!v || s->cfg->no_flows || !s->used) {
		free(v);
		return;
	}
	fprintf(out, "  %-28s %10s %10s %8s %8s %8s %8s %8s %10s %10s %10s %9s\n", "source", "flow",
		"received", "in-ord", "ooo", "dup", "corrupt", "missing", "first-seq", "last-seq",
		"pps", "lat-us");
	for (size_t i = 0; i < s->used && shown < s->cfg->rows; i++, shown++) {
		const struct sink_flow *f = v[i];
		char flow[16];

		sink_addr_str(f->src, addr, sizeof(addr));
		if (f->flow == SINK_NO_FLOW)
			snprintf(flow, sizeof(flow), "-");
		else
			snprintf(flow, sizeof(flow), "%" PRIu32, f->flow);
		fprintf(out,
			"  %-28s %10s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10.1f %9.1f\n",
			addr, flow, f->rx, f->in_order, f->out_of_order, f->dups, f->corrupt,
			sink_flow_missing(f), f->first_seq, f->max_seq, sink_flow_pps(f),
			f->lat_n ? (double)f->lat_sum_ns / (double)f->lat_n / 1e3 : 0.0);
	}
	if (shown < s->used)
		fprintf(out, "  ... %zu more flows (--rows)\n", s->used - shown);
	free(v);
}

static void sink_json_flow(const struct sink_flow *f, FILE *out)
{
	char addr[INET6_ADDRSTRLEN];

	sink_addr_str(f->src, addr, sizeof(addr));
	fprintf(out, "{\"src\":\"%s\",\"flow\":", addr);
	if (f->flow == SINK_NO_FLOW)
		fprintf(out, "null");
	else
		fprintf(out, "%" PRIu32, f->flow);
	fprintf(out,
		",\"received\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"in_order\":%" PRIu64
		",\"out_of_order\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"corrupted\":%" PRIu64
		",\"missing\":%" PRIu64 ",\"first_seq\":%" PRIu64 ",\"min_seq\":%" PRIu64
		",\"last_seq\":%" PRIu64 ",\"pps\":%.1f",
		f->rx, f->bytes, f->in_order, f->out_of_order, f->dups, f->corrupt,
		sink_flow_missing(f), f->first_seq, f->min_seq, f->max_seq, sink_flow_pps(f));
	if (f->lat_n)
		fprintf(out, ",\"lat_us_min\":%.1f,\"lat_us_avg\":%.1f,\"lat_us_max\":%.1f",
			(double)f->lat_min_ns / 1e3, (double)f->lat_sum_ns / (double)f->lat_n / 1e3,
			(double)f->lat_max_ns / 1e3);
	fputc('}', out);
}

/* Per-source sums over the sorted flows (entries of one source are adjacent). */
static void sink_json_sources(struct sink_flow **v, size_t n, FILE *out)
{
	char addr[INET6_ADDRSTRLEN];
	bool first = true;

	fprintf(out, ",\"sources\":[");
	for (size_t i = 0; i < n;) {
		uint64_t rx = 0, corrupt = 0, flows = 0, missing = 0;
		size_t j = i;

		for (; j < n && !memcmp(v[j]->src, v[i]->src, 16); j++) {
			rx += v[j]->rx;
			corrupt += v[j]->corrupt;
			missing += sink_flow_missing(v[j]);
			flows += v[j]->flow != SINK_NO_FLOW;
		}
		sink_addr_str(v[i]->src, addr, sizeof(addr));
		fprintf(out,
			"%s{\"src\":\"%s\",\"received\":%" PRIu64 ",\"flows\":%" PRIu64
			",\"corrupted\":%" PRIu64 ",\"missing\":%" PRIu64 "}",
			first ? "" : ",", addr, rx, flows, corrupt, missing);
		first = false;
		i = j;
	}
	fputc(']', out);
}

void sink_report_json(struct sink *s, FILE *out)
{
	struct sink_flow **v = sink_sorted(s);
	const struct sink_totals *t = &s->tot;
	size_t n = v ? s->used : 0;

	sink_totals_finish(s);
	fprintf(out,
		"{\"port\":%" PRIu32 ",\"tunnel\":%s,\"duration_s\":%.3f,\"received\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"pps\":%.1f,\"flows\":%zu,\"in_order\":%" PRIu64
		",\"out_of_order\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"missing\":%" PRIu64
		",\"corrupted\":%" PRIu64 ",\"not_flow\":%" PRIu64 ",\"table_full\":%" PRIu64
		",\"socket_drops\":%" PRIu64,
		s->cfg->port, s->cfg->tunnel ? "true" : "false", sink_elapsed_s(s), t->rx, t->bytes,
		sink_elapsed_s(s) > 0 ? (double)t->rx / sink_elapsed_s(s) : 0.0, s->used,
		t->in_order, t->out_of_order, t->dups, t->missing, t->corrupt, t->not_flow,
		t->table_full, t->socket_drops);
	fprintf(out, ",\"window_ms\":%" PRIu64 ",\"per_window\":[", s->window_ms);
	for (size_t i = 0; i < s->nwindows; i++)
		fprintf(out, "%s%" PRIu64, i ? "," : "", s->windows[i]);
	/* From the first datagram: the first window is the traffic's first second. */
	fprintf(out, "],\"per_window_from_first\":[");
	for (size_t i = 0; i < s->nfwindows; i++)
		fprintf(out, "%s%" PRIu64, i ? "," : "", s->fwindows[i]);
	fputc(']', out);
	sink_json_sources(v, n, out);
	if (!s->cfg->no_flows) {
		fprintf(out, ",\"flow_list\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			sink_json_flow(v[i], out);
		}
		fputc(']', out);
	}
	fprintf(out, "}\n");
	free(v);
}
