/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Manual pages in man(7) roff, printed by the programs themselves from the
 * tables and usage texts they parse with (`--help-man`), so that a page
 * cannot drift from the options it describes.  make man writes them into
 * build/man/, make install installs them.  libc only.
 */
#ifndef XPRO_CTL_MAN_H
#define XPRO_CTL_MAN_H

#include <stdio.h>

/* .TH and NAME: "name - what" */
void man_head(FILE *f, const char *name, int section, const char *what);
/* .SH title */
void man_section(FILE *f, const char *title);
/*
 * Running text, escaped for roff: backslashes, a leading '.' or '\'', and
 * '-' (as \-, so that options copy and search as ASCII).  A blank line in s
 * starts a new paragraph.
 */
void man_text(FILE *f, const char *s);
/* s escaped, with no line break: for a part of a line the caller ends. */
void man_inline(FILE *f, const char *s);
/* The same, as one line of preformatted text (.nf block, caller opens). */
void man_line(FILE *f, const char *s);
/*
 * A whole page for a program whose options are one usage text (xproctl,
 * xpro-modem): NAME, SYNOPSIS and OPTIONS from usage (the lines up to the
 * first blank one are the synopsis, the rest preformatted), then the
 * sections in extra: pairs of title and text, NULL-terminated.
 */
void man_usage_page(FILE *f, const char *name, int section, const char *what, const char *usage,
		    const char *const *extra);

#endif
