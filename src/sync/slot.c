/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key slots.  CRC16 by the usual 256-entry table, which the compiler builds
 * from the polynomial (no constant copied by hand); tests/sync/test_slot.c
 * holds it to the specification's vector and to a real cluster node's
 * CLUSTER KEYSLOT.
 */
#include "sync/slot.h"

#define CRC16_POLY 0x1021

/* One table entry: the CRC of the byte b alone (MSB first, no reflection). */
#define CRC_B1(c) ((uint16_t)(((c)&0x8000) ? ((c) << 1) ^ CRC16_POLY : (c) << 1))
#define CRC_B8(b) \
	CRC_B1(CRC_B1(CRC_B1(CRC_B1(CRC_B1(CRC_B1(CRC_B1(CRC_B1((uint16_t)((b) << 8)))))))))
#define R4(b) CRC_B8(b), CRC_B8((b) + 1), CRC_B8((b) + 2), CRC_B8((b) + 3)
#define R16(b) R4(b), R4((b) + 4), R4((b) + 8), R4((b) + 12)
#define R64(b) R16(b), R16((b) + 16), R16((b) + 32), R16((b) + 48)

static const uint16_t crc_table[256] = { R64(0), R64(64), R64(128), R64(192) };

uint16_t sync_crc16(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++)
		crc = (uint16_t)(crc << 8) ^ crc_table[(uint8_t)(crc >> 8) ^ p[i]];
	return crc;
}

uint16_t sync_key_slot(const char *key, size_t len)
{
	size_t open, close;

	for (open = 0; open < len && key[open] != '{'; open++)
		;
	if (open < len) {
		for (close = open + 1; close < len && key[close] != '}'; close++)
			;
		/* "{}" or no '}': the whole key. */
		if (close < len && close > open + 1)
			return sync_crc16(key + open + 1, close - open - 1) & (SYNC_SLOTS - 1);
	}
	return sync_crc16(key, len) & (SYNC_SLOTS - 1);
}
