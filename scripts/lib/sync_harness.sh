#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the sync tests and experiments (source after harness.sh): a Redis master on the switch, reachable by
# every proxy over the bridge, and N proxies synced through it.

MASTER_ADDR=198.18.0.250
MASTER_PORT=6390

# xps_cli ARGS...: redis-cli against the master.
xps_cli()
{
	tb_exec switch redis-cli -h $MASTER_ADDR -p $MASTER_PORT "$@"
}

# xps_master_start [REDIS ARGS]: redis-server as job "master", data in $XPI_T/redis.
xps_master_start()
{
	mkdir -p "$XPI_T/redis"
	tb_exec switch ip addr replace $MASTER_ADDR/24 dev br0 || xpi_die "master address"
	xpi_bg master switch redis-server --bind $MASTER_ADDR --port $MASTER_PORT \
		--protected-mode no --save '' --appendonly no --dir "$XPI_T/redis" \
		--daemonize no --loglevel warning "$@"
	xpi_wait_for "redis master answers" 10 sh -c \
		"[ \"\$(ip netns exec $(tb_ns switch) redis-cli -h $MASTER_ADDR -p $MASTER_PORT ping 2>/dev/null)\" = PONG ]"
}

# xps_master_kill: SIGKILL, as a crash.
xps_master_kill()
{
	kill -KILL "$(cat "$XPI_T/master.pid")"
	wait "${XPI_JOB[master]}" 2>/dev/null || true
	unset "XPI_JOB[master]"
}

# xps_start_proxies N [ARGS]: proxies proxy0..N-1 (ids p0..), each in its namespace.
xps_start_proxies()
{
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		XPI_PROXY_ROLE=proxy$i XPI_PROXY_NAME=proxy$i xpi_start_proxy --proxy-id "p$i" "$@"
	done
}

xps_stop_proxies()
{
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		XPI_PROXY_NAME=proxy$i xpi_stop_proxy
	done
}

# xps_settle N: every proxy's workers have handled everything: their rx stands still over
# three status writes.  (Not the XDP counters, as xpi_settle's default does: the master's own
# TCP traffic passes through every proxy's XDP program.)
xps_settle()
{
	local n=$1 p files=()
	for ((p = 0; p < n; p++)); do
		files+=("$XPI_T/proxy$p.json")
	done
	xpi_settle 'ws(s, "rx_packets")' "${files[@]}"
}

# xps_watch_drops N T0: in the background, the first time each proxy's status file shows a
# DROP_DST, in ms after T0 (seconds since the epoch), into $XPI_T/first_drop.json, written
# when $XPI_T/stop_watch appears.
xps_watch_drops()
{
	local n=$1 t0=$2
	python3 - "$XPI_T" "$n" "$t0" <<'PY' &
import json, os, sys, time
t, n, t0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
first = {}
while not os.path.exists(os.path.join(t, "stop_watch")):
    for i in range(n):
        if f"proxy{i}" in first:
            continue
        try:
            with open(os.path.join(t, f"proxy{i}.json")) as f:
                s = json.load(f)
        except (OSError, ValueError):
            continue
        if sum(w["verdicts"]["DROP_DST"] for w in s["workers"]) > 0:
            first[f"proxy{i}"] = round((time.time() - t0) * 1000)
    time.sleep(0.02)
with open(os.path.join(t, "first_drop.json"), "w") as f:
    json.dump({"ms": first}, f)
PY
	XPI_WATCH=$!
}

xps_watch_end()
{
	touch "$XPI_T/stop_watch"
	wait "$XPI_WATCH"
	rm -f "$XPI_T/stop_watch"
}
