/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON reader and human tables for xproctl (fmt.h).  The reader takes what
 * the proxy writes: objects, arrays, strings with \" \\ \uXXXX (ASCII)
 * escapes, numbers, true/false/null; depth bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "control/xproctl/fmt.h"

#define JV_DEPTH 16
#define COL_MAX 32
#define TABLE_WIDTH 100 /* columns of a table line before its columns wrap */

struct rd {
	const char *p;
	int depth;
};

static void ws(struct rd *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static struct jv *parse_value(struct rd *r);

static char *parse_string(struct rd *r)
{
	size_t cap = 16, n = 0;
	char *s = malloc(cap);

	if (!s || *r->p != '"')
		goto out_fail;
	r->p++;
	while (*r->p != '"') {
		char ch = *r->p;

		if (!ch || (unsigned char)ch < 0x20)
			goto out_fail;
		r->p++;
		if (ch == '\\') {
			if (!*r->p)
				goto out_fail;
			ch = *r->p++;
			if (ch == 'u') {
				unsigned v;

				if (strspn(r->p, "0123456789abcdefABCDEF") < 4 ||
				    sscanf(r->p, "%4x", &v) != 1 || v > 0x7f)
					goto out_fail;
				r->p += 4;
				ch = (char)v;
			} else if (ch == 'n') {
				ch = '\n';
			} else if (ch == 't') {
				ch = '\t';
			} else if (ch != '"' && ch != '\\' && ch != '/') {
				goto out_fail;
			}
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap *= 2);

			if (!t)
				goto out_fail;
			s = t;
		}
		s[n++] = ch;
	}
	r->p++;
	s[n] = 0;
	return s;

out_fail:
	free(s);
	return NULL;
}

static bool push(struct jv *v, char *key, struct jv *val)
{
	struct jv **vals = realloc(v->vals, (v->n + 1) * sizeof(*vals));

	if (vals)
		v->vals = vals;
	if (vals && v->type == JV_OBJ) {
		char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));

		if (!keys)
			return false;
		v->keys = keys;
		keys[v->n] = key;
	}
	if (!vals)
		return false;
	vals[v->n++] = val;
	return true;
}

static struct jv *parse_container(struct rd *r, struct jv *v, char close)
{
	r->p++;
	ws(r);
	if (*r->p == close) {
		r->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		struct jv *val;

		ws(r);
		if (v->type == JV_OBJ) {
			key = parse_string(r);
			ws(r);
			if (!key || *r->p != ':') {
				free(key);
				goto out_fail;
			}
			r->p++;
		}
		val = parse_value(r);
		if (!val || !push(v, key, val)) {
			free(key);
			jv_free(val);
			goto out_fail;
		}
		ws(r);
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p != close)
			goto out_fail;
		r->p++;
		return v;
	}
out_fail:
	jv_free(v);
	return NULL;
}

static struct jv *parse_value(struct rd *r)
{
	struct jv *v;
	size_t n;

	ws(r);
	if (++r->depth > JV_DEPTH)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (*r->p == '{' || *r->p == '[') {
		v->type = *r->p == '{' ? JV_OBJ : JV_ARR;
		v = parse_container(r, v, *r->p == '{' ? '}' : ']');
		r->depth--;
		return v;
	}
	r->depth--;
	if (*r->p == '"') {
		v->type = JV_STR;
		v->text = parse_string(r);
	} else if (!strncmp(r->p, "null", 4)) {
		r->p += 4;
		return v;
	} else if (!strncmp(r->p, "true", 4) || !strncmp(r->p, "false", 5)) {
		v->type = JV_BOOL;
		n = *r->p == 't' ? 4 : 5;
		v->text = strndup(r->p, n);
		r->p += n;
	} else {
		n = strspn(r->p, "-+.eE0123456789");
		v->type = JV_NUM;
		v->text = n ? strndup(r->p, n) : NULL;
		r->p += n;
	}
	if (!v->text) {
		free(v);
		return NULL;
	}
	return v;
}

struct jv *jv_parse(const char *text)
{
	struct rd r = { text, 0 };
	struct jv *v = parse_value(&r);

	if (!v)
		return NULL;
	ws(&r);
	if (*r.p) {
		jv_free(v);
		return NULL;
	}
	return v;
}

void jv_free(struct jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		jv_free(v->vals[i]);
	}
	free(v->keys);
	free(v->vals);
	free(v->text);
	free(v);
}

const struct jv *jv_get(const struct jv *o, const char *key)
{
	for (size_t i = 0; o && o->type == JV_OBJ && i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->vals[i];
	return NULL;
}

/* --- human output ------------------------------------------------------------------ */

static bool scalar(const struct jv *v)
{
	return v->type != JV_ARR && v->type != JV_OBJ;
}

static const char *text(const struct jv *v)
{
	return v->type == JV_NULL ? "-" : v->text;
}

/* "a=1 b=2" for a flat object; nested values shown as "...". */
static void flat(FILE *out, const struct jv *o)
{
	for (size_t i = 0; i < o->n; i++)
		fprintf(out, "%s%s=%s", i ? " " : "", o->keys[i],
			scalar(o->vals[i]) ? text(o->vals[i]) : "...");
}

static void cell(FILE *out, const struct jv *row, const char *col, int width)
{
	const struct jv *v = row ? jv_get(row, col) : NULL;

	fprintf(out, " %*s", width, !row ? col : v && scalar(v) ? text(v) : "-");
}

/* One line of columns [from, to), led by the first column when from > 0; row NULL: headers. */
static void table_line(FILE *out, const struct jv *row, const char *const *cols, const int *width,
		       size_t from, size_t to)
{
	fputs(" ", out);
	if (from)
		cell(out, row, cols[0], width[0]);
	for (size_t c = from; c < to; c++)
		cell(out, row, cols[c], width[c]);
	fputc('\n', out);
}

/*
 * Columns: the first row's scalar members, as wide as their widest cell.
 * Wider than TABLE_WIDTH, the columns go in blocks, one under the other,
 * each after the first led by the first column again (the queue of a
 * worker).  Nested objects follow each row of the last block.
 */
static void table(FILE *out, const char *name, const struct jv *a)
{
	const struct jv *first = a->vals[0];
	const char *cols[COL_MAX];
	int width[COL_MAX] = { 0 };
	size_t ncol = 0;

	fprintf(out, "%s:\n", name);
	for (size_t c = 0; c < first->n && ncol < COL_MAX; c++) {
		if (!scalar(first->vals[c]))
			continue;
		cols[ncol] = first->keys[c];
		width[ncol] = (int)strlen(cols[ncol]);
		for (size_t r = 0; r < a->n; r++) {
			const struct jv *cell = jv_get(a->vals[r], cols[ncol]);
			int w = cell && scalar(cell) ? (int)strlen(text(cell)) : 1;

			if (w > width[ncol])
				width[ncol] = w;
		}
		ncol++;
	}
	for (size_t from = 0, to; from < ncol || !ncol; from = to) {
		int w = 1 + (from ? width[0] + 1 : 0);

		for (to = from; to < ncol && (to == from || w + width[to] + 1 <= TABLE_WIDTH); to++)
			w += width[to] + 1;
		table_line(out, NULL, cols, width, from, to);
		for (size_t r = 0; r < a->n; r++) {
			const struct jv *row = a->vals[r];

			table_line(out, row, cols, width, from, to);
			for (size_t c = 0; to == ncol && row->type == JV_OBJ && c < row->n; c++) {
				if (row->vals[c]->type != JV_OBJ)
					continue;
				fprintf(out, "    %s: ", row->keys[c]);
				flat(out, row->vals[c]);
				fputc('\n', out);
			}
		}
		if (!ncol)
			break;
	}
}

int fmt_reply(FILE *out, FILE *err, const struct jv *reply)
{
	const struct jv *ok = jv_get(reply, "ok"), *e = jv_get(reply, "error");

	if (!reply || reply->type != JV_OBJ || !ok) {
		fprintf(err, "xproctl: the proxy's reply is not what this xproctl understands\n");
		return -EINVAL;
	}
	if (strcmp(text(ok), "true")) {
		fprintf(err, "xproctl: %s\n", e && e->type == JV_STR ? e->text : "request failed");
		return -EINVAL;
	}
	for (size_t i = 0; i < reply->n; i++) {
		const struct jv *v = reply->vals[i];

		if (!strcmp(reply->keys[i], "ok"))
			continue;
		if (scalar(v)) {
			fprintf(out, "%-18s %s\n", reply->keys[i], text(v));
		} else if (v->type == JV_OBJ) {
			fprintf(out, "%-18s ", reply->keys[i]);
			flat(out, v);
			fputc('\n', out);
		} else if (v->n && v->vals[0]->type == JV_OBJ) {
			table(out, reply->keys[i], v);
		} else {
			fprintf(out, "%-18s %s\n", reply->keys[i], v->n ? "[...]" : "(none)");
		}
	}
	return 0;
}
