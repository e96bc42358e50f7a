/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sync layer's Redis Functions library, "xpro" (docs/sync.md, "The
 * destination round"): loaded with FUNCTION LOAD REPLACE on every master it
 * is called on, replicated to their replicas with the data, so that a
 * replica promoted by a failover already has it.  Every function touches
 * one key (KEYS[1]), so that it runs on a Redis Cluster too.
 *
 *   xpro_load  KEYS: xpro:w          publish W, read the others' (load.h)
 *   xpro_proxy KEYS: xpro:s:{<id>}   this proxy's total, owner check
 *   xpro_sweep KEYS: xpro:b:{<k>}    one step of the dead-entry sweep
 *
 * The destination entries themselves are plain HSET / HMGET (dst.c): each
 * field has one writer, so nothing there needs a script.
 */
#include "sync/keys.h"
#include "sync/load_lua.h"
#include "sync/lua.h"

/* Laid out by hand (see merge_lua.c). */
/* clang-format off */
const char sync_lib_lua[] =
	"#!lua name=" SYNC_LIB_NAME "\n"
	"-- Only redis.register_function is reachable while the library loads:\n"
	"-- math, struct and the others are looked up when a function runs.\n"
	"\n"
	"-- A non-negative integer below 2^53 (exact in a Lua number), or nil.\n"
	"local function num(s)\n"
	"	local v = tonumber(s)\n"
	"	if v == nil or v < 0 or v > 9007199254740991 or v ~= math.floor(v) then\n"
	"		return nil\n"
	"	end\n"
	"	return v\n"
	"end\n"
	"\n"
	"-- W: ARGV proxy_id publish(0|1) pps util max_age_ms tun_addr (lua.h).\n"
	"local function load(keys, args)\n"
	"local ARGV = args\n"
	LOAD_ARGS
	LOAD_PUBLISH
	LOAD_READ(
	"		redis.call('HDEL', K_LOAD, all[i])\n")
	"end\n"
	"\n"
	"-- This proxy's record: ARGV nonce total now_us stale_us init(0|1).\n"
	"-- Another process's nonce written less than stale_us ago: CONFLICT (one\n"
	"-- proxy id, two processes).  init: take the id over and return the total\n"
	"-- stored so far (the base this process counts from); else store total.\n"
	"local function proxy(keys, args)\n"
	"	local K, nonce = keys[1], args[1]\n"
	"	local total, now, stale, init = num(args[2]), num(args[3]), num(args[4]), args[5]\n"
	"	if not (nonce and #nonce == " SYNC_STR(SYNC_NONCE_LEN) " and total and now and stale)\n"
	"			or (init ~= '0' and init ~= '1') then\n"
	"		return redis.error_reply('XPRO ARG bad proxy record')\n"
	"	end\n"
	"	local cur = redis.call('HMGET', K, 'nonce', 'total', 'ts')\n"
	"	local ts = num(cur[3])\n"
	"	if cur[1] and cur[1] ~= nonce and ts and now < ts + stale then\n"
	"		return redis.error_reply('XPRO CONFLICT proxy id in use by another process '\n"
	"			.. '(its last round ' .. string.format('%d', (now - ts) / 1000) .. ' ms ago)')\n"
	"	end\n"
	"	if init == '1' then\n"
	"		total = num(cur[2]) or 0\n"
	"	end\n"
	"	redis.call('HSET', K, 'nonce', nonce, 'total', string.format('%d', total),\n"
	"		'ts', string.format('%d', now))\n"
	"	return string.format('%d', total)\n"
	"end\n"
	"\n"
	"-- One sweep step over a bucket: ARGV cursor now_us ttl_us.  Deletes the\n"
	"-- entries (destination and handoff records) whose write time, their\n"
	"-- first double, is more than ttl_us ago.  Returns {cursor, deleted}.\n"
	"local function sweep(keys, args)\n"
	"	local K, cursor, now, ttl = keys[1], args[1], num(args[2]), num(args[3])\n"
	"	if not (num(cursor) and now and ttl) then\n"
	"		return redis.error_reply('XPRO ARG bad sweep')\n"
	"	end\n"
	"	local sc = redis.call('HSCAN', K, cursor, 'COUNT', " SYNC_STR(SYNC_SWEEP_COUNT) ")\n"
	"	local kv, dead = sc[2], {}\n"
	"	for i = 1, #kv, 2 do\n"
	"		local v = kv[i + 1]\n"
	"		if kv[i] ~= '" SYNC_FIELD_MARK "' and (#v < 8 or struct.unpack('<d', v) + ttl < now) then\n"
	"			dead[#dead + 1] = kv[i]\n"
	"		end\n"
	"	end\n"
	"	if #dead > 0 then\n"
	"		redis.call('HDEL', K, unpack(dead))\n"
	"	end\n"
	"	return { sc[1], #dead }\n"
	"end\n"
	"\n"
	"redis.register_function('xpro_load', load)\n"
	"redis.register_function('xpro_proxy', proxy)\n"
	"redis.register_function('xpro_sweep', sweep)\n";
/* clang-format on */
