/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A proxy worker: one thread per AF_XDP socket (NIC queue) that receives a
 * burst, authenticates each tunnel message, runs the filter engine over the
 * burst, then forwards (decapsulate, next hop, transmit), drops, or drops and
 * flags the pair in the kernel's drop-map.  The worker owns its socket, frame
 * pool and counters; everything it shares is read under RCU or atomically.
 */
#ifndef XPRO_DP_WORKER_H
#define XPRO_DP_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "xpro/filter.h"
#include "dataplane/nexthop.h"
#include "dataplane/tunnel.h"
#include "dataplane/xsk.h"

/*
 * How far a worker takes each packet: the ablation ladder that shows where
 * the time goes (`make bench`).  Every stage but FULL and REFLECT recycles
 * the frame where it stops.  REFLECT is bare AF_XDP receive-and-transmit.
 */
enum dp_stage {
	DP_STAGE_RX = 0, /* receive and recycle */
	DP_STAGE_PARSE, /* + outer headers */
	DP_STAGE_AUTH, /* + tun_auth */
	DP_STAGE_FILTER, /* + the filter engine */
	DP_STAGE_DECAP, /* + next hop and decapsulation, no transmit */
	DP_STAGE_FULL, /* + transmit: the proxy */
	DP_STAGE_REFLECT, /* receive and send back out unchanged */
};

/*
 * Work a worker hands to the control thread (the proxy management protocol,
 * docs/protocol.md): an authenticated PROBE to answer, or a pair Algorithm 2
 * dropped with a warning.  Only authenticated messages ever get here.
 */
enum dp_ctl_kind {
	DP_CTL_PROBE = 1,
	DP_CTL_WARN, /* DROP_PAIR with XF_WARN: send OVERLOAD PAIR_DROPPED */
};

struct dp_ctl_msg {
	uint8_t kind; /* enum dp_ctl_kind */
	uint8_t caps, role; /* PROBE: from its payload */
	uint16_t sport; /* outer source port */
	uint32_t dev, epoch;
	uint64_t seq; /* PROBE: its sequence number, echoed */
	uint8_t src[16]; /* outer source address, IPv4-mapped */
	uint8_t dst[16]; /* WARN: the pair's inner destination */
};

/*
 * A bounded queue from the workers to the control thread.  A mutex, not a
 * lock-free ring: only authenticated control messages and rate-limited
 * warnings come here (a few per device per second), never DATA.  When full,
 * messages are dropped and counted: the device probes again.
 */
#define DP_CTL_RING 1024
struct dp_ctl_ring {
	pthread_mutex_t mu;
	unsigned head, tail; /* free-running; tail - head entries queued */
	uint64_t dropped;
	struct dp_ctl_msg m[DP_CTL_RING];
};

void dp_ctl_ring_init(struct dp_ctl_ring *r);
void dp_ctl_ring_fini(struct dp_ctl_ring *r);
/* Queue one message; returns false (counted) when full.  Any thread. */
bool dp_ctl_push(struct dp_ctl_ring *r, const struct dp_ctl_msg *m);
/* Take up to max messages, oldest first; returns how many.  Control thread. */
unsigned dp_ctl_pop(struct dp_ctl_ring *r, struct dp_ctl_msg *out, unsigned max);

/*
 * A trace of the authenticated DATA a worker filters (`xproctl trace`, for sizing
 * thresholds with xpro-replay): while on, the worker appends one record per packet
 * of each burst, stamped with the burst's time; one reader (the proxy's trace
 * thread) drains it.  Single producer, single consumer: head written by the worker,
 * tail by the reader, both with release stores.  Full: counted in lost.  The ring
 * is allocated on the first trace and kept (8 MB per worker only if ever traced).
 */
#define DP_TRACE_RING (1u << 18)
struct dp_trace_rec {
	uint64_t t_ns;
	uint32_t dev;
	uint8_t verdict; /* xf_verdict_of() of the filter's verdict */
	uint8_t pad[3];
	uint8_t dst[16];
};
struct dp_trace_ring {
	uint32_t on; /* the worker appends while set (atomic) */
	uint32_t head __attribute__((aligned(64))); /* worker */
	uint64_t lost; /* worker: records that found the ring full */
	uint32_t tail __attribute__((aligned(64))); /* reader */
	struct dp_trace_rec rec[DP_TRACE_RING];
};

/* Shared by all workers; set up by the control thread before they start. */
struct dp_env {
	struct dp_ctl_ring *ctl; /* NULL: control messages are counted and dropped */
	struct xf_engine *engine;
	struct tun_devtab *devtab;
	struct dp_nh *nh;
	int drop_map_fd; /* XDP drop-map */
	uint8_t smac[6]; /* our interface's MAC */
	uint16_t tun_port;
	uint32_t batch; /* packets per burst, <= DP_BATCH_MAX */
	uint64_t hold_ns; /* how long a flagged pair stays in the drop-map */
	enum dp_stage stage; /* DP_STAGE_FULL unless benchmarking */
	bool quit; /* set by the control thread; workers poll it */
};

#define DP_BATCH_MAX 256
#define DP_FLAG_CACHE 256 /* recently flagged pairs, to skip repeat syscalls */

/* Per-worker counters: written by the worker (relaxed), read by anyone. */
struct dp_worker_stats {
	uint64_t rx, rx_bytes;
	uint64_t not_tunnel; /* steered to us but not a tunnel datagram */
	uint64_t rejected[TUN_REJ_N]; /* by tun_auth reason */
	uint64_t control; /* authenticated control messages (PROBE) */
	uint64_t ctl_queued; /* PROBEs and warnings handed to the control thread */
	uint64_t tx, tx_bytes; /* forwarded through AF_XDP */
	uint64_t tx_kernel; /* forwarded through the kernel: next hop unknown */
	uint64_t tx_fail; /* could not be sent (ring full, send error) */
	uint64_t flagged; /* pairs written to the drop-map */
	uint64_t flag_fail;
	uint64_t batches, busy_batches; /* bursts processed; bursts that were full */
};

struct dp_worker {
	struct dp_env *env;
	struct dp_xsk xsk;
	struct xf_worker *xf;
	int cpu; /* -1: not pinned */
	int raw4, raw6; /* kernel-path sockets for unknown next hops */
	pthread_t thread;
	struct dp_worker_stats st;
	struct dp_trace_ring *trace; /* NULL until a trace; set once, atomically */
	struct {
		struct xf_key key;
		uint64_t until;
	} flag_cache[DP_FLAG_CACHE];
};

/*
 * Prepare a worker whose socket is already open (w->xsk, w->env, w->cpu set).
 * Returns 0 or -errno.  Control thread.
 */
int dp_worker_init(struct dp_worker *w);
void dp_worker_fini(struct dp_worker *w);

/* Thread body: runs until env->quit.  Registers itself with liburcu. */
void *dp_worker_run(void *arg);

/* Copy of the counters, for the control thread. */
void dp_worker_stats(const struct dp_worker *w, struct dp_worker_stats *out);

#endif
