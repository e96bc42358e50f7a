/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The log sink (log.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "control/log.h"

static const char *xlog_prog = "xpro";
static bool xlog_journal;

void xlog_init(const char *prog)
{
	const char *js = getenv("JOURNAL_STREAM");

	xlog_prog = prog;
	/* Set by systemd for a unit whose stdout/stderr goes to the journal. */
	xlog_journal = js && *js;
}

const char *xlog_level_name(int level)
{
	switch (level) {
	case XLOG_ERROR:
		return "error";
	case XLOG_WARN:
		return "warn";
	case XLOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void xlog_v(int level, const char *fmt, va_list ap)
{
	/* syslog priorities: err 3, warning 4, info 6, debug 7. */
	static const int prio[] = { 3, 4, 6, 7 };
	char line[1024], stamp[40];
	struct timespec ts;
	struct tm tm;
	int i = level < XLOG_ERROR ? 0 : level > XLOG_DEBUG ? 3 : level + 1;

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line: lines from several threads do not interleave. */
	if (xlog_journal) {
		fprintf(stderr, "<%d>%s: %s\n", prio[i], xlog_prog, line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000, xlog_prog,
		xlog_level_name(level), line);
}

bool xlog_limit_pass(struct xlog_limit *l, uint64_t now_ns, unsigned long *suppressed)
{
	*suppressed = 0;
	if (!l->window_ns || now_ns - l->window_ns >= (uint64_t)XLOG_LIMIT_WINDOW_MS * 1000000u) {
		l->window_ns = now_ns ? now_ns : 1;
		l->lines = 0;
	}
	if (l->lines >= XLOG_LIMIT_BURST) {
		l->suppressed++;
		return false;
	}
	l->lines++;
	*suppressed = l->suppressed;
	l->suppressed = 0;
	return true;
}
