/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Filter engine benchmark: cost of the lookup+update path per packet over 1M
 * (device, destination) pairs, against a pointer-chase floor and rculfhash.
 *
 * Cases, interleaved trial by trial: filter (thresholds out of reach, all
 * PASS) on uniform and Zipf traces, 1 and 2 threads, burst 32 and 1;
 * filter_drop (real thresholds, a share dropped); filter_spray (unseen
 * devices hitting a full engine: DROP_FULL); rculfhash_lookup; pointer_chase
 * (4 KiB and huge pages) and random_read (independent reads) as floors.
 *
 * Knobs (environment): BENCH_QUICK=1 (small, 1 trial, a few seconds);
 * BENCH_CALLGRIND=1 only re-runs itself under callgrind on a fixed small trace
 * and prints instructions per packet (a full run does this at its end unless
 * BENCH_CALLGRIND=0); BENCH_TRIALS, BENCH_PKTS, BENCH_RECORDS.
 *
 * ns_per_pkt is per thread (wall time x threads / packets); mpps is the
 * aggregate.  spread= is the min-max of mpps over the trials.  The floor is
 * a dependent random read (pointer chase) over a table as large as the
 * engine's records and tables, on as many threads as the case.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <urcu.h>
#include <urcu/rculfhash.h>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else /* no valgrind headers: the callgrind pass finds no counts */
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#include "xpro/filter.h"

#define BURST 32
#define MAX_TRIALS 15
#define MAX_CASES 24
#define MAX_THREADS 2
#define ZIPF_S 0.99
#define DST_BASE 0xC6120000u /* 198.18.0.0 */
#define DST_SPAN 131072u /* 198.18.0.0/15 */
#define SEED 0x5eedf11e5eedf11eULL
#define CG_RECORDS 100000u
#define CG_PKTS 500000u

extern char **environ;

/* spray: every packet from a device never seen, to a known destination */
enum dist { D_UNIFORM, D_ZIPF, D_SPRAY, NDIST };
static const char *const dist_name[NDIST] = { "uniform", "zipf", "spray" };

enum kind { K_FILTER, K_LFHT, K_CHASE, K_RREAD };

struct cfg {
	uint32_t records, dsts, ppd; /* ppd: pairs per device (= per destination) */
	uint64_t pkts; /* trace length per distribution */
	uint64_t spray; /* length of the spray trace */
	uint64_t steps; /* pointer-chase steps per trial */
	int trials;
	bool quick, callgrind, cg_after; /* cg_after: callgrind pass after the timed run */
	int cpus[MAX_THREADS]; /* [0]: the 1-thread CPU; 2 threads use both */
	int ncpus;
};

struct line {
	struct line *next;
	uint64_t pad[7];
};

struct chase {
	struct line *tbl;
	size_t lines, bytes;
};

struct lf_node {
	struct cds_lfht_node node;
	struct xf_key key;
	uint64_t hits;
};

struct bcase {
	const char *name;
	enum kind kind;
	int threads, burst;
	enum dist dist;
	bool drop, huge;
	unsigned policy; /* filter cases: XF_POLICY_FCFS (the paper's Algorithm 2) or FAIR */
	uint64_t n; /* packets, steps or reads per trial */
	int ntrials;
	double ns[MAX_TRIALS], mpps[MAX_TRIALS];
	int cpu[MAX_THREADS];
	bool migrated;
	uint64_t verdict[XF_NVERDICTS];
};

struct bench {
	struct cfg c;
	struct xf_engine *eng;
	struct xf_params pass, drop;
	struct xf_engine_stats st;
	struct xf_key *trace[NDIST];
	struct chase ch[2]; /* [0] 4 KiB pages, [1] transparent huge pages */
	uint32_t *rr_idx; /* random line indices for the random_read case */
	struct cds_lfht *ht;
	struct lf_node **nodes;
	size_t lf_node_bytes;
	struct bcase cases[MAX_CASES];
	int ncases;
	double populate_ns;
};

struct warg {
	struct bench *b;
	struct bcase *k;
	int cpu;
	size_t off, n;
	pthread_barrier_t *bar;
	uint64_t t0, t1, sink;
	int cpu_start, cpu_end;
	uint64_t verdict[XF_NVERDICTS];
};

/* ---- small helpers --------------------------------------------------------- */

static uint64_t rng_state = SEED;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * n) >> 32);
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) * 0x1.0p-53;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(1);
	}
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *v, int n)
{
	double s[MAX_TRIALS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void minmax(const double *v, int n, double *lo, double *hi)
{
	*lo = *hi = v[0];
	for (int i = 1; i < n; i++) {
		*lo = v[i] < *lo ? v[i] : *lo;
		*hi = v[i] > *hi ? v[i] : *hi;
	}
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- configuration ---------------------------------------------------------- */

static void cfg_cpus(struct cfg *c)
{
	cpu_set_t set;
	int found[MAX_THREADS] = { -1, -1 }, n = 0;

	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	for (int i = 0; i < CPU_SETSIZE && n < MAX_THREADS; i++)
		if (CPU_ISSET(i, &set))
			found[n++] = i;
	c->ncpus = CPU_COUNT(&set);
	/* one thread: CPU 1 if we may use it, else the first CPU we have */
	c->cpus[0] = n > 1 ? found[1] : found[0];
	c->cpus[1] = n > 1 ? found[0] : found[0];
}

static void cfg_init(struct cfg *c)
{
	c->quick = env_u64("BENCH_QUICK", 0) != 0;
	c->callgrind = env_u64("BENCH_CALLGRIND", 2) == 1;
	c->cg_after = env_u64("BENCH_CALLGRIND", 2) == 2 && !c->quick;
	c->records = env_u64("BENCH_RECORDS", c->quick ? 100000 : 1000000);
	c->pkts = env_u64("BENCH_PKTS", c->quick ? 1000000 : 16000000);
	c->trials = env_u64("BENCH_TRIALS", c->quick ? 1 : 5);
	c->steps = c->quick ? 1000000 : 4000000;
	c->spray = c->quick ? 100000 : 1000000;
	if (c->callgrind) {
		c->records = CG_RECORDS;
		c->pkts = CG_PKTS;
		c->spray = CG_PKTS / 5;
		c->trials = 1;
	}
	if (c->records < 100)
		c->records = 100;
	if (c->pkts < 1000)
		c->pkts = 1000;
	c->trials = c->trials < 1 ? 1 : c->trials > MAX_TRIALS ? MAX_TRIALS : c->trials;
	c->dsts = c->records / 10 > DST_SPAN ? DST_SPAN : c->records / 10;
	c->ppd = c->records / c->dsts;
	c->records = c->ppd * c->dsts;
	cfg_cpus(c);
}

/* ---- keys and traces ---------------------------------------------------------- */

/*
 * Record i: device i / ppd talks to ppd destinations spread ndst / ppd apart,
 * so every device has ppd pairs and every destination ppd devices.
 */
static void rec_key(const struct cfg *c, uint32_t i, struct xf_key *k)
{
	uint32_t dev = i / c->ppd, j = i % c->ppd;
	uint32_t dst = (dev + j * (c->dsts / c->ppd)) % c->dsts;

	xf_key_ipv4(k, dev + 1, htonl(DST_BASE + dst));
}

/* Zipf rank sampler by rejection-inversion (Hoermann and Derflinger, 1996). */
struct zipf {
	double s, n, hx1, hn, sv;
};

static double zh1(double x)
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

static double zh2(double x)
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

static double zipf_hint(const struct zipf *z, double x)
{
	double lx = log(x);

	return zh2((1 - z->s) * lx) * lx;
}

static double zipf_hinv(const struct zipf *z, double x)
{
	double t = x * (1 - z->s);

	return exp(zh1(t < -1 ? -1 : t) * x);
}

static void zipf_init(struct zipf *z, double s, uint32_t n)
{
	z->s = s;
	z->n = n;
	z->hx1 = zipf_hint(z, 1.5) - 1;
	z->hn = zipf_hint(z, n + 0.5);
	z->sv = 2 - zipf_hinv(z, zipf_hint(z, 2.5) - exp(-s * log(2.0)));
}

/* Returns a rank in 0 .. n-1, rank 0 the most frequent. */
static uint32_t zipf_rank(const struct zipf *z)
{
	for (;;) {
		double u = z->hn + rng_unit() * (z->hx1 - z->hn);
		double x = zipf_hinv(z, u);
		double k = floor(x + 0.5);

		k = k < 1 ? 1 : k > z->n ? z->n : k;
		if (k - x <= z->sv || u >= zipf_hint(z, k + 0.5) - exp(-z->s * log(k)))
			return (uint32_t)k - 1;
	}
}

static uint32_t *shuffled(uint32_t n)
{
	uint32_t *perm = xalloc((size_t)n * sizeof(*perm));

	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = rng_below(i + 1), tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	return perm;
}

/* How concentrated the Zipf trace is: share of the top 1% of ranks. */
static void trace_report(const struct cfg *c, const uint32_t *hits)
{
	uint64_t top = 0, touched = 0;

	for (uint32_t r = 0; r < c->records; r++) {
		top += r < c->records / 100 ? hits[r] : 0;
		touched += hits[r] != 0;
	}
	printf("BENCH name=trace dist=zipf s=%.2f pkts=%" PRIu64 " records=%u "
	       "top1pct_share=%.3f records_touched=%" PRIu64 "\n",
	       ZIPF_S, c->pkts, c->records, (double)top / c->pkts, touched);
}

static struct xf_key *make_spray(const struct cfg *c)
{
	struct xf_key *t = xalloc(c->spray * sizeof(*t));
	uint32_t devs = c->records / c->ppd;

	for (uint64_t p = 0; p < c->spray; p++)
		xf_key_ipv4(&t[p], devs + 1 + rng_below(1u << 24),
			    htonl(DST_BASE + rng_below(c->dsts)));
	return t;
}

/* Fill trace[0..pkts) with keys; ranks map to records through a shuffle. */
static struct xf_key *make_trace(const struct cfg *c, enum dist d)
{
	struct xf_key *t;
	uint32_t *perm;
	uint32_t *hits;
	struct zipf z;

	if (d == D_SPRAY)
		return make_spray(c);
	t = xalloc(c->pkts * sizeof(*t));
	perm = shuffled(c->records);
	hits = xalloc((size_t)c->records * sizeof(*hits));
	zipf_init(&z, ZIPF_S, c->records);
	for (uint64_t p = 0; p < c->pkts; p++) {
		uint32_t r = d == D_ZIPF ? zipf_rank(&z) : rng_below(c->records);

		hits[r]++;
		rec_key(c, perm[r], &t[p]);
	}
	if (d == D_ZIPF && !c->callgrind)
		trace_report(c, hits);
	free(perm);
	free(hits);
	return t;
}

/* ---- engine -------------------------------------------------------------------- */

static void params_init(struct bench *b)
{
	xf_params_default(&b->pass);
	b->pass.tt1_ms = 86400000; /* never idle during the run */
	b->pass.tf1_pps = 1000000000;
	b->pass.tf2_pps = 1000000000;
	xf_params_default(&b->drop);
	b->drop.tt1_ms = 86400000;
	b->drop.tt2_ms = 100;
	b->drop.tt3_ms = 100;
	b->drop.tf1_pps = 1000;
	b->drop.tf2_pps = 10000;
	b->pass.policy = b->drop.policy = XF_POLICY_FCFS; /* case_params() sets each case's */
}

static void engine_new(struct bench *b)
{
	struct xf_limits lim = { .max_records = b->c.records, .max_dsts_per_dev = 64 };
	char err[256] = "";

	params_init(b);
	if (xf_params_validate(&b->pass, err, sizeof(err)) ||
	    xf_params_validate(&b->drop, err, sizeof(err))) {
		fprintf(stderr, "bench: params rejected: %s\n", err);
		exit(1);
	}
	b->eng = xf_engine_new(&b->pass, &lim, SEED);
	if (!b->eng) {
		fprintf(stderr, "bench: xf_engine_new: %s\n", strerror(errno));
		exit(1);
	}
}

static void populate_feed(struct xf_worker *w, const struct xf_key *keys, uint32_t n)
{
	uint8_t v[BURST];

	for (uint32_t i = 0; i < n; i += BURST) {
		unsigned m = n - i < BURST ? n - i : BURST;
		uint64_t now = xf_now_ns();

		rcu_read_lock();
		xf_filter_burst(w, keys + i, v, m, now);
		rcu_read_unlock();
	}
}

static void cg_dump_populate(uint32_t n)
{
	char label[128];

	snprintf(label, sizeof(label), "name=populate_callgrind records=%u pkts=%u", n, n);
	CALLGRIND_DUMP_STATS_AT(label);
}

/* One packet per record, in bursts, timed. */
static void populate(struct bench *b)
{
	uint32_t n = b->c.records;
	struct xf_key *keys = xalloc((size_t)n * sizeof(*keys));
	struct xf_worker *w = xf_worker_new(b->eng);
	struct xf_worker_stats ws;
	uint64_t t0;

	for (uint32_t i = 0; i < n; i++)
		rec_key(&b->c, i, &keys[i]);
	if (b->c.callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	t0 = xf_now_ns();
	populate_feed(w, keys, n);
	b->populate_ns = (double)(xf_now_ns() - t0);
	if (b->c.callgrind) {
		CALLGRIND_TOGGLE_COLLECT;
		cg_dump_populate(n);
	}
	xf_worker_stats(w, &ws);
	xf_worker_free(w);
	free(keys);
	xf_engine_stats(b->eng, &b->st);
	if (ws.verdict[XF_PASS] != n || b->st.pairs != n)
		fprintf(stderr, "bench: populate: %" PRIu64 " of %u passed, %" PRIu64 " pairs\n",
			ws.verdict[XF_PASS], n, b->st.pairs);
}

static void report_engine(struct bench *b)
{
	const struct xf_engine_stats *s = &b->st;
	double bytes = (double)(s->bytes_records + s->bytes_tables);

	printf("BENCH name=populate records=%u dsts=%u devs=%u mpps=%.2f ns_per_insert=%.1f\n",
	       b->c.records, b->c.dsts, b->c.records / b->c.ppd,
	       b->c.records / b->populate_ns * 1e3, b->populate_ns / b->c.records);
	printf("BENCH name=engine_memory pairs=%" PRIu64 " dsts=%" PRIu64 " devs=%" PRIu64
	       " bytes_records=%" PRIu64 " bytes_tables=%" PRIu64 " bytes_per_record=%.1f"
	       " xf_bytes_per_record=%zu alloc_bytes=%" PRIu64 " allocator=%s\n",
	       s->pairs, s->dsts, s->devs, s->bytes_records, s->bytes_tables, bytes / b->c.records,
	       xf_bytes_per_record(), s->alloc_bytes, s->allocator ? s->allocator : "?");
}

/* ---- pointer chase and random reads ------------------------------------------- */

static void chase_build(struct chase *ch, size_t bytes, bool huge)
{
	uint32_t *a;

	ch->lines = bytes / sizeof(struct line) > 2 ? bytes / sizeof(struct line) : 2;
	ch->bytes = ch->lines * sizeof(struct line);
	ch->tbl = mmap(NULL, ch->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ch->tbl == MAP_FAILED) {
		fprintf(stderr, "bench: mmap %zu: %s\n", ch->bytes, strerror(errno));
		exit(1);
	}
	madvise(ch->tbl, ch->bytes, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	a = xalloc(ch->lines * sizeof(*a));
	for (size_t i = 0; i < ch->lines; i++)
		a[i] = i;
	for (size_t i = ch->lines - 1; i > 0; i--) { /* Sattolo: one cycle */
		uint32_t j = rng_below(i), t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
	for (size_t i = 0; i < ch->lines; i++)
		ch->tbl[i].next = &ch->tbl[a[i]];
	free(a);
}

static uint64_t chase_loop(const struct line *p, uint64_t steps)
{
	while (steps--)
		p = p->next;
	return (uintptr_t)p;
}

static uint64_t rread_loop(const struct line *tbl, const uint32_t *idx, uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++)
		sum += (uintptr_t)tbl[idx[i]].next;
	return sum;
}

static void chase_setup(struct bench *b)
{
	size_t bytes = b->st.bytes_records + b->st.bytes_tables;

	if (bytes < (1u << 20))
		bytes = (size_t)b->c.records * 64; /* engine reported nothing useful */
	chase_build(&b->ch[0], bytes, false);
	chase_build(&b->ch[1], bytes, true);
	b->rr_idx = xalloc(b->c.steps * sizeof(*b->rr_idx));
	for (uint64_t i = 0; i < b->c.steps; i++)
		b->rr_idx[i] = rng_below(b->ch[0].lines);
}

/* ---- rculfhash ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned long key_hash(const struct xf_key *k)
{
	uint64_t a, b;
	uint32_t c;

	memcpy(&a, k->dst, 8);
	memcpy(&b, k->dst + 8, 8);
	memcpy(&c, &k->dev, 4);
	return mix64(mix64(mix64(SEED ^ a) ^ b) ^ c);
}

static int lf_match(struct cds_lfht_node *n, const void *key)
{
	const struct lf_node *x = caa_container_of(n, struct lf_node, node);

	return !memcmp(&x->key, key, sizeof(x->key));
}

static void lfht_setup(struct bench *b)
{
	unsigned long size = 1;
	struct lf_node **tmp = xalloc((size_t)b->c.records * sizeof(*tmp));

	b->nodes = tmp;
	while (size < b->c.records)
		size <<= 1;
	b->ht = cds_lfht_new(size, 1, 0, 0, NULL);
	if (!b->ht) {
		fprintf(stderr, "bench: cds_lfht_new failed\n");
		exit(1);
	}
	for (uint32_t i = 0; i < b->c.records; i++) { /* one malloc per node, as usual */
		tmp[i] = xalloc(sizeof(*tmp[i]));
		rec_key(&b->c, i, &tmp[i]->key);
		cds_lfht_node_init(&tmp[i]->node);
		rcu_read_lock();
		cds_lfht_add(b->ht, key_hash(&tmp[i]->key), &tmp[i]->node);
		rcu_read_unlock();
	}
	b->lf_node_bytes =
		malloc_usable_size(tmp[0]) + sizeof(struct cds_lfht_node) * size / b->c.records;
}

static void lfht_teardown(struct bench *b)
{
	struct cds_lfht_iter it;
	struct lf_node *x;

	rcu_read_lock();
	cds_lfht_for_each_entry (b->ht, &it, x, node) {
		cds_lfht_del(b->ht, &x->node);
	}
	rcu_read_unlock();
	synchronize_rcu();
	for (uint32_t i = 0; i < b->c.records; i++)
		free(b->nodes[i]);
	free(b->nodes);
	cds_lfht_destroy(b->ht, NULL);
}

static uint64_t lfht_one(struct cds_lfht *ht, const struct xf_key *k)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_lookup(ht, key_hash(k), lf_match, k, &it);
	n = cds_lfht_iter_get_node(&it);
	if (!n)
		return 1;
	uatomic_inc(&caa_container_of(n, struct lf_node, node)->hits);
	return 0;
}

static uint64_t lfht_loop(struct cds_lfht *ht, const struct xf_key *k, size_t n)
{
	uint64_t miss = 0;

	for (size_t i = 0; i < n; i += BURST) {
		size_t m = n - i < BURST ? n - i : BURST;

		(void)xf_now_ns(); /* the same clock read per burst as the engine loop */
		rcu_read_lock();
		for (size_t j = 0; j < m; j++)
			miss += lfht_one(ht, &k[i + j]);
		rcu_read_unlock();
	}
	return miss;
}

/* ---- the measured loops ---------------------------------------------------------- */

static void filter_loop(struct xf_worker *w, const struct xf_key *k, size_t n, int burst)
{
	uint8_t v[BURST];

	for (size_t i = 0; i < n; i += BURST) {
		unsigned m = n - i < BURST ? n - i : BURST;
		uint64_t now = xf_now_ns(); /* once per 32 packets, burst=1 too */

		rcu_read_lock();
		if (burst == 1) {
			for (unsigned j = 0; j < m; j++)
				xf_filter(w, &k[i + j], now);
		} else {
			xf_filter_burst(w, k + i, v, m, now);
		}
		rcu_read_unlock();
	}
}

static void timed_begin(struct warg *a)
{
	a->cpu_start = sched_getcpu();
	pthread_barrier_wait(a->bar);
	if (a->b->c.callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	a->t0 = xf_now_ns();
}

static void timed_end(struct warg *a)
{
	a->t1 = xf_now_ns();
	if (a->b->c.callgrind)
		CALLGRIND_TOGGLE_COLLECT;
	a->cpu_end = sched_getcpu();
}

static void run_filter(struct warg *a)
{
	struct xf_worker *w = xf_worker_new(a->b->eng);
	struct xf_worker_stats ws;

	if (!w) {
		fprintf(stderr, "bench: xf_worker_new failed\n");
		exit(1);
	}
	timed_begin(a);
	filter_loop(w, a->b->trace[a->k->dist] + a->off, a->n, a->k->burst);
	timed_end(a);
	xf_worker_stats(w, &ws);
	memcpy(a->verdict, ws.verdict, sizeof(a->verdict));
	xf_worker_free(w);
}

static void run_other(struct warg *a)
{
	const struct bench *b = a->b;
	const struct chase *ch = &b->ch[a->k->huge];

	timed_begin(a);
	if (a->k->kind == K_LFHT)
		a->sink = lfht_loop(b->ht, b->trace[a->k->dist] + a->off, a->n);
	else if (a->k->kind == K_CHASE)
		a->sink = chase_loop(&ch->tbl[a->off % ch->lines], a->n);
	else
		a->sink = rread_loop(ch->tbl, b->rr_idx, a->n);
	timed_end(a);
}

static void *case_thread(void *p)
{
	struct warg *a = p;

	pin_self(a->cpu);
	rcu_register_thread();
	if (a->k->kind == K_FILTER)
		run_filter(a);
	else
		run_other(a);
	rcu_unregister_thread();
	return NULL;
}

/* ---- cases ------------------------------------------------------------------------ */

static void case_add(struct bench *b, const char *name, enum kind kind, int threads, enum dist d,
		     int burst, uint64_t n)
{
	struct bcase *k;

	if (b->ncases == MAX_CASES) {
		fprintf(stderr, "bench: case %s not run: more than MAX_CASES (%d) cases\n", name,
			MAX_CASES);
		return;
	}
	k = &b->cases[b->ncases++];

	k->name = name;
	k->kind = kind;
	k->threads = threads;
	k->dist = d;
	k->burst = burst;
	k->n = n;
	k->drop = !strcmp(name, "filter_drop");
	k->policy = XF_POLICY_FCFS;
	for (int t = 0; t < MAX_THREADS; t++)
		k->cpu[t] = -1;
}

static void cases_init(struct bench *b)
{
	uint64_t n = b->c.pkts, s = b->c.steps;
	bool two = b->c.ncpus > 1;

	case_add(b, "filter", K_FILTER, 1, D_UNIFORM, BURST, n);
	case_add(b, "filter", K_FILTER, 1, D_ZIPF, BURST, n);
	if (b->c.callgrind) {
		case_add(b, "filter", K_FILTER, 1, D_UNIFORM, 1, n);
		case_add(b, "filter_drop", K_FILTER, 1, D_ZIPF, BURST, n);
		case_add(b, "filter_spray", K_FILTER, 1, D_SPRAY, BURST, b->c.spray);
		case_add(b, "rculfhash_lookup", K_LFHT, 1, D_UNIFORM, BURST, n);
		case_add(b, "rculfhash_lookup", K_LFHT, 1, D_ZIPF, BURST, n);
		return;
	}
	case_add(b, "filter", K_FILTER, 1, D_UNIFORM, 1, n / 2);
	if (two) {
		case_add(b, "filter", K_FILTER, 2, D_UNIFORM, BURST, n);
		case_add(b, "filter", K_FILTER, 2, D_ZIPF, BURST, n);
	}
	case_add(b, "filter_drop", K_FILTER, 1, D_ZIPF, BURST, n / 2);
	/* The fair policy on the same 1M-record traces (docs/algorithm.md, "Fair share"). */
	case_add(b, "filter", K_FILTER, 1, D_UNIFORM, BURST, n);
	b->cases[b->ncases - 1].policy = XF_POLICY_FAIR;
	case_add(b, "filter", K_FILTER, 1, D_ZIPF, BURST, n);
	b->cases[b->ncases - 1].policy = XF_POLICY_FAIR;
	if (two) {
		case_add(b, "filter", K_FILTER, 2, D_UNIFORM, BURST, n);
		b->cases[b->ncases - 1].policy = XF_POLICY_FAIR;
		case_add(b, "filter", K_FILTER, 2, D_ZIPF, BURST, n);
		b->cases[b->ncases - 1].policy = XF_POLICY_FAIR;
	}
	case_add(b, "filter_drop", K_FILTER, 1, D_ZIPF, BURST, n / 2);
	b->cases[b->ncases - 1].policy = XF_POLICY_FAIR;
	case_add(b, "filter_spray", K_FILTER, 1, D_SPRAY, BURST, b->c.spray);
	case_add(b, "rculfhash_lookup", K_LFHT, 1, D_UNIFORM, BURST, n / 2);
	case_add(b, "rculfhash_lookup", K_LFHT, 1, D_ZIPF, BURST, n / 2);
	case_add(b, "pointer_chase", K_CHASE, 1, D_UNIFORM, 1, s);
	if (two)
		case_add(b, "pointer_chase", K_CHASE, 2, D_UNIFORM, 1, s);
	case_add(b, "pointer_chase", K_CHASE, 1, D_UNIFORM, 1, s);
	b->cases[b->ncases - 1].huge = true;
	case_add(b, "random_read", K_CHASE, 1, D_UNIFORM, 1, s);
	b->cases[b->ncases - 1].kind = K_RREAD;
}

static void case_params(struct bench *b, const struct bcase *k, bool on)
{
	struct xf_params p = on && k->drop ? b->drop : b->pass;

	if (k->kind != K_FILTER)
		return;
	p.policy = on ? k->policy : XF_POLICY_FCFS;
	if (xf_engine_set_params(b->eng, &p))
		fprintf(stderr, "bench: xf_engine_set_params failed\n");
	/*
	 * The fair drop case: one share tick after a warm-up pass would need the
	 * trace's time; shares stay NONE here, so the case measures the limiters
	 * (pair, cap) on every packet, not the share check.
	 */
}

static void case_collect(struct bcase *k, struct warg *a)
{
	uint64_t t0 = a[0].t0, t1 = a[0].t1;
	int i = k->ntrials++;

	for (int t = 0; t < k->threads; t++) {
		t0 = a[t].t0 < t0 ? a[t].t0 : t0;
		t1 = a[t].t1 > t1 ? a[t].t1 : t1;
		k->migrated |= a[t].cpu_start != a[t].cpu_end ||
			       (a[t].cpu >= 0 && a[t].cpu_start != a[t].cpu);
		k->cpu[t] = a[t].cpu_end;
		for (int v = 0; v < XF_NVERDICTS; v++)
			k->verdict[v] += a[t].verdict[v];
	}
	k->ns[i] = (double)(t1 - t0) * k->threads / k->n;
	k->mpps[i] = k->n / (double)(t1 - t0) * 1e3;
}

static void case_run(struct bench *b, struct bcase *k)
{
	struct warg a[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	pthread_barrier_t bar;
	size_t per = k->n / k->threads;

	pthread_barrier_init(&bar, NULL, k->threads);
	case_params(b, k, true);
	for (int t = 0; t < k->threads; t++) {
		a[t] = (struct warg){ .b = b, .k = k, .bar = &bar, .n = per, .off = t * per };
		a[t].cpu = k->threads == 1 ? b->c.cpus[0] : b->c.cpus[t];
		if (k->kind == K_CHASE)
			a[t].off = t * (b->ch[0].lines / 2);
		pthread_create(&th[t], NULL, case_thread, &a[t]);
	}
	for (int t = 0; t < k->threads; t++)
		pthread_join(th[t], NULL);
	case_params(b, k, false);
	pthread_barrier_destroy(&bar);
	k->n = per * k->threads;
	case_collect(k, a);
}

/* ---- report ------------------------------------------------------------------------ */

static const struct bcase *case_find(const struct bench *b, const char *name, int threads,
				     enum dist d, int burst, bool huge)
{
	for (int i = 0; i < b->ncases; i++) {
		const struct bcase *k = &b->cases[i];

		if (!strcmp(k->name, name) && k->threads == threads && k->dist == d &&
		    k->burst == burst && k->huge == huge && k->policy == XF_POLICY_FCFS &&
		    k->ntrials)
			return k;
	}
	return NULL;
}

static void cpus_str(const struct bcase *k, char *buf, size_t len)
{
	if (k->threads == 1)
		snprintf(buf, len, "%d", k->cpu[0]);
	else
		snprintf(buf, len, "%d,%d", k->cpu[0], k->cpu[1]);
}

static void print_common(const struct bench *b, const struct bcase *k)
{
	double lo, hi;
	char cpus[32];

	minmax(k->mpps, k->ntrials, &lo, &hi);
	cpus_str(k, cpus, sizeof(cpus));
	printf("BENCH name=%s threads=%d records=%u dsts=%u dist=%s burst=%d pkts=%" PRIu64
	       " trials=%d mpps=%.2f ns_per_pkt=%.1f spread=%.2f-%.2f cpus=%s pinned=%d",
	       k->name, k->threads, b->c.records, b->c.dsts, dist_name[k->dist], k->burst, k->n,
	       k->ntrials, median(k->mpps, k->ntrials), median(k->ns, k->ntrials), lo, hi, cpus,
	       !k->migrated);
}

static double floor_ns(const struct bench *b, int threads)
{
	const struct bcase *f = case_find(b, "pointer_chase", threads, D_UNIFORM, 1, false);

	return f ? median(f->ns, f->ntrials) : NAN;
}

static double rread_ns(const struct bench *b)
{
	for (int i = 0; i < b->ncases; i++)
		if (b->cases[i].kind == K_RREAD && b->cases[i].ntrials)
			return median(b->cases[i].ns, b->cases[i].ntrials);
	return NAN;
}

static const char *const verdict_key[XF_NVERDICTS] = {
	[XF_PASS] = "pass",	      [XF_DROP_PAIR] = "drop_pair",
	[XF_DROP_DST] = "drop_dst",   [XF_DROP_DEVCAP] = "drop_devcap",
	[XF_DROP_FULL] = "drop_full",
};

static void print_filter(const struct bench *b, const struct bcase *k)
{
	double bytes = (double)(b->st.bytes_records + b->st.bytes_tables);
	double fl = floor_ns(b, k->threads);
	uint64_t all = 0;

	for (int v = 0; v < XF_NVERDICTS; v++)
		all += k->verdict[v];
	print_common(b, k);
	printf(" policy=%s", xf_policy_name(k->policy));
	printf(" bytes_per_record=%.1f xf_bytes_per_record=%zu floor_ns=%.1f floor_ratio=%.2f"
	       " rand_read_ns=%.1f",
	       bytes / b->c.records, xf_bytes_per_record(), fl, median(k->ns, k->ntrials) / fl,
	       rread_ns(b));
	for (int v = 0; v < XF_NVERDICTS; v++)
		printf(" %s_pct=%.2f", verdict_key[v], 100.0 * k->verdict[v] / (all ? all : 1));
	printf("\n");
}

static void print_lfht(const struct bench *b, const struct bcase *k)
{
	const struct bcase *f = case_find(b, "filter", 1, k->dist, BURST, false);
	double ns = median(k->ns, k->ntrials);
	double fns = f ? median(f->ns, f->ntrials) : NAN;

	print_common(b, k);
	printf(" bytes_per_record=%zu floor_ratio=%.2f filter_ns_per_pkt=%.1f "
	       "lfht_over_filter=%.2f\n",
	       b->lf_node_bytes, ns / floor_ns(b, 1), fns, ns / fns);
}

static void print_chase(const struct bench *b, const struct bcase *k)
{
	const char *unit = k->kind == K_CHASE ? "step" : "read";
	double lo, hi;
	char cpus[32];

	minmax(k->ns, k->ntrials, &lo, &hi);
	cpus_str(k, cpus, sizeof(cpus));
	printf("BENCH name=%s threads=%d bytes=%zu hugepages=%d %ss=%" PRIu64
	       " trials=%d ns_per_%s=%.1f spread_ns=%.1f-%.1f cpus=%s pinned=%d\n",
	       k->name, k->threads, b->ch[k->huge].bytes, k->huge, unit, k->n, k->ntrials, unit,
	       median(k->ns, k->ntrials), lo, hi, cpus, !k->migrated);
}

static void report(const struct bench *b)
{
	for (int i = 0; i < b->ncases; i++) {
		const struct bcase *k = &b->cases[i];

		if (k->kind == K_FILTER)
			print_filter(b, k);
		else if (k->kind == K_LFHT)
			print_lfht(b, k);
		else
			print_chase(b, k);
	}
	fflush(stdout);
}

/* ---- callgrind mode ---------------------------------------------------------------- */

static void cg_label(const struct bench *b, const struct bcase *k, char *buf, size_t len)
{
	uint64_t all = 0;

	for (int v = 0; v < XF_NVERDICTS; v++)
		all += k->verdict[v];
	snprintf(buf, len, "name=%s_callgrind records=%u dist=%s burst=%d pkts=%" PRIu64,
		 k->kind == K_LFHT ? "rculfhash" : k->name, b->c.records, dist_name[k->dist],
		 k->burst, k->n);
	if (k->kind == K_FILTER)
		snprintf(buf + strlen(buf), len - strlen(buf), " pass_pct=%.2f",
			 100.0 * k->verdict[XF_PASS] / (all ? all : 1));
}

/* Under callgrind: each case once, one dump per case (collection on only in the loop). */
static void cg_child(struct bench *b)
{
	char label[256];

	for (int i = 0; i < b->ncases; i++) {
		struct bcase *k = &b->cases[i];

		CALLGRIND_ZERO_STATS;
		case_run(b, k);
		cg_label(b, k, label, sizeof(label));
		CALLGRIND_DUMP_STATS_AT(label);
	}
}

/* Print one BENCH line from a callgrind dump, if it is one of ours. */
static void cg_parse(const char *path)
{
	char line[512], label[256] = "";
	unsigned long long ir = 0, pkts = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "desc: Trigger: Client Request: ", 31))
			snprintf(label, sizeof(label), "%.*s", (int)strcspn(line + 31, "\n"),
				 line + 31);
		else if (!strncmp(line, "totals: ", 8) || !strncmp(line, "summary: ", 9))
			ir = strtoull(strchr(line, ' ') + 1, NULL, 10);
	}
	fclose(f);
	if (!*label || !strstr(label, "pkts="))
		return;
	pkts = strtoull(strstr(label, "pkts=") + 5, NULL, 10);
	printf("BENCH %s instr=%llu instr_per_pkt=%.1f\n", label, ir, (double)ir / pkts);
}

static void cg_collect(const char *dir)
{
	struct dirent **de;
	int n = scandir(dir, &de, NULL, versionsort);
	char path[512];

	for (int i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
			cg_parse(path);
			unlink(path);
		}
		free(de[i]);
	}
	if (n >= 0)
		free(de);
	rmdir(dir);
}

/* Not under valgrind yet: run ourselves under callgrind, then read the dumps. */
static int cg_parent(void)
{
	char dir[] = "/tmp/bench_cg.XXXXXX", out[128], self[256];
	char *argv[] = { "valgrind", "--tool=callgrind", "-q", "--collect-atstart=no", out, self,
			 NULL };
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	int st = 0;

	setenv("BENCH_CALLGRIND", "1", 1);
	if (n <= 0 || !mkdtemp(dir)) {
		fprintf(stderr, "bench: callgrind: no temp dir or self path\n");
		return 0;
	}
	self[n] = 0;
	snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.out", dir);
	fprintf(stderr, "bench: running under callgrind (a few seconds)\n");
	if (posix_spawnp(&pid, "valgrind", NULL, NULL, argv, environ)) {
		fprintf(stderr, "bench: cannot run valgrind; no instruction counts\n");
		rmdir(dir);
		return 0;
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "bench: valgrind run ended badly (status %d)\n", st);
	cg_collect(dir);
	return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static void setup(struct bench *b)
{
	uint64_t t0 = xf_now_ns();

	fprintf(stderr, "bench: %u records, %u dsts, %" PRIu64 " pkts, %d trials, cpus %d/%d,%d\n",
		b->c.records, b->c.dsts, b->c.pkts, b->c.trials, b->c.cpus[0], b->c.cpus[1],
		b->c.cpus[0]);
	engine_new(b);
	populate(b);
	if (!b->c.callgrind)
		report_engine(b);
	fprintf(stderr, "bench: populated in %.2f s; making traces\n", b->populate_ns / 1e9);
	for (int d = 0; d < NDIST; d++)
		b->trace[d] = make_trace(&b->c, d);
	fprintf(stderr, "bench: building rculfhash and chase tables\n");
	lfht_setup(b);
	if (!b->c.callgrind)
		chase_setup(b);
	cases_init(b);
	fprintf(stderr, "bench: setup took %.1f s\n", (xf_now_ns() - t0) / 1e9);
}

static void run_trials(struct bench *b)
{
	for (int t = 0; t < b->c.trials; t++) {
		uint64_t t0 = xf_now_ns();

		for (int i = 0; i < b->ncases; i++)
			case_run(b, &b->cases[i]);
		fprintf(stderr, "bench: trial %d/%d took %.1f s\n", t + 1, b->c.trials,
			(xf_now_ns() - t0) / 1e9);
	}
}

static void teardown(struct bench *b)
{
	lfht_teardown(b);
	for (int i = 0; i < 2; i++)
		if (b->ch[i].tbl)
			munmap(b->ch[i].tbl, b->ch[i].bytes);
	for (int d = 0; d < NDIST; d++)
		free(b->trace[d]);
	free(b->rr_idx);
	xf_engine_free(b->eng);
}

int main(void)
{
	static struct bench b;

	cfg_init(&b.c);
	if (b.c.callgrind && !RUNNING_ON_VALGRIND)
		return cg_parent();
	rcu_register_thread();
	setup(&b);
	if (b.c.callgrind) {
		cg_child(&b);
	} else {
		run_trials(&b);
		report(&b);
	}
	teardown(&b);
	rcu_unregister_thread();
	if (b.c.cg_after && !RUNNING_ON_VALGRIND)
		cg_parent();
	return 0;
}
