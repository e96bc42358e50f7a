/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-2-4 with a 64-bit result (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012): the tunnel's tag and its key derivation.  Written
 * for short inputs: one pass, no per-call state, no allocation.
 */
#ifndef XPRO_DP_SIPHASH_H
#define XPRO_DP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define TUN_SIPHASH_KEY_LEN 16

/*
 * A key as the two little-endian words the algorithm uses, so that callers
 * hashing many messages under one key (the proxy, per device and epoch) load
 * it once.
 */
struct tun_sipkey {
	uint64_t k0, k1;
};

/* The 16 key bytes as the paper reads them: k0 = le64(key[0..7]), k1 = le64(key[8..15]). */
void tun_sipkey_load(struct tun_sipkey *k, const uint8_t key[TUN_SIPHASH_KEY_LEN]);

/* SipHash-2-4 of len bytes at data (any alignment; data may be NULL when len is 0). */
uint64_t tun_siphash_k(const struct tun_sipkey *k, const void *data, size_t len);

/* The same with the key given as 16 bytes. */
uint64_t tun_siphash(const uint8_t key[TUN_SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
