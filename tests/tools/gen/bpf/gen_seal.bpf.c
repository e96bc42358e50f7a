// SPDX-License-Identifier: GPL-2.0
/*
 * xpro-gen's sealing transmitter (flood mode "seal", gen_seal.h): for every
 * frame BPF_PROG_RUN sends, take the next number n of this CPU's counter,
 * pick device n % ndevs and destination (n / ndevs) % ndsts, write a fresh
 * sequence number, the device index, the inner source and destination, the
 * inner IPv4 checksum, and the SipHash-2-4 tag under the device's integrity
 * key, then return XDP_TX.  Every frame is a valid, never replayed message.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xpro/siphash.h"

#include "../gen_seal.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_seal_cfg);
} gen_seal_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEN_SEAL_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct gen_seal_dev);
} gen_seal_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GEN_SEAL_MAX_DSTS);
	__type(key, __u32);
	__type(value, struct gen_seal_dst);
} gen_seal_dsts SEC(".maps");

/* Frames sealed by each CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_seal_ctr SEC(".maps");

/* The one's complement checksum of the 20-byte IPv4 header at ip, its own field as zero. */
static __always_inline __u16 ipv4_csum(const __u16 *ip)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		if (i != 5)
			sum += ip[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int gen_seal(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *msg = (__u8 *)data + GEN_SEAL_MSG_OFF, *p;
	struct gen_seal_cfg *cfg;
	struct gen_seal_dev *d;
	struct gen_seal_dst *t;
	__u32 zero = 0, slot, hlen, nw, tail, i;
	__u64 *ctr, n, b;
	struct xpro_sipkey k;
	struct xpro_sip sip;

	cfg = bpf_map_lookup_elem(&gen_seal_cfg, &zero);
	ctr = bpf_map_lookup_elem(&gen_seal_ctr, &zero);
	if (!cfg || !ctr || !cfg->ndevs || !cfg->ndsts)
		return XDP_ABORTED;
	/* Every fixed-offset field below lies in the first 48 bytes of the message. */
	if ((void *)(msg + 48) > end || cfg->msg_len < 48 || cfg->msg_len > GEN_SEAL_MAX_MSG)
		return XDP_ABORTED;
	n = (*ctr)++;
	slot = (__u32)(n % cfg->ndevs);
	d = bpf_map_lookup_elem(&gen_seal_devs, &slot);
	slot = (__u32)((n / cfg->ndevs) % cfg->ndsts);
	t = bpf_map_lookup_elem(&gen_seal_dsts, &slot);
	if (!d || !t)
		return XDP_ABORTED;

	*(__u32 *)(msg + GEN_SEAL_OFF_DEV) = d->dev_be;
	*(__u64 *)(msg + GEN_SEAL_OFF_SEQ) =
		bpf_cpu_to_be64(cfg->seq_base + n * 256 + bpf_get_smp_processor_id());
	*(__u32 *)(msg + GEN_SEAL_OFF_INNER + 12) = d->src_be;
	*(__u32 *)(msg + GEN_SEAL_OFF_INNER + 16) = t->addr_be;
	*(__u16 *)(msg + GEN_SEAL_OFF_INNER + 10) = ipv4_csum((__u16 *)(msg + GEN_SEAL_OFF_INNER));
	*(__u16 *)(msg + GEN_SEAL_OFF_UDP + 2) = t->port_be;
	*(__u16 *)(msg + GEN_SEAL_OFF_UDP + 6) = 0; /* IPv4: no UDP checksum */

	/*
	 * SipHash-2-4 over header and payload (docs/protocol.md): the protocol
	 * core's rounds (xpro/siphash.h), with this program's own bounded loop.
	 */
	hlen = cfg->msg_len - 8;
	nw = hlen / 8;
	k.k0 = d->k0;
	k.k1 = d->k1;
	xpro_sip_init(&sip, &k);
	for (i = 0; i < GEN_SEAL_MAX_WORDS; i++) {
		if (i >= nw)
			break;
		p = msg + i * 8;
		if ((void *)(p + 8) > end)
			return XDP_ABORTED;
		xpro_sip_absorb(&sip, *(__u64 *)p); /* little-endian, as SipHash reads */
	}
	/*
	 * The last 0-7 bytes: one 8-byte load that runs into the tag (always in
	 * the frame), masked, with the length in the top byte.
	 */
	tail = hlen & 7;
	p = msg + (nw & (GEN_SEAL_MAX_WORDS - 1)) * 8;
	if ((void *)(p + 8) > end)
		return XDP_ABORTED;
	b = tail ? *(__u64 *)p & ((1ULL << (tail * 8)) - 1) : 0;
	b |= (__u64)hlen << 56;

	p = msg + (hlen & (GEN_SEAL_MAX_MSG - 1));
	if ((void *)(p + 8) > end)
		return XDP_ABORTED;
	*(__u64 *)p = xpro_sip_final(&sip, b); /* the tag, little-endian */
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
