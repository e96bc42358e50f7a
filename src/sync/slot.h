/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Redis Cluster key slots (the Redis Cluster specification, "Key
 * distribution model"): HASH_SLOT = CRC16(key) mod 16384, where only the
 * part between the first '{' and the next '}' is hashed when that part is
 * not empty (a hash tag), so that keys sharing a tag live in one slot and
 * one script call may touch them all.  The first piece of the slot router
 * that runs the sync protocol over a cluster (Debian's hiredis has none).
 */
#ifndef XPRO_SYNC_SLOT_H
#define XPRO_SYNC_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SYNC_SLOTS 16384

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis computes it. */
uint16_t sync_crc16(const void *data, size_t len);

/* The slot of the key of len bytes, hash tags honoured. */
uint16_t sync_key_slot(const char *key, size_t len);

#endif
