/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PROBE_REPLY and OVERLOAD (docs/protocol.md "Proxy management protocol").
 * Everything here starts from a message a worker authenticated: nothing
 * unauthenticated ever gets a reply or creates state.  Replies go out of a
 * kernel socket from the control thread, because they are few (a probe per
 * device per second at most) and the AF_XDP path has no route lookup for
 * arbitrary device addresses.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <urcu.h>

#include "xpro/addr_text.h"
#include "control/proxy/mgmt.h"
#include "control/proxy/proxy.h"
#include "control/proxy/state.h"
#include "dataplane/dataplane.h"

#define RATE_SLOTS 4096 /* per-device reply budgets; colliding devices share one */
#define RATE_PER_SEC 4 /* replies per device per second: a device probes once a second */
#define POP_BATCH 64

struct rate_slot {
	uint32_t dev;
	uint32_t n;
	uint64_t since; /* start of the current one-second window */
};

struct px_mgmt {
	int fd; /* AF_INET6, dual-stack: IPv4 devices as ::ffff:a.b.c.d */
	uint64_t seq; /* proxy -> device sequence, all devices, never repeats */
	struct dp_ctl_ring ring;
	struct px_mgmt_stats st;
	struct rate_slot rate[RATE_SLOTS];
};

struct px_mgmt *px_mgmt_new(uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct px_mgmt *m = calloc(1, sizeof(*m));
	struct timespec ts;
	int off = 0, on = 1;

	if (!m) {
		snprintf(err, errlen, "management: out of memory");
		return NULL;
	}
	/*
	 * Seeded from the real-time clock in ns: a restarted proxy continues
	 * above the numbers it used before, without storing anything.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	m->seq = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	dp_ctl_ring_init(&m->ring);
	m->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->fd < 0 || setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) ||
	    setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(m->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "management socket on UDP port %u: %s", port,
			 strerror(errno));
		px_mgmt_free(m);
		return NULL;
	}
	return m;
}

void px_mgmt_free(struct px_mgmt *m)
{
	struct px_mgmt_stats st;

	if (!m)
		return;
	px_mgmt_stats(m, &st);
	pr_info("management: %" PRIu64 " probes, %" PRIu64 " replies, %" PRIu64
		" overload warnings; %" PRIu64 " rate-limited, %" PRIu64 " queue full, %" PRIu64
		" send errors",
		st.probes, st.replies, st.overloads, st.rate_limited, st.queue_full,
		st.send_errors);
	if (m->fd >= 0)
		close(m->fd);
	dp_ctl_ring_fini(&m->ring);
	free(m);
}

struct dp_ctl_ring *px_mgmt_ring(struct px_mgmt *m)
{
	return &m->ring;
}

void px_mgmt_stats(const struct px_mgmt *m, struct px_mgmt_stats *out)
{
	*out = m->st;
	out->queue_full = __atomic_load_n(&m->ring.dropped, __ATOMIC_RELAXED);
}

static bool rate_ok(struct px_mgmt *m, uint32_t dev, uint64_t now)
{
	struct rate_slot *r = &m->rate[(dev * 0x9e3779b9u) >> 20];

	if (r->dev != dev || now - r->since >= XF_NSEC_PER_SEC) {
		r->dev = dev;
		r->since = now;
		r->n = 0;
	}
	return r->n++ < RATE_PER_SEC;
}

/* Seal payload under the device's PK for its epoch and send it to the message's source. */
static void send_to_dev(struct px_mgmt *m, struct px_state *s, const struct dp_ctl_msg *c,
			unsigned type, const void *payload, size_t len)
{
	uint8_t secret[XPRO_TUN_SECRET_LEN], pk[XPRO_PK_LEN];
	uint8_t buf[XPRO_TUN_OVERHEAD + sizeof(struct xpro_probe_reply) +
		    XPRO_REPLY_MAX_PEERS * sizeof(struct xpro_peer)];
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_port = htons(c->sport) };
	int n, rc;

	rcu_read_lock();
	rc = tun_devtab_secret(s->env.devtab, c->dev, secret);
	rcu_read_unlock();
	if (rc) {
		m->st.no_device++;
		return;
	}
	xpro_derive_pk(secret, c->epoch, pk);
	memset(secret, 0, sizeof(secret));
	n = tun_seal(buf, sizeof(buf), pk, type, c->epoch, c->dev, m->seq++, payload, len);
	if (n < 0) {
		m->st.send_errors++;
		return;
	}
	memcpy(&to.sin6_addr, c->src, 16);
	if (sendto(m->fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) != n) {
		m->st.send_errors++;
		return;
	}
	if (type == XPRO_MSG_PROBE_REPLY)
		m->st.replies++;
	else
		m->st.overloads++;
}

int px_mgmt_own_addr(const char *ifname, uint16_t port, char *out, size_t len)
{
	struct ifaddrs *ifa, *i;
	char ip[INET6_ADDRSTRLEN] = "";
	bool v6 = false;

	if (getifaddrs(&ifa))
		return -errno;
	/* IPv4 first: the testbed's and most deployments' tunnel address. */
	for (i = ifa; i && !ip[0]; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, ifname))
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
				  sizeof(ip));
	}
	for (i = ifa; i && !ip[0]; i = i->ifa_next) {
		const struct sockaddr_in6 *a = (const void *)i->ifa_addr;

		if (a && a->sin6_family == AF_INET6 && !strcmp(i->ifa_name, ifname) &&
		    !IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr)) {
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			v6 = true;
		}
	}
	freeifaddrs(ifa);
	if (!ip[0])
		return -ENOENT;
	snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", ip, port);
	return 0;
}

/* A peer's published "a.b.c.d:port" / "[v6]:port" as a reply entry; false if it has none. */
static bool peer_entry(const struct sync_load *l, struct xpro_peer *e)
{
	uint16_t port;

	memset(e, 0, sizeof(*e));
	if (!xpro_hostport_parse(l->tun_addr, e->addr, &port, XPRO_HP_PORT))
		return false;
	e->port = htons(port);
	e->load = htons((uint16_t)(l->util_permille > 0xffff ? 0xffff : l->util_permille));
	/* The sync layer drops entries older than a few periods: what is left is fresh. */
	e->state = XPRO_PEER_AVAILABLE;
	return true;
}

static uint16_t own_load(const struct px_state *s)
{
	return (uint16_t)(s->load.util_permille > 0xffff ? 0xffff : s->load.util_permille);
}

/* The reply's payload as sent: fixed part, then peers, no padding between. */
struct reply_payload {
	struct xpro_probe_reply r;
	struct xpro_peer peer[XPRO_REPLY_MAX_PEERS];
};
_Static_assert(offsetof(struct reply_payload, peer) == sizeof(struct xpro_probe_reply),
	       "peers follow the fixed part");

static void reply(struct px_mgmt *m, struct px_state *s, const struct dp_ctl_msg *c, uint64_t now)
{
	struct reply_payload p = { .r = { .pver = XPRO_PAYLOAD_VERSION } };
	struct sync_load others[XPRO_REPLY_MAX_PEERS];
	size_t n = s->sync ? sync_round_loads(s->sync, others, XPRO_REPLY_MAX_PEERS) : 0;
	unsigned np = 0;

	m->st.probes++;
	if (!rate_ok(m, c->dev, now)) {
		m->st.rate_limited++;
		return;
	}
	p.r.echo_hi = htonl((uint32_t)(c->seq >> 32));
	p.r.echo_lo = htonl((uint32_t)c->seq);
	p.r.load = htons(own_load(s));
	/* No ENC_OK: this proxy does not decrypt yet.  No UNAVAIL: it does not drain. */
	p.r.flags = 0;
	/* Peers that published their tunnel address (load.c); the device matches by address. */
	for (size_t i = 0; i < n; i++)
		np += peer_entry(&others[i], &p.peer[np]);
	p.r.npeers = (uint8_t)np;
	send_to_dev(m, s, c, XPRO_MSG_PROBE_REPLY, &p, sizeof(p.r) + np * sizeof(p.peer[0]));
}

static void overload(struct px_mgmt *m, struct px_state *s, const struct dp_ctl_msg *c)
{
	struct xpro_overload o = { .pver = XPRO_PAYLOAD_VERSION, .reason = XPRO_OVL_PAIR_DROPPED };
	const struct xf_params *p = &s->cfg.params;
	char dst[XPRO_ADDR_TEXT_MAX];
	struct xf_pair_view v;
	struct xf_key k;
	uint64_t pps = 0;
	bool found;

	o.load = htons(own_load(s));
	o.hold_ms = htonl(0); /* the device's default stay-away */
	memcpy(o.dst, c->dst, sizeof(o.dst));
	send_to_dev(m, s, c, XPRO_MSG_OVERLOAD, &o, sizeof(o));
	xf_key_ipv6(&k, c->dev, c->dst);
	rcu_read_lock();
	found = xf_engine_pair(s->env.engine, &k, &v);
	rcu_read_unlock();
	if (found)
		pps = xf_pair_pps(&v, p->policy);
	xpro_addr_format(c->dst, 0, dst, sizeof(dst));
	pr_info_rl(xf_now_ns(),
		   "device %u -> %s: pair dropped at %" PRIu64 " pkt/s (T_F1 %" PRIu64
		   " pkt/s, %s); OVERLOAD sent; flagged pairs are dropped in XDP for %" PRIu64
		   " ms",
		   c->dev, dst, pps, p->tf1_pps, xf_policy_name(p->policy), s->cfg.hold_ms);
}

/* Inbound tunnel datagrams go to XDP; anything the kernel still delivers here is discarded. */
static void drain(struct px_mgmt *m)
{
	uint8_t b[64];

	for (int i = 0; i < 256 && recv(m->fd, b, sizeof(b), MSG_DONTWAIT) >= 0; i++)
		;
}

void px_mgmt_run(struct px_mgmt *m, struct px_state *s)
{
	struct dp_ctl_msg batch[POP_BATCH];
	uint64_t now = xf_now_ns();
	unsigned n;

	drain(m);
	do {
		n = dp_ctl_pop(&m->ring, batch, POP_BATCH);
		for (unsigned i = 0; i < n; i++) {
			if (batch[i].kind == DP_CTL_PROBE)
				reply(m, s, &batch[i], now);
			else if (batch[i].kind == DP_CTL_WARN)
				overload(m, s, &batch[i]);
		}
	} while (n == POP_BATCH);
}
