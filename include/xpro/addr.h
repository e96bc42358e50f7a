/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Addresses as the protocol and the tables hold them: 16 bytes, IPv4 as
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 2.5.5.2), so that one key and
 * one wire field serve both families; and the "host:port" / "[v6]:port"
 * text every command line and config key uses.  Freestanding: the device
 * library builds with it too.  Text to bytes (inet_pton) is in
 * xpro/addr_text.h, for hosted code.
 */
#ifndef XPRO_ADDR_H
#define XPRO_ADDR_H

#include "xpro/types.h"

#define XPRO_ADDR_LEN 16
#define XPRO_V4MAPPED_LEN 12 /* ::ffff:0:0/96: 10 zero bytes, then ff ff */

/* Is a an IPv4-mapped address (then a + 12 holds the IPv4 address)? */
static inline int xpro_addr_is_v4(const xpro_u8 a[XPRO_ADDR_LEN])
{
	unsigned diff = (unsigned)(a[10] ^ 0xff) | (unsigned)(a[11] ^ 0xff);

	for (unsigned i = 0; i < 10; i++)
		diff |= a[i];
	return diff == 0;
}

/* a = ::ffff:v4, v4 the 4 address bytes in network order. */
static inline void xpro_addr_from_v4(xpro_u8 a[XPRO_ADDR_LEN], const void *v4)
{
	const xpro_u8 *b = (const xpro_u8 *)v4;

	for (unsigned i = 0; i < 10; i++)
		a[i] = 0;
	a[10] = a[11] = 0xff;
	for (unsigned i = 0; i < 4; i++)
		a[12 + i] = b[i];
}

/* Where to look for the port: XPRO_HP_PORT (required) or XPRO_HP_PORT_OPT. */
enum { XPRO_HP_PORT = 0, XPRO_HP_PORT_OPT = 1 };

/*
 * Split "host:port", "[v6]:port" (and, with XPRO_HP_PORT_OPT, "host",
 * "[v6]" or a bare IPv6 address, several colons) into the host, without
 * brackets, NUL-terminated in host[hostlen], and the port, 1..65535 (0 when
 * optional and absent).  A bare IPv6 address with a port must be bracketed.
 * Returns 0, or -1 on a malformed string, an empty host, a port out of
 * range or a host longer than hostlen - 1.  Parses only: no lookup.
 */
static inline int xpro_hostport_split(const char *s, char *host, xpro_size hostlen, xpro_u16 *port,
				      int flags)
{
	const char *h = s, *p = 0, *c;
	xpro_size hl = 0, colons = 0;
	xpro_u32 v = 0;

	if (s[0] == '[') {
		h = s + 1;
		for (c = h; *c && *c != ']'; c++)
			hl++;
		if (*c != ']' || (c[1] && c[1] != ':'))
			return -1;
		p = c[1] ? c + 2 : 0;
	} else {
		for (c = s; *c; c++)
			if (*c == ':') {
				colons++;
				p = c + 1;
			}
		hl = (xpro_size)(c - s);
		if (colons == 1)
			hl = (xpro_size)(p - 1 - s);
		else if (colons > 1) /* a bare IPv6 address: no port */
			p = 0;
	}
	if (!hl || hl >= hostlen || (!p && !(flags & XPRO_HP_PORT_OPT)) || (!p && colons == 1))
		return -1;
	for (xpro_size i = 0; i < hl; i++)
		host[i] = h[i];
	host[hl] = 0;
	if (!p) {
		*port = 0;
		return 0;
	}
	if (!*p)
		return -1;
	for (c = p; *c; c++) {
		if (*c < '0' || *c > '9' || v > 65535)
			return -1;
		v = v * 10 + (xpro_u32)(*c - '0');
	}
	if (!v || v > 65535)
		return -1;
	*port = (xpro_u16)v;
	return 0;
}

#endif /* XPRO_ADDR_H */
