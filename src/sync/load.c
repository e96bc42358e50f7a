/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync_exchange_loads(): Algorithm 1 lines 1-2, one EVALSHA of the workload
 * script (lua.h) that publishes this proxy's W and returns the others';
 * sync_read_loads(): the same read by the replica's script.  One parser for
 * both replies.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sync/conn_int.h"
#include "sync/load.h"
#include "sync/lua.h"

/* id, pps, util, age, tunnel address. */
#define LOAD_REPLY_ENTRY SYNC_LOAD_REPLY_ENTRY

/* One EVALSHA of script id (SYNC_SCRIPT_LOAD or _LOAD_RO), re-loaded after NOSCRIPT. */
static redisReply *eval_load(struct sync_conn *c, int *rc, enum sync_script_id id,
			     const struct sync_load *mine, uint32_t max_age_ms)
{
	char pps[24], util[16], age[16];
	const char *argv[9];
	size_t len[9];
	redisReply *r;

	snprintf(pps, sizeof(pps), "%llu", mine ? (unsigned long long)mine->pps : 0ULL);
	snprintf(util, sizeof(util), "%u", mine ? mine->util_permille : 0);
	snprintf(age, sizeof(age), "%u", max_age_ms);
	argv[0] = "EVALSHA";
	argv[1] = c->sha[id];
	argv[2] = "0";
	argv[3] = c->proxy_id;
	argv[4] = mine ? "1" : "0";
	argv[5] = pps;
	argv[6] = util;
	argv[7] = age;
	argv[8] = mine ? mine->tun_addr : "";
	for (int i = 0; i < 9; i++)
		len[i] = strlen(argv[i]);
	for (int tries = 0;; tries++) {
		r = sync_conn_cmd(c, rc, 9, argv, len);
		if (!r || !sync_reply_noscript(r) || tries == 1)
			return r;
		freeReplyObject(r);
		*rc = sync_conn_load_script(c, id);
		if (*rc)
			return NULL;
	}
}

static int parse_entry(redisReply **e, struct sync_load *out)
{
	if (e[0]->type != REDIS_REPLY_STRING || e[0]->len > SYNC_PROXY_ID_MAX)
		return -EPROTO;
	if (e[4]->type != REDIS_REPLY_STRING || e[4]->len > SYNC_TUN_ADDR_MAX)
		return -EPROTO;
	for (int k = 1; k < 4; k++) {
		if (e[k]->type != REDIS_REPLY_INTEGER || e[k]->integer < 0)
			return -EPROTO;
	}
	memcpy(out->proxy_id, e[0]->str, e[0]->len);
	out->proxy_id[e[0]->len] = '\0';
	out->pps = (uint64_t)e[1]->integer;
	out->util_permille = (uint32_t)e[2]->integer;
	out->age_us = (uint64_t)e[3]->integer;
	memcpy(out->tun_addr, e[4]->str, e[4]->len);
	out->tun_addr[e[4]->len] = '\0';
	return 0;
}

/* Run script id and parse its reply into others: the count, or -errno. */
static int load_call(struct sync_conn *c, enum sync_script_id id, const struct sync_load *mine,
		     struct sync_load *others, size_t max, uint32_t max_age_ms)
{
	struct sync_sigpipe g;
	redisReply *r;
	size_t m;
	/* Loads do not depend on the master's instance: go on when it is stale. */
	int rc = c->stale && c->ctx ? 0 : sync_conn_ensure(c);

	if (rc)
		return rc;
	if (mine && mine->util_permille > 1000)
		return sync_conn_fail(c, EINVAL, "load: bad util %u permille", mine->util_permille);
	sync_sigpipe_block(&g);
	r = eval_load(c, &rc, id, mine, max_age_ms);
	sync_sigpipe_restore(&g);
	if (!r)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		rc = sync_conn_reply_err(c, r, "load");
	} else if (r->type != REDIS_REPLY_ARRAY || r->elements % LOAD_REPLY_ENTRY) {
		rc = sync_conn_fail(c, EPROTO, "redis %s: load: unexpected reply", c->addr);
	} else {
		m = r->elements / LOAD_REPLY_ENTRY;
		for (size_t i = 0; i < m && i < max && !rc; i++) {
			if (parse_entry(r->element + i * LOAD_REPLY_ENTRY, &others[i]))
				rc = sync_conn_fail(c, EPROTO, "redis %s: load: bad entry",
						    c->addr);
		}
		if (!rc)
			rc = m > INT32_MAX ? INT32_MAX : (int)m;
	}
	freeReplyObject(r);
	return rc;
}

int sync_exchange_loads(struct sync_conn *c, const struct sync_load *mine, struct sync_load *others,
			size_t max, uint32_t max_age_ms)
{
	return load_call(c, SYNC_SCRIPT_LOAD, mine, others, max, max_age_ms);
}

int sync_read_loads(struct sync_conn *c, struct sync_load *others, size_t max, uint32_t max_age_ms)
{
	if (!c->replica)
		return sync_conn_fail(c, EINVAL, "redis %s: load: not a replica connection",
				      c->addr);
	return load_call(c, SYNC_SCRIPT_LOAD_RO, NULL, others, max, max_age_ms);
}
