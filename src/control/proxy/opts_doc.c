/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --help and docs/config.md, both printed from the key table (opts.c) and
 * the defaults, so that neither can drift from what the parser does.
 * test_opts checks that docs/config.md is exactly what this prints.
 */
#include <inttypes.h>
#include <stdio.h>

#include "control/proxy/config.h"

static const char *type_name(const struct px_opt *o)
{
	switch (o->type) {
	case PX_OT_STR:
	case PX_OT_CMD:
		return "string";
	case PX_OT_FLAG:
		return "yes/no";
	case PX_OT_LIST:
		return "list";
	case PX_OT_ENUM:
		return "choice";
	case PX_OT_VERB:
		return "count";
	default:
		return "integer";
	}
}

static void bounds(const struct px_opt *o, char *buf, size_t len)
{
	size_t off = 0;

	switch (o->type) {
	case PX_OT_STR:
	case PX_OT_CMD:
		snprintf(buf, len, "%zu bytes%s", o->size ? o->size - 1 : 0,
			 o->accept ? ", [A-Za-z0-9._-]" : "");
		if (!o->size)
			snprintf(buf, len, "-");
		return;
	case PX_OT_FLAG:
		snprintf(buf, len, "yes, no");
		return;
	case PX_OT_ENUM:
		buf[0] = '\0';
		for (int i = 0; o->enums[i].name && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
						o->enums[i].name);
		return;
	case PX_OT_LIST:
		snprintf(buf, len, "%" PRIu64 "..%" PRIu64 ", at most %zu", o->min, o->max,
			 o->size / sizeof(int));
		return;
	default:
		snprintf(buf, len, "%" PRIu64 "..%" PRIu64, o->min, o->max);
		return;
	}
}

static void default_text(const struct px_opt *o, const struct px_config *d, char *buf, size_t len)
{
	if (o->def_text)
		snprintf(buf, len, "%s", o->def_text);
	else if (o->type == PX_OT_CMD)
		snprintf(buf, len, "-");
	else
		px_opt_format(o, d, buf, len);
}

void px_opts_usage(FILE *f)
{
	struct px_config d;

	px_config_defaults(&d);
	fprintf(f, "Usage: xpro-proxy -i IFACE -P FILE [options]\n"
		   "       xpro-proxy -C FILE [options]\n\n"
		   "The X-Pro proxy: authenticates tunnelled packets from IoT devices, filters\n"
		   "them (Algorithm 2) and forwards the rest.  Every option is also a key of\n"
		   "the configuration file (--config); the command line overrides the file.\n"
		   "[SIGHUP]: a SIGHUP re-reads the file and applies a new value.\n"
		   "docs/config.md (--help-config-md) has the whole table.  Options:\n");
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char lhs[64], def[80];

		snprintf(lhs, sizeof(lhs), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
			 o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->name,
			 o->arg ? " " : "", o->arg ? o->arg : "");
		default_text(o, &d, def, sizeof(def));
		fprintf(f, "  %-30s %s", lhs, o->help);
		if (o->type == PX_OT_ENUM) {
			char choices[96];

			bounds(o, choices, sizeof(choices));
			fprintf(f, ": %s", choices);
		}
		if (o->type != PX_OT_CMD && o->type != PX_OT_VERB && o->type != PX_OT_FLAG)
			fprintf(f, " (%s)", def);
		fprintf(f, "%s\n", o->flags & PX_OPT_RUNTIME ? " [SIGHUP]" : "");
	}
}

void px_opts_markdown(FILE *f)
{
	struct px_config d;

	px_config_defaults(&d);
	fputs("# xpro-proxy configuration\n"
	      "\n"
	      "<!-- Printed by `xpro-proxy --help-config-md` from the key table in\n"
	      "src/control/proxy/opts.c; `make config-doc` rewrites this file and\n"
	      "tests/unit/test_opts.c fails when it differs. Do not edit by hand. -->\n"
	      "\n"
	      "Every key is a long command-line option (`--tf2 5000`, some also short: `-p 7447`)\n"
	      "and a key of the configuration file named by `--config FILE` (`-C FILE`).\n"
	      "\n"
	      "- **File format**: one `key = value` per line; blanks around the key and the\n"
	      "  value are ignored; `#` at the start of a line, or after a blank or `=`,\n"
	      "  starts a comment (so a value may contain `#`, but not at its start or\n"
	      "  after a blank); blank lines are ignored. Values are not quoted. Numbers\n"
	      "  are decimal.\n"
	      "- **Errors** name the file, the line and the key and quote the bad value\n"
	      "  (`proxy.conf:7: tf2: bad value 'abc' (not a number)`); on the command line,\n"
	      "  the option (`--tf2: bad value '0' (must be 1..1000000000)`). An unknown key,\n"
	      "  a key set twice in one file, and a command-line-only key in a file are\n"
	      "  errors; nothing is applied when there is any error.\n"
	      "- **Precedence**: defaults, then the file, then the command line, whatever the\n"
	      "  order of the options (`-C` may come last). Repeated on the command line, the\n"
	      "  last value wins; `-v` counts and replaces the file's `verbose`.\n"
	      "- **Yes/no keys** take `yes`/`no` (or `true`/`false`, `on`/`off`, `1`/`0`); on\n"
	      "  the command line `--busy-poll` alone means yes, `--busy-poll=no` no.\n"
	      "- **SIGHUP** re-reads the same file and applies the command line over it\n"
	      "  again. If the result is valid and only keys marked *yes* in the SIGHUP column\n"
	      "  changed, those take effect; otherwise the proxy logs why (naming the key)\n"
	      "  and keeps running with its current configuration. SIGHUP also re-reads the\n"
	      "  provisioning file.\n"
	      "- **Defaults**: only `iface` and `provision` are required; the proxy then runs\n"
	      "  one worker per RX queue of the interface, unpinned, zero-copy if the driver\n"
	      "  allows. Threshold bounds and defaults are the filter engine's; their reasons\n"
	      "  are in docs/algorithm.md.\n"
	      "\n"
	      "| key | short | type | unit | bounds | default | SIGHUP | meaning |\n"
	      "|---|---|---|---|---|---|---|---|\n",
	      f);
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char b[96], def[80], sh[8] = "";

		if (o->short_name)
			snprintf(sh, sizeof(sh), "`-%c`", o->short_name);
		bounds(o, b, sizeof(b));
		default_text(o, &d, def, sizeof(def));
		fprintf(f, "| `%s` | %s | %s | %s | %s | %s | %s | %s%s |\n", o->name, sh,
			type_name(o), o->unit && o->unit[0] ? o->unit : "", b,
			def[0] ? def : "none",
			o->flags & PX_OPT_CLI	    ? "-"
			: o->flags & PX_OPT_RUNTIME ? "yes"
						    : "no",
			o->help, o->flags & PX_OPT_CLI ? " (command line only)" : "");
	}
}
