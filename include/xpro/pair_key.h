/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The (device, destination) pair key, one layout for the filter engine's
 * tables and the XDP drop-map, so userspace flags the key it already holds.
 */
#ifndef XPRO_PAIR_KEY_H
#define XPRO_PAIR_KEY_H

#include <linux/types.h>

/*
 * IPv4 destinations are stored IPv4-mapped (::ffff:a.b.c.d) so one table
 * serves both families.
 */
struct xf_key {
	__u8 dst[16];
	__u32 dev; /* device index, host byte order */
};
_Static_assert(sizeof(struct xf_key) == 20, "xf_key layout");

#endif /* XPRO_PAIR_KEY_H */
