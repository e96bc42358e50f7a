#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment 3, the shared view (the method of tests/integration/test_proxy_sync.sh and
# tests/bench/bench_sync_attack.sh): a Redis master, 1 to 3 proxies, 30 bots at 20 pps
# (600 pps in all, T_F1 100, T_F2 400, T_T3 500 ms) spread evenly over the proxies, so that
# with 2 or 3 proxies none of them alone sees the victim over T_F2.  Sync on and off; then,
# with 3 proxies and sync on, the sync period t swept.  Per run: what the victim received,
# the first DROP_DST on each proxy (ms after the start) and the attack traffic the victim
# received before the last proxy's first drop (100 ms windows).  Writes shared.csv.
set -euo pipefail
# shellcheck source=scripts/eval/common.sh
source "$(dirname "$0")/common.sh"
xpi_init eval_shared

NB=30
RATE=20
TF2=400
TT3=500
SECS=$(ev_q 2 3)
export TB_PROXIES=3 TB_QUEUES=1
tb_up >/dev/null || xpi_die "tb_up"
xpi_provision $NB
# shellcheck disable=SC2119 # no redis-server options
xps_master_start
OUT=$EV_OUT/shared.csv
echo "proxies,sync,period_ms,bots,rate,tf2,tt3_ms,secs,offered,at_victim,victim_pps,first_ms,all_ms,dropping_proxies,before_agree,drop_dst" >"$OUT"

run()
{
	local np=$1 sync=$2 t=$3 per i args=()
	per=$((NB / np))
	[ "$sync" = on ] && args=(--redis "$MASTER_ADDR:$MASTER_PORT" --sync-ms "$t")
	xps_cli FLUSHALL >/dev/null
	xps_start_proxies "$np" --queues 0 --dst-policy fcfs --tf1 100 --tf2 $TF2 --tt3-ms $TT3 --tick-ms 20 "${args[@]}"
	xpi_sink vic victim 9000 --rate-window 100
	t0=$(date +%s.%N)
	xps_watch_drops "$np" "$t0"
	for ((i = 0; i < np; i++)); do
		xpi_gen_bg "g$i" dev --mode paced -P "$XPI_PROV" --dev-first $((i * per)) \
			--dev-count $per --flows $per --flow-base $((i * per)) --rate $RATE \
			--count $((per * RATE * SECS)) --sockets 4 -x "$(tb_addr proxy$i):7447" \
			--dst "$VICTIM_ADDR:9000"
	done
	for ((i = 0; i < np; i++)); do
		xpi_wait "g$i"
	done
	xps_settle "$np"
	xps_watch_end
	xps_stop_proxies "$np"
	xpi_stop vic
	python3 - "$XPI_T" "$np" "$sync" "$t" >>"$OUT" <<PY
import json, os, sys
t, np, sync, per = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
j = lambda n: json.load(open(os.path.join(t, n + ".json")))
gens = [j("g%d" % i) for i in range(np)]
ps = [j("proxy%d" % i) for i in range(np)]
vic, fd = j("vic"), j("first_drop")["ms"]
offered = sum(g["sent"] for g in gens)
dur = max(g["duration_s"] for g in gens)
dd = sum(sum(w["verdicts"]["DROP_DST"] for w in p["workers"]) for p in ps)
first = min(fd.values()) if fd else ""
alls = max(fd.values()) if len(fd) == np else ""
# The sink started a little before the generators: its windows up to the last proxy's first
# drop (rounded up) hold what got through before every proxy was dropping.
before = sum(vic["per_window"][:(alls + 99) // 100 + 1]) if alls != "" else vic["received"]
print(",".join(map(str, [np, sync, per if sync == "on" else "", $NB, $RATE, $TF2, $TT3, $SECS,
      offered, vic["received"], round(vic["received"] / dur), first, alls, len(fd), before,
      dd])))
PY
}

for np in $(ev_q "3" "1 2 3"); do
	run "$np" on 100
	run "$np" off 100
done
for t in $(ev_q "" "20 50 200 500"); do
	run 3 on "$t"
done
echo "eval_shared: done"
