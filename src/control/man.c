/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "control/man.h"

static void put_escaped(FILE *f, const char *s, size_t n, int at_bol)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (at_bol && (c == '.' || c == '\''))
			fputs("\\&", f);
		at_bol = 0;
		if (c == '\\')
			fputs("\\e", f);
		else if (c == '-')
			fputs("\\-", f);
		else
			fputc(c, f);
	}
}

void man_head(FILE *f, const char *name, int section, const char *what)
{
	fprintf(f, ".TH \"");
	put_escaped(f, name, strlen(name), 0);
	fprintf(f, "\" \"%d\" \"\" \"X-Pro\" \"X-Pro\"\n.SH NAME\n", section);
	put_escaped(f, name, strlen(name), 1);
	fputs(" \\- ", f);
	put_escaped(f, what, strlen(what), 0);
	fputc('\n', f);
}

void man_section(FILE *f, const char *title)
{
	fprintf(f, ".SH %s\n", title);
}

void man_text(FILE *f, const char *s)
{
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (!n)
			fputs(".PP\n", f);
		else {
			put_escaped(f, s, n, 1);
			fputc('\n', f);
		}
		s += n + (nl != NULL);
	}
}

void man_inline(FILE *f, const char *s)
{
	put_escaped(f, s, strlen(s), 0);
}

void man_line(FILE *f, const char *s)
{
	if (!*s) {
		fputs("\n", f);
		return;
	}
	put_escaped(f, s, strlen(s), 1);
	fputc('\n', f);
}

void man_usage_page(FILE *f, const char *name, int section, const char *what, const char *usage,
		    const char *const *extra)
{
	const char *s = usage;
	int in_synopsis = 1;

	man_head(f, name, section, what);
	man_section(f, "SYNOPSIS");
	fputs(".nf\n", f);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char line[256];

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		if (in_synopsis && !n) {
			in_synopsis = 0;
			fputs(".fi\n", f);
			man_section(f, "OPTIONS");
			fputs(".nf\n", f);
		} else
			man_line(f, in_synopsis && !strncmp(line, "usage: ", 7) ? line + 7 : line);
		s += (nl ? (size_t)(nl - s) : strlen(s)) + (nl != NULL);
	}
	fputs(".fi\n", f);
	for (; extra && extra[0] && extra[1]; extra += 2) {
		man_section(f, extra[0]);
		man_text(f, extra[1]);
	}
}
