/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for xpro-proxy's configuration-file parser: any bytes
 * either fail with one printable message naming the file and line, or parse
 * into keys that the filter engine accepts and that print back to a file
 * which parses to the same keys.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/proxy/config.h"

#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
	if (strncmp(err, NAME ":", sizeof(NAME)))
		abort();
	for (const char *p = err; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

/* Every key that differs from its default, as "key = value" lines. */
static size_t print_back(const struct px_config *c, char *text, size_t room)
{
	struct px_config d;
	size_t off = 0;

	px_config_defaults(&d);
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char val[600];

		if ((o->flags & PX_OPT_CLI) || px_opt_equal(o, c, &d))
			continue;
		px_opt_format(o, c, val, sizeof(val));
		off += (size_t)snprintf(text + off, room - off, "%s = %s\n", o->name, val);
		if (off >= room)
			abort();
	}
	return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[PX_OPTS_MAX * 700];
	struct px_config a, b;
	char err[512];
	size_t len;
	int rc;

	px_config_defaults(&a);
	err[0] = '\0';
	rc = px_config_parse_text(NAME, (const char *)data, size, &a, err, sizeof(err));
	if (rc) {
		if (rc != -EINVAL)
			abort();
		check_message(err);
		return 0;
	}
	/* The table holds the engine's bounds: whatever parses, the engine takes. */
	if (xf_params_validate(&a.params, NULL, 0))
		abort();
	len = print_back(&a, text, sizeof(text));
	px_config_defaults(&b);
	if (px_config_parse_text(NAME, text, len, &b, err, sizeof(err)))
		abort();
	for (size_t i = 0; i < px_nopts; i++)
		if (!(px_opts[i].flags & PX_OPT_CLI) && !px_opt_equal(&px_opts[i], &a, &b))
			abort();
	return 0;
}
