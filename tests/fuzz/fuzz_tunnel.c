/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for tun_auth(), the first code every tunnel packet meets.
 * An input is a sequence of records, each a mode byte, a little-endian
 * 16-bit length and that many bytes of message (the last may be short), run
 * against fresh device states, so that epoch and replay sequences are
 * explored and every finding reproduces from its input alone.  Mode bit 0
 * clear: the message as received.  Set: the target appends the valid tag for
 * the device and epoch in the header, so that the fuzzer also gets past the
 * MAC into the epoch, replay and inner-packet checks (the corpus holds both
 * kinds).  Bit 1: reload the table first (same devices: state carried).
 */
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "xpro/siphash.h"
#include "dataplane/tunnel.h"

#define MODE_RETAG 0x01
#define MODE_RELOAD 0x02
#define REC_HDR 3 /* mode, length (le16) */
#define MAX_RECS 16
/* Initializer lists, used inside braces. */
#define V4(a, b, c, d) 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d
#define SECRET(x)                                                                                 \
	x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7, x + 8, x + 9, x + 10, x + 11, x + 12, \
		x + 13, x + 14, x + 15

/* The unit tests' devices (tests/unit/tun_fixture.c), plus one allowed anything. */
static const struct tun_dev_conf conf[] = {
	{ .dev = 1,
	  .secret = { SECRET(0x00) },
	  .prefix = { V4(198, 18, 10, 1) },
	  .plen = 128,
	  .ipver = 4,
	  .active = true },
	{ .dev = 2,
	  .secret = { SECRET(0x10) },
	  .prefix = { 0x20, 0x01, 0, 2, 0, 0, 0, 0x10 },
	  .plen = 64,
	  .ipver = 6,
	  .active = true },
	{ .dev = 3,
	  .secret = { SECRET(0x20) },
	  .prefix = { V4(198, 18, 10, 3) },
	  .plen = 128,
	  .ipver = 4,
	  .active = false },
	{ .dev = 7,
	  .secret = { SECRET(0x30) },
	  .prefix = { V4(198, 18, 20, 0) },
	  .plen = 120,
	  .ipver = 4,
	  .active = true },
	{ .dev = 0,
	  .secret = { SECRET(0x40) },
	  .prefix = { 0 },
	  .plen = 0,
	  .ipver = 6,
	  .active = true },
};
#define NCONF (sizeof(conf) / sizeof(conf[0]))

static struct tun_devtab *tab;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rcu_register_thread();
	tab = tun_devtab_new();
	if (!tab)
		abort();
	return 0;
}

static const struct tun_dev_conf *find(uint32_t dev)
{
	for (size_t i = 0; i < NCONF; i++)
		if (conf[i].dev == dev)
			return &conf[i];
	return NULL;
}

/* Append the tag the sender would have computed, if the header names a device. */
static size_t retag(uint8_t *msg, size_t len)
{
	const struct tun_dev_conf *c;
	struct xpro_tun_hdr h;
	uint8_t ik[XPRO_IK_LEN];
	uint64_t tag;

	if (len < XPRO_TUN_HDR_LEN)
		return len;
	memcpy(&h, msg, sizeof(h));
	c = find(be32toh(h.dev));
	if (!c)
		return len;
	xpro_derive_ik(c->secret, be32toh(h.epoch), ik);
	tag = htole64(xpro_siphash_b(ik, msg, len));
	memcpy(msg + len, &tag, sizeof(tag));
	return len + sizeof(tag);
}

/* What must hold of any accepted message. */
static void check_accepted(const uint8_t *msg, size_t len, const struct tun_pkt *p)
{
	struct tun_pkt again;

	if (p->inner != msg + XPRO_TUN_HDR_LEN || p->inner_len != len - XPRO_TUN_OVERHEAD)
		abort();
	if (p->type < 1 || p->type > XPRO_MSG_TO_PROXY_MAX || !find(p->dev) ||
	    !find(p->dev)->active)
		abort();
	if (p->type == XPRO_MSG_DATA &&
	    (p->key.dev != p->dev || (p->inner_ver != 4 && p->inner_ver != 6)))
		abort();
	/* Accepted once means refused the second time. */
	if (tun_auth(tab, msg, len, &again) != -TUN_REJ_REPLAY)
		abort();
}

/* One record: mode and message of len bytes. */
static void run_one(uint8_t mode, const uint8_t *data, size_t len)
{
	struct tun_pkt p;
	uint8_t *msg;
	int r;

	/* Exactly sized, so that ASan catches a read past the end. */
	msg = malloc(len + XPRO_TUN_TAG_LEN);
	if (!msg)
		abort();
	memcpy(msg, data, len);
	if (mode & MODE_RETAG) {
		len = retag(msg, len);
		msg = realloc(msg, len ? len : 1);
		if (!msg)
			abort();
	}
	if ((mode & MODE_RELOAD) && tun_devtab_replace(tab, conf, NCONF))
		abort();

	rcu_read_lock();
	r = tun_auth(tab, msg, len, &p);
	if (r > 0 || r <= -TUN_REJ_N || !strcmp(tun_rej_name(r), "?"))
		abort();
	if (!r)
		check_accepted(msg, len, &p);
	rcu_read_unlock();
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/*
	 * Fresh device states for every input: through an empty table, so that
	 * no state carries over.  (A new table per input would cost an
	 * rcu_barrier() in tun_devtab_free(): a hundred inputs a second.)
	 */
	if (tun_devtab_replace(tab, NULL, 0) || tun_devtab_replace(tab, conf, NCONF))
		abort();
	for (unsigned i = 0; i < MAX_RECS && size >= REC_HDR; i++) {
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;

		if (len > size - REC_HDR)
			len = size - REC_HDR;
		run_one(data[0], data + REC_HDR, len);
		data += REC_HDR + len;
		size -= REC_HDR + len;
	}
	return 0;
}
