/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the device table: reloads that keep or reset replay state,
 * refused replacements that leave the table untouched, two workers
 * committing one device's packets at once, and a large table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu.h>
#include <urcu/arch.h>

#include "tun_fixture.h"

static int auth_seq(struct tun_devtab *t, uint32_t dev, uint32_t epoch, uint64_t seq)
{
	uint8_t msg[TF_BUF];
	struct tun_pkt p;
	size_t len = tf_seal_data(msg, dev, epoch, seq);

	return tf_auth(t, msg, len, &p);
}

/* Same secrets, other prefixes and flags: every device keeps its windows. */
static void test_reload_keeps_state(void **state)
{
	struct tun_devtab *t = *state;
	struct tun_dev_conf conf[TF_NDEVS];
	struct tun_dev_view v;

	assert_int_equal(auth_seq(t, TF_DEV4, 3, 10), 0);
	assert_int_equal(auth_seq(t, TF_DEV4, 4, 5), 0);
	assert_int_equal(auth_seq(t, TF_DEV6, 1, 7), 0);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[1].plen = 48;
	conf[2].active = true;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), 0);

	v = tf_view(t, TF_DEV4);
	assert_int_equal(v.cur_epoch, 4);
	assert_int_equal(v.cur_top, 5);
	assert_int_equal(v.prev_epoch, 3);
	assert_int_equal(auth_seq(t, TF_DEV4, 4, 5), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, TF_DEV4, 3, 10), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, TF_DEV4, 2, 99), -TUN_REJ_EPOCH);
	assert_int_equal(auth_seq(t, TF_DEV4, 4, 6), 0);
	assert_int_equal(auth_seq(t, TF_DEV6, 1, 7), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, TF_DEV_OFF, 1, 1), 0);
	assert_int_equal(tun_devtab_count(t), TF_NDEVS);
}

/* A new secret is a new device as far as replay goes; the others keep theirs. */
static void test_reload_new_secret_resets(void **state)
{
	struct tun_devtab *t = *state;
	struct tun_dev_conf conf[TF_NDEVS];
	uint8_t msg[TF_BUF], ik[XPRO_IK_LEN], in[TF_BUF];
	struct tun_pkt p;
	size_t len;

	assert_int_equal(auth_seq(t, TF_DEV4, 8, 100), 0);
	assert_int_equal(auth_seq(t, TF_DEV6, 8, 100), 0);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[0].secret[15] ^= 0x80;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), 0);

	assert_false(tf_view(t, TF_DEV4).have_cur);
	/* The old secret no longer verifies; the new one starts from scratch. */
	assert_int_equal(auth_seq(t, TF_DEV4, 8, 101), -TUN_REJ_MAC);
	xpro_derive_ik(conf[0].secret, 2, ik);
	len = tf_ip4(in, TF_SRC4, TF_DST4, 8);
	len = (size_t)tun_seal(msg, sizeof(msg), ik, XPRO_MSG_DATA, 2, TF_DEV4, 0, in, len);
	assert_int_equal(tf_auth(t, msg, len, &p), 0);
	assert_int_equal(auth_seq(t, TF_DEV6, 8, 100), -TUN_REJ_REPLAY);
}

/* Removed, the device is unknown; re-added later, it has lost its state. */
static void test_reload_remove_and_readd(void **state)
{
	struct tun_devtab *t = *state;

	assert_int_equal(auth_seq(t, TF_DEV4, 1, 1), 0);
	assert_int_equal(tun_devtab_replace(t, tf_conf + 1, TF_NDEVS - 1), 0);
	assert_int_equal(auth_seq(t, TF_DEV4, 1, 2), -TUN_REJ_UNKNOWN_DEV);
	assert_int_equal(auth_seq(t, TF_DEV24, 1, 2), 0);
	assert_int_equal(tun_devtab_replace(t, tf_conf, TF_NDEVS), 0);
	assert_false(tf_view(t, TF_DEV4).have_cur);
	assert_int_equal(auth_seq(t, TF_DEV4, 1, 1), 0);
	assert_int_equal(auth_seq(t, TF_DEV24, 1, 2), -TUN_REJ_REPLAY);
	assert_int_equal(tun_devtab_replace(t, NULL, 0), 0);
	assert_int_equal(tun_devtab_count(t), 0);
	assert_int_equal(auth_seq(t, TF_DEV24, 1, 3), -TUN_REJ_UNKNOWN_DEV);
}

static void test_replace_refused(void **state)
{
	struct tun_devtab *t = *state;
	struct tun_dev_conf conf[TF_NDEVS];

	assert_int_equal(auth_seq(t, TF_DEV4, 1, 1), 0);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[3].dev = conf[0].dev;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EEXIST);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[3].dev = TUN_DEV_NONE;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EINVAL);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[1].plen = 129;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EINVAL);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[1].ipver = 5;
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EINVAL);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[0].plen = 95; /* IPv4 but shorter than the mapped /96 */
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EINVAL);
	memcpy(conf, tf_conf, sizeof(conf));
	conf[0].prefix[10] = 0; /* IPv4 but not ::ffff:0:0/96 */
	assert_int_equal(tun_devtab_replace(t, conf, TF_NDEVS), -EINVAL);
	/* The table is the one from before. */
	assert_int_equal(tun_devtab_count(t), TF_NDEVS);
	assert_int_equal(auth_seq(t, TF_DEV4, 1, 1), -TUN_REJ_REPLAY);
	assert_int_equal(auth_seq(t, TF_DEV4, 1, 2), 0);
}

static void test_view_unknown(void **state)
{
	struct tun_devtab *t = *state;
	struct tun_dev_view v;

	rcu_read_lock();
	assert_int_equal(tun_devtab_view(t, 99, &v), -ENOENT);
	assert_int_equal(tun_devtab_view(t, TUN_DEV_NONE, &v), -ENOENT);
	rcu_read_unlock();
}

/* --- two workers, one device ----------------------------------------------- */

#define RACE_MSGS 4000
#define RACE_THREADS 4

struct race {
	struct tun_devtab *t;
	uint8_t (*msgs)[64];
	size_t len;
	uint32_t *hits; /* per message: how many threads had it accepted */
	unsigned other; /* results other than 0 and -TUN_REJ_REPLAY */
	unsigned nthreads;
	unsigned arrived; /* spin barrier: threads that reached their round */
};

static void *race_worker(void *arg)
{
	struct race *r = arg;
	struct tun_pkt p;

	rcu_register_thread();
	for (unsigned k = 0; k < RACE_MSGS; k++) {
		int rc;

		/*
		 * All threads offer message k at the same moment.  A spinning
		 * barrier: a sleeping one wakes its threads microseconds apart,
		 * longer than an authentication takes.
		 */
		__atomic_fetch_add(&r->arrived, 1, __ATOMIC_ACQ_REL);
		while (__atomic_load_n(&r->arrived, __ATOMIC_ACQUIRE) < (k + 1) * r->nthreads)
			caa_cpu_relax();
		rc = tf_auth(r->t, r->msgs[k], r->len, &p);
		if (!rc)
			__atomic_fetch_add(&r->hits[k], 1, __ATOMIC_RELAXED);
		else if (rc != -TUN_REJ_REPLAY)
			__atomic_fetch_add(&r->other, 1, __ATOMIC_RELAXED);
	}
	rcu_unregister_thread();
	return NULL;
}

/*
 * Every thread offers each message of one device at once, so that several
 * pass the lock-free checks and the tag together; a reboot (epoch 1 to 2)
 * is raced halfway.  The per-device lock must let exactly one through.
 */
static void test_concurrent_commit(void **state)
{
	struct race r = { .t = *state };
	pthread_t th[RACE_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct tun_pkt p;

	/* Spinning threads beyond the CPU count would only wait for each other. */
	r.nthreads = ncpu < 2 ? 2 : ncpu > RACE_THREADS ? RACE_THREADS : (unsigned)ncpu;

	r.msgs = calloc(RACE_MSGS, sizeof(*r.msgs));
	r.hits = calloc(RACE_MSGS, sizeof(*r.hits));
	assert_non_null(r.msgs);
	assert_non_null(r.hits);
	for (unsigned i = 0; i < RACE_MSGS; i++) {
		r.len = tf_seal_data(r.msgs[i], TF_DEV4, i < RACE_MSGS / 2 ? 1 : 2, i);
		assert_true(r.len <= sizeof(r.msgs[i]));
	}
	for (unsigned i = 0; i < r.nthreads; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_worker, &r), 0);
	for (unsigned i = 0; i < r.nthreads; i++)
		pthread_join(th[i], NULL);

	assert_int_equal(r.other, 0);
	for (unsigned i = 0; i < RACE_MSGS; i++) {
		if (r.hits[i] != 1)
			fail_msg("message %u accepted %u times", i, r.hits[i]);
		assert_int_equal(tf_auth(r.t, r.msgs[i], r.len, &p), -TUN_REJ_REPLAY);
	}
	free(r.hits);
	free(r.msgs);
}

/* --- size -------------------------------------------------------------------- */

#define MANY 200000

static void test_many_devices(void **state)
{
	struct tun_devtab *t = tun_devtab_new();
	struct tun_dev_conf *conf = calloc(MANY, sizeof(*conf));
	struct tun_dev_view v;

	(void)state;
	assert_non_null(t);
	assert_non_null(conf);
	for (uint32_t i = 0; i < MANY; i++) {
		/* Sparse, clustered indexes: the hash must spread them anyway. */
		conf[i] = tf_conf_v4(i < MANY / 2 ? i : i * 4096, "10.0.0.0", 8, (uint8_t)i);
	}
	assert_int_equal(tun_devtab_replace(t, conf, MANY), 0);
	assert_int_equal(tun_devtab_count(t), MANY);
	rcu_read_lock();
	for (uint32_t i = 0; i < MANY; i++) {
		assert_int_equal(tun_devtab_view(t, conf[i].dev, &v), 0);
		assert_int_equal(v.dev, conf[i].dev);
	}
	assert_int_equal(tun_devtab_view(t, MANY, &v), -ENOENT);
	rcu_read_unlock();
	/* Reload the same: every state carried, none leaked (ASan checks). */
	assert_int_equal(tun_devtab_replace(t, conf, MANY), 0);
	tun_devtab_free(t);
	free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_keeps_state, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_reload_new_secret_resets, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(test_reload_remove_and_readd, tf_setup,
						tf_teardown),
		cmocka_unit_test_setup_teardown(test_replace_refused, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_view_unknown, tf_setup, tf_teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_commit, tf_setup, tf_teardown),
		cmocka_unit_test(test_many_devices),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
