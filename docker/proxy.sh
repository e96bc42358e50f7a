#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of a proxy container (docker/compose.yaml): route the victims' side through the
# router, optionally start a local Redis replica of the master, then exec xpro-proxy (PID 1:
# `docker stop` sends it SIGTERM and it writes its final status file).
# Environment: XDK_ID (p0..), XDK_SYNC (on|off), XDK_REDIS (host:port of the master),
# XDK_CLUSTER (set: host:port[,...] seeds of a Redis Cluster, synced through it instead of
# XDK_REDIS), XDK_SYNC_MS, XDK_REPLICA (1: local replica of the master on 127.0.0.1:6380;
# not with XDK_CLUSTER), XDK_XDP_MODE (native|generic), XDK_ROUTER, XDK_PROBE (an address
# behind the router), XDK_PROXY_ARGS.
set -euo pipefail
: "${XDK_ID:?}" "${XDK_ROUTER:?}" "${XDK_PROBE:?}"

# The proxy sends decapsulated packets out of eth0 itself (AF_XDP TX), to an on-link
# neighbour or to the default gateway's MAC: the default route must be the router, and its
# MAC in the neighbour table the proxy reads.  A datagram to the far side makes the kernel
# resolve it; then it is pinned so that it never ages out during a run.
ip route replace default via "$XDK_ROUTER" dev eth0
for _ in $(seq 50); do
	echo probe >"/dev/udp/$XDK_PROBE/9" 2>/dev/null || true
	mac=$(ip neigh show "$XDK_ROUTER" dev eth0 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')
	[ -n "$mac" ] && break
	sleep 0.1
done
[ -n "${mac:-}" ] || {
	echo "proxy.sh: router $XDK_ROUTER does not answer ARP" >&2
	exit 1
}
ip neigh replace "$XDK_ROUTER" lladdr "$mac" dev eth0 nud permanent

# /sys is read-only in a container that is not privileged: pinned maps go to a bpffs here.
mkdir -p /run/xpro-bpf
mountpoint -q /run/xpro-bpf || mount -t bpf bpf /run/xpro-bpf

args=(-i eth0 -P /prov/prov -s "/out/$XDK_ID.json" --proxy-id "$XDK_ID"
	--pin-root /run/xpro-bpf/pins
	--xdp-mode "${XDK_XDP_MODE:-native}" --queues 0)
if [ "${XDK_SYNC:-on}" = on ] && [ -n "${XDK_CLUSTER:-}" ]; then
	# A Redis Cluster (any of its nodes; the proxy reads the slot map): no replica option.
	args+=(--redis-cluster "$XDK_CLUSTER" --sync-ms "${XDK_SYNC_MS:-100}")
elif [ "${XDK_SYNC:-on}" = on ]; then
	args+=(--redis "${XDK_REDIS:?}" --sync-ms "${XDK_SYNC_MS:-100}")
	if [ "${XDK_REPLICA:-0}" = 1 ]; then
		redis-server --bind 127.0.0.1 --port 6380 --replicaof "${XDK_REDIS%:*}" \
			"${XDK_REDIS##*:}" --save '' --appendonly no --daemonize yes \
			--logfile /tmp/replica.log
		for _ in $(seq 100); do
			redis-cli -p 6380 info replication 2>/dev/null |
				grep -q 'master_link_status:up' && break
			sleep 0.1
		done
		args+=(--redis-replica 127.0.0.1:6380)
	fi
fi
# shellcheck disable=SC2086 # XDK_PROXY_ARGS is a list of options
exec xpro-proxy "${args[@]}" ${XDK_PROXY_ARGS:-}
