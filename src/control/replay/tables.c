/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's tables: groups, devices, destinations and report rows, numbered in order of
 * appearance, with the growable arrays and interning hash map behind them, and the text and
 * engine forms of destination addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xpro/addr_text.h"
#include "replay.h"

/* ---- containers: growable arrays and an interning hash map -------------------------------- */

/* Room for need elements; returns the (possibly moved) array, or NULL with arr intact. */
static void *xr_reserve(void *arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return arr;
	while (ncap < need)
		ncap *= 2;
	p = reallocarray(arr, ncap, size);
	if (p)
		*cap = ncap;
	return p;
}

/* Mark n times as "never". */
void xr_fill_none(uint64_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] = XR_NONE;
}

static uint64_t xr_hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a murmur3 finaliser */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int xr_map_init(struct xr_map *m)
{
	m->slot = calloc(64, sizeof(*m->slot));
	m->mask = 63;
	m->n = 0;
	return m->slot ? 0 : -ENOMEM;
}

void xr_map_free(struct xr_map *m)
{
	for (size_t i = 0; m->slot && i <= m->mask; i++)
		free(m->slot[i].key);
	free(m->slot);
	m->slot = NULL;
}

static struct xr_slot *xr_map_slot(const struct xr_map *m, const void *key, uint32_t len,
				   uint64_t h)
{
	for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
		struct xr_slot *s = &m->slot[i];

		if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
			return s;
	}
}

static int xr_map_grow(struct xr_map *m)
{
	size_t oldcap = m->mask + 1;
	struct xr_slot *old = m->slot, *slot = calloc(2 * oldcap, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	m->slot = slot;
	m->mask = 2 * oldcap - 1;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			*xr_map_slot(m, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
	return 0;
}

/* Find key, or add it with id new_id.  Returns its slot (id == new_id if added) or NULL. */
static struct xr_slot *xr_map_intern(struct xr_map *m, const void *key, uint32_t len,
				     uint32_t new_id)
{
	uint64_t h = xr_hash(key, len);
	struct xr_slot *s;

	if (2 * (m->n + 1) > m->mask + 1 && xr_map_grow(m))
		return NULL;
	s = xr_map_slot(m, key, len, h);
	if (s->key)
		return s;
	s->key = malloc(len ? len : 1);
	if (!s->key)
		return NULL;
	memcpy(s->key, key, len);
	s->hash = h;
	s->len = len;
	s->id = new_id;
	m->n++;
	return s;
}

static const struct xr_slot *xr_map_find(const struct xr_map *m, const void *key, uint32_t len)
{
	const struct xr_slot *s = xr_map_slot(m, key, len, xr_hash(key, len));

	return s->key ? s : NULL;
}

/* ---- addresses ------------------------------------------------------------------------------ */

bool xr_parse_addr(const char *s, uint8_t a[16])
{
	return xpro_addr_parse(s, a) != 0;
}

static void xr_addr_text(const uint8_t a[16], char *buf, size_t len)
{
	xpro_addr_format(a, 0, buf, len);
}

void xr_key(struct xf_key *k, uint32_t dev, const uint8_t a[16])
{
	uint32_t be;

	if (!xpro_addr_is_v4(a)) {
		xf_key_ipv6(k, dev, a);
		return;
	}
	memcpy(&be, a + 12, 4);
	xf_key_ipv4(k, dev, be);
}

/* ---- groups and devices --------------------------------------------------------------------- */

int xr_group_add(struct xr_run *run, const char *name, uint32_t *id)
{
	struct xr_group *g =
		xr_reserve(run->groups, &run->groups_cap, run->ngroups + 1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	run->groups = g;
	g += run->ngroups;
	g->name = strdup(name);
	g->devices = 0;
	if (!g->name)
		return -ENOMEM;
	*id = (uint32_t)run->ngroups++;
	return 0;
}

static int xr_group_intern(struct xr_run *run, const char *name, uint32_t *id)
{
	struct xr_slot *s = xr_map_intern(&run->group_map, name, (uint32_t)strlen(name),
					  (uint32_t)run->ngroups);

	if (!s)
		return -ENOMEM;
	if (s->id != run->ngroups) {
		*id = s->id;
		return 0;
	}
	return xr_group_add(run, name, id);
}

int xr_dev_add(struct xr_run *run, uint32_t group)
{
	struct xr_dev *d = xr_reserve(run->devs, &run->devs_cap, run->ndevs + 1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	run->devs = d;
	d[run->ndevs++] = (struct xr_dev){ group, XR_NONE };
	run->groups[group].devices++;
	return 0;
}

/* The device called name; a new one joins group label (no label: a group of its own). */
int xr_dev_intern(struct xr_run *run, const char *name, const char *label, uint32_t *id)
{
	struct xr_slot *s = xr_map_intern(&run->dev_map, name, (uint32_t)strlen(name) + 1,
					  (uint32_t)run->ndevs);
	uint32_t g;

	if (!s)
		return -ENOMEM;
	*id = s->id;
	if (s->id != run->ndevs)
		return 0;
	if (run->ndevs == UINT32_MAX || xr_group_intern(run, label ? label : name, &g))
		return -ENOMEM;
	return xr_dev_add(run, g);
}

/* ---- destinations and rows ------------------------------------------------------------------ */

int xr_dst_add(struct xr_run *run, const char *name, const uint8_t addr[16], bool agg)
{
	struct xr_dst *d = xr_reserve(run->dsts, &run->dsts_cap, run->ndsts + 1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	run->dsts = d;
	d += run->ndsts++;
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	memcpy(d->addr, addr, 16);
	d->aggregate = agg;
	d->sec = XR_NONE;
	xr_fill_none(d->first, XF_NVERDICTS);
	xr_fill_none(d->ring_sec, XR_RING);
	return 0;
}

/* The destination at addr, named by its address when new. */
int xr_dst_intern(struct xr_run *run, const uint8_t addr[16], uint32_t *id)
{
	struct xr_slot *s = xr_map_intern(&run->dst_map, addr, 16, (uint32_t)run->ndsts);
	char text[INET6_ADDRSTRLEN];

	if (!s)
		return -ENOMEM;
	*id = s->id;
	if (s->id != run->ndsts)
		return 0;
	xr_addr_text(addr, text, sizeof(text));
	return xr_dst_add(run, text, addr, false);
}

struct xr_row *xr_row_get(struct xr_run *run, uint32_t group, uint32_t dst)
{
	uint32_t key[2] = { group, dst };
	struct xr_slot *s = xr_map_intern(&run->row_map, key, sizeof(key), (uint32_t)run->nrows);
	struct xr_row *r;

	if (!s)
		return NULL;
	if (s->id != run->nrows)
		return &run->rows[s->id];
	r = xr_reserve(run->rows, &run->rows_cap, run->nrows + 1, sizeof(*r));
	if (!r) {
		s->id = UINT32_MAX; /* unreachable: the run fails and is freed */
		return NULL;
	}
	run->rows = r;
	r += run->nrows++;
	memset(r, 0, sizeof(*r));
	r->group = group;
	r->dst = dst;
	xr_fill_none(r->first, XF_NVERDICTS);
	return r;
}

const struct xr_row *xr_row_find(const struct xr_run *run, uint32_t group, uint32_t dst)
{
	uint32_t key[2] = { group, dst };
	const struct xr_slot *s = xr_map_find(&run->row_map, key, sizeof(key));

	return s ? &run->rows[s->id] : NULL;
}
