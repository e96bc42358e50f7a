/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy: start-up in stages (each undone in reverse on failure or at
 * exit), one worker thread per queue, and the control loop that reclaims
 * records, expires flags, learns neighbours, reloads provisioning on SIGHUP
 * and writes the status file.
 */
#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <urcu.h>

#include "control/provision.h"
#include "control/proxy/config.h"
#include "control/proxy/ctl.h"
#include "control/proxy/mgmt.h"
#include "control/proxy/proxy.h"
#include "control/proxy/state.h"

static volatile sig_atomic_t got_quit, got_hup;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_quit = 1;
}

static int count_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 1;
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "rx-", 3);
	closedir(d);
	return n ? n : 1;
}

static int iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	close(fd);
	if (rc)
		return -errno;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* Parse the provisioning file; nothing is applied on error. */
static int read_devices(const char *path, struct tun_dev_conf **conf, size_t *n)
{
	char err[256];
	int rc = prov_load_file(path, conf, n, err, sizeof(err));

	if (rc)
		pr_warn("%s", err);
	return rc;
}

/* Apply parsed devices to the device table and the XDP device map. */
static int apply_devices(struct px_state *s, const struct tun_dev_conf *conf, size_t n)
{
	int rc = tun_devtab_replace(s->env.devtab, conf, n);

	if (!rc)
		rc = px_xdp_sync_devices(&s->xdp, conf, n);
	if (rc)
		pr_warn("applying %zu devices: %s", n, strerror(-rc));
	else
		pr_info("%zu devices provisioned from %s", n, s->cfg.provision);
	return rc;
}

static int reload_devices(struct px_state *s)
{
	struct tun_dev_conf *conf = NULL;
	size_t n = 0;
	int rc = read_devices(s->cfg.provision, &conf, &n);

	if (!rc)
		rc = apply_devices(s, conf, n);
	free(conf);
	return rc;
}

static int start_workers(struct px_state *s)
{
	char msg[256];
	int err;

	for (int i = 0; i < s->nworkers; i++) {
		struct dp_worker *w = &s->workers[i];

		w->env = &s->env;
		w->cpu = s->cfg.ncpus ? s->cfg.cpus[i] : -1;
		err = dp_xsk_open(&w->xsk, s->cfg.ifname, s->queue_ids[i], s->xdp.xsks_fd,
				  &s->cfg.xsk, msg, sizeof(msg));
		if (err) {
			pr_warn("%s", msg);
			return err;
		}
		s->nopen++;
		err = dp_worker_init(w);
		if (err) {
			pr_warn("worker for queue %d: %s", s->queue_ids[i], strerror(-err));
			return err;
		}
		pr_info("queue %d: AF_XDP %s mode%s", s->queue_ids[i],
			w->xsk.zerocopy ? "zero-copy" : "copy",
			w->cpu >= 0 ? "" : ", worker not pinned");
	}
	for (int i = 0; i < s->nworkers; i++) {
		err = pthread_create(&s->workers[i].thread, NULL, dp_worker_run, &s->workers[i]);
		if (err)
			return -err;
		s->nrunning++;
	}
	return 0;
}

static void join_workers(struct px_state *s)
{
	__atomic_store_n(&s->env.quit, true, __ATOMIC_RELAXED);
	for (int i = 0; i < s->nrunning; i++)
		pthread_join(s->workers[i].thread, NULL);
	s->nrunning = 0;
}

static void close_workers(struct px_state *s)
{
	for (int i = 0; i < s->nopen; i++) {
		dp_worker_fini(&s->workers[i]);
		dp_xsk_close(&s->workers[i].xsk);
	}
	s->nopen = 0;
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
	if (st.state == s->sync_logged)
		return;
	if (st.state == SYNC_STATE_UP)
		pr_info("sync: master %s up; %" PRIu64 " pairs merged so far", s->cfg.sync.master,
			st.pairs_sent);
	else
		pr_warn("sync: %s: %s; enforcing with local counts and the last global view, "
			"retrying with backoff",
			sync_state_name(st.state), st.error);
	s->sync_logged = st.state;
}

/* SIGHUP: the configuration file again; only keys that may change at run time. */
static void reload_config(struct px_state *s)
{
	char msg[512];
	int n = px_config_hup(&s->cfg_given, &s->cfg, msg, sizeof(msg));

	if (n < 0) {
		pr_warn("SIGHUP: %s; keeping the running configuration", msg);
		return;
	}
	if (!n)
		return;
	pr_info("SIGHUP: %s", msg);
	if (xf_engine_set_params(s->env.engine, &s->cfg.params))
		pr_warn("SIGHUP: thresholds refused by the engine");
	__atomic_store_n(&s->env.hold_ns, s->cfg.hold_ms * XF_NSEC_PER_MSEC, __ATOMIC_RELAXED);
	px_log_level = px_config_log_level(&s->cfg);
	if (s->sync)
		sync_round_retune(s->sync, s->cfg.sync.period_ms, s->cfg.sync.batch);
}

/* One control period: all the work that is not per packet. */
static void tick(struct px_state *s)
{
	uint64_t now = xf_now_ns();
	int err;

	/* Flagged pairs first: a flood dropped in XDP must not look idle to reclaim. */
	s->flags_expired += px_xdp_sweep_flags(&s->xdp, s->env.engine, now, &s->drop_map_entries);
	/* Without a master, deltas are harvested here so that pairs can be reclaimed. */
	if (!s->sync) {
		xf_engine_harvest(s->env.engine, NULL, NULL);
		measure_load(s, now); /* the load PROBE_REPLY reports */
	}
	if (s->mgmt)
		px_mgmt_run(s->mgmt, s);
	/* The fair policy's rate estimates and shares (harmless under fcfs). */
	xf_engine_share(s->env.engine, now);
	s->reclaimed += xf_engine_reclaim(s->env.engine, now);
	err = px_neigh_refresh(s->env.nh, s->xdp.ifindex);
	if (err)
		pr_debug("neighbour refresh: %s", strerror(-err));
	if (px_ctl_tick(s)) /* xproctl's `set` runs here; `reload` is a SIGHUP */
		got_hup = 1;
	if (got_hup) {
		got_hup = 0;
		reload_config(s);
		pr_info("SIGHUP: reloading %s", s->cfg.provision);
		if (reload_devices(s))
			pr_warn("reload failed; keeping the previous devices");
	}
	if (s->cfg.stats_file[0] && px_stats_write(s))
		pr_debug("writing %s failed", s->cfg.stats_file);
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / XF_NSEC_PER_SEC), (long)(t % XF_NSEC_PER_SEC) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* The tick's housekeeping and, with a master, a sync round every period t. */
static void control_loop(struct px_state *s)
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

/* Default proxy id: host name and interface, in the characters ids allow. */
static void default_proxy_id(struct px_config *c)
{
	char host[64] = "proxy";
	size_t n;

	if (c->sync.proxy_id[0])
		return;
	gethostname(host, sizeof(host) - 1);
	snprintf(c->sync.proxy_id, sizeof(c->sync.proxy_id), "%.15s-%.15s", host, c->ifname);
	for (n = 0; c->sync.proxy_id[n]; n++) {
		char ch = c->sync.proxy_id[n];

		if (!isalnum((unsigned char)ch) && ch != '.' && ch != '_' && ch != '-')
			c->sync.proxy_id[n] = '_';
	}
}

/* Connect to the master before touching the interface: a bad password is fatal. */
static int start_sync(struct px_state *s)
{
	struct px_sync_config *c = &s->cfg.sync;
	struct sync_round_cfg rc = {
		.master = { .addr = c->master,
			    .password = c->password[0] ? c->password : NULL,
			    .proxy_id = c->proxy_id,
			    .connect_ms = c->cmd_ms,
			    .cmd_ms = c->cmd_ms },
		.replica = c->replica[0] ? c->replica : NULL,
		.period_ms = c->period_ms,
		.batch = c->batch,
	};
	struct sync_round_stats st;
	char err[200];

	if (!c->master[0])
		return 0;
	default_proxy_id(&s->cfg);
	s->sync = sync_round_new(s->env.engine, &rc, err, sizeof(err));
	if (!s->sync) {
		pr_warn("sync: %s", err);
		return -EINVAL;
	}
	sync_round_stats(s->sync, &st);
	if (st.state != SYNC_STATE_UP)
		pr_warn("sync: %s; starting anyway, retrying with backoff", st.error);
	else
		pr_info("sync: master %s as '%s', period %u ms%s%s", c->master, c->proxy_id,
			c->period_ms, c->replica[0] ? ", reading from replica " : "", c->replica);
	s->sync_logged = st.state;
	return 0;
}

/*
 * Start-up, in stages; teardown() undoes whatever was done.  Everything that
 * can be checked before touching the interface is checked first.
 */
static int setup(struct px_state *s)
{
	struct tun_dev_conf *conf = NULL;
	uint64_t seed = 0;
	char msg[256];
	size_t n = 0;
	int err;

	err = read_devices(s->cfg.provision, &conf, &n);
	if (err)
		return err;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	err = -ENOMEM;
	s->env.engine = xf_engine_new(&s->cfg.params, &s->cfg.limits, seed);
	s->env.devtab = tun_devtab_new();
	s->env.nh = dp_nh_new();
	if (!s->env.engine || !s->env.devtab || !s->env.nh)
		goto out_free_conf;
	err = start_sync(s);
	if (err)
		goto out_free_conf;
	err = iface_mac(s->cfg.ifname, s->env.smac);
	if (err) {
		if (err == -ENODEV)
			pr_warn("interface '%s' not found", s->cfg.ifname);
		else
			pr_warn("interface '%s': %s", s->cfg.ifname, strerror(-err));
		goto out_free_conf;
	}
	s->mgmt = px_mgmt_new(s->cfg.port, msg, sizeof(msg));
	if (!s->mgmt)
		pr_warn("%s; devices get no PROBE_REPLY or OVERLOAD", msg);
	else
		s->env.ctl = px_mgmt_ring(s->mgmt);
	px_mgmt_own_addr(s->cfg.ifname, s->cfg.port, s->load.tun_addr, sizeof(s->load.tun_addr));
	err = px_xdp_attach(&s->xdp, &s->cfg, msg, sizeof(msg));
	if (err) {
		pr_warn("%s", msg);
		goto out_free_conf;
	}
	pr_info("XDP program attached to %s (%s)", s->cfg.ifname,
		s->cfg.xdp_mode == PX_XDP_GENERIC ? "generic" : "native");
	err = apply_devices(s, conf, n);
	if (err)
		goto out_free_conf;
	px_neigh_refresh(s->env.nh, s->xdp.ifindex);
	s->env.drop_map_fd = s->xdp.drop_fd;
	s->env.tun_port = s->cfg.port;
	s->env.batch = s->cfg.batch;
	s->env.hold_ns = s->cfg.hold_ms * XF_NSEC_PER_MSEC;
	s->env.stage = s->cfg.stage;
	if (!s->cfg.nqueues) {
		s->cfg.nqueues = count_rx_queues(s->cfg.ifname);
		for (int i = 0; i < s->cfg.nqueues; i++)
			s->cfg.queues[i] = i;
	}
	if (s->cfg.ncpus && s->cfg.ncpus != s->cfg.nqueues) {
		pr_warn("--cpus lists %d CPUs for the %d queues of %s", s->cfg.ncpus,
			s->cfg.nqueues, s->cfg.ifname);
		err = -EINVAL;
		goto out_free_conf;
	}
	s->nworkers = s->cfg.nqueues;
	memcpy(s->queue_ids, s->cfg.queues, sizeof(s->queue_ids));
	err = start_workers(s);
	if (!err)
		err = px_ctl_start(s);
out_free_conf:
	free(conf);
	return err;
}

static void teardown(struct px_state *s)
{
	px_ctl_stop(s);
	join_workers(s);
	/* Hand the master what the workers admitted since the last round. */
	if (s->sync)
		sync_round_run(s->sync, xf_now_ns(), &s->load);
	/* Final counters while the sockets and the program are still there. */
	if (s->cfg.stats_file[0])
		px_stats_write(s);
	free(s->stats_rates);
	s->stats_rates = NULL;
	sync_round_free(s->sync);
	s->sync = NULL;
	close_workers(s);
	px_mgmt_free(s->mgmt);
	s->mgmt = NULL;
	s->env.ctl = NULL;
	if (s->xdp.skel)
		px_xdp_detach(&s->xdp);
	xf_engine_free(s->env.engine);
	tun_devtab_free(s->env.devtab);
	dp_nh_free(s->env.nh);
}

int main(int argc, char **argv)
{
	static struct px_state s;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	rc = px_parse_args(argc, argv, &s.cfg);
	if (rc)
		return rc > 0 ? 0 : 2;
	s.cfg_given = s.cfg;
	px_log_init(px_config_log_level(&s.cfg));
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rcu_register_thread();
	s.started_ns = xf_now_ns();
	rc = setup(&s);
	if (!rc) {
		pr_info("running: %d worker%s on %s, tunnel port %u", s.nworkers,
			s.nworkers == 1 ? "" : "s", s.cfg.ifname, s.cfg.port);
		control_loop(&s);
	}
	teardown(&s);
	rcu_unregister_thread();
	return rc ? 1 : 0;
}
