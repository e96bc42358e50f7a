/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where to send a decapsulated packet: the next hop's MAC address, learned
 * from the kernel's neighbour table by the control thread and published to
 * the workers as an immutable snapshot under RCU.
 *
 * Threads: dp_nh_lookup() from workers inside rcu_read_lock(); everything
 * else from the control thread.
 */
#ifndef XPRO_DP_NEXTHOP_H
#define XPRO_DP_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_NH_MAX_PREFIXES 16

struct dp_nh_entry {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	uint8_t mac[6];
};

/* What the control thread learned: on-link prefixes, neighbours, gateway. */
struct dp_nh_input {
	struct {
		uint8_t addr[16];
		uint8_t plen; /* in the 128-bit space (IPv4 /24 -> 120) */
	} onlink[DP_NH_MAX_PREFIXES];
	unsigned nonlink;
	const struct dp_nh_entry *neigh;
	size_t nneigh;
	bool have_gw4, have_gw6;
	uint8_t gw4_mac[6], gw6_mac[6];
};

struct dp_nh;

struct dp_nh *dp_nh_new(void);
/* Frees the current snapshot; no reader may be running. */
void dp_nh_free(struct dp_nh *nh);
/* Build and publish a new snapshot; the old one goes after a grace period. */
int dp_nh_publish(struct dp_nh *nh, const struct dp_nh_input *in);

/*
 * MAC of the next hop towards dst.  False when unknown: the caller hands the
 * packet to the kernel, which resolves it (and the next refresh learns it).
 */
bool dp_nh_lookup(struct dp_nh *nh, const uint8_t dst[16], uint8_t mac[6]);

/* Number of neighbours in the current snapshot (for status). */
size_t dp_nh_count(struct dp_nh *nh);

#endif
