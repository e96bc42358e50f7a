// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The hosted binaries' log sink (src/control/log.c): the line format an
 * operator and a log shipper read (RFC 3339 UTC time, program, level), the
 * journal's syslog-prefix form under systemd, and the per-call-site rate
 * limit that keeps an attack from growing the log with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <unistd.h>

#include <cmocka.h>

#include "control/log.h"

static void line(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlog_v(level, fmt, ap);
	va_end(ap);
}

/* What xlog_v writes for one call, stderr captured. */
static void capture(int level, const char *msg, char *out, size_t len)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	line(level, "%s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, len - 1, tmp);
	out[n] = 0;
	fclose(tmp);
}

static void test_line_format(void **state)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	char out[256], want[128];
	regex_t re;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	xlog_init("xpro-test");
	for (int lv = XLOG_ERROR; lv <= XLOG_DEBUG; lv++) {
		capture(lv, "pair 7 -> 198.18.0.9 dropped", out, sizeof(out));
		snprintf(
			want, sizeof(want),
			"^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z "
			"xpro-test %s: pair 7 -> 198\\.18\\.0\\.9 dropped\n$",
			levels[lv + 1]);
		assert_int_equal(regcomp(&re, want, REG_EXTENDED | REG_NOSUB), 0);
		if (regexec(&re, out, 0, NULL, 0))
			fail_msg("line '%s' does not match %s", out, want);
		regfree(&re);
	}
}

static void test_journal_form(void **state)
{
	char out[256];

	(void)state;
	setenv("JOURNAL_STREAM", "8:12345", 1);
	xlog_init("xpro-test");
	capture(XLOG_WARN, "hello", out, sizeof(out));
	assert_string_equal(out, "<4>xpro-test: hello\n");
	capture(XLOG_DEBUG, "hello", out, sizeof(out));
	assert_string_equal(out, "<7>xpro-test: hello\n");
	unsetenv("JOURNAL_STREAM");
	xlog_init("xpro-test");
}

static void test_rate_limit(void **state)
{
	struct xlog_limit l = { 0 };
	const uint64_t window = (uint64_t)XLOG_LIMIT_WINDOW_MS * 1000000u, t0 = 5 * window;
	unsigned long sup, total_sup = 0;
	unsigned passed = 0;

	(void)state;
	/* A flood of 1000 in one window: the burst, nothing more. */
	for (int i = 0; i < 1000; i++)
		passed += xlog_limit_pass(&l, t0 + (uint64_t)i * 1000, &sup);
	assert_int_equal(passed, XLOG_LIMIT_BURST);
	/* The next window's first line carries the count of what was dropped. */
	assert_true(xlog_limit_pass(&l, t0 + window, &sup));
	assert_int_equal(sup, 1000 - XLOG_LIMIT_BURST);
	assert_true(xlog_limit_pass(&l, t0 + window + 1, &sup));
	assert_int_equal(sup, 0);
	/* Ten windows of 100 each: every line that went out or was counted, none lost. */
	passed = 0;
	memset(&l, 0, sizeof(l));
	for (int w = 0; w < 10; w++)
		for (int i = 0; i < 100; i++)
			if (xlog_limit_pass(&l, t0 + (uint64_t)w * window + (uint64_t)i, &sup)) {
				passed++;
				total_sup += sup;
			}
	assert_int_equal(passed, 10 * XLOG_LIMIT_BURST);
	assert_int_equal(total_sup + l.suppressed, 1000 - passed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_format),
		cmocka_unit_test(test_journal_form),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
