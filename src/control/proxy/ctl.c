/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xproctl's side of the proxy: a unix socket served by a thread of its own,
 * one request line in, one JSON reply out, one client at a time.  Requests
 * that change control state (`set`, `reload`) cross to the control loop
 * through a one-slot mailbox it drains each tick; views are read here.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <urcu.h>

#include "control/proxy/config.h"
#include "control/proxy/ctl_int.h"
#include "control/proxy/trace.h"
#include "control/proxy/run.h"
#include "control/proxy/state.h"

#define CTL_LINE_MAX 512 /* longest request: "set KEY VALUE" with a path */
#define CTL_IO_MS 1000 /* a client that stalls is dropped after this */

void px_counters_read(struct px_state *s, struct px_counters *c)
{
	struct px_ctl_snap snap;

	pthread_mutex_lock(&s->ctl->lock);
	snap = s->ctl->snap;
	pthread_mutex_unlock(&s->ctl->lock);
	px_counters_fill(s, &snap, c);
}

/* --- the mailbox -------------------------------------------------------------- */

int px_ctl_post(struct px_ctl *c, enum px_ctl_mb req, const char *key, const char *val, char *msg,
		size_t msglen)
{
	/* A few ticks: the loop may be in a slow sync round (bounded by the Redis timeout). */
	uint64_t wait_ms = 4ULL * c->s->cfg.tick_ms + 2ULL * c->s->cfg.sync.cmd_ms + 1000;
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(wait_ms / 1000);
	ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	c->mb_req = req;
	c->mb_done = false;
	snprintf(c->mb_key, sizeof(c->mb_key), "%s", key ? key : "");
	snprintf(c->mb_val, sizeof(c->mb_val), "%s", val ? val : "");
	while (!c->mb_done && !rc)
		rc = pthread_cond_timedwait(&c->done_cv, &c->lock, &ts);
	if (c->mb_done) {
		rc = c->mb_rc;
		snprintf(msg, msglen, "%s", c->mb_msg);
	} else {
		c->mb_req = PX_MB_NONE;
		rc = -ETIMEDOUT;
		snprintf(msg, msglen, "the control loop did not answer in %llu ms",
			 (unsigned long long)wait_ms);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/*
 * `set KEY VALUE` on the control thread: the same table, validation and
 * message as the configuration file ("tf1: bad value 'x' (not a number)"),
 * then pushed where SIGHUP's reload pushes it.  The value also becomes the
 * configuration a later SIGHUP compares the file with, so a reload returns
 * to what the file says.
 */
static int run_set(struct px_state *s, const char *key, const char *val, char *msg, size_t len)
{
	const struct px_opt *o = px_opt_find(key);
	static struct px_config next;
	char why[160], q[PX_QUOTE_SIZE];

	if (!o || o->flags & PX_OPT_CLI) {
		snprintf(msg, len, "unknown key '%s'", px_quote(q, sizeof(q), key, strlen(key)));
		return -EINVAL;
	}
	if (!(o->flags & PX_OPT_RUNTIME)) {
		snprintf(msg, len, "%s: cannot change at run time; restart xpro-proxy to apply",
			 o->name);
		return -EPERM;
	}
	next = s->cfg;
	if (px_opt_set(o, val, &next, why, sizeof(why))) {
		if (o->flags & PX_OPT_SECRET)
			snprintf(msg, len, "%s: bad value (%s; not shown, it is a secret)", o->name,
				 why);
		else
			snprintf(msg, len, "%s: bad value '%s' (%s)", o->name,
				 px_quote(q, sizeof(q), val, strlen(val)), why);
		return -EINVAL;
	}
	if (xf_params_validate(&next.params, msg, len))
		return -EINVAL;
	px_config_changes(&s->cfg, &next, msg, len);
	px_config_apply_runtime(&s->cfg, &next);
	px_opt_copy(o, &s->cfg_given, &next);
	if (xf_engine_set_params(s->env.engine, &s->cfg.params)) {
		snprintf(msg, len, "thresholds refused by the engine");
		return -EINVAL;
	}
	__atomic_store_n(&s->env.hold_ns, s->cfg.hold_ms * XF_NSEC_PER_MSEC, __ATOMIC_RELAXED);
	px_log_level = px_config_log_level(&s->cfg);
	if (s->sync)
		sync_round_retune(s->sync, s->cfg.sync.period_ms, 0);
	pr_info("xproctl: set %s", msg[0] ? msg : "(unchanged)");
	return 0;
}

/*
 * `trace FILE [SECONDS]`, `trace stop`, `trace`: on the control thread, which owns the
 * trace.  The answer is the trace's state as JSON members, or the reason it was refused.
 */
static int run_trace(struct px_state *s, const char *what, const char *path, char *msg, size_t len)
{
	char said[400];
	int rc = 0;

	if (!strcmp(what, "stop")) {
		rc = px_trace_stop(s, said, sizeof(said));
	} else if (what[0]) {
		char *end;
		unsigned long long secs = strtoull(what, &end, 10);

		if (*end || what[0] == '-')
			secs = 0;
		rc = px_trace_start(s, path, secs, said, sizeof(said));
	}
	if (rc) {
		snprintf(msg, len, "%s", said);
		return rc;
	}
	px_trace_status(s, msg, len);
	return 0;
}

void px_ctl_tick(struct px_state *s)
{
	struct px_ctl *c = s->ctl;
	struct px_ctl_snap snap;

	if (!c)
		return;
	px_snap_take(s, &snap);
	pthread_mutex_lock(&c->lock);
	c->snap = snap;
	if (c->mb_req == PX_MB_SET) {
		c->mb_msg[0] = 0;
		c->mb_rc = run_set(s, c->mb_key, c->mb_val, c->mb_msg, sizeof(c->mb_msg));
	} else if (c->mb_req == PX_MB_TRACE) {
		c->mb_msg[0] = 0;
		c->mb_rc = run_trace(s, c->mb_key, c->mb_val, c->mb_msg, sizeof(c->mb_msg));
	} else if (c->mb_req == PX_MB_RELOAD) {
		/* As on SIGHUP, answered with what happened (xproctl exits 1 if refused). */
		c->mb_msg[0] = 0;
		c->mb_rc = px_reload(s, c->mb_msg, sizeof(c->mb_msg));
	}
	if (c->mb_req != PX_MB_NONE) {
		c->mb_req = PX_MB_NONE;
		c->mb_done = true;
		pthread_cond_broadcast(&c->done_cv);
	}
	pthread_mutex_unlock(&c->lock);
}

/* --- the socket ----------------------------------------------------------------- */

static void serve_one(struct px_ctl *c, int fd)
{
	struct timeval tv = { CTL_IO_MS / 1000, (CTL_IO_MS % 1000) * 1000 };
	char line[CTL_LINE_MAX + 1], *buf = NULL;
	size_t n = 0, blen = 0;
	bool nl = false;
	FILE *out;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (n < CTL_LINE_MAX) {
		ssize_t r = recv(fd, line + n, CTL_LINE_MAX - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		nl = memchr(line, '\n', n) != NULL;
		if (nl)
			break;
	}
	line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	out = open_memstream(&buf, &blen);
	if (!out)
		return;
	if (n >= CTL_LINE_MAX && !nl)
		fputs("{\"ok\":false,\"error\":\"request longer than 512 bytes\"}", out);
	else
		px_ctl_handle(c, line, out);
	fputc('\n', out);
	if (!fclose(out)) {
		for (size_t off = 0; off < blen;) {
			ssize_t w = send(fd, buf + off, blen - off, MSG_NOSIGNAL);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	free(buf);
}

static void *ctl_thread(void *arg)
{
	struct px_ctl *c = arg;

	rcu_register_thread();
	while (!__atomic_load_n(&c->quit, __ATOMIC_RELAXED)) {
		struct pollfd p = { .fd = c->lfd, .events = POLLIN };

		if (xf_now_ns() >= c->rates->next_ns) {
			px_counters_read(c->s, c->scratch);
			px_rates_feed(c->rates, c->scratch);
		}
		if (poll(&p, 1, 200) == 1) {
			int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				serve_one(c, fd);
				close(fd);
			}
		}
	}
	rcu_unregister_thread();
	return NULL;
}

/* Bind path, refusing to steal the socket of a proxy that still answers on it. */
static int ctl_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, probe, err;
	struct stat st;
	char dir[sizeof(a.sun_path)], *slash;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		err = connect(probe, (struct sockaddr *)&a, sizeof(a));
		close(probe);
		if (!err)
			return -EADDRINUSE;
	}
	/* Never remove anything but a stale socket. */
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode))
		return -EEXIST;
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Only root may talk to it: mode 0600 from the start, no window. */
	mode_t old = umask(0177);

	err = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? -errno : 0;
	umask(old);
	if (!err && listen(fd, 8))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int px_ctl_start(struct px_state *s)
{
	struct px_ctl *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->s = s;
	c->lfd = -1;
	c->rates = calloc(1, sizeof(*c->rates));
	c->scratch = calloc(1, sizeof(*c->scratch));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	s->ctl = c;
	err = -ENOMEM;
	if (!c->rates || !c->scratch)
		goto out_stop;
	if (strcmp(s->cfg.ctl_socket, "off")) {
		if (s->cfg.ctl_socket[0])
			snprintf(c->path, sizeof(c->path), "%s", s->cfg.ctl_socket);
		else
			snprintf(c->path, sizeof(c->path), "/run/xpro/%s.sock", s->cfg.ifname);
		c->lfd = ctl_listen(c->path);
		/*
		 * Not fatal: filtering matters more than the tool.  Two proxies
		 * in two network namespaces share /run; the second says so.
		 */
		if (c->lfd < 0) {
			err = c->lfd;
			pr_warn("control socket %s: %s; running without it (--ctl-socket PATH)",
				c->path,
				err == -EADDRINUSE ? "another xpro-proxy answers on it"
				: err == -EEXIST   ? "exists and is not a socket"
						   : strerror(-err));
			c->path[0] = 0;
		}
	}
	if (c->lfd >= 0) {
		err = pthread_create(&c->thread, NULL, ctl_thread, c);
		if (err) {
			err = -err;
			goto out_stop;
		}
		c->running = true;
		pr_info("control socket %s (xproctl -s %s status)", c->path, c->path);
	}
	if (s->cfg.metrics[0]) {
		c->metrics = px_metrics_start(s, s->cfg.metrics);
		if (!c->metrics) {
			err = -EINVAL;
			goto out_stop;
		}
	}
	return 0;

out_stop:
	px_ctl_stop(s);
	return err;
}

void px_ctl_stop(struct px_state *s)
{
	struct px_ctl *c = s->ctl;

	if (!c)
		return;
	__atomic_store_n(&c->quit, 1, __ATOMIC_RELAXED);
	/* A request waiting for the control loop, which has stopped: answer it. */
	pthread_mutex_lock(&c->lock);
	if (c->mb_req != PX_MB_NONE) {
		c->mb_req = PX_MB_NONE;
		c->mb_rc = -ECANCELED;
		snprintf(c->mb_msg, sizeof(c->mb_msg), "the proxy is stopping");
		c->mb_done = true;
		pthread_cond_broadcast(&c->done_cv);
	}
	pthread_mutex_unlock(&c->lock);
	px_metrics_stop(c->metrics);
	if (c->running)
		pthread_join(c->thread, NULL);
	if (c->lfd >= 0) {
		close(c->lfd);
		unlink(c->path);
	}
	pthread_cond_destroy(&c->done_cv);
	pthread_mutex_destroy(&c->lock);
	free(c->rates);
	free(c->scratch);
	free(c);
	s->ctl = NULL;
}
