/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which proxy to send through.  The device stays where it is while its
 * proxy is usable and at or under T_W; it leaves a proxy that is down,
 * held off by an OVERLOAD, marked unavailable, or (no sooner than dwell_ms
 * after the last switch) above T_W.  It then takes the least-loaded usable
 * proxy at or under T_W - hyst.  The gap between the two watermarks and the
 * dwell time are the hysteresis: a fleet that all left one proxy does not
 * all come back the moment its load dips, and two proxies near T_W do not
 * trade devices back and forth.  It never moves to a lighter proxy merely
 * because it is lighter, for the same reason.
 */
#include "mfw_int.h"

void mfw_event(struct mfw_ctx *c, enum mfw_event_type type, int proxy, int arg)
{
	if (c->plat->event)
		c->plat->event(c->plat->user, type, proxy, arg);
}

int mfw_usable(const struct mfw_ctx *c, const struct mfw_proxy *p, uint64_t now)
{
	(void)c;
	return (p->flags & MFW_PF_KEYED) && p->state != MFW_P_DOWN &&
	       !(p->flags & (MFW_PF_UNAVAIL | MFW_PF_PEER_UNAVAIL)) && now >= p->hold_until_ms;
}

/* Least-loaded usable proxy other than skip with load <= max_load, or -1. */
static int least_loaded(const struct mfw_ctx *c, int skip, unsigned max_load, uint64_t now)
{
	int best = -1;

	for (int i = 0; i < c->npx; i++) {
		const struct mfw_proxy *p = &c->px[i];

		if (i == skip || !mfw_usable(c, p, now) || p->load > max_load)
			continue;
		if (best < 0 || p->load < c->px[best].load)
			best = i;
	}
	return best;
}

void mfw_select(struct mfw_ctx *c, uint64_t now)
{
	const struct mfw_config *cfg = &c->cfg;
	int cur = c->cur, best, cur_ok;

	cur_ok = cur >= 0 && mfw_usable(c, &c->px[cur], now);
	if (cur_ok && (c->px[cur].load <= cfg->t_w || now - c->switched_ms < cfg->dwell_ms))
		return;
	best = least_loaded(c, cur, (unsigned)cfg->t_w - cfg->hyst, now);
	/* Losing the current one: any usable proxy beats none. */
	if (best < 0 && !cur_ok)
		best = least_loaded(c, cur, 0xffffu, now);
	if (best < 0) {
		if (!cur_ok && !c->stranded) {
			c->stranded = 1;
			mfw_event(c, MFW_EV_NO_PROXY, cur, 0);
		}
		return;
	}
	c->stranded = 0;
	c->cur = (int8_t)best;
	c->switched_ms = now;
	c->st.switches++;
	/* Confirm the new one soon: it may have been probed only at the idle rate. */
	if (!(c->px[best].flags & MFW_PF_PROBE_OUT))
		c->px[best].next_probe_ms = now;
	mfw_event(c, MFW_EV_SWITCH, best, cur);
}
