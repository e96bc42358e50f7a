/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What xpro-gen sent: one human paragraph, or one JSON object for scripts.
 */
#include <inttypes.h>
#include <string.h>

#include "gen.h"

static double gen_secs(const struct gen_result *r)
{
	return r->end_ns > r->start_ns ? (double)(r->end_ns - r->start_ns) / 1e9 : 0.0;
}

static void gen_report_human(const struct gen_cfg *cfg, const struct gen_result *r, FILE *out)
{
	double s = gen_secs(r);

	if (!strcmp(r->mode, "xdp")) { /* what the program counted */
		fprintf(out, "xpro-gen xdp %s on %s: %" PRIu64 " packets in %.3f s (%.0f pps)\n",
			cfg->action, cfg->ifname, r->sent, s, s > 0 ? (double)r->sent / s : 0.0);
		return;
	}
	fprintf(out,
		"xpro-gen %s: sent %" PRIu64 " packets, %" PRIu64 " bytes in %.3f s (%.0f pps); "
		"errors %" PRIu64 "\n",
		r->mode, r->sent, r->bytes, s, s > 0 ? (double)r->sent / s : 0.0, r->errors);
	fprintf(out,
		"  %zu flows over %zu devices, epoch %" PRIu32 "; per flow %" PRIu64 "..%" PRIu64
		" packets",
		r->nflows, r->ndevs, r->epoch, r->flow_sent_min, r->flow_sent_max);
	if (r->late_max_ns)
		fprintf(out, "; worst lag behind schedule %.0f us", (double)r->late_max_ns / 1e3);
	if (r->if_tx_delta >= 0)
		fprintf(out, "; %s tx_packets +%" PRId64, cfg->ifname, r->if_tx_delta);
	fputc('\n', out);
	if (r->nkinds) {
		fprintf(out, "  valid (each flow's first, replays' originals) %" PRIu64 "\n",
			r->valid);
		for (unsigned i = 0; i < r->nkinds; i++)
			fprintf(out, "  %-13s %" PRIu64 "\n", r->kind_name[i], r->kind_sent[i]);
	}
}

static void gen_report_json(const struct gen_cfg *cfg, const struct gen_result *r, FILE *out)
{
	double s = gen_secs(r);

	if (!strcmp(r->mode, "xdp")) {
		fprintf(out,
			"{\"mode\":\"xdp\",\"action\":\"%s\",\"counted\":%" PRIu64
			",\"duration_s\":%.3f,\"pps\":%.1f}\n",
			cfg->action, r->sent, s, s > 0 ? (double)r->sent / s : 0.0);
		return;
	}
	fprintf(out,
		"{\"mode\":\"%s\",\"sent\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"duration_s\":%.3f,\"pps\":%.1f,\"flows\":%zu,\"devices\":%zu,\"epoch\":%" PRIu32
		",\"flow_sent_min\":%" PRIu64 ",\"flow_sent_max\":%" PRIu64 ",\"late_max_us\":%.1f",
		r->mode, r->sent, r->bytes, r->errors, s, s > 0 ? (double)r->sent / s : 0.0,
		r->nflows, r->ndevs, r->epoch, r->flow_sent_min, r->flow_sent_max,
		(double)r->late_max_ns / 1e3);
	if (r->if_tx_delta >= 0)
		fprintf(out, ",\"if_tx_delta\":%" PRId64, r->if_tx_delta);
	if (r->nkinds) {
		fprintf(out, ",\"valid\":%" PRIu64 ",\"kinds\":{", r->valid);
		for (unsigned i = 0; i < r->nkinds; i++)
			fprintf(out, "%s\"%s\":%" PRIu64, i ? "," : "", r->kind_name[i],
				r->kind_sent[i]);
		fputc('}', out);
	}
	fprintf(out, "}\n");
}

void gen_report(const struct gen_cfg *cfg, const struct gen_result *r, FILE *out)
{
	if (cfg->json)
		gen_report_json(cfg, r, out);
	else
		gen_report_human(cfg, r, out);
}
