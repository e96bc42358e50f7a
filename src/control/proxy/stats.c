/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status file: every counter of the proxy as one JSON object, written
 * to a temporary file and renamed over the old one so readers never see half
 * of it.  Tests and operators read it until xproctl exists (issue 6).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <urcu.h>

#include "control/proxy/ctl.h"
#include "control/proxy/proxy.h"
#include "control/proxy/state.h"

static void write_u64s(FILE *f, const char *name, const uint64_t *v, const char *const *names,
		       int n)
{
	fprintf(f, "\"%s\":{", name);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", names[i], v[i]);
	fputc('}', f);
}

static void write_worker(FILE *f, const struct px_state *s, int i)
{
	const struct dp_worker *w = &s->workers[i];
	const char *rej[TUN_REJ_N], *verd[XF_NVERDICTS];
	struct xf_worker_stats xs;
	struct dp_worker_stats ws;

	dp_worker_stats(w, &ws);
	memset(&xs, 0, sizeof(xs));
	if (w->xf)
		xf_worker_stats(w->xf, &xs);
	for (int r = 0; r < TUN_REJ_N; r++)
		rej[r] = tun_rej_name(r);
	for (int v = 0; v < XF_NVERDICTS; v++)
		verd[v] = xf_verdict_name(v);
	fprintf(f,
		"{\"queue\":%d,\"cpu\":%d,\"zerocopy\":%s,\"rx\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
		",\"not_tunnel\":%" PRIu64 ",\"control\":%" PRIu64 ",\"tx\":%" PRIu64
		",\"tx_bytes\":%" PRIu64 ",\"tx_kernel\":%" PRIu64 ",\"tx_fail\":%" PRIu64
		",\"flagged\":%" PRIu64 ",\"flag_fail\":%" PRIu64 ",\"batches\":%" PRIu64
		",\"busy_batches\":%" PRIu64 ",\"warnings\":%" PRIu64 ",\"pairs_created\":%" PRIu64
		",",
		w->xsk.queue, w->cpu, w->xsk.zerocopy ? "true" : "false", ws.rx, ws.rx_bytes,
		ws.not_tunnel, ws.control, ws.tx, ws.tx_bytes, ws.tx_kernel, ws.tx_fail, ws.flagged,
		ws.flag_fail, ws.batches, ws.busy_batches, xs.warnings, xs.pairs_created);
	write_u64s(f, "rejected", ws.rejected + 1, rej + 1, TUN_REJ_N - 1);
	fputc(',', f);
	write_u64s(f, "verdicts", xs.verdict, verd, XF_NVERDICTS);
	fputc('}', f);
}

static void write_sync(FILE *f, const struct px_state *s)
{
	struct sync_round_stats st;
	uint64_t now = xf_now_ns();

	if (!s->sync) {
		fputs(",\"sync\":null", f);
		return;
	}
	sync_round_stats(s->sync, &st);
	fprintf(f,
		",\"sync\":{\"master\":\"%s\",\"proxy_id\":\"%s\",\"state\":\"%s\","
		"\"rounds\":%" PRIu64 ",\"rounds_ok\":%" PRIu64 ",\"rounds_failed\":%" PRIu64
		",\"outages\":%" PRIu64 ",\"reseeds\":%" PRIu64 ",\"pairs_sent\":%" PRIu64
		",\"pairs_applied\":%" PRIu64 ",\"packets_merged\":%" PRIu64
		",\"pending_pairs\":%" PRIu64 ",\"pending_packets\":%" PRIu64
		",\"last_round_us\":%" PRIu64 ",\"max_round_us\":%" PRIu64 ",\"lag_ms\":%" PRIu64
		",\"others\":%d,\"load_pps\":%" PRIu64 ",\"load_util_permille\":%u"
		",\"share_dsts\":%" PRIu64 ",\"share_failures\":%" PRIu64 "}",
		s->cfg.sync.master, s->cfg.sync.proxy_id, sync_state_name(st.state), st.rounds,
		st.rounds_ok, st.rounds_failed, st.outages, st.reseeds, st.pairs_sent,
		st.pairs_applied, st.packets_merged, st.pending_pairs, st.pending_packets,
		st.last_round_ns / 1000, st.max_round_ns / 1000,
		st.last_ok_ns ? (uint64_t)((now - st.last_ok_ns) / XF_NSEC_PER_MSEC) : UINT64_MAX,
		st.others, s->load.pps, s->load.util_permille, st.share_dsts, st.share_failures);
}

static void write_all(FILE *f, const struct px_state *s)
{
	uint64_t pk[XPRO_XDP_NSTATS], by[XPRO_XDP_NSTATS];
	const char *xdp[XPRO_XDP_NSTATS];
	struct xf_engine_stats es;

	for (int k = 0; k < XPRO_XDP_NSTATS; k++)
		xdp[k] = xpro_xdp_stat_name(k);
	fprintf(f, "{\"iface\":\"%s\",\"port\":%u,\"uptime_ms\":%" PRIu64 ",\"workers\":[",
		s->cfg.ifname, s->cfg.port,
		(uint64_t)((xf_now_ns() - s->started_ns) / XF_NSEC_PER_MSEC));
	for (int i = 0; i < s->nopen; i++) {
		if (i)
			fputc(',', f);
		write_worker(f, s, i);
	}
	fputs("],", f);
	if (s->xdp.skel && !px_xdp_counters(&s->xdp, pk, by))
		write_u64s(f, "xdp", pk, xdp, XPRO_XDP_NSTATS);
	else
		fputs("\"xdp\":null", f);
	xf_engine_stats(s->env.engine, &es);
	fprintf(f,
		",\"engine\":{\"pairs\":%" PRIu64 ",\"dsts\":%" PRIu64 ",\"devs\":%" PRIu64
		",\"bytes_records\":%" PRIu64 ",\"bytes_tables\":%" PRIu64
		",\"alloc_bytes\":%" PRIu64 ",\"allocator\":\"%s\",\"reclaimed\":%" PRIu64
		"},\"devices\":%zu,\"neighbours\":%zu,\"flags_expired\":%" PRIu64,
		es.pairs, es.dsts, es.devs, es.bytes_records, es.bytes_tables, es.alloc_bytes,
		es.allocator, s->reclaimed, tun_devtab_count(s->env.devtab), dp_nh_count(s->env.nh),
		s->flags_expired);
	write_sync(f, s);
	fputs("}\n", f);
}

int px_stats_write(const struct px_state *s)
{
	char tmp[300];
	FILE *f;
	int err = 0;

	if (!s->env.engine)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cfg.stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	rcu_read_lock();
	write_all(f, s);
	rcu_read_unlock();
	if (fclose(f))
		err = -errno;
	if (!err && rename(tmp, s->cfg.stats_file))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
