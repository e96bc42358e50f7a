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

#define IK_LABEL "xpro-ik"
#define LABEL_LEN (sizeof(IK_LABEL) - 1) /* 7 */
#define KDF_MSG_LEN (LABEL_LEN + 1 + 4 + 1) /* label, 00, be32(epoch), word index */

void tun_derive_ik(const uint8_t secret[XPRO_TUN_SECRET_LEN], uint32_t epoch,
		   uint8_t ik[TUN_IK_LEN])
{
	uint8_t msg[KDF_MSG_LEN] = { 0 };
	uint32_t epoch_be = htonl(epoch);
	struct tun_sipkey k;
	uint64_t w;

	memcpy(msg, IK_LABEL, LABEL_LEN);
	memcpy(msg + LABEL_LEN + 1, &epoch_be, 4);
	tun_sipkey_load(&k, secret);
	for (unsigned i = 0; i < 2; i++) {
		msg[KDF_MSG_LEN - 1] = (uint8_t)i;
		w = htole64(tun_siphash_k(&k, msg, sizeof(msg)));
		memcpy(ik + 8 * i, &w, 8);
	}
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
