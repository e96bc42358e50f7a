/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the tunnel tests: a device table with a few known devices, inner
 * packet builders, and seal/authenticate helpers that keep the tests about
 * the check under test rather than about byte layouts.
 */
#ifndef XPRO_TEST_TUN_FIXTURE_H
#define XPRO_TEST_TUN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/devtab.h"
#include "dataplane/tunnel.h"

/* The fixture's devices (tf_conf[] in tun_fixture.c). */
enum {
	TF_DEV4 = 1, /* 198.18.10.1/32, active */
	TF_DEV6 = 2, /* 2001:2:0:10::/64, active */
	TF_DEV_OFF = 3, /* 198.18.10.3/32, inactive */
	TF_DEV24 = 7, /* 198.18.20.0/24, active */
	TF_NDEVS = 4,
};

#define TF_SRC4 "198.18.10.1"
#define TF_SRC6 "2001:2:0:10::5"
#define TF_DST4 "203.0.113.9"
#define TF_DST6 "2001:db8::9"
#define TF_BUF 2048

extern const struct tun_dev_conf tf_conf[TF_NDEVS];

/* A table holding tf_conf; asserts on failure. */
struct tun_devtab *tf_devtab(void);
/* The fixture's entry for dev (asserts it exists). */
const struct tun_dev_conf *tf_dev(uint32_t dev);
/* The fixture entry for dev with fields built from text (for prefix tests). */
struct tun_dev_conf tf_conf_v4(uint32_t dev, const char *net, unsigned len, uint8_t secret_byte);

/* Inner IPv4 packet, IHL 5, protocol UDP, total length 20 + payload.  Returns length. */
size_t tf_ip4(uint8_t *buf, const char *src, const char *dst, size_t payload);
/* Inner IPv6 packet, next header UDP, 40 + payload bytes.  Returns length. */
size_t tf_ip6(uint8_t *buf, const char *src, const char *dst, size_t payload);

/* Seal inner under dev's fixture secret.  Returns the message length (asserts success). */
size_t tf_seal(uint8_t *msg, unsigned type, uint32_t dev, uint32_t epoch, uint64_t seq,
	       const uint8_t *inner, size_t len);
/* Seal a DATA message carrying a default inner packet from dev's own prefix. */
size_t tf_seal_data(uint8_t *msg, uint32_t dev, uint32_t epoch, uint64_t seq);
/*
 * Recompute the tag of msg (len bytes, tag included) after a test edited the
 * header or payload, with the key of the (dev, epoch) given, so that the
 * check under test and not the MAC is what fails.
 */
void tf_retag(uint8_t *msg, size_t len, uint32_t dev, uint32_t epoch);

/* tun_auth() inside an RCU read-side section.  Returns its result. */
int tf_auth(struct tun_devtab *t, const uint8_t *msg, size_t len, struct tun_pkt *out);
/* tun_devtab_view() inside an RCU read-side section (asserts the device exists). */
struct tun_dev_view tf_view(struct tun_devtab *t, uint32_t dev);

/* cmocka setup/teardown: *state becomes a fresh tf_devtab(). */
int tf_setup(void **state);
int tf_teardown(void **state);

#endif
