// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The numbers docs/ states about layouts, held to the code, so that the text
 * cannot drift from it: the engine's record sizes (docs/algorithm.md
 * "Memory") and the payload offsets and sizes of the management messages
 * (docs/protocol.md "Proxy management protocol").  Run from the repository
 * root, as make runs every test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xpro/filter.h"
#include "xpro/tunnel.h"
#include "dataplane/filter_int.h"
#include "read_file.h"

#define ROUND16(x) (((x) + 15) & ~(size_t)15)

static char *slurp(const char *path)
{
	char *buf = read_all(path);

	if (!buf)
		fail_msg("%s: cannot open (run from the repository root)", path);
	return buf;
}

/* The number in the last cell of the table row that names what (a backticked name). */
static long table_value(const char *doc, const char *what)
{
	const char *row = strstr(doc, what), *end, *bar;

	if (!row)
		fail_msg("docs/algorithm.md: no table row naming %s", what);
	end = strchr(row, '\n');
	for (bar = end; bar > row && bar[-1] != '|'; bar--)
		;
	/* bar is just after the closing '|': step back over it to the last cell. */
	for (bar -= 2; bar > row && *bar != '|'; bar--)
		;
	return strtol(bar + 1, NULL, 10);
}

static void test_record_sizes(void **state)
{
	char *doc = slurp("docs/algorithm.md");

	(void)state;
	assert_int_equal(table_value(doc, "`struct xf_pair`"), sizeof(struct xf_pair));
	assert_int_equal(table_value(doc, "`struct xf_dst`"), ROUND16(sizeof(struct xf_dst)));
	assert_int_equal(table_value(doc, "`struct xf_dev`"), ROUND16(sizeof(struct xf_dev)));
	assert_int_equal(table_value(doc, "`xf_bytes_per_record()`"), xf_bytes_per_record());
	free(doc);
}

/*
 * In the code block after the line starting with heading, the offset at the
 * start of the first line containing field.
 */
static long block_offset(const char *doc, const char *heading, const char *field)
{
	const char *h = strstr(doc, heading), *blk, *end, *line;

	if (!h)
		fail_msg("docs/protocol.md: no '%s'", heading);
	blk = strstr(h, "```\n");
	end = blk ? strstr(blk + 4, "```") : NULL;
	if (!end)
		fail_msg("docs/protocol.md: no layout block after '%s'", heading);
	line = strstr(blk, field);
	if (!line || line > end)
		fail_msg("docs/protocol.md: '%s' has no line for '%s'", heading, field);
	while (line > blk && line[-1] != '\n')
		line--;
	return strtol(line, NULL, 10);
}

static void test_payload_layouts(void **state)
{
	char *doc = slurp("docs/protocol.md");
	static const struct {
		const char *heading, *field;
		long off;
	} f[] = {
		{ "**PROBE** (type 2", "payload version", XPRO_PROBE_OFF_PVER },
		{ "**PROBE** (type 2", "caps:", XPRO_PROBE_OFF_CAPS },
		{ "**PROBE** (type 2", "role:", XPRO_PROBE_OFF_ROLE },
		{ "**PROBE** (type 2", "reserved", XPRO_PROBE_OFF_ROLE + 1 },
		{ "**PROBE_REPLY** (type 3", "echo:", XPRO_REPLY_OFF_ECHO },
		{ "**PROBE_REPLY** (type 3", "payload version", XPRO_REPLY_OFF_PVER },
		{ "**PROBE_REPLY** (type 3", "flags:", XPRO_REPLY_OFF_FLAGS },
		{ "**PROBE_REPLY** (type 3", "own load", XPRO_REPLY_OFF_LOAD },
		{ "**PROBE_REPLY** (type 3", "npeers,", XPRO_REPLY_OFF_NPEERS },
		{ "**PROBE_REPLY** (type 3", "npeers entries", XPRO_REPLY_FIXED_LEN },
		{ "**PROBE_REPLY** (type 3", "tunnel address", XPRO_PEER_OFF_ADDR },
		{ "**PROBE_REPLY** (type 3", "u8 state", XPRO_PEER_OFF_STATE },
		{ "**OVERLOAD** (type 4", "payload version", XPRO_OVL_OFF_PVER },
		{ "**OVERLOAD** (type 4", "reason:", XPRO_OVL_OFF_REASON },
		{ "**OVERLOAD** (type 4", "the proxy's load", XPRO_OVL_OFF_LOAD },
		{ "**OVERLOAD** (type 4", "hold:", XPRO_OVL_OFF_HOLD },
		{ "**OVERLOAD** (type 4", "inner destination", XPRO_OVL_OFF_DST },
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (block_offset(doc, f[i].heading, f[i].field) != f[i].off)
			fail_msg("docs/protocol.md %s '%s': offset %ld, code says %ld",
				 f[i].heading, f[i].field,
				 block_offset(doc, f[i].heading, f[i].field), f[i].off);
	/* The sizes stated in the prose. */
	snprintf(want, sizeof(want), "%zu bytes, the proxies'", XPRO_PROBE_LEN);
	assert_non_null(strstr(doc, want));
	snprintf(want, sizeof(want), "npeers entries of %zu bytes", XPRO_PEER_LEN);
	assert_non_null(strstr(doc, want));
	snprintf(want, sizeof(want), "tag (%d bytes, SipHash-2-4)", XPRO_TUN_TAG_LEN);
	assert_non_null(strstr(doc, want));
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_sizes),
		cmocka_unit_test(test_payload_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
