/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sync round (round.h): Algorithm 1 between the engine and the store,
 * as the destination round (docs/sync.md, "The destination round").
 *
 * A round: open the store if needed (or back off), re-measure the clock
 * offset now and then, collect the pairs touched since the last round,
 * publish W and this proxy's exact total and read the others' W (one
 * pipeline), then publish one entry per destination touched and the heavy
 * pairs' handoff records, read the other proxies' entries and the records
 * of devices new here (a second pipeline), and hand the engine the global
 * picture.  Nothing is pending between rounds: every value written is
 * absolute, so a failed round is simply the next one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include <urcu.h>

#include "sync/dst.h"
#include "sync/keys.h"
#include "sync/load.h"
#include "sync/lua.h"
#include "sync/round.h"
#include "sync/store.h"

#define OTHERS_MAX 64
#define OFFSET_EVERY 16 /* rounds between clock offset measurements */

struct retry {
	uint64_t next_try, backoff; /* ns; 0: no failure since the last success */
};

struct sync_round {
	struct xf_engine *e;
	struct sync_store *store; /* NULL until the first successful open */
	struct sync_store_opts sopts;
	char addr[128], cluster[512], password[128], proxy_id[SYNC_PROXY_ID_MAX + 1];
	char proxy_key[sizeof(SYNC_KEY_PROXY_REC) + SYNC_PROXY_ID_MAX + 3];
	char nonce[SYNC_NONCE_LEN + 1];
	struct sync_dst *dst;
	/* The replica, for reads of W (one instance only). */
	struct sync_conn *rep;
	struct sync_conn_opts ropts;
	char replica[128];
	struct retry rep_retry;
	uint32_t period_ms, backoff_max_ms;
	uint64_t tt1_us, ttl_us, fresh_us;

	/* Exact totals: base (stored before this process) + admitted here (the engine's). */
	uint64_t base, local, acked;
	bool have_base;
	/*
	 * Publish every live destination, not only the touched ones: at the
	 * start, after the store lost entries of ours, after a round some of
	 * whose buckets failed (their touched destinations were not written).
	 */
	bool reseed, stale_last;
	int64_t offset; /* shared = local + offset */
	bool have_offset;
	unsigned since_offset;

	/* The round's working sets, reused. */
	struct sync_dst_mine *mine;
	struct sync_dst_sum *sum;
	void **refs; /* refs[i]: the engine's record of mine[i] (xf_engine_dst_round) */
	size_t n, cap;
	struct sync_handoff_pair *hw, *hro;
	size_t nhw, hw_cap, hro_cap, nhro;
	struct xf_pair_view *fresh; /* pairs new here: their device's record is read */
	size_t nfresh, fresh_cap;
	uint32_t *hr;
	size_t nhr, hr_cap;

	struct retry retry;
	struct sync_load others[OTHERS_MAX];
	size_t nothers;
	uint32_t peers[OTHERS_MAX];
	size_t npeers;
	struct sync_round_stats st;
};

static const char *const state_names[] = { "up", "down", "conflict" };

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
	return err == EACCES || err == EROFS || err == EINVAL || err == ENOSYS;
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

static void set_params(struct sync_round *r)
{
	struct xf_params xp;

	xf_engine_get_params(r->e, &xp);
	r->tt1_us = (uint64_t)xp.tt1_ms * 1000;
	/* An entry lives T_T1 + 2 periods after its last write (a live window is
	 * rewritten every period), plus the longest backoff (an outage shorter
	 * than T_T1 keeps it). */
	r->ttl_us = r->tt1_us + 2000ULL * r->period_ms + 1000ULL * r->backoff_max_ms;
	r->fresh_us = 3000ULL * r->period_ms < 1000000 ? 1000000 : 3000ULL * r->period_ms;
}

static int store_open(struct sync_round *r, char *err, size_t errlen, bool *fatal)
{
	r->store = sync_store_open(&r->sopts, err, errlen);
	if (r->store)
		return 0;
	*fatal = fatal_errno(errno);
	return -errno;
}

struct sync_round *sync_round_new(struct xf_engine *e, const struct sync_round_cfg *cfg, char *err,
				  size_t errlen)
{
	struct sync_round *r = calloc(1, sizeof(*r));
	uint8_t rnd[SYNC_NONCE_LEN / 2];
	bool fatal = false;

	if (!r) {
		snprintf(err, errlen, "sync: out of memory");
		return NULL;
	}
	r->e = e;
	snprintf(r->addr, sizeof(r->addr), "%s", cfg->master.addr ? cfg->master.addr : "");
	snprintf(r->cluster, sizeof(r->cluster), "%s", cfg->cluster ? cfg->cluster : "");
	snprintf(r->password, sizeof(r->password), "%s",
		 cfg->master.password ? cfg->master.password : "");
	snprintf(r->proxy_id, sizeof(r->proxy_id), "%s",
		 cfg->master.proxy_id ? cfg->master.proxy_id : "");
	snprintf(r->replica, sizeof(r->replica), "%s", cfg->replica ? cfg->replica : "");
	r->sopts = (struct sync_store_opts){ .addr = r->addr,
					     .cluster = r->cluster[0] ? r->cluster : NULL,
					     .password = r->password[0] ? r->password : NULL,
					     .proxy_id = r->proxy_id,
					     .connect_ms = cfg->master.connect_ms,
					     .cmd_ms = cfg->master.cmd_ms };
	r->ropts = cfg->master;
	r->ropts.addr = r->replica;
	r->ropts.password = r->sopts.password;
	r->ropts.proxy_id = r->proxy_id;
	r->ropts.replica = true;
	r->period_ms = cfg->period_ms ? cfg->period_ms : 100;
	r->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : SYNC_BACKOFF_MAX_MS;
	set_params(r);
	r->reseed = true;
	if (sync_proxy_id_check(r->proxy_id) || (!r->addr[0] && !r->cluster[0])) {
		snprintf(err, errlen, "sync: bad proxy id '%s' or no store address", r->proxy_id);
		free(r);
		return NULL;
	}
	snprintf(r->proxy_key, sizeof(r->proxy_key), SYNC_KEY_PROXY_REC "{%s}", r->proxy_id);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "sync: getrandom failed");
		free(r);
		return NULL;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(r->nonce + 2 * i, 3, "%02x", rnd[i]);
	r->dst = sync_dst_new(r->proxy_id);
	if (!r->dst) {
		snprintf(err, errlen, "sync: out of memory");
		free(r);
		return NULL;
	}
	/* The replica first: its error must not overwrite the store's in err. */
	if (r->replica[0]) {
		r->rep = sync_conn_open(&r->ropts, err, errlen);
		if (!r->rep && fatal_errno(errno))
			goto out_free;
	}
	if (store_open(r, err, errlen, &fatal)) {
		if (fatal)
			goto out_free;
		/* Unreachable for now: start DOWN and retry; the fast path runs anyway. */
		r->st.state = SYNC_STATE_DOWN;
		r->st.outages = 1;
		snprintf(r->st.error, sizeof(r->st.error), "%s", err);
	}
	return r;

out_free:
	sync_conn_close(r->rep);
	sync_dst_free(r->dst);
	free(r);
	return NULL;
}

void sync_round_free(struct sync_round *r)
{
	if (!r)
		return;
	sync_store_close(r->store);
	sync_conn_close(r->rep);
	sync_dst_free(r->dst);
	free(r->mine);
	free(r->sum);
	free(r->refs);
	free(r->hw);
	free(r->hro);
	free(r->fresh);
	free(r->hr);
	free(r);
}

/* --- collecting ------------------------------------------------------------------ */

static uint64_t to_shared_us(const struct sync_round *r, uint64_t local_ns)
{
	int64_t t = (int64_t)local_ns + r->offset;

	return t > 0 ? (uint64_t)t / SYNC_NS_PER_WIRE : 0;
}

static uint64_t to_local_ns(const struct sync_round *r, uint64_t shared_us)
{
	int64_t t = (int64_t)(shared_us * SYNC_NS_PER_WIRE) - r->offset;

	return t > 0 ? (uint64_t)t : 1;
}

static int grow_array(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 256;
	void *a;

	while (c < need)
		c *= 2;
	if (c == *cap)
		return 0;
	a = realloc(*p, c * size);
	if (!a)
		return -ENOMEM;
	*p = a;
	*cap = c;
	return 0;
}

static int grow(struct sync_round *r, size_t dsts)
{
	size_t cap = r->cap, cap2 = r->cap, cap3 = r->cap;

	if (grow_array((void **)&r->mine, &cap, dsts, sizeof(*r->mine)) ||
	    grow_array((void **)&r->sum, &cap2, cap, sizeof(*r->sum)) ||
	    grow_array((void **)&r->refs, &cap3, cap, sizeof(*r->refs)))
		return -ENOMEM;
	r->cap = cap < cap2 ? cap : cap2;
	r->cap = r->cap < cap3 ? r->cap : cap3;
	return 0;
}

struct collect_ctx {
	struct sync_round *r;
	int err;
};

static void add_dst(const struct xf_dst_round *v, void *arg)
{
	struct collect_ctx *cc = arg;
	struct sync_round *r = cc->r;
	struct sync_dst_mine *m;

	if (r->n == r->cap && grow(r, r->n + 1)) {
		cc->err = -ENOMEM; /* this one waits for the next round, a full push */
		return;
	}
	m = &r->mine[r->n];
	memcpy(m->dst, v->dst, 16);
	m->c = v->count;
	m->ts2 = to_shared_us(r, v->ts2);
	m->ts1 = v->ts1 ? to_shared_us(r, v->ts1) : m->ts2;
	if (m->ts1 > m->ts2)
		m->ts2 = m->ts1;
	m->rate = v->rate;
	m->has_share = v->has_share;
	if (v->has_share)
		m->sh = v->share;
	r->refs[r->n++] = v->ref;
}

static void add_heavy(const struct xf_pair_view *v, void *arg)
{
	struct collect_ctx *cc = arg;
	struct sync_round *r = cc->r;
	struct sync_handoff_pair *h;

	if (grow_array((void **)&r->hw, &r->hw_cap, r->nhw + 1, sizeof(*r->hw))) {
		cc->err = -ENOMEM;
		return;
	}
	h = &r->hw[r->nhw++];
	h->dev = v->key.dev;
	memcpy(h->dst, v->key.dst, 16);
	h->c = v->count;
	h->ts1 = to_shared_us(r, v->ts1);
	h->ts2 = to_shared_us(r, v->ts2);
}

static void add_fresh(const struct xf_pair_view *v, void *arg)
{
	struct collect_ctx *cc = arg;
	struct sync_round *r = cc->r;

	if (grow_array((void **)&r->fresh, &r->fresh_cap, r->nfresh + 1, sizeof(*r->fresh)))
		cc->err = -ENOMEM; /* its device's record is not read: it starts fresh */
	else
		r->fresh[r->nfresh++] = *v;
}

/* By device, the heaviest pair first: a record keeps a device's first SYNC_HANDOFF_MAX. */
static int cmp_hw(const void *a, const void *b)
{
	const struct sync_handoff_pair *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->c > y->c ? -1 : x->c < y->c;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The round's destinations: every one seen since the last round (every live
 * one when re-seeding), with this proxy's window, rate and share summary;
 * the heavy pairs' handoff records, grouped by device; the devices new here.
 * O(destinations + heavy and new pairs): no pair is walked.  The caller holds
 * rcu_read_lock() from here to apply() (r->refs).
 */
static int collect(struct sync_round *r, uint64_t now)
{
	struct collect_ctx cc = { r, 0 };
	struct xf_engine_stats es;
	struct xf_params xp;
	size_t w = 0;

	xf_engine_stats(r->e, &es);
	/* Workers may create destinations while we walk: room for an eighth more. */
	if (grow(r, es.dsts + es.dsts / 8 + 1024))
		return -ENOMEM;
	r->n = r->nhw = r->nfresh = 0;
	xf_engine_get_params(r->e, &xp);
	if (xp.policy == XF_POLICY_FAIR)
		xf_engine_share_peers(r->e, 1 + (uint32_t)r->nothers);
	xf_engine_dst_round(r->e, r->reseed ? XF_COLLECT_ALL : 0, now, add_dst, &cc);
	xf_engine_heavy(r->e, add_heavy, &cc);
	xf_engine_new_pairs(r->e, add_fresh, &cc);
	/* Every admitted packet is ours now: it joins the exact total whatever happens next. */
	r->local = xf_engine_admitted(r->e);
	qsort(r->hw, r->nhw, sizeof(*r->hw), cmp_hw);
	/* Devices new here, each once: their records are read. */
	if (grow_array((void **)&r->hr, &r->hr_cap, r->nfresh + 1, sizeof(*r->hr)))
		return -ENOMEM;
	for (size_t i = 0; i < r->nfresh; i++)
		r->hr[i] = r->fresh[i].key.dev;
	qsort(r->hr, r->nfresh, sizeof(*r->hr), cmp_u32);
	for (size_t i = 0; i < r->nfresh; i++)
		if (!w || r->hr[i] != r->hr[w - 1])
			r->hr[w++] = r->hr[i];
	r->nhr = w;
	if (grow_array((void **)&r->hro, &r->hro_cap, 4 * w + 64, sizeof(*r->hro)))
		return -ENOMEM;
	r->st.pairs_sent += r->nhw;
	return cc.err;
}

/* --- the replica ------------------------------------------------------------------ */

static int replica_loads(struct sync_round *r, uint64_t now, uint32_t max_age_ms)
{
	char err[160];
	int n = 0;

	if (retry_wait(&r->rep_retry, now))
		return -EAGAIN;
	if (!r->rep) {
		r->rep = sync_conn_open(&r->ropts, err, sizeof(err));
		n = r->rep ? 0 : -errno;
	}
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

/* --- W and the exact total ------------------------------------------------------- */

static int parse_loads(struct sync_round *r, const redisReply *rep, uint32_t max_age_ms)
{
	size_t n = 0, np = 0;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % SYNC_LOAD_REPLY_ENTRY)
		return -EPROTO;
	for (size_t i = 0; i < rep->elements; i += SYNC_LOAD_REPLY_ENTRY) {
		redisReply **e = rep->element + i;
		struct sync_load *o = &r->others[n];

		if (e[0]->type != REDIS_REPLY_STRING || e[0]->len > SYNC_PROXY_ID_MAX ||
		    e[4]->type != REDIS_REPLY_STRING || e[4]->len > SYNC_TUN_ADDR_MAX ||
		    e[1]->type != REDIS_REPLY_INTEGER || e[2]->type != REDIS_REPLY_INTEGER ||
		    e[3]->type != REDIS_REPLY_INTEGER || e[3]->integer < 0)
			return -EPROTO;
		memcpy(o->proxy_id, e[0]->str, e[0]->len);
		o->proxy_id[e[0]->len] = '\0';
		/* Every proxy that published within ttl: its entries may be live. */
		if (np < OTHERS_MAX)
			r->peers[np++] = sync_proxy_num(o->proxy_id);
		o->pps = (uint64_t)e[1]->integer;
		o->util_permille = (uint32_t)e[2]->integer;
		o->age_us = (uint64_t)e[3]->integer;
		memcpy(o->tun_addr, e[4]->str, e[4]->len);
		o->tun_addr[e[4]->len] = '\0';
		/* Only the fresh ones are loads a device may choose by. */
		if (o->age_us <= 1000ULL * max_age_ms && n < OTHERS_MAX - 1)
			n++;
	}
	r->npeers = np;
	r->nothers = n; /* the replica's, when it answers, replace them */
	return 0;
}

/*
 * One pipeline: W published and the others' read (xpro_load), this proxy's
 * total stored (xpro_proxy).  0, or -errno with st.error set.
 */
static int exchange_proxy(struct sync_round *r, uint64_t now, const struct sync_load *mine)
{
	uint32_t max_age = 3 * r->period_ms < 1000 ? 1000 : 3 * r->period_ms;
	char pps[24], util[16], keep[24], total[24], ts[24], stale[24];
	const char *la[] = { "FCALL",	  "xpro_load",
			     "1",	  SYNC_KEY_LOAD,
			     r->proxy_id, "1",
			     pps,	  util,
			     keep,	  mine && mine->tun_addr[0] ? mine->tun_addr : "" };
	const char *pa[] = { "FCALL",	   "xpro_proxy", "1",
			     r->proxy_key, r->nonce,	 total,
			     ts,	   stale,	 r->have_base ? "0" : "1" };
	size_t ll[10], pl[9];
	struct sync_cmd cmds[2] = {
		{ .argc = 10, .argv = la, .lens = ll, .key_arg = 3 },
		{ .argc = 9, .argv = pa, .lens = pl, .key_arg = 3 },
	};
	const redisReply *pr;
	uint64_t want = r->base + r->local;
	int rc;

	snprintf(pps, sizeof(pps), "%llu", mine ? (unsigned long long)mine->pps : 0ULL);
	snprintf(util, sizeof(util), "%u",
		 mine && mine->util_permille <= 1000 ? mine->util_permille : 0);
	snprintf(keep, sizeof(keep), "%llu", (unsigned long long)(r->ttl_us / 1000));
	snprintf(total, sizeof(total), "%llu", (unsigned long long)want);
	snprintf(ts, sizeof(ts), "%llu", (unsigned long long)to_shared_us(r, now));
	/* Another process's record younger than 3 periods: a live one. */
	snprintf(stale, sizeof(stale), "%llu", 3000ULL * r->period_ms);
	for (int i = 0; i < 10; i++)
		ll[i] = strlen(la[i]);
	for (int i = 0; i < 9; i++)
		pl[i] = strlen(pa[i]);
	rc = sync_store_pipe(r->store, cmds, 2);
	if (cmds[0].reply) {
		if (cmds[0].reply->type == REDIS_REPLY_ERROR ||
		    parse_loads(r, cmds[0].reply, max_age))
			rc = rc ? rc : -EPROTO;
		if (cmds[0].reply->type == REDIS_REPLY_ERROR)
			snprintf(r->st.error, sizeof(r->st.error), "redis: load: %s",
				 cmds[0].reply->str);
	}
	pr = cmds[1].reply;
	if (pr && pr->type == REDIS_REPLY_ERROR) {
		int e = sync_reply_errno(pr);

		snprintf(r->st.error, sizeof(r->st.error), "redis: proxy '%s': %s", r->proxy_id,
			 pr->str);
		rc = e;
	} else if (pr && pr->type == REDIS_REPLY_STRING) {
		uint64_t stored = strtoull(pr->str, NULL, 10);

		if (!r->have_base) {
			r->base = stored;
			r->have_base = true;
		} else {
			r->acked = stored - r->base;
		}
	} else if (pr && !rc) {
		rc = -EPROTO;
	}
	if (rc && !r->st.error[0])
		snprintf(r->st.error, sizeof(r->st.error), "%s", sync_store_strerror(r->store));
	sync_cmds_free(cmds, 2);
	if (!rc && r->replica[0])
		replica_loads(r, now, max_age);
	return rc;
}

/* --- applying the global picture ------------------------------------------------ */

static int cmp_view(const void *a, const void *b)
{
	const struct xf_pair_view *x = a, *y = b;

	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return memcmp(x->key.dst, y->key.dst, 16);
}

static void apply(struct sync_round *r, uint64_t now, uint64_t now_us)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct sync_dst_sum *o = &r->sum[i];

		if (!o->ok)
			continue; /* its shard is away: the last view stands */
		xf_engine_dst_global_ref(r->e, r->refs[i], o->c,
					 o->proxies ? to_local_ns(r, o->ts1) : 0, o->rate, now);
		if (r->mine[i].has_share || o->share_proxies)
			xf_engine_share_apply_ref(r->e, r->refs[i], &o->sh);
	}
	r->st.share_dsts = 0;
	for (size_t i = 0; i < r->n; i++)
		r->st.share_dsts += r->mine[i].has_share;
	/*
	 * Handoff: a pair new here whose device's record (written by the proxy
	 * it came from) holds a live window for it takes that window over.
	 */
	qsort(r->fresh, r->nfresh, sizeof(*r->fresh), cmp_view);
	for (size_t i = 0; i < r->nhro; i++) {
		const struct sync_handoff_pair *h = &r->hro[i];
		struct xf_pair_view key, *at;
		uint64_t ts1, ts2;

		if (h->ts2 + r->tt1_us < now_us)
			continue; /* that window is over */
		memset(&key, 0, sizeof(key));
		key.key.dev = h->dev;
		memcpy(key.key.dst, h->dst, 16);
		at = bsearch(&key, r->fresh, r->nfresh, sizeof(*r->fresh), cmp_view);
		if (!at)
			continue;
		ts1 = to_local_ns(r, h->ts1);
		ts2 = to_local_ns(r, h->ts2);
		if (at->ts1 < ts1)
			ts1 = at->ts1;
		if (at->ts2 > ts2)
			ts2 = at->ts2;
		r->st.pairs_applied += xf_engine_pair_apply(r->e, at, at->count + h->c, ts1, ts2);
	}
	xf_engine_apply_end(r->e);
}

/* --- failures ------------------------------------------------------------------ */

static int fail(struct sync_round *r, uint64_t now, int rc, enum sync_state state, bool backoff)
{
	r->st.rounds_failed++;
	if (r->st.state == SYNC_STATE_UP && state != SYNC_STATE_UP)
		r->st.outages++;
	r->st.state = state;
	if (!r->st.error[0])
		snprintf(r->st.error, sizeof(r->st.error), "sync: %s", strerror(-rc));
	if (backoff)
		retry_fail(&r->retry, r, now);
	return rc;
}

/* --- the round ------------------------------------------------------------------ */

int sync_round_run(struct sync_round *r, uint64_t now_ns, const struct sync_load *mine)
{
	struct sync_dst_req q;
	struct sync_dst_stats ds;
	uint64_t t0, t1, t2, now_us;
	int rc, crc;

	if (retry_wait(&r->retry, now_ns))
		return -EAGAIN;
	t0 = mono_ns();
	r->st.rounds++;
	r->st.error[0] = '\0';
	if (!r->store) {
		char err[160];
		bool fatal;

		rc = store_open(r, err, sizeof(err), &fatal);
		if (rc) {
			snprintf(r->st.error, sizeof(r->st.error), "%s", err);
			return fail(r, now_ns, rc, SYNC_STATE_DOWN, true);
		}
	}
	if (!r->have_offset || ++r->since_offset >= OFFSET_EVERY) {
		rc = sync_store_clock_offset(r->store, SYNC_KEY_LOAD, &r->offset);
		if (rc && !r->have_offset) {
			snprintf(r->st.error, sizeof(r->st.error), "%s",
				 sync_store_strerror(r->store));
			return fail(r, now_ns, rc, SYNC_STATE_DOWN, true);
		}
		r->have_offset = r->have_offset || !rc;
		r->since_offset = 0;
	}
	/* Destinations that found no room wait for the next round, a full push. */
	t1 = mono_ns();
	/* The records collect() names stay ours until apply() is done with them. */
	rcu_read_lock();
	crc = collect(r, now_ns);
	t2 = mono_ns();
	r->st.last_collect_ns = t2 - t1;
	rc = exchange_proxy(r, now_ns, mine);
	if (rc == -EEXIST) {
		rcu_read_unlock();
		return fail(r, now_ns, rc, SYNC_STATE_CONFLICT, true);
	}
	now_us = to_shared_us(r, now_ns);
	q = (struct sync_dst_req){ .now_us = now_us,
				   .tt1_us = r->tt1_us,
				   .ttl_us = r->ttl_us,
				   .fresh_us = r->fresh_us,
				   .peers = r->peers,
				   .npeers = r->npeers,
				   .mine = r->mine,
				   .out = r->sum,
				   .n = r->n,
				   .hw = r->hw,
				   .nhw = r->nhw,
				   .hr = r->hr,
				   .nhr = r->nhr,
				   .hro = r->hro,
				   .hro_cap = r->hro_cap };
	{
		int drc = sync_dst_exchange(r->dst, r->store, &q, &ds);

		if (drc && !r->st.error[0])
			snprintf(r->st.error, sizeof(r->st.error), "%s",
				 sync_store_strerror(r->store));
		if (!rc)
			rc = drc;
	}
	r->nhro = q.nhro;
	r->st.dsts_sent += r->n;
	r->st.failed_buckets += ds.failed_buckets;
	r->st.last_buckets = ds.buckets;
	r->st.last_bytes = ds.bytes_sent;
	r->st.last_stale = ds.stale_buckets;
	t1 = mono_ns();
	r->st.last_store_ns = t1 - t2;
	/* Whatever answered is applied: one shard away does not stop the others. */
	apply(r, now_ns, now_us);
	rcu_read_unlock();
	r->st.last_apply_ns = mono_ns() - t1;
	/* Push everything next round if anything of ours may be missing there. */
	r->reseed = rc || crc || ds.stale_buckets || ds.failed_buckets;
	if (ds.stale_buckets && !r->stale_last)
		r->st.reseeds++;
	r->stale_last = ds.stale_buckets > 0;
	r->st.pending_packets = r->local - r->acked;
	r->st.packets_merged = r->base + r->acked;
	r->st.last_round_ns = mono_ns() - t0;
	if (r->st.last_round_ns > r->st.max_round_ns)
		r->st.max_round_ns = r->st.last_round_ns;
	if (rc)
		/* Back off only when nothing answered: a lost shard is retried each period. */
		return fail(r, now_ns, rc, SYNC_STATE_DOWN, ds.failed_buckets == ds.buckets);
	r->st.rounds_ok++;
	r->st.state = SYNC_STATE_UP;
	r->st.last_ok_ns = now_ns;
	retry_ok(&r->retry);
	return 0;
}

void sync_round_stats(const struct sync_round *r, struct sync_round_stats *out)
{
	struct sync_store_stats ss;

	*out = r->st;
	out->clock_offset_ns = r->offset;
	out->others = (int)r->nothers;
	if (r->store) {
		sync_store_stats(r->store, &ss);
		out->store_nodes = ss.nodes;
	}
}

void sync_round_retune(struct sync_round *r, uint32_t period_ms, uint32_t batch)
{
	(void)batch;
	if (period_ms)
		r->period_ms = period_ms;
	set_params(r);
}

size_t sync_round_loads(const struct sync_round *r, struct sync_load *out, size_t max)
{
	size_t n = r->nothers < max ? r->nothers : max;

	memcpy(out, r->others, n * sizeof(*out));
	return n;
}
