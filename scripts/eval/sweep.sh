#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment 2, low-rate and massive: one proxy (T_F1 100 pps, T_F2 2000 pps), a fresh proxy
# per point.  Sweep A: 10 bots, the per-bot rate from well under T_F1 to far above it.
# Sweep B: bots at 20 pps each (a fifth of T_F1), more and more of them.  Beside the bots,
# 5 legitimate devices at 10 pps to the victim (port 9002) and 5 to the bystander (9001).
# Per point: what reached the victim, drops by check (T_F1: DROP_PAIR in the worker plus
# the XDP drops of flagged pairs; T_F2: DROP_DST) and what the legitimate devices lost.
# Every point twice: --dst-policy fcfs (the paper's Algorithm 2) and fair (the default).
# Writes sweep.csv.
set -euo pipefail
# shellcheck source=scripts/eval/common.sh
source "$(dirname "$0")/common.sh"
xpi_init eval_sweep

TF1=100
TF2=2000
SECS=$(ev_q 2 5)
RATES=$(ev_q "30 300" "10 30 60 100 150 300 1000")
BOTS=$(ev_q "25 200" "10 25 50 100 200 400")
NLEG=5
RLEG=10
MAXB=400

export TB_QUEUES=1
tb_up >/dev/null || xpi_die "tb_up"
xpi_provision $((MAXB + 2 * NLEG))
OUT=$EV_OUT/sweep.csv
echo "sweep,bots,rate,offered_pps,tf1,tf2,secs,attack_offered,attack_at_victim,drop_tf1,drop_xdp,drop_pair,drop_dst,flagged,legit_victim_offered,legit_at_victim,legit_bystander_offered,legit_at_bystander,policy" >"$OUT"

point()
{
	local sw=$1 n=$2 r=$3 pol=$4
	xpi_start_proxy --queues 0 --tf1 $TF1 --tf2 $TF2 --dst-policy "$pol"
	xpi_sink va victim 9000
	xpi_sink vl victim 9002
	xpi_sink by bystander 9001
	xpi_gen_bg gl dev --mode paced -P "$XPI_PROV" --dev-first $MAXB --dev-count $NLEG \
		--flows $NLEG --flow-base 1000 --rate $RLEG --duration $((SECS * 1000)) \
		--dst "$VICTIM_ADDR:9002"
	xpi_gen_bg gb dev --mode paced -P "$XPI_PROV" --dev-first $((MAXB + NLEG)) \
		--dev-count $NLEG --flows $NLEG --flow-base 2000 --rate $RLEG \
		--duration $((SECS * 1000)) --dst "$BYSTANDER_ADDR:9001"
	xpi_gen_bg ga dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count "$n" --flows "$n" \
		--rate "$r" --duration $((SECS * 1000)) --sockets 8 --dst "$VICTIM_ADDR:9000"
	for g in ga gl gb; do
		xpi_wait $g
	done
	xpi_settle
	xpi_stop_proxy
	for s in va vl by; do
		xpi_stop $s
	done
	xpi_py "','.join(map(str, ['$sw', $n, $r, $n * $r, $TF1, $TF2, $SECS, ga.sent, va.received, proxy.xdp_packets.drop_flagged + verd(proxy, 'DROP_PAIR'), proxy.xdp_packets.drop_flagged, verd(proxy, 'DROP_PAIR'), verd(proxy, 'DROP_DST'), ws(proxy, 'pairs_flagged'), gl.sent, vl.received, gb.sent, by.received, '$pol']))" \
		ga va vl by gl gb proxy >>"$OUT"
}

for pol in fcfs fair; do
	for r in $RATES; do
		point rate 10 "$r" $pol
	done
	for n in $BOTS; do
		point bots "$n" 20 $pol
	done
done
echo "eval_sweep: done"
