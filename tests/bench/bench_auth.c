// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tunnel's per-packet cost on one core: SipHash-2-4 alone over a message
 * (the floor), and tun_auth() (structure, device lookup, epoch and replay
 * snapshot, tag, commit, inner check) over sealed DATA messages from many
 * devices, each message fresh so that every one is accepted.  Prints BENCH
 * lines; the ratio auth/siphash says what the checks around the tag cost.
 *
 * Knobs (environment): BENCH_QUICK=1 (fewer packets), BENCH_DEVS (1024).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include <urcu.h>

#include "xpro/siphash.h"
#include "dataplane/devtab.h"
#include "dataplane/tunnel.h"

#define NMSG 4096 /* messages sealed per batch, then authenticated */

static uint64_t next_seq = 1; /* across sizes: the devices keep their windows */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 10) : def;
}

/* An inner IPv4/UDP packet of len bytes from src to 198.19.0.1. */
static void inner4(uint8_t *p, size_t len, uint32_t src)
{
	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	src = htonl(src);
	memcpy(p + 12, &src, 4);
	p[16] = 198;
	p[17] = 19;
	p[19] = 1;
}

static void secret_of(uint32_t dev, uint8_t s[XPRO_TUN_SECRET_LEN])
{
	for (unsigned i = 0; i < XPRO_TUN_SECRET_LEN; i++)
		s[i] = (uint8_t)(dev * 31 + i);
}

static int bench_size(struct tun_devtab *t, uint32_t ndevs, size_t inner_len, uint64_t pkts)
{
	size_t mlen = tun_seal_len(inner_len);
	uint8_t *msgs = malloc(NMSG * mlen), inner[2048], sec[XPRO_TUN_SECRET_LEN];
	uint8_t ik[XPRO_IK_LEN];
	struct xpro_sipkey k;
	struct tun_pkt out;
	uint64_t t0, t1, acc = 0, ok = 0, sent = 0;
	int r;

	if (!msgs) {
		printf("BENCH name=auth inner=%zu error=no_memory\n", inner_len);
		return -1;
	}
	for (uint64_t n = 0; n < pkts;) {
		/* Seal a fresh batch (not timed): every sequence number is new. */
		for (unsigned i = 0; i < NMSG; i++) {
			uint32_t dev = i % ndevs;

			secret_of(dev, sec);
			xpro_derive_ik(sec, 1, ik);
			inner4(inner, inner_len, 0xc6120000u + dev);
			tun_seal(msgs + i * mlen, mlen, ik, XPRO_MSG_DATA, 1, dev,
				 next_seq + i / ndevs, inner, inner_len);
		}
		next_seq += NMSG / ndevs + 1;
		t0 = now_ns();
		rcu_read_lock();
		for (unsigned i = 0; i < NMSG; i++) {
			r = tun_auth(t, msgs + i * mlen, mlen, &out);
			ok += r == 0;
		}
		rcu_read_unlock();
		t1 = now_ns();
		acc += t1 - t0;
		n += NMSG;
		sent += NMSG;
	}
	if (ok != sent) {
		printf("BENCH name=auth inner=%zu error=rejected accepted=%" PRIu64 "\n", inner_len,
		       ok);
		free(msgs);
		return -1;
	}
	printf("BENCH name=auth inner=%zu msg=%zu devs=%u pkts=%" PRIu64
	       " ns_per_pkt=%.1f mpps=%.2f\n",
	       inner_len, mlen, ndevs, ok, (double)acc / (double)ok,
	       (double)ok * 1e3 / (double)acc);

	/* The floor: SipHash alone over the same bytes. */
	secret_of(0, sec);
	xpro_sipkey_load(&k, sec);
	t0 = now_ns();
	acc = 0;
	for (uint64_t n = 0; n < ok; n++)
		acc ^= xpro_siphash(&k, msgs + (n % NMSG) * mlen, mlen - XPRO_TUN_TAG_LEN);
	t1 = now_ns();
	printf("BENCH name=siphash bytes=%zu ns_per_msg=%.1f gbps=%.2f check=%" PRIx64 "\n",
	       mlen - XPRO_TUN_TAG_LEN, (double)(t1 - t0) / (double)ok,
	       (double)ok * (double)(mlen - XPRO_TUN_TAG_LEN) * 8 / (double)(t1 - t0), acc & 0xff);
	free(msgs);
	return 0;
}

int main(void)
{
	uint32_t ndevs = (uint32_t)env_u64("BENCH_DEVS", 1024);
	uint64_t pkts = env_u64("BENCH_QUICK", 0) ? 200000 : 4000000;
	struct tun_dev_conf *conf = calloc(ndevs, sizeof(*conf));
	struct tun_devtab *t = tun_devtab_new();
	static const size_t sizes[] = { 64, 512, 1400 };

	if (!conf || !t || !ndevs || ndevs > NMSG) {
		printf("BENCH name=auth error=setup devs=%u\n", ndevs);
		return 1;
	}
	rcu_register_thread();
	for (uint32_t d = 0; d < ndevs; d++) {
		conf[d].dev = d;
		secret_of(d, conf[d].secret);
		conf[d].prefix[10] = conf[d].prefix[11] = 0xff;
		conf[d].prefix[12] = 198;
		conf[d].prefix[13] = 18;
		conf[d].plen = 96 + 16;
		conf[d].ipver = 4;
		conf[d].active = true;
	}
	if (tun_devtab_replace(t, conf, ndevs)) {
		printf("BENCH name=auth error=devtab_replace devs=%u\n", ndevs);
		return 1;
	}
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		bench_size(t, ndevs, sizes[i], pkts);
	tun_devtab_free(t);
	free(conf);
	rcu_unregister_thread();
	return 0;
}
