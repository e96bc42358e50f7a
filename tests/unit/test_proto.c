// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The protocol core's address helpers (include/xpro/addr.h, addr_text.h):
 * the one "host:port" parser every command line, config key and peer entry
 * goes through, and the IPv4-mapped form.  The wire format, SipHash and the
 * replay window are held to their vectors by test_tunnel and tests/modem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xpro/addr_text.h"
#include "xpro/replay.h"

static int split(const char *s, char *host, uint16_t *port, int flags)
{
	return xpro_hostport_split(s, host, 64, port, flags);
}

static void test_hostport_split_accepts(void **state)
{
	static const struct {
		const char *in, *host;
		uint16_t port;
		int flags;
	} ok[] = {
		{ "198.18.0.1:7447", "198.18.0.1", 7447, XPRO_HP_PORT },
		{ "[2001:db8::1]:1", "2001:db8::1", 1, XPRO_HP_PORT },
		{ "redis.local:6379", "redis.local", 6379, XPRO_HP_PORT },
		{ "proxy0:65535", "proxy0", 65535, XPRO_HP_PORT },
		{ "198.18.0.1", "198.18.0.1", 0, XPRO_HP_PORT_OPT },
		{ "2001:db8::1", "2001:db8::1", 0, XPRO_HP_PORT_OPT },
		{ "[::1]", "::1", 0, XPRO_HP_PORT_OPT },
		{ "[::1]:80", "::1", 80, XPRO_HP_PORT_OPT },
	};
	char host[64];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		port = 12345;
		if (split(ok[i].in, host, &port, ok[i].flags))
			fail_msg("'%s' refused", ok[i].in);
		assert_string_equal(host, ok[i].host);
		assert_int_equal(port, ok[i].port);
	}
}

static void test_hostport_split_refuses(void **state)
{
	static const char *const bad[] = {
		"",	     "198.18.0.1", "2001:db8::1",   "[::1]",   ":7447",	  "host:",
		"host:0",    "host:65536", "host:99999999", "host:7x", "host:-1", "host: 1",
		"[::1]7447", "[::1",	   "[]:1",	    "[::1]:",  "a:b:c:1",
	};
	char host[64];
	uint16_t port;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!split(bad[i], host, &port, XPRO_HP_PORT))
			fail_msg("'%s' accepted (host '%s' port %u)", bad[i], host, port);
	/* Optional port: still a malformed one, or an empty host. */
	assert_int_equal(split("host:", host, &port, XPRO_HP_PORT_OPT), -1);
	assert_int_equal(split("", host, &port, XPRO_HP_PORT_OPT), -1);
	assert_int_equal(split("[::1]x", host, &port, XPRO_HP_PORT_OPT), -1);
}

static void test_hostport_split_host_too_long(void **state)
{
	char host[8];
	uint16_t port;

	(void)state;
	assert_int_equal(xpro_hostport_split("1234567:1", host, sizeof(host), &port, 0), 0);
	assert_string_equal(host, "1234567");
	assert_int_equal(xpro_hostport_split("12345678:1", host, sizeof(host), &port, 0), -1);
}

static void test_addr_forms(void **state)
{
	static const uint8_t v4m[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 };
	uint8_t a[16];
	uint16_t port;
	char txt[XPRO_ADDR_TEXT_MAX];

	(void)state;
	assert_int_equal(xpro_addr_parse("198.18.0.1", a), 4);
	assert_memory_equal(a, v4m, 16);
	assert_true(xpro_addr_is_v4(a));
	assert_int_equal(xpro_addr_parse("::ffff:198.18.0.1", a), 6);
	assert_true(xpro_addr_is_v4(a)); /* the same 16 bytes */
	assert_int_equal(xpro_addr_parse("2001:db8::9", a), 6);
	assert_false(xpro_addr_is_v4(a));
	assert_int_equal(xpro_addr_parse("198.18.0", a), 0);

	assert_int_equal(xpro_hostport_parse("198.18.0.1:7447", a, &port, XPRO_HP_PORT), 4);
	assert_int_equal(port, 7447);
	xpro_addr_format(a, port, txt, sizeof(txt));
	assert_string_equal(txt, "198.18.0.1:7447");
	assert_int_equal(xpro_hostport_parse("[2001:db8::9]:53", a, &port, XPRO_HP_PORT), 6);
	xpro_addr_format(a, port, txt, sizeof(txt));
	assert_string_equal(txt, "[2001:db8::9]:53");
	xpro_addr_format(a, 0, txt, sizeof(txt));
	assert_string_equal(txt, "2001:db8::9");
	/* Brackets are for IPv6; a name is not an address. */
	assert_int_equal(xpro_hostport_parse("[198.18.0.1]:1", a, &port, XPRO_HP_PORT), 0);
	assert_int_equal(xpro_hostport_parse("proxy0:1", a, &port, XPRO_HP_PORT), 0);
}

/* The window's rule: the highest and the 63 below it, each once. */
static void test_replay_window(void **state)
{
	struct xpro_replay w = { 0, 0 };

	(void)state;
	assert_int_equal(xpro_replay_check(&w, 0), 0);
	xpro_replay_mark(&w, 100);
	assert_int_equal(xpro_replay_check(&w, 100), -1);
	assert_int_equal(xpro_replay_check(&w, 37), 0); /* 63 below: inside */
	assert_int_equal(xpro_replay_check(&w, 36), -1); /* 64 below: too old */
	xpro_replay_mark(&w, 37);
	assert_int_equal(xpro_replay_check(&w, 37), -1);
	xpro_replay_mark(&w, 164); /* a jump past the window forgets all below */
	assert_int_equal(xpro_replay_check(&w, 101), 0);
	assert_int_equal(xpro_replay_check(&w, 100), -1);
	assert_int_equal(xpro_replay_check(&w, 165), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport_split_accepts),
		cmocka_unit_test(test_hostport_split_refuses),
		cmocka_unit_test(test_hostport_split_host_too_long),
		cmocka_unit_test(test_addr_forms),
		cmocka_unit_test(test_replay_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
