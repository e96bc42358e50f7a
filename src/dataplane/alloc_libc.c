/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libc backend for the sanitizer builds: ASan and TSan replace malloc and
 * must see every allocation, so records come from plain aligned_alloc().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/alloc.h"

struct dp_mem {
	int unused;
};

struct dp_mem *dp_mem_new(void)
{
	return calloc(1, sizeof(struct dp_mem));
}

void dp_mem_free_arena(struct dp_mem *m)
{
	free(m);
}

void *dp_mem_alloc(struct dp_mem *m, size_t size, size_t align)
{
	size_t rounded = (size + align - 1) & ~(align - 1);
	void *p;

	(void)m;
	p = aligned_alloc(align, rounded);
	if (p)
		memset(p, 0, rounded);
	return p;
}

void dp_mem_free(struct dp_mem *m, void *p, size_t size)
{
	(void)m;
	(void)size;
	free(p);
}

uint64_t dp_mem_allocated(struct dp_mem *m)
{
	(void)m;
	return 0;
}

const char *dp_mem_backend(void)
{
	return "libc";
}
