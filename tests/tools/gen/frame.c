/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Outer framing for the raw flood modes: our MAC and address on the sending
 * interface, the proxy's MAC (given, or learnt from the neighbour table after
 * one ordinary datagram made the kernel resolve it), and the Ethernet/IPv4/UDP
 * headers around a sealed tunnel message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "gen.h"

int gen_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

/* The proxy's MAC from /proc/net/arp (this namespace's), or -ENOENT. */
static int gen_arp_lookup(uint32_t ip, const char *ifname, uint8_t mac[6])
{
	char line[256], ips[64], hw[64], dev[64];
	FILE *f = fopen("/proc/net/arp", "r");
	int rc = -ENOENT;
	unsigned flags;
	struct in_addr a;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %*s %x %63s %*s %63s", ips, &flags, hw, dev) != 4)
			continue;
		if (inet_pton(AF_INET, ips, &a) != 1 || a.s_addr != ip || strcmp(dev, ifname) ||
		    !(flags & 0x2 /* ATF_COM */))
			continue;
		rc = gen_parse_mac(hw, mac);
		break;
	}
	fclose(f);
	return rc;
}

/* Send one datagram to the proxy through the stack so that it resolves the MAC. */
static void gen_arp_prime(uint32_t ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr = { ip } };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	/* Not a tunnel message (too short): the proxy counts and drops it. */
	sendto(fd, "", 0, 0, (struct sockaddr *)&a, sizeof(a));
	close(fd);
}

int gen_link_init(struct gen_link *l, const struct gen_world *w, const char *ifname,
		  const char *dst_mac)
{
	struct ifreq ifr = { 0 };
	int fd, rc = 0;

	memset(l, 0, sizeof(*l));
	if (w->proxy_ver != 4) {
		fprintf(stderr, "xpro-gen: the raw flood modes frame IPv4 only; --proxy is IPv6\n");
		return -EAFNOSUPPORT;
	}
	memcpy(&l->dst_ip, w->proxy + 12, 4);
	l->dst_port = w->proxy_port;
	l->ifindex = (int)if_nametoindex(ifname);
	if (!l->ifindex || strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "xpro-gen: no interface '%s'\n", ifname);
		return -ENODEV;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0) {
		memcpy(l->src_mac, ifr.ifr_hwaddr.sa_data, 6);
	} else {
		rc = -errno;
	}
	ifr.ifr_addr.sa_family = AF_INET;
	if (!rc && ioctl(fd, SIOCGIFADDR, &ifr) == 0)
		l->src_ip = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr;
	else if (!rc)
		rc = -errno;
	close(fd);
	if (rc) {
		fprintf(stderr, "xpro-gen: %s: no MAC or IPv4 address: %s\n", ifname,
			strerror(-rc));
		return rc;
	}
	if (dst_mac) {
		rc = gen_parse_mac(dst_mac, l->dst_mac);
		if (rc)
			fprintf(stderr, "xpro-gen: --dst-mac: bad MAC '%s'\n", dst_mac);
		return rc;
	}
	for (int i = 0; i < 20 && gen_arp_lookup(l->dst_ip, ifname, l->dst_mac); i++) {
		gen_arp_prime(l->dst_ip, l->dst_port);
		usleep(50000);
	}
	rc = gen_arp_lookup(l->dst_ip, ifname, l->dst_mac);
	if (rc)
		fprintf(stderr, "xpro-gen: cannot resolve the proxy's MAC on %s; give --dst-mac\n",
			ifname);
	return rc;
}

void gen_frame_wrap(const struct gen_link *l, uint8_t *frame, size_t msg_len, uint16_t sport)
{
	size_t ulen = sizeof(struct udphdr) + msg_len;
	uint8_t *ip = frame + sizeof(struct ethhdr), *udp = ip + sizeof(struct iphdr);
	struct ethhdr eh = { .h_proto = htons(ETH_P_IP) };
	struct iphdr ih = {
		.version = 4,
		.ihl = 5,
		.tot_len = htons(sizeof(ih) + ulen),
		.frag_off = htons(0x4000), /* DF */
		.ttl = 64,
		.protocol = IPPROTO_UDP,
		.saddr = l->src_ip,
		.daddr = l->dst_ip,
	};
	struct udphdr uh = { .source = htons(sport),
			     .dest = htons(l->dst_port),
			     .len = htons(ulen) };

	/* Copied, not written through casts: the IP header sits at offset 14. */
	memcpy(eh.h_dest, l->dst_mac, 6);
	memcpy(eh.h_source, l->src_mac, 6);
	memcpy(frame, &eh, sizeof(eh));
	memcpy(ip, &ih, sizeof(ih));
	memcpy(udp, &uh, sizeof(uh));
	gen_ipv4_csum(ip);
	gen_udp4_csum(ip, udp, ulen);
}

int64_t gen_if_tx_packets(const char *ifname)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_packets", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
