/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Address text for hosted code (the proxy, xpro-modem's Linux port, the
 * tools): numeric IPv4 or IPv6 to the 16-byte form of xpro/addr.h and back,
 * and "host:port" with a numeric host.  inet_pton/inet_ntop only: no name
 * lookup, so nothing here blocks.
 */
#ifndef XPRO_ADDR_TEXT_H
#define XPRO_ADDR_TEXT_H

#include <stdio.h>
#include <arpa/inet.h>

#include "xpro/addr.h"

/* Longest text xpro_addr_format() writes with its port: "[v6]:65535". */
#define XPRO_ADDR_TEXT_MAX (INET6_ADDRSTRLEN + 8)

/* "a.b.c.d" (stored IPv4-mapped) or an IPv6 address into a.  Returns 4, 6, or 0 if neither. */
static inline int xpro_addr_parse(const char *s, uint8_t a[XPRO_ADDR_LEN])
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		xpro_addr_from_v4(a, v4);
		return 4;
	}
	return inet_pton(AF_INET6, s, a) == 1 ? 6 : 0;
}

/*
 * "a.b.c.d:port" or "[v6]:port" (with XPRO_HP_PORT_OPT also without the
 * port, or a bare v6) into a and *port.  Returns 4, 6, or 0 if malformed.
 */
static inline int xpro_hostport_parse(const char *s, uint8_t a[XPRO_ADDR_LEN], uint16_t *port,
				      int flags)
{
	char host[INET6_ADDRSTRLEN];

	if (xpro_hostport_split(s, host, sizeof(host), port, flags))
		return 0;
	/* "[a.b.c.d]:port" is not a form anyone writes: brackets are for IPv6. */
	if (s[0] == '[')
		return inet_pton(AF_INET6, host, a) == 1 ? 6 : 0;
	return xpro_addr_parse(host, a);
}

/* a as text: "a.b.c.d" or the IPv6 form; with port != 0, "a.b.c.d:port" or "[v6]:port". */
static inline void xpro_addr_format(const uint8_t a[XPRO_ADDR_LEN], uint16_t port, char *out,
				    size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int v4 = xpro_addr_is_v4(a);

	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a + 12 : a, ip, sizeof(ip)))
		ip[0] = 0;
	if (!port)
		snprintf(out, len, "%s", ip);
	else
		snprintf(out, len, v4 ? "%s:%u" : "[%s]:%u", ip, (unsigned)port);
}

#endif /* XPRO_ADDR_TEXT_H */
