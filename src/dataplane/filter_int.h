/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals of the filter engine, shared by its files (filter.c: per-packet
 * path; filter_ctl.c: control-thread operations; filter_params.c: thresholds).
 * Nothing outside src/dataplane/filter*.c includes this.
 */
#ifndef XPRO_DP_FILTER_INT_H
#define XPRO_DP_FILTER_INT_H

#include <pthread.h>
#include <urcu.h>
#include <urcu/list.h>

#include "xpro/filter.h"
#include <string.h>

#include "dataplane/alloc.h"
#include "dataplane/counter.h"
#include "dataplane/table.h"

/* --- thresholds ---------------------------------------------------------- */

struct xf_param_desc {
	const char *name, *unit;
	size_t offset, size;
	uint64_t min, max, def;
};
extern const struct xf_param_desc xf_param_table[];
uint64_t xf_param_get(const struct xf_params *p, const struct xf_param_desc *d);
void xf_param_set(struct xf_params *p, const struct xf_param_desc *d, uint64_t v);

/* Compiled thresholds, published under RCU; replaced whole, never edited. */
struct xf_rt {
	uint64_t tt1, tt2, tt3, tt4; /* ns */
	uint64_t tf1, tf2; /* packets/s */
	uint64_t warn_interval; /* ns */
	uint64_t
		heavy_c; /* a window count that makes a pair a handoff candidate (xf_engine_heavy) */
	/* fair policy (docs/algorithm.md, "Exact semantics of fair") */
	uint32_t policy;
	uint64_t tau1, tau2, taur; /* pair and destination bursts, rate time constant (ns) */
	uint64_t i1, i2; /* emission intervals at T_F1 and T_F2 (ns) */
	unsigned __int128 flag_excess; /* T_F1 * tflag_ms: excess * 1000 above it flags */
	struct xf_params src;
	struct rcu_head rcu;
};
void xf_params_compile(const struct xf_params *p, struct xf_rt *rt);

/* --- records ------------------------------------------------------------- */

/*
 * Set in a pair's dc and c by the control thread when it retires the pair.
 * A worker that finds it after its atomic add knows the pair is being
 * removed: it neither counts the packet there nor in the destination, and
 * looks the key up again.
 */
#define XF_DEAD (1ULL << 63)

/*
 * A device.  Its lock serialises pair creation and retirement for the
 * device, so the per-device cap is exact: a pair is either in the table and
 * counted in npairs, or neither.
 */
struct xf_dev {
	uint32_t dev;
	uint32_t lock;
	uint32_t npairs; /* live pairs; under lock */
	uint32_t dead; /* retired, being freed; under lock (read relaxed) */
	uint64_t last_warn; /* time of last warning + 1; 0 = never.  Atomic. */
	struct rcu_head rcu;
};

/* A destination's fair-share summary (struct xf_share_view without the address). */
struct xf_share_sum {
	uint32_t senders, heavy;
	uint64_t demand, admitted, share;
};

/*
 * A destination.  The first cache line holds what a packet reads or adds to:
 * the local aggregate (csum, ts1min), the admitted-packet counter and the
 * global window learnt from the master (g_*, under the g_seq seqcount).
 */
/* A destination a share tick found open (under T_F2) tolerates this many tau2 of burst. */
#define XF_OPEN_BURSTS 5

struct xf_dst {
	uint8_t addr[16];
	uint64_t csum; /* c*: sum of c' over the pairs.  Atomic. */
	uint64_t ts1min; /* ts1*: ts1 of the list head.  Written under lock. */
	uint64_t adm; /* packets admitted towards it here, ever.  Atomic. */
	int64_t g_off; /* global c = g_off + adm (see xf_engine_dst_global) */
	uint64_t g_ts1; /* global window start, local clock; 0: none */
	uint32_t g_seq; /* seqcount over g_off, g_ts1; control thread writes */
	uint32_t lock; /* spinlock for the list, ts1min, npairs, dead */
	/* --- second line: the fair policy's per-packet fields, then the slow path --- */
	uint64_t tat2; /* cap limiter (GCRA).  Atomic (CAS). */
	uint64_t share; /* f(D), fixed point; XF_SHARE_NONE.  Control thread writes. */
	/*
	 * Control thread writes.  While share is XF_SHARE_NONE: 0 before the first
	 * tick, then the cap's tolerance (XF_OPEN_BURSTS * tau2: a destination a
	 * tick found under T_F2 takes its senders' bursts); else ns per packet at
	 * the share.
	 */
	uint64_t share_int;
	uint64_t cap_int; /* ns per packet at this proxy's cap; control thread writes */
	/* last packet seen (admitted or dropped), to XF_DST_TS2_GRAIN.  Atomic. */
	uint64_t ts2;
	struct cds_list_head pairs; /* ordered by ts1, oldest first; under lock */
	uint32_t npairs; /* under lock */
	uint32_t dead; /* under lock: retired, do not link pairs */
	uint32_t resort; /* control thread: a pair's ts1 moved, re-sort the list */
	/* control thread: the fair share's inputs and last results */
	struct xf_share_sum sh_local, sh_others;
	uint64_t cap; /* the cap cap_int stands for, fixed point; 0: T_F2 at creation */
	uint64_t g_rate; /* other proxies' packets/s towards it (g_seq) */
	uint64_t g_t; /* local time of the last xf_engine_dst_global() (g_seq) */
	/*
	 * Proxies the cap is split over until the others' first summary for it
	 * (xf_engine_share_peers() at creation); 1: not split.  Control thread.
	 */
	uint32_t prov;
	struct rcu_head rcu;
	/* control thread: xf_engine_dst_local()'s rate (baseline, estimate) */
	uint64_t l_adm0, l_t0, l_rate;
	/* control thread: ts2 and adm when xf_engine_dst_round() last handed it out */
	uint64_t r_ts2, r_adm;
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct xf_dst) == 320, "a destination is five cache lines");
_Static_assert(offsetof(struct xf_dst, tat2) == 64, "hot fields in the first cache line");

/* A worker stores a destination's ts2 when it moved on by more than this (ns). */
#define XF_DST_TS2_GRAIN (1ULL << 20)

/* pair->mark bits: the window restarted (Alg. 2 line 5); the pair is new. */
#define XF_MARK_RESTART 1u
#define XF_MARK_FRESH 2u

/*
 * One (device, destination) pair.  The first cache line holds everything a
 * packet touches.  Writers: workers (ts2 always; c, dc atomically; ts1, mark
 * and dnode under the destination's lock); the control thread (dc by
 * exchange, mark, the _sync fields).  Readers: any thread under RCU.
 */
struct xf_pair {
	struct xf_key key;
	uint32_t mark; /* XF_MARK_*, since the last harvest */
	uint64_t ts1; /* ts1': window start (ns) */
	uint64_t ts2; /* ts2': last packet (ns) */
	uint64_t c; /* c': admitted packets in this window */
	uint64_t dc; /* admitted packets not yet harvested; XF_DEAD */
	struct xf_dst *dst;
	/* --- second line: slow path and control thread --- */
	struct xf_dev *dev;
	uint64_t ts2_sync; /* ts2' when last collected (XF_COLLECT_TOUCHED) */
	union {
		struct cds_list_head dnode; /* in dst->pairs while live */
		struct rcu_head rcu; /* once unlinked, for call_rcu */
	};
	/* fair policy: workers (tat1, tatf, demand, excess: relaxed stores), control (rate, seen) */
	uint64_t tat1; /* T_F1 limiter (GCRA) */
	uint64_t tatf; /* share limiter (GCRA) */
	uint32_t demand; /* packets past tat1, mod 2^32 */
	uint32_t excess; /* packets over T_F1 in this window, saturating */
	uint32_t rate; /* demand rate, XF_RATE_ONE per packet/s */
	uint32_t seen; /* demand at the last share tick */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct xf_pair) == 128, "a pair is two cache lines");
_Static_assert(offsetof(struct xf_pair, dev) == 64, "hot fields in the first cache line");

struct xf_engine {
	struct xf_rt *rt; /* RCU-published thresholds */
	struct xf_limits lim;
	uint64_t seed[4];
	struct dp_mem *mem;
	struct dp_tab pairs, dsts, devs;
	uint64_t npairs, ndsts, ndevs; /* live records.  Atomic. */
	uint64_t share_last; /* control thread: time of the last xf_engine_share() */
	bool share_ticked; /* control thread: share_last is set */
	uint32_t share_peers; /* proxies sharing a budget (xf_engine_share_peers); atomic */
	uint32_t *share_buf; /* control thread: one destination's rates, for the solve */
	size_t share_cap;
	/* Workers, for the exact total and their notes (under workers_lock). */
	pthread_mutex_t workers_lock;
	struct cds_list_head workers;
	uint64_t pass_gone; /* PASS verdicts of freed workers; under workers_lock */
	/*
	 * Control thread: what the notes told (filter_ctl.c, "notes").  notes_lost:
	 * a ring overflowed or the thresholds changed: the next drain walks the
	 * pairs instead (atomic).
	 */
	uint32_t notes_lost;
	struct xf_key *cand, *fresh; /* handoff candidates; pairs created, not yet handed out */
	size_t ncand, cand_cap, nfresh, fresh_cap;
	uint32_t *cand_ix; /* control thread: dedup index of the candidates kept */
	size_t cand_ix_cap;
};

/*
 * A worker's notes to the control thread: pairs it created, pairs whose
 * window count reached heavy_c.  One ring per worker (single producer,
 * single consumer); a full ring sets note_lost and the control thread walks
 * the pairs instead, so a lost note costs time, never a handoff.
 */
#define XF_NOTES 4096u
enum { XF_NOTE_NEW = 1, XF_NOTE_HEAVY = 2 };
struct xf_note {
	struct xf_key key;
	uint32_t kind;
};

struct xf_worker {
	struct xf_engine *e;
	struct xf_worker_stats st; /* written by the owner only, relaxed */
	struct cds_list_head node; /* in e->workers */
	uint32_t note_head __attribute__((aligned(64))); /* owner writes (release) */
	uint32_t note_lost; /* owner sets, control thread clears */
	uint32_t note_tail __attribute__((aligned(64))); /* control thread writes (release) */
	struct xf_note notes[XF_NOTES] __attribute__((aligned(64)));
};

/* Bump a counter owned by one thread but read by others. */
static inline void xf_count(uint64_t *ctr)
{
	dp_count_add(ctr, 1);
}

#define XF_LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define XF_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Table equality callbacks: a retired pair or device matches nothing. */
static inline bool xf_pair_eq(const void *entry, const void *key)
{
	const struct xf_pair *pr = entry;

	return !memcmp(&pr->key, key, sizeof(struct xf_key)) && !(XF_LOAD(pr->dc) & XF_DEAD);
}

static inline bool xf_dst_eq(const void *entry, const void *key)
{
	return !memcmp(((const struct xf_dst *)entry)->addr, key, 16);
}

/* ts2 = max(ts2, t), ts2 being the caller's last load: never moves it back. */
static inline void xf_ts2_advance(struct xf_pair *pr, uint64_t ts2, uint64_t t)
{
	while (t > ts2 && !__atomic_compare_exchange_n(&pr->ts2, &ts2, t, true, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

/* --- hashing ------------------------------------------------------------- */

static inline uint64_t xf_mix(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t xf_load64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* Keyed with per-engine random seeds, so collisions cannot be aimed. */
static inline uint64_t xf_hash_dst(const uint64_t *seed, const uint8_t *addr)
{
	uint64_t h = xf_mix(xf_load64(addr) ^ seed[0], xf_load64(addr + 8) ^ seed[1]);

	return xf_mix(h ^ seed[2], seed[3] | 1);
}

static inline uint64_t xf_hash_pair(const uint64_t *seed, const struct xf_key *k)
{
	uint64_t h = xf_mix(xf_load64(k->dst) ^ seed[0], xf_load64(k->dst + 8) ^ seed[1]);

	return xf_mix(h ^ k->dev ^ seed[2], seed[3] | 1);
}

static inline uint64_t xf_hash_dev(const uint64_t *seed, uint32_t dev)
{
	return xf_mix(dev ^ seed[0], seed[3] | 1);
}

/* --- shared between filter.c and filter_ctl.c ----------------------------- */

void xf_dst_lock(struct xf_dst *d);
void xf_dst_unlock(struct xf_dst *d);
void xf_dev_lock(struct xf_dev *dv);
/* Unlock; a device left with no pair is retired first.  Any thread. */
void xf_dev_unlock(struct xf_engine *e, struct xf_dev *dv);
/* Unlink a pair from its destination; retires the destination when empty. */
void xf_dst_unlink(struct xf_engine *e, struct xf_pair *pr);
void xf_pair_free_rcu(struct xf_engine *e, struct xf_pair *pr);

#endif
