/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Learn where decapsulated packets go: the interface's on-link prefixes, its
 * neighbours' MAC addresses and the default gateways, read from the kernel
 * over rtnetlink each control tick, and published to the workers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "xpro/addr.h"
#include "control/proxy/proxy.h"

#define NL_BUF 65536
#define MAX_NEIGH 65536

struct learn {
	int ifindex;
	struct dp_nh_input in;
	struct dp_nh_entry *neigh;
	size_t nneigh;
	uint8_t gw4[16], gw6[16];
	bool has_gw4, has_gw6;
};

static void to16(uint8_t out[16], int family, const void *addr)
{
	if (family == AF_INET)
		xpro_addr_from_v4(out, addr);
	else
		memcpy(out, addr, 16);
}

static void on_neigh(struct learn *l, struct nlmsghdr *nh)
{
	struct ndmsg *nd = NLMSG_DATA(nh);
	struct rtattr *a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd));
	const void *dst = NULL, *ll = NULL;

	if (nd->ndm_ifindex != l->ifindex || l->nneigh == MAX_NEIGH ||
	    !(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)))
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST)
			dst = RTA_DATA(a);
		else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6)
			ll = RTA_DATA(a);
	}
	if (!dst || !ll)
		return;
	to16(l->neigh[l->nneigh].addr, nd->ndm_family, dst);
	memcpy(l->neigh[l->nneigh].mac, ll, 6);
	l->nneigh++;
}

static void on_addr(struct learn *l, struct nlmsghdr *nh)
{
	struct ifaddrmsg *ia = NLMSG_DATA(nh);
	struct rtattr *a = IFA_RTA(ia);
	int len = (int)IFA_PAYLOAD(nh);
	unsigned i = l->in.nonlink;

	if ((int)ia->ifa_index != l->ifindex || i == DP_NH_MAX_PREFIXES)
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFA_ADDRESS)
			continue;
		to16(l->in.onlink[i].addr, ia->ifa_family, RTA_DATA(a));
		l->in.onlink[i].plen = ia->ifa_prefixlen + (ia->ifa_family == AF_INET ? 96 : 0);
		l->in.nonlink++;
		return;
	}
}

static void on_route(struct learn *l, struct nlmsghdr *nh)
{
	struct rtmsg *rt = NLMSG_DATA(nh);
	struct rtattr *a = RTM_RTA(rt);
	int len = (int)RTM_PAYLOAD(nh), oif = 0;
	const void *gw = NULL;

	if (rt->rtm_dst_len || rt->rtm_table != RT_TABLE_MAIN)
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_GATEWAY)
			gw = RTA_DATA(a);
		else if (a->rta_type == RTA_OIF)
			oif = *(int *)RTA_DATA(a);
	}
	if (!gw || oif != l->ifindex)
		return;
	if (rt->rtm_family == AF_INET) {
		to16(l->gw4, AF_INET, gw);
		l->has_gw4 = true;
	} else {
		to16(l->gw6, AF_INET6, gw);
		l->has_gw6 = true;
	}
}

/* One RTM_GET* dump, each message handed to fn.  Returns 0 or -errno. */
static int dump(int fd, int type, void (*fn)(struct learn *, struct nlmsghdr *), struct learn *l,
		char *buf)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
	} req = {
		.nh = { .nlmsg_len = sizeof(req),
			.nlmsg_type = (uint16_t)type,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = (uint32_t)type },
		.g = { .rtgen_family = AF_UNSPEC },
	};

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF, 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (n < 0)
			return -errno;
		for (; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR)
				return -EIO;
			fn(l, nh);
		}
	}
}

static void resolve_gateways(struct learn *l)
{
	for (size_t i = 0; i < l->nneigh; i++) {
		if (l->has_gw4 && !memcmp(l->neigh[i].addr, l->gw4, 16)) {
			memcpy(l->in.gw4_mac, l->neigh[i].mac, 6);
			l->in.have_gw4 = true;
		}
		if (l->has_gw6 && !memcmp(l->neigh[i].addr, l->gw6, 16)) {
			memcpy(l->in.gw6_mac, l->neigh[i].mac, 6);
			l->in.have_gw6 = true;
		}
	}
}

int px_neigh_refresh(struct dp_nh *nh, int ifindex)
{
	struct learn l = { .ifindex = ifindex };
	char *buf = malloc(NL_BUF);
	int fd, err = -ENOMEM;

	l.neigh = calloc(MAX_NEIGH, sizeof(*l.neigh));
	if (!buf || !l.neigh)
		goto out_free;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	err = dump(fd, RTM_GETADDR, on_addr, &l, buf);
	if (!err)
		err = dump(fd, RTM_GETNEIGH, on_neigh, &l, buf);
	if (!err)
		err = dump(fd, RTM_GETROUTE, on_route, &l, buf);
	close(fd);
	if (err)
		goto out_free;
	resolve_gateways(&l);
	l.in.neigh = l.neigh;
	l.in.nneigh = l.nneigh;
	err = dp_nh_publish(nh, &l.in);
out_free:
	free(l.neigh);
	free(buf);
	return err;
}
