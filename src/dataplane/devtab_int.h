/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Layout of the device table, shared by devtab.c (building, publishing) and
 * auth.c (per-packet lookup).  Nothing else includes this.
 */
#ifndef XPRO_DP_DEVTAB_INT_H
#define XPRO_DP_DEVTAB_INT_H

#include <urcu.h>

#include "dataplane/devstate.h"
#include "dataplane/devtab.h"

/* One device in one published table; never changed after publication. */
struct tun_dev {
	uint32_t dev;
	uint8_t active;
	uint8_t ipver; /* 4 or 6 */
	uint8_t plen;
	uint8_t pad;
	uint64_t net[2]; /* prefix bytes, host bits zero, as two memcpy'd words */
	uint64_t mask[2]; /* the prefix length as a byte mask, same layout */
	uint8_t secret[XPRO_TUN_SECRET_LEN];
	struct tun_state *st; /* shared with the next table if the secret stays */
} __attribute__((aligned(64)));

/*
 * Open-addressing index entry: TUN_DEV_NONE marks an empty slot.  It holds
 * the state pointer too, so that a worker fetches the device's entry and its
 * state in parallel instead of one after the other (with a million devices,
 * mostly cache misses: about 20% less time per packet, measured).
 */
struct tun_idx {
	uint32_t dev;
	uint32_t pos; /* into tun_devset.devs */
	struct tun_state *st; /* = devs[pos].st */
};

/*
 * One immutable version of the table.  The index has at least twice as many
 * slots as devices, so linear probes stay short and always reach an empty
 * slot.  Fibonacci hashing spreads the sequential indexes operators assign.
 */
struct tun_devset {
	struct tun_idx *slots;
	unsigned shift; /* 64 - log2(number of slots) */
	uint64_t mask; /* number of slots - 1 */
	struct tun_dev *devs;
	size_t n;
	uint32_t gen;
	/* Set when the table is replaced: states that only this table used. */
	struct tun_state **dead;
	size_t ndead;
	struct rcu_head rcu;
};

struct tun_devtab {
	struct tun_devset *cur; /* RCU-published; replaced whole by the control thread */
	uint32_t gen; /* generation of cur */
};

/* The published table; inside rcu_read_lock() (or on the control thread). */
static inline struct tun_devset *tun_devtab_cur(struct tun_devtab *t)
{
	/* rcu_dereference() with a load ThreadSanitizer understands. */
	return __atomic_load_n(&t->cur, __ATOMIC_CONSUME);
}

static inline uint64_t tun_devset_home(const struct tun_devset *s, uint32_t dev)
{
	return ((uint64_t)dev * 0x9e3779b97f4a7c15ULL) >> s->shift;
}

/* The index entry of dev, or NULL.  Pure reads. */
static inline const struct tun_idx *tun_devset_slot(const struct tun_devset *s, uint32_t dev)
{
	uint64_t i = tun_devset_home(s, dev);

	/* The empty-slot marker must not match a packet that carries it. */
	if (dev == TUN_DEV_NONE)
		return NULL;
	for (;; i = (i + 1) & s->mask) {
		const struct tun_idx *sl = &s->slots[i];

		if (sl->dev == dev)
			return sl;
		if (sl->dev == TUN_DEV_NONE)
			return NULL;
	}
}

/* The device with index dev, or NULL.  Pure reads. */
static inline const struct tun_dev *tun_devset_find(const struct tun_devset *s, uint32_t dev)
{
	const struct tun_idx *sl = tun_devset_slot(s, dev);

	return sl ? &s->devs[sl->pos] : NULL;
}

#endif
