/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generator's XDP programs, a dozen instructions each, assembled at run
 * time (no clang step): XDP_TX for BPF_PROG_RUN live frames, and pass, drop
 * or redirect-by-MAC with a packet counter for the receiving side.
 */
#ifndef XPRO_GEN_XDP_PROG_H
#define XPRO_GEN_XDP_PROG_H

#include <stdint.h>

/*
 * The transmitter: returns XDP_TX.  With vary_n > 0 it first writes a random
 * device index in [vary_base, vary_base + vary_n) at byte dev_off of the frame.
 * Returns a program fd or -errno.
 */
int gen_prog_tx(uint32_t vary_base, uint32_t vary_n, uint32_t dev_off);

enum gen_xdp_action { GEN_XDP_PASS, GEN_XDP_DROP, GEN_XDP_REDIRECT };

/*
 * The receiver: counts every frame in slot 0 of the per-CPU array map_fd,
 * then passes or drops it; or, for redirect, sends frames whose destination
 * MAC is mac to ifindex (bpf_redirect) and passes the others.  Returns a
 * program fd or -errno.
 */
int gen_prog_rx(enum gen_xdp_action act, int map_fd, const uint8_t mac[6], int ifindex);

#endif /* XPRO_GEN_XDP_PROG_H */
