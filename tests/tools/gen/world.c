/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generator's world: the devices of the provisioning file (parsed by the
 * proxy's own parser, so keys match), their keys for the run's epoch, the
 * inner destinations, the proxy's address and the flows that join them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "xpro/addr_text.h"
#include "control/provision.h"
#include "gen.h"

int gen_parse_hostport(const char *s, uint8_t addr[16], uint8_t *ver, uint16_t *port)
{
	uint16_t p;
	int v;

	/* "[v6]:port", "v4:port", "v4", "v6" (a bare v6 has several colons). */
	memset(addr, 0, 16);
	v = xpro_hostport_parse(s, addr, &p, XPRO_HP_PORT_OPT);
	if (!v)
		return -EINVAL;
	*ver = (uint8_t)v;
	if (port && p)
		*port = p;
	return 0;
}

/* A device's inner source: the prefix itself if it is one host, else the prefix + 1. */
static void gen_dev_addr(const struct tun_dev_conf *c, uint8_t addr[16])
{
	memcpy(addr, c->prefix, 16);
	if (c->plen < 128)
		addr[15] |= 1;
}

static int gen_load_devices(struct gen_world *w)
{
	const struct gen_cfg *cfg = w->cfg;
	struct tun_dev_conf *conf = NULL;
	char err[256];
	size_t n = 0, k = 0;
	int rc;

	rc = prov_load_file(cfg->provision, &conf, &n, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "xpro-gen: %s\n", err);
		return rc;
	}
	w->devs = calloc(n ? n : 1, sizeof(*w->devs));
	if (!w->devs) {
		free(conf);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tun_dev_conf *c = &conf[i];
		struct gen_dev *d = &w->devs[k];

		if (c->dev < cfg->dev_first ||
		    (cfg->dev_count && c->dev - cfg->dev_first >= cfg->dev_count))
			continue;
		d->idx = c->dev;
		d->active = c->active;
		d->ver = c->ipver;
		d->seq = cfg->seq_start;
		gen_dev_addr(c, d->addr);
		xpro_derive_ik(c->secret, w->epoch, d->ik);
		xpro_derive_ik(c->secret, GEN_STALE_EPOCH, d->ik_stale);
		k++;
	}
	free(conf);
	/* Inactive devices go to the end: flows use the active ones, bad mode the others. */
	for (size_t i = 0, j = k; i < j;) {
		if (w->devs[i].active) {
			i++;
			continue;
		}
		struct gen_dev t = w->devs[i];

		memmove(&w->devs[i], &w->devs[i + 1], (k - i - 1) * sizeof(t));
		w->devs[k - 1] = t;
		j--;
	}
	w->ndevs = 0;
	while (w->ndevs < k && w->devs[w->ndevs].active)
		w->ndevs++;
	w->inactive = w->ndevs < k ? &w->devs[w->ndevs] : NULL;
	if (!w->ndevs) {
		fprintf(stderr, "xpro-gen: no active device in %s with index >= %u%s\n",
			cfg->provision, cfg->dev_first,
			cfg->dev_count ? " (within --dev-count)" : "");
		return -ENOENT;
	}
	return 0;
}

static int gen_parse_dsts(struct gen_world *w)
{
	char *list = strdup(w->cfg->dsts), *save = NULL, *tok;
	int rc = 0;

	if (!list)
		return -ENOMEM;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct gen_dst *d = &w->dsts[w->ndsts];

		d->port = 9000;
		if (w->ndsts == GEN_MAX_DSTS ||
		    gen_parse_hostport(tok, d->addr, &d->ver, &d->port)) {
			fprintf(stderr, "xpro-gen: --dst: bad destination '%s'\n", tok);
			rc = -EINVAL;
			break;
		}
		w->ndsts++;
	}
	free(list);
	if (!rc && !w->ndsts) {
		fprintf(stderr, "xpro-gen: --dst: no destination\n");
		rc = -EINVAL;
	}
	return rc;
}

/*
 * Flow f: device f % ndevs, and the (f / ndevs)-th destination of that
 * device's IP version, so F flows over D devices and N destinations cover
 * every pair once before any repeats.
 */
static int gen_make_flows(struct gen_world *w)
{
	w->nflows = w->cfg->flows;
	w->flows = calloc(w->nflows, sizeof(*w->flows));
	if (!w->flows)
		return -ENOMEM;
	for (size_t f = 0; f < w->nflows; f++) {
		struct gen_dev *d = &w->devs[f % w->ndevs];
		size_t match[GEN_MAX_DSTS], nm = 0;

		for (size_t i = 0; i < w->ndsts; i++)
			if (w->dsts[i].ver == d->ver)
				match[nm++] = i;
		if (!nm) {
			fprintf(stderr, "xpro-gen: device %u sends IPv%u, but no --dst is IPv%u\n",
				d->idx, d->ver, d->ver);
			return -EINVAL;
		}
		w->flows[f] = (struct gen_flow){
			.id = w->cfg->flow_base + (uint32_t)f,
			.dev = d,
			.dst = &w->dsts[match[(f / w->ndevs) % nm]],
		};
	}
	return 0;
}

int gen_world_init(struct gen_world *w, const struct gen_cfg *cfg)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->epoch = (uint32_t)cfg->epoch;
	w->proxy_port = XPRO_TUN_PORT_DEFAULT;
	if (gen_parse_hostport(cfg->proxy, w->proxy, &w->proxy_ver, &w->proxy_port)) {
		fprintf(stderr, "xpro-gen: --proxy: bad address '%s'\n", cfg->proxy);
		return -EINVAL;
	}
	rc = gen_parse_dsts(w);
	if (!rc)
		rc = gen_load_devices(w);
	if (!rc)
		rc = gen_make_flows(w);
	if (rc)
		gen_world_free(w);
	return rc;
}

void gen_world_free(struct gen_world *w)
{
	free(w->devs);
	free(w->flows);
	w->devs = NULL;
	w->flows = NULL;
}
