/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Epochs and sequence numbers across reboots, with the power cut at every
 * step of the epoch write (and again during the next boot): no (epoch,
 * sequence) pair is ever sent twice, a device that could not store its
 * epoch sends nothing, and the proxy accepts each new boot.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "dataplane/devtab.h"
#include "dataplane/tunnel.h"
#include "mfw_fake.h"

/* Steps of one epoch write: the erase, then each byte. */
#define WRITE_STEPS (1 + MFW_EPOCH_REC_LEN)

/* Epochs the device has used (sent under), to check none comes back. */
struct used {
	uint32_t max;
	unsigned boots;
};

/* Boot; if that worked, send one packet and check its epoch is new. */
static int boot_and_send(struct fake *f, struct used *u)
{
	uint8_t buf[MFW_SEND_BUFLEN(20)] = { 0 };
	unsigned sent = f->nsent;
	int r = fake_boot(f, NULL, 1);

	if (r) {
		assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), -MFW_ENETUNREACH);
		assert_int_equal(f->nsent, sent);
		return r;
	}
	assert_true(f->ctx.epoch > u->max);
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), XPRO_TUN_OVERHEAD + 20);
	assert_int_equal(f->ctx.seq, 1); /* seq 0 was the first under this key */
	u->max = f->ctx.epoch;
	u->boots++;
	return 0;
}

static void test_epoch_advances_each_boot(void **state)
{
	struct fake *f = *state;
	struct used u = { 0 };

	for (uint32_t boot = 1; boot <= 20; boot++) {
		assert_int_equal(boot_and_send(f, &u), 0);
		assert_int_equal(f->ctx.epoch, boot);
	}
	/* Both slots are in use, alternately. */
	assert_memory_not_equal(f->flash[0], f->flash[1], MFW_EPOCH_REC_LEN);
}

/*
 * One cut at each step of the write, after boots that filled zero, one or
 * both slots: the failed boot sends nothing, the next one a new epoch.
 */
static void test_power_cut_every_step(void **state)
{
	struct fake *f = *state;

	for (unsigned history = 0; history < 3; history++) {
		for (long cut = 0; cut <= WRITE_STEPS; cut++) {
			for (unsigned torn = 0; torn < 3; torn++) {
				struct used u = { 0 };
				int r;

				fake_init(f);
				for (unsigned b = 0; b < history; b++)
					assert_int_equal(boot_and_send(f, &u), 0);
				f->steps_left = cut;
				f->torn = (uint8_t[]){ 0x00, 0xff, 0x5a }[torn];
				r = boot_and_send(f, &u);
				assert_int_equal(r, cut < WRITE_STEPS ? -MFW_EIO : 0);
				fake_power_on(f);
				assert_int_equal(boot_and_send(f, &u), 0);
				assert_int_equal(boot_and_send(f, &u), 0);
			}
		}
	}
}

/* A cut at step i of one boot and at step j of the next, for every i, j. */
static void test_power_cut_twice(void **state)
{
	struct fake *f = *state;

	for (long i = 0; i < WRITE_STEPS; i++) {
		for (long j = 0; j <= WRITE_STEPS; j++) {
			struct used u = { 0 };

			fake_init(f);
			assert_int_equal(boot_and_send(f, &u), 0);
			assert_int_equal(boot_and_send(f, &u), 0);
			f->steps_left = i;
			assert_int_equal(boot_and_send(f, &u), -MFW_EIO);
			fake_power_on(f);
			f->steps_left = j;
			boot_and_send(f, &u);
			fake_power_on(f);
			assert_int_equal(boot_and_send(f, &u), 0);
		}
	}
}

/* A write that reports success but did not stick is caught by the read-back. */
static void test_write_not_read_back(void **state)
{
	struct fake *f = *state;
	struct used u = { 0 };

	assert_int_equal(boot_and_send(f, &u), 0);
	f->stuck = 1;
	assert_int_equal(boot_and_send(f, &u), -MFW_EIO);
	f->stuck = 0;
	assert_int_equal(boot_and_send(f, &u), 0);
	assert_int_equal(f->ctx.epoch, 2);
}

/* CRC-32 (IEEE), written apart from the library's, to build records by hand. */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

/* The record of docs/protocol.md: "XPE1", be32 epoch, be32 CRC-32 of those 8 bytes. */
static void put_rec(uint8_t *rec, uint32_t epoch)
{
	uint32_t crc;

	memcpy(rec, "XPE1", 4);
	for (int i = 0; i < 4; i++)
		rec[4 + i] = (uint8_t)(epoch >> (24 - 8 * i));
	crc = crc32_ref(rec, 8);
	for (int i = 0; i < 4; i++)
		rec[8 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* The documented record is what the library reads; the last epoch is refused, not wrapped. */
static void test_record_format_and_exhaustion(void **state)
{
	struct fake *f = *state;
	struct used u = { 0 };

	assert_int_equal(crc32_ref((const uint8_t *)"123456789", 9), 0xcbf43926u);
	put_rec(f->flash[0], 41);
	assert_int_equal(boot_and_send(f, &u), 0);
	assert_int_equal(f->ctx.epoch, 42);
	/* Written to the other slot, in the same format. */
	put_rec(f->flash[0], 42);
	assert_memory_equal(f->flash[1], f->flash[0], MFW_EPOCH_REC_LEN);
	put_rec(f->flash[1], UINT32_MAX);
	assert_int_equal(boot_and_send(f, &u), -MFW_EOVERFLOW);
}

/* Sequence numbers restart at 0 under each new epoch, and the proxy accepts them. */
static void test_proxy_follows_reboots(void **state)
{
	struct fake *f = *state;
	struct tun_dev_conf c = { .dev = 1, .plen = 96, .ipver = 4, .active = true };
	uint8_t buf[MFW_SEND_BUFLEN(28)];
	struct tun_devtab *t = tun_devtab_new();
	struct tun_pkt p;

	assert_non_null(t);
	fake_proxy_secret(0, c.secret);
	c.prefix[10] = c.prefix[11] = 0xff;
	assert_int_equal(tun_devtab_replace(t, &c, 1), 0);
	for (unsigned boot = 1; boot <= 4; boot++) {
		assert_int_equal(fake_boot(f, NULL, 1), 0);
		for (unsigned k = 0; k < 3; k++) {
			memset(buf, 0, sizeof(buf));
			buf[XPRO_TUN_HDR_LEN] = 0x45;
			buf[XPRO_TUN_HDR_LEN + 3] = 28;
			assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 28), 56);
			rcu_read_lock();
			assert_int_equal(tun_auth(t, buf, 56, &p), 0);
			rcu_read_unlock();
			assert_int_equal(p.epoch, boot);
			assert_int_equal(p.seq, k);
		}
	}
	tun_devtab_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_epoch_advances_each_boot, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_power_cut_every_step, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_power_cut_twice, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_write_not_read_back, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_record_format_and_exhaustion, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_proxy_follows_reboots, fake_setup,
						fake_teardown),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
