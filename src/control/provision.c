/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Provisioning file parser: one device per line, validated field by field
 * with messages that quote the bad value, then as a whole (duplicates,
 * size).  It parses from a buffer so that the fuzzer can feed it anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "xpro/addr.h"
#include "control/provision.h"

#define QUOTE_MAX 48 /* bytes of a bad value quoted in a message */
#define LINE_FORM "a line is: index secret prefix [active|inactive]"

/* A parse in progress: the output array and the index -> line set. */
struct prov_ctx {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	struct tun_dev_conf *conf;
	size_t n, cap;
	uint32_t *set_dev, *set_line; /* open addressing; TUN_DEV_NONE = empty */
	size_t set_cap;
};

/* A field of the current line: not NUL-terminated. */
struct tok {
	const char *p;
	size_t len;
};

static int fail(struct prov_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct prov_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (c->err && c->errlen) {
		off = snprintf(c->err, c->errlen, "%s:%u: ", c->name, c->line);
		if (off >= 0 && (size_t)off < c->errlen) {
			va_start(ap, fmt);
			vsnprintf(c->err + off, c->errlen - off, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* The token as a printable, bounded C string for messages. */
static const char *quote(char *buf, size_t size, const struct tok *t)
{
	size_t n = t->len < QUOTE_MAX ? t->len : QUOTE_MAX, i;

	if (size < QUOTE_MAX + 4)
		return "";
	for (i = 0; i < n; i++)
		buf[i] = t->p[i] >= 0x20 && t->p[i] < 0x7f ? t->p[i] : '?';
	if (t->len > n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool tok_is(const struct tok *t, const char *s)
{
	return t->len == strlen(s) && !memcmp(t->p, s, t->len);
}

/* Split one line (comment already cut) into at most max tokens; returns the count seen. */
static size_t split(const char *p, const char *end, struct tok *toks, size_t max)
{
	size_t n = 0;

	while (p < end) {
		const char *s;

		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		s = p;
		while (p < end && !is_space(*p))
			p++;
		if (n < max) {
			toks[n].p = s;
			toks[n].len = (size_t)(p - s);
		}
		n++;
	}
	return n;
}

static int parse_index(struct prov_ctx *c, const struct tok *t, struct tun_dev_conf *d)
{
	char q[QUOTE_MAX + 4];
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < t->len && i < 11; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			break;
		v = v * 10 + (uint64_t)(t->p[i] - '0');
	}
	if (i != t->len || v > TUN_DEV_MAX)
		return fail(c, "bad index '%s' (expected a decimal integer from 0 to %u)",
			    quote(q, sizeof(q), t), TUN_DEV_MAX);
	d->dev = (uint32_t)v;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int parse_secret(struct prov_ctx *c, const struct tok *t, struct tun_dev_conf *d)
{
	char q[QUOTE_MAX + 4];

	if (t->len != 2 * XPRO_TUN_SECRET_LEN)
		goto out_bad;
	for (size_t i = 0; i < XPRO_TUN_SECRET_LEN; i++) {
		int hi = hexval(t->p[2 * i]), lo = hexval(t->p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto out_bad;
		d->secret[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;

out_bad:
	return fail(c, "bad secret '%s' (expected 32 hex digits)", quote(q, sizeof(q), t));
}

/* "a.b.c.d/n" or "x:y::z/n" into the 16-byte form of struct tun_dev_conf. */
static int parse_prefix(struct prov_ctx *c, const struct tok *t, struct tun_dev_conf *d)
{
	char q[QUOTE_MAX + 4], addr[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	const char *slash = memchr(t->p, '/', t->len);
	size_t alen, llen, i;
	unsigned plen = 0, max, off;
	uint8_t a[16] = { 0 }, m[16];

	if (!slash)
		return fail(c, "bad prefix '%s' (expected address/length, e.g. 198.18.10.1/32)",
			    quote(q, sizeof(q), t));
	alen = (size_t)(slash - t->p);
	llen = t->len - alen - 1;
	/* inet_pton stops at a NUL: one inside the field must not hide what follows. */
	if (alen >= sizeof(addr) || memchr(t->p, '\0', alen))
		goto out_bad_addr;
	memcpy(addr, t->p, alen);
	addr[alen] = '\0';
	if (memchr(addr, ':', alen)) {
		if (inet_pton(AF_INET6, addr, a) != 1)
			goto out_bad_addr;
		d->ipver = 6;
		max = 128;
		off = 0;
	} else {
		if (inet_pton(AF_INET, addr, a + 12) != 1)
			goto out_bad_addr;
		xpro_addr_from_v4(a, a + 12);
		d->ipver = 4;
		max = 32;
		off = 96;
	}
	for (i = 0; i < llen && i < 4; i++) {
		if (slash[1 + i] < '0' || slash[1 + i] > '9')
			break;
		plen = plen * 10 + (unsigned)(slash[1 + i] - '0');
	}
	if (!llen || i != llen || plen > max)
		return fail(c, "bad prefix '%s' (length must be 0 to %u)", quote(q, sizeof(q), t),
			    max);
	plen += off;
	if (d->ipver == 6 && plen >= 96 && xpro_addr_is_v4(a))
		return fail(c, "bad prefix '%s' (IPv4-mapped: write it as an IPv4 prefix)",
			    quote(q, sizeof(q), t));
	for (i = 0; i < 16; i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * (unsigned)i : 0;

		m[i] = a[i] & (bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits));
	}
	if (memcmp(m, a, sizeof(a))) {
		/* A typo for a host or for a network: make the operator say which. */
		inet_ntop(d->ipver == 6 ? AF_INET6 : AF_INET, d->ipver == 6 ? m : m + 12, net,
			  sizeof(net));
		return fail(c, "bad prefix '%s' (host bits set; the network is %s/%u)",
			    quote(q, sizeof(q), t), net, plen - off);
	}
	memcpy(d->prefix, a, sizeof(a));
	d->plen = (uint8_t)plen;
	return 0;

out_bad_addr:
	return fail(c, "bad prefix '%s' (not an IPv4 or IPv6 address)", quote(q, sizeof(q), t));
}

static int parse_state(struct prov_ctx *c, const struct tok *t, struct tun_dev_conf *d)
{
	char q[QUOTE_MAX + 4];

	if (tok_is(t, "active"))
		d->active = true;
	else if (tok_is(t, "inactive"))
		d->active = false;
	else
		return fail(c, "bad state '%s' (expected active or inactive)",
			    quote(q, sizeof(q), t));
	return 0;
}

static uint64_t set_home(uint32_t dev, size_t cap)
{
	return ((uint64_t)dev * 0x9e3779b97f4a7c15ULL >> 32) & (cap - 1);
}

/* Slot of dev in the set, or of the empty slot where it would go. */
static size_t set_slot(const struct prov_ctx *c, uint32_t dev)
{
	size_t i = set_home(dev, c->set_cap);

	while (c->set_dev[i] != TUN_DEV_NONE && c->set_dev[i] != dev)
		i = (i + 1) & (c->set_cap - 1);
	return i;
}

static int set_grow(struct prov_ctx *c)
{
	size_t cap = c->set_cap ? 2 * c->set_cap : 1024, oldcap = c->set_cap;
	uint32_t *od = c->set_dev, *ol = c->set_line;

	c->set_dev = malloc(cap * sizeof(*c->set_dev));
	c->set_line = malloc(cap * sizeof(*c->set_line));
	if (!c->set_dev || !c->set_line) {
		free(c->set_dev);
		free(c->set_line);
		c->set_dev = od;
		c->set_line = ol;
		return -ENOMEM;
	}
	c->set_cap = cap;
	for (size_t i = 0; i < cap; i++)
		c->set_dev[i] = TUN_DEV_NONE;
	for (size_t i = 0; i < oldcap; i++) {
		if (od[i] != TUN_DEV_NONE) {
			size_t j = set_slot(c, od[i]);

			c->set_dev[j] = od[i];
			c->set_line[j] = ol[i];
		}
	}
	free(od);
	free(ol);
	return 0;
}

static int add_entry(struct prov_ctx *c, const struct tun_dev_conf *d)
{
	size_t slot;

	if (c->n == PROV_MAX_DEVICES)
		return fail(c, "too many devices (at most %u)", PROV_MAX_DEVICES);
	/* Keep the set at most half full. */
	if (2 * (c->n + 1) > c->set_cap && set_grow(c))
		return -ENOMEM;
	slot = set_slot(c, d->dev);
	if (c->set_dev[slot] == d->dev)
		return fail(c, "duplicate index %u (first on line %u)", d->dev, c->set_line[slot]);
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct tun_dev_conf *p = realloc(c->conf, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->conf = p;
		c->cap = cap;
	}
	c->set_dev[slot] = d->dev;
	c->set_line[slot] = c->line;
	c->conf[c->n++] = *d;
	return 0;
}

/* The fields of a line, in order: the file format in one place. */
static const struct prov_field {
	const char *name;
	int (*parse)(struct prov_ctx *c, const struct tok *t, struct tun_dev_conf *d);
	bool optional; /* only at the end */
} fields[] = {
	{ "index", parse_index, false },
	{ "secret", parse_secret, false },
	{ "prefix", parse_prefix, false },
	{ "state", parse_state, true },
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int parse_line(struct prov_ctx *c, const char *p, const char *end)
{
	const char *hash = memchr(p, '#', (size_t)(end - p));
	struct tun_dev_conf d = { .active = true };
	struct tok t[NFIELDS + 1];
	char q[QUOTE_MAX + 4];
	size_t n;
	int err;

	n = split(p, hash ? hash : end, t, NFIELDS + 1);
	if (!n)
		return 0;
	if (n < NFIELDS && !fields[n].optional)
		return fail(c, "missing %s (" LINE_FORM ")", fields[n].name);
	if (n > NFIELDS)
		return fail(c, "unexpected '%s' after the %s (" LINE_FORM ")",
			    quote(q, sizeof(q), &t[NFIELDS]), fields[NFIELDS - 1].name);
	for (size_t i = 0; i < n; i++) {
		err = fields[i].parse(c, &t[i], &d);
		if (err)
			return err;
	}
	return add_entry(c, &d);
}

int prov_parse(const char *name, const char *text, size_t len, struct tun_dev_conf **conf,
	       size_t *n, char *err, size_t errlen)
{
	struct prov_ctx c = { .name = name, .err = err, .errlen = errlen };
	const char *p = text, *end = text + len;
	int rc = 0;

	*conf = NULL;
	*n = 0;
	if (err && errlen)
		err[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		c.line++;
		rc = parse_line(&c, p, eol);
		if (rc)
			break;
		p = nl ? nl + 1 : end;
	}
	free(c.set_dev);
	free(c.set_line);
	if (rc) {
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		free(c.conf);
		return rc;
	}
	*conf = c.conf;
	*n = c.n;
	return 0;
}

/* The whole file in a malloc'd buffer.  Returns 0 or -errno. */
static int read_all(const char *path, char **text, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf, *p;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (n == cap) {
			/* One byte past the limit is how we know the file exceeds it. */
			if (cap > PROV_MAX_FILE) {
				rc = -EFBIG;
				break;
			}
			cap = 2 * cap < PROV_MAX_FILE + 1 ? 2 * cap : PROV_MAX_FILE + 1;
			p = realloc(buf, cap);
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

int prov_load_file(const char *path, struct tun_dev_conf **conf, size_t *n, char *err,
		   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*conf = NULL;
	*n = 0;
	rc = read_all(path, &text, &len);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = prov_parse(path, text, len, conf, n, err, errlen);
	free(text);
	return rc;
}
