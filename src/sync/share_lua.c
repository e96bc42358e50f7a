/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fair-share script (docs/sync.md, "Fair share"): publish this proxy's
 * summary of each destination it has senders for, and return the sum of the
 * other proxies' fresh summaries, in one atomic round trip per batch.  Ages
 * on the master's clock.  Cost: O(destinations x proxies), never O(pairs).
 */
#include "sync/keys.h"
#include "sync/lua.h"

/* clang-format off: see merge_lua.c */
const char sync_share_lua[] =
	"#!lua\n"
	"local K_SHARE = '" SYNC_KEY_SHARE "'\n"
	"local me, maxage, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"if not (me and maxage and ttl and n) or #ARGV ~= 4 + 2 * n then\n"
	"	return redis.error_reply('XPRO ARG bad share')\n"
	"end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local out = {}\n"
	"for i = 0, n - 1 do\n"
	"	local dst, mine = ARGV[5 + 2 * i], ARGV[6 + 2 * i]\n"
	"	if not string.match(dst, '^%x+$') or #dst ~= 32 or\n"
	"	   not string.match(mine, '^%d+ %d+ %d+ %d+ %d+$') then\n"
	"		return redis.error_reply('XPRO ARG bad share entry')\n"
	"	end\n"
	"	local key = K_SHARE .. dst\n"
	"	redis.call('HSET', key, me, mine .. ' ' .. now)\n"
	"	redis.call('PEXPIRE', key, ttl)\n"
	"	local all = redis.call('HGETALL', key)\n"
	"	local s, h, d, a, f = 0, 0, 0, 0, 0\n"
	"	for j = 1, #all, 2 do\n"
	"		local vs, vh, vd, va, vf, ts = string.match(all[j + 1],\n"
	"			'^(%d+) (%d+) (%d+) (%d+) (%d+) (%d+)$')\n"
	"		ts = tonumber(ts)\n"
	"		if ts == nil or now - ts > maxage then\n"
	"			redis.call('HDEL', key, all[j])\n"
	"		elseif all[j] ~= me then\n"
	"			s, h, d, a = s + tonumber(vs), h + tonumber(vh), d + tonumber(vd), a + tonumber(va)\n"
	"			vf = tonumber(vf)\n"
	"			if vf > 0 and (f == 0 or vf < f) then f = vf end\n"
	"		end\n"
	"	end\n"
	"	local k = #out\n"
	"	out[k + 1], out[k + 2], out[k + 3], out[k + 4], out[k + 5] = s, h, d, a, f\n"
	"end\n"
	"return out\n";
/* clang-format on */
