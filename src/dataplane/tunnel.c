/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sending side of the tunnel protocol, the sealer, and the names of the
 * authenticator's rejections.  Kept free of the proxy's tables so that the
 * traffic generator can use it alone.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "xpro/siphash.h"
#include "dataplane/tunnel.h"

int tun_seal(uint8_t *buf, size_t buflen, const uint8_t ik[XPRO_IK_LEN], unsigned type,
	     uint32_t epoch, uint32_t dev, uint64_t seq, const void *payload, size_t len)
{
	struct xpro_tun_hdr h;
	size_t total;
	uint64_t tag;

	if (type < 1 || type > XPRO_MSG_MAX)
		return -EINVAL;
	if (len > XPRO_TUN_MAX_MSG - XPRO_TUN_OVERHEAD)
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
		memmove(buf + XPRO_TUN_HDR_LEN, payload, len);
	memcpy(buf, &h, sizeof(h));
	tag = xpro_siphash_b(ik, buf, XPRO_TUN_HDR_LEN + len);
	xpro_put_le64(buf + XPRO_TUN_HDR_LEN + len, tag);
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
