/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Key names of the sync layer's Redis records (layout in keys.h), so that
 * the merge code and the tests that inspect the master spell them one way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync/keys.h"

void sync_dst_hex(const uint8_t dst[16], char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[dst[i] >> 4];
		out[2 * i + 1] = hex[dst[i] & 15];
	}
	out[SYNC_DST_HEX_LEN] = '\0';
}

size_t sync_key_dst(const uint8_t dst[16], char *out)
{
	char hex[SYNC_DST_HEX_LEN + 1];

	sync_dst_hex(dst, hex);
	return (size_t)snprintf(out, SYNC_KEY_MAX, SYNC_KEY_DST "%s", hex);
}

int sync_proxy_id_check(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > SYNC_PROXY_ID_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return -EINVAL;
	}
	return 0;
}
