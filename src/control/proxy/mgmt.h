/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The proxy's side of the proxy management protocol (docs/protocol.md): on
 * the control thread, answer each authenticated PROBE the workers queue with
 * a PROBE_REPLY, and send OVERLOAD when Algorithm 2 drops a device's pair
 * with a warning.  Both sealed under the device's PK for its epoch.
 */
#ifndef XPRO_PROXY_MGMT_H
#define XPRO_PROXY_MGMT_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/dataplane.h"

struct px_state;
struct px_mgmt;

struct px_mgmt_stats {
	uint64_t probes; /* authenticated PROBEs taken from the queue */
	uint64_t replies; /* PROBE_REPLY sent */
	uint64_t overloads; /* OVERLOAD sent */
	uint64_t rate_limited; /* PROBEs over the per-device rate: no reply */
	uint64_t no_device; /* device gone (reprovisioned) before the reply */
	uint64_t send_errors;
	uint64_t queue_full; /* dropped by the workers' queue */
};

/*
 * The sending socket, a kernel UDP socket bound to the tunnel port (XDP takes
 * every inbound tunnel datagram, so it only transmits), and the queue the
 * workers fill (px_mgmt_ring()).  Returns NULL with err filled.
 */
struct px_mgmt *px_mgmt_new(uint16_t port, char *err, size_t errlen);
void px_mgmt_free(struct px_mgmt *m);
struct dp_ctl_ring *px_mgmt_ring(struct px_mgmt *m);

/* Answer what the workers queued.  Control thread, once per tick. */
void px_mgmt_run(struct px_mgmt *m, struct px_state *s);

/*
 * This proxy's tunnel address as the sync layer publishes it for peers'
 * replies: ifname's first IPv4 address (else a global IPv6 one) and port,
 * "a.b.c.d:port" or "[v6]:port".  Returns 0 or -errno.
 */
int px_mgmt_own_addr(const char *ifname, uint16_t port, char *out, size_t len);

void px_mgmt_stats(const struct px_mgmt *m, struct px_mgmt_stats *out);

#endif
