/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fair policy's shared view (docs/sync.md, "Fair share"): every proxy
 * publishes, per destination it has senders for, how many senders it has,
 * how many are above the share, their demand and what they are allowed
 * (struct xf_share_view), and reads the other proxies' sums, so that each
 * proxy solves the same global max-min fair share.
 *
 * Threads: the thread that owns the struct sync_conn (redis.h).
 */
#ifndef XPRO_SYNC_SHARE_H
#define XPRO_SYNC_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include "sync/redis.h"
#include "xpro/filter.h"

/* Destinations per script call. */
#define SYNC_SHARE_BATCH 256

/*
 * Publish mine[0..n) and write into others[i] the sum of the other proxies'
 * summaries for mine[i].dst published less than max_age_ms ago (share: the
 * smallest of theirs; XF_SHARE_NONE when none is congested).  Entries older
 * than that are deleted; a destination's key expires ttl_ms after its last
 * publication.  Returns 0 or -errno (the connection reports why).
 */
int sync_exchange_shares(struct sync_conn *c, const struct xf_share_view *mine, size_t n,
			 struct xf_share_view *others, uint32_t max_age_ms, uint32_t ttl_ms);

#endif /* XPRO_SYNC_SHARE_H */
