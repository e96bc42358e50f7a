/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's log (proxy.h: px_log(), pr_warn/pr_info/pr_debug, and the
 * rate-limited pr_info_rl): the shared sink's lines (control/log.h:
 * timestamp, program, level), and libbpf's and libxdp's own messages routed
 * through the same level.  Never called per packet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "control/log.h"
#include "control/proxy/proxy.h"

/* Written by the control thread (start-up, SIGHUP, xproctl set); read by any. */
int px_log_level = PX_LOG_INFO;

void px_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > px_log_level)
		return;
	va_start(ap, fmt);
	xlog_v(level, fmt, ap);
	va_end(ap);
}

static void emit(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlog_v(level, fmt, ap);
	va_end(ap);
}

/* libbpf and libxdp: warnings with -v, their info with -vv, debug with -vvv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if ((int)level + 2 > px_log_level)
		return 0;
	/* Their lines end in a newline; ours add one. */
	n = vsnprintf(line, sizeof(line), fmt, ap);
	while (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n')
		line[--n] = 0;
	/* Tagged with their own level (LIBBPF_WARN is a warning), shown by ours. */
	emit((int)level, "%s", line);
	return n;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return libbpf_print((enum libbpf_print_level)level, fmt, ap);
}

void px_log_init(int level)
{
	xlog_init("xpro-proxy");
	px_log_level = level;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
