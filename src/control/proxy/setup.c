/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's start-up, as a table of stages each with its undo: a failure
 * undoes exactly the stages done, in reverse, and teardown is the same
 * unwind.  Everything that can be checked before touching the interface
 * (the provisioning file, the master, the interface's existence) is checked
 * first.  A stage that fails half-way undoes its own half.
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
#include <sys/socket.h>

#include "control/provision.h"
#include "control/proxy/config.h"
#include "control/proxy/ctl.h"
#include "control/proxy/mgmt.h"
#include "control/proxy/proxy.h"
#include "control/proxy/run.h"
#include "control/proxy/trace.h"

/* What the stages hand on to each other while starting. */
struct boot {
	struct tun_dev_conf *conf; /* the provisioning file, parsed before anything else */
	size_t nconf;
};

/* --- devices ---------------------------------------------------------------------- */

int px_devices_read(const char *path, struct tun_dev_conf **conf, size_t *n, char *msg, size_t len)
{
	int rc = prov_load_file(path, conf, n, msg, len);

	if (rc)
		pr_warn("%s", msg);
	return rc;
}

int px_devices_apply(struct px_state *s, const struct tun_dev_conf *conf, size_t n, char *msg,
		     size_t len)
{
	int rc = tun_devtab_replace(s->env.devtab, conf, n);

	if (!rc)
		rc = px_xdp_sync_devices(&s->xdp, conf, n);
	if (rc)
		snprintf(msg, len, "applying %zu devices: %s", n, strerror(-rc));
	else
		snprintf(msg, len, "%zu devices provisioned from %s", n, s->cfg.provision);
	px_log(rc ? PX_LOG_WARN : PX_LOG_INFO, "%s", msg);
	return rc;
}

/* --- the stages ------------------------------------------------------------------- */

/* The engine, the device table and the next hops: what the workers share. */
static void core_down(struct px_state *s)
{
	dp_nh_free(s->env.nh);
	tun_devtab_free(s->env.devtab);
	xf_engine_free(s->env.engine);
	s->env.nh = NULL;
	s->env.devtab = NULL;
	s->env.engine = NULL;
}

static int core_up(struct px_state *s, struct boot *b)
{
	uint64_t seed = 0;

	(void)b;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL);
	s->env.engine = xf_engine_new(&s->cfg.params, &s->cfg.limits, seed);
	s->env.devtab = tun_devtab_new();
	s->env.nh = dp_nh_new();
	if (s->env.engine && s->env.devtab && s->env.nh)
		return 0;
	core_down(s);
	return -ENOMEM;
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
static int sync_up(struct px_state *s, struct boot *b)
{
	struct px_sync_config *c = &s->cfg.sync;
	struct sync_round_cfg rc = {
		.master = { .addr = c->master,
			    .password = c->password[0] ? c->password : NULL,
			    .proxy_id = c->proxy_id,
			    .connect_ms = c->cmd_ms,
			    .cmd_ms = c->cmd_ms },
		.replica = c->replica[0] ? c->replica : NULL,
		.cluster = c->cluster[0] ? c->cluster : NULL,
		.period_ms = c->period_ms,
	};
	struct sync_round_stats st;
	char err[200];

	(void)b;
	if (!c->master[0] && !c->cluster[0])
		return 0;
	default_proxy_id(&s->cfg);
	s->sync = sync_round_new(s->env.engine, &rc, err, sizeof(err));
	if (!s->sync) {
		pr_err("sync: %s", err);
		return -EINVAL;
	}
	sync_round_stats(s->sync, &st);
	if (st.state != SYNC_STATE_UP)
		pr_warn("sync: %s; starting anyway, retrying with backoff", st.error);
	else
		pr_info("sync: %s %s as '%s', period %u ms%s%s",
			c->cluster[0] ? "cluster" : "master",
			c->cluster[0] ? c->cluster : c->master, c->proxy_id, c->period_ms,
			c->replica[0] ? ", reading from replica " : "", c->replica);
	s->sync_logged = st.state;
	return 0;
}

static void sync_down(struct px_state *s)
{
	sync_round_free(s->sync);
	s->sync = NULL;
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

/* The interface exists; its address is the source of what the workers send. */
static int iface_up(struct px_state *s, struct boot *b)
{
	int err = iface_mac(s->cfg.ifname, s->env.smac);

	(void)b;
	if (err == -ENODEV)
		pr_err("interface '%s' not found", s->cfg.ifname);
	else if (err)
		pr_err("interface '%s': %s", s->cfg.ifname, strerror(-err));
	return err;
}

/* PROBE_REPLY and OVERLOAD; a proxy without them still filters. */
static int mgmt_up(struct px_state *s, struct boot *b)
{
	char msg[256];

	(void)b;
	s->mgmt = px_mgmt_new(s->cfg.port, msg, sizeof(msg));
	if (!s->mgmt)
		pr_warn("%s; devices get no PROBE_REPLY or OVERLOAD", msg);
	else
		s->env.ctl = px_mgmt_ring(s->mgmt);
	px_mgmt_own_addr(s->cfg.ifname, s->cfg.port, s->load.tun_addr, sizeof(s->load.tun_addr));
	return 0;
}

static void mgmt_down(struct px_state *s)
{
	px_mgmt_free(s->mgmt);
	s->mgmt = NULL;
	s->env.ctl = NULL;
}

static int xdp_up(struct px_state *s, struct boot *b)
{
	char msg[256];
	int err = px_xdp_attach(&s->xdp, &s->cfg, msg, sizeof(msg));

	(void)b;
	if (err) {
		pr_err("%s", msg);
		return err;
	}
	pr_info("XDP program attached to %s (%s)", s->cfg.ifname,
		s->cfg.xdp_mode == PX_XDP_GENERIC ? "generic" : "native");
	return 0;
}

static void xdp_down(struct px_state *s)
{
	if (s->xdp.skel)
		px_xdp_detach(&s->xdp);
}

/* The devices read at start into the table and the XDP map: undone with them. */
static int devices_up(struct px_state *s, struct boot *b)
{
	char msg[320];

	return px_devices_apply(s, b->conf, b->nconf, msg, sizeof(msg));
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

/* Neighbours, the workers' settings, and which queues they serve: nothing to undo. */
static int queues_up(struct px_state *s, struct boot *b)
{
	(void)b;
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
		pr_err("--cpus lists %d CPUs for the %d queues of %s", s->cfg.ncpus, s->cfg.nqueues,
		       s->cfg.ifname);
		return -EINVAL;
	}
	s->nworkers = s->cfg.nqueues;
	memcpy(s->queue_ids, s->cfg.queues, sizeof(s->queue_ids));
	return 0;
}

/* One AF_XDP socket and one worker's state per queue; s->nopen of them. */
static void sockets_down(struct px_state *s)
{
	for (int i = 0; i < s->nopen; i++) {
		dp_worker_fini(&s->workers[i]);
		dp_xsk_close(&s->workers[i].xsk);
	}
	s->nopen = 0;
}

static int sockets_up(struct px_state *s, struct boot *b)
{
	char msg[256];
	int err;

	(void)b;
	for (int i = 0; i < s->nworkers; i++) {
		struct dp_worker *w = &s->workers[i];

		w->env = &s->env;
		w->cpu = s->cfg.ncpus ? s->cfg.cpus[i] : -1;
		err = dp_xsk_open(&w->xsk, s->cfg.ifname, s->queue_ids[i], s->xdp.xsks_fd,
				  &s->cfg.xsk, msg, sizeof(msg));
		if (err) {
			pr_err("%s", msg);
			goto out_close;
		}
		s->nopen++;
		err = dp_worker_init(w);
		if (err) {
			pr_err("worker for queue %d: %s", s->queue_ids[i], strerror(-err));
			goto out_close;
		}
		pr_info("queue %d: AF_XDP %s mode%s", s->queue_ids[i],
			w->xsk.zerocopy ? "zero-copy" : "copy",
			w->cpu >= 0 ? "" : ", worker not pinned");
	}
	return 0;

out_close:
	sockets_down(s);
	return err;
}

/* The worker threads; s->nrunning of them. */
static void join_workers(struct px_state *s)
{
	__atomic_store_n(&s->env.quit, true, __ATOMIC_RELAXED);
	for (int i = 0; i < s->nrunning; i++)
		pthread_join(s->workers[i].thread, NULL);
	s->nrunning = 0;
}

static int workers_up(struct px_state *s, struct boot *b)
{
	int err;

	(void)b;
	for (int i = 0; i < s->nworkers; i++) {
		err = pthread_create(&s->workers[i].thread, NULL, dp_worker_run, &s->workers[i]);
		if (err) {
			join_workers(s);
			return -err;
		}
		s->nrunning++;
	}
	return 0;
}

/* Stopped workers have counted their last packets: hand them on before the sockets go. */
static void workers_down(struct px_state *s)
{
	join_workers(s);
	px_trace_fini(s); /* after the workers: they write its rings */
	px_loop_finish(s);
}

/* xproctl's socket and the metrics endpoint (ctl.c). */
static int ctl_up(struct px_state *s, struct boot *b)
{
	(void)b;
	return px_ctl_start(s);
}

static void ctl_down(struct px_state *s)
{
	px_ctl_stop(s);
}

/* In the order they start; px_teardown() undoes them in reverse. */
static const struct stage {
	int (*up)(struct px_state *s, struct boot *b); /* 0, or -errno with its own half undone */
	void (*down)(struct px_state *s); /* NULL: nothing of its own to undo */
} stages[] = {
	{ .up = core_up, .down = core_down },
	{ .up = sync_up, .down = sync_down },
	{ .up = iface_up },
	{ .up = mgmt_up, .down = mgmt_down },
	{ .up = xdp_up, .down = xdp_down },
	{ .up = devices_up },
	{ .up = queues_up },
	{ .up = sockets_up, .down = sockets_down },
	{ .up = workers_up, .down = workers_down },
	{ .up = ctl_up, .down = ctl_down },
};

#define NSTAGES (int)(sizeof(stages) / sizeof(stages[0]))

/*
 * After a start refused with EPERM or EACCES: name the capabilities this process lacks
 * (from /proc/self/status, CapEff), so that "Operation not permitted" comes with what to
 * grant.  The set is xpro-proxy(8)'s PRIVILEGES and the unit's AmbientCapabilities.
 */
static void privilege_hint(void)
{
	static const struct {
		int bit;
		const char *name;
	} need[] = {
		{ 12, "CAP_NET_ADMIN" }, { 13, "CAP_NET_RAW" }, { 14, "CAP_IPC_LOCK" },
		{ 21, "CAP_SYS_ADMIN" }, { 38, "CAP_PERFMON" }, { 39, "CAP_BPF" },
	};
	unsigned long long eff = 0;
	char line[128], missing[160] = "";
	FILE *f = fopen("/proc/self/status", "r");
	bool found = false;
	size_t n = 0;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1) {
			found = true;
			break;
		}
	fclose(f);
	if (!found)
		return;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(eff >> need[i].bit & 1))
			n += (size_t)snprintf(missing + n,
					      n < sizeof(missing) ? sizeof(missing) - n : 0, "%s%s",
					      n ? ", " : "", need[i].name);
	if (missing[0])
		pr_err("not permitted: this process lacks %s; run xpro-proxy as root or grant "
		       "them (xpro-proxy(8), PRIVILEGES; the unit xpro-proxy@IFACE does)",
		       missing);
}

int px_setup(struct px_state *s)
{
	struct boot b = { 0 };
	char msg[320];
	int err = px_devices_read(s->cfg.provision, &b.conf, &b.nconf, msg, sizeof(msg));

	if (err)
		return err;
	s->stages_up = 0;
	while (s->stages_up < NSTAGES && !(err = stages[s->stages_up].up(s, &b)))
		s->stages_up++;
	free(b.conf);
	if (err) {
		px_teardown(s);
		if (err == -EPERM || err == -EACCES)
			privilege_hint();
		return err;
	}
	pr_info("running: %d worker%s on %s, tunnel port %u", s->nworkers,
		s->nworkers == 1 ? "" : "s", s->cfg.ifname, s->cfg.port);
	if (px_log_level >= 2) {
		static struct px_config def;
		char diff[2048];

		px_config_defaults(&def);
		px_config_changes(&def, &s->cfg, diff, sizeof(diff));
		pr_debug("configuration, where it differs from the defaults: %s",
			 diff[0] ? diff : "(none)");
	}
	return 0;
}

void px_teardown(struct px_state *s)
{
	while (s->stages_up > 0) {
		const struct stage *st = &stages[--s->stages_up];

		if (st->down)
			st->down(s);
	}
}
