/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Byte order on the wire: header fields big-endian, tags and keys
 * little-endian (docs/protocol.md).  Any alignment, any host byte order, no
 * libc: the device library builds messages byte by byte with these, the
 * proxy reads tags and keys with them.  Compilers turn the little-endian
 * loads into one load on little-endian hosts.
 */
#ifndef XPRO_BYTES_H
#define XPRO_BYTES_H

#include "xpro/types.h"

static inline void xpro_put_be16(xpro_u8 *p, xpro_u16 v)
{
	p[0] = (xpro_u8)(v >> 8);
	p[1] = (xpro_u8)v;
}

static inline void xpro_put_be32(xpro_u8 *p, xpro_u32 v)
{
	p[0] = (xpro_u8)(v >> 24);
	p[1] = (xpro_u8)(v >> 16);
	p[2] = (xpro_u8)(v >> 8);
	p[3] = (xpro_u8)v;
}

static inline void xpro_put_be64(xpro_u8 *p, xpro_u64 v)
{
	xpro_put_be32(p, (xpro_u32)(v >> 32));
	xpro_put_be32(p + 4, (xpro_u32)v);
}

static inline void xpro_put_le64(xpro_u8 *p, xpro_u64 v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (xpro_u8)(v >> (8 * i));
}

static inline xpro_u16 xpro_get_be16(const xpro_u8 *p)
{
	return (xpro_u16)(p[0] << 8 | p[1]);
}

static inline xpro_u32 xpro_get_be32(const xpro_u8 *p)
{
	return (xpro_u32)p[0] << 24 | (xpro_u32)p[1] << 16 | (xpro_u32)p[2] << 8 | p[3];
}

static inline xpro_u64 xpro_get_be64(const xpro_u8 *p)
{
	return (xpro_u64)xpro_get_be32(p) << 32 | xpro_get_be32(p + 4);
}

static inline xpro_u64 xpro_get_le64(const xpro_u8 *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	xpro_u64 v;

	/* Packets are not 8-byte aligned; the builtin is one load where that is allowed. */
	__builtin_memcpy(&v, p, sizeof(v));
	return v;
#else
	xpro_u64 v = 0;

	for (unsigned i = 8; i-- > 0;)
		v = v << 8 | p[i];
	return v;
#endif
}

#endif /* XPRO_BYTES_H */
