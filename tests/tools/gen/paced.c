/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Paced mode: F flows at R packets/s each, as legitimate devices send.  The
 * flows share one schedule: event n is due at start + n / (F * R) and belongs
 * to flow n % F, so every flow keeps its rate and the flows' packets
 * interleave evenly.  Each wake-up sends every event that has come due.  Bad
 * mode runs on the same scheduler with events of its own.
 */
#include <errno.h>
#include <time.h>
#include <sys/prctl.h>

#include "udp_tx.h"

#define GEN_PACED_BURST 256 /* events per wake-up at most, when behind */
#define GEN_PACED_LAG_WARN_NS 100000000ull /* say so when this far behind the schedule */

int gen_sched_run(struct gen_world *w, struct gen_result *r, double rate, gen_event_fn fn,
		  void *ctx)
{
	const struct gen_cfg *cfg = w->cfg;
	double period = 1e9 / rate; /* ns between events */
	struct gen_udp u;
	uint64_t n = 0, now;
	int rc;

	rc = gen_udp_open(&u, w, cfg->sockets);
	if (rc)
		return rc;
	prctl(PR_SET_TIMERSLACK, 1UL); /* wake when asked, not up to 50 us later */
	if (cfg->start_at_ms) {
		struct timespec ts = { .tv_sec = (time_t)(cfg->start_at_ms / 1000),
				       .tv_nsec = (long)(cfg->start_at_ms % 1000) * 1000000L };

		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	r->start_ns = now = gen_now_ns();
	while (!rc && gen_keep_going(cfg, r, now) && (!cfg->count || n < cfg->count)) {
		uint64_t due = r->start_ns + (uint64_t)((double)n * period);
		unsigned burst = 0;

		if (due > now) {
			struct timespec ts = { (time_t)(due / 1000000000ull),
					       (long)(due % 1000000000ull) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			now = gen_now_ns();
			continue;
		}
		if (now - due > r->late_max_ns)
			r->late_max_ns = now - due;
		/* --count counts datagrams; an event may send more than one (bad mode). */
		while (!rc && due <= now && burst++ < GEN_PACED_BURST &&
		       (!cfg->count || (n < cfg->count && u.committed < cfg->count))) {
			rc = fn(ctx, w, &u, r, n, now);
			due = r->start_ns + (uint64_t)((double)++n * period);
		}
		gen_udp_flush_all(&u, r);
		now = gen_now_ns();
	}
	gen_udp_flush_all(&u, r);
	r->end_ns = gen_now_ns();
	gen_udp_close(&u);
	if (r->late_max_ns > GEN_PACED_LAG_WARN_NS)
		fprintf(stderr,
			"xpro-gen: could not keep up with %.0f pps: up to %.0f ms behind schedule "
			"(UDP sockets reach about 170 kpps here; use --mode flood beyond)\n",
			rate, (double)r->late_max_ns / 1e6);
	return rc;
}

/* Event n: flow n % F sends its next packet. */
static int gen_paced_event(void *ctx, struct gen_world *w, struct gen_udp *u, struct gen_result *r,
			   uint64_t n, uint64_t now)
{
	struct gen_flow *f = &w->flows[n % w->nflows];
	unsigned s = f->id % u->nsock;
	int len = gen_seal_next(gen_udp_slot(u, s, r), GEN_MAX_FRAME, f, w, now);

	(void)ctx;
	if (len < 0)
		return len;
	gen_udp_commit(u, s, (size_t)len);
	f->sent++;
	return 0;
}

int gen_paced(struct gen_world *w, struct gen_result *r)
{
	return gen_sched_run(w, r, (double)w->nflows * (double)w->cfg->rate, gen_paced_event, NULL);
}
