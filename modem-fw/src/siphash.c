/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The library's one copy of the protocol core's SipHash-2-4 and key
 * derivation (xpro/siphash.h: the same code the proxy runs), and the sealer
 * built on them.  Out of line on purpose: every caller in the library goes
 * through these, so the MCU image holds the rounds once.
 */
#include "mfw_int.h"

uint64_t mfw_siphash(const struct xpro_sipkey *k, const void *data, size_t len)
{
	return xpro_siphash(k, data, len);
}

void mfw_kdf(const uint8_t secret[XPRO_TUN_SECRET_LEN], const char *label, uint32_t epoch,
	     uint8_t *out, unsigned nwords)
{
	xpro_kdf(secret, label, epoch, out, nwords);
}

void mfw_hdr_put(uint8_t *msg, unsigned type, unsigned flags, uint32_t epoch, uint32_t dev,
		 uint64_t seq)
{
	msg[XPRO_TUN_OFF_VER_TYPE] = (uint8_t)(XPRO_TUN_VERSION << 4 | (type & 0x0f));
	msg[XPRO_TUN_OFF_FLAGS] = (uint8_t)flags;
	xpro_put_be16(msg + XPRO_TUN_OFF_RESERVED, 0);
	xpro_put_be32(msg + XPRO_TUN_OFF_EPOCH, epoch);
	xpro_put_be32(msg + XPRO_TUN_OFF_DEV, dev);
	xpro_put_be64(msg + XPRO_TUN_OFF_SEQ, seq);
}

size_t mfw_seal(uint8_t *msg, const struct xpro_sipkey *key, unsigned type, unsigned flags,
		uint32_t epoch, uint32_t dev, uint64_t seq, size_t len)
{
	mfw_hdr_put(msg, type, flags, epoch, dev, seq);
	xpro_put_le64(msg + XPRO_TUN_HDR_LEN + len, mfw_siphash(key, msg, XPRO_TUN_HDR_LEN + len));
	return XPRO_TUN_OVERHEAD + len;
}
