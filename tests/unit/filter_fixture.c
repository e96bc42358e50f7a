/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The filter tests' fixture (filter_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "filter_fixture.h"

int fx_setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f->w)
		xf_worker_free(f->w);
	if (f->e)
		xf_engine_free(f->e);
	free(f);
	return 0;
}

struct xf_engine *fx_engine_new(struct fx *f, const struct xf_params *p, uint32_t max_records,
				uint32_t max_dsts, uint64_t seed)
{
	struct xf_limits lim = { .max_records = max_records, .max_dsts_per_dev = max_dsts };

	f->e = xf_engine_new(p, &lim, seed);
	assert_non_null(f->e);
	f->w = xf_worker_new(f->e);
	assert_non_null(f->w);
	return f->e;
}
