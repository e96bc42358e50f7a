/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's closing summary: what the replay showed, in prose wrapped to the terminal; for
 * the built-in scenario, what each check did to each kind of sender and why.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "replay.h"

#define XR_WRAP 96 /* column at which the summary is wrapped */

static const char *const xr_reason[XF_NVERDICTS] = {
	[XF_DROP_PAIR] = "a device above T_F1 towards one destination",
	[XF_DROP_DST] = "a destination above T_F2 from all devices together",
	[XF_DROP_DEVCAP] = "a device already at its limit of live destinations",
	[XF_DROP_FULL] = "the engine at its limit of live pairs",
};

/* Print text, wrapped at XR_WRAP columns. */
static void xr_wrap(const char *p)
{
	while (*p) {
		const char *brk = NULL;
		int n = 0;

		while (p[n] && n < XR_WRAP) {
			if (p[n] == ' ')
				brk = p + n;
			n++;
		}
		if (!p[n]) {
			printf("%s\n", p);
			return;
		}
		if (!brk)
			brk = p + n;
		printf("%.*s\n", (int)(brk - p), p);
		for (p = brk; *p == ' ';)
			p++;
	}
}

/* "first fired at 11.002 s" or "never fired", for a row's first verdict v. */
static const char *xr_fired(const struct xr_row *r, enum xf_verdict v, char *buf, size_t len)
{
	if (!r || r->first[v] == XR_NONE)
		return "never fired";
	snprintf(buf, len, "first fired at %.3f s", xr_s(r->first[v]));
	return buf;
}

static double xr_row_pct(const struct xr_row *r)
{
	return r ? xr_pct(r->phase_pass, r->phase_offered) : 0;
}

/* Per device of r's group, packets per second during the attack: delivered, or offered. */
static double xr_row_pps(const struct xr_run *run, const struct xr_row *r, bool delivered)
{
	if (!r)
		return 0;
	return (double)(delivered ? r->phase_pass : r->phase_offered) / xr_phase_s(run) /
	       run->groups[r->group].devices;
}

static void xr_summary_victim(const struct xr_run *run, FILE *m)
{
	const struct xr_dst *v = &run->dsts[XR_D_VICTIM];
	uint64_t tf2 = run->cfg->params.tf2_pps;
	double rate = xr_dst_rate(run, v);

	fprintf(m,
		"During the attack (%d-%d s) the victim %s received %.0f pkt/s on average against "
		"T_F2 = %" PRIu64 " (%.2f x T_F2); its busiest second, %" PRIu64 "-%" PRIu64
		" s, carried %" PRIu64 " packets, and its last %d seconds %.0f pkt/s. ",
		XR_DEMO_ATTACK_S, XR_DEMO_END_S, xr_demo_dsts[XR_D_VICTIM].addr, rate, tf2,
		rate / (double)tf2, v->peak_sec, v->peak_sec + 1, v->peak_pass, XR_CLOSE_S,
		xr_dst_close_rate(run, v));
	if (v->peak_pass > tf2 + tf2 / 10)
		fprintf(m, "The burst above T_F2 is how the check is defined: it judges the "
			   "destination's average rate since the window of its oldest live pair "
			   "began, and only once that window is longer than T_T3, so a destination "
			   "that was quiet before (or whose window has just begun) first takes a "
			   "burst, then is held to T_F2 on average. ");
}

static void xr_summary_flood(const struct xr_run *run, FILE *m)
{
	const struct xr_row *fl = xr_row_find(run, XR_G_FLOOD, XR_D_VICTIM);
	uint64_t tf1 = run->cfg->params.tf1_pps;
	double got = xr_row_pps(run, fl, true);
	char b[48];

	fprintf(m,
		"The %u flood bots offered %.0f pkt/s each against T_F1 = %" PRIu64 "; the pair "
		"check (DROP_PAIR) %s, %.1f%% of their packets got through, and the engine raised "
		"%" PRIu64 " overload warnings for them. ",
		xr_demo_groups[XR_G_FLOOD].devices, xr_row_pps(run, fl, false), tf1,
		xr_fired(fl, XF_DROP_PAIR, b, sizeof(b)), xr_row_pct(fl),
		fl ? fl->all.warnings : 0);
	if (fl && fl->first[XF_DROP_DST] != XR_NONE && got >= 0.95 * (double)tf1)
		fprintf(m,
			"Yet each still delivered %.0f pkt/s, its full T_F1: packets the "
			"destination check drops do not count against the pair, so a flooder's "
			"many retries fill its T_F1 allowance and the victim's shortfall falls on "
			"the other senders. ",
			got);
}

static void xr_summary_bots(const struct xr_run *run, FILE *m)
{
	const struct xr_row *lr = xr_row_find(run, XR_G_LOWRATE, XR_D_VICTIM);
	const struct xr_row *sc = xr_row_find(run, XR_G_SCAN, XR_D_SCAN);
	double pps = xr_row_pps(run, lr, false);
	char b1[48], b2[48];

	xr_summary_flood(run, m);
	fprintf(m,
		"The %u low-rate bots offered %.0f pkt/s each, %s T_F1, but %.0f pkt/s together; "
		"the destination check (DROP_DST) %s and %.1f%% got through. ",
		xr_demo_groups[XR_G_LOWRATE].devices, pps,
		pps < (double)run->cfg->params.tf1_pps ? "under" : "not under",
		pps * xr_demo_groups[XR_G_LOWRATE].devices,
		xr_fired(lr, XF_DROP_DST, b1, sizeof(b1)), xr_row_pct(lr));
	fprintf(m,
		"The scanner sprayed random addresses; with at most %" PRIu32 " live destinations "
		"per device, DROP_DEVCAP %s, room returning only as idle pairs were reclaimed "
		"T_T1 after their last packet: %.1f%% got through. ",
		run->cfg->limits.max_dsts_per_dev, xr_fired(sc, XF_DROP_DEVCAP, b2, sizeof(b2)),
		xr_row_pct(sc));
}

static void xr_summary_legit(const struct xr_run *run, FILE *m)
{
	double vic = xr_row_pct(xr_row_find(run, XR_G_LEGIT, XR_D_VICTIM));
	double bys = xr_row_pct(xr_row_find(run, XR_G_LEGIT, XR_D_BYSTANDER));
	double svc = xr_row_pct(xr_row_find(run, XR_G_LEGIT, XR_D_SERVICE));

	fprintf(m,
		"Legitimate devices delivered %.1f%% to the bystander, %.1f%% to the IPv6 service "
		"and %.1f%% to the victim during the attack",
		bys, svc, vic);
	if (bys == 100.0 && svc == 100.0 && vic < 100.0)
		fprintf(m, ": other destinations are untouched, while at the victim legitimate "
			   "packets compete with the botnet for the same T_F2.");
	else
		fputc('.', m);
}

static void xr_summary_trace(const struct xr_run *run, FILE *m)
{
	const struct xr_count *t = &run->total;

	fprintf(m, "Replayed ");
	xr_print_volume(m, run);
	fprintf(m, "; the engine delivered %" PRIu64 " (%.1f%%) and dropped %" PRIu64 ".",
		t->verdict[XF_PASS], xr_pct(t->verdict[XF_PASS], t->offered),
		t->offered - t->verdict[XF_PASS]);
	for (int v = XF_PASS + 1; v < XF_NVERDICTS; v++)
		if (t->verdict[v])
			fprintf(m, " %s (%s): %" PRIu64 ", first at %.3f s, %s to %s.",
				xf_verdict_name((enum xf_verdict)v), xr_reason[v], t->verdict[v],
				xr_s(run->first[v]), run->groups[run->first_group[v]].name,
				run->dsts[run->first_dst[v]].name);
	if (t->warnings)
		fprintf(m, " The engine raised %" PRIu64 " overload warnings.", t->warnings);
}

int xr_print_summary(const struct xr_run *run)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return -ENOMEM;
	if (run->demo) {
		xr_summary_victim(run, m);
		xr_summary_bots(run, m);
		xr_summary_legit(run, m);
	} else {
		xr_summary_trace(run, m);
	}
	if (fclose(m)) {
		free(text);
		return -ENOMEM;
	}
	printf("\nSummary\n");
	xr_wrap(text);
	free(text);
	return 0;
}
