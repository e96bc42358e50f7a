/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake platform for the modem library's tests: a clock the test moves, a
 * UDP "network" that records what the device sends, flash that can lose
 * power after any number of program steps, libsodium's AEAD, and an event
 * log.  Plus helpers that play the proxy's part (replies, overloads).
 */
#ifndef XPRO_TEST_MFW_FAKE_H
#define XPRO_TEST_MFW_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "mfw.h"

#define FAKE_SENT_MAX 256 /* datagrams remembered (a ring) */
#define FAKE_DGRAM_MAX 2048
#define FAKE_EV_MAX 64
#define FAKE_PROXIES 4

struct fake_dgram {
	struct mfw_addr to;
	size_t len;
	uint8_t buf[FAKE_DGRAM_MAX];
};

struct fake {
	uint64_t now;
	unsigned nsent; /* total; the last FAKE_SENT_MAX are in sent[] */
	struct fake_dgram sent[FAKE_SENT_MAX];
	int send_err; /* non-zero: udp_send fails with it */
	/* Flash: one step is a slot erase or one byte programmed. */
	uint8_t flash[2][MFW_EPOCH_REC_LEN];
	long steps_left; /* < 0: no power cut planned */
	int power_off; /* the cut happened: every later write fails */
	uint8_t torn; /* value left in the byte being programmed at the cut */
	int stuck; /* writes report success but change nothing */
	unsigned steps; /* steps done since fake_init (all boots) */
	uint32_t rng;
	unsigned nev;
	int ev[FAKE_EV_MAX][3]; /* type, proxy, arg */
	struct mfw_platform plat;
	/* A device on this platform. */
	struct mfw_ctx ctx;
	struct mfw_proxy px[FAKE_PROXIES];
};

/* Erased flash, clock at 1000, no power cut, AEAD present. */
void fake_init(struct fake *f);
/* cmocka setup and teardown: *state is a fresh struct fake (fake_init'ed). */
int fake_setup(void **state);
int fake_teardown(void **state);
/* Power back on (a reboot keeps the flash, clock and network logs). */
void fake_power_on(struct fake *f);
/* Datagram k counted from the end (0: the last sent).  Asserts it exists. */
const struct fake_dgram *fake_sent(const struct fake *f, unsigned k);
/* How many events of type were logged. */
unsigned fake_events(const struct fake *f, enum mfw_event_type type);

/* Proxy i of the fake world: 198.18.0.(1+i):7447, secret (0x11 * (i + 1))... */
struct mfw_addr fake_proxy_addr(unsigned i);
void fake_proxy_secret(unsigned i, uint8_t secret[XPRO_TUN_SECRET_LEN]);

/* mfw_init with defaults (dev 1) and fake_add_proxies(n).  Returns mfw_init's result. */
int fake_boot(struct fake *f, const struct mfw_config *cfg, unsigned n);

/* What a proxy would send: a PROBE_REPLY or OVERLOAD sealed under proxy i's PK. */
struct fake_peer {
	struct mfw_addr addr;
	uint16_t load;
	uint8_t state;
};
size_t fake_reply(uint8_t *msg, unsigned i, uint32_t epoch, uint32_t dev, uint64_t seq,
		  uint64_t echo, uint8_t flags, uint16_t load, const struct fake_peer *peers,
		  unsigned npeers);
size_t fake_overload(uint8_t *msg, unsigned i, uint32_t epoch, uint32_t dev, uint64_t seq,
		     uint8_t reason, uint16_t load, uint32_t hold_ms);

/* Proxy i's next sequence number (one increasing counter per proxy, as a proxy keeps). */
uint64_t fake_proxy_seq(unsigned i);

/*
 * Play proxy i answering the latest probe the device sent it (if any) with
 * load and flags; its own sequence number is kept in a counter per proxy.
 * Returns mfw_input's result, or 1 if no probe to i was found.
 */
int fake_answer(struct fake *f, unsigned i, uint8_t flags, uint16_t load);

/* Advance the clock by ms in steps of at most 10 ms, polling each step. */
void fake_run(struct fake *f, uint64_t ms);

#endif
