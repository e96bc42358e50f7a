/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fixed-capacity hash table for RCU readers: one cache line per bucket
 * holding seven entry pointers and their 8-bit hash tags, so a lookup costs
 * one bucket line and, almost always, one entry line.  Chosen over rculfhash
 * because its lookups chase a linked list (tests/bench/bench_filter.c
 * measures both).  The capacity is fixed at creation: the engine's memory
 * bound makes resizing unnecessary.
 *
 * Concurrency:
 *  - dp_tab_find() and dp_tab_prefetch(): any thread inside an RCU read-side
 *    critical section; never blocks, never writes.
 *  - dp_tab_insert() and dp_tab_remove(): any thread; they lock the buckets
 *    they write (a bit in the bucket's meta word, taken in ascending bucket
 *    order, so they cannot deadlock).  Entries must be freed through call_rcu.
 *  - dp_tab_for_each(): any thread inside an RCU read-side section; sees
 *    every entry present for the whole walk, maybe some added or removed.
 *
 * A full home bucket spills into the next ones (flagged so readers follow);
 * overflow flags are never cleared, which costs at most a longer probe after
 * heavy churn.  Entries carry their own key: the caller's eq() decides.
 */
#ifndef XPRO_DP_TABLE_H
#define XPRO_DP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/alloc.h"

#define DP_TAB_SLOTS 7
#define DP_TAB_PROBE 16 /* buckets an insert may spill across */
#define DP_TAB_LOCK (1ULL << 56)
#define DP_TAB_OVF (1ULL << 57)

struct dp_tab_bucket {
	uint64_t meta; /* bytes 0-6: tag of slot i (0 = empty); byte 7: flags */
	void *slot[DP_TAB_SLOTS];
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct dp_tab_bucket) == 64, "one cache line per bucket");

struct dp_tab {
	struct dp_tab_bucket *b;
	uint64_t mask; /* home buckets - 1 */
	size_t nbuckets; /* home + DP_TAB_PROBE spill buckets */
	struct dp_mem *mem;
};

typedef bool (*dp_tab_eq_fn)(const void *entry, const void *key);

/* Room for capacity entries at a load of at most 4/7.  Returns 0 or -ENOMEM. */
int dp_tab_init(struct dp_tab *t, size_t capacity, struct dp_mem *mem);
void dp_tab_fini(struct dp_tab *t);
size_t dp_tab_bytes(const struct dp_tab *t);
size_t dp_tab_bytes_for(size_t capacity);

static inline uint8_t dp_tab_tag(uint64_t hash)
{
	uint8_t tag = (uint8_t)(hash >> 56);

	return tag ? tag : 1;
}

static inline struct dp_tab_bucket *dp_tab_home(const struct dp_tab *t, uint64_t hash)
{
	return &t->b[hash & t->mask];
}

static inline void dp_tab_prefetch(const struct dp_tab *t, uint64_t hash)
{
	__builtin_prefetch(dp_tab_home(t, hash));
}

/* Prefetch the first `lines` cache lines of the first entry of the home bucket whose tag
 * matches (a hint). */
static inline void dp_tab_prefetch_entry(const struct dp_tab *t, uint64_t hash, unsigned lines)
{
	const struct dp_tab_bucket *b = dp_tab_home(t, hash);
	uint64_t meta = __atomic_load_n(&b->meta, __ATOMIC_RELAXED);
	uint64_t want = dp_tab_tag(hash);

	for (int i = 0; i < DP_TAB_SLOTS; i++) {
		if (((meta >> (8 * i)) & 0xff) == want) {
			const char *p = __atomic_load_n(&b->slot[i], __ATOMIC_RELAXED);

			for (unsigned l = 0; l < lines; l++)
				__builtin_prefetch(p + 64 * l);
			return;
		}
	}
}

/*
 * Find the entry eq() accepts.  Inline so that the compiler can inline eq.
 * Returns the entry or NULL.
 */
static inline void *dp_tab_find(const struct dp_tab *t, uint64_t hash, dp_tab_eq_fn eq,
				const void *key)
{
	const struct dp_tab_bucket *b = dp_tab_home(t, hash);
	const struct dp_tab_bucket *end = t->b + t->nbuckets;
	uint64_t want = dp_tab_tag(hash);

	for (; b < end; b++) {
		uint64_t meta = __atomic_load_n(&b->meta, __ATOMIC_ACQUIRE);

		for (int i = 0; i < DP_TAB_SLOTS; i++) {
			void *e;

			if (((meta >> (8 * i)) & 0xff) != want)
				continue;
			e = __atomic_load_n(&b->slot[i], __ATOMIC_ACQUIRE);
			if (e && eq(e, key))
				return e;
		}
		if (!(meta & DP_TAB_OVF))
			return NULL;
	}
	return NULL;
}

/*
 * Insert entry unless eq() accepts an entry already present, checked under
 * the home bucket's lock so that two inserts of one key cannot both succeed.
 * Returns entry (inserted), the existing entry, or NULL when no bucket within
 * DP_TAB_PROBE of home has room.
 */
void *dp_tab_insert(struct dp_tab *t, uint64_t hash, void *entry, dp_tab_eq_fn eq, const void *key);

/* Remove this exact entry.  Returns true if it was present. */
bool dp_tab_remove(struct dp_tab *t, uint64_t hash, const void *entry);

/* Call fn on every entry; stops early and returns fn's value when non-zero. */
int dp_tab_for_each(struct dp_tab *t, int (*fn)(void *entry, void *arg), void *arg);

#endif
