/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proxy's table of provisioned devices, looked up by index for every
 * tunnel packet and replaced whole when the provisioning file is reloaded.
 * Each device's epoch and replay state lives in an object of its own that a
 * reload carries into the new table when the device's secret is unchanged.
 *
 * Threads and protection:
 *  - Workers (any number, registered liburcu readers) look devices up through
 *    tun_auth() and tun_devtab_view() inside rcu_read_lock().  Lookups never
 *    block and never write; tun_auth() writes a device's replay state only
 *    after its tag verifies, under that device's spinlock.
 *  - One control thread at a time calls tun_devtab_replace() and
 *    tun_devtab_free(), from a registered RCU thread outside rcu_read_lock().
 *    Replace publishes the new table with an atomic pointer exchange and
 *    frees the old one through call_rcu() after a grace period, without
 *    waiting; free waits for pending releases (rcu_barrier()).
 *
 * Memory: 64 bytes of entry, 128 of state and 32-64 of index per device
 * (about 230 MB for a million devices).  The state is cache-line aligned so
 * that workers committing different devices never share a line.
 */
#ifndef XPRO_DP_DEVTAB_H
#define XPRO_DP_DEVTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xpro/tunnel.h"

#define TUN_DEV_NONE UINT32_MAX /* not a device index: marks empty index slots */
#define TUN_DEV_MAX (UINT32_MAX - 1) /* largest valid device index */

/* One device as provisioned (docs/protocol.md "Provisioning file"). */
struct tun_dev_conf {
	uint32_t dev; /* index, 0..TUN_DEV_MAX */
	uint8_t secret[XPRO_TUN_SECRET_LEN]; /* shared by this device and this proxy */
	uint8_t prefix[16]; /* allowed inner source; IPv4 as ::ffff:a.b.c.d */
	uint8_t plen; /* prefix length over the 16 bytes: IPv4 /n is 96 + n */
	uint8_t ipver; /* 4 or 6: the only inner IP version this device may send */
	bool active; /* false: provisioned but refused (TUN_REJ_INACTIVE) */
};

struct tun_devtab;

/* An empty table (every lookup misses).  Returns NULL on ENOMEM. */
struct tun_devtab *tun_devtab_new(void);

/* Free the table and every device state.  No reader may still use it; waits for pending releases. */
void tun_devtab_free(struct tun_devtab *t);

/*
 * Replace the whole device set with conf[0..n-1].  A device whose index and
 * secret are both unchanged keeps its state object (epochs, replay windows,
 * cached keys); any other device starts with none.  Prefix and active flag
 * changes keep the state.
 *
 * Returns 0, -EINVAL (index TUN_DEV_NONE, plen > 128, ipver not 4 or 6, or
 * an IPv4 prefix not inside ::ffff:0:0/96), -EEXIST (an index twice) or
 * -ENOMEM; on error the current table stays in place, untouched.  Does not
 * wait for readers.  Control thread only, outside rcu_read_lock().
 */
int tun_devtab_replace(struct tun_devtab *t, const struct tun_dev_conf *conf, size_t n);

/* Devices in the current table.  Control thread (or inside rcu_read_lock()). */
size_t tun_devtab_count(struct tun_devtab *t);

/* At least TUN_REJ_N (dataplane/tunnel.h; checked in devtab.c). */
#define TUN_DEV_VIEW_NREJ 16

/* A device's state as the CLI and the tests see it. */
struct tun_dev_view {
	uint32_t dev;
	bool active;
	bool have_cur, have_prev; /* an epoch has been authenticated as current / previous */
	uint32_t cur_epoch, prev_epoch;
	uint64_t cur_top, prev_top; /* highest sequence authenticated in each epoch */
	uint8_t prefix[16], plen; /* allowed inner source, as in struct tun_dev_conf */
	uint8_t ipver;
	/* Its rejections, indexed by TUN_REJ_* (INACTIVE..SPOOF; the others are 0: they
	 * come before the device is known).  Since its secret last changed. */
	uint64_t rejected[TUN_DEV_VIEW_NREJ];
};

/* Look dev up.  Returns 0 with *out filled, or -ENOENT.  Inside rcu_read_lock(). */
int tun_devtab_view(struct tun_devtab *t, uint32_t dev, struct tun_dev_view *out);

/*
 * Copy an active device's secret (the proxy derives PK from it to answer the
 * device).  Returns 0 or -ENOENT.  Inside rcu_read_lock() or control thread.
 */
int tun_devtab_secret(struct tun_devtab *t, uint32_t dev, uint8_t secret[XPRO_TUN_SECRET_LEN]);

#endif
