/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Command-line helpers shared by the sync benchmarks (bench_sync.c,
 * bench_round.c).
 */
#ifndef XPRO_BENCH_ARGS_H
#define XPRO_BENCH_ARGS_H

#include <stddef.h>
#include <stdlib.h>

#define MAX_SIZES 8

/* "N[,N...]" (each above 0) into v[0..MAX_SIZES); how many, or -1 if malformed. */
static inline int parse_sizes(const char *s, size_t *v)
{
	int k = 0;
	char *end;

	while (*s && k < MAX_SIZES) {
		unsigned long long x = strtoull(s, &end, 10);

		if (end == s || !x || (*end && *end != ','))
			return -1;
		v[k++] = (size_t)x;
		s = *end ? end + 1 : end;
	}
	return k;
}

#endif
