/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xproctl: the control tool for a running xpro-proxy.  Sends one request
 * line over the proxy's unix socket and prints the JSON reply as a table,
 * or as is with --json.  `top --watch MS` repeats the request.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "control/man.h"
#include "control/xproctl/fmt.h"

#define DEFAULT_IFACE "eth0"
#define REPLY_MAX (64u << 20)

static const char usage_text[] =
	"usage: xproctl [-s SOCKET | -i IFACE] [--json] COMMAND [ARGS]\n"
	"\n"
	"  -s, --socket PATH   the proxy's control socket (default /run/xpro/IFACE.sock)\n"
	"  -i, --iface NAME    the proxy's interface, to name its default socket (" DEFAULT_IFACE
	")\n"
	"  -j, --json          print the proxy's JSON reply as is\n"
	"  -h, --help          this text\n"
	"\n"
	"commands:\n"
	"  status                     workers, queues, rates, XDP, sync, Redis, load\n"
	"  top [N] [--watch MS]       heaviest pairs, destinations and devices\n"
	"  flagged                    the XDP drop-map, with expiry and drop counts\n"
	"  flag DEV DST [SECONDS]     drop a pair in XDP now (default: hold-ms)\n"
	"  unflag DEV DST             stop dropping it\n"
	"  set KEY VALUE              change a runtime key (see xpro-proxy --help)\n"
	"  reload                     as SIGHUP: configuration and provisioning again\n"
	"  devices                    provisioned, active, rejected counts\n"
	"  devices N                  device N: prefix, epoch, rejections by reason, its pairs\n"
	"                             with rates and state (pass, over_tf1, capped, flagged)\n"
	"  dst ADDR [N]               a destination: local and global window, fair share,\n"
	"                             its N heaviest senders (default 10)\n"
	"  trace FILE [SECONDS]       record the authenticated DATA the workers filter into\n"
	"                             FILE (on the proxy's host; default 10 s), as\n"
	"                             xpro-replay --trace reads it; trace stop; trace: state\n";

static const char *const man_extra[] = {
	"DESCRIPTION",
	"xproctl talks to a running xpro-proxy over its control socket: one request, one\n"
	"reply. It prints the reply readably, or as the proxy's JSON with --json. The socket\n"
	"is mode 0600: run it as the proxy's user (root).\n",
	"EXIT STATUS",
	"0 when the proxy accepted the request; 1 when it refused it (the reason is printed:\n"
	"a reload of a bad file, a value out of bounds) or cannot be reached; 2 for a bad\n"
	"command line.\n",
	"SEE ALSO",
	"xpro-proxy(8), xpro-proxy.conf(5)\n",
	NULL,
	NULL,
};

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

/* One request, the whole reply into *out (malloc'd).  Returns 0 or -errno. */
static int request(const char *path, const char *line, char **out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = 0, cap = 65536;
	char *buf;
	int fd, err = 0;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
		err = -errno;
		close(fd);
		return err;
	}
	buf = malloc(cap);
	while (buf) {
		ssize_t r;

		if (n + 1 == cap) {
			char *t = cap < REPLY_MAX ? realloc(buf, cap *= 2) : NULL;

			if (!t) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = t;
		}
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err = r < 0 ? -errno : 0;
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	buf[n] = 0;
	if (!err && !n)
		err = -ECONNRESET;
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

static int run_once(const char *path, const char *line, bool json)
{
	char *reply = NULL;
	struct jv *v;
	int err = request(path, line, &reply), rc;

	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "xproctl: %s: no proxy listening (is xpro-proxy running?)\n", path);
		return 1;
	}
	if (err) {
		fprintf(stderr, "xproctl: %s: %s\n", path, strerror(-err));
		return 1;
	}
	v = jv_parse(reply);
	if (json) {
		fputs(reply, stdout);
		rc = !v || !jv_get(v, "ok") || strcmp(jv_get(v, "ok")->text ?: "", "true");
	} else {
		rc = fmt_reply(stdout, stderr, v) ? 1 : 0;
	}
	jv_free(v);
	free(reply);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "iface", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "help-man", no_argument, NULL, 'M' },
		{ "watch", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	char path[108] = "", line[600], *end;
	const char *iface = DEFAULT_IFACE;
	long watch_ms = 0;
	bool json = false;
	size_t off = 0;
	int c;

	while ((c = getopt_long(argc, argv, "+s:i:jhw:", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			snprintf(path, sizeof(path), "%s", optarg);
			break;
		case 'i':
			iface = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'w':
			watch_ms = strtol(optarg, &end, 10);
			if (*end || watch_ms < 100) {
				fprintf(stderr, "xproctl: --watch: bad value '%s' (ms, >= 100)\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'M':
			man_usage_page(stdout, "xproctl", 8, "control a running X-Pro proxy",
				       usage_text, man_extra);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!path[0])
		snprintf(path, sizeof(path), "/run/xpro/%s.sock", iface);
	/* `top 5 --watch 500`: --watch after the command too. */
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") && i + 1 < argc) {
			watch_ms = strtol(argv[++i], &end, 10);
			if (*end || watch_ms < 100) {
				fprintf(stderr, "xproctl: --watch: bad value '%s' (ms, >= 100)\n",
					argv[i]);
				return 2;
			}
			continue;
		}
		if (strchr(argv[i], '\n') || off + strlen(argv[i]) + 2 >= sizeof(line)) {
			fprintf(stderr, "xproctl: request too long or with a newline\n");
			return 2;
		}
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", off ? " " : "",
					argv[i]);
	}
	if (watch_ms && strcmp(argv[optind], "top")) {
		fprintf(stderr, "xproctl: --watch is for top\n");
		return 2;
	}
	snprintf(line + off, sizeof(line) - off, "\n");
	if (!watch_ms)
		return run_once(path, line, json);
	for (;;) {
		struct timespec ts = { watch_ms / 1000, (watch_ms % 1000) * 1000000L };
		int rc;

		if (!json)
			fputs("\033[H\033[J", stdout);
		rc = run_once(path, line, json);
		fflush(stdout);
		if (rc)
			return rc;
		nanosleep(&ts, NULL);
	}
}
