/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-sink: a UDP sink for the namespace testbed.  It counts what arrives per
 * source address and per flow (the flow payload of tests/tools/flowpay.h) and
 * says what was lost, reordered, duplicated or corrupted.  One thread owns all.
 */
#ifndef XPRO_SINK_H
#define XPRO_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SINK_NO_FLOW UINT32_MAX /* flow id of a source's "not a flow payload" entry */
#define SINK_DUP_WINDOW 1024 /* sequence numbers below the highest tracked for duplicates */
#define SINK_MAX_WINDOWS 86400 /* rate windows kept for the summary */

struct sink_cfg {
	const char *bind; /* local address; NULL: any (IPv6 dual-stack, else IPv4) */
	uint32_t port;
	uint64_t duration_ms; /* 0: until SIGINT/SIGTERM */
	uint64_t rate_window_ms; /* 0: no live rate lines */
	uint32_t rows; /* human table: at most this many flows */
	uint32_t max_flows; /* distinct (source, flow) entries kept */
	bool json;
	bool tunnel; /* datagrams are tunnel messages: decode the inner packet */
	bool no_flows; /* summary only: no per-flow rows */
	bool quiet_start; /* no "listening" line */
};

/* One (source address, flow id).  Sequence numbers are the generator's, per flow. */
struct sink_flow {
	uint8_t src[16]; /* IPv4-mapped for IPv4 */
	uint32_t flow; /* SINK_NO_FLOW: datagrams from src without a flow payload */
	bool used;
	uint64_t rx, bytes;
	uint64_t in_order; /* seq above every seq seen before */
	uint64_t out_of_order; /* below the highest, not seen before (or too old to tell) */
	uint64_t dups; /* seen before */
	uint64_t corrupt; /* bad pattern, bad checksum, undecodable */
	uint64_t first_seq, min_seq, max_seq;
	uint64_t first_ns, last_ns; /* receive times, CLOCK_MONOTONIC */
	uint64_t lat_n, lat_sum_ns, lat_min_ns, lat_max_ns; /* when the payload had tx_ns */
	uint64_t seen[SINK_DUP_WINDOW / 64]; /* bit i: max_seq - i received */
};

struct sink_totals {
	uint64_t rx, bytes, in_order, out_of_order, dups, corrupt, missing;
	uint64_t not_flow; /* datagrams without a flow payload */
	uint64_t table_full; /* datagrams of flows beyond max_flows (counted nowhere else) */
	uint64_t socket_drops; /* SO_RXQ_OVFL: dropped by the kernel, socket full */
};

struct sink {
	const struct sink_cfg *cfg;
	struct sink_flow *flows; /* open addressing, cap a power of two */
	size_t cap, used;
	struct sink_totals tot;
	uint64_t start_ns, end_ns;
	uint64_t *windows; /* datagrams per rate window, from start_ns */
	size_t nwindows;
	uint64_t first_ns; /* the first datagram's arrival; 0: none yet */
	uint64_t *fwindows; /* the same windows from first_ns: the traffic's own seconds */
	size_t nfwindows;
	uint64_t window_ms;
};

uint64_t sink_now_ns(void);

int sink_init(struct sink *s, const struct sink_cfg *cfg);
void sink_free(struct sink *s);

/*
 * Account one datagram received at now_ns: src (16 bytes, IPv4-mapped),
 * payload p of len bytes (a flow payload, or in tunnel mode already decoded;
 * decoded = false means the tunnel message could not be decoded).
 */
void sink_account(struct sink *s, const uint8_t src[16], const void *p, size_t len, bool decoded,
		  uint64_t now_ns);

/* Count one datagram in the rate window of now_ns. */
void sink_window_add(struct sink *s, uint64_t now_ns, unsigned n);

/* Missing sequence numbers of a flow: span between min and max minus unique received. */
uint64_t sink_flow_missing(const struct sink_flow *f);

/*
 * Tunnel mode: find the inner packet's source and UDP payload in a tunnel
 * message (docs/protocol.md), checking the inner IP and UDP checksums.
 * Returns 0, or -EBADMSG if it is not a well-formed DATA message.
 */
int sink_tunnel_decode(const uint8_t *msg, size_t len, uint8_t src[16], const uint8_t **pay,
		       size_t *plen);

/* Write the final summary. */
void sink_report_human(struct sink *s, FILE *out);
void sink_report_json(struct sink *s, FILE *out);

#endif /* XPRO_SINK_H */
