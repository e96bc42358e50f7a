/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's one log sink (proxy.h: px_log(), pr_warn/pr_info/pr_debug):
 * levelled lines on stderr, and libbpf's and libxdp's own messages routed
 * through the same level.  Never called per packet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "control/proxy/proxy.h"

/* Written by the control thread (start-up, SIGHUP, xproctl set); read by any. */
int px_log_level = PX_LOG_INFO;

void px_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > px_log_level)
		return;
	va_start(ap, fmt);
	fputs("xpro-proxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* libbpf and libxdp: warnings with -v, their info with -vv, debug with -vvv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((int)level + 2 > px_log_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return libbpf_print((enum libbpf_print_level)level, fmt, ap);
}

void px_log_init(int level)
{
	px_log_level = level;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
