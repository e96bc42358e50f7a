/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xproctl's reading of the proxy's replies: a small JSON reader (the proxy
 * writes the JSON; no library needed for that subset) and the human tables
 * printed from it.  Separate from main.c so that unit tests drive both.
 */
#ifndef XPRO_XPROCTL_FMT_H
#define XPRO_XPROCTL_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum jv_type { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

/* A value; numbers and literals keep their text, strings are unescaped. */
struct jv {
	enum jv_type type;
	char *text; /* JV_BOOL, JV_NUM, JV_STR */
	size_t n; /* JV_ARR, JV_OBJ: elements */
	char **keys; /* JV_OBJ */
	struct jv **vals;
};

/* Parse text (the whole of it, trailing blanks allowed); NULL on any error. */
struct jv *jv_parse(const char *text);
void jv_free(struct jv *v);
/* The member named key of an object, or NULL. */
const struct jv *jv_get(const struct jv *o, const char *key);

/*
 * The reply as an operator reads it: scalars as "key  value" lines, flat
 * objects on one line ("verdicts  PASS=10 DROP_PAIR=3"), arrays of objects as
 * tables whose nested objects follow each row, indented.  Returns 0, or
 * -EINVAL when the reply says ok:false (its error printed to err as
 * "xproctl: ERROR").
 */
int fmt_reply(FILE *out, FILE *err, const struct jv *reply);

#endif
