/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Concurrency test of the device table, run under ThreadSanitizer: workers
 * authenticate tunnel messages while the control thread reloads the table
 * without pause.  Reloads must carry every unchanged device's replay state
 * (an accepted message replayed right after is refused, whichever table the
 * replay meets), states dropped by a reload are freed only after the workers
 * are done with them, and a device two workers share never accepts a
 * sequence twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "dataplane/devtab.h"
#include "dataplane/tunnel.h"

#define NWORKERS 2
#define NOWN 16 /* devices per worker, each sending only to its own */
#define DEV_SHARED 1000 /* both workers send to it, disjoint sequences */
#define DEV_CHURN 2000 /* its secret changes with every reload */
#define NDEVS (NWORKERS * NOWN + 2)
#define ROUNDS 3000 /* messages per owned device */
#define MSG_MAX 128

struct mt {
	struct tun_dev_conf conf[NDEVS];
	struct tun_devtab *t;
	unsigned done; /* workers finished */
	unsigned bad[NWORKERS]; /* results that break a rule */
	uint8_t *shared_hits; /* per shared-device sequence: times accepted */
	unsigned reloads;
};

static void secret_of(uint32_t dev, unsigned variant, uint8_t s[16])
{
	for (unsigned i = 0; i < 16; i++)
		s[i] = (uint8_t)(dev * 31 + i + variant * 101);
}

static struct tun_dev_conf dev_conf(uint32_t dev)
{
	struct tun_dev_conf c = { .dev = dev, .plen = 96, .ipver = 4, .active = true };

	c.prefix[10] = c.prefix[11] = 0xff;
	c.prefix[12] = 10; /* 10.0.0.0/0 or /8 as reloads alternate; inner source 10.0.0.1 */
	secret_of(dev, 0, c.secret);
	return c;
}

/* A DATA message from dev under secret variant 0. */
static size_t seal(uint8_t *msg, uint32_t dev, uint64_t seq)
{
	uint8_t in[28] = { 0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 192, 0, 2, 1 };
	uint8_t secret[16], ik[XPRO_IK_LEN];
	int n;

	secret_of(dev, 0, secret);
	xpro_derive_ik(secret, 1, ik);
	n = tun_seal(msg, MSG_MAX, ik, XPRO_MSG_DATA, 1, dev, seq, in, sizeof(in));
	if (n < 0)
		abort(); /* cmocka's asserts may not fire on worker threads */
	return (size_t)n;
}

static int auth(struct tun_devtab *t, const uint8_t *msg, size_t len)
{
	struct tun_pkt p;
	int r;

	rcu_read_lock();
	r = tun_auth(t, msg, len, &p);
	rcu_read_unlock();
	return r;
}

struct warg {
	struct mt *m;
	unsigned id;
};

static void *worker(void *arg)
{
	struct warg *a = arg;
	struct mt *m = a->m;
	uint8_t msg[MSG_MAX], prev[NOWN][MSG_MAX];
	size_t len, prev_len[NOWN] = { 0 };
	int r;

	rcu_register_thread();
	for (uint64_t seq = 0; seq < ROUNDS; seq++) {
		for (unsigned i = 0; i < NOWN; i++) {
			uint32_t dev = 1 + a->id * NOWN + i;

			len = seal(msg, dev, seq);
			if (auth(m->t, msg, len))
				m->bad[a->id]++;
			/* The previous message was accepted: it must stay refused. */
			if (prev_len[i] && auth(m->t, prev[i], prev_len[i]) != -TUN_REJ_REPLAY)
				m->bad[a->id]++;
			memcpy(prev[i], msg, len);
			prev_len[i] = len;
		}
		/* Shared: sequences 2 * seq + id, so the two workers never send the same. */
		len = seal(msg, DEV_SHARED, 2 * seq + a->id);
		r = auth(m->t, msg, len);
		if (!r)
			__atomic_fetch_add(&m->shared_hits[2 * seq + a->id], 1, __ATOMIC_RELAXED);
		else if (r != -TUN_REJ_REPLAY)
			m->bad[a->id]++;
		if (auth(m->t, msg, len) != -TUN_REJ_REPLAY)
			m->bad[a->id]++;
		/* Churn: accepted, refused as a replay, or (other secret) a bad tag. */
		len = seal(msg, DEV_CHURN, seq * NWORKERS + a->id);
		r = auth(m->t, msg, len);
		if (r && r != -TUN_REJ_REPLAY && r != -TUN_REJ_MAC)
			m->bad[a->id]++;
	}
	__atomic_fetch_add(&m->done, 1, __ATOMIC_RELEASE);
	rcu_unregister_thread();
	return NULL;
}

static void test_reload_under_load(void **state)
{
	struct mt *m = calloc(1, sizeof(*m));
	struct warg args[NWORKERS];
	pthread_t th[NWORKERS];
	unsigned n = 0;

	(void)state;
	assert_non_null(m);
	m->shared_hits = calloc(2 * ROUNDS, 1);
	assert_non_null(m->shared_hits);
	for (uint32_t d = 1; d <= NWORKERS * NOWN; d++)
		m->conf[n++] = dev_conf(d);
	m->conf[n++] = dev_conf(DEV_SHARED);
	m->conf[n++] = dev_conf(DEV_CHURN);
	m->t = tun_devtab_new();
	assert_non_null(m->t);
	assert_int_equal(tun_devtab_replace(m->t, m->conf, NDEVS), 0);

	for (unsigned i = 0; i < NWORKERS; i++) {
		args[i] = (struct warg){ .m = m, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &args[i]), 0);
	}
	/* Reload until the workers finish: prefixes move, the churn secret flips. */
	while (__atomic_load_n(&m->done, __ATOMIC_ACQUIRE) < NWORKERS) {
		m->reloads++;
		for (unsigned i = 0; i < NDEVS; i++)
			m->conf[i].plen = m->reloads & 1 ? 96 : 104;
		secret_of(DEV_CHURN, m->reloads % 3 == 0 ? 0 : m->reloads,
			  m->conf[NDEVS - 1].secret);
		assert_int_equal(tun_devtab_replace(m->t, m->conf, NDEVS), 0);
	}
	for (unsigned i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);

	for (unsigned i = 0; i < NWORKERS; i++)
		assert_int_equal(m->bad[i], 0);
	for (unsigned s = 0; s < 2 * ROUNDS; s++)
		assert_true(m->shared_hits[s] <= 1);
	assert_true(m->reloads > 0);
	tun_devtab_free(m->t);
	free(m->shared_hits);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_under_load),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
