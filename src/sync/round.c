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

#include "sync/keys.h"
#include "sync/merge.h"
#include "sync/round.h"
#include "sync/share.h"

#define OTHERS_MAX 64
#define OFFSET_EVERY 16 /* rounds between clock offset measurements */

/* When to try a server again after a failure: from t doubling up to backoff_max_ms. */
struct retry {
	uint64_t next_try, backoff; /* ns; 0: no failure since the last success */
};

struct sync_round {
	struct xf_engine *e;
	struct sync_conn *conn; /* NULL until the first successful connect */
	struct sync_conn_opts copts;
	char addr[128], password[128], proxy_id[SYNC_PROXY_ID_MAX + 1];
	/* The replica, for reads: the master's options but its address. */
	struct sync_conn *rep; /* NULL when none, or until the first successful connect */
	struct sync_conn_opts ropts;
	char replica[128];
	struct retry rep_retry;
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

	struct retry retry;
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

static void retry_fail(struct retry *t, const struct sync_round *r, uint64_t now)
{
	uint64_t max = (uint64_t)r->backoff_max_ms * 1000000ULL;

	t->backoff = t->backoff ? t->backoff * 2 : (uint64_t)r->period_ms * 1000000ULL;
	if (t->backoff > max)
		t->backoff = max;
	t->next_try = now + t->backoff;
}

static bool retry_wait(const struct retry *t, uint64_t now)
{
	return t->next_try && now < t->next_try;
}

static void retry_ok(struct retry *t)
{
	t->backoff = 0;
	t->next_try = 0;
}

/*
 * Open the connection with options o into *c.  0, or -errno with one line in
 * err; *fatal when retrying cannot help (a wrong password, a bad address).
 */
static int conn_open(struct sync_conn **c, const struct sync_conn_opts *o, bool *fatal, char *err,
		     size_t errlen)
{
	*c = sync_conn_open(o, err, errlen);
	if (*c)
		return 0;
	*fatal = fatal_errno(errno);
	return -errno;
}

struct sync_round *sync_round_new(struct xf_engine *e, const struct sync_round_cfg *cfg, char *err,
				  size_t errlen)
{
	struct sync_round *r = calloc(1, sizeof(*r));
	struct xf_params xp;
	bool fatal = false;

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
	r->copts.replica = false;
	r->ropts = r->copts;
	r->ropts.addr = r->replica;
	r->ropts.replica = true;
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
	/* The replica first: its error must not overwrite the master's in err. */
	if (r->replica[0] && conn_open(&r->rep, &r->ropts, &fatal, err, errlen) && fatal)
		goto out_free;
	if (conn_open(&r->conn, &r->copts, &fatal, err, errlen)) {
		if (fatal)
			goto out_close_rep;
		/* Unreachable for now: start DOWN and retry; the fast path runs anyway. */
		r->st.state = SYNC_STATE_DOWN;
		r->st.outages = 1;
		snprintf(r->st.error, sizeof(r->st.error), "%s", err);
	}
	return r;

out_close_rep:
	sync_conn_close(r->rep);
out_free:
	free(r);
	return NULL;
}

void sync_round_free(struct sync_round *r)
{
	if (!r)
		return;
	sync_conn_close(r->conn);
	sync_conn_close(r->rep);
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
	retry_fail(&r->retry, r, now);
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

/*
 * Other proxies' W from the replica; -errno on failure (the caller reads the
 * master instead).  A failed replica is retried with the master's backoff.
 */
static int replica_loads(struct sync_round *r, uint64_t now, uint32_t max_age_ms)
{
	char err[160];
	bool fatal;
	int n;

	if (retry_wait(&r->rep_retry, now))
		return -EAGAIN;
	n = r->rep ? 0 : conn_open(&r->rep, &r->ropts, &fatal, err, sizeof(err));
	if (!n)
		n = sync_read_loads(r->rep, r->others, OTHERS_MAX, max_age_ms);
	if (n < 0) {
		r->st.replica_failures++;
		retry_fail(&r->rep_retry, r, now);
		return n;
	}
	retry_ok(&r->rep_retry);
	r->st.replica_reads++;
	r->nothers = (size_t)n < OTHERS_MAX ? (size_t)n : OTHERS_MAX;
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

static int exchange_loads(struct sync_round *r, uint64_t now, const struct sync_load *mine)
{
	uint32_t max_age = 3 * r->period_ms < 1000 ? 1000 : 3 * r->period_ms;
	int n;

	if (r->replica[0]) {
		/* Writes go to the master; reads come from the replica when it answers. */
		n = sync_exchange_loads(r->conn, mine, NULL, 0, max_age);
		if (n < 0)
			return n;
		if (!replica_loads(r, now, max_age))
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

	if (retry_wait(&r->retry, now_ns))
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
		rc = exchange_loads(r, now_ns, mine);
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
	retry_ok(&r->retry);
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
