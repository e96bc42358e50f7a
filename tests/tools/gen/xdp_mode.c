/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xdp mode: the receiving end of a benchmark and the switch's fast path.
 * Attaches a counting XDP program (pass, drop, or redirect frames for one MAC
 * to another interface) in native mode, prints the packet rate every second
 * on stderr, and detaches at the end, unless --keep leaves it attached (it
 * goes when the interface does).  It never replaces a program already there.
 * The redirect shortcut also gives a veth the NAPI context that frames sent
 * into it by XDP (live frames) need: without any program they are dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen.h"
#include "xdp_prog.h"

static uint64_t gen_xdp_count(int map_fd, int ncpu)
{
	uint64_t *v = calloc((size_t)ncpu, sizeof(*v)), sum = 0;
	uint32_t zero = 0;

	if (v && !bpf_map_lookup_elem(map_fd, &zero, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}

static int gen_xdp_parse(const struct gen_cfg *cfg, enum gen_xdp_action *act, uint8_t mac[6],
			 int *to)
{
	unsigned m[6];

	*to = 0;
	if (!strcmp(cfg->action, "pass")) {
		*act = GEN_XDP_PASS;
	} else if (!strcmp(cfg->action, "drop")) {
		*act = GEN_XDP_DROP;
	} else if (!strcmp(cfg->action, "redirect")) {
		*act = GEN_XDP_REDIRECT;
		if (!cfg->redirect_to || !cfg->dst_mac ||
		    sscanf(cfg->dst_mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5]) != 6) {
			fprintf(stderr,
				"xpro-gen: --action redirect needs --redirect-to IFNAME and "
				"--dst-mac MAC\n");
			return -EINVAL;
		}
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)m[i];
		*to = (int)if_nametoindex(cfg->redirect_to);
		if (!*to) {
			fprintf(stderr, "xpro-gen: no interface '%s'\n", cfg->redirect_to);
			return -ENODEV;
		}
	} else {
		fprintf(stderr, "xpro-gen: --action: want pass, drop or redirect, not '%s'\n",
			cfg->action);
		return -EINVAL;
	}
	return 0;
}

int gen_xdp(const struct gen_cfg *cfg, struct gen_result *r)
{
	int ifindex = (int)if_nametoindex(cfg->ifname), ncpu = libbpf_num_possible_cpus();
	enum gen_xdp_action act;
	uint64_t last = 0, last_ns, now;
	uint8_t mac[6] = { 0 };
	int map, prog, to, rc;

	if (!ifindex) {
		fprintf(stderr, "xpro-gen: no interface '%s'\n", cfg->ifname);
		return -ENODEV;
	}
	rc = gen_xdp_parse(cfg, &act, mac, &to);
	if (rc)
		return rc;
	map = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "xpro_gen_cnt", 4, 8, 1, NULL);
	if (map < 0) {
		rc = -errno;
		fprintf(stderr, "xpro-gen: creating the counter map: %s\n", strerror(-rc));
		return rc;
	}
	prog = gen_prog_rx(act, map, mac, to);
	if (prog < 0) {
		rc = prog;
		goto out_map;
	}
	rc = bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (rc) {
		fprintf(stderr, "xpro-gen: attaching XDP to %s: %s\n", cfg->ifname, strerror(-rc));
		goto out_prog;
	}
	if (cfg->keep)
		goto out_prog; /* the program stays; the attachment holds it */
	r->start_ns = last_ns = gen_now_ns();
	while (gen_keep_going(cfg, r, (now = gen_now_ns()))) {
		usleep(100000);
		now = gen_now_ns();
		if (now - last_ns >= 1000000000ull) {
			uint64_t c = gen_xdp_count(map, ncpu);

			fprintf(stderr, "xdp %s %s: %.0f pps\n", cfg->ifname, cfg->action,
				(double)(c - last) * 1e9 / (double)(now - last_ns));
			last = c;
			last_ns = now;
		}
	}
	r->sent = gen_xdp_count(map, ncpu);
	r->end_ns = gen_now_ns();
	{
		/* Only our program: whatever replaced it meanwhile stays. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = prog);

		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &o);
	}
out_prog:
	close(prog);
out_map:
	close(map);
	return rc;
}
