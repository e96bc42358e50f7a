/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet-fixture tests of bpf/xpro.bpf.c, Katran style: each row is a frame
 * built from layer helpers, the verdict it must get and the counter it must
 * move, run through BPF_PROG_RUN.  Needs root and a BPF-capable kernel.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xpro/tunnel.h"
#include "xpro/xdp.h"
#include "xpro.skel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Not the default, so that a program ignoring the load-time setting fails. */
#define TEST_PORT 40000

#define DEV_ACTIVE 7
#define DEV_ACTIVE2 0x01020304 /* asymmetric bytes: catches a missing ntohl */
#define DEV_INACTIVE 8
#define DEV_UNKNOWN 9

/* Inner destinations (198.18.0.0/15, 2001:2::/48: benchmarking ranges). */
#define DST4_OK "198.18.100.2"
#define DST4_FLAGGED "198.18.100.1" /* flagged for DEV_ACTIVE until forever */
#define DST4_EXPIRED "198.18.100.3" /* flagged for DEV_ACTIVE, long expired */
#define DST6_OK "2001:2::100:2"
#define DST6_FLAGGED "2001:2::100:1" /* flagged for DEV_ACTIVE until forever */

#define VT(ver, type) ((ver) << 4 | (type))
#define IP_MF 0x2000
#define PKT_MAX 512

/* Layer starts a fixture may cut the frame at; AT_NONE: no cut. */
enum layer { AT_NONE, AT_L3, AT_L4, AT_TUN, AT_INNER, AT_TAG, AT_END, AT_NLAYERS };
enum outer { OUT_IPV4, OUT_IPV6, OUT_ARP };
enum inner { IN_IPV4, IN_IPV6, IN_NONE, IN_BAD_VERSION };

/* How to build one frame.  Zero everywhere is a valid DATA packet over IPv4. */
struct spec {
	uint16_t vlan; /* TPID of an outer tag; 0: untagged */
	uint16_t vlan2; /* TPID of a second tag (QinQ) */
	enum outer outer;
	uint8_t ihl; /* 0: from ip_opt */
	uint8_t ip_opt; /* IPv4 option bytes (NOPs), multiple of 4 */
	uint8_t ip_proto; /* IPv4 protocol / IPv6 next header; 0: UDP */
	uint16_t frag; /* IPv4 flags and fragment offset */
	uint16_t dport; /* 0: TEST_PORT */
	uint8_t ver_type; /* 0: version 1, DATA */
	uint8_t flags;
	uint16_t reserved;
	uint32_t dev; /* 0: DEV_ACTIVE */
	enum inner inner;
	const char *dst; /* NULL: DST4_OK or DST6_OK */
	uint16_t inner_pad; /* bytes after the inner header */
	uint16_t trail; /* Ethernet padding after the datagram */
	enum layer cut_at; /* end the frame cut_plus bytes after this layer's start */
	int cut_plus;
	bool cut_fix; /* after the cut, make IP and UDP lengths agree with it */
	int udp_len_adj; /* added to the UDP length field last */
};

struct fixture {
	const char *name;
	struct spec spec;
	int verdict;
	enum xpro_xdp_stat stat;
};

#define OTHER XDP_PASS, XPRO_XDP_PASS_OTHER
#define VALID XDP_PASS, XPRO_XDP_PASS_NO_XSK
#define MALFORMED XDP_DROP, XPRO_XDP_DROP_MALFORMED
#define UNKNOWN XDP_DROP, XPRO_XDP_DROP_UNKNOWN_DEV
#define FLAGGED XDP_DROP, XPRO_XDP_DROP_FLAGGED

static const struct fixture fixtures[] = {
	/* Not tunnel traffic, or not identifiable as such: to the kernel. */
	{ "arp", { .outer = OUT_ARP }, OTHER },
	{ "ipv4 tcp to the tunnel port", { .ip_proto = IPPROTO_TCP }, OTHER },
	{ "ipv4 udp to another port", { .dport = 53 }, OTHER },
	{ "ipv4 udp to the default port (not configured)",
	  { .dport = XPRO_TUN_PORT_DEFAULT },
	  OTHER },
	{ "ipv6 udp to another port", { .outer = OUT_IPV6, .dport = 53 }, OTHER },
	{ "ipv4 first fragment", { .frag = IP_MF }, OTHER },
	{ "ipv4 later fragment", { .frag = 185 }, OTHER },
	{ "ipv4 ihl 4", { .ihl = 4 }, OTHER },
	{ "ipv6 fragment header", { .outer = OUT_IPV6, .ip_proto = IPPROTO_FRAGMENT }, OTHER },
	{ "ipv6 destination options header",
	  { .outer = OUT_IPV6, .ip_proto = IPPROTO_DSTOPTS },
	  OTHER },
	{ "two vlan tags", { .vlan = ETH_P_8021AD, .vlan2 = ETH_P_8021Q }, OTHER },
	{ "cut after ethernet", { .cut_at = AT_L3 }, OTHER },
	{ "cut inside vlan tag", { .vlan = ETH_P_8021Q, .cut_at = AT_L3, .cut_plus = -2 }, OTHER },
	{ "cut inside ipv4 header", { .cut_at = AT_L3, .cut_plus = 10 }, OTHER },
	{ "cut inside ipv4 options", { .ip_opt = 8, .cut_at = AT_L3, .cut_plus = 24 }, OTHER },
	{ "cut inside ipv6 header", { .outer = OUT_IPV6, .cut_at = AT_L3, .cut_plus = 39 }, OTHER },
	{ "cut inside udp header", { .cut_at = AT_L4, .cut_plus = 4 }, OTHER },

	/* Tunnel port, broken structure. */
	{ "udp header only", { .cut_at = AT_TUN, .cut_fix = true }, MALFORMED },
	{ "cut inside tunnel header", { .cut_at = AT_TUN, .cut_plus = 10 }, MALFORMED },
	{ "short tunnel header, lengths agree",
	  { .cut_at = AT_TUN, .cut_plus = 10, .cut_fix = true },
	  MALFORMED },
	{ "cut inside inner header", { .cut_at = AT_INNER, .cut_plus = 10 }, MALFORMED },
	{ "short inner header, lengths agree",
	  { .cut_at = AT_INNER, .cut_plus = 19, .cut_fix = true },
	  MALFORMED },
	{ "cut inside tag", { .cut_at = AT_TAG, .cut_plus = 4 }, MALFORMED },
	{ "no tag, lengths agree", { .cut_at = AT_TAG, .cut_fix = true }, MALFORMED },
	{ "inner ipv6 shorter than its header",
	  { .inner = IN_IPV6, .cut_at = AT_TAG, .cut_fix = true },
	  MALFORMED },
	{ "inner version 5", { .inner = IN_BAD_VERSION }, MALFORMED },
	{ "udp length one past the frame", { .udp_len_adj = 1 }, MALFORMED },
	{ "udp length 7", { .cut_at = AT_TUN, .cut_fix = true, .udp_len_adj = -1 }, MALFORMED },
	{ "ipv6 outer, udp length past the frame",
	  { .outer = OUT_IPV6, .udp_len_adj = 100 },
	  MALFORMED },
	{ "version 0", { .ver_type = VT(0, XPRO_MSG_DATA) }, MALFORMED },
	{ "version 2", { .ver_type = VT(2, XPRO_MSG_DATA) }, MALFORMED },
	{ "type 0", { .ver_type = VT(XPRO_TUN_VERSION, 0) }, MALFORMED },
	{ "type 5", { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_MAX + 1) }, MALFORMED },
	/* Proxy -> device types reflected at a proxy: dropped before userspace. */
	{ "probe reply (other direction)",
	  { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_PROBE_REPLY), .inner = IN_NONE },
	  MALFORMED },
	{ "overload (other direction)",
	  { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_OVERLOAD), .inner = IN_NONE },
	  MALFORMED },
	{ "type 15", { .ver_type = VT(XPRO_TUN_VERSION, 15) }, MALFORMED },
	{ "reserved nonzero", { .reserved = 0x0100 }, MALFORMED },
	{ "unknown flag", { .flags = 0x80 }, MALFORMED },
	{ "encrypted, shorter than a data message",
	  { .flags = XPRO_TUN_F_ENCRYPTED, .cut_at = AT_TAG, .cut_fix = true },
	  MALFORMED },
	{ "probe without full tag",
	  { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_PROBE),
	    .inner = IN_NONE,
	    .cut_at = AT_TAG,
	    .cut_plus = 4,
	    .cut_fix = true },
	  MALFORMED },
	{ "malformed from an unknown device", { .dev = DEV_UNKNOWN, .reserved = 1 }, MALFORMED },

	/* Devices. */
	{ "unknown device", { .dev = DEV_UNKNOWN }, UNKNOWN },
	{ "inactive device", { .dev = DEV_INACTIVE }, UNKNOWN },
	{ "encrypted, unknown device",
	  { .flags = XPRO_TUN_F_ENCRYPTED, .dev = DEV_UNKNOWN },
	  UNKNOWN },
	{ "probe from unknown device",
	  { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_PROBE),
	    .inner = IN_NONE,
	    .dev = DEV_UNKNOWN },
	  UNKNOWN },
	{ "unknown device sending to a flagged destination",
	  { .dev = DEV_UNKNOWN, .dst = DST4_FLAGGED },
	  UNKNOWN },

	/* The drop-map. */
	{ "flagged pair, ipv4 inner", { .dst = DST4_FLAGGED }, FLAGGED },
	{ "flagged pair, ipv6 inner", { .inner = IN_IPV6, .dst = DST6_FLAGGED }, FLAGGED },
	{ "flagged pair, ipv6 inner ::ffff:a.b.c.d",
	  { .inner = IN_IPV6, .dst = "::ffff:" DST4_FLAGGED },
	  FLAGGED },
	{ "flagged pair, vlan and ipv6 outer",
	  { .vlan = ETH_P_8021Q, .outer = OUT_IPV6, .dst = DST4_FLAGGED },
	  FLAGGED },
	{ "flagged pair, ipv4 options", { .ip_opt = 40, .dst = DST4_FLAGGED }, FLAGGED },
	/* XDP reads no clock: the control thread deletes an entry once its hold ends. */
	{ "expired flag not yet deleted", { .dst = DST4_EXPIRED }, FLAGGED },
	{ "same device, other ipv4 destination", { .dst = DST4_OK }, VALID },
	{ "same device, other ipv6 destination", { .inner = IN_IPV6, .dst = DST6_OK }, VALID },
	{ "other device, flagged destination", { .dev = DEV_ACTIVE2, .dst = DST4_FLAGGED }, VALID },
	{ "probe from a device with a flagged pair",
	  { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_PROBE), .inner = IN_NONE },
	  VALID },

	/* Valid tunnel packets: no AF_XDP socket here, so XDP_PASS. */
	{ "ipv4, smallest data message", {}, VALID },
	{ "ipv4, inner payload", { .inner_pad = 200 }, VALID },
	{ "ipv4 options", { .ip_opt = 8 }, VALID },
	{ "ipv4 options, longest", { .ip_opt = 40 }, VALID },
	{ "802.1q tag", { .vlan = ETH_P_8021Q }, VALID },
	{ "802.1ad tag", { .vlan = ETH_P_8021AD }, VALID },
	{ "ipv6 outer", { .outer = OUT_IPV6 }, VALID },
	{ "ipv6 outer, ipv6 inner", { .outer = OUT_IPV6, .inner = IN_IPV6 }, VALID },
	{ "ethernet padding after the datagram", { .trail = 16 }, VALID },
	{ "encrypted", { .flags = XPRO_TUN_F_ENCRYPTED }, VALID },
	{ "encrypted, payload opaque",
	  { .flags = XPRO_TUN_F_ENCRYPTED, .inner = IN_BAD_VERSION },
	  VALID },
	{ "encrypted, destination not looked up",
	  { .flags = XPRO_TUN_F_ENCRYPTED, .dst = DST4_FLAGGED },
	  VALID },
	{ "other active device", { .dev = DEV_ACTIVE2 }, VALID },
	{ "probe", { .ver_type = VT(XPRO_TUN_VERSION, XPRO_MSG_PROBE), .inner = IN_NONE }, VALID },
};

/* --- frame building ------------------------------------------------------ */

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
	size_t off[AT_NLAYERS]; /* start of each layer */
	bool ipv6;
};

static void put(struct pkt *p, const void *src, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, src, n);
	p->len += n;
}

static void put8(struct pkt *p, uint8_t v)
{
	put(p, &v, 1);
}

static void put16(struct pkt *p, uint16_t v)
{
	uint16_t be = htons(v);

	put(p, &be, 2);
}

static void put32(struct pkt *p, uint32_t v)
{
	uint32_t be = htonl(v);

	put(p, &be, 4);
}

static void put_fill(struct pkt *p, uint8_t byte, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memset(p->b + p->len, byte, n);
	p->len += n;
}

static void set16(struct pkt *p, size_t off, uint16_t v)
{
	p->b[off] = v >> 8;
	p->b[off + 1] = v & 0xff;
}

static void put_addr(struct pkt *p, int af, const char *s)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(af, s, a), 1);
	put(p, a, af == AF_INET ? 4 : 16);
}

static void put_eth(struct pkt *p, uint16_t proto)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01 };

	put(p, macs, sizeof(macs));
	put16(p, proto);
}

static void put_vlan(struct pkt *p, uint16_t vid, uint16_t proto)
{
	put16(p, vid);
	put16(p, proto);
}

static void put_arp(struct pkt *p)
{
	put16(p, 1); /* Ethernet */
	put16(p, ETH_P_IP);
	put8(p, 6);
	put8(p, 4);
	put16(p, 1); /* request */
	put_fill(p, 0x02, 6);
	put_addr(p, AF_INET, "198.19.0.1");
	put_fill(p, 0, 6);
	put_addr(p, AF_INET, "198.19.0.2");
}

/* Length fields are written by fix_lengths(); checksums stay zero (unread). */
static void put_ipv4(struct pkt *p, const struct spec *s)
{
	put8(p, 4 << 4 | (s->ihl ? s->ihl : 5 + s->ip_opt / 4));
	put8(p, 0);
	put16(p, 0);
	put16(p, 1); /* id */
	put16(p, s->frag);
	put8(p, 64);
	put8(p, s->ip_proto ? s->ip_proto : IPPROTO_UDP);
	put16(p, 0);
	put_addr(p, AF_INET, "198.19.0.1");
	put_addr(p, AF_INET, "198.19.0.2");
	put_fill(p, 1, s->ip_opt); /* NOP options */
}

static void put_ipv6(struct pkt *p, const struct spec *s)
{
	put32(p, 6u << 28);
	put16(p, 0);
	put8(p, s->ip_proto ? s->ip_proto : IPPROTO_UDP);
	put8(p, 64);
	put_addr(p, AF_INET6, "2001:2::1");
	put_addr(p, AF_INET6, "2001:2::2");
	p->ipv6 = true;
}

static void put_udp(struct pkt *p, uint16_t dport)
{
	put16(p, 50000);
	put16(p, dport);
	put16(p, 0);
	put16(p, 0);
}

static void put_tun(struct pkt *p, const struct spec *s)
{
	put8(p, s->ver_type ? s->ver_type : VT(XPRO_TUN_VERSION, XPRO_MSG_DATA));
	put8(p, s->flags);
	put16(p, s->reserved);
	put32(p, 3); /* epoch */
	put32(p, s->dev ? s->dev : DEV_ACTIVE);
	put32(p, 0);
	put32(p, 42); /* sequence */
}

static void put_inner(struct pkt *p, const struct spec *s)
{
	switch (s->inner) {
	case IN_IPV4:
	case IN_BAD_VERSION:
		put8(p, (s->inner == IN_IPV4 ? 4 : 5) << 4 | 5);
		put8(p, 0);
		put16(p, 20 + s->inner_pad);
		put32(p, 0);
		put8(p, 64);
		put8(p, IPPROTO_UDP);
		put16(p, 0);
		put_addr(p, AF_INET, "198.18.10.1");
		put_addr(p, AF_INET, s->dst ? s->dst : DST4_OK);
		break;
	case IN_IPV6:
		put32(p, 6u << 28);
		put16(p, s->inner_pad);
		put8(p, IPPROTO_UDP);
		put8(p, 64);
		put_addr(p, AF_INET6, "2001:2:0:10::1");
		put_addr(p, AF_INET6, s->dst ? s->dst : DST6_OK);
		break;
	case IN_NONE:
		break;
	}
	put_fill(p, 0x5a, s->inner_pad);
}

/* Make the outer IP and UDP lengths describe a datagram ending at @end. */
static void fix_lengths(struct pkt *p, size_t end)
{
	size_t l3 = p->off[AT_L3], l4 = p->off[AT_L4];

	if (p->ipv6)
		set16(p, l3 + 4, end - l4);
	else
		set16(p, l3 + 2, end - l3);
	set16(p, l4 + 4, end - l4);
}

static void build(const struct spec *s, struct pkt *p)
{
	uint16_t l3 = s->outer == OUT_IPV6  ? ETH_P_IPV6
		      : s->outer == OUT_ARP ? ETH_P_ARP
					    : ETH_P_IP;

	memset(p, 0, sizeof(*p));
	if (s->vlan) {
		put_eth(p, s->vlan);
		put_vlan(p, 100, s->vlan2 ? s->vlan2 : l3);
		if (s->vlan2)
			put_vlan(p, 200, l3);
	} else {
		put_eth(p, l3);
	}
	p->off[AT_L3] = p->len;
	if (s->outer == OUT_ARP) {
		put_arp(p);
		return;
	}
	if (s->outer == OUT_IPV6)
		put_ipv6(p, s);
	else
		put_ipv4(p, s);
	p->off[AT_L4] = p->len;
	put_udp(p, s->dport ? s->dport : TEST_PORT);
	p->off[AT_TUN] = p->len;
	put_tun(p, s);
	p->off[AT_INNER] = p->len;
	put_inner(p, s);
	p->off[AT_TAG] = p->len;
	put_fill(p, 0xa5, XPRO_TUN_TAG_LEN); /* the program never reads the tag */
	p->off[AT_END] = p->len;
	put_fill(p, 0, s->trail);
	fix_lengths(p, p->off[AT_END]);

	if (s->cut_at != AT_NONE) {
		p->len = p->off[s->cut_at] + s->cut_plus;
		if (s->cut_fix)
			fix_lengths(p, p->len);
	}
	set16(p, p->off[AT_L4] + 4,
	      (p->b[p->off[AT_L4] + 4] << 8 | p->b[p->off[AT_L4] + 5]) + s->udp_len_adj);
}

/* --- the loaded program ---------------------------------------------------- */

/* The program under test, loaded once by env_setup() for the whole group. */
static struct env {
	struct xpro_bpf *skel;
	int prog_fd;
	int stats_fd;
	int ncpus;
	struct xpro_xdp_counter *percpu; /* ncpus values, one lookup's worth */
} env;

static void read_stats(struct xpro_xdp_counter sum[XPRO_XDP_NSTATS])
{
	__u32 k;
	int c;

	for (k = 0; k < XPRO_XDP_NSTATS; k++) {
		assert_int_equal(bpf_map_lookup_elem(env.stats_fd, &k, env.percpu), 0);
		sum[k].packets = 0;
		sum[k].bytes = 0;
		for (c = 0; c < env.ncpus; c++) {
			sum[k].packets += env.percpu[c].packets;
			sum[k].bytes += env.percpu[c].bytes;
		}
	}
}

static int add_device(__u32 dev, bool active)
{
	struct xpro_dev_val v = { .active = active };

	return bpf_map__update_elem(env.skel->maps.xpro_devices, &dev, sizeof(dev), &v, sizeof(v),
				    BPF_NOEXIST);
}

static int add_flag(__u32 dev, int af, const char *dst, __u64 until_ns)
{
	struct xpro_drop_val v = { .until_ns = until_ns };
	struct xf_key key = { .dev = dev };

	if (af == AF_INET) {
		key.dst[10] = 0xff;
		key.dst[11] = 0xff;
		if (inet_pton(AF_INET, dst, &key.dst[12]) != 1)
			return -EINVAL;
	} else if (inet_pton(AF_INET6, dst, key.dst) != 1) {
		return -EINVAL;
	}
	return bpf_map__update_elem(env.skel->maps.xpro_drop, &key, sizeof(key), &v, sizeof(v),
				    BPF_NOEXIST);
}

/* Open with the test port, without pinning, load, and fill the maps. */
static int env_setup(void **state)
{
	struct bpf_map *map;
	int err;

	(void)state;
	env.ncpus = libbpf_num_possible_cpus();
	if (env.ncpus <= 0)
		return -1;
	env.percpu = calloc(env.ncpus, sizeof(*env.percpu));
	if (!env.percpu)
		return -1;
	env.skel = xpro_bpf__open();
	if (!env.skel) {
		fprintf(stderr, "xpro_bpf__open: %s\n", strerror(errno));
		return -1;
	}
	env.skel->rodata->tun_port = TEST_PORT;
	bpf_object__for_each_map(map, env.skel->obj)
	{
		if (bpf_map__set_pin_path(map, NULL))
			return -1;
	}
	err = xpro_bpf__load(env.skel);
	if (err) {
		fprintf(stderr, "xpro_bpf__load: %s (root and BPF needed)\n", strerror(-err));
		return -1;
	}
	env.prog_fd = bpf_program__fd(env.skel->progs.xpro_xdp);
	env.stats_fd = bpf_map__fd(env.skel->maps.xpro_stats);

	if (add_device(DEV_ACTIVE, true) || add_device(DEV_ACTIVE2, true) ||
	    add_device(DEV_INACTIVE, false) ||
	    add_flag(DEV_ACTIVE, AF_INET, DST4_FLAGGED, UINT64_MAX) ||
	    add_flag(DEV_ACTIVE, AF_INET6, DST6_FLAGGED, UINT64_MAX) ||
	    add_flag(DEV_ACTIVE, AF_INET, DST4_EXPIRED, 1)) {
		fprintf(stderr, "filling the maps failed\n");
		return -1;
	}
	return 0;
}

static int env_teardown(void **state)
{
	(void)state;
	xpro_bpf__destroy(env.skel);
	free(env.percpu);
	return 0;
}

/* --- tests ------------------------------------------------------------------ */

/* The verifier accepted the program (env_setup); report its size. */
static void test_load(void **state)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xpro_bpf *fresh;

	(void)state;
	assert_int_equal(bpf_obj_get_info_by_fd(env.prog_fd, &info, &len), 0);
	assert_true(info.xlated_prog_len > 0);
	print_message("xpro_xdp: %u instructions (xlated), %u verified, %u bytes jited\n",
		      info.xlated_prog_len / 8, info.verified_insns, info.jited_prog_len);

	/* The load-time setting defaults to the protocol's port. */
	fresh = xpro_bpf__open();
	assert_non_null(fresh);
	assert_int_equal(fresh->rodata->tun_port, XPRO_TUN_PORT_DEFAULT);
	xpro_bpf__destroy(fresh);
}

static void test_fixture(void **state)
{
	const struct fixture *fx = *state;
	struct xpro_xdp_counter before[XPRO_XDP_NSTATS], after[XPRO_XDP_NSTATS];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);
	uint8_t out[PKT_MAX];
	struct pkt p;
	int k;

	build(&fx->spec, &p);
	opts.data_in = p.b;
	opts.data_size_in = p.len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);

	read_stats(before);
	assert_int_equal(bpf_prog_test_run_opts(env.prog_fd, &opts), 0);
	read_stats(after);

	assert_int_equal(opts.retval, fx->verdict);
	for (k = 0; k < XPRO_XDP_NSTATS; k++) {
		bool hit = k == (int)fx->stat;

		assert_int_equal(after[k].packets - before[k].packets, hit);
		assert_int_equal(after[k].bytes - before[k].bytes, hit ? p.len : 0);
	}
	/* The program never rewrites a frame. */
	assert_int_equal(opts.data_size_out, p.len);
	assert_memory_equal(out, p.b, p.len);
}

int main(void)
{
	struct CMUnitTest tests[1 + ARRAY_SIZE(fixtures)];
	size_t i;

	tests[0] = (struct CMUnitTest)cmocka_unit_test(test_load);
	for (i = 0; i < ARRAY_SIZE(fixtures); i++)
		tests[1 + i] = (struct CMUnitTest){
			.name = fixtures[i].name,
			.test_func = test_fixture,
			.initial_state = (void *)&fixtures[i],
		};
	return _cmocka_run_group_tests("xdp", tests, ARRAY_SIZE(tests), env_setup, env_teardown);
}
