/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to modem-fw/src: byte-order helpers (the wire is big-endian, tags
 * and keys little-endian, the MCU either) and the calls between the files.
 */
#ifndef MFW_INT_H
#define MFW_INT_H

#include "mfw.h"

static inline void mfw_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void mfw_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void mfw_put_be64(uint8_t *p, uint64_t v)
{
	mfw_put_be32(p, (uint32_t)(v >> 32));
	mfw_put_be32(p + 4, (uint32_t)v);
}

static inline void mfw_put_le64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t mfw_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t mfw_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t mfw_get_be64(const uint8_t *p)
{
	return (uint64_t)mfw_get_be32(p) << 32 | mfw_get_be32(p + 4);
}

static inline uint64_t mfw_get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 8; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

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
