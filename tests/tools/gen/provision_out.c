/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Provision mode: write a provisioning file (docs/protocol.md) for N devices
 * in the testbed's inner range, device index i at 198.18.64.0 + i (/32) or
 * 2001:2:0:40::i (/128), so that a test and its proxy share one file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../flowpay.h"
#include "gen.h"

#define GEN_INNER4_BASE 0xc6124000u /* 198.18.64.0 */
#define GEN_INNER4_SPAN 16384u /* 198.18.64.0/18 */

static int gen_secret(const struct gen_cfg *cfg, uint64_t *state, uint8_t out[16])
{
	if (!cfg->seed)
		return getrandom(out, 16, 0) == 16 ? 0 : -EIO;
	for (int i = 0; i < 2; i++) {
		uint64_t v = fp_mix(state);

		memcpy(out + 8 * i, &v, 8);
	}
	return 0;
}

int gen_provision_write(const struct gen_cfg *cfg)
{
	uint64_t state = cfg->seed;
	FILE *f;
	int rc = 0;

	if (!cfg->v6 && (uint64_t)cfg->dev_first + cfg->devices > GEN_INNER4_SPAN) {
		fprintf(stderr,
			"xpro-gen: --dev-first + --devices must stay within 198.18.64.0/18 "
			"(%u addresses)\n",
			GEN_INNER4_SPAN);
		return -EINVAL;
	}
	f = strcmp(cfg->out, "-") ? fopen(cfg->out, "w") : stdout;
	if (!f) {
		rc = -errno;
		fprintf(stderr, "xpro-gen: %s: %s\n", cfg->out, strerror(-rc));
		return rc;
	}
	fprintf(f, "# xpro-gen --mode=provision: %u devices%s\n# index  secret  prefix  state\n",
		cfg->devices, cfg->seed ? " (deterministic secrets, --seed)" : "");
	for (uint32_t i = 0; i < cfg->devices && !rc; i++) {
		uint32_t idx = cfg->dev_first + i, a = GEN_INNER4_BASE + idx;
		const char *state_s =
			cfg->inactive_last && i + 1 == cfg->devices ? "inactive" : "active";
		uint8_t s[16];

		rc = gen_secret(cfg, &state, s);
		fprintf(f, "%u ", idx);
		for (int k = 0; k < 16; k++)
			fprintf(f, "%02x", s[k]);
		if (cfg->v6)
			fprintf(f, " 2001:2:0:40::%x:%x/128 %s\n", idx >> 16, idx & 0xffff,
				state_s);
		else
			fprintf(f, " %u.%u.%u.%u/32 %s\n", a >> 24, (a >> 16) & 0xff,
				(a >> 8) & 0xff, a & 0xff, state_s);
	}
	if (fflush(f) && !rc)
		rc = -errno;
	if (f != stdout && fclose(f) && !rc)
		rc = -errno;
	if (rc)
		fprintf(stderr, "xpro-gen: writing %s: %s\n", cfg->out, strerror(-rc));
	return rc;
}
