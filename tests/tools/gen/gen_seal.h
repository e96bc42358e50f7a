/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The contract between xpro-gen's flood mode "seal" (flood_seal.c) and its
 * XDP program (bpf/gen_seal.bpf.c): map layouts and frame offsets.  Included
 * by both sides, so only fixed-width types.
 *
 * The program runs under BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES.  The
 * kernel recycles the template's pages without restoring their bytes, so the
 * program writes every field that varies absolutely (never relative to what
 * the frame holds): per frame a fresh sequence number, the device (index,
 * inner source, key) and the inner destination of the rotation, the inner
 * IPv4 checksum, and the SipHash-2-4 tag under the device's integrity key.
 */
#ifndef XPRO_GEN_SEAL_H
#define XPRO_GEN_SEAL_H

#include <linux/types.h>

#define GEN_SEAL_MAX_DEVS 65536
#define GEN_SEAL_MAX_DSTS 64
/* Longest message the program seals: SipHash words it may loop over. */
#define GEN_SEAL_MAX_WORDS 64
#define GEN_SEAL_MAX_MSG (GEN_SEAL_MAX_WORDS * 8)

/* Frame layout: Ethernet, IPv4 without options, UDP, then the tunnel message. */
#define GEN_SEAL_MSG_OFF 42
#define GEN_SEAL_OFF_DEV 8 /* in the message: struct xpro_tun_hdr.dev */
#define GEN_SEAL_OFF_SEQ 12 /* seq_hi, seq_lo */
#define GEN_SEAL_OFF_INNER 20 /* the inner IPv4 header */
#define GEN_SEAL_OFF_UDP 40 /* the inner UDP header */

/* Slot 0 of the config map. */
struct gen_seal_cfg {
	__u64 seq_base; /* frame n of CPU c gets seq_base + n * 256 + c */
	__u32 ndevs; /* devices rotated: slots 0..ndevs-1 of the device map */
	__u32 ndsts; /* destinations rotated, after each round of devices */
	__u32 msg_len; /* tunnel message, tag included (UDP payload) */
	__u32 pad;
};

struct gen_seal_dev {
	__u64 k0, k1; /* the integrity key IK as SipHash's two little-endian words */
	__u32 dev_be; /* device index, network order */
	__u32 src_be; /* inner IPv4 source, network order */
};

struct gen_seal_dst {
	__u32 addr_be;
	__u16 port_be;
	__u16 pad;
};

#endif /* XPRO_GEN_SEAL_H */
