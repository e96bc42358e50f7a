/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Proxy selection on a simulated clock: the device stays under T_W, leaves
 * above it only for a proxy under T_W - hyst and not sooner than dwell_ms,
 * fails over when probes go unanswered, when a proxy says it is unavailable
 * (itself or through a peer) and when it sends OVERLOAD; it never flaps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mfw_fake.h"

/* The proxies as the test plays them. */
struct world {
	uint16_t load[FAKE_PROXIES];
	uint8_t flags[FAKE_PROXIES];
	int dead[FAKE_PROXIES];
};

/* Advance ms in 10 ms steps; live proxies answer each probe at once. */
static void run(struct fake *f, const struct world *w, uint64_t ms)
{
	uint64_t end = f->now + ms;

	while (f->now < end) {
		f->now += 10;
		mfw_poll(&f->ctx);
		for (unsigned i = 0; i < f->ctx.npx; i++)
			if (!w->dead[i] && (f->px[i].flags & MFW_PF_PROBE_OUT))
				assert_int_equal(fake_answer(f, i, w->flags[i], w->load[i]), 0);
	}
}

static struct fake *booted(void **state, unsigned n)
{
	struct fake *f = *state;

	assert_int_equal(fake_boot(f, NULL, n), 0);
	return f;
}

static void test_stays_under_tw(void **state)
{
	struct fake *f = booted(state, 3);
	struct world w = { .load = { 790, 10, 10 } };

	run(f, &w, 60000);
	assert_int_equal(mfw_current(&f->ctx), 0);
	assert_int_equal(f->ctx.st.switches, 0);
	assert_int_equal(f->px[1].load, 10);
	assert_int_equal(f->px[0].state, MFW_P_UP);
}

/* Above T_W: to the least-loaded proxy under T_W - hyst (650), after the dwell. */
static void test_leaves_above_tw(void **state)
{
	struct fake *f = booted(state, 3);
	struct world w = { .load = { 900, 640, 300 } };

	run(f, &w, 5000);
	assert_int_equal(mfw_current(&f->ctx), 0); /* dwell_ms since boot not over */
	run(f, &w, 6000);
	assert_int_equal(mfw_current(&f->ctx), 2);
	assert_int_equal(f->ctx.st.switches, 1);
	assert_int_equal(fake_events(f, MFW_EV_SWITCH), 1);
}

static void test_no_candidate_under_low_watermark(void **state)
{
	struct fake *f = booted(state, 3);
	struct world w = { .load = { 950, 700, 651 } };

	run(f, &w, 120000);
	assert_int_equal(mfw_current(&f->ctx), 0);
	assert_int_equal(f->ctx.st.switches, 0);
}

/* Lighter elsewhere is no reason to move: no herd back to a proxy that recovered. */
static void test_no_rebalance_back(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .load = { 900, 300 } };

	run(f, &w, 12000);
	assert_int_equal(mfw_current(&f->ctx), 1);
	w.load[0] = 50;
	run(f, &w, 120000);
	assert_int_equal(mfw_current(&f->ctx), 1);
	assert_int_equal(f->ctx.st.switches, 1);
}

/*
 * Loads swing around T_W every 2 s.  Inside the hysteresis band nothing
 * moves; across it, switches are paced by dwell_ms.
 */
static void test_no_flapping(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { 0 };

	for (unsigned k = 0; k < 60; k++) {
		w.load[0] = k & 1 ? 790 : 810;
		w.load[1] = k & 1 ? 810 : 700;
		run(f, &w, 2000);
	}
	assert_int_equal(f->ctx.st.switches, 0);
	for (unsigned k = 0; k < 60; k++) {
		w.load[0] = k & 1 ? 500 : 900;
		w.load[1] = k & 1 ? 900 : 500;
		run(f, &w, 2000);
	}
	assert_true(f->ctx.st.switches >= 2);
	assert_true(f->ctx.st.switches <= 120000 / f->ctx.cfg.dwell_ms + 1);
}

/* The current proxy dies: down after miss_max timeouts, then the next one. */
static void test_failover_unanswered(void **state)
{
	struct fake *f = booted(state, 3);
	struct world w = { .load = { 100, 400, 200 } };
	uint64_t t0, bound;

	run(f, &w, 3000);
	w.dead[0] = 1;
	t0 = f->now;
	while (mfw_current(&f->ctx) == 0 && f->now - t0 < 60000)
		run(f, &w, 10);
	/* Next probe at most probe_ms away, then miss_max timeouts back to back. */
	bound = f->ctx.cfg.probe_ms + (uint64_t)f->ctx.cfg.miss_max * f->ctx.cfg.probe_timeout_ms;
	assert_true(f->now - t0 <= bound + 10);
	assert_int_equal(mfw_current(&f->ctx), 2); /* least loaded of the rest */
	assert_int_equal(f->px[0].state, MFW_P_DOWN);
	assert_int_equal(fake_events(f, MFW_EV_PROXY_DOWN), 1);
	/* It comes back: up again, but the device stays where it is. */
	w.dead[0] = 0;
	run(f, &w, 30000);
	assert_int_equal(f->px[0].state, MFW_P_UP);
	assert_int_equal(fake_events(f, MFW_EV_PROXY_UP), 1);
	assert_int_equal(mfw_current(&f->ctx), 2);
}

/* A proxy that says UNAVAIL is left at once, dwell or not. */
static void test_unavailable_switches_now(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .load = { 100, 200 } };

	run(f, &w, 1000);
	w.flags[0] = XPRO_REPLY_F_UNAVAIL;
	run(f, &w, 1000);
	assert_int_equal(mfw_current(&f->ctx), 1);
	assert_true(f->now - f->ctx.switched_ms < 1000);
}

/* Peers' reports steer the choice: an unavailable peer is skipped. */
static void test_peer_reports(void **state)
{
	struct fake *f = booted(state, 3);
	struct fake_peer peers[2] = {
		{ fake_proxy_addr(1), 10, XPRO_PEER_UNAVAILABLE },
		{ fake_proxy_addr(2), 600, XPRO_PEER_AVAILABLE },
	};
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[512];
	size_t len;

	mfw_poll(&f->ctx); /* probes out, answered only by this reply */
	len = fake_reply(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), f->px[0].probe_seq, 0, 100,
			 peers, 2);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_true(f->px[1].flags & MFW_PF_PEER_UNAVAIL);
	assert_int_equal(f->px[2].load, 600);
	/* Proxy 0 goes unavailable itself: 2 is the only choice, though 1 reported less. */
	f->now += 1000;
	mfw_poll(&f->ctx);
	len = fake_reply(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), f->px[0].probe_seq,
			 XPRO_REPLY_F_UNAVAIL, 100, peers, 2);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_int_equal(mfw_current(&f->ctx), 2);
}

/*
 * OVERLOAD PAIR_DROPPED: one of the device's pairs is over its limit.  The
 * device stays where it is (the limit would follow it to any proxy); it
 * counts the warning and learns the load.
 */
static void test_pair_dropped_stays(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .load = { 100, 200 } };
	struct mfw_addr a0 = fake_proxy_addr(0);
	uint8_t msg[128];
	size_t len;

	run(f, &w, 2000);
	assert_int_equal(mfw_current(&f->ctx), 0);
	len = fake_overload(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), XPRO_OVL_PAIR_DROPPED, 150,
			    3000);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_int_equal(f->ctx.st.overloads, 1);
	assert_int_equal(fake_events(f, MFW_EV_OVERLOAD), 1);
	assert_int_equal(f->px[0].hold_until_ms, 0);
	run(f, &w, 5000);
	assert_int_equal(mfw_current(&f->ctx), 0);
	assert_int_equal(fake_events(f, MFW_EV_SWITCH), 0);
}

/* OVERLOAD BUSY: leave at once; the proxy is held off for the time asked, clamped. */
static void test_overload_hold(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .load = { 100, 200 } };
	struct mfw_addr a0 = fake_proxy_addr(0), a1 = fake_proxy_addr(1);
	uint8_t msg[128];
	size_t len;

	run(f, &w, 2000);
	len = fake_overload(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), XPRO_OVL_BUSY, 850, 3000);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_int_equal(mfw_current(&f->ctx), 1);
	assert_int_equal(f->px[0].hold_until_ms, f->now + 3000);
	assert_int_equal(f->ctx.st.overloads, 1);
	/* Now 1 overloads with hold 0 (default) while 0 is still held: nowhere to go. */
	len = fake_overload(msg, 1, f->ctx.epoch, 1, fake_proxy_seq(1), XPRO_OVL_BUSY, 900, 0);
	assert_int_equal(mfw_input(&f->ctx, &a1, msg, len), 0);
	assert_int_equal(f->px[1].hold_until_ms, f->now + f->ctx.cfg.hold_default_ms);
	assert_int_equal(mfw_current(&f->ctx), 1);
	assert_int_equal(fake_events(f, MFW_EV_NO_PROXY), 1);
	/* 0's hold ends first: the device goes back to it. */
	w.load[0] = 100;
	run(f, &w, 3100);
	assert_int_equal(mfw_current(&f->ctx), 0);
	/* A hold longer than hold_max_ms is clamped. */
	len = fake_overload(msg, 0, f->ctx.epoch, 1, fake_proxy_seq(0), XPRO_OVL_BUSY, 900,
			    0xffffffffu);
	assert_int_equal(mfw_input(&f->ctx, &a0, msg, len), 0);
	assert_int_equal(f->px[0].hold_until_ms, f->now + f->ctx.cfg.hold_max_ms);
}

/* Nothing answers: one NO_PROXY event, and data still goes to the last choice. */
static void test_all_down(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .dead = { 1, 1 } };
	uint8_t buf[MFW_SEND_BUFLEN(20)] = { 0 };

	run(f, &w, 30000);
	assert_int_equal(f->px[0].state, MFW_P_DOWN);
	assert_int_equal(f->px[1].state, MFW_P_DOWN);
	assert_int_equal(fake_events(f, MFW_EV_NO_PROXY), 1);
	assert_true(mfw_send(&f->ctx, buf, sizeof(buf), 20) > 0);
}

/* The current proxy is probed every probe_ms (less up to 1/8 jitter), others less often. */
static void test_probe_schedule(void **state)
{
	struct fake *f = booted(state, 2);
	struct world w = { .load = { 100, 100 } };
	unsigned n[2] = { 0, 0 }, start = f->nsent;

	run(f, &w, 60000);
	for (unsigned k = 0; k < f->nsent - start; k++)
		n[fake_sent(f, k)->to.ip[15] - 1]++;
	assert_in_range(n[0], 60, 60 * 8 / 7 + 1);
	assert_in_range(n[1], 12, 12 * 8 / 7 + 1);
	assert_int_equal(f->ctx.st.probes, n[0] + n[1]);
}

/* MFW_ENC_REQUIRE sends nothing in clear; encrypts once the proxy said ENC_OK. */
static void test_encrypt_require(void **state)
{
	struct fake *f = *state;
	struct world w = { .load = { 100 }, .flags = { XPRO_REPLY_F_ENC_OK } };
	struct mfw_config cfg;
	uint8_t buf[MFW_SEND_BUFLEN(20)] = { 0 };

	mfw_config_default(&cfg, 1);
	cfg.encrypt = MFW_ENC_REQUIRE;
	assert_int_equal(fake_boot(f, &cfg, 1), 0);
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), -MFW_EAGAIN);
	run(f, &w, 100);
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), XPRO_TUN_OVERHEAD + 20 + 16);
	assert_int_equal(fake_sent(f, 0)->buf[XPRO_TUN_OFF_FLAGS], XPRO_TUN_F_ENCRYPTED);
	/* The probe said the device can encrypt. */
	assert_int_equal(fake_sent(f, 1)->buf[XPRO_TUN_HDR_LEN + XPRO_PROBE_OFF_CAPS],
			 XPRO_CAP_ENC);
	/* Without an AEAD, REQUIRE is a configuration error. */
	f->plat.aead_seal = NULL;
	assert_int_equal(mfw_init(&f->ctx, &cfg, &f->plat, f->px, FAKE_PROXIES), -MFW_EINVAL);
}

static void test_bad_config_and_buffers(void **state)
{
	struct fake *f = *state;
	struct mfw_config cfg;
	uint8_t buf[MFW_SEND_BUFLEN(20)] = { 0 }, secret[16] = { 0 };
	struct mfw_addr a = fake_proxy_addr(0);

	mfw_config_default(&cfg, 1);
	cfg.hyst = cfg.t_w + 1;
	assert_int_equal(mfw_init(&f->ctx, &cfg, &f->plat, f->px, FAKE_PROXIES), -MFW_EINVAL);
	mfw_config_default(&cfg, 1);
	assert_int_equal(mfw_init(&f->ctx, &cfg, &f->plat, f->px, 0), -MFW_EINVAL);
	assert_int_equal(mfw_init(&f->ctx, &cfg, &f->plat, f->px, 1), 0);
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), -MFW_ENETUNREACH);
	assert_int_equal(mfw_proxy_add(&f->ctx, &a, secret), 0);
	assert_int_equal(mfw_proxy_add(&f->ctx, &a, secret), -MFW_ENOSPC);
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf) - 1, 20), -MFW_ENOSPC);
	assert_int_equal(mfw_send(&f->ctx, buf, SIZE_MAX, 65535), -MFW_EMSGSIZE);
	f->send_err = -MFW_EAGAIN;
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), -MFW_EAGAIN);
	assert_int_equal(f->ctx.st.send_errors, 1);
	/* The failed send spent its sequence number all the same. */
	f->send_err = 0;
	assert_int_equal(mfw_send(&f->ctx, buf, sizeof(buf), 20), XPRO_TUN_OVERHEAD + 20);
	assert_int_equal(fake_sent(f, 0)->buf[XPRO_TUN_OFF_SEQ + 7], 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fake_setup, fake_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_stays_under_tw),
		T(test_leaves_above_tw),
		T(test_no_candidate_under_low_watermark),
		T(test_no_rebalance_back),
		T(test_no_flapping),
		T(test_failover_unanswered),
		T(test_unavailable_switches_now),
		T(test_peer_reports),
		T(test_overload_hold),
		T(test_pair_dropped_stays),
		T(test_all_down),
		T(test_probe_schedule),
		T(test_encrypt_require),
		T(test_bad_config_and_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
