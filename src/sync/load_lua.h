/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text of W's exchange, one definition for the three places that run
 * it: the master's script and the replica's (load_lua.c, EVALSHA through
 * struct sync_conn) and the Functions library's xpro_load (lib_lua.c), so
 * that every reader applies one rule and load.c and round.c parse one reply.
 * Inside src/sync/ only.
 */
#ifndef XPRO_SYNC_LOAD_LUA_H
#define XPRO_SYNC_LOAD_LUA_H

#include "sync/keys.h"

/* Laid out by hand, clang-format off (see merge_lua.c). */
/* clang-format off */
#define LOAD_ARGS \
	"local K_LOAD = '" SYNC_KEY_LOAD "'\n" \
	"local me, publish = ARGV[1], ARGV[2] == '1'\n" \
	"local pps, util, maxage = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n" \
	"local addr = ARGV[6] or ''\n" \
	"if not (me and pps and util and maxage) or #addr > 47 or string.find(addr, '%s') then\n" \
	"	return redis.error_reply('XPRO ARG bad load')\n" \
	"end\n" \
	"local t = redis.call('TIME')\n" \
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"

/* This proxy's W, with the time it was read by (the server's). */
#define LOAD_PUBLISH \
	"if publish then\n" \
	"	redis.call('HSET', K_LOAD, me, string.format('%d %d %d %s', pps, util, now, addr))\n" \
	"end\n"

/* Every fresh entry but ours into out; on_stale runs for the others. */
#define LOAD_READ(on_stale) \
	"local all = redis.call('HGETALL', K_LOAD)\n" \
	"local out = {}\n" \
	"for i = 1, #all, 2 do\n" \
	"	local a, b, ts, ad = string.match(all[i + 1], '^(%d+) (%d+) (%d+) ?(%S*)$')\n" \
	"	ts = tonumber(ts)\n" \
	"	if ts == nil or now - ts > maxage * 1000 then\n" \
	on_stale \
	"	elseif all[i] ~= me then\n" \
	"		local k = #out\n" \
	"		out[k + 1], out[k + 2], out[k + 3] = all[i], tonumber(a), tonumber(b)\n" \
	"		out[k + 4], out[k + 5] = math.max(now - ts, 0), ad\n" \
	"	end\n" \
	"end\n" \
	"return out\n"

/* clang-format on */

#endif
