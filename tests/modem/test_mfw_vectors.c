/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The modem library against the proxy, byte for byte: both implementations
 * against the vectors of an independent reference (vectors.h), and each
 * side accepting what the other sealed.  The proxy's code (libxpro-dp.a) is
 * linked here only; the library itself never includes or links it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <urcu.h>

#include "dataplane/devtab.h"
#include "xpro/siphash.h"
#include "dataplane/tunnel.h"
#include "mfw_fake.h"
#include "vectors.h"

static const uint8_t secret0f[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

/* What xpro_derive_ik() does, for the labels the proxy does not derive yet. */
static void proxy_kdf(const char *label, uint32_t epoch, uint8_t *out, unsigned nwords)
{
	uint8_t msg[13] = { 0 };
	uint32_t be = htobe32(epoch);
	uint64_t w;

	memcpy(msg, label, 7);
	memcpy(msg + 8, &be, 4);
	for (unsigned i = 0; i < nwords; i++) {
		msg[12] = (uint8_t)i;
		w = htole64(xpro_siphash_b(secret0f, msg, sizeof(msg)));
		memcpy(out + 8 * i, &w, 8);
	}
}

/* The proxy's table: device VEC_DEV with secret 00..0f and 198.18.10.1/32. */
static struct tun_devtab *proxy_tab(void)
{
	struct tun_dev_conf c = { .dev = VEC_DEV, .plen = 128, .ipver = 4, .active = true };
	struct tun_devtab *t = tun_devtab_new();

	assert_non_null(t);
	memcpy(c.secret, secret0f, 16);
	c.prefix[10] = c.prefix[11] = 0xff;
	memcpy(c.prefix + 12, (uint8_t[]){ 198, 18, 10, 1 }, 4);
	assert_int_equal(tun_devtab_replace(t, &c, 1), 0);
	return t;
}

static int proxy_auth(struct tun_devtab *t, const uint8_t *msg, size_t len, struct tun_pkt *p)
{
	int r;

	rcu_read_lock();
	r = tun_auth(t, msg, len, p);
	rcu_read_unlock();
	return r;
}

/* The library's constants are the proxy's and the platform's. */
static void test_constants_agree(void **state)
{
	(void)state;
	assert_int_equal(XPRO_TUN_HDR_LEN, sizeof(struct xpro_tun_hdr));
	assert_int_equal(XPRO_TUN_TAG_LEN, XPRO_TUN_TAG_LEN);
	assert_int_equal(XPRO_TUN_SECRET_LEN, XPRO_TUN_SECRET_LEN);
	assert_int_equal(XPRO_SIPKEY_LEN, XPRO_IK_LEN);
	assert_int_equal(XPRO_TUN_VERSION, XPRO_TUN_VERSION);
	assert_int_equal(XPRO_TUN_PORT_DEFAULT, XPRO_TUN_PORT_DEFAULT);
	assert_int_equal(XPRO_TUN_MIN_PAYLOAD, XPRO_TUN_MIN_PAYLOAD);
	assert_int_equal(XPRO_MSG_DATA, XPRO_MSG_DATA);
	assert_int_equal(XPRO_MSG_PROBE, XPRO_MSG_PROBE);
	assert_int_equal(XPRO_MSG_PROBE_REPLY, XPRO_MSG_PROBE_REPLY);
	assert_int_equal(XPRO_MSG_OVERLOAD, XPRO_MSG_OVERLOAD);
	assert_int_equal(XPRO_TUN_F_ENCRYPTED, XPRO_TUN_F_ENCRYPTED);
	assert_int_equal(XPRO_TUN_OFF_EPOCH, offsetof(struct xpro_tun_hdr, epoch));
	assert_int_equal(XPRO_TUN_OFF_DEV, offsetof(struct xpro_tun_hdr, dev));
	assert_int_equal(XPRO_TUN_OFF_SEQ, offsetof(struct xpro_tun_hdr, seq_hi));
	assert_int_equal(XPRO_PROBE_LEN, XPRO_TUN_MIN_PAYLOAD);
	assert_int_equal(XPRO_PROBE_LEN, sizeof(struct xpro_probe));
	assert_int_equal(XPRO_PROBE_OFF_CAPS, offsetof(struct xpro_probe, caps));
	assert_int_equal(XPRO_PROBE_OFF_ROLE, offsetof(struct xpro_probe, role));
	assert_int_equal(XPRO_REPLY_FIXED_LEN, sizeof(struct xpro_probe_reply));
	assert_int_equal(XPRO_REPLY_OFF_ECHO, offsetof(struct xpro_probe_reply, echo_hi));
	assert_int_equal(XPRO_REPLY_OFF_PVER, offsetof(struct xpro_probe_reply, pver));
	assert_int_equal(XPRO_REPLY_OFF_FLAGS, offsetof(struct xpro_probe_reply, flags));
	assert_int_equal(XPRO_REPLY_OFF_LOAD, offsetof(struct xpro_probe_reply, load));
	assert_int_equal(XPRO_REPLY_OFF_NPEERS, offsetof(struct xpro_probe_reply, npeers));
	assert_int_equal(XPRO_REPLY_MAX_PEERS, XPRO_REPLY_MAX_PEERS);
	assert_int_equal(XPRO_REPLY_F_ENC_OK, XPRO_REPLY_F_ENC_OK);
	assert_int_equal(XPRO_REPLY_F_UNAVAIL, XPRO_REPLY_F_UNAVAIL);
	assert_int_equal(XPRO_PEER_LEN, sizeof(struct xpro_peer));
	assert_int_equal(XPRO_PEER_OFF_PORT, offsetof(struct xpro_peer, port));
	assert_int_equal(XPRO_PEER_OFF_LOAD, offsetof(struct xpro_peer, load));
	assert_int_equal(XPRO_PEER_OFF_STATE, offsetof(struct xpro_peer, state));
	assert_int_equal(XPRO_OVERLOAD_LEN, sizeof(struct xpro_overload));
	assert_int_equal(XPRO_OVL_OFF_REASON, offsetof(struct xpro_overload, reason));
	assert_int_equal(XPRO_OVL_OFF_LOAD, offsetof(struct xpro_overload, load));
	assert_int_equal(XPRO_OVL_OFF_HOLD, offsetof(struct xpro_overload, hold_ms));
	assert_int_equal(XPRO_OVL_OFF_DST, offsetof(struct xpro_overload, dst));
	assert_int_equal(XPRO_OVL_PAIR_DROPPED, XPRO_OVL_PAIR_DROPPED);
	assert_int_equal(XPRO_OVL_BUSY, XPRO_OVL_BUSY);
	assert_int_equal(MFW_EIO, EIO);
	assert_int_equal(MFW_EAGAIN, EAGAIN);
	assert_int_equal(MFW_EINVAL, EINVAL);
	assert_int_equal(MFW_ENOSPC, ENOSPC);
	assert_int_equal(MFW_EOVERFLOW, EOVERFLOW);
	assert_int_equal(MFW_EMSGSIZE, EMSGSIZE);
	assert_int_equal(MFW_ENETUNREACH, ENETUNREACH);
	assert_int_equal(XPRO_AEAD_TAG_LEN, crypto_aead_chacha20poly1305_ietf_ABYTES);
	assert_int_equal(XPRO_AEAD_NONCE_LEN, crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
	assert_int_equal(XPRO_EK_LEN, crypto_aead_chacha20poly1305_ietf_KEYBYTES);
}

/* Both SipHashes over random keys, lengths 0..300 and every alignment. */
static void test_siphash_matches_proxy(void **state)
{
	uint8_t key[16], buf[300 + 8];
	struct xpro_sipkey k;

	(void)state;
	srandom(5);
	for (unsigned round = 0; round < 40; round++) {
		for (unsigned i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)random();
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)random();
		xpro_sipkey_load(&k, key);
		for (size_t n = 0; n <= 300; n++) {
			unsigned off = (unsigned)(n + round) & 7;

			if (mfw_siphash(&k, buf + off, n) != xpro_siphash_b(key, buf + off, n))
				fail_msg("round %u len %zu differs", round, n);
		}
	}
}

static void test_kdf_vectors(void **state)
{
	uint8_t out[32], ik[16];

	(void)state;
	mfw_kdf(secret0f, XPRO_LABEL_IK, 1, out, 2);
	assert_memory_equal(out, vec_ik_1, 16);
	xpro_derive_ik(secret0f, 1, ik);
	assert_memory_equal(ik, vec_ik_1, 16);
	mfw_kdf(secret0f, XPRO_LABEL_IK, 0x01020304, out, 2);
	assert_memory_equal(out, vec_ik_1020304, 16);
	xpro_derive_ik(secret0f, 0x01020304, ik);
	assert_memory_equal(ik, vec_ik_1020304, 16);
	mfw_kdf(secret0f, XPRO_LABEL_PK, 1, out, 2);
	assert_memory_equal(out, vec_pk_1, 16);
	proxy_kdf("xpro-pk", 1, out, 2);
	assert_memory_equal(out, vec_pk_1, 16);
	xpro_derive_pk(secret0f, 0x01020304, out);
	assert_memory_equal(out, vec_pk_1020304, 16);
	xpro_derive_ek(secret0f, 0x01020304, out);
	assert_memory_equal(out, vec_ek_1020304, 32);
	mfw_kdf(secret0f, XPRO_LABEL_PK, 0x01020304, out, 2);
	assert_memory_equal(out, vec_pk_1020304, 16);
	mfw_kdf(secret0f, XPRO_LABEL_EK, 1, out, 4);
	assert_memory_equal(out, vec_ek_1, 32);
	proxy_kdf("xpro-ek", 1, out, 4);
	assert_memory_equal(out, vec_ek_1, 32);
	mfw_kdf(secret0f, XPRO_LABEL_EK, 0x01020304, out, 4);
	assert_memory_equal(out, vec_ek_1020304, 32);
	/* The two directions never share a key. */
	assert_memory_not_equal(vec_ik_1, vec_pk_1, 16);
}

/* mfw_seal and tun_seal write the same DATA message; the proxy accepts it. */
static void test_data_vector_both_sides(void **state)
{
	struct tun_devtab *t = proxy_tab();
	uint8_t msg[64], ik[16];
	struct xpro_sipkey k;
	struct tun_pkt p;

	(void)state;
	mfw_kdf(secret0f, XPRO_LABEL_IK, 1, ik, 2);
	xpro_sipkey_load(&k, ik);
	memcpy(msg + XPRO_TUN_HDR_LEN, vec_inner, sizeof(vec_inner));
	assert_int_equal(mfw_seal(msg, &k, XPRO_MSG_DATA, 0, 1, VEC_DEV, 0x0102030405060708ULL,
				  sizeof(vec_inner)),
			 sizeof(vec_data));
	assert_memory_equal(msg, vec_data, sizeof(vec_data));
	assert_int_equal(tun_seal(msg, sizeof(msg), ik, XPRO_MSG_DATA, 1, VEC_DEV,
				  0x0102030405060708ULL, vec_inner, sizeof(vec_inner)),
			 sizeof(vec_data));
	assert_memory_equal(msg, vec_data, sizeof(vec_data));
	assert_int_equal(proxy_auth(t, vec_data, sizeof(vec_data), &p), 0);
	assert_int_equal(p.inner_len, sizeof(vec_inner));
	tun_devtab_free(t);
}

/*
 * A whole conversation at epoch 7 through the library's real paths, every
 * message compared with the vectors and checked by the proxy's code:
 * DATA (seq 0-4), PROBE (seq 5) accepted by tun_auth; PROBE_REPLY and
 * OVERLOAD sealed with tun_seal under PK accepted by the device; then
 * encrypted DATA (seq 7) that libsodium opens under EK.
 */
static void test_conversation(void **state)
{
	struct tun_devtab *t = proxy_tab();
	struct fake *f = *state;
	struct mfw_config cfg;
	struct mfw_addr a0 = fake_proxy_addr(0), a1 = fake_proxy_addr(1);
	uint8_t buf[256], s1[16], pk[16], ek[32], ik[16], plain[64];
	unsigned long long plen;
	struct tun_pkt p;
	uint64_t tag;
	size_t ilen = sizeof(vec_inner);
	int n;

	for (unsigned boot = 1; boot < VEC_EPOCH; boot++) {
		assert_int_equal(fake_boot(f, NULL, 0), 0);
		assert_int_equal(f->ctx.epoch, boot);
	}
	mfw_config_default(&cfg, VEC_DEV);
	cfg.encrypt = MFW_ENC_PREFER;
	assert_int_equal(mfw_init(&f->ctx, &cfg, &f->plat, f->px, FAKE_PROXIES), 0);
	assert_int_equal(f->ctx.epoch, VEC_EPOCH);
	assert_int_equal(mfw_proxy_add(&f->ctx, &a0, secret0f), 0);
	fake_proxy_secret(1, s1);
	assert_int_equal(mfw_proxy_add(&f->ctx, &a1, s1), 1);

	for (uint64_t seq = 0; seq < VEC_PROBE_SEQ; seq++) {
		memcpy(buf + XPRO_TUN_HDR_LEN, vec_inner, ilen);
		n = mfw_send(&f->ctx, buf, sizeof(buf), ilen);
		assert_int_equal(n, XPRO_TUN_OVERHEAD + ilen);
		assert_memory_equal(&fake_sent(f, 0)->to, &a0, sizeof(a0.ip));
		assert_int_equal(proxy_auth(t, fake_sent(f, 0)->buf, (size_t)n, &p), 0);
		assert_int_equal(p.epoch, VEC_EPOCH);
		assert_int_equal(p.seq, seq);
		assert_memory_equal(p.inner, vec_inner, ilen);
	}
	/* First poll: probes to both proxies, the current one first. */
	mfw_poll(&f->ctx);
	assert_int_equal(fake_sent(f, 1)->len, sizeof(vec_probe));
	assert_memory_equal(fake_sent(f, 1)->buf, vec_probe, sizeof(vec_probe));
	assert_int_equal(proxy_auth(t, vec_probe, sizeof(vec_probe), &p), 0);
	assert_int_equal(p.type, XPRO_MSG_PROBE);
	assert_int_equal(p.seq, VEC_PROBE_SEQ);

	/* The proxy's reply, sealed by the proxy's sealer under PK. */
	proxy_kdf("xpro-pk", VEC_EPOCH, pk, 2);
	n = tun_seal(buf, sizeof(buf), pk, XPRO_MSG_PROBE_REPLY, VEC_EPOCH, VEC_DEV, VEC_REPLY_SEQ,
		     vec_reply + XPRO_TUN_HDR_LEN, sizeof(vec_reply) - XPRO_TUN_OVERHEAD);
	assert_int_equal(n, sizeof(vec_reply));
	assert_memory_equal(buf, vec_reply, sizeof(vec_reply));
	assert_int_equal(mfw_input(&f->ctx, &a0, vec_reply, sizeof(vec_reply)), 0);
	assert_int_equal(f->px[0].load, 250);
	assert_true(f->px[0].flags & MFW_PF_ENC_OK);
	assert_int_equal(f->px[0].state, MFW_P_UP);
	assert_int_equal(f->px[1].load, 400); /* from the peer entry */

	/* Now encrypted (ENC_OK and MFW_ENC_PREFER): seq 7, after the second probe. */
	memcpy(buf + XPRO_TUN_HDR_LEN, vec_inner, ilen);
	n = mfw_send(&f->ctx, buf, sizeof(buf), ilen);
	assert_int_equal(n, sizeof(vec_data_enc));
	assert_memory_equal(buf, vec_data_enc, sizeof(vec_data_enc));
	/* The proxy's tag check passes; its ENCRYPTED support is not written yet. */
	xpro_derive_ik(secret0f, VEC_EPOCH, ik);
	tag = htole64(xpro_siphash_b(ik, buf, (size_t)n - 8));
	assert_memory_equal(&tag, buf + n - 8, 8);
	assert_int_equal(proxy_auth(t, buf, (size_t)n, &p), -TUN_REJ_FLAGS);
	proxy_kdf("xpro-ek", VEC_EPOCH, ek, 4);
	assert_int_equal(crypto_aead_chacha20poly1305_ietf_decrypt(
				 plain, &plen, NULL, buf + XPRO_TUN_HDR_LEN,
				 (size_t)n - XPRO_TUN_OVERHEAD, buf, XPRO_TUN_HDR_LEN,
				 (uint8_t[12]){ [11] = VEC_ENC_SEQ }, ek),
			 0);
	assert_int_equal(plen, ilen);
	assert_memory_equal(plain, vec_inner, ilen);

	/* OVERLOAD PAIR_DROPPED from the current proxy: accepted and counted; the
	 * device stays (one pair over its limit does not move the device). */
	n = tun_seal(buf, sizeof(buf), pk, XPRO_MSG_OVERLOAD, VEC_EPOCH, VEC_DEV, VEC_OVERLOAD_SEQ,
		     vec_overload + XPRO_TUN_HDR_LEN, sizeof(vec_overload) - XPRO_TUN_OVERHEAD);
	assert_memory_equal(buf, vec_overload, sizeof(vec_overload));
	assert_int_equal(vec_overload[XPRO_TUN_HDR_LEN + XPRO_OVL_OFF_REASON],
			 XPRO_OVL_PAIR_DROPPED);
	assert_int_equal(mfw_input(&f->ctx, &a0, vec_overload, sizeof(vec_overload)), 0);
	assert_int_equal(f->ctx.st.overloads, 1);
	assert_int_equal(mfw_current(&f->ctx), 0);
	assert_int_equal(f->px[0].hold_until_ms, 0);
	tun_devtab_free(t);
}

/* Messages of one direction never authenticate in the other. */
static void test_directions_separated(void **state)
{
	struct tun_devtab *t = proxy_tab();
	struct fake *f = *state;
	struct mfw_addr a0 = fake_proxy_addr(0);
	struct tun_dev_view before, after;
	uint8_t buf[256];
	struct tun_pkt p;

	/* A proxy message reflected to the proxy: refused by type, before any key. */
	rcu_read_lock();
	assert_int_equal(tun_devtab_view(t, VEC_DEV, &before), 0);
	rcu_read_unlock();
	assert_int_equal(proxy_auth(t, vec_reply, sizeof(vec_reply), &p), -TUN_REJ_TYPE);
	assert_int_equal(proxy_auth(t, vec_overload, sizeof(vec_overload), &p), -TUN_REJ_TYPE);
	rcu_read_lock();
	assert_int_equal(tun_devtab_view(t, VEC_DEV, &after), 0);
	rcu_read_unlock();
	assert_memory_equal(&before, &after, sizeof(before));

	/* A device message reflected to the device: refused before the tag. */
	for (unsigned boot = 1; boot <= VEC_EPOCH; boot++)
		assert_int_equal(fake_boot(f, NULL, 0), 0);
	assert_int_equal(mfw_proxy_add(&f->ctx, &a0, secret0f), 0);
	assert_int_equal(mfw_input(&f->ctx, &a0, vec_probe, sizeof(vec_probe)), -MFW_REJ_DIRECTION);
	assert_int_equal(mfw_input(&f->ctx, &a0, vec_data_enc, sizeof(vec_data_enc)),
			 -MFW_REJ_DIRECTION);
	/* The reply's bytes retyped as a device message would need IK: tag fails. */
	memcpy(buf, vec_reply, sizeof(vec_reply));
	buf[0] = (uint8_t)(XPRO_TUN_VERSION << 4 | XPRO_MSG_PROBE);
	assert_int_equal(proxy_auth(t, buf, sizeof(vec_reply), &p), -TUN_REJ_MAC);
	tun_devtab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants_agree),
		cmocka_unit_test(test_siphash_matches_proxy),
		cmocka_unit_test(test_kdf_vectors),
		cmocka_unit_test(test_data_vector_both_sides),
		cmocka_unit_test_setup_teardown(test_conversation, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_directions_separated, fake_setup,
						fake_teardown),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
