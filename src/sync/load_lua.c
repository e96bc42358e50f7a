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
#include "sync/load_lua.h"
#include "sync/lua.h"

/* Laid out by hand, clang-format off (see merge_lua.c). */
/* clang-format off */
const char sync_load_lua[] =
	"#!lua\n"
	LOAD_ARGS
	LOAD_PUBLISH
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
