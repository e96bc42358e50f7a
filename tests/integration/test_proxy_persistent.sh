#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A flood that outlasts the hold: the pair must stay limited to T_F1 over the whole flood,
# not get a fresh, unjudged window every time its flag expires.
#
# docs/algorithm.md, gap 1: "The pair's last-seen time ts2 does move with dropped packets,
# so a flooding pair never looks idle."  Packets that XDP drops for a flagged pair never
# reach the engine, so they must not make the pair look idle either: when the hold ends
# and the flood is still on, the pair's window must go on (and the pair be flagged again),
# not restart.
#
# Settings keep the defaults' proportions (hold = T_T1 = 10 x T_T2), scaled down ten
# times: T_F1 200 pps, T_T2 100 ms, T_T1 1 s, hold 1 s; one device floods the victim at
# 5000 pps for 5 s (25000 packets).
# Allowed: T_F1 x D (1000) + the first, unjudged T_T2 of the pair's window (5000 pps x
# 100 ms = 500) + 1 per worker.  A pair whose window restarts after every hold instead gets
# a whole unjudged T_T2 (500 packets) per hold + T_T2 (every 1.1 s): about 2500.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_persistent

TF1=200
TT2=100
TT1=1000
HOLD=1000
RATE=5000
COUNT=25000
NWORKERS=2

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 2
xpi_start_proxy --queues 0-1 --tf1 $TF1 --tt2-ms $TT2 --tt1-ms $TT1 --hold-ms $HOLD
xpi_sink vic victim 9000
xpi_gen flood dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 --flows 1 \
	--rate $RATE --count $COUNT --sockets 4 --dst "$VICTIM_ADDR:9000"
xpi_settle
xpi_stop_proxy
xpi_stop vic

ALLOWED="($TF1 * flood.duration_s + $RATE * $TT2 / 1000 + $NWORKERS)"
echo "proxy_persistent: T_F1 $TF1 pps, T_T2 $TT2 ms, T_T1 $TT1 ms, hold $HOLD ms; $RATE pps for $((COUNT / RATE)) s"
xpi_report "f'flood sent {flood.sent} in {flood.duration_s} s; victim got {vic.received}, allowed {$ALLOWED:.0f}; per second: {vic.per_window}'" flood vic
xpi_report "f'proxy: flagged {ws(proxy, \"pairs_flagged\")} times, flags expired {proxy.flags_expired}, XDP drop_flagged {proxy.xdp_packets.drop_flagged}, DROP_PAIR {verd(proxy, \"DROP_PAIR\")}, pairs reclaimed {proxy.engine.pairs_reclaimed}'" proxy

xpi_check "the flood was sent in full" "flood.sent == $COUNT" flood
xpi_check "the flood held at T_F1 over its whole length (victim got <= T_F1 x D + first T_T2 + 1 per worker)" \
	"vic.received <= $ALLOWED" flood vic
xpi_check "every flood packet accounted: delivered + DROP_PAIR + drop_flagged == sent" \
	'vic.received + verd(proxy, "DROP_PAIR") + proxy.xdp_packets.drop_flagged == flood.sent' flood vic proxy
xpi_finish
