/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where xpro-proxy's configuration comes from: the command line, over the
 * configuration file, over the defaults; the checks that span keys; and a
 * SIGHUP reload that refuses changes a running proxy cannot make.  Parse,
 * validate, then apply: nothing here touches the running proxy.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/proxy/config.h"

#define FILE_MAX (1 << 20) /* bytes: a configuration file is a page or two */
#define VALUE_MAX 512 /* longer than any field */

static int failf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "where: key: bad value 'v' (why)"; where is "--" or "file:line: ". */
static int bad_value(char *err, size_t errlen, const char *where, const struct px_opt *o,
		     const char *val, size_t len, const char *why)
{
	char q[PX_QUOTE_SIZE];

	if (o->flags & PX_OPT_SECRET)
		return failf(err, errlen, "%s%s: bad value (%s; not shown, it is a secret)", where,
			     o->name, why);
	return failf(err, errlen, "%s%s: bad value '%s' (%s)", where, o->name,
		     px_quote(q, sizeof(q), val, len), why);
}

/* --- the configuration file ---------------------------------------------- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static void trim(const char **p, const char **e)
{
	while (*p < *e && is_blank(**p))
		(*p)++;
	while (*e > *p && is_blank((*e)[-1]))
		(*e)--;
}

/*
 * A '#' at the start of a line or after a blank or '=' starts a comment, so a
 * value may hold a '#' (a password) but never begins with one.
 */
static const char *comment_start(const char *p, const char *e)
{
	for (const char *s = p; s < e; s++)
		if (*s == '#' && (s == p || is_blank(s[-1]) || s[-1] == '='))
			return s;
	return e;
}

struct file_ctx {
	const char *name;
	unsigned line;
	unsigned seen[PX_OPTS_MAX]; /* line each key was set on, 0: not yet */
	char *err;
	size_t errlen;
};

static int parse_line(struct file_ctx *f, const char *p, const char *e, struct px_config *c)
{
	const char *eq, *kp = p, *ke, *vp, *ve;
	char where[300], key[64], val[VALUE_MAX], q[PX_QUOTE_SIZE], why[96];
	const struct px_opt *o;
	size_t i;

	snprintf(where, sizeof(where), "%s:%u: ", f->name, f->line);
	if (memchr(p, '\0', (size_t)(e - p)))
		return failf(f->err, f->errlen, "%sa NUL byte in the line", where);
	e = comment_start(p, e);
	trim(&p, &e);
	if (p == e)
		return 0;
	eq = memchr(p, '=', (size_t)(e - p));
	kp = p;
	ke = eq ? eq : e;
	trim(&kp, &ke);
	if (!eq || kp == ke)
		return failf(f->err, f->errlen, "%sexpected 'key = value', got '%s'", where,
			     px_quote(q, sizeof(q), p, (size_t)(e - p)));
	vp = eq + 1;
	ve = e;
	trim(&vp, &ve);
	o = NULL;
	if ((size_t)(ke - kp) < sizeof(key)) {
		memcpy(key, kp, (size_t)(ke - kp));
		key[ke - kp] = '\0';
		o = px_opt_find(key);
	}
	if (!o)
		return failf(f->err, f->errlen, "%sunknown key '%s'", where,
			     px_quote(q, sizeof(q), kp, (size_t)(ke - kp)));
	if (o->flags & PX_OPT_CLI)
		return failf(f->err, f->errlen, "%s%s: only on the command line", where, o->name);
	i = (size_t)(o - px_opts);
	if (f->seen[i])
		return failf(f->err, f->errlen, "%s%s: set twice (first on line %u)", where,
			     o->name, f->seen[i]);
	f->seen[i] = f->line;
	if ((size_t)(ve - vp) >= sizeof(val))
		return bad_value(f->err, f->errlen, where, o, vp, (size_t)(ve - vp), "too long");
	memcpy(val, vp, (size_t)(ve - vp));
	val[ve - vp] = '\0';
	if (px_opt_set(o, val, c, why, sizeof(why)))
		return bad_value(f->err, f->errlen, where, o, vp, (size_t)(ve - vp), why);
	return 0;
}

int px_config_parse_text(const char *name, const char *text, size_t len, struct px_config *c,
			 char *err, size_t errlen)
{
	struct file_ctx f = { .name = name, .err = err, .errlen = errlen };
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		int rc;

		f.line++;
		rc = parse_line(&f, p, e, c);
		if (rc)
			return rc;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int parse_file(const char *path, struct px_config *c, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	size_t n;
	char *buf;
	int rc;

	if (!fp) {
		rc = -errno;
		failf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(FILE_MAX + 1);
	if (!buf) {
		fclose(fp);
		return -ENOMEM;
	}
	n = fread(buf, 1, FILE_MAX + 1, fp);
	if (ferror(fp))
		rc = failf(err, errlen, "%s: read error", path);
	else if (n > FILE_MAX)
		rc = failf(err, errlen, "%s: larger than %d bytes", path, FILE_MAX);
	else
		rc = px_config_parse_text(path, buf, n, c, err, errlen);
	free(buf);
	fclose(fp);
	return rc;
}

/* --- checks across keys --------------------------------------------------- */

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int check(const struct px_config *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];

		if ((o->flags & PX_OPT_REQUIRED) && !((const char *)c + o->off)[0])
			return failf(err, errlen,
				     "--%s is required (or '%s = ...' in the configuration "
				     "file); see --help",
				     o->name, o->name);
	}
	if (!pow2(c->xsk.ring_size))
		return failf(err, errlen, "ring-size: bad value '%u' (must be a power of two)",
			     c->xsk.ring_size);
	if (!pow2(c->xsk.frames) || c->xsk.frames < 2 * c->xsk.ring_size)
		return failf(err, errlen,
			     "umem-frames: bad value '%u' (must be a power of two, at least "
			     "2 x ring-size = %u)",
			     c->xsk.frames, 2 * c->xsk.ring_size);
	if (c->ncpus && c->nqueues && c->ncpus != c->nqueues)
		return failf(err, errlen, "cpus: %d CPUs listed for %d queues", c->ncpus,
			     c->nqueues);
	if (c->sync.replica[0] && !c->sync.master[0])
		return failf(err, errlen, "redis-replica: set without redis (the master)");
	if (c->sync.cluster[0] && c->sync.master[0])
		return failf(err, errlen, "redis-cluster: set with redis; give one of them");
	/* The table holds the engine's bounds (test_opts checks), so this is a backstop. */
	return xf_params_validate(&c->params, err, errlen);
}

/* --- the command line ------------------------------------------------------ */

#define OPT_VAL(i) (256 + (int)(i))

struct getopt_tab {
	struct option lopts[PX_OPTS_MAX + 1];
	char sopts[3 * PX_OPTS_MAX + 3];
};

static void build_getopt(struct getopt_tab *t)
{
	char *sp = t->sopts;

	/* '+': stop at the first non-option, never permute argv (a reload re-reads it). */
	*sp++ = '+';
	*sp++ = ':';
	memset(t->lopts, 0, sizeof(t->lopts));
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		int has = o->type == PX_OT_FLAG		     ? optional_argument
			  : o->type == PX_OT_VERB || !o->arg ? no_argument
							     : required_argument;

		t->lopts[i] = (struct option){ o->name, has, NULL, OPT_VAL(i) };
		if (o->short_name) {
			*sp++ = (char)o->short_name;
			if (has == required_argument)
				*sp++ = ':';
		}
	}
	*sp = '\0';
}

static const struct px_opt *opt_of(int c)
{
	if (c >= OPT_VAL(0) && c < OPT_VAL(px_nopts))
		return &px_opts[c - OPT_VAL(0)];
	for (size_t i = 0; i < px_nopts; i++)
		if (c && c == px_opts[i].short_name)
			return &px_opts[i];
	return NULL;
}

/* getopt's errors in our words (opterr is off). */
static int getopt_error(int c, char **argv, char *err, size_t errlen)
{
	const struct px_opt *o = opt_of(optopt);
	char q[PX_QUOTE_SIZE];
	const char *arg = argv[optind - 1];

	if (c == ':' && o)
		return failf(err, errlen, "--%s: needs a value", o->name);
	if (optopt && optopt < 256) {
		char ch = (char)optopt;

		return failf(err, errlen, "unknown option '-%s' (see --help)",
			     px_quote(q, sizeof(q), &ch, 1));
	}
	if (!strncmp(arg, "--", 2) && strchr(arg, '='))
		return failf(err, errlen, "'%s': takes no value, or unknown (see --help)",
			     px_quote(q, sizeof(q), arg, strlen(arg)));
	return failf(err, errlen, "unknown option '%s' (see --help)",
		     px_quote(q, sizeof(q), arg, strlen(arg)));
}

/*
 * First pass: syntax, --help, and which file to read; nothing is applied,
 * so the file can go under options that come before -C.
 */
static int scan(int argc, char **argv, const struct getopt_tab *t, const char **file, FILE *out,
		char *err, size_t errlen)
{
	int c;

	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, t->sopts, t->lopts, NULL)) != -1) {
		const struct px_opt *o = c == '?' || c == ':' ? NULL : opt_of(c);

		if (!o)
			return getopt_error(c, argv, err, errlen);
		if (!strcmp(o->name, "config"))
			*file = optarg;
		else if (!strcmp(o->name, "help-config-md")) {
			if (out)
				px_opts_markdown(out);
			return 1;
		} else if (!strcmp(o->name, "help-config-example")) {
			if (out)
				px_opts_example(out);
			return 1;
		} else if (!strcmp(o->name, "help-man")) {
			if (strcmp(optarg, "8") && strcmp(optarg, "5")) {
				char q[PX_QUOTE_SIZE];

				return failf(err, errlen, "--help-man: bad value '%s' (8 or 5)",
					     px_quote(q, sizeof(q), optarg, strlen(optarg)));
			}
			if (out)
				px_opts_man(out, optarg[0] - '0');
			return 1;
		} else if (!strcmp(o->name, "help")) {
			if (out)
				px_opts_usage(out);
			return 1;
		}
	}
	if (optind < argc) {
		char q[PX_QUOTE_SIZE];

		return failf(err, errlen, "unexpected argument '%s'",
			     px_quote(q, sizeof(q), argv[optind], strlen(argv[optind])));
	}
	return 0;
}

/* Second pass: every option but --config, over what the file set. */
static int apply_cli(int argc, char **argv, const struct getopt_tab *t, struct px_config *cfg,
		     char *err, size_t errlen)
{
	char why[96];
	int c, verbose = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, t->sopts, t->lopts, NULL)) != -1) {
		const struct px_opt *o = opt_of(c);
		const char *val = optarg;

		if (!o) /* scan() saw the same argv */
			return -EINVAL;
		if (o->type == PX_OT_CMD)
			continue;
		if (o->type == PX_OT_VERB) {
			verbose++;
			continue;
		}
		if (o->type == PX_OT_FLAG && !val)
			val = "yes";
		if (px_opt_set(o, val, cfg, why, sizeof(why)))
			return bad_value(err, errlen, "--", o, val, strlen(val), why);
	}
	if (verbose)
		cfg->verbose = verbose;
	return 0;
}

int px_config_parse(int argc, char **argv, struct px_config *cfg, FILE *out, char *err,
		    size_t errlen)
{
	struct getopt_tab t;
	const char *file = NULL;
	char why[96];
	int rc;

	if (err && errlen)
		err[0] = '\0';
	build_getopt(&t);
	rc = scan(argc, argv, &t, &file, out, err, errlen);
	if (rc)
		return rc;
	px_config_defaults(cfg);
	cfg->argc = argc;
	cfg->argv = argv;
	if (file) {
		if (px_opt_set(px_opt_find("config"), file, cfg, why, sizeof(why)))
			return bad_value(err, errlen, "--", px_opt_find("config"), file,
					 strlen(file), why);
		rc = parse_file(file, cfg, err, errlen);
		if (rc)
			return rc;
	}
	rc = apply_cli(argc, argv, &t, cfg, err, errlen);
	if (rc)
		return rc;
	return check(cfg, err, errlen);
}

int px_parse_args(int argc, char **argv, struct px_config *cfg)
{
	char err[512];
	int rc = px_config_parse(argc, argv, cfg, stdout, err, sizeof(err));

	if (rc < 0) {
		fprintf(stderr, "xpro-proxy: %s\n", err);
		return -EINVAL;
	}
	return rc;
}

/* --- SIGHUP ---------------------------------------------------------------- */

/* o's value for a message; an empty one as what it means ("all RX queues"). */
static void shown(const struct px_opt *o, const struct px_config *c, char *buf, size_t len)
{
	px_opt_format(o, c, buf, len);
	if (!buf[0])
		snprintf(buf, len, "%s", o->def_text ? o->def_text : "none");
}

int px_config_reload(const struct px_config *cur, struct px_config *next, char *err, size_t errlen)
{
	int rc = px_config_parse(cur->argc, cur->argv, next, NULL, err, errlen);

	if (rc)
		return rc < 0 ? rc : failf(err, errlen, "--help on the command line");
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char a[PX_QUOTE_SIZE], b[PX_QUOTE_SIZE], fa[VALUE_MAX], fb[VALUE_MAX];

		if (o->flags & (PX_OPT_RUNTIME | PX_OPT_CLI) || px_opt_equal(o, cur, next))
			continue;
		if (o->flags & PX_OPT_SECRET) {
			failf(err, errlen,
			      "%s: cannot change at run time; restart xpro-proxy to apply",
			      o->name);
			return -EPERM;
		}
		shown(o, cur, fa, sizeof(fa));
		shown(o, next, fb, sizeof(fb));
		failf(err, errlen,
		      "%s: cannot change at run time ('%s' -> '%s'); restart xpro-proxy to apply",
		      o->name, px_quote(a, sizeof(a), fa, strlen(fa)),
		      px_quote(b, sizeof(b), fb, strlen(fb)));
		return -EPERM;
	}
	return 0;
}

void px_config_apply_runtime(struct px_config *live, const struct px_config *next)
{
	for (size_t i = 0; i < px_nopts; i++)
		if (px_opts[i].flags & PX_OPT_RUNTIME)
			px_opt_copy(&px_opts[i], live, next);
}

int px_config_changes(const struct px_config *a, const struct px_config *b, char *buf, size_t len)
{
	size_t off = 0;
	int n = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < px_nopts; i++) {
		const struct px_opt *o = &px_opts[i];
		char fa[VALUE_MAX], fb[VALUE_MAX];

		if ((o->flags & PX_OPT_CLI) || px_opt_equal(o, a, b))
			continue;
		shown(o, a, fa, sizeof(fa));
		shown(o, b, fb, sizeof(fb));
		if (off < len && (o->flags & PX_OPT_SECRET))
			off += (size_t)snprintf(buf + off, len - off, "%s%s changed", n ? ", " : "",
						o->name);
		else if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s %s -> %s",
						n ? ", " : "", o->name, fa, fb);
		n++;
	}
	return n;
}

int px_config_hup(struct px_config *given, struct px_config *live, char *msg, size_t msglen)
{
	struct px_config next;
	int rc = px_config_reload(given, &next, msg, msglen);

	if (rc)
		return rc;
	rc = px_config_changes(given, &next, msg, msglen);
	px_config_apply_runtime(live, &next);
	*given = next;
	return rc;
}
