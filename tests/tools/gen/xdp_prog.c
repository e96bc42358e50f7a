/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generator's XDP programs as raw instructions (xdp_prog.h).  The macros
 * follow the kernel's include/linux/filter.h, which is not a UAPI header.
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "gen.h"
#include "xdp_prog.h"

#define I_ALU64_IMM(P_op, P_dst, P_imm) \
	((struct bpf_insn){             \
		.code = BPF_ALU64 | BPF_OP(P_op) | BPF_K, .dst_reg = P_dst, .imm = P_imm })
#define I_ALU32_IMM(P_op, P_dst, P_imm) \
	((struct bpf_insn){             \
		.code = BPF_ALU | BPF_OP(P_op) | BPF_K, .dst_reg = P_dst, .imm = P_imm })
#define I_MOV64_REG(P_dst, P_src) \
	((struct bpf_insn){       \
		.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = P_dst, .src_reg = P_src })
#define I_MOV64_IMM(P_dst, P_imm) I_ALU64_IMM(BPF_MOV, P_dst, P_imm)
#define I_ENDIAN_BE32(P_dst) \
	((struct bpf_insn){ .code = BPF_ALU | BPF_END | BPF_TO_BE, .dst_reg = P_dst, .imm = 32 })
#define I_LDX(P_size, P_dst, P_src, P_off)                                \
	((struct bpf_insn){ .code = BPF_LDX | BPF_SIZE(P_size) | BPF_MEM, \
			    .dst_reg = P_dst,                             \
			    .src_reg = P_src,                             \
			    .off = P_off })
#define I_STX(P_size, P_dst, P_src, P_off)                                \
	((struct bpf_insn){ .code = BPF_STX | BPF_SIZE(P_size) | BPF_MEM, \
			    .dst_reg = P_dst,                             \
			    .src_reg = P_src,                             \
			    .off = P_off })
#define I_ST(P_size, P_dst, P_off, P_imm)                                \
	((struct bpf_insn){ .code = BPF_ST | BPF_SIZE(P_size) | BPF_MEM, \
			    .dst_reg = P_dst,                            \
			    .off = P_off,                                \
			    .imm = P_imm })
#define I_JMP_REG(P_op, P_dst, P_src, P_off)                        \
	((struct bpf_insn){ .code = BPF_JMP | BPF_OP(P_op) | BPF_X, \
			    .dst_reg = P_dst,                       \
			    .src_reg = P_src,                       \
			    .off = P_off })
#define I_JMP_IMM(P_op, P_dst, P_imm, P_off)                        \
	((struct bpf_insn){ .code = BPF_JMP | BPF_OP(P_op) | BPF_K, \
			    .dst_reg = P_dst,                       \
			    .off = P_off,                           \
			    .imm = P_imm })
#define I_JMP32_IMM(P_op, P_dst, P_imm, P_off)                        \
	((struct bpf_insn){ .code = BPF_JMP32 | BPF_OP(P_op) | BPF_K, \
			    .dst_reg = P_dst,                         \
			    .off = P_off,                             \
			    .imm = P_imm })
#define I_CALL(P_fn) ((struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .imm = P_fn })
#define I_EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })
/* Two instructions: load the map with this fd. */
#define I_LD_MAP_FD(P_dst, P_fd)                               \
	((struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM, \
			    .dst_reg = P_dst,                  \
			    .src_reg = BPF_PSEUDO_MAP_FD,      \
			    .imm = P_fd }),                    \
		((struct bpf_insn){ 0 })

static int gen_prog_load(const struct bpf_insn *insns, size_t n, const char *name)
{
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 0);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, n, &o);

	if (fd < 0) {
		int err = -errno;

		/* Load again with the verifier's log, to say why. */
		o.log_level = 1;
		bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", insns, n, &o);
		fprintf(stderr, "xpro-gen: loading XDP program %s: %s\n%s", name, strerror(-err),
			log);
		return err;
	}
	return fd;
}

int gen_prog_tx(uint32_t vary_base, uint32_t vary_n, uint32_t dev_off)
{
	struct bpf_insn vary[] = {
		I_MOV64_REG(BPF_REG_6, BPF_REG_1), /* r6 = ctx */
		I_CALL(BPF_FUNC_get_prandom_u32),
		I_ALU32_IMM(BPF_MOD, BPF_REG_0, (int32_t)vary_n),
		I_ALU32_IMM(BPF_ADD, BPF_REG_0, (int32_t)vary_base),
		I_ENDIAN_BE32(BPF_REG_0),
		I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, data)),
		I_LDX(BPF_W, BPF_REG_3, BPF_REG_6, offsetof(struct xdp_md, data_end)),
		I_MOV64_REG(BPF_REG_4, BPF_REG_2),
		I_ALU64_IMM(BPF_ADD, BPF_REG_4, (int32_t)(dev_off + 4)),
		I_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 1), /* frame too short: leave it */
		I_STX(BPF_W, BPF_REG_2, BPF_REG_0, (int16_t)dev_off),
		I_MOV64_IMM(BPF_REG_0, XDP_TX),
		I_EXIT(),
	};
	struct bpf_insn plain[] = { I_MOV64_IMM(BPF_REG_0, XDP_TX), I_EXIT() };

	if (vary_n)
		return gen_prog_load(vary, ARRAY_SIZE(vary), "xpro_gen_txv");
	return gen_prog_load(plain, ARRAY_SIZE(plain), "xpro_gen_tx");
}

int gen_prog_rx(enum gen_xdp_action act, int map_fd, const uint8_t mac[6], int ifindex)
{
	uint32_t mac_hi, verdict = act == GEN_XDP_DROP ? XDP_DROP : XDP_PASS;
	uint16_t mac_lo;
	struct bpf_insn p[] = {
		/* Count: r0 = lookup(map, &zero); (*r0)++ */
		I_MOV64_REG(BPF_REG_6, BPF_REG_1),
		I_ST(BPF_W, BPF_REG_10, -4, 0),
		I_MOV64_REG(BPF_REG_2, BPF_REG_10),
		I_ALU64_IMM(BPF_ADD, BPF_REG_2, -4),
		I_LD_MAP_FD(BPF_REG_1, map_fd),
		I_CALL(BPF_FUNC_map_lookup_elem),
		I_JMP_IMM(BPF_JEQ, BPF_REG_0, 0, 3),
		I_LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0),
		I_ALU64_IMM(BPF_ADD, BPF_REG_1, 1),
		I_STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0),
		/* Redirect only: destination MAC == mac ? bpf_redirect(ifindex) : verdict */
		I_MOV64_IMM(BPF_REG_0, (int32_t)verdict),
		I_JMP_IMM(BPF_JA, 0, 0, 0), /* pass, drop: replaced by exit */
		I_LDX(BPF_W, BPF_REG_2, BPF_REG_6, offsetof(struct xdp_md, data)),
		I_LDX(BPF_W, BPF_REG_3, BPF_REG_6, offsetof(struct xdp_md, data_end)),
		I_MOV64_REG(BPF_REG_4, BPF_REG_2),
		I_ALU64_IMM(BPF_ADD, BPF_REG_4, 6),
		I_JMP_REG(BPF_JGT, BPF_REG_4, BPF_REG_3, 7),
		I_LDX(BPF_W, BPF_REG_4, BPF_REG_2, 0),
		I_JMP32_IMM(BPF_JNE, BPF_REG_4, 0 /* mac_hi, below */, 5),
		I_LDX(BPF_H, BPF_REG_4, BPF_REG_2, 4),
		I_JMP32_IMM(BPF_JNE, BPF_REG_4, 0 /* mac_lo, below */, 3),
		I_MOV64_IMM(BPF_REG_1, ifindex),
		I_MOV64_IMM(BPF_REG_2, 0),
		I_CALL(BPF_FUNC_redirect),
		I_EXIT(),
	};

	size_t n = ARRAY_SIZE(p);

	if (act == GEN_XDP_REDIRECT) {
		/* The loads see the frame's bytes in host order: compare with the same view. */
		memcpy(&mac_hi, mac, 4);
		memcpy(&mac_lo, mac + 4, 2);
		p[19].imm = (int32_t)mac_hi;
		p[21].imm = mac_lo;
	} else {
		p[12] = I_EXIT(); /* the verifier refuses unreachable code: end here */
		n = 13;
	}
	return gen_prog_load(p, n, "xpro_gen_rx");
}
