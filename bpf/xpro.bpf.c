// SPDX-License-Identifier: GPL-2.0
/*
 * The proxy's XDP program: drops malformed tunnel packets, unknown devices and
 * flagged (device, destination) pairs in the kernel, hands the remaining tunnel
 * packets to the AF_XDP socket of their queue and passes everything else on.
 */
#include <stdbool.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xpro/addr.h"
#include "xpro/tunnel.h"
#include "xpro/xdp.h"

/* Not in the UAPI headers. */
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* UDP port of the tunnel, host order; the loader sets it before load. */
const volatile __u16 tun_port = XPRO_TUN_PORT_DEFAULT;

/* Written by the proxy, one slot per RX queue; empty slot: the kernel stack. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XPRO_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} XPRO_MAP_XSKS SEC(".maps");

/*
 * Written by the proxy on (re)provisioning, read here.  Not preallocated: a
 * full table would pin 1M elements of memory, and inserts are control-plane.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XPRO_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct xpro_dev_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} XPRO_MAP_DEVICES SEC(".maps");

/* Written by the proxy's control thread when it flags a pair, read here. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XPRO_MAX_FLAGGED);
	__type(key, struct xf_key);
	__type(value, struct xpro_drop_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} XPRO_MAP_DROP SEC(".maps");

/* Written here, summed over CPUs by the proxy. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPRO_XDP_NSTATS);
	__type(key, __u32);
	__type(value, struct xpro_xdp_counter);
} XPRO_MAP_STATS SEC(".maps");

/* Parsing position in the frame: every header access goes through pull(). */
struct cursor {
	void *pos;
	void *end;
};

/* Return the next @len bytes and step over them, or NULL if the frame is shorter. */
static __always_inline void *pull(struct cursor *c, __u32 len)
{
	void *p = c->pos;

	/* Inlined so that the verifier sees this check next to the access. */
	if (p + len > c->end)
		return NULL;
	c->pos = p + len;
	return p;
}

/* Count the packet under @stat and return @action. */
static int verdict(__u32 stat, __u64 bytes, int action)
{
	struct xpro_xdp_counter *cnt = bpf_map_lookup_elem(&XPRO_MAP_STATS, &stat);

	if (cnt) {
		cnt->packets++;
		cnt->bytes += bytes;
	}
	return action;
}

static bool parse_ipv4(struct cursor *c)
{
	struct iphdr *iph = pull(c, sizeof(*iph));

	if (!iph || iph->version != 4 || iph->ihl < 5 || iph->protocol != IPPROTO_UDP)
		return false;
	/* Fragments never reach the tunnel port whole: let the kernel reassemble. */
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return false;
	return pull(c, iph->ihl * 4 - sizeof(*iph)) != NULL;
}

static bool parse_ipv6(struct cursor *c)
{
	struct ipv6hdr *ip6h = pull(c, sizeof(*ip6h));

	/* Extension headers: not how our devices send, leave them to the kernel. */
	return ip6h && ip6h->version == 6 && ip6h->nexthdr == IPPROTO_UDP;
}

/*
 * Ethernet, at most one VLAN tag, IPv4 or IPv6, UDP: return the UDP header if
 * the datagram is for the tunnel port, else NULL (not ours).
 */
static struct udphdr *parse_outer(struct cursor *c)
{
	struct ethhdr *eth = pull(c, sizeof(*eth));
	struct udphdr *udp;
	struct vlan_hdr *vh;
	__be16 proto;

	if (!eth)
		return NULL;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		vh = pull(c, sizeof(*vh));
		if (!vh)
			return NULL;
		proto = vh->encap_proto;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		if (!parse_ipv4(c))
			return NULL;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (!parse_ipv6(c))
			return NULL;
	} else {
		return NULL;
	}
	udp = pull(c, sizeof(*udp));
	if (!udp || udp->dest != bpf_htons(tun_port))
		return NULL;
	return udp;
}

/* Store the inner packet's destination in @key; false if it is not IPv4/IPv6. */
static bool parse_inner(struct cursor *c, __u32 inner_len, struct xf_key *key)
{
	void *start = c->pos;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;

	if (inner_len < sizeof(*iph))
		return false;
	iph = pull(c, sizeof(*iph));
	if (!iph)
		return false;
	if (iph->version == 4) {
		xpro_addr_from_v4(key->dst, &iph->daddr);
		return true;
	}
	if (iph->version != 6 || inner_len < sizeof(*ip6h))
		return false;
	c->pos = start;
	ip6h = pull(c, sizeof(*ip6h));
	if (!ip6h)
		return false;
	__builtin_memcpy(key->dst, &ip6h->daddr, sizeof(key->dst));
	return true;
}

/*
 * Check the tunnel header, the lengths and, for plaintext DATA, the inner
 * destination.  Fill @key: the device index always, the destination when
 * *@has_dst is set.  False: malformed.
 */
static bool parse_tunnel(struct cursor *c, struct udphdr *udp, struct xf_key *key, bool *has_dst)
{
	__u32 ulen = bpf_ntohs(udp->len);
	struct xpro_tun_hdr *th;
	__u32 plen, type;

	*has_dst = false;
	if (ulen < sizeof(*udp) + sizeof(*th) + XPRO_TUN_TAG_LEN || (void *)udp + ulen > c->end)
		return false;
	plen = ulen - sizeof(*udp);
	th = pull(c, sizeof(*th));
	if (!th)
		return false;
	type = xpro_tun_type(th);
	if (xpro_tun_version(th) != XPRO_TUN_VERSION || type < XPRO_MSG_DATA ||
	    type > XPRO_MSG_TO_PROXY_MAX || th->reserved || (th->flags & ~XPRO_TUN_F_KNOWN))
		return false;
	key->dev = bpf_ntohl(th->dev);
	if (type != XPRO_MSG_DATA)
		return true;
	if (plen < XPRO_TUN_MIN_DATA)
		return false;
	/* Ciphertext hides the destination: userspace filters after decrypting. */
	if (th->flags & XPRO_TUN_F_ENCRYPTED)
		return true;
	*has_dst = true;
	return parse_inner(c, plen - sizeof(*th) - XPRO_TUN_TAG_LEN, key);
}

SEC("xdp")
int xpro_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = { .pos = data, .end = data_end };
	__u64 bytes = data_end - data;
	struct xpro_drop_val *drop;
	struct xpro_dev_val *dev;
	struct xf_key key = {};
	struct udphdr *udp;
	bool has_dst;
	int act;

	udp = parse_outer(&c);
	if (!udp)
		return verdict(XPRO_XDP_PASS_OTHER, bytes, XDP_PASS);
	if (!parse_tunnel(&c, udp, &key, &has_dst))
		return verdict(XPRO_XDP_DROP_MALFORMED, bytes, XDP_DROP);

	/*
	 * A flagged pair first, at the cost of one lookup and no clock read:
	 * only authenticated devices are ever flagged, and the control thread
	 * deletes an entry when its hold ends (each tick, px_xdp_sweep_flags).
	 */
	if (has_dst) {
		drop = bpf_map_lookup_elem(&XPRO_MAP_DROP, &key);
		if (drop) {
			__sync_fetch_and_add(&drop->packets, 1);
			return verdict(XPRO_XDP_DROP_FLAGGED, bytes, XDP_DROP);
		}
	}

	dev = bpf_map_lookup_elem(&XPRO_MAP_DEVICES, &key.dev);
	if (!dev || !dev->active)
		return verdict(XPRO_XDP_DROP_UNKNOWN_DEV, bytes, XDP_DROP);

	act = bpf_redirect_map(&XPRO_MAP_XSKS, ctx->rx_queue_index, XDP_PASS);
	return verdict(act == XDP_REDIRECT ? XPRO_XDP_REDIRECT : XPRO_XDP_PASS_NO_XSK, bytes, act);
}

char LICENSE[] SEC("license") = "GPL";
