/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --help and docs/config.md, both printed from the key table (opts.c) and
 * the defaults, so that neither can drift from what the parser does.
 * test_opts checks that docs/config.md is exactly what this prints.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "control/man.h"
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

/* --- manual pages and the example file ---------------------------------------- */

static const char man_description[] =
	"xpro-proxy receives the tunnel of a fleet of IoT devices on one interface: an XDP\n"
	"program steers tunnel datagrams to AF_XDP sockets, one per RX queue, and drops pairs\n"
	"already flagged; worker threads authenticate every packet with the keys of the\n"
	"provisioning file, run Algorithm 2 (per (device, destination) and per destination\n"
	"rates), and forward the decapsulated packet out of the same interface (the proxy is\n"
	"one-armed), or drop it and flag the pair. With a Redis master (or a Redis Cluster)\n"
	"every proxy of the fleet shares its per-destination counters each period, so that the\n"
	"limits hold for the fleet, not for one proxy.\n"
	"\n"
	"Every option is also a key of the configuration file (xpro-proxy.conf(5)); the\n"
	"command line overrides the file. Keys marked [SIGHUP] take a new value on reload.\n";

static const char man_signals[] =
	"SIGHUP re-reads the configuration file and the provisioning file; a refused file\n"
	"changes nothing and is logged with the reason (xproctl reload reports it too).\n"
	"SIGTERM and SIGINT stop the workers, detach the XDP program and exit 0. After a crash\n"
	"(SIGKILL) the XDP program stays attached: the next start on the same interface finds\n"
	"it, replaces it atomically and keeps its pinned maps (the drop-map survives); a\n"
	"program that is not xpro-proxy's, or a live proxy on the interface, is refused.\n";

static const char man_exit[] =
	"0 after SIGTERM or SIGINT, and after --help; 1 when start-up fails (the message\n"
	"names what: interface, provisioning file line, XDP attach, Redis); 2 for a bad\n"
	"option or configuration value.\n";

static const char man_caps[] =
	"Run as root, or with CAP_NET_ADMIN (XDP, routes), CAP_NET_RAW (AF_XDP), CAP_BPF and\n"
	"CAP_PERFMON (or CAP_SYS_ADMIN on kernels without them), CAP_IPC_LOCK (the UMEM)\n"
	"and a locked-memory limit large enough for the UMEM (LimitMEMLOCK=infinity in\n"
	"the systemd unit xpro-proxy@.service).\n";

static const char man_files[] =
	"/etc/xpro/proxy.conf, /etc/xpro/IFACE.conf: configuration (the unit reads the\n"
	"latter).\n"
	"/etc/xpro/devices.conf: the provisioning file, one device per line: index, secret\n"
	"(32 hex digits), allowed inner source prefix, optional state; keep it mode 0600.\n"
	"/run/xpro/IFACE.sock: the control socket xproctl(8) talks to.\n"
	"/sys/fs/bpf/xpro/IFACE: the pinned maps.\n";

static const char man_file_format[] =
	"One key = value per line; blanks around the key and the value are ignored; # at the\n"
	"start of a line, or after a blank or =, starts a comment; blank lines are ignored.\n"
	"Values are not quoted; numbers are decimal; yes/no keys take yes or no (or true and\n"
	"false, on and off, 1 and 0).\n"
	"\n"
	"An unknown key, a key set twice, and a command-line-only key are errors; errors name\n"
	"the file, the line and the key and quote the bad value, and nothing is applied when\n"
	"there is any error. Precedence: the defaults, then the file, then the command line.\n"
	"\n"
	"SIGHUP re-reads the same file and applies the command line over it again; if only keys\n"
	"marked SIGHUP changed, they take effect, otherwise the proxy logs the key that needs a\n"
	"restart and keeps running as it was. Only iface and provision are required.\n";

/* One key as .TP: the option or key, then its help, bounds and default. */
static void man_key(FILE *f, const struct px_opt *o, const struct px_config *d, bool as_file)
{
	char b[96], def[80], line[256];

	fputs(".TP\n", f);
	if (as_file)
		fputs("\\fB", f);
	else if (o->short_name)
		fprintf(f, "\\fB\\-%c\\fR, \\fB\\-\\-", o->short_name);
	else
		fputs("\\fB\\-\\-", f);
	man_inline(f, o->name);
	fputs("\\fR", f);
	if (o->arg && !as_file) {
		fputs(" \\fI", f);
		man_inline(f, o->arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	man_text(f, o->help);
	bounds(o, b, sizeof(b));
	default_text(o, d, def, sizeof(def));
	if (o->type == PX_OT_CMD || o->type == PX_OT_VERB)
		snprintf(line, sizeof(line), "%s", "");
	else
		snprintf(line, sizeof(line), "%s%s%s; %s; %s%s.", type_name(o),
			 o->unit && o->unit[0] ? ", " : "", o->unit ? o->unit : "", b,
			 strcmp(def, "required") ? "default " : "", def[0] ? def : "none");
	if (line[0]) {
		fputs(".br\n", f);
		man_text(f, line);
	}
	if (o->flags & PX_OPT_RUNTIME)
		fputs(".br\n[SIGHUP]\n", f);
	else if (o->flags & PX_OPT_CLI && !as_file)
		fputs(".br\n(command line only)\n", f);
}

void px_opts_man(FILE *f, int section)
{
	struct px_config d;

	px_config_defaults(&d);
	if (section == 8) {
		man_head(f, "xpro-proxy", 8,
			 "the X-Pro proxy: XDP and AF_XDP filter against IoT botnets");
		man_section(f, "SYNOPSIS");
		fputs(".nf\n\\fBxpro-proxy\\fR \\-i \\fIIFACE\\fR \\-P \\fIFILE\\fR [\\fIoptions\\fR]\n"
		      "\\fBxpro-proxy\\fR \\-C \\fIFILE\\fR [\\fIoptions\\fR]\n.fi\n",
		      f);
		man_section(f, "DESCRIPTION");
		man_text(f, man_description);
		man_section(f, "OPTIONS");
		for (size_t i = 0; i < px_nopts; i++)
			man_key(f, &px_opts[i], &d, false);
		man_section(f, "SIGNALS");
		man_text(f, man_signals);
		man_section(f, "EXIT STATUS");
		man_text(f, man_exit);
		man_section(f, "PRIVILEGES");
		man_text(f, man_caps);
		man_section(f, "FILES");
		man_text(f, man_files);
		man_section(f, "SEE ALSO");
		fputs("xpro-proxy.conf(5), xproctl(8), xpro-modem(8), redis-server(1)\n", f);
		return;
	}
	man_head(f, "xpro-proxy.conf", 5, "xpro-proxy configuration file");
	man_section(f, "DESCRIPTION");
	man_text(f, man_file_format);
	man_section(f, "KEYS");
	for (size_t i = 0; i < px_nopts; i++)
		if (!(px_opts[i].flags & PX_OPT_CLI))
			man_key(f, &px_opts[i], &d, true);
	man_section(f, "EXAMPLE");
	fputs(".nf\n", f);
	man_line(f, "iface = eth0");
	man_line(f, "provision = /etc/xpro/devices.conf");
	man_line(f, "tf1 = 100        # packets/s per (device, destination)");
	man_line(f, "tf2 = 10000      # packets/s per destination, over the fleet");
	man_line(f, "redis = [::1]:6379");
	fputs(".fi\n", f);
	man_section(f, "SEE ALSO");
	fputs("xpro-proxy(8), xproctl(8)\n", f);
}

void px_opts_example(FILE *f)
{
	struct px_config d;

	px_config_defaults(&d);
	fputs("# xpro-proxy configuration (xpro-proxy.conf(5)), printed by\n"
	      "# `xpro-proxy --help-config-example`: every key at its default, commented out.\n"
	      "# iface and provision are required; the systemd unit xpro-proxy@IFACE reads\n"
	      "# /etc/xpro/IFACE.conf and passes -i IFACE itself.\n",
	      f);
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char def[80];

		if (o->flags & PX_OPT_CLI)
			continue;
		default_text(o, &d, def, sizeof(def));
		fprintf(f, "\n# %s%s\n", o->help, o->flags & PX_OPT_RUNTIME ? " [SIGHUP]" : "");
		if (!strcmp(o->name, "provision"))
			fprintf(f, "provision = /etc/xpro/devices.conf\n");
		else if (o->def_text) /* a description, not a value */
			fprintf(f, "# (default: %s)\n#%s =\n", def, o->name);
		else
			fprintf(f, "#%s = %s\n", o->name, def);
	}
}
