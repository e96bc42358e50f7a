#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fair destination policy (the default) on a real proxy: with the victim over T_F2,
# every device gets its max-min fair share of T_F2 (docs/algorithm.md, "Fair share").
#
#   devices  0-9   legitimate -> victim    10 pps each  = 100 pps   flow ids 0..9
#   devices 10-19  bots       -> victim   100 pps each  = 1000 pps  flow ids 10..19
#   devices 20-24  -> bystander             20 pps each  = 100 pps   flow ids 100..104
#   device  25     a flooder -> victim     400 pps (2 x T_F1)         flow id 300
#
# Proxy: T_F1 200 pps (only the flooder is over it), T_F2 400 pps.  The water-filling share:
# the legitimate devices take their 10 pps each (100), the ten bots share the remaining 300:
# f = 30 pps (27 while the flooder still counts as a sender, until it is flagged: its pair is
# judged by what it offers, congestion or not, and cut in XDP after --tflag-ms).  Asserted
# (counts, never time): legitimate devices lose at most 5% of their packets, each bot gets f
# within 20%, the flooder is flagged and dropped in XDP, the victim receives T_F2 x D within
# 5% over the attack and 0.9..1.1 x T_F2 in every whole second from its first packet (no
# first-window burst, no silence after it), the bystander loses nothing.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_fair

TF1=200
TF2=400
NL=10
LRATE=10
NB=10
BRATE=100
NBYS=5
D=10 # seconds of attack
F=$(((TF2 - NL * LRATE) / NB))

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision $((NL + NB + NBYS + 1))
xpi_start_proxy --queues 0-1 --tf1 $TF1 --tf2 $TF2 --dst-policy fair
xpi_sink vic victim 9000
xpi_sink bys bystander 9001

# Every generator sends from the same instant: the attack has one first second.
START=$(($(date +%s%3N) + 2000))
xpi_gen_bg gbot dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $NL --dev-count $NB --flows $NB \
	--flow-base $NL --rate $BRATE --count $((NB * BRATE * D)) --sockets 8 --dst "$VICTIM_ADDR:9000"
xpi_gen_bg gleg dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first 0 --dev-count $NL --flows $NL \
	--rate $LRATE --count $((NL * LRATE * D)) --sockets 4 --dst "$VICTIM_ADDR:9000"
xpi_gen_bg gfl dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $((NL + NB + NBYS)) --dev-count 1 \
	--flows 1 --flow-base 300 --rate $((2 * TF1)) --count $((2 * TF1 * D)) --dst "$VICTIM_ADDR:9000"
xpi_gen_bg gbys dev --mode paced --start-at $START -P "$XPI_PROV" --dev-first $((NL + NB)) --dev-count $NBYS \
	--flows $NBYS --flow-base 100 --rate 20 --count $((NBYS * 20 * D)) --dst "$BYSTANDER_ADDR:9001"
xpi_wait gbot
xpi_wait gleg
xpi_wait gbys
xpi_wait gfl
xpi_settle
xpi_stop_proxy
xpi_stop vic
xpi_stop bys

LEG="range(0, $NL)"
BOT="range($NL, $NL + $NB)"
# Whole seconds of the victim's traffic, from its first packet (the last one is partial).
SECS="vic.per_window_from_first[:int(gbot.duration_s)]"
echo "proxy_fair: T_F1 $TF1, T_F2 $TF2 pps; $NL legitimate x $LRATE pps + $NB bots x $BRATE pps -> victim (f = $F pps), $NBYS x 20 pps -> bystander, $D s"
xpi_report "f'victim: offered {gbot.sent + gleg.sent} in {gbot.duration_s:.2f} s, delivered {vic.received} ({vic.received / gbot.duration_s:.0f} pps; T_F2 x D = {$TF2 * gbot.duration_s:.0f}); per second from its first packet {vic.per_window_from_first}'" gbot gleg vic
xpi_report "f'legitimate: offered {gleg.sent}, delivered {recv(vic, flows=$LEG)} ({100 * recv(vic, flows=$LEG) / gleg.sent:.1f}%), per device {[f.received for f in fl(vic, flows=$LEG)]}'" gleg vic
xpi_report "f'bots: offered {gbot.sent}, delivered {recv(vic, flows=$BOT)} ({100 * recv(vic, flows=$BOT) / gbot.sent:.1f}%), per bot pps {[round(f.received / gbot.duration_s, 1) for f in fl(vic, flows=$BOT)]} (f = $F)'" gbot vic
xpi_report "f'flooder: offered {gfl.sent}, delivered {recv(vic, flow=300)}, XDP drop_flagged {proxy.xdp_packets.drop_flagged}'" gfl vic proxy
xpi_report "f'proxy: PASS {verd(proxy, \"PASS\")}, DROP_DST {verd(proxy, \"DROP_DST\")}, DROP_PAIR {verd(proxy, \"DROP_PAIR\")}, flagged {ws(proxy, \"pairs_flagged\")}; bystander {bys.received} of {gbys.sent}'" proxy bys gbys

xpi_check "generators sent without errors" \
	"gbot.errors == 0 and gleg.errors == 0 and gbys.errors == 0 and gfl.errors == 0 and gbot.sent == $((NB * BRATE * D))" gbot gleg gbys gfl
xpi_check "legitimate devices (under f) received at least 95% of their packets" \
	"recv(vic, flows=$LEG) >= 0.95 * gleg.sent" gleg vic
xpi_check "every legitimate device got at least 90% through" \
	"len(fl(vic, flows=$LEG)) == $NL and min(f.received for f in fl(vic, flows=$LEG)) >= 0.9 * $LRATE * $D" vic
xpi_check "every bot was held to f within 20% (0.8 f .. 1.2 f over the attack)" \
	"len(fl(vic, flows=$BOT)) == $NB and all(0.8 * $F <= f.received / gbot.duration_s <= 1.2 * $F for f in fl(vic, flows=$BOT))" vic gbot
xpi_check "the victim received T_F2 x D within 5%" \
	"abs(vic.received - $TF2 * gbot.duration_s) <= 0.05 * $TF2 * gbot.duration_s" vic gbot
xpi_check "the victim received 0.9..1.1 x T_F2 in every whole second, the first included" \
	"len($SECS) >= $D - 1 and all(0.9 * $TF2 <= n <= 1.1 * $TF2 for n in $SECS)" vic gbot
xpi_check "the flooder was flagged and cut in XDP, the only one: it got less than a bot's share" \
	"ws(proxy, 'pairs_flagged') == 1 and proxy.xdp_packets.drop_flagged > 0 and recv(vic, flow=300) < 1.2 * $F * gbot.duration_s" proxy vic gbot
xpi_check "every victim packet accounted: delivered + DROP_DST + DROP_PAIR + XDP drops == sent" \
	'vic.received + verd(proxy, "DROP_DST") + verd(proxy, "DROP_PAIR") + proxy.xdp_packets.drop_flagged == gbot.sent + gleg.sent + gfl.sent' gbot gleg gfl vic proxy
xpi_check "bystander untouched: all delivered, in order" \
	'bys.received == gbys.sent > 0 and clean(bys) and bys.flows == '$NBYS gbys bys
xpi_finish
