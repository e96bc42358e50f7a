/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy's configuration: one table of keys (opts.c) that drives the
 * command line, the configuration file, --help, docs/config.md and what a
 * SIGHUP may change.  Parsing fills a struct px_config and validates it;
 * nothing here touches the running proxy.  Thread: main or the control
 * thread (getopt is not reentrant); never a worker.
 */
#ifndef XPRO_PROXY_CONFIG_H
#define XPRO_PROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control/proxy/proxy.h"

/* --- the table (opts.c) -------------------------------------------------- */

enum px_opt_type {
	PX_OT_STR, /* char[size]; optional accept set */
	PX_OT_U16,
	PX_OT_U32,
	PX_OT_U64,
	PX_OT_FLAG, /* bool: --name or --name=yes|no; yes|no|true|false|on|off|1|0 in a file */
	PX_OT_LIST, /* int[]: "0-3,5"; count at cnt_off */
	PX_OT_ENUM, /* int-sized enum: one of enums[] */
	PX_OT_VERB, /* int: -v counts on the command line; a number in a file */
	PX_OT_CMD, /* command-line only action: --config, --help, --help-config-md */
};

#define PX_OPT_RUNTIME 0x1 /* a SIGHUP may change it */
#define PX_OPT_CLI 0x2 /* command line only: not a file key, not compared on reload */
#define PX_OPT_SECRET 0x4 /* never quoted in messages */
#define PX_OPT_REQUIRED 0x8

struct px_opt_enum {
	const char *name;
	int value;
};

struct px_opt {
	const char *name; /* long option and file key */
	int short_name; /* 0: none */
	enum px_opt_type type;
	size_t off, size; /* into struct px_config */
	size_t cnt_off; /* PX_OT_LIST: the int count */
	uint64_t min, max; /* numbers: bounds; lists: highest element */
	const struct px_opt_enum *enums; /* PX_OT_ENUM, NULL-terminated */
	const char *accept; /* PX_OT_STR: allowed characters, or NULL for any */
	const char *unit, *arg, *help;
	const char *def_text; /* default when not a plain value ("all RX queues") */
	unsigned flags;
};

extern const struct px_opt px_opts[];
extern const size_t px_nopts;
#define PX_OPTS_MAX 64

/* The key named name (no dashes in front), or NULL. */
const struct px_opt *px_opt_find(const char *name);

/* Every key at its default. */
void px_config_defaults(struct px_config *c);

/*
 * Parse val into o's field of c.  Returns 0, or -EINVAL with the reason
 * ("not a number", "must be 1..65535") in why; c is unchanged on error.
 */
int px_opt_set(const struct px_opt *o, const char *val, struct px_config *c, char *why,
	       size_t whylen);
/* o's value in c as the text a file would hold (lists canonical, flags yes/no). */
void px_opt_format(const struct px_opt *o, const struct px_config *c, char *buf, size_t len);
bool px_opt_equal(const struct px_opt *o, const struct px_config *a, const struct px_config *b);
void px_opt_copy(const struct px_opt *o, struct px_config *dst, const struct px_config *src);

/* s as a printable, bounded quote for messages (at most 48 bytes, then "..."). */
const char *px_quote(char *buf, size_t size, const char *s, size_t len);
#define PX_QUOTE_SIZE 56

/* --help (opts_doc.c). */
void px_opts_usage(FILE *f);
/* docs/config.md, exactly as checked in (a unit test compares). */
void px_opts_markdown(FILE *f);
/* xpro-proxy(8) (section 8) or xpro-proxy.conf(5) (section 5), in man(7) roff. */
void px_opts_man(FILE *f, int section);
/* A configuration file with every key but the command-line ones, commented out at its default. */
void px_opts_example(FILE *f);

/* --- parsing (config.c) --------------------------------------------------- */

/*
 * Apply a configuration file's text to c (over what c holds).  name is used
 * in messages: "name:LINE: key: bad value 'v' (reason)".  Unknown keys,
 * command-line-only keys and a key set twice are errors.  Returns 0 or
 * -EINVAL; c may be partly changed on error (callers parse into a scratch
 * config).
 */
int px_config_parse_text(const char *name, const char *text, size_t len, struct px_config *c,
			 char *err, size_t errlen);

/*
 * The whole parse: defaults, then the file named by --config, then every
 * other command-line option (whatever the order on the command line), then
 * cross-key checks.  --help and --help-config-md print to out and return 1.
 * Returns 0, 1 or -EINVAL/-errno with the message in err (no "xpro-proxy: "
 * prefix).  argv must outlive cfg: a reload parses it again.
 */
int px_config_parse(int argc, char **argv, struct px_config *cfg, FILE *out, char *err,
		    size_t errlen);

/*
 * SIGHUP: re-read cur's configuration file, apply cur's command line over it
 * again, validate, and compare with cur.  cur must be the configuration as
 * parsed (or as the last successful reload returned it), before start-up
 * filled anything in (e.g. the queue list).  Returns 0 with next filled, or
 * -EINVAL (parse error) / -EPERM (a key that cannot change at run time
 * changed: "iface: cannot change at run time ('eth0' -> 'eth1'); restart
 * xpro-proxy to apply") with err set.  Thread: the control thread.
 */
int px_config_reload(const struct px_config *cur, struct px_config *next, char *err, size_t errlen);

/* Copy every runtime key (PX_OPT_RUNTIME) from next into live; nothing else. */
void px_config_apply_runtime(struct px_config *live, const struct px_config *next);

/*
 * "tf2 10000 -> 5000, hold-ms 10000 -> 2000" for every key that differs
 * between a and b (secrets named, not shown); "" when none.  Returns the count.
 */
int px_config_changes(const struct px_config *a, const struct px_config *b, char *buf, size_t len);

/*
 * The configuration side of a SIGHUP in one call: reload over given (the
 * configuration as parsed, kept apart from live, which start-up fills in),
 * copy the runtime keys into live, and make given the new configuration.
 * Returns how many keys changed with "tf2 10000 -> 5000, ..." in msg, or
 * -EINVAL/-EPERM/-errno with the reason in msg and nothing changed.  The
 * caller then pushes live's runtime keys to where they are used
 * (xf_engine_set_params(), hold time, log level, sync period).
 */
int px_config_hup(struct px_config *given, struct px_config *live, char *msg, size_t msglen);

/* The level px_log() filters at: --log-level plus one per -v. */
static inline int px_config_log_level(const struct px_config *c)
{
	return c->log_level + c->verbose;
}

#endif
