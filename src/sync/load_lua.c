/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The workload script: Algorithm 1 lines 1-2 (send W, read every other
 * proxy's) in one atomic round trip, timed by the master's clock so that
 * proxies need not agree on the time to judge an entry's age.  Each entry
 * also carries the proxy's tunnel address (ARGV[6], may be empty): five
 * reply elements per proxy (load.c's LOAD_REPLY_ENTRY).
 */
#include "sync/keys.h"
#include "sync/lua.h"

/* clang-format off: see merge_lua.c */
const char sync_load_lua[] =
	"#!lua\n"
	"local K_LOAD = '" SYNC_KEY_LOAD "'\n"
	"local me, publish = ARGV[1], ARGV[2] == '1'\n"
	"local pps, util, maxage = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
	"local addr = ARGV[6] or ''\n"
	"if not (me and pps and util and maxage) or #addr > 47 or string.find(addr, '%s') then\n"
	"	return redis.error_reply('XPRO ARG bad load')\n"
	"end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"if publish then\n"
	"	redis.call('HSET', K_LOAD, me, string.format('%d %d %d %s', pps, util, now, addr))\n"
	"end\n"
	"local all = redis.call('HGETALL', K_LOAD)\n"
	"local out = {}\n"
	"for i = 1, #all, 2 do\n"
	"	local a, b, ts, ad = string.match(all[i + 1], '^(%d+) (%d+) (%d+) ?(%S*)$')\n"
	"	ts = tonumber(ts)\n"
	"	-- Proxies that stopped publishing disappear: nobody else removes them.\n"
	"	if ts == nil or now - ts > maxage * 1000 then\n"
	"		redis.call('HDEL', K_LOAD, all[i])\n"
	"	elseif all[i] ~= me then\n"
	"		local k = #out\n"
	"		out[k + 1], out[k + 2], out[k + 3] = all[i], tonumber(a), tonumber(b)\n"
	"		out[k + 4], out[k + 5] = math.max(now - ts, 0), ad\n"
	"	end\n"
	"end\n"
	"return out\n";
/* clang-format on */
