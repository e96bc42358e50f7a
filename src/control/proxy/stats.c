/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running proxy's figures: read into a struct px_counters (for the
 * status file here, for xproctl and /metrics in ctl.c and metrics.c), and
 * the status file itself, the table's JSON (counters.c, docs/metrics.md)
 * written to a temporary file and renamed over the old one so readers never
 * see half of it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <urcu.h>

#include "control/proxy/counters.h"
#include "control/proxy/proxy.h"
#include "control/proxy/state.h"

void px_snap_take(const struct px_state *s, struct px_ctl_snap *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->have_sync = s->sync != NULL;
	if (s->sync)
		sync_round_stats(s->sync, &snap->sync);
	snprintf(snap->master, sizeof(snap->master), "%s",
		 s->cfg.sync.cluster[0] ? s->cfg.sync.cluster : s->cfg.sync.master);
	snprintf(snap->proxy_id, sizeof(snap->proxy_id), "%s", s->cfg.sync.proxy_id);
	snap->load = s->load;
	snap->reclaimed = s->reclaimed;
	snap->flags_expired = s->flags_expired;
	snap->drop_map_entries = s->drop_map_entries;
	snap->hold_ms = s->cfg.hold_ms;
	snap->params = s->cfg.params;
	snap->at_ns = xf_now_ns();
}

void px_counters_fill(const struct px_state *s, const struct px_ctl_snap *snap,
		      struct px_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->t_ns = xf_now_ns();
	c->uptime_ns = c->t_ns - s->started_ns;
	snprintf(c->iface, sizeof(c->iface), "%s", s->cfg.ifname);
	c->port = s->cfg.port;
	c->nw = s->nopen;
	for (int i = 0; i < s->nopen; i++) {
		const struct dp_worker *w = &s->workers[i];

		c->w[i].queue = w->xsk.queue;
		c->w[i].cpu = w->cpu;
		c->w[i].zerocopy = w->xsk.zerocopy;
		dp_worker_stats(w, &c->w[i].ws);
		if (w->xf)
			xf_worker_stats(w->xf, &c->w[i].xs);
	}
	c->xdp_ok = s->xdp.skel && !px_xdp_counters(&s->xdp, c->xdp_pk, c->xdp_by);
	xf_engine_stats(s->env.engine, &c->es);
	rcu_read_lock();
	c->devices = tun_devtab_count(s->env.devtab);
	rcu_read_unlock();
	c->neighbours = dp_nh_count(s->env.nh);
	c->snap = *snap;
	c->sync_state = snap->have_sync ? sync_state_name(snap->sync.state) : NULL;
	px_counters_derive(c);
}

int px_stats_write(struct px_state *s)
{
	static struct px_counters c; /* the control thread's */
	struct px_ctl_snap snap;
	char tmp[300];
	FILE *f;
	int err = 0;

	if (!s->env.engine)
		return 0;
	if (!s->stats_rates)
		s->stats_rates = calloc(1, sizeof(*s->stats_rates)); /* NULL: rates read 0 */
	px_snap_take(s, &snap);
	px_counters_fill(s, &snap, &c);
	if (s->stats_rates)
		px_rates_feed(s->stats_rates, &c);
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cfg.stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fputc('{', f);
	px_counters_json(f, &c, s->stats_rates ? px_rates_old(s->stats_rates) : NULL,
			 s->stats_rates ? px_rates_new(s->stats_rates) : NULL);
	fputs("}\n", f);
	if (fclose(f))
		err = -errno;
	if (!err && rename(tmp, s->cfg.stats_file))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
