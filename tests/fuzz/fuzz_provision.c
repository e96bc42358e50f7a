/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the provisioning parser: any bytes either fail with a
 * message naming the file and line, or parse into entries that are valid for
 * the device table, print back to text that parses to the same entries, and
 * load into a device table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <urcu.h>

#include "control/provision.h"

#define NAME "fuzz.conf"
#define APPLY_MAX 256 /* devices; larger files are parsed but not loaded */

static struct tun_devtab *tab;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rcu_register_thread();
	tab = tun_devtab_new();
	if (!tab)
		abort();
	return 0;
}

/* One entry as a provisioning line, in canonical form. */
static int format(char *p, size_t room, const struct tun_dev_conf *c)
{
	char addr[INET6_ADDRSTRLEN], secret[33];
	int v4 = c->ipver == 4;

	for (unsigned i = 0; i < 16; i++)
		snprintf(secret + 2 * i, 3, "%02x", c->secret[i]);
	if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? c->prefix + 12 : c->prefix, addr,
		       sizeof(addr)))
		abort();
	return snprintf(p, room, "%u %s %s/%u %s\n", c->dev, secret, addr,
			v4 ? c->plen - 96u : c->plen, c->active ? "active" : "inactive");
}

static int same(const struct tun_dev_conf *a, const struct tun_dev_conf *b)
{
	return a->dev == b->dev && !memcmp(a->secret, b->secret, 16) &&
	       !memcmp(a->prefix, b->prefix, 16) && a->plen == b->plen && a->ipver == b->ipver &&
	       a->active == b->active;
}

static void check_round_trip(const struct tun_dev_conf *conf, size_t n)
{
	size_t room = n * 128 + 1, len = 0, n2;
	char *text = malloc(room), err[256];
	struct tun_dev_conf *conf2;

	if (!text)
		abort();
	for (size_t i = 0; i < n; i++)
		len += (size_t)format(text + len, room - len, &conf[i]);
	if (prov_parse(NAME, text, len, &conf2, &n2, err, sizeof(err)) || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!same(&conf[i], &conf2[i]))
			abort();
	free(conf2);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_dev_conf *conf;
	char err[256];
	size_t n;
	int r;

	r = prov_parse(NAME, (const char *)data, size, &conf, &n, err, sizeof(err));
	if (r) {
		if (conf || n || (r != -EINVAL && r != -ENOMEM))
			abort();
		if (r == -EINVAL && strncmp(err, NAME ":", sizeof(NAME)))
			abort();
		return 0;
	}
	check_round_trip(conf, n);
	/* Whatever the parser accepts, the table must accept. */
	if (n <= APPLY_MAX && tun_devtab_replace(tab, conf, n))
		abort();
	free(conf);
	return 0;
}
