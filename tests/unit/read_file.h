/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A whole file as a NUL-terminated string, for the unit tests that hold
 * docs/ or a config file to the code.  Header-only: the tests that use it
 * link differently.  NULL if the file cannot be opened; asserts on a short
 * read.  free() the result.
 */
#ifndef XPRO_TEST_READ_FILE_H
#define XPRO_TEST_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>

static inline char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

#endif
