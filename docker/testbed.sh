#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The docker testbed's driver (make docker-testbed): build the images, bring the testbed up,
# run the distributed attack with the proxies synced through the store (one Redis master,
# or a Redis Cluster) and again with every proxy on its own, print the per-proxy and
# per-destination outcome, tear down (always).  With --check it also asserts what the
# namespace test test_proxy_sync.sh asserts, in its ok / not ok format; with --sync-only it
# skips the run without sync.
#
# Environment: XDK_STORE=cluster syncs through a three-master Redis Cluster (services
# cluster0-2, made here with redis-cli --cluster create) instead of the master (XDK_STORE=
# redis, the default); XDK_REPLICA=1 gives each proxy a local replica of the master (not
# with the cluster); XDK_XDP_MODE=generic if native XDP on veth fails; XDK_KEEP=1 leaves
# the testbed up (docker/README.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=docker/engine.sh
source "$ROOT/docker/engine.sh"
CHECK=0
RUNS="on off"
for a in "$@"; do
	case $a in
	--check) CHECK=1 ;;
	--sync-only) RUNS=on ;;
	*)
		echo "usage: $0 [--check] [--sync-only]" >&2
		exit 2
		;;
	esac
done
# One testbed at a time on this machine: the project name, the addresses and the bridges are
# fixed, so a second run's start-up teardown would remove the first one's containers.
exec 9>"${XDK_LOCK:-/run/lock/xpro-docker-testbed.lock}"
if ! flock -n 9; then
	echo "docker-testbed: another run holds the lock; waiting for it" >&2
	flock 9
fi
# The store the proxies sync through: its services, and how the proxies are started (the
# cluster run does not start the master the proxies' depends_on names).
export XDK_STORE=${XDK_STORE:-redis}
CLUSTER_NODES=(cluster0 cluster1 cluster2)
CLUSTER_SEEDS=198.18.8.241:6379,198.18.8.242:6379,198.18.8.243:6379
case $XDK_STORE in
redis)
	STORE_SVCS=(redis)
	UP_OPTS=()
	export XDK_CLUSTER=
	;;
cluster)
	STORE_SVCS=("${CLUSTER_NODES[@]}")
	UP_OPTS=(--no-deps)
	export XDK_CLUSTER=$CLUSTER_SEEDS
	if [ "${XDK_REPLICA:-0}" = 1 ]; then
		echo "docker-testbed: XDK_REPLICA=1 ignored: the local replicas are of the single master"
		export XDK_REPLICA=0
	fi
	;;
*)
	echo "$0: XDK_STORE must be redis (one master, the default) or cluster" >&2
	exit 2
	;;
esac

# Results (status files, sink and generator summaries); a directory made here goes at teardown.
OWN_OUT=
[ -n "${XDK_OUT:-}" ] || OWN_OUT=$(mktemp -d /tmp/xdk-out.XXXXXX)
export XDK_OUT=${XDK_OUT:-$OWN_OUT}
export XDK_REPLICA=${XDK_REPLICA:-0} XDK_XDP_MODE=${XDK_XDP_MODE:-native}
PROJECT=${XDK_PROJECT:-xdk}
DC=(dk_compose -p "$PROJECT" -f "$ROOT/docker/compose.yaml")
# Teardown: every profile, so that a cluster left by an earlier run goes too.
DOWN=("${DC[@]}" --profile attack --profile provision --profile cluster down -v --remove-orphans)
if [ "$XDK_STORE" = cluster ]; then DC+=(--profile cluster); fi
PROXIES=(proxy0 proxy1 proxy2)
DEVS=(dev0 dev1 dev2 devb)
T0=$(date +%s)

die()
{
	echo "docker-testbed: $*" >&2
	exit 1
}

down()
{
	local rc=$?
	if [ "${XDK_KEEP:-0}" = 1 ]; then
		echo "docker-testbed: left up (XDK_KEEP=1); results in $XDK_OUT"
		return
	fi
	if [ "$rc" -ne 0 ]; then
		for s in "${STORE_SVCS[@]}" "${PROXIES[@]}" router victim; do
			echo "--- docker logs $s (tail)" >&2
			"${DC[@]}" logs --no-color --tail 15 "$s" >&2 2>/dev/null || true
		done
	fi
	"${DOWN[@]}" -t 5 >"${XDK_DOWN_LOG:-/dev/null}" 2>&1 || true
	dk_engine_down
	[ -n "$OWN_OUT" ] && rm -rf "$OWN_OUT"
	echo "docker-testbed: torn down ($(($(date +%s) - T0)) s in all)"
}
trap down EXIT
trap 'exit 130' INT TERM

dk_engine_up "${XDK_INSTALL:-0}" || die "no Docker engine: $DK_SKIP_REASON"
"$ROOT/docker/image.sh"
# A testbed left over by an interrupted run holds the addresses: remove it first.
"${DOWN[@]}" -t 1 >/dev/null 2>&1 || true
"${DC[@]}" --profile provision run --rm provision >/dev/null 2>&1 || die "provisioning failed"

# wait_log SERVICE TEXT SECS: until the service's log shows TEXT.
wait_log()
{
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		"${DC[@]}" logs --no-color "$1" 2>/dev/null | grep -q "$2" && return 0
		[ -z "$("${DC[@]}" ps -q "$1" 2>/dev/null)" ] && break
		sleep 0.2
	done
	die "$1 never logged '$2'"
}

# cluster_up: the three cluster-enabled nodes started, the cluster created on them (three
# masters, no replicas; redis-cli in cluster0), and every node saying cluster_state:ok.
cluster_up()
{
	local seeds
	IFS=, read -ra seeds <<<"$CLUSTER_SEEDS"
	"${DC[@]}" up -d "${CLUSTER_NODES[@]}" >/dev/null 2>&1 || die "cluster nodes did not start"
	# shellcheck disable=SC2016 # expanded by bash in the container
	"${DC[@]}" exec -T cluster0 bash -c '
		for n in "$@"; do
			for ((i = 0; i < 50; i++)); do
				[ "$(redis-cli -h "${n%:*}" -p "${n##*:}" ping 2>/dev/null)" = PONG ] && break
				sleep 0.2
			done
		done' - "${seeds[@]}" >/dev/null 2>&1 || die "cluster nodes do not answer"
	"${DC[@]}" exec -T cluster0 redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 \
		--cluster-yes >"$XDK_OUT/cluster_create.log" 2>&1 || {
		tail -15 "$XDK_OUT/cluster_create.log" >&2
		die "redis-cli --cluster create failed"
	}
	# shellcheck disable=SC2016
	"${DC[@]}" exec -T cluster0 bash -c '
		for ((i = 0; i < 100; i++)); do
			ok=0
			for n in "$@"; do
				redis-cli -h "${n%:*}" -p "${n##*:}" cluster info 2>/dev/null |
					grep -q "^cluster_state:ok" && ok=$((ok + 1))
			done
			[ "$ok" = "$#" ] && exit 0
			sleep 0.2
		done
		exit 1' - "${seeds[@]}" >/dev/null 2>&1 || die "the cluster never reached cluster_state:ok"
	echo "docker-testbed: store: Redis Cluster $CLUSTER_SEEDS, 3 masters, cluster_state:ok"
}

# attack TAG: one run of the scenario; results in $XDK_OUT/*_TAG.json.
attack()
{
	local tag=$1 s ids
	export XDK_TAG=$tag
	if [ "$tag" = on ]; then export XDK_SYNC=on; else export XDK_SYNC=off; fi
	# A changed environment re-creates the proxies and sinks: fresh counters per run.
	"${DC[@]}" up -d "${UP_OPTS[@]}" "${STORE_SVCS[@]}" router victim bystander \
		"${PROXIES[@]}" >/dev/null 2>&1 || die "compose up failed"
	for s in "${PROXIES[@]}"; do
		wait_log "$s" "running:" 20
	done
	for s in "${PROXIES[@]}"; do
		for ((i = 0; i < 50; i++)); do
			[ -s "$XDK_OUT/p${s#proxy}.json" ] && break
			sleep 0.2
		done
	done
	echo "docker-testbed: sync $tag: devices sending ($(date +%T))"
	"${DC[@]}" --profile attack up -d --force-recreate "${DEVS[@]}" >/dev/null 2>&1 ||
		die "devices did not start"
	ids=$("${DC[@]}" --profile attack ps -q "${DEVS[@]}")
	# shellcheck disable=SC2086
	dk_docker wait $ids >/dev/null
	settle
	# Which proxies read the master through a local replica (their start-up line says so).
	for s in "${PROXIES[@]}"; do
		"${DC[@]}" logs --no-color "$s" 2>/dev/null | grep -c "reading from replica" || true
	done | awk '{ n += $1 } END { print n + 0 }' >"$XDK_OUT/replicas_$tag.txt"
	# SIGTERM: each proxy and sink writes its final JSON.
	"${DC[@]}" stop -t 10 "${PROXIES[@]}" victim bystander >/dev/null 2>&1
	for s in 0 1 2; do
		cp "$XDK_OUT/p$s.json" "$XDK_OUT/p${s}_$tag.json"
	done
}

# settle: the proxies' rx counters stand still over three status writes.
settle()
{
	local last="" cur same=0 i
	for ((i = 0; i < 100 && same < 3; i++)); do
		sleep 0.25
		cur=$(python3 - "$XDK_OUT" <<'PY'
import json, sys
out = []
for i in range(3):
    try:
        s = json.load(open(f"{sys.argv[1]}/p{i}.json"))
        out.append(sum(w["rx_packets"] for w in s["workers"]))
    except (OSError, ValueError, KeyError):
        out.append(-1)
print(out)
PY
)
		if [ "$cur" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$cur
	done
}

if [ "$XDK_STORE" = cluster ]; then
	cluster_up
else
	echo "docker-testbed: store: one Redis master, 198.18.8.250:6379"
fi
for tag in $RUNS; do
	attack "$tag"
done
# shellcheck disable=SC2086 # RUNS is a list
python3 "$ROOT/docker/report.py" "$XDK_OUT" "$CHECK" $RUNS
