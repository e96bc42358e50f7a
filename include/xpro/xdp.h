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

/* Per-CPU counters, XPRO_MAP_STATS index. */
enum xpro_xdp_stat {
	XPRO_XDP_PASS_OTHER = 0, /* not tunnel traffic: to the kernel */
	XPRO_XDP_REDIRECT, /* tunnel packet handed to the AF_XDP socket */
	XPRO_XDP_PASS_NO_XSK, /* tunnel packet, no socket on this queue */
	XPRO_XDP_DROP_MALFORMED, /* tunnel port, bad header or lengths */
	XPRO_XDP_DROP_UNKNOWN_DEV, /* device not provisioned or inactive */
	XPRO_XDP_DROP_FLAGGED, /* pair in the drop-map, not expired */
	XPRO_XDP_NSTATS,
};

struct xpro_xdp_counter {
	__u64 packets;
	__u64 bytes;
};

#endif /* XPRO_XDP_H */
