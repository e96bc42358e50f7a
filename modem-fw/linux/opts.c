/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xpro-modem's command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "xpro/addr_text.h"
#include "control/man.h"
#include "control/provision.h"
#include "modem.h"

static const char usage[] =
	"usage: xpro-modem --dev N --proxy ADDR:PORT[=SECRET|@PROVFILE]... --epoch-file PATH\n"
	"                  [--provision FILE] [--tun NAME] [--src ADDR] [--route PREFIX]...\n"
	"                  [--uplink IFACE] [--mtu BYTES]\n"
	"                  [--status FILE] [--t-w PERMILLE] [--hyst PERMILLE] [--dwell-ms MS]\n"
	"                  [--probe-ms MS] [--probe-idle-ms MS] [--probe-timeout-ms MS]\n"
	"                  [--miss-max N] [--encrypt off|prefer|require] [-v]\n"
	"\n"
	"  --proxy        a proxy's tunnel address and port, in order of preference (the first\n"
	"                 is the first current one); its secret for this device as 32 hex digits,\n"
	"                 or from a provisioning file (@FILE, or --provision for all)\n"
	"  --provision    provisioning file (xpro-proxy's format) for proxies given without one;\n"
	"                 also gives --src: the device's prefix address (IPv6: its first host)\n"
	"  --src          the TUN's source address, IPv4 or IPv6\n"
	"  --route        IPv4 or IPv6 prefix sent through the tunnel (default: 0.0.0.0/0)\n"
	"  --uplink       the interface the tunnel leaves by (default: that of the route to the\n"
	"                 first proxy); the tunnel socket is bound to it, so no --route can\n"
	"                 send the tunnel into its own TUN\n"
	"  --mtu          the uplink's MTU (default: the interface's); the TUN's MTU is this\n"
	"                 less the outer headers (IPv4 56 bytes, IPv6 76), so tunnel datagrams\n"
	"                 are never fragmented and too-large inner packets get ICMP errors\n"
	"  --epoch-file   the key epoch's two slots (created if missing; must persist)\n"
	"  --status       JSON status, rewritten every 200 ms and on every event\n";

/* The manual page's sections beyond the usage text (--help-man). */
static const char *const man_extra[] = {
	"DESCRIPTION",
	"xpro-modem is the Linux port of the X-Pro modem library (modem-fw): it creates a TUN\n"
	"interface, routes the given prefixes into it, and tunnels every packet the host sends\n"
	"there to its current proxy, authenticated with the secret it shares with that proxy.\n"
	"It probes its proxies, follows their load and availability, and moves to another\n"
	"proxy when its own is overloaded or gone (with hysteresis and a dwell time). A\n"
	"proxy's OVERLOAD message says a pair was dropped; the modem reports it and does not\n"
	"resend.\n"
	"\n"
	"The epoch file keeps the key epoch across restarts (it must persist: a modem that\n"
	"loses it reuses sequence numbers under an old key, which its proxies refuse).\n",
	"SIGNALS",
	"SIGTERM and SIGINT remove the routes and the TUN interface and exit 0.\n",
	"PRIVILEGES",
	"CAP_NET_ADMIN (the TUN interface and its routes); the unit xpro-modem@.service runs\n"
	"it with that capability alone.\n",
	"FILES",
	"/etc/xpro/modem-NAME.args: the unit's options (XPRO_MODEM_ARGS=...).\n"
	"/var/lib/xpro-modem/NAME.epoch: the epoch file the unit passes.\n",
	"SEE ALSO",
	"xpro-proxy(8), xproctl(8)\n",
	NULL,
	NULL,
};

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > max || *s == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* "a.b.c.d:port" or "[v6]:port" into a (IPv4 mapped). */
static int parse_addr(const char *s, struct mfw_addr *a)
{
	memset(a, 0, sizeof(*a));
	return xpro_hostport_parse(s, a->ip, &a->port, XPRO_HP_PORT) ? 0 : -1;
}

/* "A.B.C.D[/N]", "V6[/N]" or "default" (IPv4 0.0.0.0/0) into r, host bits cleared. */
static int parse_route(const char *s, struct xm_route *r)
{
	char buf[64], *slash;
	uint32_t plen;
	struct in_addr a;

	memset(r, 0, sizeof(*r));
	if (!strcmp(s, "default"))
		s = "0.0.0.0/0";
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, &a) == 1) {
		plen = 32;
		if (slash && parse_u32(slash + 1, 32, &plen))
			return -1;
		r->plen = (uint8_t)plen;
		r->net4 = a.s_addr & (plen ? htonl(~0u << (32 - plen)) : 0);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, r->net6) != 1)
		return -1;
	plen = 128;
	if (slash && parse_u32(slash + 1, 128, &plen))
		return -1;
	r->v6 = true;
	r->plen = (uint8_t)plen;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * i : 0;

		r->net6[i] &= (uint8_t)(bits >= 8 ? 0xff : 0xff << (8 - bits));
	}
	return 0;
}

/*
 * The device's entry in a provisioning file: its secret and its source address (an
 * IPv4 prefix's address; an IPv6 prefix's first host, or the /128 itself).
 */
static int from_provision(const char *path, uint32_t dev, uint8_t secret[XPRO_TUN_SECRET_LEN],
			  struct xm_config *cfg)
{
	struct tun_dev_conf *conf = NULL;
	char err[256];
	size_t n = 0;
	int rc = prov_load_file(path, &conf, &n, err, sizeof(err));

	if (rc) {
		fprintf(stderr, "xpro-modem: %s\n", err);
		return -1;
	}
	rc = -1;
	for (size_t i = 0; i < n; i++) {
		if (conf[i].dev != dev)
			continue;
		memcpy(secret, conf[i].secret, XPRO_TUN_SECRET_LEN);
		if (cfg && conf[i].ipver == 4) {
			memcpy(&cfg->src, conf[i].prefix + 12, 4);
		} else if (cfg && conf[i].ipver == 6) {
			memcpy(cfg->src6, conf[i].prefix, 16);
			if (conf[i].plen < 128)
				cfg->src6[15] |= 1;
			cfg->have_src6 = true;
		}
		rc = 0;
	}
	free(conf);
	if (rc)
		fprintf(stderr, "xpro-modem: %s: no device %u\n", path, dev);
	return rc;
}

enum {
	O_DEV = 256,
	O_PROXY,
	O_PROVISION,
	O_TUN,
	O_SRC,
	O_ROUTE,
	O_UPLINK,
	O_MTU,
	O_EPOCH,
	O_STATUS,
	O_TW,
	O_HYST,
	O_DWELL,
	O_PROBE,
	O_PROBE_IDLE,
	O_PROBE_TIMEOUT,
	O_MISS,
	O_ENCRYPT,
	O_HELP,
	O_HELP_MAN,
};

int xm_parse_args(int argc, char **argv, struct xm_config *cfg)
{
	static const struct option longopts[] = {
		{ "dev", 1, NULL, O_DEV },
		{ "proxy", 1, NULL, O_PROXY },
		{ "provision", 1, NULL, O_PROVISION },
		{ "tun", 1, NULL, O_TUN },
		{ "src", 1, NULL, O_SRC },
		{ "route", 1, NULL, O_ROUTE },
		{ "uplink", 1, NULL, O_UPLINK },
		{ "mtu", 1, NULL, O_MTU },
		{ "epoch-file", 1, NULL, O_EPOCH },
		{ "status", 1, NULL, O_STATUS },
		{ "t-w", 1, NULL, O_TW },
		{ "hyst", 1, NULL, O_HYST },
		{ "dwell-ms", 1, NULL, O_DWELL },
		{ "probe-ms", 1, NULL, O_PROBE },
		{ "probe-idle-ms", 1, NULL, O_PROBE_IDLE },
		{ "probe-timeout-ms", 1, NULL, O_PROBE_TIMEOUT },
		{ "miss-max", 1, NULL, O_MISS },
		{ "encrypt", 1, NULL, O_ENCRYPT },
		{ "help", 0, NULL, O_HELP },
		{ "help-man", 0, NULL, O_HELP_MAN },
		{ NULL, 0, NULL, 0 },
	};
	char *proxies[XM_MAX_PROXIES], provision[256] = "";
	uint8_t prov_secret[XPRO_TUN_SECRET_LEN];
	bool have_dev = false, have_src = false;
	uint32_t v;
	int opt, np = 0;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->tun, sizeof(cfg->tun), "xm0");
	mfw_config_default(&cfg->mfw, 0);
	while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (opt) {
		case O_DEV:
			if (parse_u32(optarg, UINT32_MAX - 1, &cfg->dev))
				goto bad;
			have_dev = true;
			break;
		case O_PROXY:
			if (np == XM_MAX_PROXIES) {
				fprintf(stderr, "xpro-modem: at most %d proxies\n", XM_MAX_PROXIES);
				return -EINVAL;
			}
			proxies[np++] = optarg;
			break;
		case O_PROVISION:
			snprintf(provision, sizeof(provision), "%s", optarg);
			break;
		case O_TUN:
			if (strlen(optarg) >= IF_NAMESIZE)
				goto bad;
			snprintf(cfg->tun, sizeof(cfg->tun), "%s", optarg);
			break;
		case O_SRC:
			if (inet_pton(AF_INET, optarg, &cfg->src) != 1) {
				if (inet_pton(AF_INET6, optarg, cfg->src6) != 1)
					goto bad;
				cfg->have_src6 = true;
			}
			have_src = true;
			break;
		case O_UPLINK:
			if (strlen(optarg) >= IF_NAMESIZE)
				goto bad;
			snprintf(cfg->uplink, sizeof(cfg->uplink), "%s", optarg);
			break;
		case O_MTU:
			if (parse_u32(optarg, 65535, &cfg->mtu) || cfg->mtu < 1280)
				goto bad;
			break;
		case O_ROUTE:
			if (cfg->nroutes == XM_MAX_ROUTES ||
			    parse_route(optarg, &cfg->route[cfg->nroutes]))
				goto bad;
			cfg->nroutes++;
			break;
		case O_EPOCH:
			snprintf(cfg->epoch_file, sizeof(cfg->epoch_file), "%s", optarg);
			break;
		case O_STATUS:
			snprintf(cfg->status_file, sizeof(cfg->status_file), "%s", optarg);
			break;
		case O_TW:
		case O_HYST:
			if (parse_u32(optarg, 65535, &v))
				goto bad;
			*(opt == O_TW ? &cfg->mfw.t_w : &cfg->mfw.hyst) = (uint16_t)v;
			break;
		case O_DWELL:
			if (parse_u32(optarg, UINT32_MAX, &cfg->mfw.dwell_ms))
				goto bad;
			break;
		case O_PROBE:
			if (parse_u32(optarg, UINT32_MAX, &cfg->mfw.probe_ms))
				goto bad;
			break;
		case O_PROBE_IDLE:
			if (parse_u32(optarg, UINT32_MAX, &cfg->mfw.probe_idle_ms))
				goto bad;
			break;
		case O_PROBE_TIMEOUT:
			if (parse_u32(optarg, UINT32_MAX, &cfg->mfw.probe_timeout_ms))
				goto bad;
			break;
		case O_MISS:
			if (parse_u32(optarg, 255, &v))
				goto bad;
			cfg->mfw.miss_max = (uint8_t)v;
			break;
		case O_ENCRYPT:
			if (!strcmp(optarg, "off"))
				cfg->mfw.encrypt = MFW_ENC_OFF;
			else if (!strcmp(optarg, "prefer"))
				cfg->mfw.encrypt = MFW_ENC_PREFER;
			else if (!strcmp(optarg, "require"))
				cfg->mfw.encrypt = MFW_ENC_REQUIRE;
			else
				goto bad;
			break;
		case 'v':
			cfg->verbose++;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 1;
		case O_HELP_MAN:
			man_usage_page(
				stdout, "xpro-modem", 8,
				"the X-Pro device side: tunnels a host's traffic to its proxies",
				usage, man_extra);
			return 1;
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !have_dev || !np || !cfg->epoch_file[0]) {
		fprintf(stderr, "xpro-modem: --dev, --proxy and --epoch-file are required\n%s",
			usage);
		return -EINVAL;
	}
	cfg->mfw.dev = cfg->dev;
	if (provision[0] && from_provision(provision, cfg->dev, prov_secret, have_src ? NULL : cfg))
		return -EINVAL;
	for (int i = 0; i < np; i++) {
		char *sep = strpbrk(proxies[i], "=@");
		char kind = sep ? *sep : 0;

		if (sep)
			*sep = 0;
		if (parse_addr(proxies[i], &cfg->proxy[i])) {
			fprintf(stderr, "xpro-modem: bad proxy address '%s' (ADDR:PORT)\n",
				proxies[i]);
			return -EINVAL;
		}
		if (kind == '=') {
			if (parse_hex(sep + 1, cfg->secret[i], XPRO_TUN_SECRET_LEN)) {
				fprintf(stderr, "xpro-modem: bad secret (32 hex digits)\n");
				return -EINVAL;
			}
		} else if (kind == '@') {
			if (from_provision(sep + 1, cfg->dev, cfg->secret[i],
					   have_src || cfg->src || cfg->have_src6 ? NULL : cfg))
				return -EINVAL;
		} else if (provision[0]) {
			memcpy(cfg->secret[i], prov_secret, XPRO_TUN_SECRET_LEN);
		} else {
			fprintf(stderr,
				"xpro-modem: proxy %d: no secret (=HEX, @FILE or "
				"--provision)\n",
				i);
			return -EINVAL;
		}
	}
	cfg->nproxies = np;
	if (!cfg->nroutes) {
		parse_route("default", &cfg->route[0]);
		cfg->nroutes = 1;
	}
	return 0;
bad:
	fprintf(stderr, "xpro-modem: bad value '%s'\n%s", optarg, usage);
	return -EINVAL;
}
