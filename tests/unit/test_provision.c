/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the provisioning file parser: what it accepts, the exact text
 * of every error, that a file with an error yields nothing, and loading a
 * 10,000-device file into the device table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "control/provision.h"
#include "tun_fixture.h"

#define NAME "devices.conf"
#define S0 "000102030405060708090a0b0c0d0e0f"
#define S1 "101112131415161718191a1b1c1d1e1f"

struct parsed {
	struct tun_dev_conf *conf;
	size_t n;
	char err[256];
	int rc;
};

static struct parsed parse(const char *text)
{
	struct parsed p;

	memset(&p, 0, sizeof(p));
	p.rc = prov_parse(NAME, text, strlen(text), &p.conf, &p.n, p.err, sizeof(p.err));
	return p;
}

/* Parse text expecting success with n devices; the caller frees conf. */
static struct tun_dev_conf *parse_ok(const char *text, size_t n)
{
	struct parsed p = parse(text);

	if (p.rc)
		fail_msg("unexpected error: %s", p.err);
	assert_int_equal(p.n, n);
	assert_string_equal(p.err, "");
	return p.conf;
}

static void expect_error(const char *text, const char *msg)
{
	struct parsed p = parse(text);

	assert_int_equal(p.rc, -EINVAL);
	assert_string_equal(p.err, msg);
	assert_null(p.conf);
	assert_int_equal(p.n, 0);
}

static void prefix_is(const struct tun_dev_conf *c, const char *addr, unsigned plen)
{
	uint8_t a[16] = { 0 };

	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
		assert_int_equal(c->ipver, 6);
	} else {
		a[10] = a[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, a + 12), 1);
		assert_int_equal(c->ipver, 4);
	}
	assert_memory_equal(c->prefix, a, 16);
	assert_int_equal(c->plen, plen);
}

/* --- what is accepted --------------------------------------------------------- */

static void test_spec_example(void **state)
{
	static const uint8_t s0[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct tun_dev_conf *c = parse_ok(
		"# index   secret (32 hex digits)              allowed inner source   [state]\n"
		"1         " S0 "    198.18.10.1/32\n"
		"2         " S1 "    2001:2:0:10::/64        inactive\n",
		2);

	(void)state;
	assert_int_equal(c[0].dev, 1);
	assert_memory_equal(c[0].secret, s0, 16);
	prefix_is(&c[0], "198.18.10.1", 128);
	assert_true(c[0].active);
	assert_int_equal(c[1].dev, 2);
	assert_int_equal(c[1].secret[0], 0x10);
	assert_int_equal(c[1].secret[15], 0x1f);
	prefix_is(&c[1], "2001:2:0:10::", 64);
	assert_false(c[1].active);
	free(c);
}

static void test_comments_and_blanks(void **state)
{
	struct tun_dev_conf *c = parse_ok("\n"
					  "   \t \n"
					  "# a comment\n"
					  "   # an indented comment\n"
					  "7\t" S0 "\t10.0.0.0/8 # trailing comment\n"
					  "8 " S1 " 10.1.0.0/16 active#glued comment\r\n"
					  "#\n"
					  "9 " S0 " 10.2.0.0/16",
					  3);

	(void)state;
	assert_int_equal(c[0].dev, 7);
	prefix_is(&c[0], "10.0.0.0", 104);
	assert_int_equal(c[1].dev, 8);
	assert_true(c[1].active);
	assert_int_equal(c[2].dev, 9);
	free(c);
	free(parse_ok("", 0));
	free(parse_ok("# nothing but a comment", 0));
}

static void test_prefixes(void **state)
{
	struct tun_dev_conf *c = parse_ok("0 " S0 " 0.0.0.0/0\n"
					  "1 " S0 " 192.0.2.128/25\n"
					  "2 " S0 " ::/0\n"
					  "3 " S0 " 2001:db8::/32\n"
					  "4 " S0 " 2001:db8::1/128\n"
					  "4294967294 " S0 " fe80::/10 inactive\n",
					  6);

	(void)state;
	prefix_is(&c[0], "0.0.0.0", 96);
	prefix_is(&c[1], "192.0.2.128", 121);
	prefix_is(&c[2], "::", 0);
	prefix_is(&c[3], "2001:db8::", 32);
	prefix_is(&c[4], "2001:db8::1", 128);
	assert_int_equal(c[5].dev, 4294967294u);
	prefix_is(&c[5], "fe80::", 10);
	assert_false(c[5].active);
	free(c);
}

static void test_secret_case(void **state)
{
	struct tun_dev_conf *c = parse_ok("1 ABCDEFabcdef0123456789ABCDEFabcd 10.0.0.1/32\n", 1);

	(void)state;
	assert_int_equal(c[0].secret[0], 0xab);
	assert_int_equal(c[0].secret[3], 0xab);
	assert_int_equal(c[0].secret[15], 0xcd);
	free(c);
}

/* --- every error, exact text --------------------------------------------------- */

#define IDX_WANT "(expected a decimal integer from 0 to 4294967294)"
#define FORM "(a line is: index secret prefix [active|inactive])"

static void test_bad_index(void **state)
{
	(void)state;
	expect_error("x " S0 " 10.0.0.1/32\n", NAME ":1: bad index 'x' " IDX_WANT);
	expect_error("4294967295 " S0 " 10.0.0.1/32\n",
		     NAME ":1: bad index '4294967295' " IDX_WANT);
	expect_error("99999999999 " S0 " 10.0.0.1/32\n",
		     NAME ":1: bad index '99999999999' " IDX_WANT);
	expect_error("-1 " S0 " 10.0.0.1/32\n", NAME ":1: bad index '-1' " IDX_WANT);
	expect_error("+1 " S0 " 10.0.0.1/32\n", NAME ":1: bad index '+1' " IDX_WANT);
	expect_error("0x10 " S0 " 10.0.0.1/32\n", NAME ":1: bad index '0x10' " IDX_WANT);
}

static void test_bad_secret(void **state)
{
	(void)state;
	expect_error("3 xyz 10.0.0.1/32\n", NAME ":1: bad secret 'xyz' (expected 32 hex digits)");
	expect_error("3 000102030405060708090a0b0c0d0e0 10.0.0.1/32\n", NAME
		     ":1: bad secret '000102030405060708090a0b0c0d0e0' (expected 32 hex digits)");
	expect_error("3 000102030405060708090a0b0c0d0e0f0 10.0.0.1/32\n", NAME
		     ":1: bad secret '000102030405060708090a0b0c0d0e0f0' (expected 32 hex digits)");
	expect_error("3 000102030405060708090a0b0c0d0e0g 10.0.0.1/32\n", NAME
		     ":1: bad secret '000102030405060708090a0b0c0d0e0g' (expected 32 hex digits)");
}

static void test_missing_fields(void **state)
{
	(void)state;
	expect_error("5\n", NAME ":1: missing secret " FORM);
	expect_error("5 " S0 "  # prefix forgotten\n", NAME ":1: missing prefix " FORM);
}

static void test_bad_prefix(void **state)
{
	(void)state;
	expect_error("1 " S0 " 10.0.0.1\n", NAME
		     ":1: bad prefix '10.0.0.1' (expected address/length, e.g. 198.18.10.1/32)");
	expect_error("1 " S0 " 10.0.0/24\n",
		     NAME ":1: bad prefix '10.0.0/24' (not an IPv4 or IPv6 address)");
	expect_error("1 " S0 " 2001:db8:::/64\n",
		     NAME ":1: bad prefix '2001:db8:::/64' (not an IPv4 or IPv6 address)");
	expect_error("1 " S0 " /8\n", NAME ":1: bad prefix '/8' (not an IPv4 or IPv6 address)");
	expect_error("1 " S0 " 10.0.0.1/33\n",
		     NAME ":1: bad prefix '10.0.0.1/33' (length must be 0 to 32)");
	expect_error("1 " S0 " 10.0.0.1/\n",
		     NAME ":1: bad prefix '10.0.0.1/' (length must be 0 to 32)");
	expect_error("1 " S0 " 10.0.0.1/3x\n",
		     NAME ":1: bad prefix '10.0.0.1/3x' (length must be 0 to 32)");
	expect_error("1 " S0 " 2001:db8::/129\n",
		     NAME ":1: bad prefix '2001:db8::/129' (length must be 0 to 128)");
	expect_error("1 " S0 " 198.18.10.1/24\n",
		     NAME ":1: bad prefix '198.18.10.1/24' (host bits set; the network is "
			  "198.18.10.0/24)");
	expect_error("1 " S0 " 2001:db8::1/64\n",
		     NAME ":1: bad prefix '2001:db8::1/64' (host bits set; the network is "
			  "2001:db8::/64)");
	expect_error("1 " S0 " ::ffff:10.0.0.1/128\n",
		     NAME ":1: bad prefix '::ffff:10.0.0.1/128' (IPv4-mapped: write it as an IPv4 "
			  "prefix)");
}

static void test_bad_state_and_extra(void **state)
{
	(void)state;
	expect_error("1 " S0 " 10.0.0.1/32 enabled\n",
		     NAME ":1: bad state 'enabled' (expected active or inactive)");
	expect_error("1 " S0 " 10.0.0.1/32 Active\n",
		     NAME ":1: bad state 'Active' (expected active or inactive)");
	expect_error("1 " S0 " 10.0.0.1/32 active extra\n",
		     NAME ":1: unexpected 'extra' after the state " FORM);
}

static void test_duplicate(void **state)
{
	(void)state;
	expect_error("5 " S0 " 10.0.0.1/32\n"
		     "# comment\n"
		     "6 " S1 " 10.0.0.2/32\n"
		     "5 " S1 " 10.0.0.3/32 inactive\n",
		     NAME ":4: duplicate index 5 (first on line 1)");
	/* Leading zeros name the same index. */
	expect_error("5 " S0 " 10.0.0.1/32\n"
		     "005 " S1 " 10.0.0.2/32\n",
		     NAME ":2: duplicate index 5 (first on line 1)");
}

/* Line numbers count every line; the first error is the one reported. */
static void test_first_error_line(void **state)
{
	(void)state;
	expect_error("\n# c\n\n1 " S0 " 10.0.0.1/32\n2 nothex 10.0.0.2/32\n3 " S0 " bad\n",
		     NAME ":5: bad secret 'nothex' (expected 32 hex digits)");
}

/* Bad values are quoted printable and bounded, whatever the file holds. */
static void test_quoting(void **state)
{
	char text[300], want[300];

	(void)state;
	memset(text, 'x', 100);
	strcpy(text + 100, " " S0 " 10.0.0.1/32\n");
	snprintf(want, sizeof(want), NAME ":1: bad index '%.48s...' " IDX_WANT, text);
	expect_error(text, want);
	expect_error("1\x01\x7f\xff " S0 " 10.0.0.1/32\n", NAME ":1: bad index '1?\?\?' " IDX_WANT);
}

/* A NUL is just a bad byte: it may not cut a field short for inet_pton(). */
static void test_nul_byte(void **state)
{
	static const char text[] = "1 " S0 " 10.0.0.1/32\n2 " S1 " 10.0.0.2\0x/32\n";
	struct tun_dev_conf *conf;
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(prov_parse(NAME, text, sizeof(text) - 1, &conf, &n, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    NAME ":2: bad prefix '10.0.0.2?x/32' (not an IPv4 or IPv6 address)");
}

/* No error buffer, or a short one: still an error, never an overflow. */
static void test_err_buffer(void **state)
{
	struct tun_dev_conf *conf;
	char err[20];
	size_t n;

	(void)state;
	assert_int_equal(prov_parse(NAME, "x", 1, &conf, &n, NULL, 0), -EINVAL);
	memset(err, 'z', sizeof(err));
	assert_int_equal(prov_parse(NAME, "x", 1, &conf, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, NAME ":1: mis"); /* "missing secret ..." cut short */
	memset(err, 'z', sizeof(err));
	assert_int_equal(prov_parse(NAME, "x", 1, &conf, &n, err, 8), -EINVAL);
	assert_string_equal(err, "devices");
}

/* --- files --------------------------------------------------------------------- */

struct tmpfile {
	char path[64];
};

static void write_file(struct tmpfile *f, const char *text, size_t len)
{
	int fd;

	strcpy(f->path, "/tmp/xpro-prov-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

#define BIG 10000

/* Device i of the big file: v4 and v6, every tenth inactive, secret from i. */
static size_t big_line(char *p, size_t room, uint32_t i)
{
	char secret[33];

	for (unsigned b = 0; b < 16; b++)
		snprintf(secret + 2 * b, 3, "%02x", (uint8_t)(i * 7 + b));
	if (i % 2)
		return (size_t)snprintf(p, room, "%u %s 2001:db8:%x::/48%s\n", 100000 + i, secret,
					i, i % 10 == 1 ? " inactive" : "");
	return (size_t)snprintf(p, room, "%u\t%s\t10.%u.%u.0/24  # device %u\n", 100000 + i, secret,
				i >> 8, i & 0xff, i);
}

/* What xpro-proxy does on SIGHUP: parse the whole file, apply it only if valid. */
static int reload(struct tun_devtab *t, const char *path, char *err, size_t errlen)
{
	struct tun_dev_conf *conf;
	size_t n;
	int rc = prov_load_file(path, &conf, &n, err, errlen);

	if (rc)
		return rc;
	rc = tun_devtab_replace(t, conf, n);
	free(conf);
	return rc;
}

static void test_big_file_into_devtab(void **state)
{
	size_t room = (size_t)BIG * 100, len = 0, n;
	char *text = malloc(room), err[256];
	struct tun_devtab *t = tun_devtab_new();
	struct tun_dev_conf *conf, c;
	struct tun_dev_view v;
	struct tmpfile f;
	uint8_t ik[XPRO_IK_LEN], in[TF_BUF], msg[TF_BUF];
	struct tun_pkt p;
	size_t ilen, mlen;

	(void)state;
	assert_non_null(text);
	assert_non_null(t);
	for (uint32_t i = 0; i < BIG; i++)
		len += big_line(text + len, room - len, i);
	write_file(&f, text, len);
	assert_int_equal(prov_load_file(f.path, &conf, &n, err, sizeof(err)), 0);
	assert_int_equal(n, BIG);
	c = conf[BIG - 2]; /* an even, IPv4 one */
	assert_int_equal(c.dev, 100000 + BIG - 2);
	prefix_is(&c, "10.39.14.0", 120);
	assert_false(conf[1].active);
	assert_true(conf[3].active);
	free(conf);

	assert_int_equal(reload(t, f.path, err, sizeof(err)), 0);
	assert_int_equal(tun_devtab_count(t), BIG);
	rcu_read_lock();
	assert_int_equal(tun_devtab_view(t, 100000 + 1, &v), 0);
	assert_false(v.active);
	rcu_read_unlock();

	/* A packet from device 100000 + BIG - 2 under its secret gets through. */
	for (unsigned b = 0; b < 16; b++)
		c.secret[b] = (uint8_t)((BIG - 2) * 7 + b);
	xpro_derive_ik(c.secret, 1, ik);
	ilen = tf_ip4(in, "10.39.14.200", TF_DST4, 10);
	mlen = (size_t)tun_seal(msg, sizeof(msg), ik, XPRO_MSG_DATA, 1, c.dev, 0, in, ilen);
	assert_int_equal(tf_auth(t, msg, mlen, &p), 0);

	/* A broken reload applies nothing: the table and its state stay. */
	len = (size_t)snprintf(text, room, "1 " S0 " 10.0.0.1/32\n1 " S1 " 10.0.0.2/32\n");
	unlink(f.path);
	write_file(&f, text, len);
	assert_int_equal(reload(t, f.path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: duplicate index 1 (first on line 1)"));
	assert_int_equal(strncmp(err, f.path, strlen(f.path)), 0);
	assert_int_equal(tun_devtab_count(t), BIG);
	assert_int_equal(tf_auth(t, msg, mlen, &p), -TUN_REJ_REPLAY);

	unlink(f.path);
	tun_devtab_free(t);
	free(text);
}

static void test_missing_file(void **state)
{
	struct tun_dev_conf *conf = (void *)1;
	char err[256];
	size_t n = 1;

	(void)state;
	assert_int_equal(prov_load_file("/nonexistent/" NAME, &conf, &n, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/" NAME ": No such file or directory");
	assert_null(conf);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_secret_case),
		cmocka_unit_test(test_bad_index),
		cmocka_unit_test(test_bad_secret),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_bad_prefix),
		cmocka_unit_test(test_bad_state_and_extra),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_first_error_line),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_big_file_into_devtab),
		cmocka_unit_test(test_missing_file),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
