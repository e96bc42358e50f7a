/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-modem: the Linux port of modem-fw.  A TUN interface takes the
 * device's outbound packets, the library seals them and sends them over one
 * UDP socket to the chosen proxy; the proxies' answers on that socket go to
 * mfw_input().  Inbound traffic from servers never passes through here.
 */
#ifndef XPRO_MODEM_H
#define XPRO_MODEM_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#include "mfw.h"

#define XM_MAX_PROXIES 16
#define XM_MAX_ROUTES 16
#define XM_SWITCH_LOG 32

/* A prefix routed into the TUN: IPv4 (net4, plen 0..32) or IPv6 (net6, plen 0..128). */
struct xm_route {
	bool v6;
	uint32_t net4; /* network byte order */
	uint8_t net6[16];
	uint8_t plen;
};

struct xm_switch {
	uint64_t at_ms; /* CLOCK_REALTIME, ms */
	int from, to;
};

struct xm_config {
	uint32_t dev;
	int nproxies;
	struct mfw_addr proxy[XM_MAX_PROXIES];
	uint8_t secret[XM_MAX_PROXIES][XPRO_TUN_SECRET_LEN];
	char tun[IF_NAMESIZE];
	uint32_t src; /* address given to the TUN (outbound source), network order; 0: none */
	bool have_src6;
	uint8_t src6[16]; /* the TUN's IPv6 source (/128), if have_src6 */
	char uplink[IF_NAMESIZE]; /* --uplink, or found from the route to the first proxy */
	uint32_t mtu; /* --mtu: the uplink's MTU; 0: the uplink interface's own */
	uint32_t tun_mtu; /* set at start: mtu less the outer headers (xm_uplink_setup) */
	int nroutes;
	struct xm_route route[XM_MAX_ROUTES];
	char epoch_file[256];
	char status_file[256];
	struct mfw_config mfw;
	int verbose;
};

/* The daemon's state beside the library's. */
struct xm_state {
	struct xm_config cfg;
	struct mfw_ctx ctx;
	struct mfw_proxy px[XM_MAX_PROXIES];
	struct mfw_platform plat;
	int tun_fd, udp_fd, epoch_fd;
	uint64_t tun_rx, no_proxy, too_big, send_fail;
	uint64_t link_local; /* IPv6 link-local or multicast from the TUN: not tunnelled */
	struct xm_switch sw[XM_SWITCH_LOG];
	unsigned nsw; /* switches logged, also past XM_SWITCH_LOG */
};

int xm_parse_args(int argc, char **argv, struct xm_config *cfg);
int xm_tun_open(const struct xm_config *cfg, char *err, size_t errlen);
/*
 * Keep the tunnel on the uplink whatever --route sends into the TUN: find the
 * uplink (the interface of the route to the first proxy, unless --uplink) and its
 * MTU, bind the UDP socket to it (SO_BINDTODEVICE: the kernel then looks routes up
 * only through it), and set cfg->tun_mtu.  Before the TUN's routes exist.  0 or -1.
 */
int xm_uplink_setup(struct xm_config *cfg, int udp_fd, char *err, size_t errlen);
void xm_platform(struct xm_state *s);
int xm_status_write(const struct xm_state *s);
void xm_addr_str(const struct mfw_addr *a, char *out, size_t len);
void xm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
