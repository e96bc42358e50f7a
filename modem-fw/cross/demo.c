/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A demo image for a Cortex-M4 modem: the library over a stand-in platform
 * (a tick counter for the clock, a RAM array for the two flash slots, a
 * volatile sink for the radio).  It exists to prove that the library
 * builds, links without malloc or stdio, and to measure its size; a real
 * port replaces these hooks with its drivers.
 */
#include "mfw.h"

#define NPROXIES 4
#define MTU 1500

static struct mfw_ctx ctx;
static struct mfw_proxy proxies[NPROXIES];
static uint8_t pkt[MFW_SEND_BUFLEN(MTU)];
static uint8_t flash[2][MFW_EPOCH_REC_LEN];
static volatile uint32_t radio_sink;
static uint64_t ticks;
static uint32_t rng = 0x2545f491u;

static uint64_t now_ms(void *user)
{
	(void)user;
	return ticks;
}

static int rnd(void *user, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)user;
	while (len--) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		*p++ = (uint8_t)rng;
	}
	return 0;
}

static int udp_send(void *user, const struct mfw_addr *to, const void *buf, size_t len)
{
	(void)user;
	radio_sink = (uint32_t)len ^ to->port ^ ((const uint8_t *)buf)[0];
	return 0;
}

static int store_read(void *user, unsigned slot, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)user;
	for (size_t i = 0; i < len; i++)
		p[i] = flash[slot][i];
	return 0;
}

static int store_write(void *user, unsigned slot, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	(void)user;
	for (size_t i = 0; i < len; i++)
		flash[slot][i] = p[i];
	return 0;
}

static const struct mfw_platform plat = {
	.now_ms = now_ms,
	.random = rnd,
	.udp_send = udp_send,
	.store_read = store_read,
	.store_write = store_write,
};

int main(void)
{
	static const uint8_t secret[XPRO_TUN_SECRET_LEN] = { 1, 2,  3,	4,  5,	6,  7,	8,
							     9, 10, 11, 12, 13, 14, 15, 16 };
	struct mfw_addr a = { .ip = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 },
			      .port = XPRO_TUN_PORT_DEFAULT };
	struct mfw_config cfg;

	mfw_config_default(&cfg, 42);
	if (mfw_init(&ctx, &cfg, &plat, proxies, NPROXIES))
		return 1;
	for (unsigned i = 0; i < NPROXIES; i++) {
		a.ip[15] = (uint8_t)(1 + i);
		mfw_proxy_add(&ctx, &a, secret);
	}
	for (;;) {
		/* An inner IPv4 header would be written here by the IP stack. */
		pkt[XPRO_TUN_HDR_LEN] = 0x45;
		mfw_send(&ctx, pkt, sizeof(pkt), 64);
		mfw_input(&ctx, &a, pkt, 64);
		ticks += mfw_poll(&ctx);
	}
}
