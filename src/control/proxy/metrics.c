/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Prometheus endpoint: HTTP/1.0 on its own thread, GET /metrics in the
 * text exposition format (the families of the counter table, counters.h,
 * docs/metrics.md), 404 for any other path.  One connection at a time,
 * requests bounded in size and time: a scraper is a trusted, occasional
 * client, and a stuck one must not hold the thread for long.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <urcu.h>

#include "xpro/addr.h"
#include "control/proxy/ctl.h"
#include "control/proxy/state.h"

#define REQ_MAX 2048 /* request line and headers we read; the rest is ignored */
#define IO_MS 1000

struct px_metrics {
	struct px_state *s;
	int lfd;
	int quit; /* atomic */
	pthread_t thread;
	struct px_counters c;
};

/* Status, headers and (unless head) the body. */
static void reply_to(int fd, bool head, const char *status, const char *type, const char *body,
		     size_t len)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	if (send(fd, hdr, (size_t)n, MSG_NOSIGNAL) != n || head)
		return;
	for (size_t off = 0; off < len;) {
		ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

static void serve(struct px_metrics *m, int fd)
{
	struct timeval tv = { IO_MS / 1000, (IO_MS % 1000) * 1000 };
	char req[REQ_MAX + 1], *body = NULL, *path;
	bool head;
	size_t n = 0, blen = 0;
	FILE *f;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* The request line is all we need; stop at the end of the headers. */
	while (n < REQ_MAX) {
		ssize_t r = recv(fd, req + n, REQ_MAX - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[n] = 0;
	/* GET, and HEAD (the same headers, no body: what load balancers probe with). */
	head = !strncmp(req, "HEAD ", 5);
	path = req + (head ? 5 : 4);
	if (!head && strncmp(req, "GET ", 4)) {
		reply_to(fd, false, "400 Bad Request", "text/plain", "bad request\n", 12);
		return;
	}
	if (strncmp(path, "/metrics ", 9) && strncmp(path, "/metrics?", 9) &&
	    strncmp(path, "/metrics\r", 9)) {
		reply_to(fd, head, "404 Not Found", "text/plain", "not found; try /metrics\n", 24);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	px_counters_read(m->s, &m->c);
	px_counters_prometheus(f, &m->c);
	if (!fclose(f))
		reply_to(fd, head, "200 OK", "text/plain; version=0.0.4", body, blen);
	free(body);
}

static void *metrics_thread(void *arg)
{
	struct px_metrics *m = arg;

	rcu_register_thread();
	while (!__atomic_load_n(&m->quit, __ATOMIC_RELAXED)) {
		struct pollfd p = { .fd = m->lfd, .events = POLLIN };

		if (poll(&p, 1, 200) == 1) {
			int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve(m, fd);
				close(fd);
			}
		}
	}
	rcu_unregister_thread();
	return NULL;
}

/* "ADDR:PORT" or "[V6]:PORT" into a listening socket; -errno or the fd. */
static int listen_on(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE },
			*ai;
	char host[64], port[8];
	uint16_t p;
	int fd, one = 1, err;

	if (xpro_hostport_split(spec, host, sizeof(host), &p, XPRO_HP_PORT))
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", p);
	if (getaddrinfo(host, port, &hints, &ai))
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 16) ? -errno : 0;
	if (err)
		close(fd);
out_free:
	freeaddrinfo(ai);
	return err ? err : fd;
}

struct px_metrics *px_metrics_start(struct px_state *s, const char *addr)
{
	struct px_metrics *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->s = s;
	m->lfd = listen_on(addr);
	if (m->lfd < 0) {
		pr_warn("metrics: bad value '%s' (%s)", addr,
			m->lfd == -EINVAL ? "expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464"
					  : strerror(-m->lfd));
		free(m);
		return NULL;
	}
	err = pthread_create(&m->thread, NULL, metrics_thread, m);
	if (err) {
		pr_warn("metrics: %s", strerror(err));
		close(m->lfd);
		free(m);
		return NULL;
	}
	pr_info("metrics at http://%s/metrics", addr);
	return m;
}

void px_metrics_stop(struct px_metrics *m)
{
	if (!m)
		return;
	__atomic_store_n(&m->quit, 1, __ATOMIC_RELAXED);
	pthread_join(m->thread, NULL);
	close(m->lfd);
	free(m);
}
