/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-proxy: configuration and the pieces of the control side (options,
 * XDP program, neighbour learning, status file), shared by src/control/proxy/.
 */
#ifndef XPRO_PROXY_H
#define XPRO_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "xpro/filter.h"
#include "xpro/tunnel.h"
#include "xpro/xdp.h"
#include "dataplane/dataplane.h"
#include "control/log.h"

#define PX_MAX_QUEUES 64

enum px_xdp_mode {
	PX_XDP_NATIVE = 0,
	PX_XDP_GENERIC,
};

/* Algorithm 1 through Redis (src/sync/); off when master and cluster are empty. */
struct px_sync_config {
	char master[128]; /* "host:port", "[v6]:port" or "unix:/path" */
	char replica[128]; /* optional local replica to read from */
	char cluster[512]; /* or a Redis Cluster: "host:port[,host:port...]" */
	char password[128]; /* AUTH password, or empty */
	char proxy_id[33]; /* unique per proxy; default: hostname-ifname */
	uint32_t period_ms; /* t: one round every period */
	uint32_t cmd_ms; /* bounded waits on the master and the replica, connect or reply */
};

/* px_log() levels; --log-level names them. */
enum px_log_level {
	PX_LOG_ERROR = -1,
	PX_LOG_WARN = 0,
	PX_LOG_INFO = 1,
	PX_LOG_DEBUG = 2,
};

/*
 * Everything the command line and the configuration file set (one table of
 * keys: opts.c, docs/config.md); validated before anything is applied.
 */
struct px_config {
	char ifname[IF_NAMESIZE];
	int queues[PX_MAX_QUEUES];
	int nqueues; /* 0: every RX queue of the interface */
	int cpus[PX_MAX_QUEUES];
	int ncpus; /* 0: workers not pinned */
	enum px_xdp_mode xdp_mode;
	struct dp_xsk_config xsk;
	uint32_t batch;
	uint16_t port;
	char provision[256];
	uint64_t hold_ms;
	struct xf_params params;
	struct xf_limits limits;
	char stats_file[256];
	uint32_t tick_ms; /* control thread period */
	enum dp_stage stage; /* DP_STAGE_FULL; others for benchmarks */
	char pin_root[128];
	int log_level; /* PX_LOG_*: --log-level */
	int verbose; /* -v count, added to log_level */
	struct px_sync_config sync;
	char config_file[256]; /* --config, or empty */
	char ctl_socket[108]; /* xproctl's unix socket; "" default, "off" none (ctl.c) */
	char metrics[64]; /* Prometheus endpoint ADDR:PORT, "" off (metrics.c) */
	/* The command line, kept so that a SIGHUP applies it again over the file. */
	int argc;
	char **argv;
};

/*
 * Parse argv (and the file named by --config) into cfg.  Returns 0, 1 if
 * --help was printed, or -EINVAL (message printed).  More in config.h.
 */
int px_parse_args(int argc, char **argv, struct px_config *cfg);

/* The XDP program on the interface, and its maps. */
struct px_xdp {
	struct xpro_bpf *skel;
	struct xdp_program *prog;
	int ifindex;
	enum px_xdp_mode mode;
	int xsks_fd, devices_fd, drop_fd, stats_fd;
	int owner_fd; /* the interface's owner lock (xdp.c), -1 when not held */
	char pin_dir[256];
};

int px_xdp_attach(struct px_xdp *x, const struct px_config *cfg, char *msg, size_t msglen);
void px_xdp_detach(struct px_xdp *x);
/* Make the kernel's device map match the provisioned devices. */
int px_xdp_sync_devices(const struct px_xdp *x, const struct tun_dev_conf *conf, size_t n);
/* Sum the per-CPU counters. */
int px_xdp_counters(const struct px_xdp *x, uint64_t *packets, uint64_t *bytes);
/*
 * Move flagged pairs' last-seen time to their last XDP drop, then delete the
 * entries whose hold ended.  Returns how many were deleted; *left is how
 * many stay.
 */
int px_xdp_sweep_flags(const struct px_xdp *x, struct xf_engine *e, uint64_t now_ns,
		       uint64_t *left);

/* Learn neighbours, on-link prefixes and gateways of ifindex; publish to nh. */
int px_neigh_refresh(struct dp_nh *nh, int ifindex);

/* stats.c: every figure of the running proxy (the table: counters.h). */
struct px_state;
struct px_ctl_snap;
struct px_counters;
/* What only the control thread may read, for px_counters_fill().  Control thread. */
void px_snap_take(const struct px_state *s, struct px_ctl_snap *snap);
/*
 * Every figure now into c, with snap (the control thread's own, or the one
 * it published).  Any registered RCU reader thread.
 */
void px_counters_fill(const struct px_state *s, const struct px_ctl_snap *snap,
		      struct px_counters *c);
/* Write the status file (JSON, docs/metrics.md) atomically (tmp + rename).  Control thread. */
int px_stats_write(struct px_state *s);

/* Log through one sink (log.c); never from the per-packet path. */
void px_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int px_log_level;
/* Set the level and route libbpf's and libxdp's messages through the sink. */
void px_log_init(int level);
#define pr_err(...) px_log(PX_LOG_ERROR, __VA_ARGS__) /* the proxy cannot go on */
#define pr_warn(...) px_log(0, __VA_ARGS__)
#define pr_info(...) px_log(1, __VA_ARGS__)
#define pr_debug(...) px_log(2, __VA_ARGS__)
/*
 * pr_info for a line an attack can repeat (a warning per flagged pair): per
 * call site, XLOG_LIMIT_BURST lines per XLOG_LIMIT_WINDOW_MS, then one line
 * saying how many were suppressed.  now_ns: any monotonic clock.
 */
#define px_log_rl(level, now_ns, ...)                                                       \
	do {                                                                                \
		static struct xlog_limit rl_;                                               \
		unsigned long sup_;                                                         \
		if (px_log_level >= (level) && xlog_limit_pass(&rl_, (now_ns), &sup_)) {    \
			if (sup_)                                                           \
				px_log((level), "(%lu similar messages suppressed)", sup_); \
			px_log((level), __VA_ARGS__);                                       \
		}                                                                           \
	} while (0)
#define pr_info_rl(now_ns, ...) px_log_rl(1, (now_ns), __VA_ARGS__)
/* Debug lines an attack or every period can repeat (a round, a probe): the same limit. */
#define pr_debug_rl(now_ns, ...) px_log_rl(2, (now_ns), __VA_ARGS__)

#endif
