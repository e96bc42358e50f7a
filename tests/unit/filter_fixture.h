/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the filter engine's cmocka tests: one engine and one worker that
 * the teardown frees even after a failed assertion.
 */
#ifndef XPRO_TEST_FILTER_FIXTURE_H
#define XPRO_TEST_FILTER_FIXTURE_H

#include <stdint.h>

#include "xpro/filter.h"

struct fx {
	struct xf_engine *e;
	struct xf_worker *w;
};

/* cmocka setup and teardown: *state is a struct fx. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* An engine with these limits and seed and one worker on it, in f; asserts both. */
struct xf_engine *fx_engine_new(struct fx *f, const struct xf_params *p, uint32_t max_records,
				uint32_t max_dsts, uint64_t seed);

#endif /* XPRO_TEST_FILTER_FIXTURE_H */
