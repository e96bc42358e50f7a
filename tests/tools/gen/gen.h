/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-gen: the testbed's traffic generator.  It simulates many provisioned
 * devices sending authenticated tunnel packets to a proxy: paced flows, floods
 * (BPF_PROG_RUN live frames or AF_XDP) and malformed or forged variants.
 */
#ifndef XPRO_GEN_H
#define XPRO_GEN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/tunnel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define GEN_MAX_DSTS 64
#define GEN_MAX_SOCKETS 64
#define GEN_MAX_FRAME 2048 /* one frame on an MTU-1500 testbed, with room */
#define GEN_ETH_HLEN 14
#define GEN_OUTER_HLEN (GEN_ETH_HLEN + 20 + 8) /* Ethernet, IPv4, UDP */
#define GEN_SPORT_BASE 20000 /* outer source ports: base + socket/flow index */
#define GEN_INNER_SPORT_BASE 10000 /* inner source ports: base + flow id % 50000 */
#define GEN_STALE_EPOCH 1 /* bad mode's wrong epoch: runs use epochs >= 2 */

extern volatile sig_atomic_t gen_stop;

/* Command line, parsed and validated; the option table is in main.c. */
struct gen_cfg {
	const char *mode; /* paced, flood, bad, provision, xdp */
	const char *provision; /* the provisioning file the proxy reads */
	const char *proxy; /* ADDR[:PORT] of the proxy's tunnel socket */
	const char *dsts; /* inner destinations ADDR:PORT[,ADDR:PORT...] */
	const char *ifname; /* flood, xdp: the interface */
	const char *dst_mac; /* flood: the proxy's MAC (default: neighbour table) */
	const char *src_mac; /* flood seal: source MAC (default: the interface's) */
	const char *bpf_obj; /* flood seal: the program (default: next to the binary) */
	const char *flood_mode; /* live, afxdp or seal */
	const char *kind; /* bad: which malformation, or all */
	const char *action; /* xdp: pass, drop or redirect */
	const char *redirect_to; /* xdp redirect: target interface */
	const char *out; /* provision: file to write */
	uint32_t flows;
	uint32_t flow_base; /* first flow id (runs sharing a sink keep theirs apart) */
	uint64_t rate; /* packets/s per flow (paced, bad: in total) */
	uint32_t size; /* inner UDP payload bytes (>= FP_MIN_LEN) */
	uint64_t duration_ms;
	uint64_t start_at_ms; /* paced: start at this CLOCK_REALTIME instant (ms); 0: now */
	uint64_t count; /* total packets; 0: no limit */
	uint64_t epoch; /* key epoch; default: seconds since 2020, so runs advance */
	uint64_t seq_start;
	uint32_t dev_first; /* use devices with index >= dev_first ... */
	uint32_t dev_count; /* ... at most this many (0: all) */
	uint32_t sockets; /* paced, bad: outer UDP sockets (source ports) */
	uint32_t batch; /* live: distinct frames rotated; afxdp: frames per TX burst */
	uint32_t repeat; /* live: repetitions of one frame per BPF_PROG_RUN call */
	uint32_t vary_dev; /* live: XDP program writes a random device index (0: off) */
	uint32_t queue; /* afxdp: TX queue */
	uint32_t devices; /* provision: devices to write */
	uint64_t seed; /* provision: secrets; 0: random */
	bool json;
	bool inactive_last; /* provision: the last device is written inactive */
	bool v6; /* provision: IPv6 inner prefixes */
	bool keep; /* xdp: attach and leave the program attached */
};

/* A simulated device, as provisioned, with its keys for the run's epoch. */
struct gen_dev {
	uint32_t idx;
	bool active;
	uint8_t ver; /* inner IP version its prefix allows */
	uint8_t addr[16]; /* inner source: IPv4-mapped or IPv6 */
	uint8_t ik[XPRO_IK_LEN]; /* epoch */
	uint8_t ik_stale[XPRO_IK_LEN]; /* GEN_STALE_EPOCH: the "wrong epoch" of bad mode */
	uint64_t seq; /* next tunnel sequence number */
};

struct gen_dst {
	uint8_t addr[16]; /* IPv4-mapped or IPv6 */
	uint8_t ver;
	uint16_t port;
};

/* One flow: a device sending to a destination; seq is the payload's, per flow. */
struct gen_flow {
	uint32_t id;
	struct gen_dev *dev;
	const struct gen_dst *dst;
	uint64_t seq;
	uint64_t sent;
};

/* Everything a run sends from: devices, destinations, flows, the proxy. */
struct gen_world {
	const struct gen_cfg *cfg;
	struct gen_dev *devs; /* the selected active devices (and inactive ones apart) */
	size_t ndevs;
	struct gen_dev *inactive; /* for bad mode; NULL if none provisioned */
	struct gen_dst dsts[GEN_MAX_DSTS];
	size_t ndsts;
	struct gen_flow *flows;
	size_t nflows;
	uint8_t proxy[16]; /* IPv4-mapped or IPv6 */
	uint8_t proxy_ver;
	uint16_t proxy_port;
	uint32_t epoch;
};

/* What a run sent; printed by report.c. */
#define GEN_MAX_KINDS 16
struct gen_result {
	const char *mode;
	uint64_t sent, bytes, errors;
	uint64_t start_ns, end_ns;
	uint64_t late_max_ns; /* paced: worst lag behind the schedule */
	uint64_t valid; /* bad: valid packets sent as a replay's original */
	uint64_t kind_sent[GEN_MAX_KINDS];
	const char *kind_name[GEN_MAX_KINDS];
	unsigned nkinds;
	int64_t if_tx_delta; /* flood: the interface's tx_packets difference (-1: unknown) */
	size_t nflows, ndevs;
	uint32_t epoch;
	uint64_t flow_sent_min, flow_sent_max;
};

uint64_t gen_now_ns(void);

/* world.c: load devices, parse destinations, build flows.  0 or -errno (printed). */
int gen_world_init(struct gen_world *w, const struct gen_cfg *cfg);
void gen_world_free(struct gen_world *w);
/* Parse "ADDR[:PORT]" or "[V6]:PORT" into an IPv4-mapped or IPv6 address. */
int gen_parse_hostport(const char *s, uint8_t addr[16], uint8_t *ver, uint16_t *port);

/* provision_out.c: write a provisioning file of cfg->devices devices. */
int gen_provision_write(const struct gen_cfg *cfg);

/* Inner packet variants (inner.c). */
enum gen_inner_kind {
	GEN_INNER_OK = 0,
	GEN_INNER_SPOOF, /* source outside the device's prefix */
	GEN_INNER_OPTIONS, /* IPv4 header with 4 bytes of options */
	GEN_INNER_FRAGMENT, /* IPv4 MF set / IPv6 fragment header */
	GEN_INNER_BADLEN, /* IP length field one more than the packet */
};

/*
 * Write flow f's packet number seq (payload: flowpay.h, size bytes, tx_ns)
 * at buf.  Returns its length or -ENOSPC.
 */
int gen_inner_build(uint8_t *buf, size_t buflen, const struct gen_flow *f, uint64_t seq,
		    uint32_t size, uint64_t tx_ns, enum gen_inner_kind kind);

/*
 * Seal flow f's next packet (both sequence numbers advance) into buf: the
 * tunnel message, the UDP payload towards the proxy.  Returns its length or
 * -errno.
 */
int gen_seal_next(uint8_t *buf, size_t buflen, struct gen_flow *f, const struct gen_world *w,
		  uint64_t tx_ns);

/*
 * Checksums written in place, byte by byte (any alignment): of the IPv4 header
 * at ip, and of the ulen-byte UDP datagram at udp under that header.
 */
void gen_ipv4_csum(uint8_t *ip);
void gen_udp4_csum(const uint8_t *ip, uint8_t *udp, size_t ulen);

/* Recompute the tag of a sealed message after its header was changed. */
void gen_retag(uint8_t *msg, size_t len, const uint8_t ik[XPRO_IK_LEN]);

/* frame.c: Ethernet/IPv4/UDP framing for the raw flood modes. */
struct gen_link {
	int ifindex;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip; /* network order */
	uint16_t dst_port;
};
int gen_link_init(struct gen_link *l, const struct gen_world *w, const char *ifname,
		  const char *dst_mac);
/* Wrap msg (msg_len bytes, already at frame + GEN_OUTER_HLEN) in outer headers. */
void gen_frame_wrap(const struct gen_link *l, uint8_t *frame, size_t msg_len, uint16_t sport);
int64_t gen_if_tx_packets(const char *ifname);

/* The modes. */
int gen_paced(struct gen_world *w, struct gen_result *r);
int gen_bad(struct gen_world *w, struct gen_result *r);
int gen_flood_live(struct gen_world *w, struct gen_result *r);
int gen_flood_afxdp(struct gen_world *w, struct gen_result *r);
int gen_flood_seal(struct gen_world *w, struct gen_result *r);
/* xdp mode: attach a small XDP program (pass, drop or redirect) and count. */
int gen_xdp(const struct gen_cfg *cfg, struct gen_result *r);

/* Time left to run: false once the duration, count or a signal says stop. */
bool gen_keep_going(const struct gen_cfg *cfg, const struct gen_result *r, uint64_t now);

/* bad.c: the kinds, one per line, for --help. */
void gen_bad_list(FILE *out);

void gen_report(const struct gen_cfg *cfg, const struct gen_result *r, FILE *out);

/* "aa:bb:cc:dd:ee:ff" into mac.  Returns 0 or -EINVAL. */
int gen_parse_mac(const char *s, uint8_t mac[6]);

#endif /* XPRO_GEN_H */
