/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the tunnel protocol (docs/protocol.md): SipHash-2-4 against
 * the published vectors, key derivation and sealing against known answers,
 * and tun_auth(): round trips and every rejection reason, one test each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/siphash.h"
#include "tun_fixture.h"

/*
 * SipHash-2-4, key 00..0f, message 00..(n-1), n = 0..63: the reference
 * implementation's vectors (vectors.h, as 64-bit values).  Checked against an
 * independent Python implementation written from the paper.
 */
static const uint64_t sip_vectors[64] = {
	0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
	0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
	0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
	0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
	0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
	0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
	0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
	0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
	0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
	0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
	0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
	0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
	0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
	0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
	0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
	0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

static const uint8_t key0f[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* --- SipHash, key derivation, sealing -------------------------------------- */

static void test_siphash_vectors(void **state)
{
	uint8_t msg[64];

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	assert_int_equal(xpro_siphash_b(key0f, NULL, 0), 0x726fdb47dd0e0e31ULL);
	for (unsigned n = 0; n < 64; n++) {
		if (xpro_siphash_b(key0f, msg, n) != sip_vectors[n])
			fail_msg("n=%u: got %#llx, want %#llx", n,
				 (unsigned long long)xpro_siphash_b(key0f, msg, n),
				 (unsigned long long)sip_vectors[n]);
	}
}

/* Packets sit at any offset: the result may not depend on alignment. */
static void test_siphash_unaligned(void **state)
{
	uint8_t buf[64 + 8];

	(void)state;
	for (unsigned off = 1; off < 8; off++) {
		for (unsigned i = 0; i < 64; i++)
			buf[off + i] = (uint8_t)i;
		for (unsigned n = 0; n < 64; n++)
			assert_true(xpro_siphash_b(key0f, buf + off, n) == sip_vectors[n]);
	}
}

/* IK for secret 00..0f, from the Python reference (docs/protocol.md "Keys"). */
static void test_derive_ik_known(void **state)
{
	static const uint8_t ik1[16] = { 0x35, 0x98, 0x88, 0xd9, 0x66, 0xf8, 0x2f, 0x36,
					 0xa8, 0x22, 0x51, 0xad, 0x13, 0xf0, 0xa2, 0xa8 };
	static const uint8_t ik01020304[16] = { 0x58, 0x51, 0xe8, 0x2d, 0x10, 0xda, 0xc4, 0x9d,
						0x87, 0xdf, 0x2e, 0x9c, 0xe3, 0x75, 0xd2, 0xd1 };
	uint8_t ik[16];

	(void)state;
	xpro_derive_ik(key0f, 1, ik);
	assert_memory_equal(ik, ik1, 16);
	xpro_derive_ik(key0f, 0x01020304, ik);
	assert_memory_equal(ik, ik01020304, 16);
}

/*
 * A whole DATA message, from the Python reference: dev 1, epoch 1, seq
 * 0x0102030405060708, a 28-byte IPv4 packet, tag little-endian.
 */
static void test_seal_known_answer(void **state)
{
	static const uint8_t want[56] = {
		0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02,
		0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00,
		0x40, 0x11, 0x00, 0x00, 0xc6, 0x12, 0x0a, 0x01, 0xcb, 0x00, 0x71, 0x09, 0x00, 0x01,
		0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x85, 0x41, 0x81, 0x6d, 0x82, 0xe0, 0xc2, 0xba,
	};
	uint8_t ik[16], buf[64];

	(void)state;
	xpro_derive_ik(key0f, 1, ik);
	assert_int_equal(tun_seal(buf, sizeof(buf), ik, XPRO_MSG_DATA, 1, 1, 0x0102030405060708ULL,
				  want + XPRO_TUN_HDR_LEN, 28),
			 56);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_seal_errors_and_in_place(void **state)
{
	uint8_t ik[16] = { 0 }, buf[TF_BUF], inner[TF_BUF], copy[TF_BUF];
	size_t len = tf_ip4(inner, TF_SRC4, TF_DST4, 40);
	int n;

	(void)state;
	assert_int_equal(tun_seal(buf, sizeof(buf), ik, 0, 1, 1, 0, inner, len), -EINVAL);
	assert_int_equal(tun_seal(buf, sizeof(buf), ik, XPRO_MSG_MAX + 1, 1, 1, 0, inner, len),
			 -EINVAL);
	assert_int_equal(tun_seal(buf, tun_seal_len(len) - 1, ik, 1, 1, 1, 0, inner, len), -ENOSPC);
	assert_int_equal(tun_seal(buf, SIZE_MAX, ik, 1, 1, 1, 0, inner, XPRO_TUN_MAX_MSG),
			 -EMSGSIZE);
	n = tun_seal(copy, sizeof(copy), ik, 1, 9, 8, 7, inner, len);
	assert_int_equal(n, (int)tun_seal_len(len));
	/* In place: payload already at buf + XPRO_TUN_HDR_LEN, buffer exactly big enough. */
	memcpy(buf + XPRO_TUN_HDR_LEN, inner, len);
	assert_int_equal(
		tun_seal(buf, tun_seal_len(len), ik, 1, 9, 8, 7, buf + XPRO_TUN_HDR_LEN, len), n);
	assert_memory_equal(buf, copy, (size_t)n);
}

/* --- round trips ------------------------------------------------------------ */

static void test_roundtrip_ipv4(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], inner[TF_BUF], dst[16] = { [10] = 0xff, [11] = 0xff };
	size_t ilen = tf_ip4(inner, TF_SRC4, TF_DST4, 100), len;
	struct tun_pkt p;

	len = tf_seal(msg, XPRO_MSG_DATA, TF_DEV4, 5, 42, inner, ilen);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(p.type, XPRO_MSG_DATA);
	assert_int_equal(p.dev, TF_DEV4);
	assert_int_equal(p.epoch, 5);
	assert_int_equal(p.seq, 42);
	assert_int_equal(p.inner_ver, 4);
	assert_ptr_equal(p.inner, msg + XPRO_TUN_HDR_LEN);
	assert_int_equal(p.inner_len, ilen);
	assert_memory_equal(p.inner, inner, ilen);
	inet_pton(AF_INET, TF_DST4, dst + 12);
	assert_memory_equal(p.key.dst, dst, 16);
	assert_int_equal(p.key.dev, TF_DEV4);
}

static void test_roundtrip_ipv6(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], inner[TF_BUF], dst[16];
	size_t ilen = tf_ip6(inner, TF_SRC6, TF_DST6, 1200), len;
	struct tun_pkt p;

	len = tf_seal(msg, XPRO_MSG_DATA, TF_DEV6, 0, 0, inner, ilen);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(p.dev, TF_DEV6);
	assert_int_equal(p.inner_ver, 6);
	assert_int_equal(p.inner_len, ilen);
	inet_pton(AF_INET6, TF_DST6, dst);
	assert_memory_equal(p.key.dst, dst, 16);
	assert_int_equal(p.key.dev, TF_DEV6);
}

/* Other types are authenticated, windowed and returned without an inner check. */
static void test_roundtrip_probe(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], body[XPRO_TUN_MIN_PAYLOAD] = { 0xee };
	struct tun_pkt p;
	size_t len = tf_seal(msg, XPRO_MSG_PROBE, TF_DEV4, 1, 3, body, sizeof(body));

	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(p.type, XPRO_MSG_PROBE);
	assert_int_equal(p.inner_len, sizeof(body));
	assert_int_equal(p.inner[0], 0xee);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
}

/* --- check 1: structure ----------------------------------------------------- */

static void test_rej_short_every_length(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], inner[XPRO_TUN_MIN_PAYLOAD];
	struct tun_pkt p;
	size_t len;

	/* The smallest valid message: a bare 20-byte IPv4 header. */
	tf_ip4(inner, TF_SRC4, TF_DST4, 0);
	len = tf_seal(msg, XPRO_MSG_DATA, TF_DEV4, 1, 1, inner, XPRO_TUN_MIN_PAYLOAD);
	assert_int_equal(len, XPRO_TUN_MIN_MSG);
	for (size_t l = 0; l < XPRO_TUN_MIN_MSG; l++)
		if (tf_auth(t, msg, l, &p) != -TUN_REJ_SHORT)
			fail_msg("length %zu: %s", l, tun_rej_name(tf_auth(t, msg, l, &p)));
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
}

/* Cut anywhere past the minimum, the tag is read from the wrong bytes. */
static void test_rej_truncated_body(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, 1, 1);

	for (size_t l = XPRO_TUN_MIN_MSG; l < len; l++)
		assert_int_equal(tf_auth(t, msg, l, &p), -TUN_REJ_MAC);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
}

static void test_rej_version(void **state)
{
	static const uint8_t bad[] = { 0, 2, 3, 15 };
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;

	for (unsigned i = 0; i < sizeof(bad); i++) {
		size_t len = tf_seal_data(msg, TF_DEV4, 1, i);

		msg[0] = (uint8_t)(bad[i] << 4 | XPRO_MSG_DATA);
		tf_retag(msg, len, TF_DEV4, 1);
		assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_VERSION);
	}
}

static void test_rej_type(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;

	for (unsigned type = 0; type < 16; type++) {
		size_t len = tf_seal_data(msg, TF_DEV4, 1, type);

		if (type >= 1 && type <= XPRO_MSG_TO_PROXY_MAX)
			continue;
		msg[0] = (uint8_t)(XPRO_TUN_VERSION << 4 | type);
		tf_retag(msg, len, TF_DEV4, 1);
		assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_TYPE);
	}
}

static void test_rej_reserved(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;

	for (unsigned bit = 0; bit < 16; bit++) {
		size_t len = tf_seal_data(msg, TF_DEV4, 1, bit);

		msg[2 + bit / 8] |= (uint8_t)(1 << (bit % 8));
		tf_retag(msg, len, TF_DEV4, 1);
		assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_FLAGS);
	}
}

static void test_rej_unknown_flag(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;

	for (unsigned bit = 1; bit < 8; bit++) {
		size_t len = tf_seal_data(msg, TF_DEV4, 1, bit);

		msg[1] = (uint8_t)(1 << bit);
		tf_retag(msg, len, TF_DEV4, 1);
		assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_FLAGS);
	}
}

static void test_rej_encrypted(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, 1, 1);

	msg[1] = XPRO_TUN_F_ENCRYPTED;
	tf_retag(msg, len, TF_DEV4, 1);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_FLAGS);
}

/* --- check 2: device -------------------------------------------------------- */

static void test_rej_unknown_dev(void **state)
{
	/* TUN_DEV_NONE is also the table's empty-slot marker: it must not match. */
	static const uint32_t bad[] = { 0, 4, 99, 0x80000001, TUN_DEV_MAX, TUN_DEV_NONE };
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = tf_seal_data(msg, TF_DEV4, 1, 1);
		uint32_t be = htonl(bad[i]);

		memcpy(msg + 8, &be, 4);
		assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_UNKNOWN_DEV);
		assert_int_equal(p.dev, bad[i]);
	}
}

static void test_rej_inactive(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV_OFF, 1, 1);

	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_INACTIVE);
	assert_false(tf_view(t, TF_DEV_OFF).have_cur);
}

/* --- checks 3 and 4: epoch and replay --------------------------------------- */

static void test_rej_epoch(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len;

	len = tf_seal_data(msg, TF_DEV4, 10, 0);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	len = tf_seal_data(msg, TF_DEV4, 11, 0);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	/* Current 11, previous 10: 9 is older than the previous. */
	len = tf_seal_data(msg, TF_DEV4, 9, 5);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_EPOCH);
	len = tf_seal_data(msg, TF_DEV4, 0, 5);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_EPOCH);
}

/* A reboot: a newer epoch takes over once its tag verifies. */
static void test_epoch_reboot(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	struct tun_dev_view v;
	size_t len;

	len = tf_seal_data(msg, TF_DEV4, 3, 100);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	len = tf_seal_data(msg, TF_DEV4, 4, 0);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	v = tf_view(t, TF_DEV4);
	assert_true(v.have_cur && v.have_prev);
	assert_int_equal(v.cur_epoch, 4);
	assert_int_equal(v.prev_epoch, 3);
	/* Packets still in flight from before the reboot pass, once. */
	len = tf_seal_data(msg, TF_DEV4, 3, 101);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
	/* Two reboots later, epoch 3 is too old; epoch 4 is the previous. */
	len = tf_seal_data(msg, TF_DEV4, 9, 0);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	len = tf_seal_data(msg, TF_DEV4, 3, 102);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_EPOCH);
	len = tf_seal_data(msg, TF_DEV4, 4, 1);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	len = tf_seal_data(msg, TF_DEV4, 4, 0);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
	v = tf_view(t, TF_DEV4);
	assert_int_equal(v.cur_epoch, 9);
	assert_int_equal(v.prev_epoch, 4);
	assert_int_equal(v.prev_top, 1);
}

static void test_replay_duplicate(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, 1, 7);

	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
}

static int auth_seq(struct tun_devtab *t, uint32_t epoch, uint64_t seq)
{
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, epoch, seq);

	return tf_auth(t, msg, len, &p);
}

/* The window: the highest sequence and the 63 below it. */
static void test_replay_window(void **state)
{
	struct tun_devtab *t = *state;

	assert_int_equal(auth_seq(t, 1, 1000), 0);
	assert_int_equal(auth_seq(t, 1, 1000 - 64), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, 1, 1000 - 65), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, 1, 0), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, 1, 1000 - 63), 0);
	assert_int_equal(auth_seq(t, 1, 1000 - 63), -TUN_REJ_REPLAY);
	/* Out of order inside the window: each accepted once. */
	for (uint64_t s = 999; s > 1000 - 63; s -= 7) {
		assert_int_equal(auth_seq(t, 1, s), 0);
		assert_int_equal(auth_seq(t, 1, s), -TUN_REJ_REPLAY);
	}
	/* A step forward slides the window; what fell out is refused. */
	assert_int_equal(auth_seq(t, 1, 1010), 0);
	assert_int_equal(auth_seq(t, 1, 1010 - 64), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, 1, 998), 0);
	assert_int_equal(auth_seq(t, 1, 999), -TUN_REJ_REPLAY);
	/* A jump past the window forgets everything below the new top. */
	assert_int_equal(auth_seq(t, 1, 5000), 0);
	assert_int_equal(auth_seq(t, 1, 4999), 0);
	assert_int_equal(auth_seq(t, 1, 5000 - 63), 0);
	assert_int_equal(auth_seq(t, 1, 1010), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, 1, UINT64_MAX), 0);
	assert_int_equal(auth_seq(t, 1, UINT64_MAX), -TUN_REJ_REPLAY);
}

/* --- check 5: tag ----------------------------------------------------------- */

static void test_rej_mac_tag_bits(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, 1, 1);

	for (size_t i = len - XPRO_TUN_TAG_LEN; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			msg[i] ^= (uint8_t)(1 << bit);
			assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_MAC);
			msg[i] ^= (uint8_t)(1 << bit);
		}
	}
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
}

/*
 * Every bit of header and payload is covered.  A flip in the epoch or the
 * sequence gets as far as the tag; in other fields an earlier check may
 * catch it first; either way nothing passes and nothing is committed.
 */
static void test_rej_mac_header_and_payload_bits(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, TF_DEV4, 1, 1);
	int r;

	for (size_t i = 0; i < len - XPRO_TUN_TAG_LEN; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			msg[i] ^= (uint8_t)(1 << bit);
			r = tf_auth(t, msg, len, &p);
			msg[i] ^= (uint8_t)(1 << bit);
			if (r == 0)
				fail_msg("byte %zu bit %u accepted", i, bit);
			if (i >= 4 && i < 8 && r != -TUN_REJ_MAC)
				fail_msg("epoch byte %zu: %s", i, tun_rej_name(r));
			if (i >= 12 && r != -TUN_REJ_MAC)
				fail_msg("byte %zu: %s", i, tun_rej_name(r));
		}
	}
	assert_false(tf_view(t, TF_DEV4).have_cur);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
}

/* A forged packet with a future sequence does not move the window. */
static void test_mac_fail_commits_nothing(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	struct tun_dev_view v;
	size_t len;

	assert_int_equal(auth_seq(t, 1, 10), 0);
	len = tf_seal_data(msg, TF_DEV4, 1, 10 + 1000);
	msg[len - 1] ^= 1;
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_MAC);
	/* Nor does a forged reboot. */
	len = tf_seal_data(msg, TF_DEV4, 77, 0);
	msg[XPRO_TUN_HDR_LEN + 3] ^= 1;
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_MAC);
	v = tf_view(t, TF_DEV4);
	assert_int_equal(v.cur_epoch, 1);
	assert_int_equal(v.cur_top, 10);
	assert_false(v.have_prev);
	assert_int_equal(auth_seq(t, 1, 11), 0);
	assert_int_equal(auth_seq(t, 1, 9), 0);
}

/* --- check 6: inner packet -------------------------------------------------- */

/* Seal inner (edited by the test) as DATA from dev at epoch 1, next seq. */
static int auth_inner(struct tun_devtab *t, uint32_t dev, const uint8_t *inner, size_t len)
{
	static uint64_t seq;
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t n = tf_seal(msg, XPRO_MSG_DATA, dev, 1, ++seq, inner, len);

	return tf_auth(t, msg, n, &p);
}

static void test_rej_inner_version(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len = tf_ip4(in, TF_SRC4, TF_DST4, 20);

	for (unsigned v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		in[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER);
	}
}

static void test_rej_inner_ihl_short(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len = tf_ip4(in, TF_SRC4, TF_DST4, 20);

	for (unsigned ihl = 0; ihl < 5; ihl++) {
		in[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER);
	}
}

static void test_rej_inner_options(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len = tf_ip4(in, TF_SRC4, TF_DST4, 20);

	in[0] = 0x46; /* IHL 6: four bytes of options, total length unchanged */
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER_OPTIONS);
	in[0] = 0x4f;
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER_OPTIONS);
}

static void test_rej_inner_length(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len = tf_ip4(in, TF_SRC4, TF_DST4, 20);

	in[3] = (uint8_t)(len + 1);
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER);
	in[3] = (uint8_t)(len - 1);
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER);
	in[2] = 1;
	in[3] = (uint8_t)len;
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_INNER);

	len = tf_ip6(in, TF_SRC6, TF_DST6, 20);
	in[5] = 21;
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_INNER);
	in[5] = 19;
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_INNER);
	in[5] = 0; /* a jumbogram's zero length does not match either */
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_INNER);
	/* Version 6 but shorter than an IPv6 header. */
	len = tf_ip4(in, TF_SRC4, TF_DST4, 10);
	in[0] = 0x60;
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_INNER);
}

static void test_rej_fragment_ipv4(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len = tf_ip4(in, TF_SRC4, TF_DST4, 20);

	in[6] = 0x20; /* MF */
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_FRAGMENT);
	in[6] = 0x00;
	in[7] = 0x01; /* offset 8 bytes, last fragment */
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_FRAGMENT);
	in[6] = 0x5f; /* DF with an offset: still a fragment */
	in[7] = 0xff;
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_FRAGMENT);
	in[6] = 0x40; /* DF alone is fine */
	in[7] = 0x00;
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), 0);
}

/* An IPv6 packet whose extension headers are given as (type, 8-byte units) pairs. */
static size_t ip6_with_ext(uint8_t *in, const uint8_t *types, unsigned n, uint8_t last)
{
	size_t len = tf_ip6(in, TF_SRC6, TF_DST6, 8 * n + 8), off = 40;

	in[6] = n ? types[0] : last;
	for (unsigned i = 0; i < n; i++, off += 8) {
		in[off] = i + 1 < n ? types[i + 1] : last;
		in[off + 1] = 0; /* 8 bytes long */
	}
	return len;
}

static void test_rej_fragment_ipv6(void **state)
{
	static const uint8_t frag[] = { IPPROTO_FRAGMENT };
	static const uint8_t hbh_frag[] = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT };
	static const uint8_t chain_frag[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS,
					      IPPROTO_FRAGMENT };
	static const uint8_t chain[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS };
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len;

	len = ip6_with_ext(in, frag, 1, IPPROTO_UDP);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_FRAGMENT);
	len = ip6_with_ext(in, hbh_frag, 2, IPPROTO_UDP);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_FRAGMENT);
	len = ip6_with_ext(in, chain_frag, 4, IPPROTO_UDP);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_FRAGMENT);
	len = ip6_with_ext(in, chain, 3, IPPROTO_UDP);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), 0);
	/* An extension header running past the end of the packet. */
	len = ip6_with_ext(in, chain, 3, IPPROTO_UDP);
	in[40 + 8 + 8 + 1] = 2; /* destination options: 24 bytes where 16 are left */
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_INNER);
}

static void test_rej_spoof(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t in[TF_BUF];
	size_t len;

	len = tf_ip4(in, "198.18.10.2", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_SPOOF);
	/* /24: both ends inside, both neighbours outside. */
	len = tf_ip4(in, "198.18.20.0", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV24, in, len), 0);
	len = tf_ip4(in, "198.18.20.255", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV24, in, len), 0);
	len = tf_ip4(in, "198.18.19.255", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV24, in, len), -TUN_REJ_SPOOF);
	len = tf_ip4(in, "198.18.21.0", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV24, in, len), -TUN_REJ_SPOOF);
	/* /64. */
	len = tf_ip6(in, "2001:2:0:10:ffff:ffff:ffff:ffff", TF_DST6, 20);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), 0);
	len = tf_ip6(in, "2001:2:0:11::1", TF_DST6, 20);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_SPOOF);
	/* The other family, even with an address that maps into the prefix. */
	len = tf_ip6(in, "::ffff:198.18.10.1", TF_DST6, 20);
	assert_int_equal(auth_inner(t, TF_DEV4, in, len), -TUN_REJ_SPOOF);
	len = tf_ip4(in, TF_SRC4, TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV6, in, len), -TUN_REJ_SPOOF);
}

/* An authentic packet with a bad inner packet still used its sequence number. */
static void test_inner_reject_consumes_seq(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], in[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_ip4(in, "10.0.0.1", TF_DST4, 20), n;

	n = tf_seal(msg, XPRO_MSG_DATA, TF_DEV4, 1, 5, in, len);
	assert_int_equal(tf_auth(t, msg, n, &p), -TUN_REJ_SPOOF);
	assert_int_equal(tf_auth(t, msg, n, &p), -TUN_REJ_REPLAY);
}

/*
 * Each rejection that names a provisioned device is counted on that device, by
 * reason; rejections before the device is known (unknown index, bad header) are
 * counted on none, and other devices' counts stay 0.
 */
static void test_device_rejection_counts(void **state)
{
	struct tun_devtab *t = *state;
	uint8_t msg[TF_BUF], in[TF_BUF];
	struct tun_pkt p;
	struct tun_dev_view v;
	size_t len, n;
	uint32_t be = htonl(99);

	len = tf_seal_data(msg, TF_DEV4, 1, 1);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_REPLAY);
	len = tf_seal_data(msg, TF_DEV4, 1, 2);
	msg[len - 1] ^= 1;
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_MAC);
	n = tf_ip4(in, "198.18.10.2", TF_DST4, 20);
	assert_int_equal(auth_inner(t, TF_DEV4, in, n), -TUN_REJ_SPOOF);
	len = tf_seal_data(msg, TF_DEV_OFF, 1, 1);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_INACTIVE);
	/* Before the device is known: counted on no device. */
	len = tf_seal_data(msg, TF_DEV4, 1, 3);
	assert_int_equal(tf_auth(t, msg, XPRO_TUN_HDR_LEN, &p), -TUN_REJ_SHORT);
	memcpy(msg + 8, &be, 4);
	assert_int_equal(tf_auth(t, msg, len, &p), -TUN_REJ_UNKNOWN_DEV);

	v = tf_view(t, TF_DEV4);
	for (int r = 0; r < TUN_REJ_N; r++) {
		uint64_t want = r == TUN_REJ_REPLAY ? 2 : r == TUN_REJ_MAC || r == TUN_REJ_SPOOF;

		if (v.rejected[r] != want)
			fail_msg("device %d: %s %" PRIu64 ", want %" PRIu64, TF_DEV4,
				 tun_rej_name(r), v.rejected[r], want);
	}
	v = tf_view(t, TF_DEV_OFF);
	assert_int_equal(v.rejected[TUN_REJ_INACTIVE], 1);
	v = tf_view(t, TF_DEV6);
	for (int r = 0; r < TUN_REJ_N; r++)
		assert_int_equal(v.rejected[r], 0);
}

static void test_rej_names(void **state)
{
	(void)state;
	assert_string_equal(tun_rej_name(0), "OK");
	assert_string_equal(tun_rej_name(-TUN_REJ_SHORT), "SHORT");
	assert_string_equal(tun_rej_name(TUN_REJ_MAC), "MAC");
	assert_string_equal(tun_rej_name(-TUN_REJ_SPOOF), "SPOOF");
	assert_string_equal(tun_rej_name(-TUN_REJ_N), "?");
	assert_string_equal(tun_rej_name(1000), "?");
	for (int r = 0; r < TUN_REJ_N; r++) {
		assert_string_not_equal(tun_rej_name(-r), "?");
		for (int s = 0; s < r; s++)
			assert_string_not_equal(tun_rej_name(-r), tun_rej_name(-s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_siphash_unaligned),
		cmocka_unit_test(test_derive_ik_known),
		cmocka_unit_test(test_seal_known_answer),
		cmocka_unit_test(test_seal_errors_and_in_place),
		cmocka_unit_test_setup_teardown(test_roundtrip_ipv4, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_ipv6, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_probe, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_short_every_length, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_truncated_body, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_version, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_type, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_reserved, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_unknown_flag, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_encrypted, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_unknown_dev, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_inactive, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_epoch, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_epoch_reboot, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_replay_duplicate, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_replay_window, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_mac_tag_bits, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_mac_header_and_payload_bits, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(test_mac_fail_commits_nothing, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_inner_version, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_inner_ihl_short, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_inner_options, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_inner_length, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_fragment_ipv4, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_fragment_ipv6, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_rej_spoof, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_device_rejection_counts, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(test_inner_reject_consumes_seq, tf_setup,
						tf_teardown),
		cmocka_unit_test(test_rej_names),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
