/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker loop.  Per burst: one clock read, one RCU read section, one
 * filter call over every authenticated packet; no lock and no allocation.
 * Every received frame ends in exactly one place: the TX ring (then the
 * completion ring hands it back) or the free stack.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <urcu.h>

#include "xpro/xdp.h"
#include "dataplane/counter.h"
#include "dataplane/frame.h"
#include "dataplane/worker.h"

#define IDLE_POLL_MS 100

void dp_ctl_ring_init(struct dp_ctl_ring *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
}

void dp_ctl_ring_fini(struct dp_ctl_ring *r)
{
	pthread_mutex_destroy(&r->mu);
}

bool dp_ctl_push(struct dp_ctl_ring *r, const struct dp_ctl_msg *m)
{
	bool ok;

	pthread_mutex_lock(&r->mu);
	ok = r->tail - r->head < DP_CTL_RING;
	if (ok)
		r->m[r->tail++ % DP_CTL_RING] = *m;
	else
		r->dropped++;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

unsigned dp_ctl_pop(struct dp_ctl_ring *r, struct dp_ctl_msg *out, unsigned max)
{
	unsigned n = 0;

	pthread_mutex_lock(&r->mu);
	while (n < max && r->head != r->tail)
		out[n++] = r->m[r->head++ % DP_CTL_RING];
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void ctl_push(struct dp_worker *w, const struct dp_ctl_msg *m)
{
	if (w->env->ctl && dp_ctl_push(w->env->ctl, m))
		dp_count_add(&w->st.ctl_queued, 1);
}

/* An authenticated PROBE: the control thread answers it (payload checked there). */
static void queue_probe(struct dp_worker *w, const struct tun_pkt *pkt, const struct dp_outer *o)
{
	struct dp_ctl_msg m = { .kind = DP_CTL_PROBE,
				.sport = o->sport,
				.dev = pkt->dev,
				.epoch = pkt->epoch,
				.seq = pkt->seq };

	if (pkt->inner_len >= sizeof(struct xpro_probe)) {
		const struct xpro_probe *p = (const struct xpro_probe *)pkt->inner;

		if (p->pver != XPRO_PAYLOAD_VERSION)
			return; /* a later version the proxy cannot read: no reply */
		m.caps = p->caps;
		m.role = p->role;
	}
	memcpy(m.src, o->src, sizeof(m.src));
	ctl_push(w, &m);
}

int dp_worker_init(struct dp_worker *w)
{
	w->xf = xf_worker_new(w->env->engine);
	if (!w->xf)
		return -ENOMEM;
	w->raw4 = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	w->raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
	if (w->raw4 < 0 || w->raw6 < 0) {
		int err = -errno;

		dp_worker_fini(w);
		return err;
	}
	return 0;
}

void dp_worker_fini(struct dp_worker *w)
{
	if (w->raw4 > 0)
		close(w->raw4);
	if (w->raw6 > 0)
		close(w->raw6);
	w->raw4 = w->raw6 = -1;
	xf_worker_free(w->xf);
	w->xf = NULL;
}

void dp_worker_stats(const struct dp_worker *w, struct dp_worker_stats *out)
{
	dp_count_snapshot((uint64_t *)out, (const uint64_t *)&w->st,
			  sizeof(*out) / sizeof(uint64_t));
}

/* DROP_PAIR: let XDP drop the pair's next packets for hold_ns. */
static void flag_pair(struct dp_worker *w, const struct xf_key *k, uint64_t now)
{
	unsigned slot = (k->dev * 31u + k->dst[15] + k->dst[14] * 7u) % DP_FLAG_CACHE;
	struct xpro_drop_val val = { .until_ns = now + __atomic_load_n(&w->env->hold_ns,
								       __ATOMIC_RELAXED) };

	/* Packets already in the ring arrive after the flag: skip the syscall. */
	if (w->flag_cache[slot].until > now && !memcmp(&w->flag_cache[slot].key, k, sizeof(*k)))
		return;
	if (bpf_map_update_elem(w->env->drop_map_fd, k, &val, BPF_ANY)) {
		dp_count_add(&w->st.flag_fail, 1);
		return;
	}
	w->flag_cache[slot].key = *k;
	w->flag_cache[slot].until = val.until_ns;
	dp_count_add(&w->st.flagged, 1);
}

/* Next hop unknown: the kernel routes the inner packet and resolves it. */
static void send_kernel(struct dp_worker *w, const uint8_t *inner, uint32_t len,
			const struct xf_key *k)
{
	ssize_t rc;

	if ((inner[0] >> 4) == 4) {
		struct sockaddr_in sa = { .sin_family = AF_INET };

		memcpy(&sa.sin_addr, &k->dst[12], 4);
		rc = sendto(w->raw4, inner, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

		memcpy(&sa.sin6_addr, k->dst, 16);
		rc = sendto(w->raw6, inner, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	}
	dp_count_add(rc == (ssize_t)len ? &w->st.tx_kernel : &w->st.tx_fail, 1);
}

/* Packets of one burst that passed authentication, in arrival order. */
struct burst {
	struct xf_key key[DP_BATCH_MAX];
	uint8_t verdict[DP_BATCH_MAX];
	uint64_t addr[DP_BATCH_MAX];
	uint32_t inner_off[DP_BATCH_MAX], inner_len[DP_BATCH_MAX];
	uint8_t mac[DP_BATCH_MAX][6]; /* next hop of each packet to transmit */
	uint16_t tx[DP_BATCH_MAX]; /* indexes of the packets to transmit */
	uint32_t epoch[DP_BATCH_MAX]; /* for an OVERLOAD warning */
	uint16_t sport[DP_BATCH_MAX]; /* outer source: where a warning goes */
	uint8_t src[DP_BATCH_MAX][16];
	unsigned n;
};

/* Outer headers and tun_auth for each received frame. */
static void authenticate(struct dp_worker *w, uint32_t idx, uint32_t n, struct burst *b)
{
	struct dp_xsk *x = &w->xsk;
	uint64_t bytes = 0;

	b->n = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint8_t *p = dp_xsk_data(x, d->addr);
		struct dp_outer o;
		struct tun_pkt pkt;
		int rc;

		bytes += d->len;
		if (dp_frame_outer(p, d->len, w->env->tun_port, &o)) {
			dp_count_add(&w->st.not_tunnel, 1);
			goto recycle;
		}
		if (w->env->stage == DP_STAGE_PARSE)
			goto recycle;
		rc = tun_auth(w->env->devtab, p + o.msg_off, o.msg_len, &pkt);
		if (rc) {
			dp_count_add(&w->st.rejected[-rc < TUN_REJ_N ? -rc : 0], 1);
			goto recycle;
		}
		if (pkt.type != XPRO_MSG_DATA) {
			dp_count_add(&w->st.control, 1);
			if (pkt.type == XPRO_MSG_PROBE)
				queue_probe(w, &pkt, &o);
			goto recycle;
		}
		if (w->env->stage == DP_STAGE_AUTH)
			goto recycle;
		b->key[b->n] = pkt.key;
		b->addr[b->n] = d->addr;
		b->inner_off[b->n] = (uint32_t)(pkt.inner - p);
		b->inner_len[b->n] = pkt.inner_len;
		b->epoch[b->n] = pkt.epoch;
		b->sport[b->n] = o.sport;
		memcpy(b->src[b->n], o.src, sizeof(o.src));
		b->n++;
		continue;
recycle:
		dp_xsk_free_frame(x, d->addr);
	}
	dp_count_add(&w->st.rx, n);
	dp_count_add(&w->st.rx_bytes, bytes);
}

/* Algorithm 2 dropped a pair and warns (at most once per interval per device). */
static void queue_warn(struct dp_worker *w, const struct burst *b, unsigned i)
{
	struct dp_ctl_msg m = { .kind = DP_CTL_WARN,
				.sport = b->sport[i],
				.dev = b->key[i].dev,
				.epoch = b->epoch[i] };

	memcpy(m.src, b->src[i], sizeof(m.src));
	memcpy(m.dst, b->key[i].dst, sizeof(m.dst));
	ctl_push(w, &m);
}

/*
 * Act on the verdicts in two passes, because a TX reservation is all or
 * nothing: first drop, flag or hand to the kernel, and note the next hop of
 * each packet to transmit; then reserve exactly that many TX slots.
 */
static void act(struct dp_worker *w, struct burst *b, uint64_t now)
{
	struct dp_xsk *x = &w->xsk;
	uint32_t tx_idx = 0, ntx = 0, room;
	uint64_t tx_bytes = 0;

	for (unsigned i = 0; i < b->n; i++) {
		uint8_t *p = dp_xsk_data(x, b->addr[i]);

		if (b->verdict[i] & XF_WARN)
			queue_warn(w, b, i);
		switch (xf_verdict_of(b->verdict[i])) {
		case XF_PASS:
			if (w->env->stage == DP_STAGE_FILTER)
				break;
			if (dp_nh_lookup(w->env->nh, b->key[i].dst, b->mac[i])) {
				b->tx[ntx++] = (uint16_t)i; /* the TX ring will own this frame */
				continue;
			}
			send_kernel(w, p + b->inner_off[i], b->inner_len[i], &b->key[i]);
			break;
		case XF_DROP_PAIR:
			/* The fair policy drops an excess without flagging (XF_SOFT). */
			if (!(b->verdict[i] & XF_SOFT))
				flag_pair(w, &b->key[i], now);
			break;
		default:
			break;
		}
		dp_xsk_free_frame(x, b->addr[i]);
	}
	if (w->env->stage == DP_STAGE_DECAP) {
		for (uint32_t j = 0; j < ntx; j++) {
			unsigned i = b->tx[j];

			dp_frame_decap(dp_xsk_data(x, b->addr[i]), b->inner_off[i], b->mac[i],
				       w->env->smac);
			dp_xsk_free_frame(x, b->addr[i]);
		}
		return;
	}
	if (!ntx)
		return;
	/* Reserve what fits (libxdp reserves all or nothing); drop the rest. */
	room = xsk_prod_nb_free(&x->tx, ntx);
	if (room < ntx) {
		dp_xsk_complete(x);
		room = xsk_prod_nb_free(&x->tx, ntx);
	}
	if (room > ntx)
		room = ntx;
	for (uint32_t j = room; j < ntx; j++)
		dp_xsk_free_frame(x, b->addr[b->tx[j]]);
	dp_count_add(&w->st.tx_fail, ntx - room);
	ntx = room;
	if (!ntx || xsk_ring_prod__reserve(&x->tx, ntx, &tx_idx) != ntx)
		return;
	for (uint32_t j = 0; j < ntx; j++) {
		unsigned i = b->tx[j];
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, tx_idx + j);
		uint32_t off = dp_frame_decap(dp_xsk_data(x, b->addr[i]), b->inner_off[i],
					      b->mac[i], w->env->smac);

		d->addr = b->addr[i] + off;
		d->len = b->inner_len[i] + sizeof(struct ethhdr);
		tx_bytes += d->len;
	}
	xsk_ring_prod__submit(&x->tx, ntx);
	x->tx_outstanding += ntx;
	dp_count_add(&w->st.tx, ntx);
	dp_count_add(&w->st.tx_bytes, tx_bytes);
}

/* The burst's filtered packets into the trace ring, while a trace is on. */
static void trace_burst(struct dp_trace_ring *r, const struct burst *b, uint64_t now)
{
	uint32_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	unsigned i;

	for (i = 0; i < b->n && head - tail < DP_TRACE_RING; i++, head++) {
		struct dp_trace_rec *t = &r->rec[head & (DP_TRACE_RING - 1)];

		t->t_ns = now;
		t->dev = b->key[i].dev;
		t->verdict = (uint8_t)xf_verdict_of(b->verdict[i]);
		memcpy(t->dst, b->key[i].dst, 16);
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	if (i < b->n)
		__atomic_store_n(&r->lost, r->lost + (b->n - i), __ATOMIC_RELAXED);
}

/* The two ceilings: recycle every frame, or send it back out with MACs swapped. */
static void bare(struct dp_worker *w, uint32_t idx, uint32_t n)
{
	struct dp_xsk *x = &w->xsk;
	uint32_t tx_idx = 0;
	bool reflect = w->env->stage == DP_STAGE_REFLECT &&
		       xsk_ring_prod__reserve(&x->tx, n, &tx_idx) == n;

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		struct xdp_desc *t;
		uint8_t *p, mac[ETH_ALEN];

		if (!reflect) {
			dp_xsk_free_frame(x, d->addr);
			continue;
		}
		p = dp_xsk_data(x, d->addr);
		memcpy(mac, p, ETH_ALEN);
		memcpy(p, p + ETH_ALEN, ETH_ALEN);
		memcpy(p + ETH_ALEN, mac, ETH_ALEN);
		t = xsk_ring_prod__tx_desc(&x->tx, tx_idx + i);
		t->addr = d->addr;
		t->len = d->len;
	}
	xsk_ring_cons__release(&x->rx, n);
	dp_count_add(&w->st.rx, n);
	if (reflect) {
		xsk_ring_prod__submit(&x->tx, n);
		x->tx_outstanding += n;
		dp_count_add(&w->st.tx, n);
	} else if (w->env->stage == DP_STAGE_REFLECT) {
		dp_count_add(&w->st.tx_fail, n);
	}
	dp_xsk_kick_tx(x);
}

static void wait_for_packets(struct dp_worker *w)
{
	struct pollfd pfd = { .fd = xsk_socket__fd(w->xsk.xsk), .events = POLLIN };

	/* Bounded, so that the quit flag is seen promptly. */
	poll(&pfd, 1, IDLE_POLL_MS);
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

void *dp_worker_run(void *arg)
{
	struct dp_worker *w = arg;
	struct dp_xsk *x = &w->xsk;
	struct burst *b = calloc(1, sizeof(*b));
	uint32_t batch = w->env->batch;

	if (!b)
		return NULL;
	pin_cpu(w->cpu);
	rcu_register_thread();
	while (!__atomic_load_n(&w->env->quit, __ATOMIC_RELAXED)) {
		uint32_t idx, n;
		uint64_t now;

		dp_xsk_complete(x);
		dp_xsk_refill(x);
		n = xsk_ring_cons__peek(&x->rx, batch, &idx);
		if (!n) {
			dp_xsk_kick_tx(x);
			wait_for_packets(w);
			continue;
		}
		if (w->env->stage == DP_STAGE_RX || w->env->stage == DP_STAGE_REFLECT) {
			bare(w, idx, n);
			continue;
		}
		now = xf_now_ns();
		rcu_read_lock();
		authenticate(w, idx, n, b);
		xsk_ring_cons__release(&x->rx, n);
		xf_filter_burst(w->xf, b->key, b->verdict, b->n, now);
		{
			struct dp_trace_ring *tr = __atomic_load_n(&w->trace, __ATOMIC_ACQUIRE);

			if (tr && __atomic_load_n(&tr->on, __ATOMIC_RELAXED))
				trace_burst(tr, b, now);
		}
		act(w, b, now);
		rcu_read_unlock();
		dp_xsk_kick_tx(x);
		dp_count_add(&w->st.batches, 1);
		if (n == batch)
			dp_count_add(&w->st.busy_batches, 1);
	}
	rcu_unregister_thread();
	free(b);
	return NULL;
}
