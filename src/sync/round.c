/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sync round (round.h): Algorithm 1 between the engine and the master.
 *
 * A round: make sure the connection is up (or back off), re-measure the
 * clock offset now and then, exchange W, then either build a request from
 * the engine (pairs touched since the last one) or retry the request still
 * awaiting acknowledgement, merge it, and apply the master's windows.  The
 * request owns its deltas until the master acknowledges them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <hiredis/hiredis.h>

#include "sync/keys.h"
#include "sync/merge.h"
#include "sync/round.h"
#include "sync/share.h"

#define OTHERS_MAX 64
#define OFFSET_EVERY 16 /* rounds between clock offset measurements */

struct sync_round {
	struct xf_engine *e;
	struct sync_conn *conn; /* NULL until the first successful connect */
	struct sync_conn_opts copts;
	char addr[128], password[128], proxy_id[SYNC_PROXY_ID_MAX + 1];
	char replica[128];
	redisContext *rep; /* replica, for reads; NULL when none or down */
	struct sync_params params, next_params; /* next: after the request in hand */
	bool retune;
	uint32_t period_ms, backoff_max_ms, batch_cfg;

	/* The request: built from one collection, kept until acknowledged. */
	struct sync_pair_in *in;
	struct sync_pair_out *out;
	struct xf_pair_view *at; /* engine views at collection, for pair_apply */
	size_t n, cap;
	bool pending, reseed;
	int64_t offset; /* shared = local + offset */
	bool have_offset;
	unsigned since_offset;

	uint64_t next_try, backoff;
	struct sync_load others[OTHERS_MAX];
	size_t nothers;
	/* The fair policy's summaries: this proxy's, and the others' sums. */
	struct xf_share_view *sh_mine, *sh_others;
	size_t sh_n, sh_cap;
	struct sync_round_stats st;
};

static const char *const state_names[] = { "up", "down", "stale", "conflict" };

const char *sync_state_name(enum sync_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool fatal_errno(int err)
{
	return err == EACCES || err == EROFS || err == EINVAL;
}

struct sync_round *sync_round_new(struct xf_engine *e, const struct sync_round_cfg *cfg, char *err,
				  size_t errlen)
{
	struct sync_round *r = calloc(1, sizeof(*r));
	struct xf_params xp;

	if (!r) {
		snprintf(err, errlen, "sync: out of memory");
		return NULL;
	}
	r->e = e;
	snprintf(r->addr, sizeof(r->addr), "%s", cfg->master.addr ? cfg->master.addr : "");
	snprintf(r->password, sizeof(r->password), "%s",
		 cfg->master.password ? cfg->master.password : "");
	snprintf(r->proxy_id, sizeof(r->proxy_id), "%s",
		 cfg->master.proxy_id ? cfg->master.proxy_id : "");
	snprintf(r->replica, sizeof(r->replica), "%s", cfg->replica ? cfg->replica : "");
	r->copts = cfg->master;
	r->copts.addr = r->addr;
	r->copts.password = r->password[0] ? r->password : NULL;
	r->copts.proxy_id = r->proxy_id;
	r->period_ms = cfg->period_ms ? cfg->period_ms : 100;
	r->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : SYNC_BACKOFF_MAX_MS;
	xf_engine_get_params(e, &xp);
	sync_params_from_xf(&r->params, &xp, r->period_ms);
	r->params.ttl_ms += r->backoff_max_ms;
	r->batch_cfg = cfg->batch;
	if (cfg->batch)
		r->params.batch = cfg->batch;
	if (sync_proxy_id_check(r->proxy_id) || sync_params_check(&r->params)) {
		snprintf(err, errlen, "sync: bad proxy id '%s' or parameters", r->proxy_id);
		free(r);
		return NULL;
	}
	r->conn = sync_conn_open(&r->copts, err, errlen);
	if (!r->conn) {
		if (fatal_errno(errno)) {
			free(r);
			return NULL;
		}
		/* Unreachable for now: start DOWN and retry; the fast path runs anyway. */
		r->st.state = SYNC_STATE_DOWN;
		r->st.outages = 1;
		snprintf(r->st.error, sizeof(r->st.error), "%s", err);
	}
	return r;
}

void sync_round_free(struct sync_round *r)
{
	if (!r)
		return;
	sync_conn_close(r->conn);
	if (r->rep)
		redisFree(r->rep);
	free(r->in);
	free(r->out);
	free(r->at);
	free(r->sh_mine);
	free(r->sh_others);
	free(r);
}

/* --- building the request ------------------------------------------------------ */

static int grow(struct sync_round *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 1024;
	void *a, *b, *c;

	while (cap < need)
		cap *= 2;
	if (cap == r->cap)
		return 0;
	a = realloc(r->in, cap * sizeof(*r->in));
	if (a)
		r->in = a;
	b = realloc(r->out, cap * sizeof(*r->out));
	if (b)
		r->out = b;
	c = realloc(r->at, cap * sizeof(*r->at));
	if (c)
		r->at = c;
	if (!a || !b || !c)
		return -ENOMEM;
	r->cap = cap;
	return 0;
}

struct collect_ctx {
	struct sync_round *r;
	int err;
};

static void add_pair(const struct xf_pair_view *v, void *arg)
{
	struct collect_ctx *cc = arg;
	struct sync_round *r = cc->r;
	struct sync_pair_in *in;

	/*
	 * build() made room for every live pair; workers may create more while
	 * we collect.  If growing fails the pair's delta, already handed over,
	 * would be lost: count it as lost rather than pretend.
	 */
	if (r->n == r->cap && grow(r, r->n + 1)) {
		r->st.lost_packets += v->dc;
		cc->err = -ENOMEM;
		return;
	}
	in = &r->in[r->n];
	in->key = v->key;
	/* A window the master has not seen from us: new, restarted, or re-seeding. */
	in->mark = v->mark || v->fresh || r->reseed;
	in->ts1 = (uint64_t)((int64_t)v->ts1 + r->offset);
	in->ts2 = (uint64_t)((int64_t)v->ts2 + r->offset);
	in->c = v->count;
	in->dc = v->dc;
	r->at[r->n] = *v;
	r->n++;
	r->st.pending_packets += v->dc;
}

/*
 * Collect the engine's touched pairs (all of them when re-seeding) and
 * append them to the request.  Pairs already in the request (a request
 * re-sent to a new master instance) travel twice: merged twice, their
 * deltas once each.
 */
static int build(struct sync_round *r)
{
	struct collect_ctx cc = { r, 0 };
	struct xf_engine_stats es;

	xf_engine_stats(r->e, &es);
	if (grow(r, r->n + es.pairs + 64))
		return -ENOMEM;
	xf_engine_collect(r->e, r->reseed ? XF_COLLECT_ALL : XF_COLLECT_TOUCHED, add_pair, &cc);
	r->st.pending_pairs = r->n;
	r->pending = r->n > 0;
	return cc.err;
}

/* --- applying the master's answer ---------------------------------------------- */

static uint64_t to_local(const struct sync_round *r, uint64_t shared)
{
	int64_t t = (int64_t)shared - r->offset;

	return t > 0 ? (uint64_t)t : 1;
}

static void apply(struct sync_round *r, uint64_t now)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct sync_pair_out *o = &r->out[i];

		r->st.pairs_applied += xf_engine_pair_apply(
			r->e, &r->at[i], o->c, to_local(r, o->ts1), to_local(r, o->ts2));
		/* The last answer for a destination is its newest global window. */
		xf_engine_dst_apply(r->e, r->in[i].key.dst, o->dst_c, to_local(r, o->dst_ts1), now);
	}
	xf_engine_apply_end(r->e);
}

/* --- failures ------------------------------------------------------------------ */

static void set_error(struct sync_round *r, int rc)
{
	const char *why = r->conn ? sync_conn_strerror(r->conn) : "";

	if (why && *why)
		snprintf(r->st.error, sizeof(r->st.error), "%s", why);
	else
		snprintf(r->st.error, sizeof(r->st.error), "redis %s: %s", r->addr, strerror(-rc));
}

static int fail(struct sync_round *r, uint64_t now, int rc, enum sync_state state)
{
	r->st.rounds_failed++;
	if (r->st.state == SYNC_STATE_UP && state != SYNC_STATE_UP)
		r->st.outages++;
	r->st.state = state;
	set_error(r, rc);
	r->backoff = r->backoff ? r->backoff * 2 : (uint64_t)r->period_ms * 1000000ULL;
	if (r->backoff > (uint64_t)r->backoff_max_ms * 1000000ULL)
		r->backoff = (uint64_t)r->backoff_max_ms * 1000000ULL;
	r->next_try = now + r->backoff;
	return rc;
}

/*
 * The master is a new instance (restarted empty, flushed, or older than what
 * it acknowledged): adopt it and push everything we hold, not just deltas:
 * the request in hand (its deltas were never acknowledged by this instance)
 * and every live pair, all as new windows.
 */
static int reseed_begin(struct sync_round *r)
{
	int rc = sync_conn_resync(r->conn);

	if (rc)
		return rc;
	r->reseed = true;
	r->st.reseeds++;
	for (size_t i = 0; i < r->n; i++)
		r->in[i].mark = 1;
	return 0;
}

/* --- the replica ---------------------------------------------------------------- */

/* Other proxies' W from the local replica (HGETALL xpro:w); -errno on failure. */
static int replica_loads(struct sync_round *r, uint32_t max_age_ms)
{
	struct timeval tv = { 0, 500000 };
	redisReply *rep, *t;
	uint64_t now;

	if (!r->rep) {
		const char *a = r->replica;
		char host[128];
		const char *colon = strrchr(a, ':');

		if (!strncmp(a, "unix:", 5)) {
			r->rep = redisConnectUnixWithTimeout(a + 5, tv);
		} else if (colon && (size_t)(colon - a) < sizeof(host)) {
			memcpy(host, a, (size_t)(colon - a));
			host[colon - a] = 0;
			r->rep = redisConnectWithTimeout(host, atoi(colon + 1), tv);
		}
		if (!r->rep || r->rep->err) {
			if (r->rep)
				redisFree(r->rep);
			r->rep = NULL;
			return -ECONNREFUSED;
		}
		redisSetTimeout(r->rep, tv);
	}
	t = redisCommand(r->rep, "TIME");
	rep = t ? redisCommand(r->rep, "HGETALL %s", SYNC_KEY_LOAD) : NULL;
	if (!t || !rep || t->type != REDIS_REPLY_ARRAY || t->elements != 2 ||
	    rep->type != REDIS_REPLY_ARRAY) {
		if (t)
			freeReplyObject(t);
		if (rep)
			freeReplyObject(rep);
		redisFree(r->rep);
		r->rep = NULL;
		return -EIO;
	}
	now = strtoull(t->element[0]->str, NULL, 10) * 1000000ULL +
	      strtoull(t->element[1]->str, NULL, 10);
	r->nothers = 0;
	for (size_t i = 0; i + 1 < rep->elements && r->nothers < OTHERS_MAX; i += 2) {
		struct sync_load *l = &r->others[r->nothers];
		unsigned long long pps, ts;
		char addr[SYNC_TUN_ADDR_MAX + 1] = "";
		unsigned util;

		/* The value is "pps util ts [tunnel address]" (load_lua.c). */
		if (rep->element[i]->len > SYNC_PROXY_ID_MAX ||
		    !strcmp(rep->element[i]->str, r->proxy_id) ||
		    sscanf(rep->element[i + 1]->str, "%llu %u %llu %47s", &pps, &util, &ts, addr) <
			    3 ||
		    ts > now || now - ts > (uint64_t)max_age_ms * 1000)
			continue;
		memcpy(l->tun_addr, addr, sizeof(l->tun_addr));
		snprintf(l->proxy_id, sizeof(l->proxy_id), "%s", rep->element[i]->str);
		l->pps = pps;
		l->util_permille = util;
		l->age_us = now - ts;
		r->nothers++;
	}
	freeReplyObject(t);
	freeReplyObject(rep);
	return 0;
}

/* --- the fair share ------------------------------------------------------------ */

static void add_share(const struct xf_share_view *v, void *arg)
{
	struct sync_round *r = arg;

	if (r->sh_n == r->sh_cap) {
		size_t cap = r->sh_cap ? 2 * r->sh_cap : 64;
		struct xf_share_view *a = realloc(r->sh_mine, cap * sizeof(*a));
		struct xf_share_view *b = a ? realloc(r->sh_others, cap * sizeof(*b)) : NULL;

		if (a)
			r->sh_mine = a;
		if (!b)
			return; /* this destination's summary waits for the next round */
		r->sh_others = b;
		r->sh_cap = cap;
	}
	r->sh_mine[r->sh_n++] = *v;
}

/*
 * Publish the engine's summaries and hand it the other proxies' sums: the
 * next xf_engine_share() solves the global share with them.  While the master
 * is away the engine keeps the last sums it was given (the last global view).
 */
static void exchange_shares(struct sync_round *r)
{
	uint32_t max_age = 3 * r->period_ms < 1000 ? 1000 : 3 * r->period_ms;
	struct xf_params xp;
	int rc;

	xf_engine_get_params(r->e, &xp);
	if (xp.policy != XF_POLICY_FAIR)
		return;
	xf_engine_share_peers(r->e, 1 + (uint32_t)r->nothers);
	r->sh_n = 0;
	xf_engine_share_foreach(r->e, add_share, r);
	rc = sync_exchange_shares(r->conn, r->sh_mine, r->sh_n, r->sh_others, max_age, 2 * max_age);
	if (rc) {
		r->st.share_failures++;
		return;
	}
	for (size_t i = 0; i < r->sh_n; i++)
		xf_engine_share_apply(r->e, &r->sh_others[i]);
	r->st.share_dsts = r->sh_n;
}

/* --- the round ------------------------------------------------------------------ */

static int exchange_loads(struct sync_round *r, const struct sync_load *mine)
{
	uint32_t max_age = 3 * r->period_ms < 1000 ? 1000 : 3 * r->period_ms;
	int n;

	if (r->replica[0]) {
		/* Writes go to the master; reads come from the replica when it answers. */
		n = sync_exchange_loads(r->conn, mine, NULL, 0, max_age);
		if (n < 0)
			return n;
		if (!replica_loads(r, max_age))
			return 0;
	}
	n = sync_exchange_loads(r->conn, mine, r->others, OTHERS_MAX, max_age);
	if (n < 0)
		return n;
	r->nothers = (size_t)n < OTHERS_MAX ? (size_t)n : OTHERS_MAX;
	return 0;
}

static int merge(struct sync_round *r)
{
	int rc = sync_merge_batch(r->conn, r->in, r->n, r->out, &r->params);

	if (rc == -ESTALE) {
		rc = reseed_begin(r);
		if (!rc)
			rc = build(r);
		if (!rc)
			rc = sync_merge_batch(r->conn, r->in, r->n, r->out, &r->params);
	}
	return rc;
}

int sync_round_run(struct sync_round *r, uint64_t now_ns, const struct sync_load *mine)
{
	bool stale = false;
	uint64_t t0;
	int rc;

	if (r->next_try && now_ns < r->next_try)
		return -EAGAIN;
	t0 = mono_ns();
	r->st.rounds++;
	if (!r->conn) {
		char err[160];

		r->conn = sync_conn_open(&r->copts, err, sizeof(err));
		if (!r->conn) {
			rc = -errno;
			snprintf(r->st.error, sizeof(r->st.error), "%s", err);
			return fail(r, now_ns, rc, SYNC_STATE_DOWN);
		}
	}
	rc = sync_conn_ensure(r->conn);
	if (rc == -ESTALE) {
		/* Adopt the new instance first: nothing else works against it before. */
		rc = reseed_begin(r);
		stale = !rc;
	}
	if (!rc && (!r->have_offset || ++r->since_offset >= OFFSET_EVERY)) {
		rc = sync_clock_offset(r->conn, &r->offset);
		r->have_offset = !rc;
		r->since_offset = 0;
	}
	if (!rc)
		rc = exchange_loads(r, mine);
	if (!rc && stale)
		rc = build(r);
	else if (!rc && !r->pending) {
		r->n = 0;
		r->st.pending_packets = 0;
		rc = build(r);
	}
	if (!rc && r->n)
		rc = merge(r);
	if (rc)
		return fail(r, now_ns, rc, rc == -EEXIST ? SYNC_STATE_CONFLICT : SYNC_STATE_DOWN);
	apply(r, now_ns);
	r->st.pairs_sent += r->n;
	r->st.packets_merged += r->st.pending_packets;
	r->n = 0;
	r->pending = false;
	r->reseed = false;
	if (r->retune) {
		r->params = r->next_params;
		r->retune = false;
	}
	r->st.pending_pairs = r->st.pending_packets = 0;
	r->st.rounds_ok++;
	r->st.state = SYNC_STATE_UP;
	r->st.error[0] = 0;
	r->st.last_ok_ns = now_ns;
	r->backoff = 0;
	r->next_try = 0;
	exchange_shares(r);
	r->st.last_round_ns = mono_ns() - t0;
	if (r->st.last_round_ns > r->st.max_round_ns)
		r->st.max_round_ns = r->st.last_round_ns;
	return 0;
}

void sync_round_stats(const struct sync_round *r, struct sync_round_stats *out)
{
	*out = r->st;
	out->clock_offset_ns = r->offset;
	out->others = (int)r->nothers;
}

void sync_round_retune(struct sync_round *r, uint32_t period_ms, uint32_t batch)
{
	struct sync_params np;
	struct xf_params xp;

	if (r->pending)
		r->retune = true; /* the in-doubt request must be re-sent unchanged */
	if (period_ms)
		r->period_ms = period_ms;
	if (batch)
		r->batch_cfg = batch;
	xf_engine_get_params(r->e, &xp);
	sync_params_from_xf(&np, &xp, r->period_ms);
	np.ttl_ms += r->backoff_max_ms;
	if (r->batch_cfg)
		np.batch = r->batch_cfg;
	if (!sync_params_check(&np)) {
		if (r->pending)
			r->next_params = np;
		else
			r->params = np;
	}
}

size_t sync_round_loads(const struct sync_round *r, struct sync_load *out, size_t max)
{
	size_t n = r->nothers < max ? r->nothers : max;

	memcpy(out, r->others, n * sizeof(*out));
	return n;
}
