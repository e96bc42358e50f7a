/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The uplink: the interface the tunnel leaves by.  With --route 0.0.0.0/0 the TUN
 * becomes the default route, and a proxy behind a gateway would be routed into the
 * TUN itself (a loop).  The modem's one UDP socket is bound to the uplink
 * (SO_BINDTODEVICE), so its route lookups only consider routes out of that
 * interface: the kernel's own default via the uplink's gateway, kept current by
 * whatever manages the uplink (DHCP, the cellular daemon), whatever the TUN's
 * routes say.  A socket mark with a policy rule would do the same but needs rules
 * the modem would have to own and clean up; binding needs nothing outside the
 * process.
 *
 * The uplink's MTU less the outer headers (IPv4 or IPv6, UDP, the tunnel's 28
 * bytes) is the TUN's MTU, so that no tunnel datagram is fragmented: the kernel
 * then answers an inner packet that does not fit with "fragmentation needed" /
 * "packet too big" (or EMSGSIZE to a local sender), and TCP adapts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "xpro/addr.h"
#include "xpro/tunnel.h"
#include "modem.h"

#define OUTER_UDP 8
#define OUTER_IP4 20
#define OUTER_IP6 40
#define MIN_TUN_MTU 576 /* below this IPv4 hosts may not go; IPv6 wants 1280 */

/* The output interface of the kernel's route to a (IPv4-mapped or IPv6): its index, or -errno. */
static int route_oif(const uint8_t a[16])
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req = { 0 };
	char buf[4096];
	struct rtattr *ra;
	bool v4 = xpro_addr_is_v4(a);
	int fd, len, oif = -ENETUNREACH;

	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = v4 ? AF_INET : AF_INET6;
	req.rt.rtm_dst_len = v4 ? 32 : 128;
	ra = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
	ra->rta_type = RTA_DST;
	ra->rta_len = RTA_LENGTH(v4 ? 4 : 16);
	memcpy(RTA_DATA(ra), v4 ? a + 12 : a, v4 ? 4 : 16);
	req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(ra->rta_len);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		oif = -errno;
		goto out;
	}
	len = (int)recv(fd, buf, sizeof(buf), 0);
	if (len < 0) {
		oif = -errno;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)len);
	     nh = NLMSG_NEXT(nh, len)) {
		struct rtmsg *rt = NLMSG_DATA(nh);
		int alen;

		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			oif = e->error ? e->error : -ENETUNREACH;
			break;
		}
		if (nh->nlmsg_type != RTM_NEWROUTE)
			continue;
		alen = (int)RTM_PAYLOAD(nh);
		for (ra = RTM_RTA(rt); RTA_OK(ra, alen); ra = RTA_NEXT(ra, alen))
			if (ra->rta_type == RTA_OIF)
				memcpy(&oif, RTA_DATA(ra), sizeof(oif));
	}
out:
	close(fd);
	return oif;
}

int xm_uplink_setup(struct xm_config *cfg, int udp_fd, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	bool any6 = false;
	int sk, outer;
	uint32_t mtu;

	for (int i = 0; i < cfg->nproxies; i++)
		any6 |= !xpro_addr_is_v4(cfg->proxy[i].ip);
	if (!cfg->uplink[0]) {
		int oif = route_oif(cfg->proxy[0].ip);

		if (oif < 0 || !if_indextoname((unsigned)oif, cfg->uplink)) {
			snprintf(err, errlen, "no route to the first proxy: %s (give --uplink)",
				 strerror(oif < 0 ? -oif : errno));
			return -1;
		}
	}
	if (!strcmp(cfg->uplink, cfg->tun)) {
		snprintf(err, errlen, "the uplink cannot be the TUN %s itself (give --uplink)",
			 cfg->tun);
		return -1;
	}
	if (setsockopt(udp_fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->uplink,
		       (socklen_t)strlen(cfg->uplink) + 1)) {
		snprintf(err, errlen, "binding the tunnel socket to %s: %s", cfg->uplink,
			 strerror(errno));
		return -1;
	}
	mtu = cfg->mtu;
	if (!mtu) {
		sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", cfg->uplink);
		if (sk < 0 || ioctl(sk, SIOCGIFMTU, &ifr)) {
			snprintf(err, errlen, "MTU of %s: %s (give --mtu)", cfg->uplink,
				 strerror(errno));
			if (sk >= 0)
				close(sk);
			return -1;
		}
		close(sk);
		mtu = (uint32_t)ifr.ifr_mtu;
	}
	/* The largest outer header among the proxies: one TUN MTU fits every proxy. */
	outer = (any6 ? OUTER_IP6 : OUTER_IP4) + OUTER_UDP + XPRO_TUN_OVERHEAD;
	if (mtu < (uint32_t)outer + MIN_TUN_MTU) {
		snprintf(err, errlen, "uplink MTU %u leaves less than %d bytes for inner packets",
			 mtu, MIN_TUN_MTU);
		return -1;
	}
	cfg->tun_mtu = mtu - (uint32_t)outer;
	xm_log("uplink %s (MTU %u%s): the tunnel stays on it whatever the routes say; TUN MTU %u",
	       cfg->uplink, mtu, cfg->mtu ? ", --mtu" : "", cfg->tun_mtu);
	return 0;
}
