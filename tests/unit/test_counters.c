/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the counter table (src/control/proxy/counters_table.c) and
 * its printers (counters.c): the rows keep the naming rules; the JSON has
 * exactly the fields docs/metrics.md lists and /metrics exactly the
 * families, with the same values; the doc's generated part is what the table
 * prints; rates, and what is absent without XDP counters or a Redis master.
 *
 * `test_counters --update-doc` (make metrics-doc) rewrites the generated part
 * of docs/metrics.md; run from the top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "read_file.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/proxy/counters.h"
#include "control/xproctl/fmt.h"

#define DOC "docs/metrics.md"
#define BEGIN "<!-- BEGIN generated: px_counters_markdown() -->\n"
#define END "<!-- END generated -->\n"
#define MAXP 512

/* --- fixtures -------------------------------------------------------------------- */

static struct px_counters c0, c1; /* two fills with other values */

static char *json_of(const struct px_counters *c, const struct px_counters *old,
		     const struct px_counters *new)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fputc('{', f);
	px_counters_json(f, c, old, new);
	fputc('}', f);
	fclose(f);
	return buf;
}

static char *prom_of(const struct px_counters *c)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	px_counters_prometheus(f, c);
	fclose(f);
	return buf;
}

/* Every counter and gauge of the table set to a value of its own; facts by hand. */
static void fill(struct px_counters *c, uint64_t seed)
{
	uint64_t v = seed;

	memset(c, 0, sizeof(*c));
	snprintf(c->iface, sizeof(c->iface), "eth9");
	c->port = 7447;
	c->t_ns = 5000000000000ULL + seed * 1000000000ULL;
	c->nw = 2;
	c->w[0].queue = 3;
	c->w[1].queue = 5;
	c->w[0].cpu = -1;
	c->w[1].cpu = 7;
	c->w[1].zerocopy = true;
	c->xdp_ok = true;
	c->es.allocator = "libc";
	c->snap.have_sync = true;
	snprintf(c->snap.master, sizeof(c->snap.master), "198.18.0.5:6379");
	snprintf(c->snap.proxy_id, sizeof(c->snap.proxy_id), "edge-1");
	c->snap.params.tf1_pps = 1000;
	c->snap.params.tf2_pps = 10000;
	c->snap.hold_ms = 60000;
	c->sync_state = "up";
	for (size_t i = 0, depth = 0, in_w = 0; i < px_nctrs; i++) {
		const struct px_ctr *r = &px_ctrs[i];

		if (r->val == PX_CV_WORKERS)
			in_w = depth + 1;
		if (r->val == PX_CV_OBJ || r->val == PX_CV_WORKERS)
			depth++;
		if (r->val == PX_CV_END && depth-- == in_w)
			in_w = 0;
		if (r->type == PX_CTR_INFO)
			continue;
		for (int w = in_w ? 0 : -1; w < (in_w ? c->nw : 0); w++) {
			char *b = w >= 0 ? (char *)&c->w[w] : (char *)c;

			switch (r->val) {
			case PX_CV_U64:
				*(uint64_t *)(void *)(b + r->off) = v += 1000003;
				break;
			case PX_CV_U32:
				*(uint32_t *)(void *)(b + r->off) = (uint32_t)(v += 7) % 1000;
				break;
			case PX_CV_INT:
				*(int *)(void *)(b + r->off) = (int)((v += 1) % 50);
				break;
			case PX_CV_U64S:
				for (unsigned k = 0; k < r->n; k++)
					((uint64_t *)(void *)(b + r->off))[k] = v += 101;
				break;
			default:
				break;
			}
		}
	}
	c->snap.sync.last_ok_ns = c->t_ns - 1234567890;
	px_counters_derive(c);
}

static int setup(void **state)
{
	(void)state;
	fill(&c0, 1);
	fill(&c1, 2);
	return 0;
}

/* --- the docs ---------------------------------------------------------------------- */

static char *generated(void)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	px_counters_markdown(f);
	fclose(f);
	return buf;
}

/* The doc's generated part, between BEGIN and END; NULL if the markers are missing. */
static char *doc_part(const char *doc)
{
	const char *a = strstr(doc, BEGIN), *b = a ? strstr(a, END) : NULL;

	if (!b)
		return NULL;
	a += strlen(BEGIN);
	return strndup(a, (size_t)(b - a));
}

struct doc_row {
	char field[96], prom[96], type[16];
};

/* The rows of the doc's field table: `field` | `xpro_fam{labels}` | type. */
static size_t doc_rows(const char *part, struct doc_row *out, size_t max)
{
	size_t n = 0;

	for (const char *l = part; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char f[128] = "", p[128] = "", t[32] = "";

		if (strncmp(l, "| ", 2) || !strncmp(l, "| JSON field", 12))
			continue;
		if (sscanf(l, "| %127[^|]| %127[^|]| %31[^| ]", f, p, t) < 2 &&
		    sscanf(l, "| %127[^|]|  | %31[^| ]", f, t) < 2)
			continue;
		assert_true(n < max);
		memset(&out[n], 0, sizeof(out[n]));
		/* Strip the backticks and blanks; the field "-" is Prometheus only. */
		for (char *s = f, *d = out[n].field; *s; s++)
			if (*s != '`' && *s != ' ')
				*d++ = *s;
		if (p[0] == '`')
			sscanf(p, "`xpro_%95[a-z0-9_]", out[n].prom);
		snprintf(out[n].type, sizeof(out[n].type), "%.15s", t);
		n++;
	}
	return n;
}

static bool in_list(const char *s, char list[][96], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* --- the table's rules ------------------------------------------------------------ */

static bool snake(const char *s)
{
	if (!s || !islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

static void test_table_rules(void **state)
{
	int depth = 0;

	(void)state;
	for (size_t i = 0; i < px_nctrs; i++) {
		const struct px_ctr *r = &px_ctrs[i];
		bool keyed = r->val == PX_CV_U64S || r->val == PX_CV_RATES;

		if (r->val == PX_CV_END) {
			assert_true(--depth >= 0);
			continue;
		}
		if (r->val == PX_CV_OBJ || r->val == PX_CV_WORKERS)
			depth++;
		if (!r->name && !r->prom)
			fail_msg("row %zu has neither a JSON name nor a Prometheus family", i);
		if (r->name && !snake(r->name))
			fail_msg("JSON name '%s' is not snake_case", r->name);
		if (!r->help || !r->help[0])
			fail_msg("row '%s' has no help", r->name ? r->name : r->prom);
		if (r->prom) {
			if (!snake(r->prom))
				fail_msg("family '%s' is not snake_case", r->prom);
			if ((r->type == PX_CTR_COUNTER) != ends_with(r->prom, "_total"))
				fail_msg("family '%s': counters and only counters end in _total",
					 r->prom);
			if (r->ns_per && !ends_with(r->prom, "_seconds"))
				fail_msg("family '%s' is a duration: name it _seconds", r->prom);
			if (r->type == PX_CTR_INFO || r->val == PX_CV_CHARS ||
			    r->val == PX_CV_STR || r->val == PX_CV_RATE || r->val == PX_CV_RATES)
				fail_msg("row '%s': facts, strings and rates are JSON only",
					 r->name ? r->name : r->prom);
			for (size_t j = 0; j < i; j++)
				if (px_ctrs[j].prom && !strcmp(px_ctrs[j].prom, r->prom))
					fail_msg("family '%s' twice", r->prom);
		}
		if (r->ns_per && r->name &&
		    !ends_with(r->name, r->ns_per == 1000000 ? "_ms" : "_us"))
			fail_msg("duration '%s': the unit belongs in its JSON name", r->name);
		if (keyed && (!r->key || !r->label || r->first >= r->n))
			fail_msg("row '%s': an object by label needs its keys", r->name);
		if (r->val == PX_CV_BOOL && r->name && !r->choice[0] && r->prom)
			fail_msg("row '%s': a JSON boolean", r->name);
	}
	assert_int_equal(depth, 0);
}

/* Member names unique within each object. */
static void test_names_unique(void **state)
{
	char *json = json_of(&c1, &c0, &c1);
	struct jv *v = jv_parse(json);
	const struct jv *stack[8];
	size_t sp = 0;

	(void)state;
	assert_non_null(v);
	stack[sp++] = v;
	while (sp) {
		const struct jv *o = stack[--sp];

		for (size_t i = 0; i < o->n; i++) {
			if (o->type == JV_OBJ)
				for (size_t j = 0; j < i; j++)
					if (!strcmp(o->keys[i], o->keys[j]))
						fail_msg("member '%s' twice", o->keys[i]);
			if ((o->vals[i]->type == JV_OBJ || o->vals[i]->type == JV_ARR) && sp < 8)
				stack[sp++] = o->vals[i];
		}
	}
	jv_free(v);
	free(json);
}

/* --- the doc ----------------------------------------------------------------------- */

static void test_doc_is_generated(void **state)
{
	char *doc = read_all(DOC), *part, *gen = generated();

	(void)state;
	if (!doc)
		fail_msg(DOC " not found: run from the top of the tree (make unit)");
	part = doc_part(doc);
	if (!part)
		fail_msg(DOC ": no generated part between '%.40s' and '%.20s'", BEGIN, END);
	if (strcmp(part, gen))
		fail_msg(DOC " differs from the counter table: run `make metrics-doc`");
	free(part);
	free(gen);
	free(doc);
}

static void add(char out[][96], size_t *n, const char *path)
{
	if (in_list(path, out, *n))
		return;
	assert_true(*n < MAXP);
	snprintf(out[(*n)++], 96, "%s", path);
}

/* The doc's P.LABEL (an object keyed by label values) for path P, into key. */
static bool keyed(const char *path, char doc[][96], size_t ndoc, char *key)
{
	size_t pl = strlen(path);

	for (size_t d = 0; d < ndoc; d++) {
		const char *tail = doc[d] + pl + 1;

		if (!strncmp(doc[d], path, pl) && doc[d][pl] == '.' &&
		    isupper((unsigned char)*tail) && !strchr(tail, '.')) {
			snprintf(key, 96, "%s", doc[d]);
			return true;
		}
	}
	return false;
}

/* The JSON's paths as the doc spells them: members by name, arrays as [], P.LABEL. */
static void walk(const struct jv *v, const char *path, char doc[][96], size_t ndoc, char out[][96],
		 size_t *n)
{
	char sub[96];

	if (v->type == JV_OBJ && path[0] && keyed(path, doc, ndoc, sub)) {
		add(out, n, sub);
		return;
	}
	if (v->type == JV_ARR) {
		snprintf(sub, sizeof(sub), "%s[]", path);
		add(out, n, sub);
		assert_true(v->n > 0);
		for (size_t i = 0; i < v->n; i++)
			walk(v->vals[i], sub, doc, ndoc, out, n);
		return;
	}
	if (path[0] && !ends_with(path, "[]"))
		add(out, n, path);
	for (size_t i = 0; v->type == JV_OBJ && i < v->n; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", v->keys[i]);
		walk(v->vals[i], sub, doc, ndoc, out, n);
	}
}

static void test_json_fields_are_the_doc(void **state)
{
	static struct doc_row rows[MAXP];
	static char docf[MAXP][96], got[MAXP][96];
	char *doc = read_all(DOC), *part, *json;
	size_t nrows, ndoc = 0, ngot = 0;
	struct jv *v;

	(void)state;
	assert_non_null(doc);
	part = doc_part(doc);
	assert_non_null(part);
	nrows = doc_rows(part, rows, MAXP);
	assert_true(nrows > 50);
	for (size_t i = 0; i < nrows; i++)
		if (strcmp(rows[i].field, "-"))
			memcpy(docf[ndoc++], rows[i].field, sizeof(rows[i].field));
	json = json_of(&c1, &c0, &c1);
	v = jv_parse(json);
	assert_non_null(v);
	walk(v, "", docf, ndoc, got, &ngot);
	for (size_t i = 0; i < ngot; i++)
		if (!in_list(got[i], docf, ndoc))
			fail_msg("the JSON has %s, which " DOC " does not list", got[i]);
	for (size_t i = 0; i < ndoc; i++)
		if (!in_list(docf[i], got, ngot))
			fail_msg(DOC " lists %s, which the JSON does not have", docf[i]);
	assert_int_equal(ngot, ndoc);
	jv_free(v);
	free(json);
	free(part);
	free(doc);
}

static void test_prometheus_families_are_the_doc(void **state)
{
	static struct doc_row rows[MAXP];
	static char fams[MAXP][96], docp[MAXP][96];
	char *doc = read_all(DOC), *part, *text = prom_of(&c1);
	size_t nrows, nf = 0, nd = 0;

	(void)state;
	assert_non_null(doc);
	part = doc_part(doc);
	assert_non_null(part);
	nrows = doc_rows(part, rows, MAXP);
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		char fam[96], type[16];

		if (sscanf(l, "# TYPE xpro_%95s %15s", fam, type) == 2) {
			bool found = false;

			snprintf(fams[nf++], 96, "%s", fam);
			for (size_t i = 0; i < nrows; i++)
				if (!strcmp(rows[i].prom, fam)) {
					found = true;
					if (strcmp(rows[i].type, type))
						fail_msg("xpro_%s is a %s, " DOC " says %s", fam,
							 type, rows[i].type);
				}
			if (!found)
				fail_msg("/metrics has xpro_%s, which " DOC " does not list", fam);
		}
	}
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].prom[0]) {
			memcpy(docp[nd++], rows[i].prom, sizeof(rows[i].prom));
			if (!in_list(rows[i].prom, fams, nf))
				fail_msg(DOC " lists xpro_%s, which /metrics does not have",
					 rows[i].prom);
		}
	assert_int_equal(nf, nd);
	assert_non_null(strstr(text, "# HELP xpro_rx_packets_total "));
	free(text);
	free(part);
	free(doc);
}

/* --- JSON and /metrics say the same -------------------------------------------------- */

/* The value of sample "xpro_FAM{LABELS}" in text; fails if absent. */
static double sample(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	fail_msg("/metrics has no sample %s", key);
	return 0;
}

static void check_row(const char *text, const struct px_ctr *r, const struct jv *o,
		      const char *labels)
{
	const struct jv *v = jv_get(o, r->name);
	char key[256];

	assert_non_null(v);
	for (unsigned k = r->val == PX_CV_U64S ? r->first : 0;
	     k < (r->val == PX_CV_U64S ? r->n : 1); k++) {
		const struct jv *e = v;
		double want, got;

		if (r->val == PX_CV_U64S) {
			snprintf(key, sizeof(key), "xpro_%s{%s,%s=\"%s\"}", r->prom, labels,
				 r->label, r->key(k));
			e = jv_get(v, r->key(k));
			assert_non_null(e);
		} else {
			snprintf(key, sizeof(key), "xpro_%s{%s}", r->prom, labels);
		}
		got = sample(text, key);
		if (r->choice[0])
			want = !strcmp(e->text, r->choice[1]);
		else
			want = strtod(e->text, NULL);
		/*
		 * A duration: whole ms or us in JSON (truncated), seconds to the us in
		 * Prometheus (rounded): one unit apart at most, and a float's error on top.
		 */
		if (r->ns_per && want >= 0)
			got = fabs(got * 1e9 / r->ns_per - want) <= 1.5 ? want : got;
		if (got != want)
			fail_msg("%s: JSON %s says %s, /metrics %.6f", key, r->name, e->text, got);
	}
}

static void test_json_equals_prometheus(void **state)
{
	char *json = json_of(&c1, NULL, NULL), *text = prom_of(&c1);
	struct jv *top = jv_parse(json);
	const struct jv *obj = top, *workers = NULL;
	int checked = 0;

	(void)state;
	assert_non_null(top);
	for (size_t i = 0; i < px_nctrs; i++) {
		const struct px_ctr *r = &px_ctrs[i];
		char labels[96];

		if (r->val == PX_CV_WORKERS) {
			workers = jv_get(top, r->name);
			continue;
		}
		if (r->val == PX_CV_OBJ) {
			obj = jv_get(top, r->name);
			continue;
		}
		if (r->val == PX_CV_END) {
			obj = top;
			workers = NULL;
			continue;
		}
		if (!r->name || !r->prom)
			continue;
		if (!workers) {
			check_row(text, r, obj, "iface=\"eth9\"");
			checked++;
			continue;
		}
		for (size_t w = 0; w < workers->n; w++) {
			snprintf(labels, sizeof(labels), "iface=\"eth9\",queue=\"%s\"",
				 jv_get(workers->vals[w], "queue")->text);
			check_row(text, r, workers->vals[w], labels);
			checked++;
		}
	}
	assert_true(checked > 40);
	/* The Prometheus-only family. */
	assert_true(sample(text, "xpro_sync_up{iface=\"eth9\"}") == 1);
	jv_free(top);
	free(json);
	free(text);
}

/* --- values, rates, absence ---------------------------------------------------------- */

static void test_values(void **state)
{
	char *json = json_of(&c1, NULL, NULL);
	struct jv *v = jv_parse(json);
	const struct jv *w, *s;

	(void)state;
	assert_non_null(v);
	assert_string_equal(jv_get(v, "schema_version")->text, "1");
	assert_string_equal(jv_get(v, "iface")->text, "eth9");
	w = jv_get(v, "workers");
	assert_int_equal(w->n, 2);
	assert_string_equal(jv_get(w->vals[0], "mode")->text, "copy");
	assert_string_equal(jv_get(w->vals[1], "mode")->text, "zero-copy");
	assert_string_equal(jv_get(w->vals[0], "cpu")->text, "-1");
	/* Sums over the workers. */
	assert_int_equal(strtoull(jv_get(v, "rx_packets")->text, NULL, 10),
			 c1.w[0].ws.rx + c1.w[1].ws.rx);
	assert_int_equal(strtoull(jv_get(jv_get(v, "verdicts"), "DROP_DST")->text, NULL, 10),
			 c1.w[0].xs.verdict[XF_DROP_DST] + c1.w[1].xs.verdict[XF_DROP_DST]);
	/* rejected leaves out "OK". */
	assert_null(jv_get(jv_get(w->vals[0], "rejected"), "OK"));
	assert_non_null(jv_get(jv_get(w->vals[0], "rejected"), "MAC"));
	assert_int_equal(strtoull(jv_get(jv_get(v, "xdp_packets"), "drop_flagged")->text, NULL, 10),
			 c1.xdp_pk[XPRO_XDP_DROP_FLAGGED]);
	assert_string_equal(jv_get(v, "redis")->text, "up");
	s = jv_get(v, "sync");
	assert_string_equal(jv_get(s, "state")->text, "up");
	assert_string_equal(jv_get(s, "lag_ms")->text, "1234");
	assert_string_equal(jv_get(jv_get(v, "thresholds"), "tf1")->text, "1000");
	assert_string_equal(jv_get(jv_get(v, "thresholds"), "dst_policy")->text, "fcfs");
	/* No rates without two snapshots. */
	assert_string_equal(jv_get(v, "rate_interval_ms")->text, "0");
	assert_string_equal(jv_get(v, "rx_pps")->text, "0");
	jv_free(v);
	free(json);
}

static void test_rates(void **state)
{
	static struct px_counters a, b;
	char *json;
	struct jv *v;
	const struct jv *w0;

	(void)state;
	a = c0;
	b = c0;
	b.t_ns = a.t_ns + 2 * PX_RATE_MS * XF_NSEC_PER_MSEC;
	b.w[0].ws.rx += 1000;
	b.w[1].ws.rx += 3000;
	b.w[0].xs.verdict[XF_PASS] += 800;
	b.xdp_pk[XPRO_XDP_REDIRECT] += 4000;
	px_counters_derive(&b);
	json = json_of(&b, &a, &b);
	v = jv_parse(json);
	assert_non_null(v);
	assert_string_equal(jv_get(v, "rate_interval_ms")->text, "2000");
	assert_string_equal(jv_get(v, "rx_pps")->text, "2000");
	w0 = jv_get(v, "workers")->vals[0];
	assert_string_equal(jv_get(w0, "rx_pps")->text, "500");
	assert_string_equal(jv_get(jv_get(w0, "verdicts_pps"), "PASS")->text, "400");
	assert_string_equal(jv_get(jv_get(v, "xdp_pps"), "redirect")->text, "2000");
	jv_free(v);
	free(json);

	/* A worker set that changed between the snapshots: no per-worker rates. */
	b.w[0].queue = 9;
	json = json_of(&b, &a, &b);
	v = jv_parse(json);
	assert_string_equal(jv_get(jv_get(v, "workers")->vals[0], "rx_pps")->text, "0");
	jv_free(v);
	free(json);

	/* px_rates_feed keeps a snapshot per PX_RATE_MS. */
	{
		static struct px_rates r;

		a.t_ns = 10 * XF_NSEC_PER_SEC;
		px_rates_feed(&r, &a);
		assert_int_equal(px_rates_new(&r)->t_ns, a.t_ns);
		a.t_ns += PX_RATE_MS * XF_NSEC_PER_MSEC / 2;
		px_rates_feed(&r, &a);
		assert_int_equal(px_rates_new(&r)->t_ns, 10 * XF_NSEC_PER_SEC);
		a.t_ns += PX_RATE_MS * XF_NSEC_PER_MSEC / 2;
		px_rates_feed(&r, &a);
		assert_int_equal(px_rates_new(&r)->t_ns, a.t_ns);
		assert_int_equal(px_rates_old(&r)->t_ns, 10 * XF_NSEC_PER_SEC);
	}
}

static void test_absent(void **state)
{
	static struct px_counters c;
	char *json, *text;
	struct jv *v;

	(void)state;
	c = c1;
	c.snap.have_sync = false;
	c.sync_state = NULL;
	c.xdp_ok = false;
	px_counters_derive(&c);
	json = json_of(&c, NULL, NULL);
	text = prom_of(&c);
	v = jv_parse(json);
	assert_non_null(v);
	assert_int_equal(jv_get(v, "sync")->type, JV_NULL);
	assert_string_equal(jv_get(v, "redis")->text, "off");
	assert_int_equal(jv_get(v, "xdp_packets")->type, JV_NULL);
	assert_int_equal(jv_get(v, "xdp_pps")->type, JV_NULL);
	assert_null(strstr(text, "xpro_sync_rounds_total"));
	assert_null(strstr(text, "xpro_xdp_packets_total"));
	assert_null(strstr(text, "xpro_sync_up")); /* no master: no false alert */
	/* A master that never acknowledged: lag -1 in both. */
	c = c1;
	c.snap.sync.last_ok_ns = 0;
	px_counters_derive(&c);
	free(json);
	free(text);
	jv_free(v);
	json = json_of(&c, NULL, NULL);
	text = prom_of(&c);
	v = jv_parse(json);
	assert_string_equal(jv_get(jv_get(v, "sync"), "lag_ms")->text, "-1");
	assert_true(sample(text, "xpro_sync_lag_seconds{iface=\"eth9\"}") == -1);
	jv_free(v);
	free(json);
	free(text);
}

/* --update-doc: replace the generated part of docs/metrics.md. */
static int update_doc(void)
{
	char *doc = read_all(DOC), *gen = generated(), *a, *b;
	FILE *f;

	if (!doc || !(a = strstr(doc, BEGIN)) || !(b = strstr(a, END))) {
		fprintf(stderr, "test_counters: " DOC ": missing, or no %s ... %s", BEGIN, END);
		return 1;
	}
	a += strlen(BEGIN);
	f = fopen(DOC ".tmp", "w");
	if (!f || fprintf(f, "%.*s%s%s", (int)(a - doc), doc, gen, b) < 0 || fclose(f) ||
	    rename(DOC ".tmp", DOC)) {
		perror("test_counters: " DOC);
		return 1;
	}
	free(gen);
	free(doc);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_rules),
		cmocka_unit_test_setup(test_names_unique, setup),
		cmocka_unit_test(test_doc_is_generated),
		cmocka_unit_test_setup(test_json_fields_are_the_doc, setup),
		cmocka_unit_test_setup(test_prometheus_families_are_the_doc, setup),
		cmocka_unit_test_setup(test_json_equals_prometheus, setup),
		cmocka_unit_test_setup(test_values, setup),
		cmocka_unit_test_setup(test_rates, setup),
		cmocka_unit_test_setup(test_absent, setup),
	};

	if (argc == 2 && !strcmp(argv[1], "--update-doc"))
		return update_doc();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
