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
 * round (64 x 256 pairs ~ 1 MB of arguments) without giving up pipelining.
 */
#define PIPELINE_DEPTH 64
#define NUM_MAX 21 /* decimal digits of a uint64_t, and a NUL */
#define PREFETCH 8 /* pairs ahead: covers a memory miss at ~50 ns of work per pair */
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

/*
 * The order pairs travel in: grouped by destination (groups in the order of
 * their first pair, pairs within a group in input order), so that a batch
 * reads and writes each destination once.  Pairs of different destinations
 * touch disjoint records, and the relative order of one destination's pairs
 * is kept, so every record ends as if merged in input order, and out[i] is
 * still the state right after in[i].  O(n): one open-addressing table.
 * Returns ord[n] (position -> input index) or NULL.
 */
static uint32_t *plan_order(const struct sync_pair_in *in, size_t n)
{
	size_t cap = 16, ng = 0;
	uint32_t *ord = malloc(n * sizeof(*ord)), *grp = malloc(n * sizeof(*grp));
	uint32_t *first = malloc(n * sizeof(*first)), *pos = calloc(n + 1, sizeof(*pos));
	uint32_t *slot = NULL;

	while (cap < 2 * n)
		cap *= 2;
	slot = calloc(cap, sizeof(*slot)); /* group + 1; 0: empty */
	if (!ord || !grp || !first || !pos || !slot) {
		free(ord);
		ord = NULL;
		goto out_free;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = in[i].key.dst;
		uint64_t a, b, h;
		size_t s;

		memcpy(&a, d, 8);
		memcpy(&b, d + 8, 8);
		/* murmur3's finaliser over both halves: every bit reaches the low ones */
		h = a * 0x9e3779b97f4a7c15ULL ^ b;
		h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdULL;
		h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53ULL;
		for (s = (h ^ (h >> 33)) & (cap - 1); slot[s]; s = (s + 1) & (cap - 1)) {
			if (!memcmp(in[first[slot[s] - 1]].key.dst, d, 16))
				break;
		}
		if (!slot[s]) {
			first[ng] = (uint32_t)i;
			slot[s] = (uint32_t)++ng;
		}
		grp[i] = slot[s] - 1;
		pos[grp[i] + 1]++;
	}
	for (size_t g = 1; g <= ng; g++)
		pos[g] += pos[g - 1];
	for (size_t i = 0; i < n; i++)
		ord[pos[grp[i]]++] = (uint32_t)i;
out_free:
	free(grp);
	free(first);
	free(pos);
	free(slot);
	return ord;
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
	size_t max = HDR_ARGS + 2 * (size_t)batch;

	a->argv = calloc(max, sizeof(*a->argv));
	a->len = calloc(max, sizeof(*a->len));
	a->buf = malloc(HDR_ARGS * NUM_MAX +
			(size_t)batch * (SYNC_DST_HEX_LEN + SYNC_MERGE_PAIR_LEN));
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

/* One pair as the script reads it (lua.h): dev, ts1, ts2, c, dc, mark. */
static void put_pair(uint8_t *q, const struct sync_pair_in *p)
{
	sync_field_dev(p->key.dev, q);
	sync_put_f64(q + 4, sync_ns_to_wire(p->ts1));
	sync_put_f64(q + 12, sync_ns_to_wire(p->ts2));
	sync_put_f64(q + 20, p->c);
	sync_put_f64(q + 28, p->dc);
	q[36] = (uint8_t)p->mark;
}

/* Queue the batch of pairs in[ord[0..m)] with sequence number seq. */
static int append_batch(struct sync_conn *c, struct args *a, const struct sync_pair_in *in,
			const uint32_t *ord, size_t m, uint64_t seq, bool retry,
			const struct sync_params *p)
{
	const uint8_t *prev = NULL;
	size_t ng = 0;
	int ng_arg, end;

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
	ng_arg = a->argc;
	arg_str(a, "", 0); /* the number of groups, known at the end */
	for (size_t k = 0; k < m; k++) {
		const struct sync_pair_in *q = &in[ord[k]];

		/* ord[] gathers from all over in[]: without this, a miss per pair */
		if (k + PREFETCH < m)
			__builtin_prefetch(&in[ord[k + PREFETCH]]);
		if (!prev || memcmp(prev, q->key.dst, 16)) {
			sync_dst_hex(q->key.dst, a->p);
			arg_str(a, a->p, SYNC_DST_HEX_LEN);
			a->p += SYNC_DST_HEX_LEN;
			arg_str(a, a->p, 0);
			prev = q->key.dst;
			ng++;
		}
		put_pair((uint8_t *)a->p, q);
		a->p += SYNC_MERGE_PAIR_LEN;
		a->len[a->argc - 1] += SYNC_MERGE_PAIR_LEN;
	}
	end = a->argc;
	a->argc = ng_arg;
	arg_u64(a, ng); /* into its slot; the digits go after the pairs in buf */
	a->argc = end;
	if (redisAppendCommandArgv(c->ctx, a->argc, a->argv, a->len) != REDIS_OK)
		return sync_conn_lost(c, "EVALSHA (queue)");
	return 0;
}

/*
 * One batch's reply into out[ord[0..m)].  Returns 1 if it was a duplicate,
 * 0, or -EPROTO.
 */
static int parse_batch(struct sync_conn *c, const redisReply *r, struct sync_pair_out *out,
		       const uint32_t *ord, size_t m)
{
	int dup = 0;

	if (r->type != REDIS_REPLY_STRING || r->len != m * SYNC_MERGE_REPLY_LEN)
		return sync_conn_fail(c, EPROTO,
				      "redis %s: merge: reply of %zu bytes for %zu pairs", c->addr,
				      r->type == REDIS_REPLY_STRING ? r->len : 0, m);
	for (size_t k = 0; k < m; k++) {
		const uint8_t *e = (const uint8_t *)r->str + k * SYNC_MERGE_REPLY_LEN;
		struct sync_pair_out *o = &out[ord[k]];
		uint64_t v[6];

		if (k + PREFETCH < m)
			__builtin_prefetch(&out[ord[k + PREFETCH]], 1);

		for (int f = 0; f < 6; f++) {
			if (sync_get_f64(e + 4 + 8 * f, &v[f]))
				return sync_conn_fail(
					c, EPROTO, "redis %s: merge: bad reply element", c->addr);
		}
		*o = (struct sync_pair_out){
			.flags = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
				 (uint32_t)e[3] << 24,
			.c = v[0],
			.ts1 = sync_wire_to_ns(v[1]),
			.ts2 = sync_wire_to_ns(v[2]),
			.dst_c = v[3],
			.dst_ts1 = sync_wire_to_ns(v[4]),
			.dst_ts2 = sync_wire_to_ns(v[5]),
		};
		dup |= o->flags & SYNC_F_DUP;
	}
	return dup ? 1 : 0;
}

struct run {
	const struct sync_pair_in *in;
	const uint32_t *ord; /* the order pairs travel in (plan_order()) */
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

/* Read and check the reply of batch i.  Returns 0, -ENOENT for NOSCRIPT, or -errno. */
static int read_batch(struct sync_conn *c, struct run *ru, size_t i)
{
	redisReply *r = NULL;
	int rc = 0;

	errno = 0;
	if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK)
		return sync_conn_lost(c, "EVALSHA");
	if (c->fault_after && ++ru->replies > c->fault_after) {
		freeReplyObject(r);
		c->fault_after = 0;
		sync_conn_drop(c);
		return sync_conn_fail(c, ECONNRESET, "redis %s: connection cut (test fault)",
				      c->addr);
	}
	if (sync_reply_noscript(r)) {
		rc = -ENOENT; /* not an error yet: the caller re-loads the script */
	} else if (r->type == REDIS_REPLY_ERROR) {
		rc = sync_conn_reply_err(c, r, "merge");
	} else {
		rc = parse_batch(c, r, ru->out, ru->ord + i * ru->p->batch, batch_len(ru, i));
		if (rc >= 0) {
			c->st.batches++;
			c->st.dup_batches += (unsigned)rc;
			rc = 0;
		}
	}
	freeReplyObject(r);
	return rc;
}

/*
 * Send batches b.. and read their replies, keeping between PIPELINE_DEPTH / 2
 * and PIPELINE_DEPTH in flight, so that the master works on one half while
 * we build the next and parse replies (one write per half, not per batch).  Returns 0, or -errno with *first set to the
 * first batch whose reply was an error (so NOSCRIPT can re-send from there).
 * Nothing is sent after an error; the replies in flight are read and
 * dropped: they are errors too (SEQGAP), since batches apply in sequence.
 */
static int pipeline(struct sync_conn *c, struct args *a, struct run *ru, size_t b, size_t *first,
		    bool *noscript)
{
	size_t sent = b, done = b;
	int rc = 0, brc;

	*first = ru->nb;
	*noscript = false;
	while (done < ru->nb) {
		if (!rc && sent < ru->nb && sent - done <= PIPELINE_DEPTH / 2) {
			size_t upto =
				done + PIPELINE_DEPTH < ru->nb ? done + PIPELINE_DEPTH : ru->nb;

			for (; sent < upto; sent++) {
				rc = append_batch(c, a, ru->in, ru->ord + sent * ru->p->batch,
						  batch_len(ru, sent), ru->seq0 + sent, ru->retry,
						  ru->p);
				if (rc)
					return rc;
			}
		}
		if (done == sent)
			break;
		brc = read_batch(c, ru, done);
		if (!c->ctx)
			return brc; /* connection lost: nothing more to read */
		if (brc && !rc) {
			*first = done;
			*noscript = brc == -ENOENT;
			rc = brc;
		}
		done++;
	}
	return rc;
}

static int run_batches(struct sync_conn *c, struct run *ru)
{
	struct args a = { 0 };
	int rc, reloads = 0;
	size_t b = 0, first;
	bool noscript;

	rc = args_init(&a, ru->p->batch);
	if (rc) {
		args_free(&a);
		return sync_conn_fail(c, ENOMEM, "merge: out of memory");
	}
	for (;;) {
		rc = pipeline(c, &a, ru, b, &first, &noscript);
		if (!rc || !noscript || !c->ctx)
			break;
		/* Nothing from 'first' on was applied: reload, re-send. */
		if (reloads++ == 2) {
			rc = sync_conn_fail(
				c, ENOENT,
				"redis %s: merge: NOSCRIPT after loading the script twice",
				c->addr);
			break;
		}
		rc = sync_conn_load_script(c, SYNC_SCRIPT_MERGE);
		if (rc)
			break;
		b = first;
	}
	args_free(&a);
	return rc;
}

int sync_merge_batch(struct sync_conn *c, const struct sync_pair_in *in, size_t n,
		     struct sync_pair_out *out, const struct sync_params *p)
{
	struct run ru = { .in = in, .out = out, .n = n, .p = p };
	struct sync_sigpipe g;
	uint32_t *ord;
	uint64_t sum;
	int rc;

	if (sync_params_check(p))
		return sync_conn_fail(c, EINVAL,
				      "merge: bad params (tt1 %llu ms, tt4 %llu ms, r %u, "
				      "ttl %u ms, batch %u)",
				      (unsigned long long)p->tt1_ms, (unsigned long long)p->tt4_ms,
				      p->r, p->ttl_ms, p->batch);
	if (n > UINT32_MAX)
		return sync_conn_fail(c, EINVAL, "merge: %zu pairs in one call", n);
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
	ord = plan_order(in, n);
	if (!ord)
		return sync_conn_fail(c, ENOMEM, "merge: out of memory");
	ru.ord = ord;
	/* From the first byte sent until success, the batches are in doubt. */
	c->doubt = (struct sync_doubt){
		.active = true, .seq0 = ru.seq0, .n = n, .batch = p->batch, .sum = sum
	};
	sync_sigpipe_block(&g);
	rc = run_batches(c, &ru);
	sync_sigpipe_restore(&g);
	free(ord);
	if (rc)
		return rc;
	c->doubt.active = false;
	c->seq_next = ru.seq0 + ru.nb;
	return 0;
}
