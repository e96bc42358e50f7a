/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages from the proxies (PROBE_REPLY, OVERLOAD), checked cheapest first
 * in the order of docs/protocol.md "Device checks".  Nothing is written
 * before the tag has verified and the payload has parsed: a forged,
 * reflected, replayed or misdirected message costs at most one SipHash and
 * changes nothing but a rejection counter.
 */
#include "mfw_int.h"

static int addr_eq(const struct mfw_addr *a, const struct mfw_addr *b)
{
	unsigned diff = a->port ^ b->port;

	for (unsigned i = 0; i < sizeof(a->ip); i++)
		diff |= a->ip[i] ^ b->ip[i];
	return diff == 0;
}

static struct mfw_proxy *proxy_by_addr(struct mfw_ctx *c, const struct mfw_addr *a)
{
	for (int i = 0; i < c->npx; i++)
		if (addr_eq(&c->px[i].addr, a))
			return &c->px[i];
	return 0;
}

static int payload_ok(const struct mfw_ctx *c, unsigned type, const uint8_t *pl, size_t len)
{
	unsigned n;

	if (type == XPRO_MSG_OVERLOAD)
		return len >= XPRO_OVERLOAD_LEN && pl[XPRO_OVL_OFF_PVER] == XPRO_PAYLOAD_VERSION &&
		       (pl[XPRO_OVL_OFF_REASON] == XPRO_OVL_PAIR_DROPPED ||
			pl[XPRO_OVL_OFF_REASON] == XPRO_OVL_BUSY);
	if (len < XPRO_REPLY_FIXED_LEN || pl[XPRO_REPLY_OFF_PVER] != XPRO_PAYLOAD_VERSION)
		return 0;
	n = pl[XPRO_REPLY_OFF_NPEERS];
	/* An echo of a sequence number not yet used cannot answer anything. */
	return n <= XPRO_REPLY_MAX_PEERS && len >= XPRO_REPLY_FIXED_LEN + n * XPRO_PEER_LEN &&
	       xpro_get_be64(pl + XPRO_REPLY_OFF_ECHO) < c->seq;
}

static int check(struct mfw_ctx *c, const struct mfw_addr *from, const uint8_t *msg, size_t len,
		 struct mfw_proxy **pp)
{
	struct mfw_proxy *p;
	unsigned type;
	uint64_t seq, tag;
	size_t body;

	if (len < XPRO_TUN_OVERHEAD)
		return -MFW_REJ_SHORT;
	if (msg[XPRO_TUN_OFF_VER_TYPE] >> 4 != XPRO_TUN_VERSION)
		return -MFW_REJ_VERSION;
	type = msg[XPRO_TUN_OFF_VER_TYPE] & 0x0f;
	if (type == XPRO_MSG_DATA || type == XPRO_MSG_PROBE)
		return -MFW_REJ_DIRECTION;
	if (type != XPRO_MSG_PROBE_REPLY && type != XPRO_MSG_OVERLOAD)
		return -MFW_REJ_TYPE;
	if (msg[XPRO_TUN_OFF_FLAGS] || xpro_get_be16(msg + XPRO_TUN_OFF_RESERVED))
		return -MFW_REJ_FLAGS;
	p = proxy_by_addr(c, from);
	if (!p)
		return -MFW_REJ_PROXY;
	if (xpro_get_be32(msg + XPRO_TUN_OFF_DEV) != c->cfg.dev)
		return -MFW_REJ_DEV;
	if (xpro_get_be32(msg + XPRO_TUN_OFF_EPOCH) != c->epoch)
		return -MFW_REJ_EPOCH;
	seq = xpro_get_be64(msg + XPRO_TUN_OFF_SEQ);
	if (xpro_replay_check(&p->rx, seq))
		return -MFW_REJ_REPLAY;
	body = len - XPRO_TUN_TAG_LEN;
	tag = xpro_get_le64(msg + body);
	/* One 64-bit comparison: no early exit that would time how many bytes matched. */
	if ((mfw_siphash(&p->pk, msg, body) ^ tag) != 0)
		return -MFW_REJ_MAC;
	if (!payload_ok(c, type, msg + XPRO_TUN_HDR_LEN, body - XPRO_TUN_HDR_LEN))
		return -MFW_REJ_PAYLOAD;
	xpro_replay_mark(&p->rx, seq);
	*pp = p;
	return 0;
}

int mfw_input(struct mfw_ctx *c, const struct mfw_addr *from, const uint8_t *msg, size_t len)
{
	struct mfw_proxy *p = 0;
	uint64_t now;
	int r;

	if (!c->booted)
		return -MFW_REJ_PROXY;
	r = check(c, from, msg, len, &p);
	if (r) {
		c->st.rej[-r]++;
		return r;
	}
	now = c->plat->now_ms(c->plat->user);
	if ((msg[XPRO_TUN_OFF_VER_TYPE] & 0x0f) == XPRO_MSG_OVERLOAD)
		mfw_on_overload(c, p, msg + XPRO_TUN_HDR_LEN, now);
	else
		mfw_on_reply(c, p, msg + XPRO_TUN_HDR_LEN, len - XPRO_TUN_OVERHEAD, now);
	mfw_select(c, now);
	return 0;
}

/* A peer's report: load and availability of a proxy we have a secret for. */
static void peer_apply(struct mfw_ctx *c, const struct mfw_proxy *from, const uint8_t *e)
{
	struct mfw_addr a;
	struct mfw_proxy *q;

	for (unsigned i = 0; i < sizeof(a.ip); i++)
		a.ip[i] = e[XPRO_PEER_OFF_ADDR + i];
	a.port = xpro_get_be16(e + XPRO_PEER_OFF_PORT);
	q = proxy_by_addr(c, &a);
	if (!q || q == from)
		return;
	q->load = xpro_get_be16(e + XPRO_PEER_OFF_LOAD);
	if (e[XPRO_PEER_OFF_STATE] == XPRO_PEER_AVAILABLE)
		q->flags &= (uint8_t)~MFW_PF_PEER_UNAVAIL;
	else
		q->flags |= MFW_PF_PEER_UNAVAIL;
}

void mfw_on_reply(struct mfw_ctx *c, struct mfw_proxy *p, const uint8_t *pl, size_t len,
		  uint64_t now)
{
	unsigned flags = pl[XPRO_REPLY_OFF_FLAGS], n = pl[XPRO_REPLY_OFF_NPEERS];

	(void)len;
	c->st.replies++;
	/*
	 * Only the answer to the latest probe counts: an older one, held back
	 * and delivered late, would vouch for a proxy that may have died since.
	 */
	if (xpro_get_be64(pl + XPRO_REPLY_OFF_ECHO) != p->probe_seq)
		return;
	p->flags &= (uint8_t) ~(MFW_PF_PROBE_OUT | MFW_PF_ENC_OK | MFW_PF_UNAVAIL |
				MFW_PF_PEER_UNAVAIL);
	if (flags & XPRO_REPLY_F_ENC_OK)
		p->flags |= MFW_PF_ENC_OK;
	if (flags & XPRO_REPLY_F_UNAVAIL)
		p->flags |= MFW_PF_UNAVAIL;
	p->load = xpro_get_be16(pl + XPRO_REPLY_OFF_LOAD);
	p->rtt_ms = (uint32_t)(now - p->probe_sent_ms);
	p->misses = 0;
	if (p->state == MFW_P_DOWN)
		mfw_event(c, MFW_EV_PROXY_UP, (int)(p - c->px), 0);
	p->state = MFW_P_UP;
	for (unsigned i = 0; i < n; i++)
		peer_apply(c, p, pl + XPRO_REPLY_FIXED_LEN + i * XPRO_PEER_LEN);
}

void mfw_on_overload(struct mfw_ctx *c, struct mfw_proxy *p, const uint8_t *pl, uint64_t now)
{
	uint32_t hold = xpro_get_be32(pl + XPRO_OVL_OFF_HOLD);

	c->st.overloads++;
	p->load = xpro_get_be16(pl + XPRO_OVL_OFF_LOAD);
	/*
	 * One dropped pair is no reason to move the device's other traffic: the
	 * pair's limit follows it to any proxy through the shared view.  Only
	 * the proxy's own overload (BUSY) holds it off.
	 */
	if (pl[XPRO_OVL_OFF_REASON] == XPRO_OVL_PAIR_DROPPED) {
		mfw_event(c, MFW_EV_OVERLOAD, (int)(p - c->px), pl[XPRO_OVL_OFF_REASON]);
		return;
	}
	if (!hold)
		hold = c->cfg.hold_default_ms;
	if (hold > c->cfg.hold_max_ms)
		hold = c->cfg.hold_max_ms;
	p->hold_until_ms = now + hold;
	mfw_event(c, MFW_EV_OVERLOAD, (int)(p - c->px), pl[XPRO_OVL_OFF_REASON]);
}

static const char *const rej_names[MFW_REJ_N] = {
	"OK",	 "SHORT", "VERSION", "DIRECTION", "TYPE", "FLAGS",
	"PROXY", "DEV",	  "EPOCH",   "REPLAY",	  "MAC",  "PAYLOAD",
};

const char *mfw_rej_name(int r)
{
	unsigned i = r < 0 ? 0u - (unsigned)r : (unsigned)r;

	return i < MFW_REJ_N ? rej_names[i] : "?";
}
