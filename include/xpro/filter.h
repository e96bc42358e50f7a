/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The X-Pro filter engine: Algorithm 2 of the paper (per (device, destination)
 * pair and per destination rate checks) as a library that proxy workers call
 * per packet or per burst.  docs/algorithm.md maps each line of the paper to
 * this code and explains how each ambiguity was resolved.
 *
 * Threads and protection (see the table in docs/algorithm.md):
 *  - Workers: any number of threads, each owning one struct xf_worker.  They
 *    must be registered liburcu readers (rcu_register_thread()) and call the
 *    filter functions inside rcu_read_lock()/rcu_read_unlock().  They never
 *    take a lock in the common per-packet path; a lock is taken only when a
 *    pair is created or its window restarts after idling (slow path).
 *  - Control: exactly one thread calls xf_engine_set_params(),
 *    xf_engine_harvest() and xf_engine_reclaim(), concurrently with workers.
 *  - Time is always passed in by the caller (nanoseconds on one monotonic
 *    clock, typically xf_now_ns() read once per burst), so tests drive time.
 */
#ifndef XPRO_FILTER_H
#define XPRO_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpro/pair_key.h"

#define XF_NSEC_PER_MSEC 1000000ULL
#define XF_NSEC_PER_SEC 1000000000ULL

/* Lookup key: struct xf_key, shared with the XDP drop-map (pair_key.h). */

/*
 * Thresholds, in the units an operator thinks in: field, unit, lowest,
 * highest, default.  The one list of bounds and defaults: the engine's
 * validation (xf_param_table, filter_params.c) and xpro-proxy's option table
 * (src/control/proxy/opts.c, XF_PARAM_BOUNDS()) are built from it.  The
 * reasons for the defaults are in docs/algorithm.md.
 */
#define XF_DAY_MS 86400000
#define XF_PARAMS(X)                                  \
	X(tt1_ms, "ms", 1, XF_DAY_MS, 10000)          \
	X(tt2_ms, "ms", 1, XF_DAY_MS, 1000)           \
	X(tt3_ms, "ms", 1, XF_DAY_MS, 1000)           \
	X(tt4_ms, "ms", 1, XF_DAY_MS, 60000)          \
	X(tf1_pps, "packets/s", 1, 1000000000, 1000)  \
	X(tf2_pps, "packets/s", 1, 1000000000, 10000) \
	X(r, "divisor", 1, 1024, 2)                   \
	X(warn_interval_ms, "ms", 0, XF_DAY_MS, 1000) \
	X(policy, "fcfs|fair", 0, 1, XF_POLICY_FAIR)  \
	X(pair_burst_ms, "ms", 1, 60000, 1000)        \
	X(dst_burst_ms, "ms", 1, 60000, 20)           \
	X(tflag_ms, "ms", 0, XF_DAY_MS, 3000)         \
	X(rate_ms, "ms", 1, 60000, 500)

/* XF_PMIN_<field>, XF_PMAX_<field>, XF_PDEF_<field>: the list above as constants. */
#define XF_PARAM_ENUM_(f, unit, lo, hi, def) XF_PMIN_##f = lo, XF_PMAX_##f = hi, XF_PDEF_##f = def,
/* An option table's "lowest, highest" for the field f. */
#define XF_PARAM_BOUNDS(f) XF_PMIN_##f, XF_PMAX_##f

struct xf_params {
	uint64_t tt1_ms; /* T_T1: a pair idle longer than this restarts its window */
	uint64_t tt2_ms; /* T_T2: minimum pair window before T_F1 is checked */
	uint64_t tt3_ms; /* T_T3: minimum destination window before T_F2 is checked */
	uint64_t tt4_ms; /* T_T4: window length at which sync decays counts (Alg. 1) */
	uint64_t tf1_pps; /* T_F1: max packets/s of one (device, destination) pair */
	uint64_t tf2_pps; /* T_F2: max packets/s towards one destination, all devices */
	uint32_t r; /* Alg. 1 decay divisor (window and count divided by r) */
	uint32_t warn_interval_ms; /* min gap between overload warnings per device */
	/* Destination policy (docs/algorithm.md, "Fair share"): XF_POLICY_*. */
	uint32_t policy;
	uint32_t pair_burst_ms; /* fair: burst of the pair's T_F1 limiter */
	uint32_t dst_burst_ms; /* fair: burst of the destination cap and of the share */
	uint32_t tflag_ms; /* fair: excess over T_F1 (in ms of T_F1) before XDP flags the pair */
	uint32_t rate_ms; /* fair: time constant of the demand-rate estimates */
};

/* The destination policy. */
enum xf_policy {
	XF_POLICY_FCFS = 0, /* the paper's Algorithm 2: windows, first come first served */
	XF_POLICY_FAIR = 1, /* max-min fair share of T_F2, rate limiters from the first packet */
};
const char *xf_policy_name(unsigned policy);

enum xf_param_bounds { XF_PARAMS(XF_PARAM_ENUM_) };

/* Sensible defaults for IoT devices; the reasons are in docs/algorithm.md. */
void xf_params_default(struct xf_params *p);

/*
 * Check every field.  Returns 0, or -EINVAL and writes "key: bad value 'v'
 * (reason)" into err (when err is not NULL).
 */
int xf_params_validate(const struct xf_params *p, char *err, size_t errlen);

/* Sizing; fixed for the engine's lifetime. */
struct xf_limits {
	uint32_t max_records; /* live (device, destination) pairs, whole engine */
	uint32_t max_dsts_per_dev; /* distinct live destinations per device */
};

enum xf_verdict {
	XF_PASS = 0, /* forward the packet */
	XF_DROP_PAIR, /* pair above T_F1 (Alg. 2 line 14) */
	XF_DROP_DST, /* destination above T_F2 (Alg. 2 line 23) */
	XF_DROP_DEVCAP, /* new pair refused: device at max_dsts_per_dev */
	XF_DROP_FULL, /* new pair refused: engine at max_records */
	XF_NVERDICTS,
};

/*
 * Flag or'ed into an XF_DROP_PAIR verdict when the caller should send the
 * device an overload warning (Alg. 2 line 15); raised at most once per
 * warn_interval_ms per device.  Use xf_verdict_of() to strip it.
 */
#define XF_WARN 0x80u
/*
 * Or'ed into an XF_DROP_PAIR verdict of the fair policy when the packet is
 * excess only (the pair is held to T_F1; its overflow within tflag_ms): drop
 * it, but do not flag the pair into the XDP drop-map.  The fcfs policy never
 * sets it: every DROP_PAIR flags, as in the paper.
 */
#define XF_SOFT 0x40u

static inline enum xf_verdict xf_verdict_of(unsigned v)
{
	return (enum xf_verdict)(v & ~(XF_WARN | XF_SOFT));
}

const char *xf_verdict_name(enum xf_verdict v);

struct xf_engine;
struct xf_worker;

/*
 * Create an engine.  seed keys the table hashes (pass random bits so that
 * attackers cannot aim collisions).  Returns NULL and sets errno on failure
 * (EINVAL for bad params or limits, ENOMEM).
 */
struct xf_engine *xf_engine_new(const struct xf_params *p, const struct xf_limits *lim,
				uint64_t seed);
/* Frees everything.  No worker may be running; call from a registered thread. */
void xf_engine_free(struct xf_engine *e);

/*
 * Swap the thresholds without stopping workers (RCU publish; the old set is
 * freed after a grace period).  Returns 0 or -EINVAL/-ENOMEM.
 */
int xf_engine_set_params(struct xf_engine *e, const struct xf_params *p);
void xf_engine_get_params(struct xf_engine *e, struct xf_params *out);

/* Per-worker context: counters owned by one thread. */
struct xf_worker *xf_worker_new(struct xf_engine *e);
void xf_worker_free(struct xf_worker *w);

/*
 * Run Algorithm 2 for one packet at time now_ns.  Returns an enum xf_verdict,
 * possibly with XF_WARN.  Caller holds rcu_read_lock().
 */
unsigned xf_filter(struct xf_worker *w, const struct xf_key *key, uint64_t now_ns);

/*
 * The same for n packets, in order, all at time now_ns, writing verdicts[i].
 * Prefetches table memory across the burst; semantics equal n xf_filter()
 * calls.  Returns n.
 */
unsigned xf_filter_burst(struct xf_worker *w, const struct xf_key *keys, uint8_t *verdicts,
			 unsigned n, uint64_t now_ns);

/* Counters of one worker.  Readable from any thread (relaxed, monotonic). */
struct xf_worker_stats {
	uint64_t verdict[XF_NVERDICTS];
	uint64_t warnings; /* XF_WARN raised */
	uint64_t pairs_created;
	uint64_t window_resets; /* Alg. 2 line 4 */
};
void xf_worker_stats(const struct xf_worker *w, struct xf_worker_stats *out);

/* One pair's state as seen by the control thread (for sync and the CLI). */
struct xf_pair_view {
	struct xf_key key;
	uint64_t ts1, ts2; /* ts1', ts2' (ns) */
	uint64_t count; /* c': admitted packets in the current window */
	uint64_t dc; /* admitted packets not yet harvested */
	bool mark; /* window restarted since the last harvest */
	bool fresh; /* created since the last harvest */
	/* Fair policy (zero under fcfs): */
	uint32_t demand; /* packets past the pair's T_F1 limiter, ever (mod 2^32) */
	uint32_t excess; /* packets over T_F1 in this window (saturating) */
	uint32_t rate; /* demand rate estimate, XF_RATE_ONE per packet/s */
};

/*
 * Control thread: move every pair's delta dc into the caller's hands and
 * clear mark.  fn (may be NULL) sees each pair with a non-zero delta or a
 * set mark, with its view taken at harvest time; the sum of all dc handed out
 * plus what workers add later equals the admitted packets, exactly.
 * Returns the number of pairs handed to fn.
 */
size_t xf_engine_harvest(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			 void *arg);

/* xf_engine_collect() flags. */
#define XF_COLLECT_TOUCHED 1u /* also pairs new or with a later ts2' since last collected */
#define XF_COLLECT_ALL 2u /* every live pair (re-seeding an empty master) */

/*
 * Control thread, Algorithm 1: xf_engine_harvest() for the sync round.  With
 * XF_COLLECT_TOUCHED it also hands out pairs created since they were last
 * handed out and pairs whose ts2' moved although nothing was admitted (all
 * their packets dropped: the store must see the pair alive); with
 * XF_COLLECT_ALL every live pair.  Returns the number handed to fn.
 */
size_t xf_engine_collect(struct xf_engine *e, unsigned flags,
			 void (*fn)(const struct xf_pair_view *, void *), void *arg);

/*
 * Control thread: adopt the master's window (c, ts1, ts2) for the pair whose
 * view at collection time was *at* (docs/sync.md, "Applying the result"):
 * c' += c - at->count atomically (packets admitted since the collection stay
 * counted; the destination's c* moves with it), ts1' = ts1, ts2' =
 * max(ts2', ts2).  Does nothing and returns false when the pair is gone or
 * restarted its window since: the local restart wins and its next merge
 * carries mark.  Call xf_engine_apply_end() after a round's applies.
 */
bool xf_engine_pair_apply(struct xf_engine *e, const struct xf_pair_view *at, uint64_t c,
			  uint64_t ts1, uint64_t ts2);

/*
 * The destination round (docs/sync.md, "The destination round"; also
 * xf_engine_dst_round() below).  Control thread.  xf_engine_dst_local(): this proxy's window towards dst (c*,
 * ts1*), what it admitted there ever, and its admitted rate over about the
 * last second (XF_RATE_ONE per packet/s; the first call estimates it from
 * the window).  False when dst has no local pair.
 */
struct xf_dst_local {
	uint64_t count, ts1, admitted, rate;
};
bool xf_engine_dst_local(struct xf_engine *e, const uint8_t dst[16], uint64_t now_ns,
			 struct xf_dst_local *out);

/*
 * The other proxies' part of dst, as the round read it at now_ns: their
 * windows' count c since ts1 (local clock; 0: no other proxy has a live
 * window, the local check alone judges dst) and their admitted rate
 * (XF_RATE_ONE per packet/s).  Workers then judge dst also by c + this
 * proxy's count + the others' packets since now_ns at that rate, over
 * [min(ts1, ts1*), now], with T_T3 and T_F2, and drop on either verdict.
 */
bool xf_engine_dst_global(struct xf_engine *e, const uint8_t dst[16], uint64_t c, uint64_t ts1,
			  uint64_t rate, uint64_t now_ns);

/* The same, on the record xf_engine_dst_round() named (see there). */
void xf_engine_dst_global_ref(struct xf_engine *e, void *ref, uint64_t c, uint64_t ts1,
			      uint64_t rate, uint64_t now_ns);

/* Control thread: finish a round of applies (re-sorts destinations whose
 * pairs' starts moved, so that ts1* is their minimum again).  Returns how
 * many destinations were re-sorted. */
size_t xf_engine_apply_end(struct xf_engine *e);

/*
 * Control thread: free pairs idle for longer than T_T1 whose delta was
 * harvested (dc == 0), and destinations and devices left with no pair.  Memory
 * returns after an RCU grace period (call_rcu).  Returns pairs freed.
 */
size_t xf_engine_reclaim(struct xf_engine *e, uint64_t now_ns);

/*
 * The same without waiting for a harvest: pairs idle for longer than T_T1
 * go with whatever delta they hold (for callers that take exact totals from
 * xf_engine_admitted(), not from harvested deltas: the destination round).
 */
size_t xf_engine_reclaim_idle(struct xf_engine *e, uint64_t now_ns);

/*
 * Control thread: the pair's packets were seen until ts_ns although the
 * engine did not see them (dropped in XDP because the pair is flagged): move
 * its ts2 forward to ts_ns, as a dropped packet would (docs/algorithm.md,
 * gap 1), so that the pair neither restarts its window nor is reclaimed
 * while the flood goes on.  Returns true if the pair exists.
 */
bool xf_engine_touch(struct xf_engine *e, const struct xf_key *key, uint64_t ts_ns);

/* Look up one pair or destination (tests, CLI).  Caller holds rcu_read_lock(). */
bool xf_engine_pair(struct xf_engine *e, const struct xf_key *key, struct xf_pair_view *out);

/*
 * Read-only walk of every live pair (the CLI's `top`): fn sees each pair's
 * view; nothing is cleared or handed out, unlike harvest and collect.  Any
 * thread; the caller holds rcu_read_lock() (a registered reader).  fn must
 * not block.  Returns the number of pairs seen.
 */
size_t xf_engine_foreach_pair(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			      void *arg);

struct xf_dst_view {
	uint64_t ts1; /* ts1*: min ts1' over the destination's pairs */
	uint64_t ts2; /* ts2*: max ts2' */
	uint64_t count; /* c*: sum of c' over the destination's pairs */
	uint32_t pairs;
	uint64_t admitted; /* packets admitted towards it here */
	uint64_t g_ts1, g_count; /* global window (xf_engine_dst_global); g_ts1 0: none */
	uint64_t g_rate; /* the other proxies' packets/s, estimated */
	/* Fair policy, as of the last xf_engine_share(): */
	uint64_t share; /* f(D), XF_RATE_ONE per packet/s; XF_SHARE_NONE: not congested */
	uint64_t cap; /* this proxy's cap towards D, XF_RATE_ONE per packet/s */
	uint32_t senders; /* local pairs with a demand rate above zero */
	uint64_t demand; /* sum of their demand rates, XF_RATE_ONE per packet/s */
};
bool xf_engine_dst(struct xf_engine *e, const uint8_t dst[16], struct xf_dst_view *out);

/*
 * Fair policy (docs/algorithm.md, "Fair share").  Rates are fixed-point,
 * XF_RATE_ONE per packet/s.
 */
#define XF_RATE_ONE 16u
#define XF_SHARE_NONE UINT64_MAX

/*
 * Control thread, every tick (fair policy; harmless under fcfs): update every
 * pair's demand-rate estimate from the packets it offered since the last
 * call, then for every destination the max-min fair share f(D) such that the
 * sum over all senders, here and on the other proxies (xf_engine_share_apply),
 * of min(rate, f) is T_F2, and this proxy's cap towards D (T_F2 less what
 * the others admit at f).  O(pairs); workers read the results.  Returns the
 * number of congested destinations.
 */
size_t xf_engine_share(struct xf_engine *e, uint64_t now_ns);

/* One destination's fair-share summary, exchanged through the sync layer. */
struct xf_share_view {
	uint8_t dst[16];
	uint32_t senders; /* pairs with a demand rate above zero */
	uint32_t heavy; /* of them, with a rate above share */
	uint64_t demand; /* sum of their rates */
	uint64_t admitted; /* sum of min(rate, share): what they are allowed */
	uint64_t share; /* the share it was computed at; XF_SHARE_NONE */
};

/*
 * Control thread: the local summary of every destination with senders, as
 * of the last xf_engine_share().  Returns how many fn saw.
 */
size_t xf_engine_share_foreach(struct xf_engine *e,
			       void (*fn)(const struct xf_share_view *, void *), void *arg);

/*
 * Control thread: the other proxies' summaries towards v->dst, summed (share
 * is the one they computed at; senders, heavy, demand and admitted are sums).
 * The next xf_engine_share() solves the global fair share with them, until
 * another apply replaces them; senders == 0 forgets them.  Returns false when
 * dst has no local pair.
 */
bool xf_engine_share_apply(struct xf_engine *e, const struct xf_share_view *others);
/* The same on a record xf_engine_dst_round() named (others->dst unused). */
void xf_engine_share_apply_ref(struct xf_engine *e, void *ref, const struct xf_share_view *others);

/*
 * Control thread: how many proxies share every destination's budget (this one
 * and the others the sync sees; 1 without sync, the default).  A destination
 * first seen from now on gets T_F2 / proxies as this proxy's cap until its
 * first xf_engine_share_apply(): a new destination is bounded near T_F2 over
 * all proxies before they have exchanged a summary.
 */
void xf_engine_share_peers(struct xf_engine *e, uint32_t proxies);

/*
 * The destination round (docs/sync.md, "The destination round").  Control
 * thread.  xf_engine_dst_round(): every destination seen since the last call
 * (a packet admitted or dropped there) and, under the fair policy, every one
 * with a share summary; with XF_COLLECT_ALL every live one.  fn sees this
 * proxy's window (c*, ts1*, and ts2* to about a millisecond), its admitted rate as
 * xf_engine_dst_local() measures it, and ref, which names the record for
 * xf_engine_dst_global_ref() and xf_engine_share_apply_ref() while the caller
 * stays inside one rcu_read_lock() section (a retired destination's record
 * takes the writes and is freed after it).  O(destinations), no pair walked.
 */
struct xf_dst_round {
	uint8_t dst[16];
	uint64_t count, ts1, ts2, rate;
	bool has_share; /* fair policy: share holds this proxy's summary */
	struct xf_share_view share;
	void *ref;
};
size_t xf_engine_dst_round(struct xf_engine *e, unsigned flags, uint64_t now_ns,
			   void (*fn)(const struct xf_dst_round *, void *), void *arg);

/*
 * Control thread: packets admitted by every worker of the engine, ever
 * (freed workers included).  The exact total the sync layer publishes.
 */
uint64_t xf_engine_admitted(struct xf_engine *e);

/*
 * Handoff (docs/sync.md, "Pairs follow their device").  A pair is heavy when
 * its window holds at least T_F1 x max(window, T_T3) / XF_HEAVY_DIV packets.
 * Control thread.  xf_engine_heavy(): fn sees every live heavy pair;
 * xf_engine_new_pairs(): every pair created since the last call (view.fresh
 * set), each once.  Both learn from notes the workers leave when they create
 * a pair or its count reaches the threshold, so their cost grows with the
 * heavy and the new pairs, not with all of them (a worker whose notes
 * overflowed makes the next call walk the pairs once).  Return how many fn
 * saw.
 */
#define XF_HEAVY_DIV 4
size_t xf_engine_heavy(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
		       void *arg);
size_t xf_engine_new_pairs(struct xf_engine *e, void (*fn)(const struct xf_pair_view *, void *),
			   void *arg);

struct xf_engine_stats {
	uint64_t pairs, dsts, devs; /* live records */
	uint64_t bytes_records; /* bytes held by pair/destination/device records */
	uint64_t bytes_tables; /* bytes of the fixed hash-table arrays */
	uint64_t alloc_bytes; /* allocator's own figure for our arena (0 if unknown) */
	const char *allocator; /* "jemalloc" or "libc" */
};
void xf_engine_stats(struct xf_engine *e, struct xf_engine_stats *out);

/* Bytes one live pair costs at most (record, its table slot share). */
size_t xf_bytes_per_record(void);

/* Key helpers. */
void xf_key_ipv4(struct xf_key *k, uint32_t dev, uint32_t dst_be);
void xf_key_ipv6(struct xf_key *k, uint32_t dev, const uint8_t dst[16]);

/* CLOCK_MONOTONIC in nanoseconds: the clock workers pass as now_ns. */
uint64_t xf_now_ns(void);

/*
 * What a pair sends, packets/s, as an operator reads it: under fair, its
 * demand-rate estimate (packets past its T_F1 limiter); under fcfs, its
 * count over its current window (at least 1 ms long).
 */
static inline uint64_t xf_pair_pps(const struct xf_pair_view *v, unsigned policy)
{
	uint64_t w = v->ts2 > v->ts1 ? v->ts2 - v->ts1 : 0;

	if (policy == XF_POLICY_FAIR && v->rate)
		return v->rate / XF_RATE_ONE;
	if (w < XF_NSEC_PER_MSEC)
		w = XF_NSEC_PER_MSEC;
	return v->count * XF_NSEC_PER_SEC / w;
}

#endif /* XPRO_FILTER_H */
