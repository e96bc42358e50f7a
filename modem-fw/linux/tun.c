/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TUN interface: created in the caller's namespace, given the device's
 * source addresses (IPv4, IPv6), the MTU that leaves room for the tunnel's
 * outer headers on the uplink (uplink.c), and the routes (IPv4, IPv6) that
 * send the device's outbound traffic into it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "modem.h"

static int route_add6(const char *ifname, const struct xm_route *r)
{
	struct in6_rtmsg rt = { 0 };
	int sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (sk < 0)
		return -errno;
	memcpy(&rt.rtmsg_dst, r->net6, 16);
	rt.rtmsg_dst_len = r->plen;
	rt.rtmsg_metric = 1;
	rt.rtmsg_flags = RTF_UP | (r->plen == 128 ? RTF_HOST : 0);
	rt.rtmsg_ifindex = (int)if_nametoindex(ifname);
	rc = ioctl(sk, SIOCADDRT, &rt) ? -errno : 0;
	close(sk);
	return rc;
}

/* The kernel's struct in6_ifreq (linux/ipv6.h, which clashes with glibc's netinet/in.h). */
struct xm_in6_ifreq {
	struct in6_addr ifr6_addr;
	uint32_t ifr6_prefixlen;
	int ifr6_ifindex;
};

/* The TUN's IPv6 source, /128 (the routes say what goes in). */
static int addr_add6(const char *ifname, const uint8_t a[16])
{
	struct xm_in6_ifreq r = { 0 };
	int sk = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (sk < 0)
		return -errno;
	memcpy(&r.ifr6_addr, a, 16);
	r.ifr6_prefixlen = 128;
	r.ifr6_ifindex = (int)if_nametoindex(ifname);
	rc = ioctl(sk, SIOCSIFADDR, &r) ? -errno : 0;
	close(sk);
	return rc;
}

static int route_add(int sk, const char *ifname, const struct xm_route *r)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;

	dst->sin_family = AF_INET;
	if (r->v6)
		return route_add6(ifname, r);
	dst->sin_addr.s_addr = r->net4;
	mask->sin_family = AF_INET;
	mask->sin_addr.s_addr = r->plen ? htonl(~0u << (32 - r->plen)) : 0;
	rt.rt_flags = RTF_UP | (r->plen == 32 ? RTF_HOST : 0);
	rt.rt_dev = (char *)ifname;
	return ioctl(sk, SIOCADDRT, &rt) ? -errno : 0;
}

int xm_tun_open(const struct xm_config *cfg, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int fd, sk = -1, rc;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "/dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->tun);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(err, errlen, "TUNSETIFF %s: %s", cfg->tun, strerror(errno));
		goto fail;
	}
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	ifr.ifr_mtu = (int)cfg->tun_mtu;
	if (ioctl(sk, SIOCSIFMTU, &ifr)) {
		snprintf(err, errlen, "MTU of %s: %s", cfg->tun, strerror(errno));
		goto fail;
	}
	if (cfg->src) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

		memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = cfg->src;
		if (ioctl(sk, SIOCSIFADDR, &ifr)) {
			snprintf(err, errlen, "address of %s: %s", cfg->tun, strerror(errno));
			goto fail;
		}
		a->sin_addr.s_addr = 0xffffffffu;
		if (ioctl(sk, SIOCSIFNETMASK, &ifr)) {
			snprintf(err, errlen, "netmask of %s: %s", cfg->tun, strerror(errno));
			goto fail;
		}
	}
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(sk, SIOCSIFFLAGS, &ifr)) {
			snprintf(err, errlen, "bringing %s up: %s", cfg->tun, strerror(errno));
			goto fail;
		}
	}
	if (cfg->have_src6) {
		rc = addr_add6(cfg->tun, cfg->src6);
		if (rc) {
			snprintf(err, errlen, "IPv6 address of %s: %s%s", cfg->tun, strerror(-rc),
				 cfg->tun_mtu < 1280 ? " (IPv6 needs a TUN MTU of 1280: raise the "
						       "uplink's MTU)"
						     : "");
			goto fail;
		}
	}
	for (int i = 0; i < cfg->nroutes; i++) {
		rc = route_add(sk, cfg->tun, &cfg->route[i]);
		if (rc) {
			char net[INET6_ADDRSTRLEN];

			if (cfg->route[i].v6)
				inet_ntop(AF_INET6, cfg->route[i].net6, net, sizeof(net));
			else
				inet_ntop(AF_INET, &cfg->route[i].net4, net, sizeof(net));
			snprintf(err, errlen, "route %s/%u via %s: %s", net, cfg->route[i].plen,
				 cfg->tun, strerror(-rc));
			goto fail;
		}
	}
	close(sk);
	return fd;
fail:
	if (sk >= 0)
		close(sk);
	close(fd);
	return -1;
}
