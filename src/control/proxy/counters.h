/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every figure the proxy reports, declared once: a table of rows (JSON name,
 * Prometheus family, type, unit, help, where the value lives) from which the
 * status file, `xproctl status` and GET /metrics are printed, and from which
 * the field list of docs/metrics.md is generated (test_counters keeps the two
 * equal).  One JSON schema for the status file and xproctl.
 *
 * Threads: the table is constant.  A struct px_counters is a plain copy,
 * filled by one thread (px_counters_fill(): the control thread for the
 * status file, the ctl and metrics threads for theirs) and then only read.
 */
#ifndef XPRO_PROXY_COUNTERS_H
#define XPRO_PROXY_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control/proxy/proxy.h"
#include "sync/round.h"

/*
 * "schema_version" in the JSON: raised when a field is renamed, removed or
 * changes meaning; adding a field keeps it.
 */
#define PX_COUNTERS_SCHEMA 1
/* The *_pps rates: over two snapshots about this far apart. */
#define PX_RATE_MS 1000

/*
 * What only the control thread may read (the sync round, the live
 * configuration, its own tallies), taken once per tick (px_snap_take()) and
 * handed to the ctl threads under px_ctl.lock.
 */
struct px_ctl_snap {
	bool have_sync;
	struct sync_round_stats sync;
	struct sync_load load;
	char master[512], proxy_id[33];
	uint64_t reclaimed, flags_expired;
	uint64_t drop_map_entries; /* left after the tick's sweep */
	uint64_t hold_ms;
	struct xf_params params;
	uint64_t at_ns; /* 0: not published yet */
};

struct px_worker_counters {
	int queue, cpu; /* cpu -1: not pinned */
	bool zerocopy;
	struct dp_worker_stats ws;
	struct xf_worker_stats xs;
};

/* The thresholds xpro_threshold{key} shows, as applied now. */
enum px_thresh {
	PX_TH_TF1,
	PX_TH_TF2,
	PX_TH_TT1,
	PX_TH_TT2,
	PX_TH_TT3,
	PX_TH_TT4,
	PX_TH_HOLD,
	PX_NTHRESH,
};

/* Every figure at one instant, and what the table derives from them. */
struct px_counters {
	uint32_t schema; /* PX_COUNTERS_SCHEMA */
	char iface[IF_NAMESIZE];
	uint32_t port;
	uint64_t t_ns; /* CLOCK_MONOTONIC when read */
	uint64_t uptime_ns;
	int nw;
	struct px_worker_counters w[PX_MAX_QUEUES];
	uint64_t rx, tx, verdicts[XF_NVERDICTS]; /* sums over the workers */
	bool xdp_ok; /* false: the XDP counters could not be read */
	uint64_t xdp_pk[XPRO_XDP_NSTATS], xdp_by[XPRO_XDP_NSTATS];
	struct xf_engine_stats es;
	uint64_t engine_bytes; /* es.bytes_records + es.bytes_tables */
	uint64_t devices, neighbours;
	const char *dst_policy;
	const char *redis; /* "off", "up", "down" */
	bool sync_up;
	const char *sync_state; /* NULL without sync */
	int64_t sync_lag_ns; /* since the last acknowledged merge; -1: never */
	const char *version; /* XPRO_VERSION */
	uint32_t one; /* 1: the value of xpro_build_info */
	uint64_t thresholds[PX_NTHRESH]; /* from snap.params and snap.hold_ms */
	struct px_ctl_snap snap;
};

/*
 * Fill the derived fields of c (sums, engine bytes, strings, lag) from the
 * rest, which the caller has read.  Any thread, on its own copy.
 */
void px_counters_derive(struct px_counters *c);

/* Two snapshots about PX_RATE_MS apart, the newest in slot[cur]. */
struct px_rates {
	struct px_counters slot[2];
	int cur;
	uint64_t next_ns;
};
/* Keep c as the newest snapshot if PX_RATE_MS passed since the last one. */
void px_rates_feed(struct px_rates *r, const struct px_counters *c);
static inline const struct px_counters *px_rates_new(const struct px_rates *r)
{
	return &r->slot[r->cur];
}
static inline const struct px_counters *px_rates_old(const struct px_rates *r)
{
	return &r->slot[r->cur ^ 1];
}

/*
 * The JSON object's members, without the braces ("schema_version":1,...),
 * values from c and the *_pps rates from old to new (both may be NULL: no
 * rates yet, they read 0).  The status file is {members}; xproctl's reply
 * {"ok":true,members}.
 */
void px_counters_json(FILE *f, const struct px_counters *c, const struct px_counters *old,
		      const struct px_counters *new);
/* The Prometheus text exposition of c; every sample labelled iface="c->iface". */
void px_counters_prometheus(FILE *f, const struct px_counters *c);
/* The generated part of docs/metrics.md: the field table and the label values. */
void px_counters_markdown(FILE *f);

/* s as a JSON string, quoted and escaped. */
void px_json_str(FILE *f, const char *s);

/* --- the table (counters_table.c); exposed for test_counters ----------------------- */

enum px_ctr_type {
	PX_CTR_COUNTER, /* only grows while the proxy runs: Prometheus counter, name _total */
	PX_CTR_GAUGE, /* a level: may go down */
	PX_CTR_INFO, /* a fact or setting (names, ids, thresholds): JSON only */
};

/* The C type of the value at off (from _Generic on the field), or a row's role. */
enum px_ctr_val {
	PX_CV_U64,
	PX_CV_I64,
	PX_CV_U32,
	PX_CV_INT,
	PX_CV_BOOL,
	PX_CV_CHARS, /* char array */
	PX_CV_STR, /* const char *; NULL prints null */
	PX_CV_U64S, /* uint64_t array: an object keyed by label values */
	PX_CV_RATE, /* per second of the uint64_t at off, between two snapshots */
	PX_CV_RATES, /* the same for each element of the uint64_t array at off */
	PX_CV_RATE_DT, /* the interval the rates cover */
	PX_CV_OBJ, /* the rows up to the matching PX_CV_END, in an object */
	PX_CV_WORKERS, /* the rows up to PX_CV_END, once per worker, in an array */
	PX_CV_END,
};

/* A row's value may be missing: JSON null, no Prometheus sample. */
enum px_ctr_when {
	PX_WHEN_ALWAYS = 0,
	PX_WHEN_XDP, /* the XDP counters were read */
	PX_WHEN_SYNC, /* a Redis master is configured */
};

struct px_ctr {
	const char *name; /* JSON member; NULL: Prometheus only */
	const char *prom; /* Prometheus family without "xpro_"; NULL: JSON only */
	enum px_ctr_type type;
	enum px_ctr_val val;
	size_t off; /* in struct px_counters; in struct px_worker_counters inside workers */
	const char *unit; /* for docs/metrics.md: "packets", "bytes", "ms", ... */
	const char *help; /* one sentence: docs/metrics.md and # HELP */
	enum px_ctr_when when;
	/* Durations held in ns: JSON prints v / ns_per (1000000: ms), Prometheus seconds. */
	uint32_t ns_per;
	bool neg_never; /* a negative duration means never: -1 in both */
	const char *choice[2]; /* PX_CV_BOOL in JSON as a string: false, true */
	/* PX_CV_U64S, PX_CV_RATES: keys first..n-1, named by key(), label in Prometheus */
	const char *label; /* docs/metrics.md writes it in capitals: verdicts.VERDICT */
	unsigned first, n;
	const char *(*key)(unsigned k);
	const char *(*key_help)(unsigned k); /* what each key means, for docs; optional */
	/* Prometheus only: more labels of the sample, name="value",... (escaped) */
	void (*labels)(const struct px_counters *c, char *buf, size_t len);
	const char *labels_doc; /* their names, for docs/metrics.md: "version,proxy_id" */
};

extern const struct px_ctr px_ctrs[];
extern const size_t px_nctrs;

#endif
