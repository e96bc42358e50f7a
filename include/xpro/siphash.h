/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-2-4 with a 64-bit result (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012) and the tunnel's key derivation built on it: the
 * one implementation the proxy, the device library and the test tools use
 * (docs/protocol.md "Directions and keys").  Header-only and freestanding:
 * no libc, no allocation, any alignment.
 *
 * The pieces (init, absorb, final) are public so that code that must bound
 * its own loop over the message, the XDP sealer of xpro-gen, runs the same
 * rounds.
 */
#ifndef XPRO_SIPHASH_H
#define XPRO_SIPHASH_H

#include "xpro/bytes.h"
#include "xpro/tunnel.h"

#define XPRO_SIPKEY_LEN 16

/* A key as the two little-endian words the algorithm uses: load once, hash many. */
struct xpro_sipkey {
	xpro_u64 k0, k1;
};

/* The four state words. */
struct xpro_sip {
	xpro_u64 v0, v1, v2, v3;
};

static inline xpro_u64 xpro_rotl64(xpro_u64 x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

/* One SipRound (paper, section 2): add-rotate-xor on the four state words. */
static inline void xpro_sipround(struct xpro_sip *s)
{
	s->v0 += s->v1;
	s->v1 = xpro_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = xpro_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = xpro_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = xpro_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = xpro_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = xpro_rotl64(s->v2, 32);
}

/* k0 = le64(key[0..7]), k1 = le64(key[8..15]). */
static inline void xpro_sipkey_load(struct xpro_sipkey *k, const xpro_u8 key[XPRO_SIPKEY_LEN])
{
	k->k0 = xpro_get_le64(key);
	k->k1 = xpro_get_le64(key + 8);
}

static inline void xpro_sip_init(struct xpro_sip *s, const struct xpro_sipkey *k)
{
	/* The constants spell "somepseudorandomlygeneratedbytes". */
	s->v0 = k->k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k->k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k->k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k->k1 ^ 0x7465646279746573ULL;
}

/* One 8-byte message word, little-endian: two compression rounds. */
static inline void xpro_sip_absorb(struct xpro_sip *s, xpro_u64 m)
{
	s->v3 ^= m;
	/* Loops, not four calls written out: -Os keeps one round, -O2 unrolls. */
	for (unsigned r = 0; r < 2; r++)
		xpro_sipround(s);
	s->v0 ^= m;
}

/*
 * The last word (the 0-7 bytes left, little-endian, the message length mod
 * 256 in the top byte), then the four finalisation rounds.  Returns the tag.
 */
static inline xpro_u64 xpro_sip_final(struct xpro_sip *s, xpro_u64 last)
{
	xpro_sip_absorb(s, last);
	s->v2 ^= 0xff;
	for (unsigned r = 0; r < 4; r++)
		xpro_sipround(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* SipHash-2-4 of len bytes at data (data may be NULL when len is 0). */
static inline xpro_u64 xpro_siphash(const struct xpro_sipkey *k, const void *data, xpro_size len)
{
	const xpro_u8 *p = (const xpro_u8 *)data;
	xpro_size words = len / 8, i;
	xpro_u64 last = (xpro_u64)len << 56;
	struct xpro_sip s;

	xpro_sip_init(&s, k);
	/* Indexes, not pointer ends: NULL + 0 is undefined and UBSan says so. */
	for (i = 0; i < words; i++)
		xpro_sip_absorb(&s, xpro_get_le64(p + 8 * i));
	for (i = 8 * words; i < len; i++)
		last |= (xpro_u64)p[i] << (8 * (i & 7));
	return xpro_sip_final(&s, last);
}

/* The same with the key given as its 16 bytes. */
static inline xpro_u64 xpro_siphash_b(const xpro_u8 key[XPRO_SIPKEY_LEN], const void *data,
				      xpro_size len)
{
	struct xpro_sipkey k;

	xpro_sipkey_load(&k, key);
	return xpro_siphash(&k, data, len);
}

/*
 * Key derivation (docs/protocol.md "Directions and keys"): word i of the key
 * of epoch E under label L is SipHash-2-4(secret, L || 00 || be32(E) || i),
 * written little-endian to out + 8 i, for i < nwords.  label is one of the
 * XPRO_LABEL_* of xpro/tunnel.h, XPRO_LABEL_LEN bytes.
 */
static inline void xpro_kdf(const xpro_u8 secret[XPRO_TUN_SECRET_LEN], const char *label,
			    xpro_u32 epoch, xpro_u8 *out, unsigned nwords)
{
	xpro_u8 msg[XPRO_LABEL_LEN + 1 + 4 + 1];
	struct xpro_sipkey k;
	unsigned i;

	for (i = 0; i < XPRO_LABEL_LEN; i++)
		msg[i] = (xpro_u8)label[i];
	msg[XPRO_LABEL_LEN] = 0;
	xpro_put_be32(msg + XPRO_LABEL_LEN + 1, epoch);
	xpro_sipkey_load(&k, secret);
	for (i = 0; i < nwords; i++) {
		msg[sizeof(msg) - 1] = (xpro_u8)i;
		xpro_put_le64(out + 8 * i, xpro_siphash(&k, msg, sizeof(msg)));
	}
}

/* The three keys of one epoch: IK (device -> proxy tag), PK (proxy -> device tag), EK (AEAD). */
static inline void xpro_derive_ik(const xpro_u8 secret[XPRO_TUN_SECRET_LEN], xpro_u32 epoch,
				  xpro_u8 ik[XPRO_IK_LEN])
{
	xpro_kdf(secret, XPRO_LABEL_IK, epoch, ik, XPRO_IK_LEN / 8);
}

static inline void xpro_derive_pk(const xpro_u8 secret[XPRO_TUN_SECRET_LEN], xpro_u32 epoch,
				  xpro_u8 pk[XPRO_PK_LEN])
{
	xpro_kdf(secret, XPRO_LABEL_PK, epoch, pk, XPRO_PK_LEN / 8);
}

static inline void xpro_derive_ek(const xpro_u8 secret[XPRO_TUN_SECRET_LEN], xpro_u32 epoch,
				  xpro_u8 ek[XPRO_EK_LEN])
{
	xpro_kdf(secret, XPRO_LABEL_EK, epoch, ek, XPRO_EK_LEN / 8);
}

#endif /* XPRO_SIPHASH_H */
