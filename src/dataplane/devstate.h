/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device's epoch and replay state (docs/protocol.md checks 3 and 4): the
 * current and previous epoch, each with its cached integrity key and a
 * 64-message replay window.  Internal to src/dataplane/{devtab,auth}.c.
 *
 * Protection: a sequence lock.  Workers take a consistent snapshot before the
 * tag check without writing anything (tun_state_read); after the tag has
 * verified, tun_state_commit() takes the same word as a per-device spinlock
 * (odd = held), checks again and updates.  A spinlock per committed packet is
 * acceptable: it is held for a few dozen instructions, only one cache line
 * moves, and two workers contend only when one device's packets arrive on two
 * queues at once.  Readers retry while it is odd; they never block a writer.
 */
#ifndef XPRO_DP_DEVSTATE_H
#define XPRO_DP_DEVSTATE_H

#include <stdint.h>

#include "xpro/replay.h"
#include "xpro/siphash.h"

/*
 * One epoch.  Every field is read and written with atomics (devstate.c),
 * because readers copy it while a writer may be changing it (the lock word
 * then tells them to retry).
 */
struct tun_ep {
	struct xpro_sipkey ik; /* IK of this epoch, as SipHash key words */
	struct xpro_replay win; /* sequences authenticated (xpro/replay.h) */
	uint32_t epoch;
	uint32_t valid; /* 1 once a tag under this epoch verified */
};

enum { TUN_EP_CUR = 0, TUN_EP_PREV = 1 };

/*
 * The device's rejections by reason, for the reasons that come after its lookup
 * (TUN_REJ_INACTIVE .. TUN_REJ_SPOOF): a packet that names a provisioned device
 * adds to that device's counter, in the state the device already has, so the
 * memory stays bounded by the provisioning file (it fits in the state's second
 * cache line) and nothing unauthenticated creates any.  Relaxed atomic adds, on
 * the rejection path only; they start again when the device's secret changes.
 */
#define TUN_STATE_REJ_FIRST 6 /* TUN_REJ_INACTIVE; checked in auth.c */
#define TUN_STATE_NREJ 8

struct tun_state {
	uint32_t lock; /* sequence lock; odd while a writer is inside */
	uint32_t gen; /* the newest table using this state; control thread only */
	struct tun_ep ep[2]; /* [TUN_EP_CUR], [TUN_EP_PREV] */
	uint32_t rej[TUN_STATE_NREJ]; /* [reason - TUN_STATE_REJ_FIRST], atomics */
} __attribute__((aligned(64)));

/* Where a message's epoch falls (tun_state_check's result). */
enum tun_slot {
	TUN_SLOT_CUR = TUN_EP_CUR, /* the current epoch */
	TUN_SLOT_PREV = TUN_EP_PREV, /* the previous epoch */
	TUN_SLOT_NEW, /* no epoch yet, or a newer one: IK to derive, window empty */
};

/* A zeroed state, cache-line aligned.  NULL on ENOMEM.  Control thread. */
struct tun_state *tun_state_new(void);
void tun_state_free(struct tun_state *s);

/* Consistent copy of both epochs, for the checks before the tag.  Never writes. */
void tun_state_read(const struct tun_state *s, struct tun_ep ep[2]);

/*
 * Where (epoch, seq) falls given the snapshot ep: an enum tun_slot, or
 * -TUN_REJ_EPOCH (older than the previous epoch) or -TUN_REJ_REPLAY (seen,
 * or 64 or more below the epoch's highest).  Pure.
 */
int tun_state_check(const struct tun_ep ep[2], uint32_t epoch, uint64_t seq);

/*
 * After the tag verified under ik: lock, check again (another worker may have
 * committed since the snapshot), then record seq, advancing the epoch when it
 * is new (current becomes previous).  Returns 0, -TUN_REJ_EPOCH or
 * -TUN_REJ_REPLAY.  Any worker thread.
 */
int tun_state_commit(struct tun_state *s, uint32_t epoch, uint64_t seq,
		     const struct xpro_sipkey *ik);

/* Count rejection r (-TUN_REJ_*, one of the device's reasons) and return r.  Any worker. */
static inline int tun_state_reject(struct tun_state *s, int r)
{
	unsigned i = (unsigned)(-r - TUN_STATE_REJ_FIRST);

	if (i < TUN_STATE_NREJ)
		__atomic_fetch_add(&s->rej[i], 1, __ATOMIC_RELAXED);
	return r;
}

#endif
