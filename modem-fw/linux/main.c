/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xpro-modem: one event loop over the TUN interface (outbound packets, each
 * sealed and sent to the current proxy) and the UDP socket (the proxies'
 * PROBE_REPLY and OVERLOAD, checked by mfw_input()), with the library's
 * timers as the poll timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>

#include "control/log.h"
#include "modem.h"

#define STATUS_MS 200
#define TUN_BURST 64 /* packets per wakeup before looking at the socket again */
#define BUF_LEN 65600

static volatile sig_atomic_t got_quit;

static void on_signal(int sig)
{
	(void)sig;
	got_quit = 1;
}

static int udp_open(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), off = 0;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * What the host's stack sends on the TUN for the link itself (IPv6 link-local
 * sources, multicast destinations: router solicitations, MLD): never tunnelled,
 * the proxy would refuse them (SPOOF).  Counted as "link_local".
 */
static bool link_only(const uint8_t *p, size_t n)
{
	if (n < 40 || p[0] >> 4 != 6)
		return false;
	return (p[8] == 0xfe && (p[9] & 0xc0) == 0x80) || p[24] == 0xff;
}

static void from_tun(struct xm_state *s, uint8_t *buf)
{
	for (int i = 0; i < TUN_BURST; i++) {
		ssize_t n = read(s->tun_fd, buf + XPRO_TUN_HDR_LEN, BUF_LEN - MFW_SEND_BUFLEN(0));
		int rc;

		if (n <= 0)
			return;
		s->tun_rx++;
		if (link_only(buf + XPRO_TUN_HDR_LEN, (size_t)n)) {
			s->link_local++;
			continue;
		}
		rc = mfw_send(&s->ctx, buf, BUF_LEN, (size_t)n);
		if (rc == -MFW_ENETUNREACH || rc == -MFW_EAGAIN)
			s->no_proxy++;
		else if (rc == -MFW_EMSGSIZE || rc == -MFW_ENOSPC)
			s->too_big++;
	}
}

static void from_udp(struct xm_state *s, uint8_t *buf)
{
	for (;;) {
		struct sockaddr_in6 sa;
		socklen_t sl = sizeof(sa);
		struct mfw_addr from = { 0 };
		ssize_t n = recvfrom(s->udp_fd, buf, BUF_LEN, 0, (struct sockaddr *)&sa, &sl);
		int rc;

		if (n < 0)
			return;
		if (sa.sin6_family != AF_INET6)
			continue;
		memcpy(from.ip, &sa.sin6_addr, 16);
		from.port = ntohs(sa.sin6_port);
		rc = mfw_input(&s->ctx, &from, buf, (size_t)n);
		if (rc && s->cfg.verbose) {
			char a[64];

			xm_addr_str(&from, a, sizeof(a));
			xm_log("rejected a datagram from %s: %s", a, mfw_rej_name(rc));
		}
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int run(struct xm_state *s)
{
	static uint8_t buf[BUF_LEN];
	uint64_t next_status = 0;

	while (!got_quit) {
		struct pollfd pfd[2] = { { .fd = s->tun_fd, .events = POLLIN },
					 { .fd = s->udp_fd, .events = POLLIN } };
		uint32_t wait = mfw_poll(&s->ctx);
		uint64_t now;

		if (wait > STATUS_MS)
			wait = STATUS_MS;
		if (poll(pfd, 2, (int)wait) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & POLLIN)
			from_udp(s, buf);
		if (pfd[0].revents & POLLIN)
			from_tun(s, buf);
		now = mono_ms();
		if (s->cfg.status_file[0] && now >= next_status) {
			xm_status_write(s);
			next_status = now + STATUS_MS;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct xm_state s;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256];
	int rc;

	xlog_init("xpro-modem");
	rc = xm_parse_args(argc, argv, &s.cfg);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (sodium_init() < 0) {
		xm_log("libsodium failed to initialise");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.tun_fd = s.udp_fd = s.epoch_fd = -1;
	s.epoch_fd = open(s.cfg.epoch_file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s.epoch_fd < 0) {
		xm_log("%s: %s", s.cfg.epoch_file, strerror(errno));
		return 1;
	}
	s.udp_fd = udp_open();
	if (s.udp_fd < 0) {
		xm_log("UDP socket: %s", strerror(errno));
		return 1;
	}
	xm_platform(&s);
	/* The epoch is stored before anything is sent, so boot before the TUN takes traffic. */
	rc = mfw_init(&s.ctx, &s.cfg.mfw, &s.plat, s.px, XM_MAX_PROXIES);
	if (rc) {
		xm_log("boot failed: %s", strerror(-rc));
		return 1;
	}
	for (int i = 0; i < s.cfg.nproxies; i++) {
		rc = mfw_proxy_add(&s.ctx, &s.cfg.proxy[i], s.cfg.secret[i]);
		if (rc < 0) {
			xm_log("proxy %d: %s", i, strerror(-rc));
			return 1;
		}
	}
	if (xm_uplink_setup(&s.cfg, s.udp_fd, err, sizeof(err))) {
		xm_log("%s", err);
		return 1;
	}
	s.tun_fd = xm_tun_open(&s.cfg, err, sizeof(err));
	if (s.tun_fd < 0) {
		xm_log("%s", err);
		return 1;
	}
	xm_log("running: device %u, epoch %u, %d prox%s, TUN %s", s.cfg.dev, s.ctx.epoch,
	       s.cfg.nproxies, s.cfg.nproxies == 1 ? "y" : "ies", s.cfg.tun);
	rc = run(&s);
	if (s.cfg.status_file[0])
		xm_status_write(&s);
	xm_log("stopping: %u sent, %u switches", s.ctx.st.data_sent, s.ctx.st.switches);
	close(s.tun_fd);
	close(s.udp_fd);
	close(s.epoch_fd);
	return rc ? 1 : 0;
}
