/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sending side of the tunnel protocol: integrity key derivation and the
 * sealer.  Kept free of the proxy's tables so that the device firmware and
 * the traffic generator can use it alone.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "dataplane/siphash.h"
#include "dataplane/tunnel.h"

#define LABEL_LEN 7 /* every TUN_LABEL_* */
#define KDF_MSG_LEN (LABEL_LEN + 1 + 4 + 1) /* label, 00, be32(epoch), word index */

_Static_assert(sizeof(TUN_LABEL_IK) - 1 == LABEL_LEN && sizeof(TUN_LABEL_PK) - 1 == LABEL_LEN &&
		       sizeof(TUN_LABEL_EK) - 1 == LABEL_LEN,
	       "labels are 7 bytes");

void tun_derive(const uint8_t secret[XPRO_TUN_SECRET_LEN], const char *label, uint32_t epoch,
		uint8_t *out, unsigned nwords)
{
	uint8_t msg[KDF_MSG_LEN] = { 0 };
	uint32_t epoch_be = htonl(epoch);
	struct tun_sipkey k;
	uint64_t w;

	memcpy(msg, label, LABEL_LEN);
	memcpy(msg + LABEL_LEN + 1, &epoch_be, 4);
	tun_sipkey_load(&k, secret);
	for (unsigned i = 0; i < nwords; i++) {
		msg[KDF_MSG_LEN - 1] = (uint8_t)i;
		w = htole64(tun_siphash_k(&k, msg, sizeof(msg)));
		memcpy(out + 8 * i, &w, 8);
	}
}

void tun_derive_ik(const uint8_t secret[XPRO_TUN_SECRET_LEN], uint32_t epoch,
		   uint8_t ik[TUN_IK_LEN])
{
	tun_derive(secret, TUN_LABEL_IK, epoch, ik, TUN_IK_LEN / 8);
}

void tun_derive_pk(const uint8_t secret[XPRO_TUN_SECRET_LEN], uint32_t epoch,
		   uint8_t pk[TUN_PK_LEN])
{
	tun_derive(secret, TUN_LABEL_PK, epoch, pk, TUN_PK_LEN / 8);
}

void tun_derive_ek(const uint8_t secret[XPRO_TUN_SECRET_LEN], uint32_t epoch,
		   uint8_t ek[TUN_EK_LEN])
{
	tun_derive(secret, TUN_LABEL_EK, epoch, ek, TUN_EK_LEN / 8);
}

int tun_seal(uint8_t *buf, size_t buflen, const uint8_t ik[TUN_IK_LEN], unsigned type,
	     uint32_t epoch, uint32_t dev, uint64_t seq, const void *payload, size_t len)
{
	struct xpro_tun_hdr h;
	size_t total;
	uint64_t tag;

	if (type < 1 || type > XPRO_MSG_MAX)
		return -EINVAL;
	if (len > TUN_MAX_MSG - TUN_OVERHEAD)
		return -EMSGSIZE;
	total = tun_seal_len(len);
	if (buflen < total)
		return -ENOSPC;

	memset(&h, 0, sizeof(h));
	h.ver_type = (uint8_t)(XPRO_TUN_VERSION << 4 | type);
	h.epoch = htonl(epoch);
	h.dev = htonl(dev);
	h.seq_hi = htonl((uint32_t)(seq >> 32));
	h.seq_lo = htonl((uint32_t)seq);
	/* Payload before header: one that starts inside the header's bytes stays intact. */
	if (len)
		memmove(buf + TUN_HDR_LEN, payload, len);
	memcpy(buf, &h, sizeof(h));
	tag = htole64(tun_siphash(ik, buf, TUN_HDR_LEN + len));
	memcpy(buf + TUN_HDR_LEN + len, &tag, TUN_TAG_LEN);
	return (int)total;
}

static const char *const rej_names[TUN_REJ_N] = {
	[TUN_OK] = "OK",
	[TUN_REJ_SHORT] = "SHORT",
	[TUN_REJ_VERSION] = "VERSION",
	[TUN_REJ_TYPE] = "TYPE",
	[TUN_REJ_FLAGS] = "FLAGS",
	[TUN_REJ_UNKNOWN_DEV] = "UNKNOWN_DEV",
	[TUN_REJ_INACTIVE] = "INACTIVE",
	[TUN_REJ_EPOCH] = "EPOCH",
	[TUN_REJ_REPLAY] = "REPLAY",
	[TUN_REJ_MAC] = "MAC",
	[TUN_REJ_INNER] = "INNER",
	[TUN_REJ_INNER_OPTIONS] = "INNER_OPTIONS",
	[TUN_REJ_FRAGMENT] = "FRAGMENT",
	[TUN_REJ_SPOOF] = "SPOOF",
};

const char *tun_rej_name(int r)
{
	unsigned i = r < 0 ? -(unsigned)r : (unsigned)r;

	return i < TUN_REJ_N ? rej_names[i] : "?";
}
