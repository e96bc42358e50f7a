/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The counter table's three printers (the table: counters_table.c): JSON
 * (the status file and `xproctl status`), the Prometheus text format, and
 * the field list of docs/metrics.md.  They walk the rows; none knows a field.
 */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "control/proxy/counters.h"
#include "xpro/version.h"

/* --- values ------------------------------------------------------------------------ */

static bool container(const struct px_ctr *r)
{
	return r->val == PX_CV_OBJ || r->val == PX_CV_WORKERS;
}

/* The index past the PX_CV_END that closes the container at i. */
static size_t skip(size_t i)
{
	int depth = 0;

	for (; i < px_nctrs; i++) {
		if (container(&px_ctrs[i]))
			depth++;
		else if (px_ctrs[i].val == PX_CV_END && --depth == 0)
			return i + 1;
	}
	return i;
}

static bool present(const struct px_counters *c, const struct px_ctr *r)
{
	switch (r->when) {
	case PX_WHEN_XDP:
		return c->xdp_ok;
	case PX_WHEN_SYNC:
		return c->snap.have_sync;
	default:
		return true;
	}
}

/* The record a row's offset is in: the worker's inside workers (w >= 0), else c. */
static const char *base(const struct px_counters *c, int w)
{
	return w >= 0 ? (const char *)&c->w[w] : (const char *)c;
}

#define AT(type, c, w, r) (*(const type *)(const void *)(base(c, w) + (r)->off))

/* The row's integer value; k indexes a u64 array (PX_CV_U64S, PX_CV_RATES). */
static int64_t ival(const struct px_counters *c, int w, const struct px_ctr *r, unsigned k)
{
	switch (r->val) {
	case PX_CV_U64:
	case PX_CV_RATE:
		return (int64_t)AT(uint64_t, c, w, r);
	case PX_CV_I64:
		return AT(int64_t, c, w, r);
	case PX_CV_U32:
		return AT(uint32_t, c, w, r);
	case PX_CV_INT:
		return AT(int, c, w, r);
	case PX_CV_BOOL:
		return AT(bool, c, w, r);
	case PX_CV_U64S:
	case PX_CV_RATES:
		return (int64_t)((const uint64_t *)(const void *)(base(c, w) + r->off))[k];
	default:
		return 0;
	}
}

static uint64_t uval(const struct px_counters *c, int w, const struct px_ctr *r, unsigned k)
{
	return (uint64_t)ival(c, w, r, k);
}

/* Snapshots old and new to rate from: both there, same workers, the row present in both. */
struct rates {
	const struct px_counters *old, *new;
	uint64_t dt_ns;
};

static struct rates rates_of(const struct px_counters *old, const struct px_counters *new)
{
	struct rates x = { old, new, 0 };

	if (old && new && old->t_ns &&new->t_ns > old->t_ns)
		x.dt_ns = new->t_ns - old->t_ns;
	return x;
}

static uint64_t rate(const struct rates *x, const struct px_counters *c, int w,
		     const struct px_ctr *r, unsigned k)
{
	uint64_t a, b;

	if (!x->dt_ns || !present(x->old, r) || !present(x->new, r))
		return 0;
	if (w >= 0 && (x->old->nw != c->nw || x->new->nw != c->nw ||
		       x->old->w[w].queue != c->w[w].queue || x->new->w[w].queue != c->w[w].queue))
		return 0;
	a = uval(x->old, w, r, k);
	b = uval(x->new, w, r, k);
	return b >= a ? (uint64_t)((double)(b - a) * 1e9 / (double)x->dt_ns + 0.5) : 0;
}

/* --- JSON -------------------------------------------------------------------------- */

void px_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_int(FILE *f, const struct px_ctr *r, int64_t v)
{
	if (r->neg_never && v < 0)
		fputs("-1", f);
	else if (r->val == PX_CV_I64 || r->val == PX_CV_INT)
		fprintf(f, "%" PRId64, r->ns_per ? v / r->ns_per : v);
	else
		fprintf(f, "%" PRIu64, r->ns_per ? (uint64_t)v / r->ns_per : (uint64_t)v);
}

static void json_value(FILE *f, const struct px_counters *c, const struct rates *x, int w,
		       const struct px_ctr *r)
{
	const char *s;

	if (!present(c, r)) {
		fputs("null", f);
		return;
	}
	switch (r->val) {
	case PX_CV_CHARS:
		px_json_str(f, base(c, w) + r->off);
		return;
	case PX_CV_STR:
		s = AT(const char *, c, w, r);
		if (s)
			px_json_str(f, s);
		else
			fputs("null", f);
		return;
	case PX_CV_BOOL:
		if (r->choice[0])
			px_json_str(f, r->choice[AT(bool, c, w, r)]);
		else
			fputs(AT(bool, c, w, r) ? "true" : "false", f);
		return;
	case PX_CV_U64S:
	case PX_CV_RATES:
		fputc('{', f);
		for (unsigned k = r->first; k < r->n; k++) {
			px_json_str(f, r->key(k));
			fprintf(f, ":%" PRIu64,
				r->val == PX_CV_RATES ? rate(x, c, w, r, k) : uval(c, w, r, k));
			if (k + 1 < r->n)
				fputc(',', f);
		}
		fputc('}', f);
		return;
	case PX_CV_RATE:
		fprintf(f, "%" PRIu64, rate(x, c, w, r, 0));
		return;
	case PX_CV_RATE_DT:
		fprintf(f, "%" PRIu64, x->dt_ns / 1000000);
		return;
	default:
		json_int(f, r, ival(c, w, r, 0));
		return;
	}
}

/* The members of rows i.. up to the closing PX_CV_END; returns the index past it. */
static size_t json_rows(FILE *f, const struct px_counters *c, const struct rates *x, size_t i,
			int w)
{
	bool first = true;

	while (i < px_nctrs && px_ctrs[i].val != PX_CV_END) {
		const struct px_ctr *r = &px_ctrs[i];

		if (!r->name) {
			i++;
			continue;
		}
		fprintf(f, "%s\"%s\":", first ? "" : ",", r->name);
		first = false;
		if (r->val == PX_CV_OBJ && present(c, r)) {
			fputc('{', f);
			json_rows(f, c, x, i + 1, w);
			fputc('}', f);
		} else if (r->val == PX_CV_WORKERS) {
			fputc('[', f);
			for (int k = 0; k < c->nw; k++) {
				fputs(k ? ",{" : "{", f);
				json_rows(f, c, x, i + 1, k);
				fputc('}', f);
			}
			fputc(']', f);
		} else if (r->val == PX_CV_OBJ) {
			fputs("null", f);
		} else {
			json_value(f, c, x, w, r);
		}
		i = container(r) ? skip(i) : i + 1;
	}
	return i + 1;
}

void px_counters_json(FILE *f, const struct px_counters *c, const struct px_counters *old,
		      const struct px_counters *new)
{
	struct rates x = rates_of(old, new);

	json_rows(f, c, &x, 0, -1);
}

/* --- Prometheus -------------------------------------------------------------------- */

static void prom_value(FILE *f, const struct px_ctr *r, int64_t v)
{
	if (r->neg_never && v < 0)
		fputs("-1\n", f);
	else if (r->ns_per)
		fprintf(f, "%.6f\n", (double)v / 1e9);
	else if (r->val == PX_CV_I64 || r->val == PX_CV_INT)
		fprintf(f, "%" PRId64 "\n", v);
	else
		fprintf(f, "%" PRIu64 "\n", (uint64_t)v);
}

/* The samples of one family: per worker inside workers, per key of a labelled row. */
static void prom_family(FILE *f, const struct px_counters *c, const struct px_ctr *r, bool workers)
{
	fprintf(f, "# HELP xpro_%s %s\n# TYPE xpro_%s %s\n", r->prom, r->help, r->prom,
		r->type == PX_CTR_COUNTER ? "counter" : "gauge");
	for (int w = workers ? 0 : -1; w < (workers ? c->nw : 0); w++) {
		char lab[64];

		if (w >= 0)
			snprintf(lab, sizeof(lab), "iface=\"%s\",queue=\"%d\"", c->iface,
				 c->w[w].queue);
		else
			snprintf(lab, sizeof(lab), "iface=\"%s\"", c->iface);
		if (r->labels) {
			char more[256];

			r->labels(c, more, sizeof(more));
			fprintf(f, "xpro_%s{%s,%s} ", r->prom, lab, more);
			prom_value(f, r, ival(c, w, r, 0));
			continue;
		}
		if (r->val != PX_CV_U64S) {
			fprintf(f, "xpro_%s{%s} ", r->prom, lab);
			prom_value(f, r, ival(c, w, r, 0));
			continue;
		}
		for (unsigned k = r->first; k < r->n; k++) {
			fprintf(f, "xpro_%s{%s,%s=\"%s\"} ", r->prom, lab, r->label, r->key(k));
			prom_value(f, r, ival(c, w, r, k));
		}
	}
}

static size_t prom_rows(FILE *f, const struct px_counters *c, size_t i, bool workers)
{
	while (i < px_nctrs && px_ctrs[i].val != PX_CV_END) {
		const struct px_ctr *r = &px_ctrs[i];

		if (container(r)) {
			if (present(c, r))
				prom_rows(f, c, i + 1, workers || r->val == PX_CV_WORKERS);
			i = skip(i);
			continue;
		}
		if (r->prom && present(c, r))
			prom_family(f, c, r, workers);
		i++;
	}
	return i + 1;
}

void px_counters_prometheus(FILE *f, const struct px_counters *c)
{
	prom_rows(f, c, 0, false);
}

/* --- docs/metrics.md --------------------------------------------------------------- */

static const char *type_name(const struct px_ctr *r)
{
	if (container(r))
		return r->val == PX_CV_WORKERS ? "array" : "object";
	return r->type == PX_CTR_COUNTER ? "counter" : r->type == PX_CTR_GAUGE ? "gauge" : "info";
}

static void upper(char *dst, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s && n + 1 < len; s++)
		dst[n++] = (char)toupper((unsigned char)*s);
	dst[n] = 0;
}

static size_t md_rows(FILE *f, size_t i, const char *prefix, bool workers)
{
	while (i < px_nctrs && px_ctrs[i].val != PX_CV_END) {
		const struct px_ctr *r = &px_ctrs[i];
		char path[96], prom[96] = "", lab[24] = "", labs[48] = "";
		bool keyed = r->val == PX_CV_U64S || r->val == PX_CV_RATES;

		if (r->label)
			upper(lab, sizeof(lab), r->label);
		snprintf(path, sizeof(path), "%s%s%s%s%s", prefix, r->name ? r->name : "",
			 r->val == PX_CV_WORKERS ? "[]" : "", keyed ? "." : "", keyed ? lab : "");
		if (workers || r->label)
			snprintf(labs, sizeof(labs), "{%s%s%s}", workers ? "queue" : "",
				 workers && r->label ? "," : "", r->label ? r->label : "");
		else if (r->labels_doc)
			snprintf(labs, sizeof(labs), "{%s}", r->labels_doc);
		if (r->prom)
			snprintf(prom, sizeof(prom), "`xpro_%s%s`", r->prom, labs);
		fprintf(f, "| %s%s%s | %s | %s | %s | %s%s%s |\n", r->name ? "`" : "",
			r->name ? path : "-", r->name ? "`" : "", prom, type_name(r),
			r->unit ? r->unit : "", r->help,
			r->when == PX_WHEN_XDP	  ? " Null when the XDP counters cannot be read."
			: r->when == PX_WHEN_SYNC ? " Null without a master (`redis` off); "
						    "its families are then absent."
						  : "",
			r->ns_per && r->prom ? " Prometheus: in seconds." : "");
		if (container(r)) {
			char sub[sizeof(path) + 1];

			snprintf(sub, sizeof(sub), "%s.", path);
			md_rows(f, i + 1, sub, workers || r->val == PX_CV_WORKERS);
			i = skip(i);
			continue;
		}
		i++;
	}
	return i + 1;
}

/* Each label's values once, in table order. */
static void md_labels(FILE *f)
{
	const char *done[8];
	size_t ndone = 0;

	for (size_t i = 0; i < px_nctrs; i++) {
		const struct px_ctr *r = &px_ctrs[i];
		char lab[24];
		bool seen = false;

		if (!r->label)
			continue;
		for (size_t j = 0; j < ndone; j++)
			seen |= !strcmp(done[j], r->label);
		if (seen || ndone == sizeof(done) / sizeof(done[0]))
			continue;
		done[ndone++] = r->label;
		upper(lab, sizeof(lab), r->label);
		fprintf(f, "\n`%s` (Prometheus label `%s`):", lab, r->label);
		for (unsigned k = r->first; k < r->n; k++) {
			if (r->key_help)
				fprintf(f, "\n- `%s`: %s", r->key(k), r->key_help(k));
			else
				fprintf(f, "%s `%s`", k > r->first ? "," : "", r->key(k));
		}
		fputc('\n', f);
	}
}

void px_counters_markdown(FILE *f)
{
	fprintf(f, "Schema version %d.\n\n", PX_COUNTERS_SCHEMA);
	fputs("| JSON field | Prometheus | type | unit | meaning |\n"
	      "|---|---|---|---|---|\n",
	      f);
	md_rows(f, 0, "", false);
	md_labels(f);
}

/* --- derived fields, rates ----------------------------------------------------------- */

void px_counters_derive(struct px_counters *c)
{
	const struct sync_round_stats *st = &c->snap.sync;

	c->schema = PX_COUNTERS_SCHEMA;
	c->rx = c->tx = 0;
	memset(c->verdicts, 0, sizeof(c->verdicts));
	for (int i = 0; i < c->nw; i++) {
		c->rx += c->w[i].ws.rx;
		c->tx += c->w[i].ws.tx;
		for (int v = 0; v < XF_NVERDICTS; v++)
			c->verdicts[v] += c->w[i].xs.verdict[v];
	}
	c->engine_bytes = c->es.bytes_records + c->es.bytes_tables;
	c->dst_policy = xf_policy_name(c->snap.params.policy);
	c->version = XPRO_VERSION;
	c->one = 1;
	c->thresholds[PX_TH_TF1] = c->snap.params.tf1_pps;
	c->thresholds[PX_TH_TF2] = c->snap.params.tf2_pps;
	c->thresholds[PX_TH_TT1] = c->snap.params.tt1_ms;
	c->thresholds[PX_TH_TT2] = c->snap.params.tt2_ms;
	c->thresholds[PX_TH_TT3] = c->snap.params.tt3_ms;
	c->thresholds[PX_TH_TT4] = c->snap.params.tt4_ms;
	c->thresholds[PX_TH_HOLD] = c->snap.hold_ms;
	c->sync_up = c->snap.have_sync && st->state == SYNC_STATE_UP;
	c->redis = !c->snap.have_sync ? "off" : c->sync_up ? "up" : "down";
	c->sync_lag_ns = c->snap.have_sync && st->last_ok_ns && c->t_ns >= st->last_ok_ns
				 ? (int64_t)(c->t_ns - st->last_ok_ns)
				 : -1;
}

void px_rates_feed(struct px_rates *r, const struct px_counters *c)
{
	if (c->t_ns < r->next_ns)
		return;
	r->cur ^= 1;
	r->slot[r->cur] = *c;
	r->next_ns = c->t_ns + PX_RATE_MS * XF_NSEC_PER_MSEC;
}
