/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building and publishing the device table: each reload builds a complete
 * new version beside the live one, carries device states over, swaps the
 * pointer and frees the old version after a grace period (call_rcu, so the
 * control thread never waits for workers).  Readers never see a half-built
 * table and never wait.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xpro/addr.h"
#include "dataplane/devtab_int.h"
#include "dataplane/tunnel.h"

#define MIN_SLOTS 8

static void devset_free(struct tun_devset *s)
{
	if (!s)
		return;
	free(s->slots);
	free(s->devs);
	free(s);
}

/* An index for n devices, every slot empty; devs left for the caller. */
static struct tun_devset *devset_alloc(size_t n)
{
	struct tun_devset *s = calloc(1, sizeof(*s));
	size_t nslots = MIN_SLOTS;
	unsigned bits = 3;

	if (!s)
		return NULL;
	while (nslots < 2 * n) {
		nslots *= 2;
		bits++;
	}
	s->shift = 64 - bits;
	s->mask = nslots - 1;
	s->slots = malloc(nslots * sizeof(*s->slots));
	/* aligned_alloc wants a multiple of the alignment; sizeof(tun_dev) is one. */
	s->devs = n ? aligned_alloc(64, n * sizeof(*s->devs)) : NULL;
	if (!s->slots || (n && !s->devs)) {
		devset_free(s);
		return NULL;
	}
	for (size_t i = 0; i < nslots; i++)
		s->slots[i].dev = TUN_DEV_NONE;
	return s;
}

/* Returns 0 or -EEXIST. */
static int devset_index(struct tun_devset *s, uint32_t dev, uint32_t pos)
{
	uint64_t i = tun_devset_home(s, dev);

	for (; s->slots[i].dev != TUN_DEV_NONE; i = (i + 1) & s->mask)
		if (s->slots[i].dev == dev)
			return -EEXIST;
	s->slots[i].dev = dev;
	s->slots[i].pos = pos;
	return 0;
}

static int conf_valid(const struct tun_dev_conf *c)
{
	if (c->dev == TUN_DEV_NONE || c->plen > 128)
		return 0;
	if (c->ipver == 4)
		return c->plen >= 96 && xpro_addr_is_v4(c->prefix);
	return c->ipver == 6;
}

/* The immutable part of one device: prefix pre-masked for a two-word compare. */
static void dev_fill(struct tun_dev *d, const struct tun_dev_conf *c)
{
	uint8_t mask[16] = { 0 }, net[16];

	memset(d, 0, sizeof(*d));
	d->dev = c->dev;
	d->active = c->active;
	d->ipver = c->ipver;
	d->plen = c->plen;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = c->plen > 8 * i ? c->plen - 8 * i : 0;

		mask[i] = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
		net[i] = c->prefix[i] & mask[i];
	}
	memcpy(d->net, net, sizeof(net));
	memcpy(d->mask, mask, sizeof(mask));
	memcpy(d->secret, c->secret, sizeof(d->secret));
}

struct tun_devtab *tun_devtab_new(void)
{
	struct tun_devtab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cur = devset_alloc(0);
	if (!t->cur) {
		free(t);
		return NULL;
	}
	return t;
}

/*
 * After the grace period that follows its replacement no worker holds s's
 * devices: free the states it alone used (listed at replacement, so that
 * releases need not look at states a newer table shares) and s itself.
 */
static void devset_release_cb(struct rcu_head *h)
{
	struct tun_devset *s = caa_container_of(h, struct tun_devset, rcu);

	for (size_t i = 0; i < s->ndead; i++)
		tun_state_free(s->dead[i]);
	free(s->dead);
	devset_free(s);
}

void tun_devtab_free(struct tun_devtab *t)
{
	struct tun_devset *s;

	if (!t)
		return;
	rcu_barrier();
	s = t->cur;
	for (size_t i = 0; i < s->n; i++)
		tun_state_free(s->devs[i].st);
	devset_free(s);
	free(t);
}

/*
 * Give every device of s a state: the old table's when index and secret
 * match, else a new one (marked s->gen).  On failure the new states are freed
 * and the old table is untouched.  Returns 0 or -ENOMEM.
 */
static int devset_states(struct tun_devset *s, const struct tun_devset *old)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		struct tun_dev *d = &s->devs[i];
		const struct tun_dev *od = tun_devset_find(old, d->dev);

		if (od && !memcmp(od->secret, d->secret, sizeof(d->secret))) {
			d->st = od->st;
			continue;
		}
		d->st = tun_state_new();
		if (!d->st)
			goto out_free_new;
		d->st->gen = s->gen;
	}
	for (i = 0; i <= s->mask; i++)
		if (s->slots[i].dev != TUN_DEV_NONE)
			s->slots[i].st = s->devs[s->slots[i].pos].st;
	return 0;

out_free_new:
	while (i--)
		if (s->devs[i].st->gen == s->gen)
			tun_state_free(s->devs[i].st);
	return -ENOMEM;
}

/* The states of old that s did not take over: old's release frees them. */
static void devset_list_dead(struct tun_devset *old, const struct tun_devset *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->devs[i].st->gen = s->gen;
	for (size_t i = 0; i < old->n; i++)
		if (old->devs[i].st->gen != s->gen)
			old->dead[old->ndead++] = old->devs[i].st;
}

int tun_devtab_replace(struct tun_devtab *t, const struct tun_dev_conf *conf, size_t n)
{
	struct tun_devset *s, *old = t->cur;
	int err;

	if (n > UINT32_MAX / 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!conf_valid(&conf[i]))
			return -EINVAL;
	s = devset_alloc(n);
	if (!s)
		return -ENOMEM;
	s->n = n;
	s->gen = t->gen + 1;
	for (size_t i = 0; i < n; i++) {
		err = devset_index(s, conf[i].dev, (uint32_t)i);
		if (err)
			goto out_free_set;
		dev_fill(&s->devs[i], &conf[i]);
	}
	/* Allocated up front: past this point nothing may fail. */
	err = -ENOMEM;
	old->dead = malloc((old->n ? old->n : 1) * sizeof(*old->dead));
	if (!old->dead)
		goto out_free_set;
	err = devset_states(s, old);
	if (err)
		goto out_free_dead;
	devset_list_dead(old, s);

	t->gen = s->gen;
	/* rcu_assign_pointer() as a store ThreadSanitizer understands (as filter_ctl.c). */
	__atomic_store_n(&t->cur, s, __ATOMIC_RELEASE);
	/* Workers may still hold old devices (and commit to their states). */
	call_rcu(&old->rcu, devset_release_cb);
	return 0;

out_free_dead:
	free(old->dead);
	old->dead = NULL;
out_free_set:
	devset_free(s);
	return err;
}

size_t tun_devtab_count(struct tun_devtab *t)
{
	return tun_devtab_cur(t)->n;
}

_Static_assert(TUN_REJ_N <= TUN_DEV_VIEW_NREJ, "raise TUN_DEV_VIEW_NREJ");

int tun_devtab_view(struct tun_devtab *t, uint32_t dev, struct tun_dev_view *out)
{
	const struct tun_dev *d = tun_devset_find(tun_devtab_cur(t), dev);
	struct tun_ep ep[2];

	if (!d)
		return -ENOENT;
	tun_state_read(d->st, ep);
	memset(out, 0, sizeof(*out));
	out->dev = d->dev;
	out->active = d->active;
	out->have_cur = ep[TUN_EP_CUR].valid;
	out->have_prev = ep[TUN_EP_PREV].valid;
	out->cur_epoch = ep[TUN_EP_CUR].epoch;
	out->prev_epoch = ep[TUN_EP_PREV].epoch;
	out->cur_top = ep[TUN_EP_CUR].win.top;
	out->prev_top = ep[TUN_EP_PREV].win.top;
	memcpy(out->prefix, d->net, 16);
	out->plen = d->plen;
	out->ipver = d->ipver;
	for (int i = 0; i < TUN_STATE_NREJ; i++)
		out->rejected[TUN_STATE_REJ_FIRST + i] =
			__atomic_load_n(&d->st->rej[i], __ATOMIC_RELAXED);
	return 0;
}

int tun_devtab_secret(struct tun_devtab *t, uint32_t dev, uint8_t secret[XPRO_TUN_SECRET_LEN])
{
	const struct tun_dev *d = tun_devset_find(tun_devtab_cur(t), dev);

	if (!d || !d->active)
		return -ENOENT;
	memcpy(secret, d->secret, XPRO_TUN_SECRET_LEN);
	return 0;
}
