/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's control loop: a tick every tick-ms (flags, reclaim,
 * neighbours, management replies, xproctl's mailbox, SIGHUP, the status
 * file) and, with a master, Algorithm 1's round every period t, with the
 * workload W it publishes.  Signals only set flags that the loop reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/proxy/config.h"
#include "control/proxy/ctl.h"
#include "control/proxy/mgmt.h"
#include "control/proxy/proxy.h"
#include "control/proxy/run.h"
#include "control/proxy/trace.h"

static volatile sig_atomic_t got_quit, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_quit = 1;
}

void px_signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * W (docs/sync.md, "Workload W"): packets the workers received per second
 * since the last measurement, and the busiest worker's share of full bursts
 * in permille.  A worker whose bursts come back full has a backlog on its
 * queue: it is saturated, whatever its CPU time says under busy polling.
 */
static void measure_load(struct px_state *s, uint64_t now)
{
	uint64_t rx = 0, dt = now - s->load_prev.at;
	uint32_t util = 0;

	for (int i = 0; i < s->nopen; i++) {
		struct dp_worker_stats ws;
		uint64_t db, dbusy;

		dp_worker_stats(&s->workers[i], &ws);
		rx += ws.rx;
		db = ws.batches - s->load_prev.batches[i];
		dbusy = ws.busy_batches - s->load_prev.busy[i];
		if (db && dbusy * 1000 / db > util)
			util = (uint32_t)(dbusy * 1000 / db);
		s->load_prev.batches[i] = ws.batches;
		s->load_prev.busy[i] = ws.busy_batches;
	}
	if (s->load_prev.at && dt)
		s->load.pps = (rx - s->load_prev.rx) * XF_NSEC_PER_SEC / dt;
	s->load.util_permille = util > 1000 ? 1000 : util;
	s->load_prev.rx = rx;
	s->load_prev.at = now;
}

/* Algorithm 1 once; logs state changes, not every failed round. */
static void sync_once(struct px_state *s, uint64_t now)
{
	struct sync_round_stats st;

	measure_load(s, now);
	if (sync_round_run(s->sync, now, &s->load) == -EAGAIN)
		return;
	sync_round_stats(s->sync, &st);
	pr_debug_rl(now,
		    "sync round: %s, %" PRIu64 " buckets, %" PRIu64
		    " bytes, %.1f ms (collect %.1f, "
		    "store %.1f, apply %.1f); %d other proxies; %" PRIu64 " packets in our total",
		    sync_state_name(st.state), st.last_buckets, st.last_bytes,
		    (double)st.last_round_ns / 1e6, (double)st.last_collect_ns / 1e6,
		    (double)st.last_store_ns / 1e6, (double)st.last_apply_ns / 1e6, st.others,
		    st.packets_merged);
	if (st.reseeds != s->sync_reseeds)
		pr_warn("sync: the store lost entries of ours (%" PRIu64
			" buckets); publishing every "
			"live destination again",
			st.last_stale);
	s->sync_reseeds = st.reseeds;
	if (st.state == s->sync_logged)
		return;
	if (st.state == SYNC_STATE_UP)
		pr_info("sync: %s up; %" PRIu64 " packets in this proxy's total",
			s->cfg.sync.cluster[0] ? s->cfg.sync.cluster : s->cfg.sync.master,
			st.packets_merged);
	else
		pr_warn("sync: %s: %s; enforcing with local counts and the last global view, "
			"retrying with backoff",
			sync_state_name(st.state), st.error);
	s->sync_logged = st.state;
}

/*
 * SIGHUP: the configuration file again; only keys that may change at run
 * time.  0 (applied or unchanged) or -EINVAL, with the outcome in msg.
 */
static int reload_config(struct px_state *s, char *msg, size_t len)
{
	int n = px_config_hup(&s->cfg_given, &s->cfg, msg, len);

	if (n < 0) {
		pr_warn("SIGHUP: %s; keeping the running configuration", msg);
		return -EINVAL;
	}
	if (!n) {
		snprintf(msg, len, "configuration unchanged");
		return 0;
	}
	pr_info("SIGHUP: %s", msg);
	if (xf_engine_set_params(s->env.engine, &s->cfg.params)) {
		snprintf(msg, len, "thresholds refused by the engine");
		pr_warn("SIGHUP: %s", msg);
		return -EINVAL;
	}
	__atomic_store_n(&s->env.hold_ns, s->cfg.hold_ms * XF_NSEC_PER_MSEC, __ATOMIC_RELAXED);
	px_log_level = px_config_log_level(&s->cfg);
	if (s->sync)
		sync_round_retune(s->sync, s->cfg.sync.period_ms, 0);
	return 0;
}

/* SIGHUP: the provisioning file again; on any error the devices stay as they were. */
static int reload_devices(struct px_state *s, char *msg, size_t len)
{
	struct tun_dev_conf *conf = NULL;
	size_t n = 0;
	int rc = px_devices_read(s->cfg.provision, &conf, &n, msg, len);

	if (!rc)
		rc = px_devices_apply(s, conf, n, msg, len);
	free(conf);
	return rc;
}

int px_reload(struct px_state *s, char *msg, size_t len)
{
	char cfg[256], dev[320];
	int rc_cfg = reload_config(s, cfg, sizeof(cfg)), rc_dev;

	pr_info("SIGHUP: reloading %s", s->cfg.provision);
	rc_dev = reload_devices(s, dev, sizeof(dev));
	if (rc_dev)
		pr_warn("reload failed; keeping the previous devices");
	snprintf(msg, len, "%s%s; %s%s", cfg, rc_cfg ? " (refused)" : "", dev,
		 rc_dev ? " (refused: the previous devices stay)" : "");
	return rc_cfg ? rc_cfg : rc_dev;
}

/* The status file, every tick and once at exit: the one place that writes it. */
static void write_status(struct px_state *s)
{
	if (s->cfg.stats_file[0] && px_stats_write(s))
		pr_debug("writing %s failed", s->cfg.stats_file);
}

/* One control period: all the work that is not per packet. */
static void tick(struct px_state *s)
{
	uint64_t now = xf_now_ns();
	uint64_t expired = s->flags_expired, reclaimed = s->reclaimed;
	size_t congested;
	int err;

	/* Flagged pairs first: a flood dropped in XDP must not look idle to reclaim. */
	s->flags_expired += px_xdp_sweep_flags(&s->xdp, s->env.engine, now, &s->drop_map_entries);
	if (!s->sync)
		measure_load(s, now); /* the load PROBE_REPLY reports */
	if (s->mgmt)
		px_mgmt_run(s->mgmt, s);
	/* The fair policy's rate estimates and shares (harmless under fcfs). */
	congested = xf_engine_share(s->env.engine, now);
	/* Exact totals come from the workers' counters (xf_engine_admitted), not deltas. */
	s->reclaimed += xf_engine_reclaim_idle(s->env.engine, now);
	if (s->flags_expired != expired || s->reclaimed != reclaimed || congested)
		pr_debug_rl(now,
			    "tick: %" PRIu64 " flags expired (%" PRIu64
			    " left in the drop-map), %" PRIu64
			    " idle pairs reclaimed, %zu destinations over T_F2 (fair share)",
			    s->flags_expired - expired, s->drop_map_entries,
			    s->reclaimed - reclaimed, congested);
	err = px_neigh_refresh(s->env.nh, s->xdp.ifindex);
	if (err)
		pr_debug("neighbour refresh: %s", strerror(-err));
	px_ctl_tick(
		s); /* xproctl's `set`, `reload` and `trace` run here, answered with the outcome */
	px_trace_tick(s);
	if (got_hup) {
		char msg[600];

		got_hup = 0;
		px_reload(s, msg, sizeof(msg));
	}
	write_status(s);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / XF_NSEC_PER_SEC), (long)(t % XF_NSEC_PER_SEC) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* The tick's housekeeping and, with a master, a sync round every period t. */
void px_loop_run(struct px_state *s)
{
	uint64_t tick_ns = s->cfg.tick_ms * XF_NSEC_PER_MSEC;
	uint64_t next_tick = xf_now_ns(), next_sync = next_tick;

	while (!got_quit) {
		/* SIGHUP may change t. */
		uint64_t sync_ns = s->cfg.sync.period_ms * XF_NSEC_PER_MSEC;
		uint64_t now = xf_now_ns();

		if (s->sync && now >= next_sync) {
			sync_once(s, now);
			next_sync += sync_ns;
			if (next_sync < now) /* a slow round: do not try to catch up */
				next_sync = now + sync_ns;
		}
		if (now >= next_tick) {
			tick(s);
			next_tick += tick_ns;
			if (next_tick < now)
				next_tick = now + tick_ns;
		}
		sleep_until(s->sync && next_sync < next_tick ? next_sync : next_tick);
	}
	pr_info("stopping");
}

void px_loop_finish(struct px_state *s)
{
	/* Hand the master what the workers admitted since the last round. */
	if (s->sync)
		sync_round_run(s->sync, xf_now_ns(), &s->load);
	/* Final counters while the sockets and the program are still there. */
	write_status(s);
	/* The status file's rates (stats.c), allocated by its first write, go with its last. */
	free(s->stats_rates);
	s->stats_rates = NULL;
}
