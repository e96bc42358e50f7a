/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync_exchange_shares(): the fair-share summaries, one EVALSHA of the share
 * script (lua.h) per SYNC_SHARE_BATCH destinations.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/conn_int.h"
#include "sync/lua.h"
#include "sync/share.h"

#define HDR 7 /* EVALSHA sha 0 proxy maxage ttl n */
#define ENTRY_LEN 112 /* five decimal u64 and spaces */

struct share_args {
	const char *argv[HDR + 2 * SYNC_SHARE_BATCH];
	size_t len[HDR + 2 * SYNC_SHARE_BATCH];
	char hex[SYNC_SHARE_BATCH][33];
	char val[SYNC_SHARE_BATCH][ENTRY_LEN];
	char num[3][16];
};

static void fill(struct share_args *a, struct sync_conn *c, const struct xf_share_view *mine,
		 size_t n, uint32_t max_age_ms, uint32_t ttl_ms)
{
	static const char digits[] = "0123456789abcdef";

	snprintf(a->num[0], sizeof(a->num[0]), "%u", max_age_ms);
	snprintf(a->num[1], sizeof(a->num[1]), "%u", ttl_ms);
	snprintf(a->num[2], sizeof(a->num[2]), "%zu", n);
	a->argv[0] = "EVALSHA";
	a->argv[1] = c->sha[SYNC_SCRIPT_SHARE];
	a->argv[2] = "0";
	a->argv[3] = c->proxy_id;
	a->argv[4] = a->num[0];
	a->argv[5] = a->num[1];
	a->argv[6] = a->num[2];
	for (size_t i = 0; i < n; i++) {
		const struct xf_share_view *v = &mine[i];

		for (int b = 0; b < 16; b++) {
			a->hex[i][2 * b] = digits[v->dst[b] >> 4];
			a->hex[i][2 * b + 1] = digits[v->dst[b] & 15];
		}
		a->hex[i][32] = 0;
		/* Lua numbers are doubles: every value stays far below 2^53. */
		snprintf(a->val[i], ENTRY_LEN, "%u %u %" PRIu64 " %" PRIu64 " %" PRIu64, v->senders,
			 v->heavy, v->demand, v->admitted,
			 v->share == XF_SHARE_NONE ? 0 : v->share);
		a->argv[HDR + 2 * i] = a->hex[i];
		a->argv[HDR + 2 * i + 1] = a->val[i];
	}
	for (size_t i = 0; i < HDR + 2 * n; i++)
		a->len[i] = strlen(a->argv[i]);
}

static int parse(struct sync_conn *c, const redisReply *r, const struct xf_share_view *mine,
		 size_t n, struct xf_share_view *others)
{
	if (r->type == REDIS_REPLY_ERROR)
		return sync_conn_reply_err(c, r, "share");
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 * n)
		return sync_conn_fail(c, EPROTO, "redis %s: share: unexpected reply", c->addr);
	for (size_t i = 0; i < n; i++) {
		redisReply *const *e = r->element + 5 * i;
		struct xf_share_view *o = &others[i];

		for (int k = 0; k < 5; k++)
			if (e[k]->type != REDIS_REPLY_INTEGER || e[k]->integer < 0)
				return sync_conn_fail(c, EPROTO, "redis %s: share: bad entry",
						      c->addr);
		memcpy(o->dst, mine[i].dst, 16);
		o->senders = (uint32_t)e[0]->integer;
		o->heavy = (uint32_t)e[1]->integer;
		o->demand = (uint64_t)e[2]->integer;
		o->admitted = (uint64_t)e[3]->integer;
		o->share = e[4]->integer ? (uint64_t)e[4]->integer : XF_SHARE_NONE;
	}
	return 0;
}

int sync_exchange_shares(struct sync_conn *c, const struct xf_share_view *mine, size_t n,
			 struct xf_share_view *others, uint32_t max_age_ms, uint32_t ttl_ms)
{
	struct share_args *a;
	struct sync_sigpipe g;
	int rc = c->stale && c->ctx ? 0 : sync_conn_ensure(c);

	if (rc || !n)
		return rc;
	a = malloc(sizeof(*a));
	if (!a)
		return sync_conn_fail(c, ENOMEM, "share: out of memory");
	sync_sigpipe_block(&g);
	for (size_t off = 0; off < n && !rc; off += SYNC_SHARE_BATCH) {
		size_t m = n - off < SYNC_SHARE_BATCH ? n - off : SYNC_SHARE_BATCH;
		redisReply *r = NULL;

		fill(a, c, mine + off, m, max_age_ms, ttl_ms);
		for (int tries = 0;; tries++) {
			r = sync_conn_cmd(c, &rc, (int)(HDR + 2 * m), a->argv, a->len);
			if (!r || !sync_reply_noscript(r) || tries == 1)
				break;
			freeReplyObject(r);
			r = NULL;
			rc = sync_conn_load_script(c, SYNC_SCRIPT_SHARE);
			if (rc)
				break;
		}
		if (r) {
			rc = parse(c, r, mine + off, m, others + off);
			freeReplyObject(r);
		}
	}
	sync_sigpipe_restore(&g);
	free(a);
	return rc;
}
