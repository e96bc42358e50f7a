/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one log sink of the hosted binaries (xpro-proxy, xpro-modem): one
 * line per message on stderr,
 *
 *   2026-12-03T15:08:07.123Z xpro-proxy warn: the message
 *
 * RFC 3339 UTC time to the millisecond, the program, the level.  Under
 * systemd (JOURNAL_STREAM names our stderr) the journal keeps the time and
 * wants the level as a syslog prefix instead: "<4>xpro-proxy: the message".
 * Messages that an attack can repeat go through a rate limit per call site
 * (struct xlog_limit): a burst, then one line per window saying how many
 * were suppressed.  libc only, so that xpro-modem links it alone.
 */
#ifndef XPRO_CTL_LOG_H
#define XPRO_CTL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum xlog_level {
	XLOG_ERROR = -1,
	XLOG_WARN = 0,
	XLOG_INFO = 1,
	XLOG_DEBUG = 2,
};

/* Program name for the lines; reads JOURNAL_STREAM.  Call once, before any line. */
void xlog_init(const char *prog);

/* One line at level (the caller has already compared it with its threshold). */
void xlog_v(int level, const char *fmt, va_list ap);

/* "error", "warn", "info", "debug". */
const char *xlog_level_name(int level);

/* A per-call-site limit: XLOG_LIMIT_BURST lines per XLOG_LIMIT_WINDOW_MS. */
#define XLOG_LIMIT_BURST 10
#define XLOG_LIMIT_WINDOW_MS 5000
struct xlog_limit {
	uint64_t window_ns; /* start of the current window */
	unsigned lines; /* printed in it */
	unsigned long suppressed; /* dropped since the last printed line */
};

/*
 * May a line go out at now_ns?  When it may and lines were suppressed
 * before it, *suppressed says how many (then cleared), for a line of its own.
 */
bool xlog_limit_pass(struct xlog_limit *l, uint64_t now_ns, unsigned long *suppressed);

#endif
