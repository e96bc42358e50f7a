/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trace writer (trace.h): drain the workers' rings, merge, write CSV.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xpro/addr_text.h"
#include "control/proxy/state.h"
#include "control/proxy/trace.h"

#define DRAIN_MS 10 /* a ring of 2^18 records holds 26 Mpps for this long */

struct px_trace {
	struct px_state *s;
	pthread_t th;
	bool joinable; /* a writer thread was started and not joined (control thread) */
	uint32_t done; /* set by the writer when it ends (atomic) */
	uint32_t stop; /* set by the control thread: end now (atomic) */
	FILE *f;
	char path[256];
	uint64_t t0, until;
	uint64_t written, lost, lost_base[PX_MAX_QUEUES]; /* written by the writer (atomic) */
	int err; /* the writer's write error, 0 if none */
	struct dp_trace_rec *buf; /* one drain of every ring */
	size_t cap;
};

static int by_time(const void *a, const void *b)
{
	uint64_t x = ((const struct dp_trace_rec *)a)->t_ns;
	uint64_t y = ((const struct dp_trace_rec *)b)->t_ns;

	return x < y ? -1 : x > y;
}

/* Move what every ring holds into t->buf; returns how many records. */
static size_t drain(struct px_trace *t)
{
	struct px_state *s = t->s;
	size_t n = 0;

	for (int w = 0; w < s->nworkers; w++) {
		struct dp_trace_ring *r = s->workers[w].trace;
		uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE), tail = r->tail;

		for (; tail != head && n < t->cap; tail++)
			t->buf[n++] = r->rec[tail & (DP_TRACE_RING - 1)];
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	}
	return n;
}

/* The records in time order as CSV; one from before the start or after the end is dropped. */
static void write_out(struct px_trace *t, size_t n, uint64_t *last)
{
	char dst[XPRO_ADDR_TEXT_MAX];
	uint64_t written = __atomic_load_n(&t->written, __ATOMIC_RELAXED);

	qsort(t->buf, n, sizeof(*t->buf), by_time);
	for (size_t i = 0; i < n && written < PX_TRACE_MAX_PACKETS; i++) {
		const struct dp_trace_rec *r = &t->buf[i];
		/* Bursts of two workers drained on either side of a drain: keep time monotonic. */
		uint64_t ts = r->t_ns < *last ? *last : r->t_ns;

		if (r->t_ns < t->t0 || r->t_ns > t->until)
			continue;
		*last = ts;
		xpro_addr_format(r->dst, 0, dst, sizeof(dst));
		if (fprintf(t->f, "%" PRIu64 ".%03" PRIu64 ",%u,%s\n", (ts - t->t0) / 1000000,
			    (ts - t->t0) / 1000 % 1000, r->dev, dst) < 0 &&
		    !t->err)
			t->err = errno ? errno : EIO;
		written++;
	}
	__atomic_store_n(&t->written, written, __ATOMIC_RELAXED);
}

static uint64_t ring_lost(struct px_trace *t)
{
	uint64_t lost = 0;

	for (int w = 0; w < t->s->nworkers; w++)
		lost += __atomic_load_n(&t->s->workers[w].trace->lost, __ATOMIC_RELAXED) -
			t->lost_base[w];
	return lost;
}

static void *writer(void *arg)
{
	struct px_trace *t = arg;
	struct timespec nap = { 0, DRAIN_MS * 1000000L };
	uint64_t last = 0;

	for (;;) {
		bool end = __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) || xf_now_ns() >= t->until ||
			   __atomic_load_n(&t->written, __ATOMIC_RELAXED) >= PX_TRACE_MAX_PACKETS ||
			   t->err;

		if (end)
			for (int w = 0; w < t->s->nworkers; w++)
				__atomic_store_n(&t->s->workers[w].trace->on, 0, __ATOMIC_RELEASE);
		write_out(t, drain(t), &last);
		__atomic_store_n(&t->lost, ring_lost(t), __ATOMIC_RELAXED);
		if (end)
			break;
		nanosleep(&nap, NULL);
	}
	/* Bursts that saw the flag just before it fell: one more drain after a pause. */
	nanosleep(&nap, NULL);
	write_out(t, drain(t), &last);
	if (fclose(t->f) && !t->err)
		t->err = errno ? errno : EIO;
	t->f = NULL;
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Join an ended writer and say how it went. */
static void reap(struct px_trace *t, char *msg, size_t len)
{
	uint64_t secs;

	pthread_join(t->th, NULL);
	t->joinable = false;
	secs = (xf_now_ns() < t->until ? xf_now_ns() : t->until) - t->t0;
	if (t->err)
		snprintf(msg, len, "trace %s: write failed after %" PRIu64 " packets: %s", t->path,
			 t->written, strerror(t->err));
	else
		snprintf(msg, len,
			 "trace %s: %" PRIu64 " packets in %" PRIu64 ".%01" PRIu64 " s, %" PRIu64
			 " lost (ring full)",
			 t->path, t->written, secs / 1000000000, secs / 100000000 % 10, t->lost);
	if (t->err || t->lost)
		pr_warn("%s", msg);
	else
		pr_info("%s", msg);
}

int px_trace_start(struct px_state *s, const char *path, uint64_t seconds, char *msg, size_t len)
{
	struct px_trace *t = s->trace;
	int fd, err;

	if (t && t->joinable) {
		if (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) {
			snprintf(msg, len, "a trace into %s is running (xproctl trace stop)",
				 t->path);
			return -EBUSY;
		}
		reap(t, msg, len);
	}
	if (path[0] != '/' || strlen(path) >= sizeof(t->path)) {
		snprintf(msg, len, "trace: the file must be an absolute path under %zu bytes",
			 sizeof(t->path));
		return -EINVAL;
	}
	if (!seconds || seconds > PX_TRACE_MAX_SECONDS) {
		snprintf(msg, len, "trace: seconds must be 1..%d", PX_TRACE_MAX_SECONDS);
		return -EINVAL;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			goto nomem;
		t->s = s;
		s->trace = t;
	}
	t->cap = (size_t)s->nworkers * DP_TRACE_RING;
	if (!t->buf && !(t->buf = malloc(t->cap * sizeof(*t->buf))))
		goto nomem;
	for (int w = 0; w < s->nworkers; w++) {
		struct dp_trace_ring *r = s->workers[w].trace;

		if (!r) {
			r = aligned_alloc(64, sizeof(*r));
			if (!r)
				goto nomem;
			memset(r, 0, sizeof(*r));
			__atomic_store_n(&s->workers[w].trace, r, __ATOMIC_RELEASE);
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(t->f = fdopen(fd, "w"))) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(msg, len, "trace: %s: %s", path, strerror(-err));
		return err;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	fprintf(t->f,
		"# xpro-proxy trace on %s: authenticated DATA as the workers filtered it, for "
		"xpro-replay --trace\n# tf1 %" PRIu64 " tf2 %" PRIu64 " tt1 %" PRIu64
		" tt2 %" PRIu64 " tt3 %" PRIu64 " policy %s\ntime_ms,device,destination\n",
		s->cfg.ifname, s->cfg.params.tf1_pps, s->cfg.params.tf2_pps, s->cfg.params.tt1_ms,
		s->cfg.params.tt2_ms, s->cfg.params.tt3_ms, xf_policy_name(s->cfg.params.policy));
	t->written = t->lost = 0;
	t->err = 0;
	t->done = t->stop = 0;
	t->t0 = xf_now_ns();
	t->until = t->t0 + seconds * XF_NSEC_PER_SEC;
	/* Skip what a previous trace left; then switch the workers on. */
	for (int w = 0; w < s->nworkers; w++) {
		struct dp_trace_ring *r = s->workers[w].trace;

		__atomic_store_n(&r->tail, __atomic_load_n(&r->head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		t->lost_base[w] = __atomic_load_n(&r->lost, __ATOMIC_RELAXED);
		__atomic_store_n(&r->on, 1, __ATOMIC_RELEASE);
	}
	err = -pthread_create(&t->th, NULL, writer, t);
	if (err) {
		for (int w = 0; w < s->nworkers; w++)
			__atomic_store_n(&s->workers[w].trace->on, 0, __ATOMIC_RELEASE);
		fclose(t->f);
		t->f = NULL;
		snprintf(msg, len, "trace: no writer thread: %s", strerror(-err));
		return err;
	}
	t->joinable = true;
	snprintf(msg, len, "tracing into %s for %" PRIu64 " s", path, seconds);
	pr_info("xproctl: %s", msg);
	return 0;
nomem:
	snprintf(msg, len, "trace: out of memory for the rings");
	return -ENOMEM;
}

int px_trace_stop(struct px_state *s, char *msg, size_t len)
{
	struct px_trace *t = s->trace;

	if (!t || !t->joinable) {
		snprintf(msg, len, "no trace is running");
		return -ENOENT;
	}
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	reap(t, msg, len);
	return 0;
}

void px_trace_status(struct px_state *s, char *buf, size_t len)
{
	struct px_trace *t = s->trace;
	uint64_t now = xf_now_ns();

	if (!t || !t->path[0]) {
		snprintf(buf, len, "\"tracing\":false,\"file\":null");
		return;
	}
	snprintf(buf, len,
		 "\"tracing\":%s,\"file\":\"%s\",\"packets\":%" PRIu64 ",\"lost\":%" PRIu64
		 ",\"remaining_ms\":%" PRIu64,
		 t->joinable && !__atomic_load_n(&t->done, __ATOMIC_ACQUIRE) ? "true" : "false",
		 t->path, __atomic_load_n(&t->written, __ATOMIC_RELAXED),
		 __atomic_load_n(&t->lost, __ATOMIC_RELAXED),
		 (uint64_t)(t->joinable && now < t->until ? (t->until - now) / XF_NSEC_PER_MSEC
							  : 0));
}

void px_trace_tick(struct px_state *s)
{
	struct px_trace *t = s->trace;
	char msg[400];

	if (t && t->joinable && __atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
		reap(t, msg, sizeof(msg));
}

void px_trace_fini(struct px_state *s)
{
	struct px_trace *t = s->trace;
	char msg[400];

	if (t && t->joinable) {
		__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
		reap(t, msg, sizeof(msg));
	}
	for (int w = 0; w < s->nworkers; w++) {
		free(s->workers[w].trace);
		s->workers[w].trace = NULL;
	}
	if (t)
		free(t->buf);
	free(t);
	s->trace = NULL;
}
