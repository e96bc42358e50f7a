/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The status file: JSON, written to a temporary file and renamed into place. */
#include <stdio.h>
#include <string.h>

#include "modem.h"

static const char *const pstate[] = { "unknown", "up", "down" };

int xm_status_write(const struct xm_state *s)
{
	const struct mfw_ctx *c = &s->ctx;
	char tmp[300], a[64];
	uint32_t rej = 0;
	int cur = mfw_current(c);
	unsigned first = s->nsw > XM_SWITCH_LOG ? s->nsw - XM_SWITCH_LOG : 0;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->cfg.status_file);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	for (int i = 1; i < MFW_REJ_N; i++)
		rej += c->st.rej[i];
	if (cur >= 0)
		xm_addr_str(&s->px[cur].addr, a, sizeof(a));
	fprintf(f, "{\"dev\": %u, \"epoch\": %u, \"current\": ", s->cfg.dev, c->epoch);
	if (cur >= 0)
		fprintf(f, "\"%s\", \"current_index\": %d", a, cur);
	else
		fprintf(f, "null, \"current_index\": -1");
	fprintf(f,
		", \"switches\": %u, \"sent\": %u, \"send_errors\": %u, \"probes\": %u, "
		"\"replies\": %u, \"overloads\": %u, \"tun_rx\": %llu, \"no_proxy\": %llu, "
		"\"too_big\": %llu, \"link_local\": %llu, \"rejected\": %u, \"rej\": {",
		c->st.switches, c->st.data_sent, c->st.send_errors, c->st.probes, c->st.replies,
		c->st.overloads, (unsigned long long)s->tun_rx, (unsigned long long)s->no_proxy,
		(unsigned long long)s->too_big, (unsigned long long)s->link_local, rej);
	for (int i = 1; i < MFW_REJ_N; i++)
		fprintf(f, "%s\"%s\": %u", i > 1 ? ", " : "", mfw_rej_name(-i), c->st.rej[i]);
	fprintf(f, "}, \"proxies\": [");
	for (int i = 0; i < c->npx; i++) {
		const struct mfw_proxy *p = &s->px[i];

		xm_addr_str(&p->addr, a, sizeof(a));
		fprintf(f,
			"%s{\"addr\": \"%s\", \"state\": \"%s\", \"load\": %u, \"enc_ok\": %s, "
			"\"unavail\": %s, \"misses\": %u, \"rtt_ms\": %u}",
			i ? ", " : "", a, p->state < 3 ? pstate[p->state] : "?", p->load,
			p->flags & MFW_PF_ENC_OK ? "true" : "false",
			p->flags & MFW_PF_UNAVAIL ? "true" : "false", p->misses, p->rtt_ms);
	}
	fprintf(f, "], \"switch_log\": [");
	for (unsigned i = first; i < s->nsw; i++) {
		const struct xm_switch *w = &s->sw[i % XM_SWITCH_LOG];

		fprintf(f, "%s{\"at_ms\": %llu, \"from\": %d, \"to\": %d}", i != first ? ", " : "",
			(unsigned long long)w->at_ms, w->from, w->to);
	}
	fprintf(f, "]}\n");
	if (fclose(f))
		return -1;
	return rename(tmp, s->cfg.status_file);
}
