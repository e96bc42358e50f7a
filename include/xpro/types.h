/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixed-width types for the protocol core (include/xpro/{tunnel,bytes,
 * siphash,replay,addr}.h), which three kinds of build compile: the proxy
 * (hosted Linux), the XDP program (clang -target bpf: no libc, so no
 * <stdint.h>) and the device library (freestanding C99 for Cortex-M).  The
 * compiler's own predefined types serve all three.
 */
#ifndef XPRO_TYPES_H
#define XPRO_TYPES_H

typedef __UINT8_TYPE__ xpro_u8;
typedef __UINT16_TYPE__ xpro_u16;
typedef __UINT32_TYPE__ xpro_u32;
typedef __UINT64_TYPE__ xpro_u64;
typedef __SIZE_TYPE__ xpro_size;
/* Big-endian on the wire; the names say so, the types are the same. */
typedef xpro_u16 xpro_be16;
typedef xpro_u32 xpro_be32;

/*
 * A compile-time check that strict C99 (the device library's -std=c99
 * -pedantic) accepts: _Static_assert is C11, __extension__ keeps -pedantic
 * quiet about it.
 */
#define XPRO_STATIC_ASSERT(cond, msg) __extension__ _Static_assert(cond, msg)

#define XPRO_OFFSETOF(type, field) __builtin_offsetof(type, field)

#endif /* XPRO_TYPES_H */
