/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy: start-up in stages (each undone in reverse on failure or at
 * exit), one worker thread per queue, then the control loop (loop.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
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
#include "control/proxy/run.h"
#include "control/proxy/state.h"

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
int px_devices_read(const char *path, struct tun_dev_conf **conf, size_t *n)
{
	char err[256];
	int rc = prov_load_file(path, conf, n, err, sizeof(err));

	if (rc)
		pr_warn("%s", err);
	return rc;
}

/* Apply parsed devices to the device table and the XDP device map. */
int px_devices_apply(struct px_state *s, const struct tun_dev_conf *conf, size_t n)
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

	err = px_devices_read(s->cfg.provision, &conf, &n);
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
	err = px_devices_apply(s, conf, n);
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
	px_loop_finish(s);
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
	int rc;

	rc = px_parse_args(argc, argv, &s.cfg);
	if (rc)
		return rc > 0 ? 0 : 2;
	s.cfg_given = s.cfg;
	px_log_init(px_config_log_level(&s.cfg));
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	px_signals_init();
	rcu_register_thread();
	s.started_ns = xf_now_ns();
	rc = setup(&s);
	if (!rc) {
		pr_info("running: %d worker%s on %s, tunnel port %u", s.nworkers,
			s.nworkers == 1 ? "" : "s", s.cfg.ifname, s.cfg.port);
		px_loop_run(&s);
	}
	teardown(&s);
	rcu_unregister_thread();
	return rc ? 1 : 0;
}
