/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modem-fw: the device side of X-Pro for a small modem MCU.  It seals every
 * outbound IP packet into the tunnel (docs/protocol.md), keeps the key epoch
 * in flash, probes the proxies and picks the one to send through.
 *
 * C99, freestanding: no allocation, no stdio, no libc beyond what a compiler
 * may call (memcpy, memset).  The caller owns every byte: the context, the
 * proxy table and the packet buffers.  One context per device, used from one
 * thread (or one main loop); nothing in it is locked.
 *
 * The platform is a table of function pointers rather than link-time
 * functions: the host tests run several fake platforms (clock, UDP, flash
 * with power cuts) in one binary, and a port may wrap an existing driver
 * object through the user pointer.  One indirect call per packet costs
 * nothing next to a SipHash.
 *
 * Receiving is a call, not a hook: the port's event loop (an interrupt
 * handler's queue, poll() on Linux) hands each UDP datagram from the tunnel
 * port to mfw_input(); the library never blocks or waits.
 */
#ifndef MFW_H
#define MFW_H

#include <stddef.h>
#include <stdint.h>

/*
 * The protocol core shared with the proxy (the repository's include/xpro/):
 * wire format, SipHash and key derivation, replay window.  Freestanding.
 */
#include "xpro/replay.h"
#include "xpro/siphash.h"
#include "xpro/tunnel.h"

/*
 * Error numbers: a freestanding build has no <errno.h>, so the library
 * names the Linux values it returns (negated), and the Linux port passes
 * them on unchanged.  tests/modem checks them against <errno.h>.
 */
#define MFW_EIO 5
#define MFW_EAGAIN 11
#define MFW_EINVAL 22
#define MFW_ENOSPC 28
#define MFW_EOVERFLOW 75
#define MFW_EMSGSIZE 90
#define MFW_ENETUNREACH 101

/* A proxy's tunnel address: IPv6, or IPv4 as ::ffff:a.b.c.d; port in host order. */
struct mfw_addr {
	uint8_t ip[16];
	uint16_t port;
};

/* What the library reports to the port (logging, tests).  Optional hook. */
enum mfw_event_type {
	MFW_EV_SWITCH = 1, /* proxy: the new current; arg: the old one, or -1 */
	MFW_EV_PROXY_DOWN, /* proxy: probes unanswered; arg: misses */
	MFW_EV_PROXY_UP, /* proxy: answered again after being down */
	MFW_EV_OVERLOAD, /* proxy: sender; arg: reason (XPRO_OVL_*) */
	MFW_EV_NO_PROXY, /* no proxy is usable; arg: 0 */
};

/*
 * The platform.  All hooks receive user.  Every hook but event and
 * aead_seal is required.  Return conventions: 0 or -errno.
 */
struct mfw_platform {
	void *user;
	/* Monotonic milliseconds (any origin); never goes back. */
	uint64_t (*now_ms)(void *user);
	/* len random bytes (probe jitter only: a weak source is acceptable). */
	int (*random)(void *user, void *buf, size_t len);
	/* Send one UDP datagram to the proxy (from the port the proxy replies to). */
	int (*udp_send)(void *user, const struct mfw_addr *to, const void *buf, size_t len);
	/*
	 * Persistent storage of the key epoch: two slots (0 and 1) of
	 * MFW_EPOCH_REC_LEN bytes each, independently erasable.  A write may
	 * be cut by a power loss at any point and leave the slot torn; the
	 * other slot must stay intact.  Read returns the stored bytes (after
	 * a torn write, whatever the flash holds).
	 */
	int (*store_read)(void *user, unsigned slot, void *buf, size_t len);
	int (*store_write)(void *user, unsigned slot, const void *buf, size_t len);
	/*
	 * Optional (NULL: the device cannot encrypt): ChaCha20-Poly1305
	 * (RFC 8439) of len bytes at in into out (len + XPRO_AEAD_TAG_LEN
	 * bytes: ciphertext, then tag), with ad authenticated.  in == out is
	 * allowed.  libsodium: crypto_aead_chacha20poly1305_ietf_encrypt.
	 */
	int (*aead_seal)(void *user, uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad,
			 size_t adlen, const uint8_t nonce[XPRO_AEAD_NONCE_LEN],
			 const uint8_t key[XPRO_EK_LEN]);
	/* Optional: something happened (see enum mfw_event_type). */
	void (*event)(void *user, enum mfw_event_type type, int proxy, int arg);
};

enum mfw_encrypt {
	MFW_ENC_OFF = 0, /* always plaintext */
	MFW_ENC_PREFER, /* encrypt to proxies that said ENC_OK, plaintext to the others */
	MFW_ENC_REQUIRE, /* refuse to send DATA to a proxy that has not said ENC_OK */
};

/*
 * Tunables.  mfw_config_default() fills the defaults named here; each is in
 * milliseconds or permille of a proxy's capacity.
 */
struct mfw_config {
	uint32_t dev; /* device index, as provisioned on the proxies */
	uint16_t t_w; /* 800: leave the current proxy when its load is above T_W */
	uint16_t hyst; /* 150: a new proxy must be at or below T_W - hyst (no flapping) */
	uint32_t dwell_ms; /* 10000: no load-driven switch sooner after the last switch */
	uint32_t probe_ms; /* 1000: probe interval for the current proxy */
	uint32_t probe_idle_ms; /* 5000: probe interval for the others */
	uint32_t probe_timeout_ms; /* 500: a probe unanswered this long is a miss */
	uint8_t miss_max; /* 3: consecutive misses that make a proxy down (~1.5-2.5 s) */
	uint8_t encrypt; /* enum mfw_encrypt; MFW_ENC_OFF */
	uint32_t hold_max_ms; /* 60000: longest stay-away an OVERLOAD may ask for */
	uint32_t hold_default_ms; /* 10000: stay-away when an OVERLOAD asks for 0 */
};

/* Why mfw_input() refused a datagram (it returns the negated value). */
enum mfw_rej {
	MFW_OK = 0,
	MFW_REJ_SHORT, /* shorter than header and tag */
	MFW_REJ_VERSION,
	MFW_REJ_DIRECTION, /* a device -> proxy type (DATA, PROBE): reflected */
	MFW_REJ_TYPE, /* unknown type */
	MFW_REJ_FLAGS, /* flags or reserved not zero */
	MFW_REJ_PROXY, /* source address is not a configured proxy */
	MFW_REJ_DEV, /* another device's index */
	MFW_REJ_EPOCH, /* not this boot's epoch */
	MFW_REJ_REPLAY, /* proxy sequence already seen or too old */
	MFW_REJ_MAC, /* tag does not verify under the proxy's PK */
	MFW_REJ_PAYLOAD, /* authenticated, but the payload is malformed: ignored */
	MFW_REJ_N,
};

enum mfw_pstate {
	MFW_P_UNKNOWN = 0, /* not heard from yet this boot; usable */
	MFW_P_UP, /* answered its last probes */
	MFW_P_DOWN, /* miss_max probes in a row unanswered; unusable until it answers */
};

#define MFW_PF_ENC_OK 0x01 /* its last reply said ENC_OK */
#define MFW_PF_UNAVAIL 0x02 /* its last reply said UNAVAIL */
#define MFW_PF_PEER_UNAVAIL 0x04 /* a peer reported it unavailable since */
#define MFW_PF_PROBE_OUT 0x08 /* a probe is outstanding */
#define MFW_PF_KEYED 0x10 /* keys derived: the entry is in use */

/*
 * One proxy.  The secret is not kept: its per-epoch keys are derived once
 * at mfw_proxy_add() and a new epoch needs a new boot anyway.
 */
struct mfw_proxy {
	struct xpro_sipkey ik, pk; /* IK and PK of this epoch as SipHash key words */
	uint8_t ek[XPRO_EK_LEN]; /* EK of this epoch */
	struct xpro_replay rx; /* proxy -> device replay window, the proxy's own rule */
	uint64_t probe_seq; /* our sequence number of the last probe sent to it */
	uint64_t probe_sent_ms, next_probe_ms, hold_until_ms;
	struct mfw_addr addr;
	uint16_t load; /* permille, last reported (by it or a peer); 0 until then */
	uint8_t state; /* enum mfw_pstate */
	uint8_t flags; /* MFW_PF_* */
	uint8_t misses; /* consecutive unanswered probes */
	uint32_t rtt_ms; /* of the last answered probe */
};

struct mfw_stats {
	uint32_t data_sent, send_errors, probes, replies, overloads, switches;
	uint32_t rej[MFW_REJ_N]; /* by enum mfw_rej; rej[0] unused */
};

struct mfw_ctx {
	const struct mfw_platform *plat;
	struct mfw_config cfg;
	struct mfw_proxy *px; /* caller's array of max_px entries */
	uint8_t npx, max_px;
	int8_t cur; /* index of the current proxy, -1: none */
	uint8_t booted;
	uint8_t stranded; /* the current proxy is unusable and no other is */
	uint32_t epoch; /* this boot's, stored before use */
	uint64_t seq; /* next sequence number, shared by all proxies */
	uint64_t switched_ms; /* last switch, for dwell_ms */
	struct mfw_stats st;
};

/* Epoch record in each flash slot: magic, be32 epoch, CRC-32 of the first 8 bytes. */
#define MFW_EPOCH_REC_LEN 12

/* Most proxies a context can hold (cur is an int8_t). */
#define MFW_MAX_PROXIES 64

/* The defaults documented in struct mfw_config, for device dev. */
void mfw_config_default(struct mfw_config *cfg, uint32_t dev);

/*
 * Boot: validate cfg and plat, advance the key epoch in flash and read it
 * back (docs/protocol.md "Epochs"), then start with no proxies.  px is the
 * caller's table of max_px entries.  No packet may be sent before this
 * returns 0.  Returns 0, -MFW_EINVAL (bad config or missing hook), -MFW_EIO (the
 * epoch could not be stored: the device must not send; retry at the next
 * boot) or -MFW_EOVERFLOW (epochs exhausted).
 */
int mfw_init(struct mfw_ctx *c, const struct mfw_config *cfg, const struct mfw_platform *plat,
	     struct mfw_proxy *px, unsigned max_px);

/*
 * Add a proxy with the secret it shares with this device; derive this
 * epoch's keys.  The first proxy added becomes the current one (order the
 * list to spread devices).  Returns its index, -MFW_EINVAL or -MFW_ENOSPC.
 */
int mfw_proxy_add(struct mfw_ctx *c, const struct mfw_addr *addr,
		  const uint8_t secret[XPRO_TUN_SECRET_LEN]);

/* Buffer bytes mfw_send() needs around an inner packet of len bytes. */
#define MFW_SEND_BUFLEN(len) (XPRO_TUN_HDR_LEN + (len) + XPRO_AEAD_TAG_LEN + XPRO_TUN_TAG_LEN)

/*
 * Seal the inner IP packet of len bytes that the caller placed at
 * buf + XPRO_TUN_HDR_LEN, in place, and send it to the current proxy.  buflen
 * must be at least MFW_SEND_BUFLEN(len).  Encrypts when the config and the
 * proxy agree.  Returns the datagram length, -MFW_ENETUNREACH (no proxy),
 * -MFW_EAGAIN (MFW_ENC_REQUIRE and the proxy has not said ENC_OK yet), -MFW_ENOSPC,
 * -MFW_EMSGSIZE, -MFW_EOVERFLOW (sequence numbers exhausted) or the send hook's
 * error.  A sequence number is spent even when the send hook fails.
 */
int mfw_send(struct mfw_ctx *c, uint8_t *buf, size_t buflen, size_t len);

/*
 * One UDP datagram received from from (its source address and port).
 * Checks, cheapest first: structure, direction, proxy, device, epoch,
 * replay, tag, payload; only then updates anything.  Returns 0 or
 * -MFW_REJ_* (also counted in st.rej).
 */
int mfw_input(struct mfw_ctx *c, const struct mfw_addr *from, const uint8_t *msg, size_t len);

/*
 * Run the timers: probe timeouts, probes due, proxy selection.  Call it
 * at least as soon as its last return value says (milliseconds until the
 * next deadline), and after each mfw_input().
 */
uint32_t mfw_poll(struct mfw_ctx *c);

/* Index of the current proxy, or -1. */
int mfw_current(const struct mfw_ctx *c);

/* "OK", "SHORT", ... for mfw_input()'s return value. */
const char *mfw_rej_name(int r);

/* --- building blocks, also used by the tests --------------------------------------------- */

/*
 * SipHash-2-4 of len bytes (xpro_siphash(), one copy for the library's
 * callers: an MCU pays for code size).
 */
uint64_t mfw_siphash(const struct xpro_sipkey *k, const void *data, size_t len);

/* xpro_kdf(): nwords key words of epoch from secret under an XPRO_LABEL_*. */
void mfw_kdf(const uint8_t secret[XPRO_TUN_SECRET_LEN], const char *label, uint32_t epoch,
	     uint8_t *out, unsigned nwords);

/*
 * Write a header (flags included) and the tag for a message whose payload
 * of len bytes already sits at msg + XPRO_TUN_HDR_LEN.  Returns the message
 * length, XPRO_TUN_OVERHEAD + len.
 */
size_t mfw_seal(uint8_t *msg, const struct xpro_sipkey *key, unsigned type, unsigned flags,
		uint32_t epoch, uint32_t dev, uint64_t seq, size_t len);

#endif /* MFW_H */
