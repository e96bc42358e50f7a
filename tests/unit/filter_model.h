/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Deliberately naive reference model of the filter engine: docs/algorithm.md,
 * "Exact semantics", written as plainly as possible (every aggregate is a scan).
 */
#ifndef XPRO_TESTS_FILTER_MODEL_H
#define XPRO_TESTS_FILTER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xpro/filter.h>

struct fm;

/* Returns NULL on allocation failure.  Params and limits are not validated. */
struct fm *fm_new(const struct xf_params *p, const struct xf_limits *lim);
void fm_free(struct fm *m);

/* New thresholds; state is kept, the next packet uses them. */
void fm_set_params(struct fm *m, const struct xf_params *p);

/*
 * One packet at time now_ns: enum xf_verdict, possibly | XF_WARN (and, under
 * the fair policy, | XF_SOFT).  Dispatches on the policy in force.
 */
unsigned fm_filter(struct fm *m, const struct xf_key *key, uint64_t now_ns);

/*
 * The fair policy's share tick (docs/algorithm.md, "Exact semantics of
 * fair"): every pair's demand rate, then every destination's share, share
 * interval and cap.  Runs whatever the policy.  Returns the number of
 * destinations left congested (share != XF_SHARE_NONE).
 */
size_t fm_share(struct fm *m, uint64_t now_ns);

/* The local summary of every destination with senders, as of the last tick. */
size_t fm_share_foreach(const struct fm *m, void (*fn)(const struct xf_share_view *, void *),
			void *arg);

/* The other proxies' summary towards others->dst; senders == 0 forgets it. */
bool fm_share_apply(struct fm *m, const struct xf_share_view *others);
void fm_share_peers(struct fm *m, uint32_t proxies); /* xf_engine_share_peers() */

/* Which branch of the fair policy decided each packet, and what the ticks found. */
struct fm_fair_stats {
	uint64_t pair_soft, pair_hard; /* DROP_PAIR with and without XF_SOFT */
	uint64_t share_drops; /* DROP_DST by a heavy pair's share limiter */
	uint64_t cap_drops_heavy, cap_drops_light, cap_drops_open; /* DROP_DST by the cap */
	uint64_t pass_heavy, pass_light, pass_open; /* PASS: heavy, light, share NONE */
	uint64_t borrowed; /* light PASS that only the doubled burst let through */
	uint64_t ticks; /* fm_share() calls */
	uint64_t dst_congested, dst_open; /* destinations with senders, summed over ticks */
	uint64_t solve_steps; /* Newton steps taken, summed */
};
void fm_fair_stats(const struct fm *m, struct fm_fair_stats *out);

/*
 * Hand out every pair's dc: returns the sum, zeroes dc and mark.  *handed (if
 * not NULL) receives the number of pairs that had dc != 0 or mark set.
 */
uint64_t fm_harvest(struct fm *m, size_t *handed);

/* Remove pairs with now - ts2 > T_T1 and dc == 0; returns how many. */
size_t fm_reclaim(struct fm *m, uint64_t now_ns);

/* Views in the engine's types, computed by scanning. */
bool fm_pair(const struct fm *m, const struct xf_key *key, struct xf_pair_view *out);
bool fm_dst(const struct fm *m, const uint8_t dst[16], struct xf_dst_view *out);

/* Live pairs, distinct destinations and distinct devices among them. */
void fm_counts(const struct fm *m, uint64_t *pairs, uint64_t *dsts, uint64_t *devs);

/* What one xf_worker would have counted had it seen every packet. */
void fm_stats(const struct fm *m, struct xf_worker_stats *out);

/* Calls fn for every live pair, in creation order. */
void fm_for_each_pair(const struct fm *m, void (*fn)(const struct xf_pair_view *, void *),
		      void *arg);

/* "dev 12 -> 10.0.0.3" or "dev 12 -> [2001:db8::1]"; returns buf. */
const char *fm_key_str(const struct xf_key *k, char *buf, size_t len);

#endif /* XPRO_TESTS_FILTER_MODEL_H */
