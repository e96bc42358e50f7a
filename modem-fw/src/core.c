/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The device's life: boot (epoch first), proxies and their keys, sealing
 * outbound packets, and the probe timers.
 */
#include "mfw_int.h"

void mfw_config_default(struct mfw_config *cfg, uint32_t dev)
{
	struct mfw_config d = {
		.dev = dev,
		.t_w = 800,
		.hyst = 150,
		.dwell_ms = 10000,
		.probe_ms = 1000,
		.probe_idle_ms = 5000,
		.probe_timeout_ms = 500,
		.miss_max = 3,
		.encrypt = MFW_ENC_OFF,
		.hold_max_ms = 60000,
		.hold_default_ms = 10000,
	};

	*cfg = d;
}

static int config_ok(const struct mfw_config *cfg, const struct mfw_platform *plat)
{
	if (!plat || !plat->now_ms || !plat->random || !plat->udp_send || !plat->store_read ||
	    !plat->store_write)
		return 0;
	if (cfg->dev == UINT32_MAX || cfg->hyst > cfg->t_w || !cfg->probe_ms ||
	    !cfg->probe_idle_ms || !cfg->probe_timeout_ms || !cfg->miss_max ||
	    cfg->encrypt > MFW_ENC_REQUIRE || cfg->hold_default_ms > cfg->hold_max_ms)
		return 0;
	/* Requiring encryption without an AEAD would never send anything. */
	return cfg->encrypt != MFW_ENC_REQUIRE || plat->aead_seal;
}

int mfw_init(struct mfw_ctx *c, const struct mfw_config *cfg, const struct mfw_platform *plat,
	     struct mfw_proxy *px, unsigned max_px)
{
	struct mfw_ctx z = { 0 };
	int r;

	*c = z;
	c->cur = -1;
	if (!cfg || !px || !max_px || max_px > MFW_MAX_PROXIES || !config_ok(cfg, plat))
		return -MFW_EINVAL;
	c->plat = plat;
	c->cfg = *cfg;
	c->px = px;
	c->max_px = (uint8_t)max_px;
	r = mfw_epoch_advance(plat, &c->epoch);
	if (r)
		return r;
	c->booted = 1;
	return 0;
}

int mfw_proxy_add(struct mfw_ctx *c, const struct mfw_addr *addr,
		  const uint8_t secret[XPRO_TUN_SECRET_LEN])
{
	struct mfw_proxy z = { 0 }, *p;
	uint8_t k[XPRO_EK_LEN];

	if (!c->booted || !addr || !secret)
		return -MFW_EINVAL;
	if (c->npx == c->max_px)
		return -MFW_ENOSPC;
	p = &c->px[c->npx];
	*p = z;
	p->addr = *addr;
	mfw_kdf(secret, XPRO_LABEL_IK, c->epoch, k, 2);
	xpro_sipkey_load(&p->ik, k);
	mfw_kdf(secret, XPRO_LABEL_PK, c->epoch, k, 2);
	xpro_sipkey_load(&p->pk, k);
	mfw_kdf(secret, XPRO_LABEL_EK, c->epoch, p->ek, 4);
	p->flags = MFW_PF_KEYED;
	/* Probe at once: loads and liveness are unknown. */
	p->next_probe_ms = c->plat->now_ms(c->plat->user);
	if (c->cur < 0) {
		c->cur = (int8_t)c->npx;
		c->switched_ms = p->next_probe_ms;
	}
	return c->npx++;
}

int mfw_current(const struct mfw_ctx *c)
{
	return c->cur;
}

static int next_seq(struct mfw_ctx *c, uint64_t *seq)
{
	if (c->seq == UINT64_MAX)
		return -MFW_EOVERFLOW;
	*seq = c->seq++;
	return 0;
}

int mfw_send(struct mfw_ctx *c, uint8_t *buf, size_t buflen, size_t len)
{
	const struct mfw_platform *plat = c->plat;
	uint8_t nonce[XPRO_AEAD_NONCE_LEN] = { 0 };
	struct mfw_proxy *p;
	unsigned flags = 0;
	uint64_t seq;
	size_t n;
	int r, enc;

	if (!c->booted || c->cur < 0)
		return -MFW_ENETUNREACH;
	if (len > 65535 - MFW_SEND_BUFLEN(0))
		return -MFW_EMSGSIZE;
	if (buflen < MFW_SEND_BUFLEN(len))
		return -MFW_ENOSPC;
	p = &c->px[c->cur];
	enc = c->cfg.encrypt != MFW_ENC_OFF && plat->aead_seal && (p->flags & MFW_PF_ENC_OK);
	if (c->cfg.encrypt == MFW_ENC_REQUIRE && !enc)
		return -MFW_EAGAIN;
	r = next_seq(c, &seq);
	if (r)
		return r;
	if (enc) {
		/* The header is the AEAD's associated data; the nonce is the sequence. */
		flags = XPRO_TUN_F_ENCRYPTED;
		mfw_hdr_put(buf, XPRO_MSG_DATA, flags, c->epoch, c->cfg.dev, seq);
		xpro_put_be64(nonce + 4, seq);
		r = plat->aead_seal(plat->user, buf + XPRO_TUN_HDR_LEN, buf + XPRO_TUN_HDR_LEN, len,
				    buf, XPRO_TUN_HDR_LEN, nonce, p->ek);
		if (r)
			goto out_err;
		len += XPRO_AEAD_TAG_LEN;
	}
	n = mfw_seal(buf, &p->ik, XPRO_MSG_DATA, flags, c->epoch, c->cfg.dev, seq, len);
	r = plat->udp_send(plat->user, &p->addr, buf, n);
	if (r)
		goto out_err;
	c->st.data_sent++;
	return (int)n;
out_err:
	c->st.send_errors++;
	return r;
}

static void probe_send(struct mfw_ctx *c, int i, uint64_t now)
{
	const struct mfw_platform *plat = c->plat;
	uint8_t msg[XPRO_TUN_OVERHEAD + XPRO_PROBE_LEN] = { 0 }, *pl = msg + XPRO_TUN_HDR_LEN;
	struct mfw_proxy *p = &c->px[i];
	uint32_t interval = i == c->cur ? c->cfg.probe_ms : c->cfg.probe_idle_ms;
	uint16_t rnd = 0;
	uint64_t seq;
	size_t n;

	/* Jitter, up to an eighth of the interval: a fleet booted together spreads out. */
	if (!plat->random(plat->user, &rnd, sizeof(rnd)))
		interval -= rnd % (interval / 8 + 1);
	p->next_probe_ms = now + interval;
	if (next_seq(c, &seq))
		return;
	pl[XPRO_PROBE_OFF_PVER] = XPRO_PAYLOAD_VERSION;
	if (c->cfg.encrypt != MFW_ENC_OFF && plat->aead_seal)
		pl[XPRO_PROBE_OFF_CAPS] = XPRO_CAP_ENC;
	pl[XPRO_PROBE_OFF_ROLE] = i == c->cur ? XPRO_ROLE_CURRENT : XPRO_ROLE_STANDBY;
	n = mfw_seal(msg, &p->ik, XPRO_MSG_PROBE, 0, c->epoch, c->cfg.dev, seq, XPRO_PROBE_LEN);
	p->probe_seq = seq;
	p->probe_sent_ms = now;
	p->flags |= MFW_PF_PROBE_OUT;
	c->st.probes++;
	/* A lost send is a probe that will time out: the same outcome, one path. */
	if (plat->udp_send(plat->user, &p->addr, msg, n))
		c->st.send_errors++;
}

static void probe_timeout(struct mfw_ctx *c, int i, uint64_t now)
{
	struct mfw_proxy *p = &c->px[i];

	p->flags &= (uint8_t)~MFW_PF_PROBE_OUT;
	if (p->misses < 255)
		p->misses++;
	if (p->misses >= c->cfg.miss_max && p->state != MFW_P_DOWN) {
		p->state = MFW_P_DOWN;
		mfw_event(c, MFW_EV_PROXY_DOWN, i, p->misses);
	}
	/* The current proxy is retried at once: failover takes miss_max timeouts. */
	if (i == c->cur)
		p->next_probe_ms = now;
}

uint32_t mfw_poll(struct mfw_ctx *c)
{
	uint64_t now, next = UINT64_MAX, due;
	int i;

	if (!c->booted)
		return UINT32_MAX;
	now = c->plat->now_ms(c->plat->user);
	for (i = 0; i < c->npx; i++) {
		struct mfw_proxy *p = &c->px[i];

		if ((p->flags & MFW_PF_PROBE_OUT) &&
		    now - p->probe_sent_ms >= c->cfg.probe_timeout_ms)
			probe_timeout(c, i, now);
	}
	mfw_select(c, now);
	for (i = 0; i < c->npx; i++) {
		struct mfw_proxy *p = &c->px[i];

		if (!(p->flags & MFW_PF_PROBE_OUT) && now >= p->next_probe_ms)
			probe_send(c, i, now);
		due = p->flags & MFW_PF_PROBE_OUT ? p->probe_sent_ms + c->cfg.probe_timeout_ms
						  : p->next_probe_ms;
		if (due < next)
			next = due;
	}
	if (next <= now)
		return 0;
	return next - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(next - now);
}
