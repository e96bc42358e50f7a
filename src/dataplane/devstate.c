/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device's epochs and replay windows under a sequence lock: lock-free
 * snapshots for the checks before the tag, a per-device spinlock for the
 * commit after it.  The protocol rules (which epochs and sequences pass) are
 * in tun_state_check(), used by both sides so that they cannot disagree.
 */
#include <stdlib.h>
#include <string.h>
#include <urcu/arch.h>

#include "dataplane/devstate.h"
#include "dataplane/tunnel.h"

/*
 * Data words are loaded with acquire and stored with release rather than
 * relaxed between fences: the same guarantees (a reader that sees any new
 * word also sees the odd lock word before it, and its last look at the lock
 * cannot move above its data loads), free on x86, and understood by
 * ThreadSanitizer, which does not support fences.
 */
#define LD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define ST(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

struct tun_state *tun_state_new(void)
{
	struct tun_state *s = aligned_alloc(64, sizeof(*s));

	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

void tun_state_free(struct tun_state *s)
{
	free(s);
}

static void ep_load(struct tun_ep *d, const struct tun_ep *s)
{
	d->ik.k0 = LD(&s->ik.k0);
	d->ik.k1 = LD(&s->ik.k1);
	d->win.top = LD(&s->win.top);
	d->win.seen = LD(&s->win.seen);
	d->epoch = LD(&s->epoch);
	d->valid = LD(&s->valid);
}

static void ep_store(struct tun_ep *d, const struct tun_ep *s)
{
	ST(&d->ik.k0, s->ik.k0);
	ST(&d->ik.k1, s->ik.k1);
	ST(&d->win.top, s->win.top);
	ST(&d->win.seen, s->win.seen);
	ST(&d->epoch, s->epoch);
	ST(&d->valid, s->valid);
}

/*
 * The reader side of the sequence lock (Boehm, "Can seqlocks get along with
 * programming language memory models?", 2012): the lock word, the data, the
 * lock word again.  Unchanged and even: no writer overlapped the copy.
 */
void tun_state_read(const struct tun_state *s, struct tun_ep ep[2])
{
	uint32_t before;

	for (;;) {
		before = __atomic_load_n(&s->lock, __ATOMIC_ACQUIRE);
		if (before & 1) {
			caa_cpu_relax();
			continue;
		}
		ep_load(&ep[0], &s->ep[0]);
		ep_load(&ep[1], &s->ep[1]);
		if (__atomic_load_n(&s->lock, __ATOMIC_RELAXED) == before)
			return;
	}
}

static int window_check(const struct tun_ep *e, uint64_t seq)
{
	return xpro_replay_check(&e->win, seq) ? -TUN_REJ_REPLAY : 0;
}

int tun_state_check(const struct tun_ep ep[2], uint32_t epoch, uint64_t seq)
{
	const struct tun_ep *cur = &ep[TUN_EP_CUR], *prev = &ep[TUN_EP_PREV];
	int r;

	/* No epoch authenticated yet, or a reboot: a fresh window. */
	if (!cur->valid || epoch > cur->epoch)
		return TUN_SLOT_NEW;
	if (epoch == cur->epoch) {
		r = window_check(cur, seq);
		return r ? r : TUN_SLOT_CUR;
	}
	if (prev->valid && epoch == prev->epoch) {
		r = window_check(prev, seq);
		return r ? r : TUN_SLOT_PREV;
	}
	return -TUN_REJ_EPOCH;
}

static uint32_t state_lock(struct tun_state *s)
{
	uint32_t v;

	for (;;) {
		v = __atomic_load_n(&s->lock, __ATOMIC_RELAXED);
		if (!(v & 1) && __atomic_compare_exchange_n(&s->lock, &v, v + 1, true,
							    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		caa_cpu_relax();
	}
	return v + 1;
}

static void state_unlock(struct tun_state *s, uint32_t locked)
{
	__atomic_store_n(&s->lock, locked + 1, __ATOMIC_RELEASE);
}

int tun_state_commit(struct tun_state *s, uint32_t epoch, uint64_t seq,
		     const struct xpro_sipkey *ik)
{
	struct tun_ep ep[2], fresh;
	uint32_t locked;
	int slot;

	locked = state_lock(s);
	/* Only lock holders write, so this copy is stable until the unlock. */
	ep_load(&ep[0], &s->ep[0]);
	ep_load(&ep[1], &s->ep[1]);
	slot = tun_state_check(ep, epoch, seq);
	if (slot < 0)
		goto out_unlock;
	if (slot == TUN_SLOT_NEW) {
		memset(&fresh, 0, sizeof(fresh));
		fresh.ik = *ik;
		fresh.epoch = epoch;
		fresh.valid = 1;
		xpro_replay_mark(&fresh.win, seq);
		/* Before any epoch, there is no current to keep as previous. */
		if (ep[TUN_EP_CUR].valid)
			ep_store(&s->ep[TUN_EP_PREV], &ep[TUN_EP_CUR]);
		ep_store(&s->ep[TUN_EP_CUR], &fresh);
	} else {
		xpro_replay_mark(&ep[slot].win, seq);
		ST(&s->ep[slot].win.top, ep[slot].win.top);
		ST(&s->ep[slot].win.seen, ep[slot].win.seen);
	}
	slot = 0;
out_unlock:
	state_unlock(s, locked);
	return slot;
}
