/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counters owned by one thread and read by others: the owner bumps them with
 * relaxed stores (no locked instruction), readers take relaxed snapshots.
 */
#ifndef XPRO_DP_COUNTER_H
#define XPRO_DP_COUNTER_H

#include <stddef.h>
#include <stdint.h>

/* Owner thread only. */
static inline void dp_count_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* Any thread: copy n counters. */
static inline void dp_count_snapshot(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

#endif
