/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync_read_*(): the master's records decoded from the layout of keys.h,
 * with the merge script's rule for expiry (dead once the master's clock
 * passes exp), for tests, tools and status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/conn_int.h"
#include "sync/read.h"

/* The master's clock in ms (what exp is written in). */
static int master_ms(struct sync_conn *c, uint64_t *now)
{
	static const char *argv[] = { "TIME" };
	static const size_t len[] = { 4 };
	redisReply *r;
	int rc = 0;

	r = sync_conn_cmd(c, &rc, 1, argv, len);
	if (!r)
		return rc;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING)
		*now = strtoull(r->element[0]->str, NULL, 10) * 1000 +
		       strtoull(r->element[1]->str, NULL, 10) / 1000;
	else
		rc = sync_conn_fail(c, EPROTO, "redis %s: TIME: unexpected reply", c->addr);
	freeReplyObject(r);
	return rc;
}

/*
 * A stored value (pair or destination: both begin c ts1 ts2 total exp) of
 * len bytes (a destination's may be 8 longer: SYNC_DST_BIG) into out.
 * Returns 0, -ENOENT when it is dead, -EPROTO when it is not ours.
 */
static int decode(const redisReply *v, size_t len, uint64_t now, struct sync_record *out)
{
	uint64_t f[SYNC_PAIR_VAL_N];

	if (v->type != REDIS_REPLY_STRING ||
	    (v->len != len && !(len == SYNC_DST_VAL_LEN && v->len == len + 8)))
		return -EPROTO;
	for (int i = 0; i < SYNC_PAIR_VAL_N; i++) {
		if (sync_get_f64((const uint8_t *)v->str + 8 * i, &f[i]))
			return -EPROTO;
	}
	if (f[4] < now)
		return -ENOENT;
	*out = (struct sync_record){ .c = f[0],
				     .ts1 = sync_wire_to_ns(f[1]),
				     .ts2 = sync_wire_to_ns(f[2]),
				     .total = f[3],
				     .ttl_ms = f[4] - now };
	return 0;
}

/* Run fn between the guards every read shares (connection, SIGPIPE). */
static int guarded(struct sync_conn *c, int (*fn)(struct sync_conn *, void *), void *arg)
{
	struct sync_sigpipe g;
	int rc = c->stale && c->ctx ? 0 : sync_conn_ensure(c);

	if (rc && rc != -ESTALE)
		return rc;
	if (!c->ctx)
		return rc;
	sync_sigpipe_block(&g);
	rc = fn(c, arg);
	sync_sigpipe_restore(&g);
	return rc;
}

struct one {
	const uint8_t *dst;
	const char *field;
	size_t flen, vlen;
	struct sync_record *out;
};

static int read_one(struct sync_conn *c, void *arg)
{
	struct one *o = arg;
	char key[SYNC_KEY_MAX];
	const char *argv[3] = { "HGET", key, o->field };
	size_t len[3] = { 4, 0, o->flen };
	uint64_t now = 0;
	redisReply *r;
	int rc = master_ms(c, &now);

	if (rc)
		return rc;
	len[1] = sync_key_dst(o->dst, key);
	r = sync_conn_cmd(c, &rc, 3, argv, len);
	if (!r)
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		rc = -ENOENT;
	} else if (r->type == REDIS_REPLY_ERROR) {
		rc = sync_conn_reply_err(c, r, "read");
	} else {
		rc = decode(r, o->vlen, now, o->out);
		if (rc == -EPROTO)
			rc = sync_conn_fail(c, EPROTO, "redis %s: %s: a record not in our layout",
					    c->addr, key);
	}
	freeReplyObject(r);
	return rc;
}

int sync_read_pair(struct sync_conn *c, const struct xf_key *k, struct sync_record *out)
{
	uint8_t f[SYNC_FIELD_DEV_LEN];
	struct one o = { k->dst, (const char *)f, sizeof(f), SYNC_PAIR_VAL_LEN, out };

	sync_field_dev(k->dev, f);
	return guarded(c, read_one, &o);
}

int sync_read_dst(struct sync_conn *c, const uint8_t dst[16], struct sync_record *out)
{
	struct one o = { dst, SYNC_FIELD_DST, strlen(SYNC_FIELD_DST), SYNC_DST_VAL_LEN, out };

	return guarded(c, read_one, &o);
}

struct proxy {
	const char *id;
	uint64_t *seq, *total;
};

/* A decimal field of an HMGET reply: 0, or -EPROTO. */
static int dec_field(const redisReply *e, uint64_t *v)
{
	char *end;

	if (e->type != REDIS_REPLY_STRING || !e->len)
		return -EPROTO;
	*v = strtoull(e->str, &end, 10);
	return *end ? -EPROTO : 0;
}

static int read_proxy(struct sync_conn *c, void *arg)
{
	struct proxy *p = arg;
	char key[sizeof(SYNC_KEY_PROXY) + SYNC_PROXY_ID_MAX];
	const char *argv[4] = { "HMGET", key, "seq", "total" };
	size_t len[4] = { 5, 0, 3, 5 };
	redisReply *r;
	int rc = 0;

	len[1] = (size_t)snprintf(key, sizeof(key), SYNC_KEY_PROXY "%s", p->id);
	r = sync_conn_cmd(c, &rc, 4, argv, len);
	if (!r)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		rc = sync_conn_fail(c, EPROTO, "redis %s: %s: unexpected reply", c->addr, key);
	else if (r->element[0]->type == REDIS_REPLY_NIL)
		rc = -ENOENT;
	else if (dec_field(r->element[0], p->seq) || dec_field(r->element[1], p->total))
		rc = sync_conn_fail(c, EPROTO, "redis %s: %s: not a number", c->addr, key);
	freeReplyObject(r);
	return rc;
}

int sync_read_proxy(struct sync_conn *c, const char *proxy_id, uint64_t *seq, uint64_t *total)
{
	struct proxy p = { proxy_id, seq, total };

	if (sync_proxy_id_check(proxy_id))
		return sync_conn_fail(c, EINVAL, "read: bad proxy id");
	return guarded(c, read_proxy, &p);
}

/* Every field of one destination's hash into the sums. */
static int sum_dst(struct sync_conn *c, const char *key, size_t klen, uint64_t now,
		   struct sync_totals *t)
{
	const char *argv[2] = { "HGETALL", key };
	size_t len[2] = { 7, klen };
	struct sync_record rec;
	redisReply *r;
	int rc = 0;

	r = sync_conn_cmd(c, &rc, 2, argv, len);
	if (!r)
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2)
		rc = -EPROTO;
	for (size_t i = 0; !rc && i < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];
		bool dst = f->len == strlen(SYNC_FIELD_DST);

		if (f->type != REDIS_REPLY_STRING || (!dst && f->len != SYNC_FIELD_DEV_LEN)) {
			rc = -EPROTO;
			break;
		}
		rc = decode(v, dst ? SYNC_DST_VAL_LEN : SYNC_PAIR_VAL_LEN, now, &rec);
		if (rc == -ENOENT) {
			t->dead++;
			rc = 0;
		} else if (!rc && dst) {
			t->dsts++;
			t->dst_total += rec.total;
		} else if (!rc) {
			t->pairs++;
			t->pair_total += rec.total;
		}
	}
	if (rc == -EPROTO)
		rc = sync_conn_fail(c, EPROTO, "redis %s: %s: a record not in our layout", c->addr,
				    key);
	freeReplyObject(r);
	return rc;
}

/* SCAN for keys beginning with prefix; each into the sums. */
static int scan(struct sync_conn *c, const char *prefix, uint64_t now, struct sync_totals *t)
{
	char cursor[24] = "0", match[16];
	const char *argv[6] = { "SCAN", cursor, "MATCH", match, "COUNT", "1000" };
	size_t len[6] = { 4, 1, 5, 0, 5, 4 };
	int rc = 0;

	len[3] = (size_t)snprintf(match, sizeof(match), "%s*", prefix);
	do {
		redisReply *r = sync_conn_cmd(c, &rc, 6, argv, len), *keys;
		struct proxy p;
		uint64_t seq, total;

		if (!r)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[0]->len >= sizeof(cursor) ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return sync_conn_fail(c, EPROTO, "redis %s: SCAN: unexpected reply",
					      c->addr);
		}
		len[1] = r->element[0]->len;
		memcpy(cursor, r->element[0]->str, len[1] + 1);
		keys = r->element[1];
		for (size_t i = 0; !rc && i < keys->elements; i++) {
			const redisReply *k = keys->element[i];

			if (strcmp(prefix, SYNC_KEY_DST)) {
				p = (struct proxy){ k->str + strlen(prefix), &seq, &total };
				rc = read_proxy(c, &p);
				t->proxies += !rc;
				t->proxy_total += rc ? 0 : total;
				rc = rc == -ENOENT ? 0 : rc;
			} else {
				rc = sum_dst(c, k->str, k->len, now, t);
			}
		}
		freeReplyObject(r);
	} while (!rc && strcmp(cursor, "0"));
	return rc;
}

static int read_totals(struct sync_conn *c, void *arg)
{
	struct sync_totals *t = arg;
	uint64_t now = 0;
	int rc = master_ms(c, &now);

	memset(t, 0, sizeof(*t));
	if (!rc)
		rc = scan(c, SYNC_KEY_PROXY, now, t);
	if (!rc)
		rc = scan(c, SYNC_KEY_DST, now, t);
	return rc;
}

int sync_read_totals(struct sync_conn *c, struct sync_totals *out)
{
	return guarded(c, read_totals, out);
}
