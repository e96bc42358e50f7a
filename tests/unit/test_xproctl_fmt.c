/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of xproctl's reply reader and human tables (src/control/xproctl/
 * fmt.c): the JSON the proxy writes, malformed replies refused, errors
 * printed as "xproctl: ERROR", tables with their columns and nested lines.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/xproctl/fmt.h"

/* fmt_reply() of text; returns its rc, the output in out and err (static buffers). */
static char out_buf[4096], err_buf[1024];

static int render(const char *text)
{
	struct jv *v = jv_parse(text);
	FILE *o = fmemopen(out_buf, sizeof(out_buf), "w"), *e;
	int rc;

	e = fmemopen(err_buf, sizeof(err_buf), "w");
	assert_non_null(o);
	assert_non_null(e);
	memset(out_buf, 0, sizeof(out_buf));
	memset(err_buf, 0, sizeof(err_buf));
	rc = fmt_reply(o, e, v);
	fclose(o);
	fclose(e);
	jv_free(v);
	return rc;
}

static void test_parse_values(void **state)
{
	struct jv *v = jv_parse(" {\"a\":1,\"b\":[true,null,\"x\\\"y\\u0041\"],\"c\":{},"
				"\"d\":-2.5e3} \n");
	const struct jv *b;

	(void)state;
	assert_non_null(v);
	assert_int_equal(v->type, JV_OBJ);
	assert_string_equal(jv_get(v, "a")->text, "1");
	b = jv_get(v, "b");
	assert_int_equal(b->type, JV_ARR);
	assert_int_equal(b->n, 3);
	assert_string_equal(b->vals[0]->text, "true");
	assert_int_equal(b->vals[1]->type, JV_NULL);
	assert_string_equal(b->vals[2]->text, "x\"yA");
	assert_int_equal(jv_get(v, "c")->n, 0);
	assert_string_equal(jv_get(v, "d")->text, "-2.5e3");
	assert_null(jv_get(v, "zz"));
	jv_free(v);
}

static void test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\"}",
		"{\"a\":1,}",
		"[1 2]",
		"{\"a\":1} x",
		"\"abc",
		"\"\\q\"",
		"tru",
		"{1:2}",
		"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
		"\"\\u00e9\"",
		"\"\\",
		"\"\\u12",
		"[1",
		"{\"a\":",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jv *v = jv_parse(bad[i]);

		if (v)
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_error_reply(void **state)
{
	(void)state;
	assert_int_not_equal(
		render("{\"ok\":false,\"error\":\"tf1: bad value 'x' (not a number)\"}"), 0);
	assert_string_equal(err_buf, "xproctl: tf1: bad value 'x' (not a number)\n");
	assert_string_equal(out_buf, "");
	assert_int_not_equal(render("[1]"), 0);
	assert_non_null(strstr(err_buf, "not what this xproctl understands"));
	assert_int_not_equal(render("not json"), 0);
}

static void test_scalars_and_flat_objects(void **state)
{
	(void)state;
	assert_int_equal(render("{\"ok\":true,\"rx\":200,\"sync\":null,\"verdicts\":{\"PASS\":3,"
				"\"DROP_PAIR\":1},\"empty\":[]}"),
			 0);
	assert_string_equal(out_buf, "rx                 200\n"
				     "sync               -\n"
				     "verdicts           PASS=3 DROP_PAIR=1\n"
				     "empty              (none)\n");
}

static void test_table(void **state)
{
	(void)state;
	assert_int_equal(render("{\"ok\":true,\"workers\":[{\"queue\":0,\"mode\":\"copy\","
				"\"rx\":12345,\"verdicts\":{\"PASS\":1}},{\"queue\":1,\"mode\":"
				"\"zero-copy\",\"rx\":7,\"verdicts\":{\"PASS\":0}}]}"),
			 0);
	assert_string_equal(out_buf, "workers:\n"
				     "  queue      mode    rx\n"
				     "      0      copy 12345\n"
				     "    verdicts: PASS=1\n"
				     "      1 zero-copy     7\n"
				     "    verdicts: PASS=0\n");
}

/* A table wider than a line: blocks of columns, each led by the first; nested lines once. */
static void test_table_wraps(void **state)
{
	char json[2048], *second;
	size_t off = 0;
	int heads = 0;

	(void)state;
	off += (size_t)snprintf(json + off, sizeof(json) - off, "{\"ok\":true,\"workers\":[");
	for (int r = 0; r < 2; r++) {
		off += (size_t)snprintf(json + off, sizeof(json) - off, "%s{\"queue\":%d",
					r ? "," : "", r + 4);
		for (int c = 0; c < 10; c++)
			off += (size_t)snprintf(json + off, sizeof(json) - off,
						",\"counter_number_%02d\":%d", c, 100 * r + c);
		off += (size_t)snprintf(json + off, sizeof(json) - off,
					",\"verdicts\":{\"PASS\":%d}}", r);
	}
	snprintf(json + off, sizeof(json) - off, "]}");
	assert_int_equal(render(json), 0);
	for (char *l = out_buf; *l; l = strchr(l, '\n') + 1) {
		assert_true(strchr(l, '\n') - l <= 100);
		heads += !strncmp(l, "  queue ", 8);
	}
	assert_int_equal(heads, 2);
	second = strstr(strstr(out_buf, "  queue ") + 1, "  queue ");
	/* The second block: the rest of the columns, the first again, the nested lines. */
	assert_non_null(strstr(second, "counter_number_09"));
	assert_null(strstr(second, "counter_number_00"));
	assert_non_null(strstr(out_buf, "counter_number_00"));
	assert_true(strstr(out_buf, "    verdicts: PASS=0\n") > second);
	assert_non_null(strstr(second, "    verdicts: PASS=1\n"));
	assert_non_null(strstr(second, "\n      5 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_scalars_and_flat_objects),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
