/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The key epoch in flash, two slots so that a power cut during a write can
 * never lose the newest epoch: the new value always goes to the slot that
 * does not hold the newest, and is used only once it reads back intact.
 * A torn slot fails its CRC and is ignored, so the next boot counts on
 * from the intact one; an epoch is therefore never used twice, and
 * sequence numbers (which restart at 0 each boot) never repeat under a key.
 */
#include "mfw_int.h"

#define REC_MAGIC 0x58504531u /* "XPE1" */
#define REC_CRC_OFF 8

/* CRC-32 (IEEE 802.3, reflected), bit by bit: 12 bytes per boot need no table. */
static uint32_t crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (unsigned b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

static void rec_build(uint8_t rec[MFW_EPOCH_REC_LEN], uint32_t epoch)
{
	xpro_put_be32(rec, REC_MAGIC);
	xpro_put_be32(rec + 4, epoch);
	xpro_put_be32(rec + REC_CRC_OFF, crc32(rec, REC_CRC_OFF));
}

/* 1 with *epoch set when the slot holds an intact record, else 0. */
static int slot_read(const struct mfw_platform *plat, unsigned slot, uint32_t *epoch)
{
	uint8_t rec[MFW_EPOCH_REC_LEN];

	if (plat->store_read(plat->user, slot, rec, sizeof(rec)))
		return 0;
	if (xpro_get_be32(rec) != REC_MAGIC ||
	    xpro_get_be32(rec + REC_CRC_OFF) != crc32(rec, REC_CRC_OFF))
		return 0;
	*epoch = xpro_get_be32(rec + 4);
	return 1;
}

int mfw_epoch_advance(const struct mfw_platform *plat, uint32_t *epoch)
{
	uint8_t rec[MFW_EPOCH_REC_LEN];
	uint32_t e[2] = { 0, 0 }, newest = 0, back;
	int ok[2];
	unsigned target;

	ok[0] = slot_read(plat, 0, &e[0]);
	ok[1] = slot_read(plat, 1, &e[1]);
	if (ok[0] && (!ok[1] || e[0] >= e[1])) {
		newest = e[0];
		target = 1;
	} else {
		newest = ok[1] ? e[1] : 0; /* neither: a fresh device, first epoch 1 */
		target = 0;
	}
	if (newest == UINT32_MAX)
		return -MFW_EOVERFLOW;
	rec_build(rec, newest + 1);
	if (plat->store_write(plat->user, target, rec, sizeof(rec)))
		return -MFW_EIO;
	/* Trust the flash, not the write's return value. */
	if (!slot_read(plat, target, &back) || back != newest + 1)
		return -MFW_EIO;
	*epoch = back;
	return 0;
}
