/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012) and the key derivation built on
 * it, written for the MCU: byte loads only (no alignment or endianness
 * assumption), no tables.  Must match src/dataplane/siphash.c and
 * tun_derive_ik() byte for byte; tests/modem holds both to shared vectors.
 */
#include "mfw_int.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static void compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

uint64_t mfw_siphash(const uint64_t k[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	/* "somepseudorandomlygeneratedbytes" */
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
			  k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL };
	uint64_t last = (uint64_t)len << 56;
	size_t i, words = len / 8;

	for (i = 0; i < words; i++)
		compress(v, mfw_get_le64(p + 8 * i));
	for (i = 8 * words; i < len; i++)
		last |= (uint64_t)p[i] << (8 * (i & 7));
	compress(v, last);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void mfw_sipkey(uint64_t k[2], const uint8_t key[MFW_SIPKEY_LEN])
{
	k[0] = mfw_get_le64(key);
	k[1] = mfw_get_le64(key + 8);
}

void mfw_kdf(const uint8_t secret[MFW_SECRET_LEN], const char *label, uint32_t epoch, uint8_t *out,
	     unsigned nwords)
{
	uint8_t msg[MFW_LABEL_LEN + 1 + 4 + 1];
	uint64_t k[2];
	unsigned i;

	for (i = 0; i < MFW_LABEL_LEN; i++)
		msg[i] = (uint8_t)label[i];
	msg[MFW_LABEL_LEN] = 0;
	mfw_put_be32(msg + MFW_LABEL_LEN + 1, epoch);
	mfw_sipkey(k, secret);
	for (i = 0; i < nwords; i++) {
		msg[sizeof(msg) - 1] = (uint8_t)i;
		mfw_put_le64(out + 8 * i, mfw_siphash(k, msg, sizeof(msg)));
	}
}

void mfw_hdr_put(uint8_t *msg, unsigned type, unsigned flags, uint32_t epoch, uint32_t dev,
		 uint64_t seq)
{
	msg[MFW_OFF_VER_TYPE] = (uint8_t)(MFW_VERSION << 4 | (type & 0x0f));
	msg[MFW_OFF_FLAGS] = (uint8_t)flags;
	mfw_put_be16(msg + MFW_OFF_RESERVED, 0);
	mfw_put_be32(msg + MFW_OFF_EPOCH, epoch);
	mfw_put_be32(msg + MFW_OFF_DEV, dev);
	mfw_put_be64(msg + MFW_OFF_SEQ, seq);
}

size_t mfw_seal(uint8_t *msg, const uint64_t key[2], unsigned type, unsigned flags, uint32_t epoch,
		uint32_t dev, uint64_t seq, size_t len)
{
	mfw_hdr_put(msg, type, flags, epoch, dev, seq);
	mfw_put_le64(msg + MFW_HDR_LEN + len, mfw_siphash(key, msg, MFW_HDR_LEN + len));
	return MFW_OVERHEAD + len;
}
