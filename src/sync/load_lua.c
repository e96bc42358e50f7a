/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The workload scripts: Algorithm 1 lines 1-2 (send W, read every other
 * proxy's) in one atomic round trip, timed by the server's clock so that
 * proxies need not agree on the time to judge an entry's age.  Each entry
 * also carries the proxy's tunnel address (ARGV[6], may be empty): five
 * reply elements per proxy (load.c's LOAD_REPLY_ENTRY).  The replica's
 * script is the master's without its writes, built from the same text, so
 * that both read W by one rule and load.c parses both replies alike.
 */
#include "sync/keys.h"
#include "sync/lua.h"

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

const char sync_load_lua[] =
	"#!lua\n"
	LOAD_ARGS
	"if publish then\n"
	"	redis.call('HSET', K_LOAD, me, string.format('%d %d %d %s', pps, util, now, addr))\n"
	"end\n"
	LOAD_READ(
	"		-- Proxies that stopped publishing disappear: nobody else removes them.\n"
	"		redis.call('HDEL', K_LOAD, all[i])\n");

const char sync_load_ro_lua[] =
	"#!lua flags=no-writes\n"
	LOAD_ARGS
	"if publish then\n"
	"	return redis.error_reply('XPRO ARG a replica does not publish')\n"
	"end\n"
	LOAD_READ("");
/* clang-format on */
