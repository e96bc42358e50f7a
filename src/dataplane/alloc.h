/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Record memory for the filter engine.  One interface, one file per backend:
 * alloc_jemalloc.c (the proxy: a jemalloc arena of the engine's own, so its
 * footprint is measured, not assumed) and alloc_libc.c (sanitizer builds,
 * where ASan/TSan must own malloc).  The build links exactly one.
 */
#ifndef XPRO_DP_ALLOC_H
#define XPRO_DP_ALLOC_H

#include <stddef.h>
#include <stdint.h>

struct dp_mem;

/* Returns NULL (errno set) on failure.  Any thread. */
struct dp_mem *dp_mem_new(void);
/* Frees the arena; every block must have been freed.  */
void dp_mem_free_arena(struct dp_mem *m);

/* Zeroed block of size bytes aligned to align (a power of two <= 4096). */
void *dp_mem_alloc(struct dp_mem *m, size_t size, size_t align);
void dp_mem_free(struct dp_mem *m, void *p, size_t size);

/* Bytes the allocator itself reports for this arena, 0 if it cannot tell. */
uint64_t dp_mem_allocated(struct dp_mem *m);
const char *dp_mem_backend(void);

#endif
