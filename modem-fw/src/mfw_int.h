/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to modem-fw/src: the calls between the files.  Byte order
 * helpers are the protocol core's (xpro/bytes.h).
 */
#ifndef MFW_INT_H
#define MFW_INT_H

#include "xpro/bytes.h"
#include "mfw.h"

/* siphash.c: the 20 header bytes (mfw_seal without the tag; AEAD needs them first). */
void mfw_hdr_put(uint8_t *msg, unsigned type, unsigned flags, uint32_t epoch, uint32_t dev,
		 uint64_t seq);

/* epoch.c: read both slots, store epoch + 1 in the older one, read it back. */
int mfw_epoch_advance(const struct mfw_platform *plat, uint32_t *epoch);

/* select.c */
int mfw_usable(const struct mfw_ctx *c, const struct mfw_proxy *p, uint64_t now);
void mfw_select(struct mfw_ctx *c, uint64_t now);
void mfw_event(struct mfw_ctx *c, enum mfw_event_type type, int proxy, int arg);

/* input.c: the answer to a probe, an overload warning (payload already checked). */
void mfw_on_reply(struct mfw_ctx *c, struct mfw_proxy *p, const uint8_t *pl, size_t len,
		  uint64_t now);
void mfw_on_overload(struct mfw_ctx *c, struct mfw_proxy *p, const uint8_t *pl, uint64_t now);

#endif /* MFW_INT_H */
