/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xproctl's commands: one request line ("status", "top 10", "flag 7
 * 198.18.0.9 30", ...) into one JSON object.  Every reply has "ok"; a failed
 * one has "error" with the reason.  Ctl thread; views only, except `set` and
 * `reload`, which go through the mailbox to the control loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <urcu.h>

#include "xpro/addr_text.h"
#include "control/proxy/ctl_int.h"
#include "control/proxy/state.h"

#define CTL_ARGS 5
#define TOP_DEFAULT 10
#define TOP_MAX 1000
#define TOP_PAIRS_MAX (1u << 20) /* pairs looked at per `top` (memory bound) */

static void fail(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(FILE *f, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("{\"ok\":false,\"error\":", f);
	px_json_str(f, msg);
	fputc('}', f);
}

static void key_dst(const struct xf_key *k, char *buf, size_t len)
{
	xpro_addr_format(k->dst, 0, buf, len);
}

/* "7" "198.18.0.9" into a drop-map key; 0 or -EINVAL. */
static int parse_pair(const char *dev, const char *dst, struct xf_key *k)
{
	uint8_t a[16];
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(dev, &end, 10);
	if (!*dev || *end || errno || v > UINT32_MAX || dev[0] == '-' || dev[0] == '+')
		return -EINVAL;
	/* IPv4 and IPv4-mapped IPv6 give the same key, as in the engine. */
	if (!xpro_addr_parse(dst, a))
		return -EINVAL;
	xf_key_ipv6(k, (uint32_t)v, a);
	return 0;
}

static void write_u64s(FILE *f, const char *name, const uint64_t *v, const char *const *names,
		       int first, int n)
{
	fprintf(f, "\"%s\":{", name);
	for (int i = first; i < n; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > first ? "," : "", names[i], v[i]);
	fputc('}', f);
}

/* The counter table's JSON (counters.h, docs/metrics.md), as in the status file. */
static void cmd_status(struct px_ctl *ctl, FILE *f)
{
	static struct px_counters c;

	px_counters_read(ctl->s, &c);
	fputs("{\"ok\":true,", f);
	px_counters_json(f, &c, px_rates_old(ctl->rates), px_rates_new(ctl->rates));
	fputc('}', f);
}

/* --- top ------------------------------------------------------------------------ */

struct top_ctx {
	struct xf_pair_view *v;
	size_t n, cap;
};

static void top_one(const struct xf_pair_view *v, void *arg)
{
	struct top_ctx *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 1024;
		void *p = cap <= TOP_PAIRS_MAX ? realloc(t->v, cap * sizeof(*t->v)) : NULL;

		if (!p)
			return;
		t->v = p;
		t->cap = cap;
	}
	t->v[t->n++] = *v;
}

static int by_count(const void *a, const void *b)
{
	uint64_t x = ((const struct xf_pair_view *)a)->count;
	uint64_t y = ((const struct xf_pair_view *)b)->count;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int by_dst(const void *a, const void *b)
{
	return memcmp(((const struct xf_pair_view *)a)->key.dst,
		      ((const struct xf_pair_view *)b)->key.dst, 16);
}

static int by_dev(const void *a, const void *b)
{
	uint32_t x = ((const struct xf_pair_view *)a)->key.dev;
	uint32_t y = ((const struct xf_pair_view *)b)->key.dev;

	return x < y ? -1 : x > y;
}

/* Packets/s over the pair's current window, as `top` has always shown it. */
static uint64_t window_pps(const struct xf_pair_view *v)
{
	return xf_pair_pps(v, XF_POLICY_FCFS);
}

/*
 * Sorted by cmp, runs of equal keys summed into the run's first element
 * (count, pairs in dc); then the runs sorted by count.  Returns the run count.
 */
static size_t group(struct xf_pair_view *v, size_t n, int (*cmp)(const void *, const void *))
{
	size_t m = 0;

	qsort(v, n, sizeof(*v), cmp);
	for (size_t i = 0; i < n; i++) {
		if (m && !cmp(&v[m - 1], &v[i])) {
			v[m - 1].count += v[i].count;
			v[m - 1].dc++;
			continue;
		}
		v[m] = v[i];
		v[m++].dc = 1;
	}
	qsort(v, m, sizeof(*v), by_count);
	return m;
}

static void cmd_top(struct px_ctl *ctl, FILE *f, int argc, char **argv)
{
	struct top_ctx t = { 0 };
	unsigned long n = TOP_DEFAULT;
	char dst[INET6_ADDRSTRLEN], *end;
	size_t seen, m;

	if (argc > 1) {
		n = strtoul(argv[1], &end, 10);
		if (*end || !n || n > TOP_MAX || argv[1][0] == '-')
			return fail(f, "top: bad count '%.20s' (1..%d)", argv[1], TOP_MAX);
	}
	rcu_read_lock();
	seen = xf_engine_foreach_pair(ctl->s->env.engine, top_one, &t);
	rcu_read_unlock();
	qsort(t.v, t.n, sizeof(*t.v), by_count);
	fprintf(f, "{\"ok\":true,\"pairs_seen\":%zu,\"pairs\":[", seen);
	for (size_t i = 0; i < t.n && i < n; i++) {
		key_dst(&t.v[i].key, dst, sizeof(dst));
		fprintf(f,
			"%s{\"dev\":%u,\"dst\":\"%s\",\"count\":%" PRIu64 ",\"window_ms\":%" PRIu64
			",\"pps\":%" PRIu64 "}",
			i ? "," : "", t.v[i].key.dev, dst, t.v[i].count,
			(uint64_t)((t.v[i].ts2 - t.v[i].ts1) / XF_NSEC_PER_MSEC),
			window_pps(&t.v[i]));
	}
	fputs("],\"dsts\":[", f);
	m = group(t.v, t.n, by_dst);
	for (size_t i = 0; i < m && i < n; i++) {
		key_dst(&t.v[i].key, dst, sizeof(dst));
		fprintf(f, "%s{\"dst\":\"%s\",\"count\":%" PRIu64 ",\"pairs\":%" PRIu64 "}",
			i ? "," : "", dst, t.v[i].count, t.v[i].dc);
	}
	fputs("],\"devs\":[", f);
	/* group() left per-destination sums: walk again for devices. */
	t.n = 0;
	rcu_read_lock();
	xf_engine_foreach_pair(ctl->s->env.engine, top_one, &t);
	rcu_read_unlock();
	m = group(t.v, t.n, by_dev);
	for (size_t i = 0; i < m && i < n; i++)
		fprintf(f, "%s{\"dev\":%u,\"count\":%" PRIu64 ",\"pairs\":%" PRIu64 "}",
			i ? "," : "", t.v[i].key.dev, t.v[i].count, t.v[i].dc);
	fputs("]}", f);
	free(t.v);
}

/* --- the drop-map ------------------------------------------------------------------ */

static void cmd_flagged(struct px_ctl *ctl, FILE *f)
{
	int fd = ctl->s->xdp.drop_fd;
	uint64_t now = xf_now_ns(), n = 0;
	struct xf_key k[2];
	struct xpro_drop_val v;
	char dst[INET6_ADDRSTRLEN];
	int i = 0;

	fputs("{\"ok\":true,\"flagged\":[", f);
	while (n < TOP_PAIRS_MAX && !bpf_map_get_next_key(fd, n ? &k[i ^ 1] : NULL, &k[i])) {
		if (!bpf_map_lookup_elem(fd, &k[i], &v)) {
			key_dst(&k[i], dst, sizeof(dst));
			fprintf(f,
				"%s{\"dev\":%u,\"dst\":\"%s\",\"expires_ms\":%" PRIu64
				",\"xdp_drops\":%" PRIu64 "}",
				n ? "," : "", k[i].dev, dst,
				(uint64_t)(v.until_ns > now ? (v.until_ns - now) / XF_NSEC_PER_MSEC
							    : 0),
				(uint64_t)v.packets);
			n++;
		}
		i ^= 1;
	}
	fprintf(f, "],\"count\":%" PRIu64 "}", n);
}

static void cmd_flag(struct px_ctl *ctl, FILE *f, int argc, char **argv)
{
	struct xpro_drop_val v = { 0 };
	uint64_t secs = 0;
	struct xf_key k;
	char *end;

	if (argc < 3 || argc > 4 || parse_pair(argv[1], argv[2], &k))
		return fail(f, "usage: flag DEV DST [SECONDS] (DEV a device index, DST an "
			       "IPv4 or IPv6 address)");
	if (argc == 4) {
		secs = strtoull(argv[3], &end, 10);
		if (*end || !secs || secs > 86400 || argv[3][0] == '-')
			return fail(f, "flag: bad seconds '%.20s' (1..86400)", argv[3]);
	}
	/* Keep the drop count of an entry already there (the sweep compares it). */
	bpf_map_lookup_elem(ctl->s->xdp.drop_fd, &k, &v);
	v.until_ns = xf_now_ns() + (secs ? secs * XF_NSEC_PER_SEC
					 : __atomic_load_n(&ctl->s->env.hold_ns, __ATOMIC_RELAXED));
	if (bpf_map_update_elem(ctl->s->xdp.drop_fd, &k, &v, BPF_ANY))
		return fail(f, "flag: drop-map update: %s", strerror(errno));
	pr_info("xproctl: flagged device %u -> %s", k.dev, argv[2]);
	fprintf(f, "{\"ok\":true,\"dev\":%u,\"dst\":", k.dev);
	px_json_str(f, argv[2]);
	fprintf(f, ",\"expires_ms\":%" PRIu64 "}",
		(uint64_t)((v.until_ns - xf_now_ns()) / XF_NSEC_PER_MSEC));
}

static void cmd_unflag(struct px_ctl *ctl, FILE *f, int argc, char **argv)
{
	struct xf_key k;

	if (argc != 3 || parse_pair(argv[1], argv[2], &k))
		return fail(f, "usage: unflag DEV DST");
	if (bpf_map_delete_elem(ctl->s->xdp.drop_fd, &k))
		return fail(f, "unflag: device %u -> %s is not flagged", k.dev, argv[2]);
	pr_info("xproctl: unflagged device %u -> %s", k.dev, argv[2]);
	fprintf(f, "{\"ok\":true,\"dev\":%u,\"dst\":", k.dev);
	px_json_str(f, argv[2]);
	fputc('}', f);
}

/* --- one device, one destination ----------------------------------------------------- */

/* Pairs of one device, or towards one destination, from a walk of the engine. */
struct sel_ctx {
	bool by_dev;
	uint32_t dev;
	uint8_t dst[16];
	struct xf_pair_view *v;
	size_t n, cap;
	bool truncated;
};

static void sel_one(const struct xf_pair_view *v, void *arg)
{
	struct sel_ctx *t = arg;

	if (t->by_dev ? v->key.dev != t->dev : memcmp(v->key.dst, t->dst, 16) != 0)
		return;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct xf_pair_view *nv;

		if (cap > TOP_PAIRS_MAX || !(nv = realloc(t->v, cap * sizeof(*nv)))) {
			t->truncated = true;
			return;
		}
		t->v = nv;
		t->cap = cap;
	}
	t->v[t->n++] = *v;
}

/* The pair's drop-map entry, if any: expires_ms and XDP drops. */
static bool pair_flag(int fd, const struct xf_key *k, uint64_t now, uint64_t *exp_ms,
		      uint64_t *drops)
{
	struct xpro_drop_val v;

	if (bpf_map_lookup_elem(fd, k, &v) || v.until_ns <= now)
		return false;
	*exp_ms = (v.until_ns - now) / XF_NSEC_PER_MSEC;
	*drops = v.packets;
	return true;
}

/* Packets/s of a window of c packets from ts1 to now; 0 for a window under 1 ms. */
static uint64_t win_pps(uint64_t c, uint64_t ts1, uint64_t now)
{
	uint64_t w = now > ts1 ? now - ts1 : 0;

	return w < XF_NSEC_PER_MSEC ? 0 : (uint64_t)((double)c * 1e9 / (double)w);
}

/*
 * What the filter does with a pair now: "flagged" (dropped in XDP), "over_tf1"
 * (above T_F1 as the filter judges it: limited now, flagged if it goes on), "capped" (fair policy: its destination is congested and the pair sends
 * more than the fair share), or "pass".
 */
static const char *pair_state(struct xf_engine *e, const struct xf_pair_view *v,
			      const struct xf_params *p, bool flagged)
{
	struct xf_dst_view d;
	uint64_t pps = xf_pair_pps(v, p->policy);

	if (flagged)
		return "flagged";
	/* As the filter judges it: fair, packets over the T_F1 limiter in this window;
	 * fcfs, the window's rate once the window is T_T2 long (Algorithm 2). */
	if (p->policy == XF_POLICY_FAIR
		    ? v->excess > 0
		    : v->ts2 - v->ts1 >= p->tt2_ms * XF_NSEC_PER_MSEC && pps > p->tf1_pps)
		return "over_tf1";
	if (p->policy == XF_POLICY_FAIR && xf_engine_dst(e, v->key.dst, &d) &&
	    d.share != XF_SHARE_NONE && (uint64_t)v->rate > d.share)
		return "capped";
	return "pass";
}

static void write_pair(FILE *f, struct px_ctl *ctl, const struct xf_pair_view *v,
		       const struct xf_params *p, uint64_t now, bool first, bool with_dev)
{
	uint64_t exp = 0, drops = 0;
	bool fl = pair_flag(ctl->s->xdp.drop_fd, &v->key, now, &exp, &drops);
	char dst[INET6_ADDRSTRLEN];

	key_dst(&v->key, dst, sizeof(dst));
	fputs(first ? "{" : ",{", f);
	if (with_dev)
		fprintf(f, "\"dev\":%u,", v->key.dev);
	else
		fprintf(f, "\"dst\":\"%s\",", dst);
	fprintf(f,
		"\"count\":%" PRIu64 ",\"window_ms\":%" PRIu64 ",\"pps\":%" PRIu64
		",\"idle_ms\":%" PRIu64 ",\"state\":\"%s\"",
		v->count, (uint64_t)((v->ts2 - v->ts1) / XF_NSEC_PER_MSEC),
		xf_pair_pps(v, p->policy),
		(uint64_t)(now > v->ts2 ? (now - v->ts2) / XF_NSEC_PER_MSEC : 0),
		pair_state(ctl->s->env.engine, v, p, fl));
	if (fl)
		fprintf(f, ",\"expires_ms\":%" PRIu64 ",\"xdp_drops\":%" PRIu64 "}", exp, drops);
	else
		fputs(",\"expires_ms\":null,\"xdp_drops\":null}", f);
}

static int by_count_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct xf_pair_view *)a)->count;
	uint64_t y = ((const struct xf_pair_view *)b)->count;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* xproctl devices N: the device as provisioned, its epochs, rejections and pairs. */
static void cmd_device(struct px_ctl *ctl, FILE *f, const char *arg)
{
	struct sel_ctx t = { .by_dev = true };
	struct tun_dev_view v;
	struct xf_params p;
	const char *names[TUN_REJ_N];
	uint64_t now = xf_now_ns(), last = 0;
	char pfx[INET6_ADDRSTRLEN], *end;
	unsigned long d;
	int rc;

	errno = 0;
	d = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || d > TUN_DEV_MAX || arg[0] == '-' || arg[0] == '+')
		return fail(f, "devices: bad device index '%.20s'", arg);
	t.dev = (uint32_t)d;
	xf_engine_get_params(ctl->s->env.engine, &p);
	rcu_read_lock();
	rc = tun_devtab_view(ctl->s->env.devtab, t.dev, &v);
	if (!rc)
		xf_engine_foreach_pair(ctl->s->env.engine, sel_one, &t);
	rcu_read_unlock();
	if (rc) {
		free(t.v);
		return fail(f, "device %u is not provisioned", t.dev);
	}
	for (int r = 0; r < TUN_REJ_N; r++)
		names[r] = tun_rej_name(r);
	xpro_addr_format(v.prefix, 0, pfx, sizeof(pfx));
	fprintf(f, "{\"ok\":true,\"dev\":%u,\"active\":%s,\"prefix\":\"%s/%u\",", v.dev,
		v.active ? "true" : "false", pfx,
		xpro_addr_is_v4(v.prefix) && v.plen >= 96 ? v.plen - 96u : v.plen);
	if (v.have_cur)
		fprintf(f, "\"epoch\":%u,\"seq\":%" PRIu64 ",", v.cur_epoch, v.cur_top);
	else
		fputs("\"epoch\":null,\"seq\":null,", f);
	if (v.have_prev)
		fprintf(f, "\"prev_epoch\":%u,", v.prev_epoch);
	write_u64s(f, "rejected", v.rejected, names, TUN_REJ_INACTIVE, TUN_REJ_N);
	qsort(t.v, t.n, sizeof(*t.v), by_count_desc);
	for (size_t i = 0; i < t.n; i++)
		last = t.v[i].ts2 > last ? t.v[i].ts2 : last;
	if (last)
		fprintf(f, ",\"last_packet_ms\":%" PRIu64,
			(uint64_t)(now > last ? (now - last) / XF_NSEC_PER_MSEC : 0));
	else
		fputs(",\"last_packet_ms\":null", f);
	fprintf(f, ",\"tf1\":%" PRIu64 ",\"npairs\":%zu,\"truncated\":%s,\"pairs\":[", p.tf1_pps,
		t.n, t.truncated ? "true" : "false");
	rcu_read_lock();
	for (size_t i = 0; i < t.n; i++)
		write_pair(f, ctl, &t.v[i], &p, now, !i, false);
	rcu_read_unlock();
	fputs("]}", f);
	free(t.v);
}

/* xproctl dst ADDR: the destination's local and global windows, its share, its senders. */
static void cmd_dst(struct px_ctl *ctl, FILE *f, int argc, char **argv)
{
	struct sel_ctx t = { .by_dev = false };
	struct xf_dst_view d;
	struct xf_params p;
	uint64_t now = xf_now_ns();
	char dst[INET6_ADDRSTRLEN];
	unsigned long n = TOP_DEFAULT;
	char *end;
	bool found;

	if (argc < 2 || argc > 3 || !xpro_addr_parse(argv[1], t.dst))
		return fail(f, "usage: dst ADDR [N] (an IPv4 or IPv6 address; N top senders)");
	if (argc == 3) {
		n = strtoul(argv[2], &end, 10);
		if (*end || !n || n > TOP_MAX || argv[2][0] == '-')
			return fail(f, "dst: bad count '%.20s' (1..%d)", argv[2], TOP_MAX);
	}
	xf_engine_get_params(ctl->s->env.engine, &p);
	rcu_read_lock();
	found = xf_engine_dst(ctl->s->env.engine, t.dst, &d);
	if (found)
		xf_engine_foreach_pair(ctl->s->env.engine, sel_one, &t);
	rcu_read_unlock();
	xpro_addr_format(t.dst, 0, dst, sizeof(dst));
	if (!found) {
		free(t.v);
		return fail(f, "no live record for destination %s (no packet towards it lately)",
			    dst);
	}
	fprintf(f,
		"{\"ok\":true,\"dst\":\"%s\",\"policy\":\"%s\",\"tf2\":%" PRIu64
		",\"local\":{\"count\":%" PRIu64 ",\"window_ms\":%" PRIu64 ",\"pps\":%" PRIu64
		",\"pairs\":%u,\"admitted\":%" PRIu64 "},",
		dst, xf_policy_name(p.policy), p.tf2_pps, d.count,
		(uint64_t)(now > d.ts1 ? (now - d.ts1) / XF_NSEC_PER_MSEC : 0),
		win_pps(d.count, d.ts1, now), d.pairs, d.admitted);
	if (d.g_ts1)
		fprintf(f,
			"\"global\":{\"count\":%" PRIu64 ",\"window_ms\":%" PRIu64
			",\"pps\":%" PRIu64 ",\"others_pps\":%" PRIu64 "},",
			d.g_count,
			(uint64_t)(now > d.g_ts1 ? (now - d.g_ts1) / XF_NSEC_PER_MSEC : 0),
			win_pps(d.g_count, d.g_ts1, now), d.g_rate);
	else
		fputs("\"global\":null,", f);
	if (p.policy == XF_POLICY_FAIR) {
		fprintf(f, "\"senders\":%u,\"demand_pps\":%" PRIu64 ",", d.senders,
			d.demand / XF_RATE_ONE);
		if (d.share != XF_SHARE_NONE)
			fprintf(f,
				"\"capped\":true,\"share_pps\":%" PRIu64 ",\"cap_pps\":%" PRIu64
				",",
				d.share / XF_RATE_ONE, d.cap / XF_RATE_ONE);
		else
			fputs("\"capped\":false,\"share_pps\":null,\"cap_pps\":null,", f);
	}
	qsort(t.v, t.n, sizeof(*t.v), by_count_desc);
	fprintf(f, "\"npairs\":%zu,\"truncated\":%s,\"top\":[", t.n,
		t.truncated ? "true" : "false");
	rcu_read_lock();
	for (size_t i = 0; i < t.n && i < n; i++)
		write_pair(f, ctl, &t.v[i], &p, now, !i, true);
	rcu_read_unlock();
	fputs("]}", f);
	free(t.v);
}

/* --- devices, set, reload ---------------------------------------------------------- */

static void cmd_devices(struct px_ctl *ctl, FILE *f)
{
	static struct px_counters c;
	uint64_t rej[TUN_REJ_N] = { 0 }, active = 0, inactive = 0;
	const char *names[TUN_REJ_N];
	struct xpro_dev_val v;
	__u32 k[2];
	int i = 0, fd = ctl->s->xdp.devices_fd;
	bool first = true;

	px_counters_read(ctl->s, &c);
	for (int w = 0; w < c.nw; w++)
		for (int r = 0; r < TUN_REJ_N; r++)
			rej[r] += c.w[w].ws.rejected[r];
	for (int r = 0; r < TUN_REJ_N; r++)
		names[r] = tun_rej_name(r);
	while (!bpf_map_get_next_key(fd, first ? NULL : &k[i ^ 1], &k[i])) {
		first = false;
		if (!bpf_map_lookup_elem(fd, &k[i], &v))
			*(v.active ? &active : &inactive) += 1;
		i ^= 1;
	}
	fprintf(f,
		"{\"ok\":true,\"provisioned\":%" PRIu64 ",\"active\":%" PRIu64
		",\"inactive\":%" PRIu64 ",\"xdp_unknown_dev\":%" PRIu64 ",",
		c.devices, active, inactive, c.xdp_ok ? c.xdp_pk[XPRO_XDP_DROP_UNKNOWN_DEV] : 0);
	write_u64s(f, "rejected", rej, names, 1, TUN_REJ_N);
	fputc('}', f);
}

static void cmd_mailbox(struct px_ctl *ctl, FILE *f, enum px_ctl_mb req, int argc, char **argv)
{
	char msg[512];
	int rc;

	if (req == PX_MB_SET && argc != 3)
		return fail(f, "usage: set KEY VALUE");
	if (req == PX_MB_RELOAD && argc != 1)
		return fail(f, "usage: reload");
	rc = px_ctl_post(ctl, req, argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL, msg,
			 sizeof(msg));
	if (rc)
		return fail(f, "%s", msg);
	fputs("{\"ok\":true,\"changed\":", f);
	px_json_str(f, msg);
	fputc('}', f);
}

/* trace FILE [SECONDS] | trace stop | trace: through the mailbox; the trace's state back. */
static void cmd_trace(struct px_ctl *ctl, FILE *f, int argc, char **argv)
{
	char msg[512];
	const char *what = "", *path = "";
	int rc;

	if (argc == 2 && !strcmp(argv[1], "stop")) {
		what = "stop";
	} else if (argc == 2 || argc == 3) {
		path = argv[1];
		what = argc == 3 ? argv[2] : "10";
	} else if (argc != 1) {
		return fail(f, "usage: trace FILE [SECONDS] | trace stop | trace");
	}
	rc = px_ctl_post(ctl, PX_MB_TRACE, what, path, msg, sizeof(msg));
	if (rc)
		return fail(f, "%s", msg);
	fprintf(f, "{\"ok\":true,%s}", msg);
}

void px_ctl_handle(struct px_ctl *ctl, char *line, FILE *f)
{
	char *argv[CTL_ARGS + 1], *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (argc == CTL_ARGS)
			return fail(f, "too many arguments");
		argv[argc++] = tok;
	}
	if (!argc)
		return fail(f, "empty request; commands: status, top, flagged, flag, unflag, set, "
			       "reload, devices [N], dst ADDR, trace");
	if (!strcmp(argv[0], "status") && argc == 1)
		return cmd_status(ctl, f);
	if (!strcmp(argv[0], "top") && argc <= 2)
		return cmd_top(ctl, f, argc, argv);
	if (!strcmp(argv[0], "flagged") && argc == 1)
		return cmd_flagged(ctl, f);
	if (!strcmp(argv[0], "flag"))
		return cmd_flag(ctl, f, argc, argv);
	if (!strcmp(argv[0], "unflag"))
		return cmd_unflag(ctl, f, argc, argv);
	if (!strcmp(argv[0], "devices") && argc == 1)
		return cmd_devices(ctl, f);
	if (!strcmp(argv[0], "devices") && argc == 2)
		return cmd_device(ctl, f, argv[1]);
	if (!strcmp(argv[0], "dst"))
		return cmd_dst(ctl, f, argc, argv);
	if (!strcmp(argv[0], "trace"))
		return cmd_trace(ctl, f, argc, argv);
	if (!strcmp(argv[0], "set"))
		return cmd_mailbox(ctl, f, PX_MB_SET, argc, argv);
	if (!strcmp(argv[0], "reload"))
		return cmd_mailbox(ctl, f, PX_MB_RELOAD, argc, argv);
	fail(f,
	     "unknown request '%.40s'; commands: status, top [N], flagged, flag DEV DST "
	     "[SECONDS], unflag DEV DST, set KEY VALUE, reload, devices [N], dst ADDR [N], trace FILE [SECONDS]",
	     argv[0]);
}
