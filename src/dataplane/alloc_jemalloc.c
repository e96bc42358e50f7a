/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jemalloc backend: each engine gets an arena of its own, so that
 * "stats.arenas.<i>" reports exactly the memory its records and tables hold.
 * The thread cache is bypassed: records are created on the slow path only,
 * and cached regions would hide memory from the arena's figures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <jemalloc/jemalloc.h>

#include "dataplane/alloc.h"

struct dp_mem {
	unsigned arena;
};

struct dp_mem *dp_mem_new(void)
{
	struct dp_mem *m = calloc(1, sizeof(*m));
	size_t sz = sizeof(m->arena);

	if (!m)
		return NULL;
	if (mallctl("arenas.create", &m->arena, &sz, NULL, 0)) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void dp_mem_free_arena(struct dp_mem *m)
{
	char name[64];

	if (!m)
		return;
	snprintf(name, sizeof(name), "arena.%u.destroy", m->arena);
	mallctl(name, NULL, NULL, NULL, 0);
	free(m);
}

void *dp_mem_alloc(struct dp_mem *m, size_t size, size_t align)
{
	return mallocx(size, MALLOCX_ARENA(m->arena) | MALLOCX_ALIGN(align) | MALLOCX_ZERO |
				     MALLOCX_TCACHE_NONE);
}

void dp_mem_free(struct dp_mem *m, void *p, size_t size)
{
	(void)m;
	(void)size;
	if (p)
		dallocx(p, MALLOCX_TCACHE_NONE);
}

static uint64_t arena_stat(unsigned arena, const char *what)
{
	char name[96];
	size_t v = 0, sz = sizeof(v);

	snprintf(name, sizeof(name), "stats.arenas.%u.%s", arena, what);
	if (mallctl(name, &v, &sz, NULL, 0))
		return 0;
	return v;
}

uint64_t dp_mem_allocated(struct dp_mem *m)
{
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);

	mallctl("epoch", &epoch, &sz, &epoch, sz);
	return arena_stat(m->arena, "small.allocated") + arena_stat(m->arena, "large.allocated");
}

const char *dp_mem_backend(void)
{
	return "jemalloc";
}
