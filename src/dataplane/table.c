/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writers' side of the bucketed RCU table (readers are inline in table.h).
 * Writers publish a slot's pointer before its tag and clear the tag before
 * the pointer, so a reader that sees a tag finds a valid entry or NULL.
 */
#include <errno.h>

#include "dataplane/table.h"

static size_t home_buckets(size_t capacity)
{
	size_t n = 1;

	/* Four entries per seven slots at most: few buckets ever spill. */
	while (n * 4 < capacity)
		n <<= 1;
	return n;
}

size_t dp_tab_bytes_for(size_t capacity)
{
	return (home_buckets(capacity) + DP_TAB_PROBE) * sizeof(struct dp_tab_bucket);
}

int dp_tab_init(struct dp_tab *t, size_t capacity, struct dp_mem *mem)
{
	size_t home = home_buckets(capacity);

	t->mem = mem;
	t->mask = home - 1;
	t->nbuckets = home + DP_TAB_PROBE;
	t->b = dp_mem_alloc(mem, dp_tab_bytes(t), 64);
	return t->b ? 0 : -ENOMEM;
}

void dp_tab_fini(struct dp_tab *t)
{
	dp_mem_free(t->mem, t->b, dp_tab_bytes(t));
	t->b = NULL;
}

size_t dp_tab_bytes(const struct dp_tab *t)
{
	return t->nbuckets * sizeof(struct dp_tab_bucket);
}

static uint64_t bucket_lock(struct dp_tab_bucket *b)
{
	uint64_t meta = __atomic_load_n(&b->meta, __ATOMIC_RELAXED);

	for (;;) {
		if (!(meta & DP_TAB_LOCK) &&
		    __atomic_compare_exchange_n(&b->meta, &meta, meta | DP_TAB_LOCK, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return meta | DP_TAB_LOCK;
		__builtin_ia32_pause();
		meta = __atomic_load_n(&b->meta, __ATOMIC_RELAXED);
	}
}

static void bucket_unlock(struct dp_tab_bucket *b, uint64_t meta)
{
	__atomic_store_n(&b->meta, meta & ~DP_TAB_LOCK, __ATOMIC_RELEASE);
}

static int free_slot(uint64_t meta)
{
	for (int i = 0; i < DP_TAB_SLOTS; i++)
		if (!((meta >> (8 * i)) & 0xff))
			return i;
	return -1;
}

void *dp_tab_insert(struct dp_tab *t, uint64_t hash, void *entry, dp_tab_eq_fn eq, const void *key)
{
	struct dp_tab_bucket *home = dp_tab_home(t, hash);
	struct dp_tab_bucket *end = t->b + t->nbuckets;
	struct dp_tab_bucket *held[DP_TAB_PROBE];
	uint64_t metas[DP_TAB_PROBE];
	uint64_t tag = dp_tab_tag(hash);
	void *found;
	int n = 0, slot = -1;

	/* The home lock serialises inserts of one key; recheck under it. */
	held[0] = home;
	metas[0] = bucket_lock(home);
	n = 1;
	found = dp_tab_find(t, hash, eq, key);
	if (found)
		goto out_unlock;

	for (;;) {
		slot = free_slot(metas[n - 1]);
		if (slot >= 0)
			break;
		if (n == DP_TAB_PROBE || held[n - 1] + 1 >= end)
			goto out_unlock; /* found == NULL: no room */
		held[n] = held[n - 1] + 1;
		metas[n] = bucket_lock(held[n]);
		n++;
	}

	/* Flag the full buckets we pass so that readers follow the spill. */
	for (int i = 0; i < n - 1; i++)
		metas[i] |= DP_TAB_OVF;
	__atomic_store_n(&held[n - 1]->slot[slot], entry, __ATOMIC_RELEASE);
	metas[n - 1] |= tag << (8 * slot);
	found = entry;
out_unlock:
	/* Unlock the spill bucket first: its tag must be visible before OVF. */
	while (n--)
		bucket_unlock(held[n], metas[n]);
	return found;
}

bool dp_tab_remove(struct dp_tab *t, uint64_t hash, const void *entry)
{
	struct dp_tab_bucket *b = dp_tab_home(t, hash);
	struct dp_tab_bucket *end = t->b + t->nbuckets;

	for (; b < end; b++) {
		uint64_t meta = __atomic_load_n(&b->meta, __ATOMIC_ACQUIRE);

		for (int i = 0; i < DP_TAB_SLOTS; i++) {
			if (__atomic_load_n(&b->slot[i], __ATOMIC_RELAXED) != entry)
				continue;
			meta = bucket_lock(b);
			if (b->slot[i] == entry) {
				meta &= ~(0xffULL << (8 * i));
				__atomic_store_n(&b->meta, meta, __ATOMIC_RELEASE);
				__atomic_store_n(&b->slot[i], NULL, __ATOMIC_RELEASE);
				bucket_unlock(b, meta);
				return true;
			}
			bucket_unlock(b, meta);
		}
		if (!(meta & DP_TAB_OVF))
			return false;
	}
	return false;
}

int dp_tab_for_each(struct dp_tab *t, int (*fn)(void *entry, void *arg), void *arg)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct dp_tab_bucket *b = &t->b[i];

		for (int s = 0; s < DP_TAB_SLOTS; s++) {
			void *e = __atomic_load_n(&b->slot[s], __ATOMIC_ACQUIRE);
			int rc;

			if (!e)
				continue;
			rc = fn(e, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}
