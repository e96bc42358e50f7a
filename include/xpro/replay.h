/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The replay window of docs/protocol.md (proxy check 4, device check 9): the
 * highest sequence number accepted and a bitmap of the 63 below it.  One
 * definition for both directions: the proxy keeps one per device epoch
 * (under its sequence lock, src/dataplane/devstate.c), the device one per
 * proxy.  Pure functions, freestanding.
 */
#ifndef XPRO_REPLAY_H
#define XPRO_REPLAY_H

#include "xpro/types.h"

#define XPRO_REPLAY_WINDOW 64 /* sequences: the highest seen and the 63 below it */

struct xpro_replay {
	xpro_u64 top; /* highest sequence accepted */
	xpro_u64 seen; /* bit i: top - i accepted; 0: nothing yet */
};

/* 0 if seq may be accepted; -1 if it was seen, or is 64 or more below the highest. */
static inline int xpro_replay_check(const struct xpro_replay *w, xpro_u64 seq)
{
	xpro_u64 back;

	if (!w->seen || seq > w->top)
		return 0;
	back = w->top - seq;
	return back >= XPRO_REPLAY_WINDOW || ((w->seen >> back) & 1) ? -1 : 0;
}

/* Record seq as accepted (after xpro_replay_check() passed and the tag verified). */
static inline void xpro_replay_mark(struct xpro_replay *w, xpro_u64 seq)
{
	xpro_u64 shift;

	if (!w->seen) {
		w->top = seq;
		w->seen = 1;
	} else if (seq > w->top) {
		shift = seq - w->top;
		w->seen = shift >= XPRO_REPLAY_WINDOW ? 1 : (w->seen << shift) | 1;
		w->top = seq;
	} else {
		w->seen |= (xpro_u64)1 << (w->top - seq);
	}
}

#endif /* XPRO_REPLAY_H */
