/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy: start-up in stages (each undone in reverse on failure or at
 * exit), one worker thread per queue, and the control loop that reclaims
 * records, expires flags, learns neighbours, reloads provisioning on SIGHUP
 * and writes the status file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
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
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <urcu.h>

#include "control/provision.h"
#include "control/proxy/proxy.h"
#include "control/proxy/state.h"

int px_log_level = 1;
static volatile sig_atomic_t got_quit, got_hup;

void px_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > px_log_level)
		return;
	va_start(ap, fmt);
	fputs("xpro-proxy: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* libbpf and libxdp: warnings with -v, their info with -vv, debug with -vvv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((int)level + 2 > px_log_level)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return libbpf_print((enum libbpf_print_level)level, fmt, ap);
}

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

/* One control period: all the work that is not per packet. */
static void tick(struct px_state *s)
{
	uint64_t now = xf_now_ns();
	int err;

	/* Flagged pairs first: a flood dropped in XDP must not look idle to reclaim. */
	s->flags_expired += px_xdp_sweep_flags(&s->xdp, s->env.engine, now);
	/* No sync layer yet (issue 4): deltas are harvested so pairs can be reclaimed. */
	xf_engine_harvest(s->env.engine, NULL, NULL);
	s->reclaimed += xf_engine_reclaim(s->env.engine, now);
	err = px_neigh_refresh(s->env.nh, s->xdp.ifindex);
	if (err)
		pr_debug("neighbour refresh: %s", strerror(-err));
	if (got_hup) {
		got_hup = 0;
		pr_info("SIGHUP: reloading %s", s->cfg.provision);
		if (reload_devices(s))
			pr_warn("reload failed; keeping the previous devices");
	}
	if (s->cfg.stats_file[0] && px_stats_write(s))
		pr_debug("writing %s failed", s->cfg.stats_file);
}

static void control_loop(struct px_state *s)
{
	struct timespec ts = { s->cfg.tick_ms / 1000, (long)(s->cfg.tick_ms % 1000) * 1000000 };

	while (!got_quit) {
		tick(s);
		nanosleep(&ts, NULL);
	}
	pr_info("stopping");
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
	err = iface_mac(s->cfg.ifname, s->env.smac);
	if (err) {
		if (err == -ENODEV)
			pr_warn("interface '%s' not found", s->cfg.ifname);
		else
			pr_warn("interface '%s': %s", s->cfg.ifname, strerror(-err));
		goto out_free_conf;
	}
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
	s->nworkers = s->cfg.nqueues;
	memcpy(s->queue_ids, s->cfg.queues, sizeof(s->queue_ids));
	err = start_workers(s);
out_free_conf:
	free(conf);
	return err;
}

static void teardown(struct px_state *s)
{
	join_workers(s);
	/* Final counters while the sockets and the program are still there. */
	if (s->cfg.stats_file[0])
		px_stats_write(s);
	close_workers(s);
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
	px_log_level = 1 + s.cfg.verbose;
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
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
