#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Many devices, each under T_F1, together over T_F2: the victim receives T_F2, not more, and
# the bystander is untouched.
#
#   devices 0-39  -> victim     20 pps each = 800 pps, 3200 packets (4 s)   flow ids 0..39
#   devices 40-44 -> bystander  20 pps each = 100 pps, for the same 4 s     flow ids 100..104
#
# Proxy: T_F1 100 pps (every pair at 20 pps is far under it), T_F2 400 pps, T_T3 500 ms.
# What Algorithm 2 allows the victim (docs/algorithm.md, step 5): the destination's window
# starts with its first pair (ts1*); during its first T_T3 nothing is judged, so everything
# offered then passes (800 pps x 0.5 s = 400 packets); after that a packet passes only while
# (c* + 1) / window <= T_F2.  Dropped packets are not counted (gap 1), so the victim keeps
# receiving T_F2 for as long as the devices offer more: over D seconds it gets
#     max(offered x T_T3, T_F2 x D) + at most 1 per worker (two workers may both admit the
#     last packet that fits)  ~  T_F2 x D = 1600 here.
# Checked against a bound with documented slack: T_F2 x D + offered x T_T3 (the first,
# unjudged window, counted in full) + 1 per worker, and from below: at least 80% of
# T_F2 x D (the proxy may see the window a little shorter than the generator's D).
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_aggregate

TF1=100
TF2=400
TT3=500
NVIC=40
NBYS=5
RATE=20
COUNT=3200 # NVIC x RATE = 800 pps: 4 s
NWORKERS=2

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision $((NVIC + NBYS))
xpi_start_proxy --queues 0-1 --tf1 $TF1 --tf2 $TF2 --tt3-ms $TT3
xpi_sink vic victim 9000
xpi_sink bys bystander 9001

xpi_gen_bg gvic dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count $NVIC --flows $NVIC \
	--rate $RATE --count $COUNT --sockets 8 --dst "$VICTIM_ADDR:9000"
xpi_gen_bg gbys dev --mode paced -P "$XPI_PROV" --dev-first $NVIC --dev-count $NBYS \
	--flows $NBYS --flow-base 100 --rate $RATE --count $((NBYS * RATE * COUNT / (NVIC * RATE))) \
	--dst "$BYSTANDER_ADDR:9001"
xpi_wait gvic
xpi_wait gbys
xpi_settle
xpi_stop_proxy
xpi_stop vic
xpi_stop bys

ALLOWED="($TF2 * gvic.duration_s + gvic.pps * $TT3 / 1000 + $NWORKERS)"
echo "proxy_aggregate: T_F1 $TF1 pps, T_F2 $TF2 pps, T_T3 $TT3 ms; $NVIC devices x $RATE pps -> victim, $NBYS x $RATE pps -> bystander"
xpi_report "f'victim: offered {gvic.sent} in {gvic.duration_s} s ({gvic.pps:.0f} pps), delivered {vic.received} ({vic.received / gvic.duration_s:.0f} pps over D), DROP_DST {verd(proxy, \"DROP_DST\")}; T_F2 x D = {$TF2 * gvic.duration_s:.0f}, allowed {$ALLOWED:.0f}'" gvic vic proxy
xpi_report "f'victim per second (sink windows): {vic.per_window}; per device delivered {min(f.received for f in vic.flow_list)}..{max(f.received for f in vic.flow_list)}'" vic
xpi_report "f'bystander: offered {gbys.sent}, delivered {bys.received}'" gbys bys

xpi_check "generators sent without errors" 'gvic.sent == '$COUNT' and gvic.errors == 0 and gbys.errors == 0' gvic gbys
xpi_check "victim received at most T_F2 x D + first T_T3 window + 1 per worker" \
	"vic.received <= $ALLOWED" gvic vic
xpi_check "victim received at least 80% of T_F2 x D (held at T_F2, not starved)" \
	"vic.received >= 0.8 * $TF2 * gvic.duration_s" gvic vic
xpi_check "every one of the $NVIC devices got some traffic through" \
	"vic.flows == $NVIC and min(f.received for f in vic.flow_list) > 0" vic
xpi_check "what the victim received is intact and in order (gaps only)" \
	'vic.corrupted == 0 and vic.duplicates == 0 and vic.out_of_order == 0' vic
xpi_check "every victim packet accounted: delivered + DROP_DST == sent" \
	'vic.received + verd(proxy, "DROP_DST") == gvic.sent' gvic vic proxy
xpi_check "no device was judged a flooder (no DROP_PAIR, nothing flagged, no XDP drops)" \
	'verd(proxy, "DROP_PAIR") == 0 and ws(proxy, "pairs_flagged") == 0 and proxy.xdp_packets.drop_flagged == 0' proxy
xpi_check "bystander untouched: all delivered, in order" \
	'bys.received == gbys.sent > 0 and clean(bys) and bys.flows == '$NBYS gbys bys
xpi_check "every sent packet reached the proxy's filter" \
	'sum(verd(proxy, v) for v in ("PASS", "DROP_DST", "DROP_PAIR")) == gvic.sent + gbys.sent and rej(proxy) == 0' gvic gbys proxy
xpi_finish
