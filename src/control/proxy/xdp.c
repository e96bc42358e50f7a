/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Load bpf/xpro.bpf.c (embedded as a skeleton), attach it with libxdp, and
 * give the rest of the proxy its map descriptors.  The device and drop maps
 * are pinned per interface, so a restarted proxy keeps its drop-map.
 *
 * One proxy per interface and network namespace: a live one holds an
 * abstract unix socket named after the interface (abstract names are per
 * network namespace and vanish with the process, however it dies).  A
 * proxy that gets that name while an xpro program is still attached knows
 * the program was left by a dead proxy (SIGKILL, a crash) and replaces it
 * in one step (XDP_FLAGS_REPLACE: no moment without a program); any other
 * program attached there is left alone and refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "control/proxy/proxy.h"
#include "xpro.skel.h"

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * The pin root must sit on a bpffs.  `ip netns exec` gives a fresh /sys
 * without one: mount it there when the root is under /sys/fs/bpf.  Elsewhere
 * (tests pin under a bpffs they mounted, so pins outlive the process's mount
 * namespace) the root or its parent must already be one.
 */
static int ensure_bpffs(const char *root)
{
	char parent[128];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", root);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	if (!on_bpffs(root) && !on_bpffs(parent)) {
		if (strncmp(root, "/sys/fs/bpf", 11))
			return -ENOTDIR;
		if (!on_bpffs("/sys/fs/bpf") && mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
			return -errno;
	}
	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int map_fd(struct px_xdp *x, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(x->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int open_skel(struct px_xdp *x, const struct px_config *cfg, char *msg, size_t msglen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = x->pin_dir);
	int err;

	x->skel = xpro_bpf__open_opts(&oo);
	if (!x->skel) {
		snprintf(msg, msglen, "opening the BPF object: %s", strerror(errno));
		return -errno;
	}
	x->skel->rodata->tun_port = cfg->port;
	err = xpro_bpf__load(x->skel);
	if (err) {
		snprintf(msg, msglen,
			 "the kernel refused the XDP program (%s); run with -v for the "
			 "verifier log",
			 strerror(-err));
		return err;
	}
	return 0;
}

/* Take the interface's owner lock.  0, -EBUSY (a live proxy has it) or -errno. */
static int owner_lock(struct px_xdp *x, const char *ifname)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd, n;

	/* sun_path[0] = 0: the abstract namespace, one per network namespace. */
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "xpro-proxy/%s", ifname);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len)) {
		n = errno == EADDRINUSE ? -EBUSY : -errno;
		close(fd);
		return n;
	}
	x->owner_fd = fd;
	return 0;
}

/*
 * The interface is busy: if what is attached is an xpro program (a dead
 * proxy's: we hold the owner lock), replace it atomically with ours.
 * Returns 0 when replaced, or the original error with msg saying why not.
 */
static int take_over(struct px_xdp *x, struct bpf_program *bp, enum xdp_attach_mode mode,
		     const char *ifname, int err, char *msg, size_t msglen)
{
	__u32 flags = mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	struct bpf_prog_info info = { 0 };
	__u32 id = 0, ilen = sizeof(info);
	int old, rc;

	if (bpf_xdp_query_id(x->ifindex, (int)flags, &id) || !id)
		return err;
	old = bpf_prog_get_fd_by_id(id);
	if (old < 0)
		return err;
	rc = bpf_obj_get_info_by_fd(old, &info, &ilen);
	if (rc || strcmp(info.name, bpf_program__name(bp))) {
		snprintf(msg, msglen,
			 "attaching XDP to %s: another program is attached (id %u, '%s'), not "
			 "one of ours: left alone",
			 ifname, id, rc ? "?" : info.name);
		close(old);
		return err;
	}
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = old);

		rc = bpf_xdp_attach(x->ifindex, bpf_program__fd(bp), flags | XDP_FLAGS_REPLACE,
				    &ao);
	}
	close(old);
	if (rc) {
		snprintf(msg, msglen,
			 "attaching XDP to %s: replacing a dead proxy's program (id %u): %s",
			 ifname, id, strerror(-rc));
		return rc;
	}
	pr_warn("XDP on %s: replaced the program a dead xpro-proxy left attached (id %u); "
		"its pinned maps are kept",
		ifname, id);
	return 0;
}

int px_xdp_attach(struct px_xdp *x, const struct px_config *cfg, char *msg, size_t msglen)
{
	enum xdp_attach_mode mode =
		cfg->xdp_mode == PX_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	struct bpf_program *bp;
	char buf[128];
	int err;

	memset(x, 0, sizeof(*x));
	x->owner_fd = -1;
	x->mode = cfg->xdp_mode;
	x->ifindex = (int)if_nametoindex(cfg->ifname);
	if (!x->ifindex) {
		snprintf(msg, msglen, "interface '%s' not found", cfg->ifname);
		return -ENODEV;
	}
	err = owner_lock(x, cfg->ifname);
	if (err) {
		snprintf(msg, msglen, "%s: %s", cfg->ifname,
			 err == -EBUSY ? "another xpro-proxy runs on it in this network namespace"
				       : strerror(-err));
		return err;
	}
	snprintf(x->pin_dir, sizeof(x->pin_dir), "%s/%s", cfg->pin_root, cfg->ifname);
	err = ensure_bpffs(cfg->pin_root);
	if (!err && mkdir(x->pin_dir, 0700) && errno != EEXIST)
		err = -errno;
	if (err) {
		snprintf(msg, msglen, "pin directory %s: %s", x->pin_dir,
			 err == -ENOTDIR ? "not on a bpffs (mount -t bpf bpf DIR)"
					 : strerror(-err));
		goto out_unlock;
	}
	err = open_skel(x, cfg, msg, msglen);
	if (err)
		goto out_destroy;
	bp = bpf_object__next_program(x->skel->obj, NULL);
	x->prog = xdp_program__from_fd(bpf_program__fd(bp));
	err = libxdp_get_error(x->prog);
	if (err) {
		x->prog = NULL;
		snprintf(msg, msglen, "libxdp: %s", strerror(-err));
		goto out_destroy;
	}
	err = xdp_program__attach(x->prog, x->ifindex, mode, 0);
	if (err) {
		libxdp_strerror(err, buf, sizeof(buf));
		snprintf(msg, msglen, "attaching XDP (%s) to %s: %s",
			 mode == XDP_MODE_SKB ? "generic" : "native", cfg->ifname, buf);
		if (err == -EBUSY || err == -EEXIST)
			err = take_over(x, bp, mode, cfg->ifname, err, msg, msglen);
		if (err)
			goto out_close;
	}
	x->xsks_fd = map_fd(x, XPRO_STR(XPRO_MAP_XSKS));
	x->devices_fd = map_fd(x, XPRO_STR(XPRO_MAP_DEVICES));
	x->drop_fd = map_fd(x, XPRO_STR(XPRO_MAP_DROP));
	x->stats_fd = map_fd(x, XPRO_STR(XPRO_MAP_STATS));
	return 0;

out_close:
	xdp_program__close(x->prog);
	x->prog = NULL;
out_destroy:
	xpro_bpf__destroy(x->skel);
	x->skel = NULL;
out_unlock:
	close(x->owner_fd);
	x->owner_fd = -1;
	return err;
}

void px_xdp_detach(struct px_xdp *x)
{
	enum xdp_attach_mode mode = x->mode == PX_XDP_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;

	if (x->prog) {
		xdp_program__detach(x->prog, x->ifindex, mode, 0);
		xdp_program__close(x->prog);
	}
	xpro_bpf__destroy(x->skel);
	if (x->owner_fd >= 0)
		close(x->owner_fd);
	memset(x, 0, sizeof(*x));
	x->owner_fd = -1;
}

int px_xdp_counters(const struct px_xdp *x, uint64_t *packets, uint64_t *bytes)
{
	int ncpu = libbpf_num_possible_cpus();

	if (ncpu <= 0)
		return -EINVAL;
	struct xpro_xdp_counter v[ncpu];

	for (__u32 i = 0; i < XPRO_XDP_NSTATS; i++) {
		packets[i] = bytes[i] = 0;
		if (bpf_map_lookup_elem(x->stats_fd, &i, v))
			return -errno;
		for (int c = 0; c < ncpu; c++) {
			packets[i] += v[c].packets;
			bytes[i] += v[c].bytes;
		}
	}
	return 0;
}

#define SWEEP_MAX 65536

struct flag_seen {
	struct xf_key key;
	uint64_t packets;
};

static int cmp_seen(const void *a, const void *b)
{
	return memcmp(&((const struct flag_seen *)a)->key, &((const struct flag_seen *)b)->key,
		      sizeof(struct xf_key));
}

/*
 * Once per tick, over every flagged pair: if XDP dropped packets of it since
 * the last sweep, tell the engine the pair was seen now (the engine never saw
 * those packets); then delete the entries whose hold ended -- in that order,
 * so an ongoing flood is never mistaken for an idle pair.  Keys are collected
 * first and deleted after: deleting the key a hash-map walk stands on makes
 * it start over.  *left is what stays in the map (the status figure
 * drop_map_entries), counted on past SWEEP_MAX.  Returns the number deleted.
 * Control thread only.
 */
int px_xdp_sweep_flags(const struct px_xdp *x, struct xf_engine *e, uint64_t now_ns, uint64_t *left)
{
	static struct flag_seen prev[SWEEP_MAX], cur[SWEEP_MAX];
	static size_t nprev;
	static struct xf_key dead[SWEEP_MAX];
	struct xf_key key, *last = NULL, more[2];
	struct xpro_drop_val val;
	size_t ncur = 0, ndead = 0, nmore = 0;
	int freed = 0;

	while (ncur < SWEEP_MAX && !bpf_map_get_next_key(x->drop_fd, last, &key)) {
		struct flag_seen *p;

		cur[ncur].key = key;
		last = &cur[ncur].key;
		if (bpf_map_lookup_elem(x->drop_fd, &key, &val))
			continue;
		p = bsearch(&cur[ncur], prev, nprev, sizeof(*prev), cmp_seen);
		if (val.packets > (p ? p->packets : 0))
			xf_engine_touch(e, &key, now_ns);
		if (val.until_ns <= now_ns && ndead < SWEEP_MAX)
			dead[ndead++] = key;
		cur[ncur++].packets = val.packets;
	}
	/* Past SWEEP_MAX: only counted. */
	for (int i = 0; ncur == SWEEP_MAX && !bpf_map_get_next_key(x->drop_fd, last, &more[i]);
	     i ^= 1) {
		last = &more[i];
		nmore++;
	}
	for (size_t i = 0; i < ndead; i++)
		freed += !bpf_map_delete_elem(x->drop_fd, &dead[i]);
	qsort(cur, ncur, sizeof(*cur), cmp_seen);
	memcpy(prev, cur, ncur * sizeof(*cur));
	nprev = ncur;
	*left = ncur + nmore - (size_t)freed;
	return freed;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Make the kernel's device map equal the provisioning: update every device,
 * then delete those no longer provisioned (collected first, deleted after,
 * since deleting during a hash-map walk restarts it).  Returns 0 or -errno.
 */
int px_xdp_sync_devices(const struct px_xdp *x, const struct tun_dev_conf *conf, size_t n)
{
	__u32 *known = calloc(n ? n : 1, sizeof(*known)), *stale = NULL, key, *prev = NULL;
	size_t nstale = 0, cap = 0;
	int err = 0;

	if (!known)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		struct xpro_dev_val v = { .active = conf[i].active };

		known[i] = conf[i].dev;
		if (bpf_map_update_elem(x->devices_fd, &conf[i].dev, &v, BPF_ANY))
			err = -errno;
	}
	qsort(known, n, sizeof(*known), cmp_u32);
	while (!err && !bpf_map_get_next_key(x->devices_fd, prev, &key)) {
		if (nstale == cap) {
			__u32 *p = realloc(stale, (cap = cap ? 2 * cap : 256) * sizeof(*stale));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			stale = p;
		}
		stale[nstale] = key;
		prev = &stale[nstale];
		if (!bsearch(&key, known, n, sizeof(*known), cmp_u32))
			nstale++;
	}
	for (size_t i = 0; i < nstale; i++)
		bpf_map_delete_elem(x->devices_fd, &stale[i]);
	free(stale);
	free(known);
	return err;
}
