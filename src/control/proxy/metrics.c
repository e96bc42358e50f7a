/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Prometheus endpoint: HTTP/1.0 on its own thread, GET /metrics in the
 * text exposition format, 404 for any other path.  One connection at a time,
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

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP xpro_%s %s\n# TYPE xpro_%s %s\n", name, help, name, type);
}

void px_metrics_write(FILE *f, const struct px_counters *c, const char *iface)
{
	const struct sync_round_stats *st = &c->snap.sync;

#define PER_WORKER(name, type, help, expr)                                                   \
	do {                                                                                 \
		head(f, name, type, help);                                                   \
		for (int i = 0; i < c->nw; i++)                                              \
			fprintf(f, "xpro_%s{iface=\"%s\",queue=\"%d\"} %" PRIu64 "\n", name, \
				iface, c->w[i].queue, (uint64_t)(expr));                     \
	} while (0)
	PER_WORKER("rx_packets_total", "counter", "Packets received by the worker.", c->w[i].ws.rx);
	PER_WORKER("rx_bytes_total", "counter", "Bytes received by the worker.",
		   c->w[i].ws.rx_bytes);
	PER_WORKER("tx_packets_total", "counter", "Packets forwarded through AF_XDP.",
		   c->w[i].ws.tx);
	PER_WORKER("tx_kernel_packets_total", "counter",
		   "Packets forwarded through the kernel (next hop unknown).",
		   c->w[i].ws.tx_kernel);
	PER_WORKER("tx_fail_packets_total", "counter", "Packets that could not be sent.",
		   c->w[i].ws.tx_fail);
	PER_WORKER("worker_zerocopy", "gauge", "1 if the queue runs AF_XDP zero-copy.",
		   c->w[i].zerocopy);
	head(f, "verdicts_total", "counter", "Filter verdicts (Algorithm 2) per worker.");
	for (int i = 0; i < c->nw; i++)
		for (int v = 0; v < XF_NVERDICTS; v++)
			fprintf(f,
				"xpro_verdicts_total{iface=\"%s\",queue=\"%d\",verdict=\"%s\"} "
				"%" PRIu64 "\n",
				iface, c->w[i].queue, xf_verdict_name(v), c->w[i].xs.verdict[v]);
	head(f, "rejected_total", "counter", "Tunnel packets rejected, by reason.");
	for (int i = 0; i < c->nw; i++)
		for (int r = 1; r < TUN_REJ_N; r++)
			fprintf(f,
				"xpro_rejected_total{iface=\"%s\",queue=\"%d\",reason=\"%s\"} "
				"%" PRIu64 "\n",
				iface, c->w[i].queue, tun_rej_name(r), c->w[i].ws.rejected[r]);
	if (c->xdp_ok) {
		head(f, "xdp_packets_total", "counter", "XDP program outcomes.");
		for (int k = 0; k < XPRO_XDP_NSTATS; k++)
			fprintf(f,
				"xpro_xdp_packets_total{iface=\"%s\",action=\"%s\"} %" PRIu64 "\n",
				iface, xpro_xdp_stat_name(k), c->xdp_pk[k]);
	}
#define ONE(name, type, help, val)                                                               \
	do {                                                                                     \
		head(f, name, type, help);                                                       \
		fprintf(f, "xpro_%s{iface=\"%s\"} %" PRIu64 "\n", name, iface, (uint64_t)(val)); \
	} while (0)
	ONE("drop_map_entries", "gauge", "Pairs in the XDP drop-map.", c->flagged);
	ONE("devices_provisioned", "gauge", "Devices in the provisioning table.", c->devices);
	ONE("engine_pairs", "gauge", "Live (device, destination) records.", c->es.pairs);
	ONE("engine_dsts", "gauge", "Live destination records.", c->es.dsts);
	ONE("engine_devs", "gauge", "Live device records.", c->es.devs);
	ONE("engine_bytes", "gauge", "Bytes held by the engine's records and tables.",
	    c->es.bytes_records + c->es.bytes_tables);
	ONE("load_pps", "gauge", "W: packets/s received by all workers.", c->snap.load.pps);
	ONE("load_util_permille", "gauge", "W: busiest worker's share of full bursts.",
	    c->snap.load.util_permille);
	ONE("sync_up", "gauge", "1 while the Redis master answers.",
	    c->snap.have_sync && st->state == SYNC_STATE_UP);
	if (c->snap.have_sync) {
		ONE("sync_rounds_total", "counter", "Sync rounds attempted.", st->rounds);
		ONE("sync_rounds_failed_total", "counter", "Sync rounds that failed.",
		    st->rounds_failed);
		head(f, "sync_round_seconds", "gauge", "Wall time of the last round's Redis work.");
		fprintf(f, "xpro_sync_round_seconds{iface=\"%s\"} %.6f\n", iface,
			(double)st->last_round_ns / 1e9);
		head(f, "sync_lag_seconds", "gauge",
		     "Time since the master last acknowledged a merge (-1: never).");
		fprintf(f, "xpro_sync_lag_seconds{iface=\"%s\"} %.3f\n", iface,
			st->last_ok_ns ? (double)(c->t_ns - st->last_ok_ns) / 1e9 : -1.0);
	}
#undef ONE
#undef PER_WORKER
}

static void reply(int fd, const char *status, const char *type, const char *body, size_t len)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, type, len);

	if (send(fd, hdr, (size_t)n, MSG_NOSIGNAL) != n)
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
	char req[REQ_MAX + 1], *body = NULL;
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
	if (strncmp(req, "GET ", 4)) {
		reply(fd, "400 Bad Request", "text/plain", "bad request\n", 12);
		return;
	}
	if (strncmp(req + 4, "/metrics ", 9) && strncmp(req + 4, "/metrics?", 9) &&
	    strncmp(req + 4, "/metrics\r", 9)) {
		reply(fd, "404 Not Found", "text/plain", "not found; try /metrics\n", 24);
		return;
	}
	f = open_memstream(&body, &blen);
	if (!f)
		return;
	px_counters_read(m->s, &m->c);
	px_metrics_write(f, &m->c, m->s->cfg.ifname);
	if (!fclose(f))
		reply(fd, "200 OK", "text/plain; version=0.0.4", body, blen);
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
	char host[64];
	const char *colon = strrchr(spec, ':'), *h = host;
	size_t hl;
	int fd, one = 1, err;

	if (!colon || colon == spec || !colon[1])
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = 0;
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		h = host + 1;
	}
	if (getaddrinfo(h, colon + 1, &hints, &ai))
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
