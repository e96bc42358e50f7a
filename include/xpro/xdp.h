/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The contract between bpf/xpro.bpf.c and the proxy: map names, key and value
 * layouts, counter indexes and load-time settings.  Included by both sides.
 */
#ifndef XPRO_XDP_H
#define XPRO_XDP_H

#include <linux/types.h>

#include "xpro/pair_key.h"

/*
 * Map names.  The device and drop maps are pinned under XPRO_PIN_ROOT/<ifname>/
 * so a restart keeps them; the counters start at zero with each process.
 */
#define XPRO_PIN_ROOT "/sys/fs/bpf/xpro"
#define XPRO_MAP_XSKS xsks_map
#define XPRO_MAP_DEVICES xpro_devices
#define XPRO_MAP_DROP xpro_drop
#define XPRO_MAP_STATS xpro_stats
/* The names as strings, for bpf_object__find_map_by_name(): XPRO_STR(XPRO_MAP_DROP). */
#define XPRO_STR_(x) #x
#define XPRO_STR(x) XPRO_STR_(x)

#define XPRO_MAX_QUEUES 64
#define XPRO_MAX_DEVICES 1048576
#define XPRO_MAX_FLAGGED 262144

/*
 * Drop-map key: struct xf_key (pair_key.h), the filter engine's own key, so
 * userspace inserts the key it already has.
 */

/*
 * Drop-map value.  XDP drops every packet of a pair present in the map and
 * counts it; it reads no clock.  The control thread deletes the entry when
 * until_ns (CLOCK_MONOTONIC) has passed, so the hold ends within one tick.
 * The filter engine never sees the dropped packets, so the control thread
 * also moves the pair's last-seen time (ts2) forward while packets grows, or
 * a flood would look idle when its hold ends and get a fresh window
 * (docs/algorithm.md, gap 1).
 */
struct xpro_drop_val {
	__u64 until_ns; /* written by userspace only */
	__u64 packets; /* atomic add in XDP */
};

/* Device map: key __u32 device index (host order); BPF_F_NO_PREALLOC. */
struct xpro_dev_val {
	__u8 active; /* 0: provisioned but disabled */
	__u8 pad[3];
};

/*
 * Per-CPU counters, XPRO_MAP_STATS index: one row per outcome of the
 * program, X(ID, name, meaning).  The rows make the enum (XPRO_XDP_ID) and
 * the names userspace prints (xpro_xdp_stat_name(): the keys of the status
 * file's "xdp_packets", the action label of /metrics, docs/metrics.md), so
 * an outcome cannot be added without its name.
 */
#define XPRO_XDP_STATS(X)                                                                    \
	X(PASS_OTHER, pass_other, "not tunnel traffic: passed to the kernel")                \
	X(REDIRECT, redirect, "tunnel packet handed to the AF_XDP socket of its queue")      \
	X(PASS_NO_XSK, pass_no_xsk, "tunnel packet, no AF_XDP socket on its queue: passed")  \
	X(DROP_MALFORMED, drop_malformed, "tunnel port, bad header or lengths: dropped")     \
	X(DROP_UNKNOWN_DEV, drop_unknown_dev, "device not provisioned or inactive: dropped") \
	X(DROP_FLAGGED, drop_flagged, "pair in the drop-map, hold not ended: dropped")

#define XPRO_XDP_STAT_ENUM(id, name, meaning) XPRO_XDP_##id,
enum xpro_xdp_stat {
	XPRO_XDP_STATS(XPRO_XDP_STAT_ENUM) /* XPRO_XDP_PASS_OTHER = 0, ... in row order */
	XPRO_XDP_NSTATS,
};
#undef XPRO_XDP_STAT_ENUM

/* "redirect" for XPRO_XDP_REDIRECT; NULL past the last. */
static inline const char *xpro_xdp_stat_name(unsigned int k)
{
#define XPRO_XDP_STAT_NAME(id, name, meaning) [XPRO_XDP_##id] = #name,
	static const char *const names[XPRO_XDP_NSTATS] = { XPRO_XDP_STATS(XPRO_XDP_STAT_NAME) };
#undef XPRO_XDP_STAT_NAME

	return k < XPRO_XDP_NSTATS ? names[k] : (const char *)0;
}

/* What the outcome means, for docs/metrics.md; NULL past the last. */
static inline const char *xpro_xdp_stat_help(unsigned int k)
{
#define XPRO_XDP_STAT_HELP(id, name, meaning) [XPRO_XDP_##id] = meaning,
	static const char *const help[XPRO_XDP_NSTATS] = { XPRO_XDP_STATS(XPRO_XDP_STAT_HELP) };
#undef XPRO_XDP_STAT_HELP

	return k < XPRO_XDP_NSTATS ? help[k] : (const char *)0;
}

struct xpro_xdp_counter {
	__u64 packets;
	__u64 bytes;
};

#endif /* XPRO_XDP_H */
