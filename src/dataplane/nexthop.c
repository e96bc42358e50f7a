/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Next-hop snapshots: an open-addressed array built once and never written
 * after it is published, so lookups need no atomics beyond the pointer load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <urcu.h>

#include "xpro/addr.h"
#include "dataplane/nexthop.h"

struct nh_slot {
	uint8_t addr[16];
	uint8_t mac[6];
	uint8_t used;
};

struct nh_snap {
	struct dp_nh_input in; /* neigh pointer unused in a snapshot */
	uint32_t mask;
	size_t count;
	struct rcu_head rcu;
	struct nh_slot slot[];
};

struct dp_nh {
	struct nh_snap *snap;
};

static uint32_t nh_hash(const uint8_t a[16])
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	x = (x ^ (y * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(x >> 32);
}

static bool in_prefix(const uint8_t a[16], const uint8_t p[16], unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(a, p, full))
		return false;
	return !rest || !((a[full] ^ p[full]) & (uint8_t)(0xff << (8 - rest)));
}

struct dp_nh *dp_nh_new(void)
{
	return calloc(1, sizeof(struct dp_nh));
}

void dp_nh_free(struct dp_nh *nh)
{
	if (!nh)
		return;
	free(nh->snap);
	free(nh);
}

static void snap_free_cb(struct rcu_head *h)
{
	free(caa_container_of(h, struct nh_snap, rcu));
}

int dp_nh_publish(struct dp_nh *nh, const struct dp_nh_input *in)
{
	uint32_t n = 16;
	struct nh_snap *s, *old;

	while (n < 2 * in->nneigh)
		n <<= 1;
	s = calloc(1, sizeof(*s) + n * sizeof(struct nh_slot));
	if (!s)
		return -ENOMEM;
	s->in = *in;
	s->in.neigh = NULL;
	s->mask = n - 1;
	for (size_t i = 0; i < in->nneigh; i++) {
		uint32_t h = nh_hash(in->neigh[i].addr) & s->mask;

		while (s->slot[h].used && memcmp(s->slot[h].addr, in->neigh[i].addr, 16))
			h = (h + 1) & s->mask;
		if (!s->slot[h].used)
			s->count++;
		memcpy(s->slot[h].addr, in->neigh[i].addr, 16);
		memcpy(s->slot[h].mac, in->neigh[i].mac, 6);
		s->slot[h].used = 1;
	}
	old = __atomic_exchange_n(&nh->snap, s, __ATOMIC_ACQ_REL);
	if (old)
		call_rcu(&old->rcu, snap_free_cb);
	return 0;
}

bool dp_nh_lookup(struct dp_nh *nh, const uint8_t dst[16], uint8_t mac[6])
{
	const struct nh_snap *s = __atomic_load_n(&nh->snap, __ATOMIC_ACQUIRE);
	bool onlink = false;

	if (!s)
		return false;
	for (unsigned i = 0; i < s->in.nonlink && !onlink; i++)
		onlink = in_prefix(dst, s->in.onlink[i].addr, s->in.onlink[i].plen);
	if (!onlink) {
		bool v4 = xpro_addr_is_v4(dst);

		if (v4 ? !s->in.have_gw4 : !s->in.have_gw6)
			return false;
		memcpy(mac, v4 ? s->in.gw4_mac : s->in.gw6_mac, 6);
		return true;
	}
	for (uint32_t h = nh_hash(dst) & s->mask; s->slot[h].used; h = (h + 1) & s->mask) {
		if (!memcmp(s->slot[h].addr, dst, 16)) {
			memcpy(mac, s->slot[h].mac, 6);
			return true;
		}
	}
	return false;
}

size_t dp_nh_count(struct dp_nh *nh)
{
	const struct nh_snap *s = __atomic_load_n(&nh->snap, __ATOMIC_ACQUIRE);

	return s ? s->count : 0;
}
