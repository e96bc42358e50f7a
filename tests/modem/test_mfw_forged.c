/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages a device must not believe: wrong key, replayed, for another
 * device or epoch, reflected from the device's own direction, from an
 * unknown address, with any single bit flipped or cut short, or authentic
 * but malformed.  Each is refused with its reason and leaves the context
 * and the proxy table byte for byte as they were (counters aside).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mfw_fake.h"

struct snap {
	struct mfw_ctx ctx;
	struct mfw_proxy px[FAKE_PROXIES];
};

static void snap_take(const struct fake *f, struct snap *s)
{
	memcpy(&s->ctx, &f->ctx, sizeof(s->ctx));
	memcpy(s->px, f->px, sizeof(s->px));
}

/* Feed msg; expect rejection rej and no change but the one counter. */
static void refused(struct fake *f, const struct mfw_addr *from, const uint8_t *msg, size_t len,
		    int rej)
{
	struct snap before, after;
	int r;

	snap_take(f, &before);
	r = mfw_input(&f->ctx, from, msg, len);
	if (rej)
		assert_int_equal(r, -rej);
	else
		assert_true(r < 0);
	snap_take(f, &after);
	assert_int_equal(after.ctx.st.rej[-r], before.ctx.st.rej[-r] + 1);
	after.ctx.st = before.ctx.st;
	assert_memory_equal(&after, &before, sizeof(before));
}

/* Two proxies, probes out; *msg is proxy 0's valid answer to its probe. */
static size_t prepare(struct fake *f, uint8_t *msg)
{
	assert_int_equal(fake_boot(f, NULL, 2), 0);
	mfw_poll(&f->ctx);
	return fake_reply(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), f->px[0].probe_seq, 0, 300,
			  NULL, 0);
}

/* Seal as proxy 0 would, but under the given key. */
static size_t reply_under(uint8_t *msg, const uint8_t secret[16], const char *label, uint32_t epoch,
			  uint64_t seq, uint64_t echo)
{
	uint8_t key[16];
	struct xpro_sipkey k;

	memset(msg + XPRO_TUN_HDR_LEN, 0, XPRO_REPLY_FIXED_LEN);
	for (int b = 0; b < 8; b++)
		msg[XPRO_TUN_HDR_LEN + b] = (uint8_t)(echo >> (56 - 8 * b));
	msg[XPRO_TUN_HDR_LEN + XPRO_REPLY_OFF_PVER] = XPRO_PAYLOAD_VERSION;
	mfw_kdf(secret, label, epoch, key, 2);
	xpro_sipkey_load(&k, key);
	return mfw_seal(msg, &k, XPRO_MSG_PROBE_REPLY, 0, epoch, 1, seq, XPRO_REPLY_FIXED_LEN);
}

static void test_wrong_key(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256], s0[16], s1[16], rnd[16] = { 0xde, 0xad };
	size_t len;

	prepare(f, msg);
	fake_proxy_secret(0, s0);
	fake_proxy_secret(1, s1);
	len = reply_under(msg, s1, XPRO_LABEL_PK, f->ctx.epoch, 77, f->px[0].probe_seq);
	refused(f, &a0, msg, len, MFW_REJ_MAC);
	/* Right secret, wrong direction's key: a device-keyed message never passes. */
	len = reply_under(msg, s0, XPRO_LABEL_IK, f->ctx.epoch, 78, f->px[0].probe_seq);
	refused(f, &a0, msg, len, MFW_REJ_MAC);
	len = reply_under(msg, rnd, XPRO_LABEL_PK, f->ctx.epoch, 79, f->px[0].probe_seq);
	refused(f, &a0, msg, len, MFW_REJ_MAC);
	/* Proxy 0's genuine reply, arriving from proxy 1's address. */
	len = reply_under(msg, s0, XPRO_LABEL_PK, f->ctx.epoch, 80, f->px[0].probe_seq);
	struct mfw_addr a1 = fake_proxy_addr(1);
	refused(f, &a1, msg, len, MFW_REJ_MAC);
	/* ... and from nowhere we know. */
	a1.ip[15] = 99;
	refused(f, &a1, msg, len, MFW_REJ_PROXY);
	a1 = fake_proxy_addr(0);
	a1.port++;
	refused(f, &a1, msg, len, MFW_REJ_PROXY);
}

static void test_replayed(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256], s0[16];
	size_t len = prepare(f, msg);
	uint64_t seq;

	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	refused(f, &a0, msg, len, MFW_REJ_REPLAY);
	/* Authentic but 64 or more below the newest: too old. */
	fake_proxy_secret(0, s0);
	seq = fake_proxy_seq(0) + 100;
	len = reply_under(msg, s0, XPRO_LABEL_PK, f->ctx.epoch, seq, f->px[0].probe_seq);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	len = reply_under(msg, s0, XPRO_LABEL_PK, f->ctx.epoch, seq - 64, f->px[0].probe_seq);
	refused(f, &a0, msg, len, MFW_REJ_REPLAY);
	/* Within the window and unseen: accepted once. */
	len = reply_under(msg, s0, XPRO_LABEL_PK, f->ctx.epoch, seq - 63, f->px[0].probe_seq);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	refused(f, &a0, msg, len, MFW_REJ_REPLAY);
}

static void test_wrong_device_and_epoch(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256], s0[16];
	size_t len = prepare(f, msg);
	struct xpro_sipkey k;
	uint8_t pk[16];

	fake_proxy_secret(0, s0);
	mfw_kdf(s0, XPRO_LABEL_PK, f->ctx.epoch, pk, 2);
	xpro_sipkey_load(&k, pk);
	/* Another device's message under (our) valid key: the header says dev 2. */
	mfw_seal(msg, &k, XPRO_MSG_PROBE_REPLY, 0, f->ctx.epoch, 2, fake_proxy_seq(0),
		 len - XPRO_TUN_OVERHEAD);
	refused(f, &a0, msg, len, MFW_REJ_DEV);
	/* The previous boot's epoch, under that epoch's key. */
	len = reply_under(msg, s0, XPRO_LABEL_PK, f->ctx.epoch - 1, fake_proxy_seq(0),
			  f->px[0].probe_seq);
	refused(f, &a0, msg, len, MFW_REJ_EPOCH);
}

/* The device's own messages coming back: refused before the tag. */
static void test_reflected(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256], buf[MFW_SEND_BUFLEN(20)] = { 0 };
	const struct fake_dgram *d;

	prepare(f, msg);
	d = fake_sent(f, 1); /* the probe to proxy 0 */
	assert_int_equal(d->buf[0] & 0x0f, XPRO_MSG_PROBE);
	refused(f, &a0, d->buf, d->len, MFW_REJ_DIRECTION);
	assert_true(mfw_send(&f->ctx, buf, sizeof(buf), 20) > 0);
	d = fake_sent(f, 0);
	refused(f, &a0, d->buf, d->len, MFW_REJ_DIRECTION);
}

/* Every single-bit change and every truncation of a valid reply is refused. */
static void test_every_bit_and_length(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256], bad[256];
	size_t len = prepare(f, msg);

	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			memcpy(bad, msg, len);
			bad[i] ^= (uint8_t)(1u << b);
			refused(f, &a0, bad, len, 0);
		}
	}
	for (size_t n = 0; n < len; n++)
		refused(f, &a0, msg, n, 0);
	/* The original still works: none of the above used its sequence number. */
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_int_equal(f->px[0].load, 300);
}

/* Authentic, but the payload does not parse: ignored, sequence not spent. */
static void test_malformed_payload(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[512];
	size_t len;
	uint64_t seq;

	prepare(f, msg);
	seq = fake_proxy_seq(0);
	len = fake_reply(msg, 0, f->ctx.epoch, 1, seq, f->px[0].probe_seq, 0, 300, NULL, 0);
	msg[XPRO_TUN_HDR_LEN + XPRO_REPLY_OFF_NPEERS] = 1; /* claims a peer it does not carry */
	len = mfw_seal(msg, &f->px[0].pk, XPRO_MSG_PROBE_REPLY, 0, f->ctx.epoch, 1, seq,
		       len - XPRO_TUN_OVERHEAD);
	refused(f, &a0, msg, len, MFW_REJ_PAYLOAD);
	len = fake_reply(msg, 0, f->ctx.epoch, 1, seq, f->px[0].probe_seq, 0, 300, NULL, 0);
	msg[XPRO_TUN_HDR_LEN + XPRO_REPLY_OFF_PVER] = 2;
	len = mfw_seal(msg, &f->px[0].pk, XPRO_MSG_PROBE_REPLY, 0, f->ctx.epoch, 1, seq,
		       len - XPRO_TUN_OVERHEAD);
	refused(f, &a0, msg, len, MFW_REJ_PAYLOAD);
	/* Echoing a sequence number the device has not used yet. */
	len = fake_reply(msg, 0, f->ctx.epoch, 1, seq, f->ctx.seq, 0, 300, NULL, 0);
	refused(f, &a0, msg, len, MFW_REJ_PAYLOAD);
	len = fake_overload(msg, 0, f->ctx.epoch, 1, seq, 9, 900, 1000);
	refused(f, &a0, msg, len, MFW_REJ_PAYLOAD);
	len = fake_overload(msg, 0, f->ctx.epoch, 1, seq, XPRO_OVL_BUSY, 900, 1000);
	len = mfw_seal(msg, &f->px[0].pk, XPRO_MSG_OVERLOAD, 0, f->ctx.epoch, 1, seq,
		       XPRO_OVERLOAD_LEN - 1);
	refused(f, &a0, msg, len, MFW_REJ_PAYLOAD);
	/* The same sequence number, now well formed: accepted. */
	len = fake_reply(msg, 0, f->ctx.epoch, 1, seq, f->px[0].probe_seq, 0, 300, NULL, 0);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
}

/* A genuine reply to an older probe, delivered late, vouches for nothing. */
static void test_late_reply_ignored(void **state)
{
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[256];
	uint64_t old;

	prepare(f, msg);
	old = f->px[0].probe_seq;
	f->now += 5000;
	mfw_poll(&f->ctx); /* the first probe timed out, a new one is out */
	assert_true(f->px[0].probe_seq != old);
	assert_int_equal(f->px[0].misses, 1);
	fake_reply(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), old, 0, 999, NULL, 0);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, XPRO_TUN_OVERHEAD + XPRO_REPLY_FIXED_LEN), 0);
	assert_int_equal(f->px[0].misses, 1);
	assert_int_equal(f->px[0].load, 0);
	assert_int_equal(f->px[0].state, MFW_P_UNKNOWN);
}

static void test_rej_names(void **state)
{
	(void)state;
	assert_string_equal(mfw_rej_name(0), "OK");
	assert_string_equal(mfw_rej_name(-MFW_REJ_DIRECTION), "DIRECTION");
	assert_string_equal(mfw_rej_name(-MFW_REJ_PAYLOAD), "PAYLOAD");
	assert_string_equal(mfw_rej_name(-MFW_REJ_N), "?");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_wrong_key),
		T(test_replayed),
		T(test_wrong_device_and_epoch),
		T(test_reflected),
		T(test_every_bit_and_length),
		T(test_malformed_payload),
		T(test_late_reply_ignored),
		cmocka_unit_test(test_rej_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
