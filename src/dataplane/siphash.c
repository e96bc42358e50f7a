/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-2-4, 64-bit output, from the paper's description: four 64-bit
 * words of state, two SipRounds per 8-byte message word, four to finalise.
 * The last word carries the remaining bytes and the length mod 256.
 */
#include <endian.h>
#include <string.h>

#include "dataplane/siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound (paper, section 2): add-rotate-xor on the four state words. */
#define SIPROUND(v0, v1, v2, v3)   \
	do {                       \
		v0 += v1;          \
		v1 = ROTL(v1, 13); \
		v1 ^= v0;          \
		v0 = ROTL(v0, 32); \
		v2 += v3;          \
		v3 = ROTL(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = ROTL(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = ROTL(v1, 17); \
		v1 ^= v2;          \
		v2 = ROTL(v2, 32); \
	} while (0)

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t x;

	/* memcpy: packets are not 8-byte aligned; compilers emit one load. */
	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

void tun_sipkey_load(struct tun_sipkey *k, const uint8_t key[TUN_SIPHASH_KEY_LEN])
{
	k->k0 = load_le64(key);
	k->k1 = load_le64(key + 8);
}

uint64_t tun_siphash_k(const struct tun_sipkey *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t words = len / 8, i;
	/* The initialisation constants spell "somepseudorandomlygeneratedbytes". */
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k->k1 ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;

	/* Indexes, not pointer ends: NULL + 0 is undefined and UBSan says so. */
	for (i = 0; i < words; i++) {
		m = load_le64(p + 8 * i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}

	/* Last word: the 0-7 bytes left, little-endian, length in the top byte. */
	i = 8 * words;
	switch (len & 7) {
	case 7:
		b |= (uint64_t)p[i + 6] << 48;
		/* fall through */
	case 6:
		b |= (uint64_t)p[i + 5] << 40;
		/* fall through */
	case 5:
		b |= (uint64_t)p[i + 4] << 32;
		/* fall through */
	case 4:
		b |= (uint64_t)p[i + 3] << 24;
		/* fall through */
	case 3:
		b |= (uint64_t)p[i + 2] << 16;
		/* fall through */
	case 2:
		b |= (uint64_t)p[i + 1] << 8;
		/* fall through */
	case 1:
		b |= (uint64_t)p[i];
		break;
	case 0:
		break;
	}
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;

	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t tun_siphash(const uint8_t key[TUN_SIPHASH_KEY_LEN], const void *data, size_t len)
{
	struct tun_sipkey k;

	tun_sipkey_load(&k, key);
	return tun_siphash_k(&k, data, len);
}
