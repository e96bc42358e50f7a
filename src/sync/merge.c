/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync_merge_batch(): a proxy's harvested pairs sent to the merge script in
 * pipelined EVALSHA batches that the master applies exactly once each, with
 * NOSCRIPT answered by re-loading the script and re-sending.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sync/conn_int.h"
#include "sync/lua.h"
#include "sync/merge.h"

/*
 * Batches in flight before their replies are read: bounds the memory of a
 * round (64 x 256 pairs ~ 2 MB of arguments) without giving up pipelining.
 */
#define PIPELINE_DEPTH 64
#define NUM_MAX 21 /* decimal digits of a uint64_t, and a NUL */
#define HDR_ARGS (3 + SYNC_MERGE_ARGV_HDR) /* EVALSHA sha 0, then the header */

void sync_params_from_xf(struct sync_params *s, const struct xf_params *p, uint32_t period_ms)
{
	uint64_t ttl = p->tt1_ms + 2ULL * period_ms;

	s->tt1_ms = p->tt1_ms;
	s->tt4_ms = p->tt4_ms;
	s->r = p->r;
	s->ttl_ms = ttl > UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
	s->batch = SYNC_BATCH_DEFAULT;
}

int sync_params_check(const struct sync_params *s)
{
	const uint64_t max_ms = SYNC_WIRE_MAX / 1000;

	if (!s->tt1_ms || s->tt1_ms > max_ms || !s->tt4_ms || s->tt4_ms > max_ms)
		return -EINVAL;
	if (s->r < 1 || s->r > 1024 || s->ttl_ms < s->tt1_ms)
		return -EINVAL;
	if (s->batch < 1 || s->batch > SYNC_BATCH_MAX)
		return -EINVAL;
	return 0;
}

static int check_input(struct sync_conn *c, const struct sync_pair_in *in, size_t n)
{
	const uint64_t tmax = SYNC_WIRE_MAX * SYNC_NS_PER_WIRE;

	for (size_t i = 0; i < n; i++) {
		const struct sync_pair_in *p = &in[i];

		if (p->mark > 1 || p->ts1 > p->ts2 || p->ts2 > tmax || p->c > SYNC_WIRE_MAX ||
		    p->dc > SYNC_WIRE_MAX)
			return sync_conn_fail(
				c, EINVAL,
				"merge: pair %zu: bad value (mark %u, ts1 %llu, ts2 %llu, "
				"c %llu, dc %llu)",
				i, p->mark, (unsigned long long)p->ts1, (unsigned long long)p->ts2,
				(unsigned long long)p->c, (unsigned long long)p->dc);
	}
	return 0;
}

/* FNV-1a over every field that travels: a retry must send the same request. */
static uint64_t fingerprint(const struct sync_pair_in *in, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		const uint64_t v[] = { in[i].key.dev, in[i].mark, in[i].ts1,
				       in[i].ts2,     in[i].c,	  in[i].dc };
		const uint8_t *b[] = { in[i].key.dst, (const uint8_t *)v };
		const size_t len[] = { sizeof(in[i].key.dst), sizeof(v) };

		for (int k = 0; k < 2; k++) {
			for (size_t j = 0; j < len[k]; j++)
				h = (h ^ b[k][j]) * 0x100000001b3ULL;
		}
	}
	return h;
}

/* Argument vectors of one batch; the strings live in buf. */
struct args {
	const char **argv;
	size_t *len;
	char *buf, *p;
	int argc;
};

static int args_init(struct args *a, uint32_t batch)
{
	size_t max = HDR_ARGS + (size_t)batch * SYNC_MERGE_ARGV_PAIR;

	a->argv = calloc(max, sizeof(*a->argv));
	a->len = calloc(max, sizeof(*a->len));
	a->buf = malloc(max * NUM_MAX + (size_t)batch * SYNC_DST_HEX_LEN);
	return a->argv && a->len && a->buf ? 0 : -ENOMEM;
}

static void args_free(struct args *a)
{
	free(a->argv);
	free(a->len);
	free(a->buf);
}

static void arg_str(struct args *a, const char *s, size_t len)
{
	a->argv[a->argc] = s;
	a->len[a->argc++] = len;
}

static void arg_u64(struct args *a, uint64_t v)
{
	char tmp[NUM_MAX], *q = tmp + sizeof(tmp);
	size_t len;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	len = (size_t)(tmp + sizeof(tmp) - q);
	memcpy(a->p, q, len);
	arg_str(a, a->p, len);
	a->p += len;
}

/* Queue batch b (pairs in[0..m)) with sequence number seq. */
static int append_batch(struct sync_conn *c, struct args *a, const struct sync_pair_in *in,
			size_t m, uint64_t seq, bool retry, const struct sync_params *p)
{
	a->argc = 0;
	a->p = a->buf;
	arg_str(a, "EVALSHA", 7);
	arg_str(a, c->sha[SYNC_SCRIPT_MERGE], 40);
	arg_str(a, "0", 1);
	arg_str(a, c->gen, SYNC_GEN_LEN);
	arg_str(a, c->proxy_id, strlen(c->proxy_id));
	arg_u64(a, seq);
	arg_u64(a, retry);
	arg_u64(a, p->tt1_ms * 1000);
	arg_u64(a, p->tt4_ms * 1000);
	arg_u64(a, p->r);
	arg_u64(a, p->ttl_ms);
	arg_u64(a, m);
	for (size_t i = 0; i < m; i++) {
		arg_u64(a, in[i].key.dev);
		sync_dst_hex(in[i].key.dst, a->p);
		arg_str(a, a->p, SYNC_DST_HEX_LEN);
		a->p += SYNC_DST_HEX_LEN;
		arg_u64(a, sync_ns_to_wire(in[i].ts1));
		arg_u64(a, sync_ns_to_wire(in[i].ts2));
		arg_u64(a, in[i].c);
		arg_u64(a, in[i].dc);
		arg_u64(a, in[i].mark);
	}
	if (redisAppendCommandArgv(c->ctx, a->argc, a->argv, a->len) != REDIS_OK)
		return sync_conn_lost(c, "EVALSHA (queue)");
	return 0;
}

/* One batch's reply into out[0..m).  Returns 1 if it was a duplicate, 0, or -EPROTO. */
static int parse_batch(struct sync_conn *c, const redisReply *r, struct sync_pair_out *out,
		       size_t m)
{
	int dup = 0;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != m * SYNC_MERGE_REPLY_PAIR)
		return sync_conn_fail(c, EPROTO,
				      "redis %s: merge: reply of %zu elements for %zu pairs",
				      c->addr, r->type == REDIS_REPLY_ARRAY ? r->elements : 0, m);
	for (size_t i = 0; i < m; i++) {
		redisReply **e = r->element + i * SYNC_MERGE_REPLY_PAIR;
		long long v[SYNC_MERGE_REPLY_PAIR];

		for (int k = 0; k < SYNC_MERGE_REPLY_PAIR; k++) {
			if (e[k]->type != REDIS_REPLY_INTEGER || e[k]->integer < 0)
				return sync_conn_fail(
					c, EPROTO, "redis %s: merge: bad reply element", c->addr);
			v[k] = e[k]->integer;
		}
		out[i] = (struct sync_pair_out){
			.flags = (uint32_t)v[0],
			.c = (uint64_t)v[1],
			.ts1 = sync_wire_to_ns((uint64_t)v[2]),
			.ts2 = sync_wire_to_ns((uint64_t)v[3]),
			.dst_c = (uint64_t)v[4],
			.dst_ts1 = sync_wire_to_ns((uint64_t)v[5]),
			.dst_ts2 = sync_wire_to_ns((uint64_t)v[6]),
		};
		dup |= out[i].flags & SYNC_F_DUP;
	}
	return dup ? 1 : 0;
}

struct run {
	const struct sync_pair_in *in;
	struct sync_pair_out *out;
	size_t n, nb; /* pairs, batches */
	uint64_t seq0;
	bool retry;
	const struct sync_params *p;
	unsigned replies; /* read so far in this call (fault injection) */
};

static size_t batch_len(const struct run *ru, size_t b)
{
	size_t lo = b * ru->p->batch, hi = lo + ru->p->batch;

	return (hi > ru->n ? ru->n : hi) - lo;
}

/*
 * Send batches [b, b + w) and read their replies.  Returns 0, or -errno
 * with *first set to the first batch whose reply was an error (so NOSCRIPT
 * can re-send from there).  Replies after the first error are read and
 * dropped: they are errors too (SEQGAP), since batches apply in sequence.
 */
static int window(struct sync_conn *c, struct args *a, struct run *ru, size_t b, size_t w,
		  size_t *first, bool *noscript)
{
	int rc = 0;

	*first = b + w;
	*noscript = false;
	for (size_t i = b; i < b + w; i++) {
		rc = append_batch(c, a, ru->in + i * ru->p->batch, batch_len(ru, i), ru->seq0 + i,
				  ru->retry, ru->p);
		if (rc)
			return rc;
	}
	for (size_t i = b; i < b + w; i++) {
		redisReply *r = NULL;
		int prc;

		errno = 0;
		if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK)
			return sync_conn_lost(c, "EVALSHA");
		if (c->fault_after && ++ru->replies > c->fault_after) {
			freeReplyObject(r);
			c->fault_after = 0;
			sync_conn_drop(c);
			return sync_conn_fail(c, ECONNRESET,
					      "redis %s: connection cut (test fault)", c->addr);
		}
		if (*first < b + w) {
			freeReplyObject(r);
			continue;
		}
		if (sync_reply_noscript(r)) {
			/* Not an error yet: the caller re-loads the script. */
			*first = i;
			*noscript = true;
			rc = -ENOENT;
		} else if (r->type == REDIS_REPLY_ERROR) {
			*first = i;
			rc = sync_conn_reply_err(c, r, "merge");
		} else {
			prc = parse_batch(c, r, ru->out + i * ru->p->batch, batch_len(ru, i));
			if (prc < 0) {
				*first = i;
				rc = prc;
			} else {
				c->st.batches++;
				c->st.dup_batches += (unsigned)prc;
			}
		}
		freeReplyObject(r);
	}
	return rc;
}

static int run_batches(struct sync_conn *c, struct run *ru)
{
	struct args a = { 0 };
	int rc, reloads = 0;
	size_t b = 0, first, w;
	bool noscript;

	rc = args_init(&a, ru->p->batch);
	if (rc) {
		args_free(&a);
		return sync_conn_fail(c, ENOMEM, "merge: out of memory");
	}
	while (b < ru->nb) {
		w = ru->nb - b < PIPELINE_DEPTH ? ru->nb - b : PIPELINE_DEPTH;
		rc = window(c, &a, ru, b, w, &first, &noscript);
		if (rc && noscript && c->ctx) {
			/* Nothing from 'first' on was applied: reload, re-send. */
			if (reloads++ == 2) {
				rc = sync_conn_fail(c, ENOENT,
						    "redis %s: merge: NOSCRIPT after loading "
						    "the script twice",
						    c->addr);
				break;
			}
			rc = sync_conn_load_script(c, SYNC_SCRIPT_MERGE);
			if (rc)
				break;
			b = first;
			continue;
		}
		if (rc)
			break;
		b += w;
	}
	args_free(&a);
	return rc;
}

int sync_merge_batch(struct sync_conn *c, const struct sync_pair_in *in, size_t n,
		     struct sync_pair_out *out, const struct sync_params *p)
{
	struct run ru = { .in = in, .out = out, .n = n, .p = p };
	struct sync_sigpipe g;
	uint64_t sum;
	int rc;

	if (sync_params_check(p))
		return sync_conn_fail(c, EINVAL,
				      "merge: bad params (tt1 %llu ms, tt4 %llu ms, r %u, "
				      "ttl %u ms, batch %u)",
				      (unsigned long long)p->tt1_ms, (unsigned long long)p->tt4_ms,
				      p->r, p->ttl_ms, p->batch);
	rc = check_input(c, in, n);
	if (rc)
		return rc;
	sum = fingerprint(in, n);
	if (c->doubt.active) {
		if (c->doubt.n != n || c->doubt.batch != p->batch || c->doubt.sum != sum)
			return sync_conn_fail(
				c, EINVAL,
				"merge: an earlier merge is in doubt; retry it unchanged");
		ru.seq0 = c->doubt.seq0;
		ru.retry = true;
	} else {
		ru.seq0 = c->seq_next;
	}
	if (!n)
		return 0;
	ru.nb = (n + p->batch - 1) / p->batch;

	rc = sync_conn_ensure(c);
	if (rc)
		return rc;
	/* From the first byte sent until success, the batches are in doubt. */
	c->doubt = (struct sync_doubt){
		.active = true, .seq0 = ru.seq0, .n = n, .batch = p->batch, .sum = sum
	};
	sync_sigpipe_block(&g);
	rc = run_batches(c, &ru);
	sync_sigpipe_restore(&g);
	if (rc)
		return rc;
	c->doubt.active = false;
	c->seq_next = ru.seq0 + ru.nb;
	return 0;
}
