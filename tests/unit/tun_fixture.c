/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tunnel test fixture: known devices, inner packet builders, and seal and
 * authenticate wrappers (see tun_fixture.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "xpro/siphash.h"
#include "tun_fixture.h"

/* Initializer lists, used inside braces. */
#define V4(a, b, c, d) 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d
#define SECRET(x)                                                                                 \
	x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7, x + 8, x + 9, x + 10, x + 11, x + 12, \
		x + 13, x + 14, x + 15

const struct tun_dev_conf tf_conf[TF_NDEVS] = {
	{ .dev = TF_DEV4,
	  .secret = { SECRET(0x00) },
	  .prefix = { V4(198, 18, 10, 1) },
	  .plen = 128,
	  .ipver = 4,
	  .active = true },
	{ .dev = TF_DEV6,
	  .secret = { SECRET(0x10) },
	  .prefix = { 0x20, 0x01, 0, 2, 0, 0, 0, 0x10 },
	  .plen = 64,
	  .ipver = 6,
	  .active = true },
	{ .dev = TF_DEV_OFF,
	  .secret = { SECRET(0x20) },
	  .prefix = { V4(198, 18, 10, 3) },
	  .plen = 128,
	  .ipver = 4,
	  .active = false },
	{ .dev = TF_DEV24,
	  .secret = { SECRET(0x30) },
	  .prefix = { V4(198, 18, 20, 0) },
	  .plen = 120,
	  .ipver = 4,
	  .active = true },
};

struct tun_devtab *tf_devtab(void)
{
	struct tun_devtab *t = tun_devtab_new();

	assert_non_null(t);
	assert_int_equal(tun_devtab_replace(t, tf_conf, TF_NDEVS), 0);
	return t;
}

const struct tun_dev_conf *tf_dev(uint32_t dev)
{
	for (unsigned i = 0; i < TF_NDEVS; i++)
		if (tf_conf[i].dev == dev)
			return &tf_conf[i];
	fail_msg("device %u is not in the fixture", dev);
	return NULL;
}

struct tun_dev_conf tf_conf_v4(uint32_t dev, const char *net, unsigned len, uint8_t secret_byte)
{
	struct tun_dev_conf c = { .dev = dev, .plen = (uint8_t)(96 + len), .ipver = 4 };

	c.active = true;
	memset(c.secret, secret_byte, sizeof(c.secret));
	c.prefix[10] = 0xff;
	c.prefix[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, net, c.prefix + 12), 1);
	return c;
}

size_t tf_ip4(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	size_t len = 20 + payload;

	memset(buf, 0, len);
	buf[0] = 0x45;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	buf[6] = 0x40; /* DF: allowed, not a fragment */
	buf[8] = 64;
	buf[9] = 17;
	assert_int_equal(inet_pton(AF_INET, src, buf + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, buf + 16), 1);
	for (size_t i = 20; i < len; i++)
		buf[i] = (uint8_t)i;
	return len;
}

size_t tf_ip6(uint8_t *buf, const char *src, const char *dst, size_t payload)
{
	size_t len = 40 + payload;

	memset(buf, 0, len);
	buf[0] = 0x60;
	buf[4] = (uint8_t)(payload >> 8);
	buf[5] = (uint8_t)payload;
	buf[6] = 17;
	buf[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, buf + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, buf + 24), 1);
	for (size_t i = 40; i < len; i++)
		buf[i] = (uint8_t)i;
	return len;
}

size_t tf_seal(uint8_t *msg, unsigned type, uint32_t dev, uint32_t epoch, uint64_t seq,
	       const uint8_t *inner, size_t len)
{
	uint8_t ik[XPRO_IK_LEN];
	int n;

	xpro_derive_ik(tf_dev(dev)->secret, epoch, ik);
	n = tun_seal(msg, TF_BUF, ik, type, epoch, dev, seq, inner, len);
	assert_int_equal(n, (int)tun_seal_len(len));
	return (size_t)n;
}

size_t tf_seal_data(uint8_t *msg, uint32_t dev, uint32_t epoch, uint64_t seq)
{
	uint8_t inner[TF_BUF];
	size_t len;

	switch (dev) {
	case TF_DEV6:
		len = tf_ip6(inner, TF_SRC6, TF_DST6, 12);
		break;
	case TF_DEV24:
		len = tf_ip4(inner, "198.18.20.77", TF_DST4, 12);
		break;
	case TF_DEV_OFF:
		len = tf_ip4(inner, "198.18.10.3", TF_DST4, 12);
		break;
	default:
		len = tf_ip4(inner, TF_SRC4, TF_DST4, 12);
		break;
	}
	return tf_seal(msg, XPRO_MSG_DATA, dev, epoch, seq, inner, len);
}

void tf_retag(uint8_t *msg, size_t len, uint32_t dev, uint32_t epoch)
{
	uint8_t ik[XPRO_IK_LEN];
	uint64_t tag;

	xpro_derive_ik(tf_dev(dev)->secret, epoch, ik);
	tag = htole64(xpro_siphash_b(ik, msg, len - XPRO_TUN_TAG_LEN));
	memcpy(msg + len - XPRO_TUN_TAG_LEN, &tag, XPRO_TUN_TAG_LEN);
}

int tf_auth(struct tun_devtab *t, const uint8_t *msg, size_t len, struct tun_pkt *out)
{
	int r;

	rcu_read_lock();
	r = tun_auth(t, msg, len, out);
	rcu_read_unlock();
	return r;
}

struct tun_dev_view tf_view(struct tun_devtab *t, uint32_t dev)
{
	struct tun_dev_view v;
	int r;

	rcu_read_lock();
	r = tun_devtab_view(t, dev, &v);
	rcu_read_unlock();
	assert_int_equal(r, 0);
	return v;
}

int tf_setup(void **state)
{
	*state = tf_devtab();
	return 0;
}

int tf_teardown(void **state)
{
	tun_devtab_free(*state);
	return 0;
}
