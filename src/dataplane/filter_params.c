/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Filter thresholds: one declarative table (name, unit, bounds, default),
 * built from XF_PARAMS() in xpro/filter.h, from which defaults, validation
 * and error messages all come.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "dataplane/filter_int.h"

#define XF_PARAM_ROW_(f, unit, lo, hi, def)                                                      \
	{                                                                                        \
		#f, unit, offsetof(struct xf_params, f), sizeof(((struct xf_params *)0)->f), lo, \
		hi, def                                                                          \
	},

const struct xf_param_desc xf_param_table[] = {
	XF_PARAMS(XF_PARAM_ROW_){ NULL, NULL, 0, 0, 0, 0, 0 },
};

uint64_t xf_param_get(const struct xf_params *p, const struct xf_param_desc *d)
{
	const char *base = (const char *)p + d->offset;

	return d->size == 8 ? *(const uint64_t *)base : *(const uint32_t *)base;
}

void xf_param_set(struct xf_params *p, const struct xf_param_desc *d, uint64_t v)
{
	char *base = (char *)p + d->offset;

	if (d->size == 8)
		*(uint64_t *)base = v;
	else
		*(uint32_t *)base = (uint32_t)v;
}

void xf_params_default(struct xf_params *p)
{
	for (const struct xf_param_desc *d = xf_param_table; d->name; d++)
		xf_param_set(p, d, d->def);
}

int xf_params_validate(const struct xf_params *p, char *err, size_t errlen)
{
	for (const struct xf_param_desc *d = xf_param_table; d->name; d++) {
		uint64_t v = xf_param_get(p, d);

		if (v >= d->min && v <= d->max)
			continue;
		if (err && errlen)
			snprintf(err, errlen,
				 "%s: bad value '%" PRIu64 "' (must be %" PRIu64 "..%" PRIu64
				 " %s)",
				 d->name, v, d->min, d->max, d->unit);
		return -EINVAL;
	}
	return 0;
}

/* Thresholds in the units the per-packet path uses. */
void xf_params_compile(const struct xf_params *p, struct xf_rt *rt)
{
	rt->tt1 = p->tt1_ms * XF_NSEC_PER_MSEC;
	rt->tt2 = p->tt2_ms * XF_NSEC_PER_MSEC;
	rt->tt3 = p->tt3_ms * XF_NSEC_PER_MSEC;
	rt->tt4 = p->tt4_ms * XF_NSEC_PER_MSEC;
	rt->tf1 = p->tf1_pps;
	rt->tf2 = p->tf2_pps;
	rt->warn_interval = (uint64_t)p->warn_interval_ms * XF_NSEC_PER_MSEC;
	rt->policy = p->policy;
	rt->tau1 = (uint64_t)p->pair_burst_ms * XF_NSEC_PER_MSEC;
	rt->tau2 = (uint64_t)p->dst_burst_ms * XF_NSEC_PER_MSEC;
	rt->taur = (uint64_t)p->rate_ms * XF_NSEC_PER_MSEC;
	rt->i1 = (XF_NSEC_PER_SEC + p->tf1_pps - 1) / p->tf1_pps;
	rt->i2 = (XF_NSEC_PER_SEC + p->tf2_pps - 1) / p->tf2_pps;
	rt->flag_excess = (unsigned __int128)p->tf1_pps * p->tflag_ms;
	/* The least count a heavy pair's window can hold: T_F1 x T_T3 / XF_HEAVY_DIV. */
	{
		unsigned __int128 h =
			((unsigned __int128)p->tf1_pps * p->tt3_ms + 1000 * XF_HEAVY_DIV - 1) /
			(1000 * XF_HEAVY_DIV);

		rt->heavy_c = h < 2 ? 2 : h > UINT32_MAX ? UINT32_MAX : (uint64_t)h;
	}
	rt->src = *p;
}

const char *xf_policy_name(unsigned policy)
{
	return policy == XF_POLICY_FCFS ? "fcfs" : policy == XF_POLICY_FAIR ? "fair" : "?";
}
