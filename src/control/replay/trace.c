/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's trace reader: CSV lines time_ms,device,destination[,group] (see --help),
 * parsed, checked and replayed one packet at a time.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct xr_trace {
	const char *path;
	unsigned long line;
	bool any; /* a data line was seen */
};

/* The name a trace is reported under: "-" is stdin. */
const char *xr_trace_name(const char *path)
{
	return !strcmp(path, "-") ? "<stdin>" : path;
}

static int __attribute__((format(printf, 2, 3)))
xr_trace_err(const struct xr_trace *tr, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xpro-replay: %s:%lu: ", tr->path, tr->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Milliseconds with an optional fraction ("1234", "1234.5678") into ns. */
static int xr_parse_ms(const char *s, uint64_t *ns)
{
	uint64_t ms = 0, frac = 0, scale = XF_NSEC_PER_MSEC;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (ms > (UINT64_MAX / 2 / XF_NSEC_PER_MSEC - 9) / 10)
			return -ERANGE; /* stay far from the engine clock's wrap */
		ms = ms * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (scale /= 10)
				frac += (uint64_t)(*s - '0') * scale;
	if (*s)
		return -EINVAL;
	*ns = ms * XF_NSEC_PER_MSEC + frac;
	return 0;
}

static char *xr_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Split line at commas into at most max trimmed fields; returns how many there were. */
static int xr_split(char *line, char **f, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		char *c = strchr(p, ',');

		if (n < max)
			f[n] = xr_trim(p);
		n++;
		if (!c)
			return n;
		*c = '\0';
		p = c;
	}
}

/* One line: 0 (packet in ev, or nothing when ev->t is XR_NONE), -EINVAL or -ENOMEM. */
static int xr_trace_line(struct xr_run *run, struct xr_trace *tr, char *line, struct xr_event *ev)
{
	char *f[4], *hash = strchr(line, '#');
	uint8_t addr[16];
	int n;

	ev->t = XR_NONE;
	if (hash)
		*hash = '\0';
	if (!*xr_trim(line))
		return 0;
	n = xr_split(line, f, 4);
	if (!tr->any && !strcmp(f[0], "time_ms"))
		return 0; /* header */
	tr->any = true;
	if (n < 3 || n > 4)
		return xr_trace_err(tr, "want time_ms,device,destination[,group], got %d fields",
				    n);
	if (xr_parse_ms(f[0], &ev->t))
		return xr_trace_err(tr, "bad time '%s' (milliseconds, e.g. 1500 or 1500.25)", f[0]);
	if (run->started && ev->t < run->last)
		return xr_trace_err(
			tr, "time goes backwards (%s ms); sort by time: sort -t, -k1,1n", f[0]);
	if (!*f[1] || (n == 4 && !*f[3]))
		return xr_trace_err(tr, "empty device or group");
	if (!xr_parse_addr(f[2], addr))
		return xr_trace_err(tr, "bad destination '%s' (IPv4 or IPv6 address)", f[2]);
	run->labelled |= n == 4;
	if (xr_dev_intern(run, f[1], n == 4 ? f[3] : NULL, &ev->dev) ||
	    xr_dst_intern(run, addr, &ev->dst))
		return -ENOMEM;
	ev->group = run->devs[ev->dev].group;
	xr_key(&ev->key, ev->dev, addr);
	return 0;
}

int xr_trace_run(struct xr_run *run, const char *path)
{
	struct xr_trace tr = { xr_trace_name(path), 0, false };
	FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!f) {
		fprintf(stderr, "xpro-replay: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (!err && getline(&line, &cap, f) >= 0) {
		struct xr_event ev;

		tr.line++;
		err = xr_trace_line(run, &tr, line, &ev);
		if (!err && ev.t != XR_NONE)
			err = xr_packet(run, &ev);
	}
	if (!err && ferror(f)) {
		fprintf(stderr, "xpro-replay: %s: read error\n", tr.path);
		err = -EIO;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return err;
}
