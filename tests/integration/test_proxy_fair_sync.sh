#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fair share is global: three proxies synced through a Redis master, bots spread over
# them unevenly, legitimate devices on every proxy.  Every proxy solves the same max-min fair
# share from the shared view (docs/sync.md, "Fair share"), so a device gets the same rate
# whichever proxy carries it.
#
#   proxy0: legitimate devices 0-2, bots 9-10           (2 bots)
#   proxy1: legitimate devices 3-5, bots 11-14          (4 bots)
#   proxy2: legitimate devices 6-8, bots 15-22          (8 bots)
#   legitimate: 10 pps each -> victim (90 pps); bots: 100 pps each -> victim (1400 pps)
#   devices 23-27 through proxy 0, 20 pps each -> bystander
#   T_F1 200 pps (no pair over it), T_F2 600 pps: f = (600 - 90) / 14 = 36.4 pps
#
# Asserted (counts, never time): legitimate devices lose at most 5%, every bot gets f within
# 20%, a bot's rate does not depend on its proxy by more than 10% (the mean per proxy), the
# victim receives T_F2 x D within 5% and 0.9..1.1 x T_F2 in every whole second from its first
# packet, the bystander loses nothing.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init proxy_fair_sync

NP=3
TF2=600
LRATE=10
BRATE=100
D=10
NLEG=3 # per proxy
BOTS=(2 4 8)
NBOT=14
F="(($TF2 - $NP * $NLEG * $LRATE) / $NBOT)"

export TB_PROXIES=$NP TB_QUEUES=1
tb_up || xpi_die "tb_up"
xpi_provision $((NP * NLEG + NBOT + 5))
xps_master_start
xps_start_proxies $NP --queues 0 --tf1 200 --tf2 $TF2 --dst-policy fair --tick-ms 50 \
	--redis "$MASTER_ADDR:$MASTER_PORT" --sync-ms 100
xpi_sink vic victim 9000 --rate-window 100
xpi_sink bys bystander 9001

# Every generator sends from the same instant: the attack has one first second.
START=$(($(date +%s%3N) + 2000))
first=$((NP * NLEG))
for ((i = 0; i < NP; i++)); do
	nb=${BOTS[$i]}
	xpi_gen_bg "b$i" dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $first --dev-count "$nb" \
		--flows "$nb" --flow-base $first --rate $BRATE --count $((nb * BRATE * D)) --sockets 4 \
		-x "$(tb_addr proxy$i):7447" --dst "$VICTIM_ADDR:9000"
	first=$((first + nb))
	xpi_gen_bg "l$i" dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $((i * NLEG)) --dev-count $NLEG \
		--flows $NLEG --flow-base $((i * NLEG)) --rate $LRATE --count $((NLEG * LRATE * D)) \
		-x "$(tb_addr proxy$i):7447" --dst "$VICTIM_ADDR:9000"
done
xpi_gen_bg gb dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $first --dev-count 5 --flows 5 \
	--flow-base 100 --rate 20 --count $((5 * 20 * D)) -x "$(tb_addr proxy0):7447" \
	--dst "$BYSTANDER_ADDR:9001"
for ((i = 0; i < NP; i++)); do
	xpi_wait "b$i"
	xpi_wait "l$i"
done
xpi_wait gb
xps_settle $NP
xps_stop_proxies $NP
xpi_stop vic
xpi_stop bys

G="b0 b1 b2 l0 l1 l2" # the status/summary files a check loads
P="proxy0 proxy1 proxy2"
GL="b0, b1, b2, l0, l1, l2" # the same as python tuples
PL="proxy0, proxy1, proxy2"
LEG="range(0, $((NP * NLEG)))"
B0="range($((NP * NLEG)), $((NP * NLEG + 2)))"
B1="range($((NP * NLEG + 2)), $((NP * NLEG + 6)))"
B2="range($((NP * NLEG + 6)), $((NP * NLEG + NBOT)))"
DUR="max(g.duration_s for g in (b0, b1, b2))"
LSENT="sum(g.sent for g in (l0, l1, l2))"
MEANS="[sum(f.received for f in fl(vic, flows=b)) / len(b) / $DUR for b in ($B0, $B1, $B2)]"
# The sink counts 100 ms windows from the first packet; whole seconds are ten of them.
SECS="[sum(vic.per_window_from_first[10 * i:10 * i + 10]) for i in range(int($DUR))]"
echo "proxy_fair_sync: $NP proxies synced (t = 100 ms), T_F2 $TF2 pps; legitimate 3 x $LRATE pps per proxy, bots ${BOTS[*]} x $BRATE pps per proxy; f = $(python3 -c "print(round($F, 1))") pps"
xpi_report "f'victim: delivered {vic.received} in {$DUR:.2f} s ({vic.received / $DUR:.0f} pps; T_F2 x D = {$TF2 * $DUR:.0f}); per second from its first packet {$SECS}; first second per 100 ms {vic.per_window_from_first[:10]}'" vic $G
xpi_report "f'legitimate: offered {$LSENT}, delivered {recv(vic, flows=$LEG)} ({100 * recv(vic, flows=$LEG) / $LSENT:.1f}%)'" vic $G
xpi_report "f'bots: mean pps per proxy {[round(m, 1) for m in $MEANS]}, per bot {[round(f.received / $DUR, 1) for f in fl(vic, flows=range($((NP * NLEG)), $((NP * NLEG + NBOT))))]}'" vic $G
xpi_report "f'proxies: PASS {[verd(p, \"PASS\") for p in ($PL)]}, DROP_DST {[verd(p, \"DROP_DST\") for p in ($PL)]}, sync rounds {[p.sync.rounds_ok for p in ($PL)]} failed {[p.sync.rounds_failed for p in ($PL)]}, share destinations {[p.sync.share_dsts for p in ($PL)]}'" $P

xpi_check "generators sent without errors" \
	"all(g.errors == 0 for g in ($GL, gb)) and sum(g.sent for g in (b0, b1, b2)) == $((NBOT * BRATE * D))" $G gb
xpi_check "every proxy synced, no failed round, saw the other two, exchanged shares" \
	"all(p.sync.state == 'up' and p.sync.rounds_failed == 0 and p.sync.other_proxies == 2 and p.sync.failed_buckets == 0 for p in ($PL))" $P
xpi_check "legitimate devices (under f) received at least 95% of their packets" \
	"recv(vic, flows=$LEG) >= 0.95 * $LSENT" vic $G
xpi_check "every bot was held to f within 20%" \
	"all(0.8 * $F <= f.received / $DUR <= 1.2 * $F for f in fl(vic, flows=range($((NP * NLEG)), $((NP * NLEG + NBOT))))) and len(fl(vic, flows=range($((NP * NLEG)), $((NP * NLEG + NBOT))))) == $NBOT" vic $G
xpi_check "a bot's rate does not depend on its proxy by more than 10%" \
	"max($MEANS) <= 1.1 * min($MEANS)" vic $G
xpi_check "the victim received T_F2 x D within 5%" \
	"abs(vic.received - $TF2 * $DUR) <= 0.05 * $TF2 * $DUR" vic $G
xpi_check "the victim received 0.9..1.1 x T_F2 in every whole second, the first included" \
	"len($SECS) >= $D - 1 and all(0.9 * $TF2 <= n <= 1.1 * $TF2 for n in $SECS)" vic $G
xpi_check "every victim packet accounted: delivered + DROP_DST == sent" \
	"vic.received + sum(verd(p, 'DROP_DST') for p in ($PL)) == sum(g.sent for g in ($GL))" vic $G $P
xpi_check "bystander untouched: all delivered, in order" \
	'bys.received == gb.sent > 0 and clean(bys)' gb bys
xpi_finish
