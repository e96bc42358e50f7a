/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-replay's private header: the configuration, the tables a replay accounts into, the
 * built-in scenario's definition, and the functions the tool's files share.
 */
#ifndef XPRO_REPLAY_H
#define XPRO_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "xpro/filter.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define XR_NONE UINT64_MAX /* "never" for times, "absent" for ids */
#define XR_CLOSE_S 10 /* the closing rate is measured over this many last seconds */
#define XR_RING 16 /* per-second bins kept per destination (> XR_CLOSE_S) */

struct xr_config {
	struct xf_params params;
	struct xf_limits limits;
	bool demo;
	const char *trace;
	uint32_t rows;
	uint64_t seed;
};

/* ---- containers (tables.c) ---------------------------------------------------------------- */

struct xr_slot {
	uint64_t hash;
	void *key; /* our copy; NULL: free slot */
	uint32_t len;
	uint32_t id;
};

/* Interns byte strings: each distinct key keeps the id it was first added with. */
struct xr_map {
	struct xr_slot *slot;
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t n;
};

/* ---- what a replay accounts ---------------------------------------------------------------- */

struct xr_count {
	uint64_t offered;
	uint64_t verdict[XF_NVERDICTS];
	uint64_t warnings;
};

struct xr_group {
	char *name;
	uint32_t devices;
};

struct xr_dev {
	uint32_t group;
	uint64_t last_warn; /* ns on the trace clock of its last XF_WARN; XR_NONE: never */
};

struct xr_dst {
	char name[64];
	uint8_t addr[16]; /* engine form: IPv4 mapped into IPv6 */
	bool aggregate; /* the demo's scan targets: many addresses, one line */
	struct xr_count all;
	uint64_t phase_pass;
	uint64_t first[XF_NVERDICTS]; /* ns on the trace clock of each verdict's first packet */
	uint32_t first_group[XF_NVERDICTS];
	uint64_t sec, sec_pass; /* the current second and its PASS count */
	uint64_t peak_pass, peak_sec; /* the busiest second so far */
	uint64_t ring_sec[XR_RING], ring_pass[XR_RING]; /* recent seconds' PASS counts */
};

/* One (group, destination) line of the report. */
struct xr_row {
	uint32_t group, dst;
	struct xr_count all;
	uint64_t phase_offered, phase_pass;
	uint64_t first[XF_NVERDICTS]; /* ns on the trace clock of each verdict's first packet */
};

struct xr_event {
	uint64_t t; /* ns on the trace's clock */
	uint32_t dev, group, dst; /* indexes into the run's tables */
	struct xf_key key;
};

struct xr_run {
	const struct xr_config *cfg;
	struct xf_engine *eng;
	struct xf_worker *wk;
	bool demo, started, labelled;
	uint64_t last; /* the latest packet */
	uint64_t next_tick; /* ns on the trace clock of the next harvest and reclaim */
	uint64_t phase_from, phase_to; /* ns on the trace clock: where rates are measured */
	struct xr_group *groups;
	struct xr_dev *devs;
	struct xr_dst *dsts;
	struct xr_row *rows;
	size_t ngroups, ndevs, ndsts, nrows;
	size_t groups_cap, devs_cap, dsts_cap, rows_cap;
	struct xr_map group_map, dev_map, dst_map, row_map;
	struct xr_count total;
	uint64_t first[XF_NVERDICTS];
	uint32_t first_group[XF_NVERDICTS], first_dst[XF_NVERDICTS];
	uint64_t harvested, reclaimed, ticks;
	struct xf_engine_stats peak;
	uint64_t anomalies;
};

/* ---- the built-in scenario (demo.c) -------------------------------------------------------- */

enum { XR_G_LEGIT, XR_G_FLOOD, XR_G_LOWRATE, XR_G_SCAN, XR_NGROUPS_DEMO };
enum { XR_D_VICTIM, XR_D_BYSTANDER, XR_D_SERVICE, XR_D_SCAN, XR_NDSTS_DEMO };

#define XR_DEMO_ATTACK_S 10
#define XR_DEMO_END_S 60
#define XR_DEMO_SCAN_NET "198.19.0.0/16" /* where the scanner's random targets lie */

struct xr_demo_group {
	const char *name;
	uint32_t devices;
};

struct xr_demo_dst {
	const char *name, *addr; /* addr NULL: random in XR_DEMO_SCAN_NET */
};

struct xr_flow {
	uint32_t group, dst;
	uint32_t devices; /* the group's first N devices send this flow */
	uint32_t pps; /* mean rate of each device */
	uint32_t start_s;
	uint32_t jitter_pct; /* each gap is the mean +- up to this many percent */
};

extern const struct xr_demo_group xr_demo_groups[XR_NGROUPS_DEMO];
extern const struct xr_demo_dst xr_demo_dsts[XR_NDSTS_DEMO];
extern const struct xr_flow xr_demo_flows[];
extern const size_t xr_demo_nflows;

int xr_demo_run(struct xr_run *run);

/* ---- tables.c: containers, the run's tables, addresses ------------------------------------ */

void xr_fill_none(uint64_t *a, size_t n);
int xr_map_init(struct xr_map *m);
void xr_map_free(struct xr_map *m);
int xr_group_add(struct xr_run *run, const char *name, uint32_t *id);
int xr_dev_add(struct xr_run *run, uint32_t group);
int xr_dev_intern(struct xr_run *run, const char *name, const char *label, uint32_t *id);
int xr_dst_add(struct xr_run *run, const char *name, const uint8_t addr[16], bool agg);
int xr_dst_intern(struct xr_run *run, const uint8_t addr[16], uint32_t *id);
struct xr_row *xr_row_get(struct xr_run *run, uint32_t group, uint32_t dst);
const struct xr_row *xr_row_find(const struct xr_run *run, uint32_t group, uint32_t dst);
bool xr_parse_addr(const char *s, uint8_t a[16]);
void xr_key(struct xf_key *k, uint32_t dev, const uint8_t a[16]);

/* ---- run.c: driving the engine ------------------------------------------------------------- */

double xr_s(uint64_t ns);
double xr_phase_s(const struct xr_run *run);
int xr_run_init(struct xr_run *run, const struct xr_config *cfg);
void xr_run_free(struct xr_run *run);
int xr_packet(struct xr_run *run, const struct xr_event *ev);
void xr_finish(struct xr_run *run);

/* ---- trace.c: CSV traces ------------------------------------------------------------------- */

const char *xr_trace_name(const char *path);
int xr_trace_run(struct xr_run *run, const char *path);

/* ---- report.c and summary.c: the report ---------------------------------------------------- */

double xr_pct(uint64_t part, uint64_t whole);
void xr_print_volume(FILE *out, const struct xr_run *run);
double xr_dst_rate(const struct xr_run *run, const struct xr_dst *d);
double xr_dst_close_rate(const struct xr_run *run, const struct xr_dst *d);
int xr_report(const struct xr_run *run);
int xr_print_summary(const struct xr_run *run);

#endif /* XPRO_REPLAY_H */
