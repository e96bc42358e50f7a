/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake platform (mfw_fake.h).  The flash model follows NOR flash: a
 * write is an erase of the slot (all 0xff) then one byte programmed at a
 * time, and the power may fail before any of those steps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "mfw_fake.h"

static uint64_t now_ms(void *user)
{
	return ((struct fake *)user)->now;
}

static int rnd(void *user, void *buf, size_t len)
{
	struct fake *f = user;
	uint8_t *p = buf;

	while (len--) {
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 17;
		f->rng ^= f->rng << 5;
		*p++ = (uint8_t)f->rng;
	}
	return 0;
}

static int udp_send(void *user, const struct mfw_addr *to, const void *buf, size_t len)
{
	struct fake *f = user;
	struct fake_dgram *d = &f->sent[f->nsent % FAKE_SENT_MAX];

	if (f->send_err)
		return f->send_err;
	assert_true(len <= FAKE_DGRAM_MAX);
	d->to = *to;
	d->len = len;
	memcpy(d->buf, buf, len);
	f->nsent++;
	return 0;
}

static int store_read(void *user, unsigned slot, void *buf, size_t len)
{
	struct fake *f = user;

	assert_true(slot < 2 && len == MFW_EPOCH_REC_LEN);
	memcpy(buf, f->flash[slot], len);
	return 0;
}

/* One step of a write; false once the power is gone. */
static int step(struct fake *f)
{
	if (f->power_off)
		return 0;
	if (f->steps_left == 0) {
		f->power_off = 1;
		return 0;
	}
	if (f->steps_left > 0)
		f->steps_left--;
	f->steps++;
	return 1;
}

static int store_write(void *user, unsigned slot, const void *buf, size_t len)
{
	struct fake *f = user;
	const uint8_t *p = buf;

	assert_true(slot < 2 && len == MFW_EPOCH_REC_LEN);
	if (f->stuck)
		return 0;
	if (!step(f))
		return -EIO;
	memset(f->flash[slot], 0xff, len);
	for (size_t i = 0; i < len; i++) {
		if (!step(f)) {
			f->flash[slot][i] = f->torn;
			return -EIO;
		}
		f->flash[slot][i] = p[i];
	}
	return 0;
}

static int aead(void *user, uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad,
		size_t adlen, const uint8_t nonce[XPRO_AEAD_NONCE_LEN],
		const uint8_t key[XPRO_EK_LEN])
{
	unsigned long long clen;

	(void)user;
	return crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, len, ad, adlen, NULL,
							 nonce, key)
		       ? -EIO
		       : 0;
}

static void event(void *user, enum mfw_event_type type, int proxy, int arg)
{
	struct fake *f = user;

	if (f->nev < FAKE_EV_MAX) {
		f->ev[f->nev][0] = type;
		f->ev[f->nev][1] = proxy;
		f->ev[f->nev][2] = arg;
	}
	f->nev++;
}

void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	memset(f->flash, 0xff, sizeof(f->flash));
	f->now = 1000;
	f->steps_left = -1;
	f->rng = 0x9e3779b9u;
	f->plat.user = f;
	f->plat.now_ms = now_ms;
	f->plat.random = rnd;
	f->plat.udp_send = udp_send;
	f->plat.store_read = store_read;
	f->plat.store_write = store_write;
	f->plat.aead_seal = aead;
	f->plat.event = event;
}

void fake_power_on(struct fake *f)
{
	f->power_off = 0;
	f->steps_left = -1;
	f->nev = 0;
}

const struct fake_dgram *fake_sent(const struct fake *f, unsigned k)
{
	assert_true(k < f->nsent && k < FAKE_SENT_MAX);
	return &f->sent[(f->nsent - 1 - k) % FAKE_SENT_MAX];
}

unsigned fake_events(const struct fake *f, enum mfw_event_type type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nev && i < FAKE_EV_MAX; i++)
		n += f->ev[i][0] == (int)type;
	return n;
}

struct mfw_addr fake_proxy_addr(unsigned i)
{
	struct mfw_addr a = { .ip = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 0 },
			      .port = XPRO_TUN_PORT_DEFAULT };

	a.ip[15] = (uint8_t)(1 + i);
	return a;
}

void fake_proxy_secret(unsigned i, uint8_t secret[XPRO_TUN_SECRET_LEN])
{
	for (unsigned b = 0; b < XPRO_TUN_SECRET_LEN; b++)
		secret[b] = (uint8_t)(0x11 * (i + 1) + b);
}

int fake_boot(struct fake *f, const struct mfw_config *cfg, unsigned n)
{
	uint8_t secret[XPRO_TUN_SECRET_LEN];
	struct mfw_config def;
	int r;

	if (!cfg) {
		mfw_config_default(&def, 1);
		cfg = &def;
	}
	r = mfw_init(&f->ctx, cfg, &f->plat, f->px, FAKE_PROXIES);
	if (r)
		return r;
	for (unsigned i = 0; i < n; i++) {
		struct mfw_addr a = fake_proxy_addr(i);

		fake_proxy_secret(i, secret);
		assert_int_equal(mfw_proxy_add(&f->ctx, &a, secret), (int)i);
	}
	return 0;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void pk_of(unsigned i, uint32_t epoch, struct xpro_sipkey *k)
{
	uint8_t secret[XPRO_TUN_SECRET_LEN], pk[XPRO_SIPKEY_LEN];

	fake_proxy_secret(i, secret);
	mfw_kdf(secret, XPRO_LABEL_PK, epoch, pk, 2);
	xpro_sipkey_load(k, pk);
}

size_t fake_reply(uint8_t *msg, unsigned i, uint32_t epoch, uint32_t dev, uint64_t seq,
		  uint64_t echo, uint8_t flags, uint16_t load, const struct fake_peer *peers,
		  unsigned npeers)
{
	uint8_t *pl = msg + XPRO_TUN_HDR_LEN;
	size_t len = XPRO_REPLY_FIXED_LEN + npeers * XPRO_PEER_LEN;
	struct xpro_sipkey k;

	memset(pl, 0, len);
	put_be64(pl + XPRO_REPLY_OFF_ECHO, echo);
	pl[XPRO_REPLY_OFF_PVER] = XPRO_PAYLOAD_VERSION;
	pl[XPRO_REPLY_OFF_FLAGS] = flags;
	put_be16(pl + XPRO_REPLY_OFF_LOAD, load);
	pl[XPRO_REPLY_OFF_NPEERS] = (uint8_t)npeers;
	for (unsigned p = 0; p < npeers; p++) {
		uint8_t *e = pl + XPRO_REPLY_FIXED_LEN + p * XPRO_PEER_LEN;

		memcpy(e + XPRO_PEER_OFF_ADDR, peers[p].addr.ip, 16);
		put_be16(e + XPRO_PEER_OFF_PORT, peers[p].addr.port);
		put_be16(e + XPRO_PEER_OFF_LOAD, peers[p].load);
		e[XPRO_PEER_OFF_STATE] = peers[p].state;
	}
	pk_of(i, epoch, &k);
	return mfw_seal(msg, &k, XPRO_MSG_PROBE_REPLY, 0, epoch, dev, seq, len);
}

size_t fake_overload(uint8_t *msg, unsigned i, uint32_t epoch, uint32_t dev, uint64_t seq,
		     uint8_t reason, uint16_t load, uint32_t hold_ms)
{
	uint8_t *pl = msg + XPRO_TUN_HDR_LEN;
	struct xpro_sipkey k;

	memset(pl, 0, XPRO_OVERLOAD_LEN);
	pl[XPRO_OVL_OFF_PVER] = XPRO_PAYLOAD_VERSION;
	pl[XPRO_OVL_OFF_REASON] = reason;
	put_be16(pl + XPRO_OVL_OFF_LOAD, load);
	put_be32(pl + XPRO_OVL_OFF_HOLD, hold_ms);
	pk_of(i, epoch, &k);
	return mfw_seal(msg, &k, XPRO_MSG_OVERLOAD, 0, epoch, dev, seq, XPRO_OVERLOAD_LEN);
}

static uint64_t proxy_seq[FAKE_PROXIES];

uint64_t fake_proxy_seq(unsigned i)
{
	return ++proxy_seq[i];
}

int fake_answer(struct fake *f, unsigned i, uint8_t flags, uint16_t load)
{
	struct mfw_addr a = fake_proxy_addr(i);
	uint8_t msg[FAKE_DGRAM_MAX];
	size_t len;

	for (unsigned k = 0; k < f->nsent && k < FAKE_SENT_MAX; k++) {
		const struct fake_dgram *d = fake_sent(f, k);
		uint64_t seq = 0;

		if (memcmp(d->to.ip, a.ip, 16) || d->to.port != a.port ||
		    (d->buf[0] & 0x0f) != XPRO_MSG_PROBE)
			continue;
		for (unsigned b = 0; b < 8; b++)
			seq = seq << 8 | d->buf[XPRO_TUN_OFF_SEQ + b];
		len = fake_reply(msg, i, f->ctx.epoch, f->ctx.cfg.dev, fake_proxy_seq(i), seq,
				 flags, load, NULL, 0);
		return mfw_input(&f->ctx, &a, msg, len);
	}
	return 1;
}

void fake_run(struct fake *f, uint64_t ms)
{
	uint64_t end = f->now + ms;

	while (f->now < end) {
		f->now += end - f->now < 10 ? end - f->now : 10;
		mfw_poll(&f->ctx);
	}
}

int fake_setup(void **state)
{
	struct fake *f = malloc(sizeof(*f));

	assert_non_null(f);
	fake_init(f);
	*state = f;
	return 0;
}

int fake_teardown(void **state)
{
	free(*state);
	return 0;
}
