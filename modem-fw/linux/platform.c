/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The library's platform hooks on Linux: monotonic clock, getrandom, one
 * dual-stack UDP socket, the epoch's two slots in one file (each write
 * fsync'd before the library goes on), libsodium's ChaCha20-Poly1305, and an
 * event sink that logs and remembers proxy switches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "xpro/addr_text.h"
#include "control/log.h"
#include "modem.h"

/* The hosted binaries' one sink (src/control/log.h): RFC 3339 time, program, level. */
void xm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xlog_v(XLOG_INFO, fmt, ap);
	va_end(ap);
}

void xm_addr_str(const struct mfw_addr *a, char *out, size_t len)
{
	xpro_addr_format(a->ip, a->port, out, len);
}

static uint64_t now_ms(void *user)
{
	struct timespec ts;

	(void)user;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int rnd(void *user, void *buf, size_t len)
{
	(void)user;
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -MFW_EIO;
}

static int udp_send(void *user, const struct mfw_addr *to, const void *buf, size_t len)
{
	struct xm_state *s = user;
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(to->port) };

	memcpy(&sa.sin6_addr, to->ip, 16);
	if (sendto(s->udp_fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

static int store_read(void *user, unsigned slot, void *buf, size_t len)
{
	struct xm_state *s = user;
	ssize_t n = pread(s->epoch_fd, buf, len, (off_t)(slot * MFW_EPOCH_REC_LEN));

	if (n < 0)
		return -MFW_EIO;
	/* A slot never written reads as erased flash. */
	memset((uint8_t *)buf + n, 0xff, len - (size_t)n);
	return 0;
}

static int store_write(void *user, unsigned slot, const void *buf, size_t len)
{
	struct xm_state *s = user;

	if (pwrite(s->epoch_fd, buf, len, (off_t)(slot * MFW_EPOCH_REC_LEN)) != (ssize_t)len ||
	    fsync(s->epoch_fd))
		return -MFW_EIO;
	return 0;
}

static int aead_seal(void *user, uint8_t *out, const uint8_t *in, size_t len, const uint8_t *ad,
		     size_t adlen, const uint8_t nonce[XPRO_AEAD_NONCE_LEN],
		     const uint8_t key[XPRO_EK_LEN])
{
	unsigned long long clen;

	(void)user;
	return crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, len, ad, adlen, NULL,
							 nonce, key)
		       ? -MFW_EIO
		       : 0;
}

static const char *px_name(const struct xm_state *s, int i, char *buf, size_t len)
{
	if (i < 0 || i >= s->ctx.npx)
		return "none";
	xm_addr_str(&s->px[i].addr, buf, len);
	return buf;
}

static void event(void *user, enum mfw_event_type type, int proxy, int arg)
{
	struct xm_state *s = user;
	char a[64], b[64];
	struct timespec ts;

	switch (type) {
	case MFW_EV_SWITCH:
		clock_gettime(CLOCK_REALTIME, &ts);
		s->sw[s->nsw % XM_SWITCH_LOG] = (struct xm_switch){
			.at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
			.from = arg,
			.to = proxy,
		};
		s->nsw++;
		xm_log("switch: %s -> %s", px_name(s, arg, a, sizeof(a)),
		       px_name(s, proxy, b, sizeof(b)));
		break;
	case MFW_EV_PROXY_DOWN:
		xm_log("proxy %s down (%d probes unanswered)", px_name(s, proxy, a, sizeof(a)),
		       arg);
		break;
	case MFW_EV_PROXY_UP:
		xm_log("proxy %s up", px_name(s, proxy, a, sizeof(a)));
		break;
	case MFW_EV_OVERLOAD:
		xm_log("OVERLOAD from %s (reason %d)", px_name(s, proxy, a, sizeof(a)), arg);
		break;
	case MFW_EV_NO_PROXY:
		xm_log("no usable proxy");
		break;
	}
	if (s->cfg.status_file[0])
		xm_status_write(s);
}

void xm_platform(struct xm_state *s)
{
	s->plat = (struct mfw_platform){
		.user = s,
		.now_ms = now_ms,
		.random = rnd,
		.udp_send = udp_send,
		.store_read = store_read,
		.store_write = store_write,
		.aead_seal = aead_seal,
		.event = event,
	};
}
