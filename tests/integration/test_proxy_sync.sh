#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The paper's scenario (issue 4, test 3): three proxies, a botnet spread over them so that each
# proxy alone sees the victim's aggregate under T_F2 while the sum is above it.  The same
# traffic twice: proxies synced through a Redis master, then proxies on their own.
#
#   devices  0-29: 10 per proxy, 20 pps each -> victim: 200 pps per proxy, 600 pps in all
#   devices 30-34: through proxy 0, 20 pps each -> bystander
#   T_F1 100 pps, T_F2 400 pps, T_T3 500 ms, sync period t = 100 ms
#
# With sync the destination window every proxy judges is the master's (all proxies' packets)
# plus its own since the last round: the victim receives about T_F2 x D plus the first,
# unjudged T_T3 window, plus what the proxies admit between rounds before they agree.
# Without sync no proxy ever sees more than 200 pps: the victim receives everything.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init proxy_sync

NP=3
PER=10
RATE=20
D=8
TF2=400
TT3=500
PERIOD=100
COUNT=$((PER * RATE * D))
ARGS=(--queues 0 --tf1 100 --tf2 $TF2 --tt3-ms $TT3 --tick-ms 50)

export TB_PROXIES=$NP TB_QUEUES=1
tb_up || xpi_die "tb_up"
xpi_provision $((NP * PER + 5))
xps_master_start
# The paper's layout: reads from a local replica (one here, shared), writes to the master.
REPLICA_PORT=6391
xpi_bg replica switch redis-server --bind $MASTER_ADDR --port $REPLICA_PORT --protected-mode no \
	--save '' --appendonly no --dir "$XPI_T/redis" --dbfilename replica.rdb \
	--replicaof $MASTER_ADDR $MASTER_PORT --loglevel warning
xpi_wait_for "replica answers" 10 sh -c \
	"ip netns exec $(tb_ns switch) redis-cli -h $MASTER_ADDR -p $REPLICA_PORT ping 2>/dev/null | grep -q PONG"

# run TAG [PROXY ARGS]: one attack, results in TAG-*.json.
run()
{
	local tag=$1 i t0
	shift
	xps_start_proxies $NP "${ARGS[@]}" "$@"
	xpi_sink "vic_$tag" victim 9000
	xpi_sink "bys_$tag" bystander 9001
	t0=$(date +%s.%N)
	xps_watch_drops $NP "$t0"
	for ((i = 0; i < NP; i++)); do
		xpi_gen_bg "g${i}_$tag" dev --mode paced -P "$XPI_PROV" --dev-first $((i * PER)) \
			--dev-count $PER --flows $PER --flow-base $((i * PER)) --rate $RATE \
			--count $COUNT --sockets 4 -x "$(tb_addr proxy$i):7447" --dst "$VICTIM_ADDR:9000"
	done
	xpi_gen_bg "gb_$tag" dev --mode paced -P "$XPI_PROV" --dev-first $((NP * PER)) \
		--dev-count 5 --flows 5 --flow-base 100 --rate $RATE --count $((5 * RATE * D)) \
		-x "$(tb_addr proxy0):7447" --dst "$BYSTANDER_ADDR:9001"
	for ((i = 0; i < NP; i++)); do
		xpi_wait "g${i}_$tag"
	done
	xpi_wait "gb_$tag"
	if [ "$tag" = on ]; then
		tb_exec switch redis-cli -h $MASTER_ADDR -p $REPLICA_PORT CLIENT LIST \
			>"$XPI_T/replica_clients.txt"
	fi
	xps_settle $NP
	xps_watch_end
	mv "$XPI_T/first_drop.json" "$XPI_T/first_$tag.json"
	xps_stop_proxies $NP
	for ((i = 0; i < NP; i++)); do
		mv "$XPI_T/proxy$i.json" "$XPI_T/p${i}_$tag.json"
	done
	xpi_stop "vic_$tag"
	xpi_stop "bys_$tag"
}

run on --redis "$MASTER_ADDR:$MASTER_PORT" --redis-replica "$MASTER_ADDR:$REPLICA_PORT" \
	--sync-ms $PERIOD
run off --proxy-id unused

P_ON="p0_on p1_on p2_on"
P_OFF="p0_off p1_off p2_off"
for tag in on off; do
	xpi_report "f'sync $tag: victim offered {sum(g.sent for g in (g0_$tag, g1_$tag, g2_$tag))} in {g0_$tag.duration_s:.1f} s ({sum(g.pps for g in (g0_$tag, g1_$tag, g2_$tag)):.0f} pps), received {vic_$tag.received} ({vic_$tag.received / g0_$tag.duration_s:.0f} pps over D; T_F2 {$TF2}); DROP_DST per proxy {[verd(p, \"DROP_DST\") for p in (p0_$tag, p1_$tag, p2_$tag)]}; first drop (ms after start) {first_$tag.ms}'" \
		"g0_$tag" "g1_$tag" "g2_$tag" "vic_$tag" "p0_$tag" "p1_$tag" "p2_$tag" "first_$tag"
	xpi_report "f'sync $tag: victim per second {vic_$tag.per_window}'" "vic_$tag"
done
xpi_report "f'sync rounds per proxy {[p.sync.rounds_ok for p in (p0_on, p1_on, p2_on)]}, failed {[p.sync.rounds_failed for p in (p0_on, p1_on, p2_on)]}, last round {[p.sync.last_round_us for p in (p0_on, p1_on, p2_on)]} us, max {[p.sync.max_round_us for p in (p0_on, p1_on, p2_on)]} us'" p0_on p1_on p2_on

OFFERED="sum(g.sent for g in (g0_on, g1_on, g2_on))"
ALLOWED="($TF2 * g0_on.duration_s + 600 * $TT3 / 1000 + $NP * $TF2 * $PERIOD / 1000)"
xpi_check "generators sent everything, both runs" \
	"all(g.sent == $COUNT and g.errors == 0 for g in (g0_on, g1_on, g2_on, g0_off, g1_off, g2_off))" \
	g0_on g1_on g2_on g0_off g1_off g2_off
xpi_check "sync on: every proxy synced, no failed round, each saw the other two" \
	"all(p.sync.state == 'up' and p.sync.rounds_failed == 0 and p.sync.other_proxies == 2 for p in (p0_on, p1_on, p2_on))" $P_ON
xpi_check "sync on: every proxy read W from the replica (its clients: the three proxies)" \
	"sum(f'addr={a}:' in open('$XPI_T/replica_clients.txt').read() for a in ('198.18.0.1', '198.18.0.2', '198.18.0.3')) == 3"
xpi_check "sync on: every proxy dropped victim-bound traffic (DROP_DST)" \
	"all(verd(p, 'DROP_DST') > 0 for p in (p0_on, p1_on, p2_on)) and len(first_on.ms) == 3" \
	$P_ON first_on
xpi_check "sync on: victim held near T_F2: at most T_F2 x D + first T_T3 + one period per proxy" \
	"vic_on.received <= $ALLOWED" vic_on g0_on
xpi_check "sync on: victim not starved: at least 80% of T_F2 x D" \
	"vic_on.received >= 0.8 * $TF2 * g0_on.duration_s" vic_on g0_on
xpi_check "sync on: every victim packet accounted (received + DROP_DST = offered)" \
	"vic_on.received + sum(verd(p, 'DROP_DST') for p in (p0_on, p1_on, p2_on)) == $OFFERED" \
	vic_on g0_on g1_on g2_on $P_ON
xpi_check "sync on: every admitted packet reached the master (merged = PASS, nothing pending)" \
	"all(p.sync.packets_merged == verd(p, 'PASS') and p.sync.pending_packets == 0 for p in (p0_on, p1_on, p2_on))" $P_ON
xpi_check "sync off: no proxy ever dropped (each sees 200 pps < T_F2)" \
	"sum(verd(p, 'DROP_DST') + verd(p, 'DROP_PAIR') for p in (p0_off, p1_off, p2_off)) == 0" $P_OFF
xpi_check "sync off: the victim received everything offered" \
	"vic_off.received == sum(g.sent for g in (g0_off, g1_off, g2_off))" vic_off g0_off g1_off g2_off
xpi_check "bystander untouched in both runs" \
	"bys_on.received == gb_on.sent > 0 and bys_off.received == gb_off.sent and clean(bys_on)" \
	bys_on gb_on bys_off gb_off
xpi_finish
