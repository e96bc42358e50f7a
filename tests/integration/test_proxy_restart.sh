#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A proxy that crashed can be started again, and it keeps its drop-map: the maps are pinned
# (here under a bpffs this test mounts, --pin-root), so a pair flagged before the crash is
# still dropped in XDP after it, until its hold ends.
#
#   1. proxy A (T_F1 100, T_T2 200 ms, hold 60 s): device 0 floods the victim at 1000 pps
#      for 1 s; the pair (device 0, victim) is flagged.
#   2. proxy A is SIGKILLed: no handler runs, its XDP program stays attached.  The drop-map
#      entry is still pinned.
#   3. proxy B starts with the same pin root: it replaces the program the dead proxy left
#      (and says so), and the same entry (same until_ns) is there.
#   4. device 0 now sends only 20 pps to the victim (well under T_F1), 40 packets: the pair is
#      still flagged, so all 40 are dropped by XDP (the entry's packet count grows by exactly
#      40) and none reaches the victim or proxy B's workers; device 1's flow to the victim,
#      at the same time, is delivered in full.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_restart

ARGS=(--queues 0-1 --tf1 100 --tt2-ms 200 --hold-ms 60000)
export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 2
xpi_bpffs
XPI_PROXY_NAME=proxyA xpi_start_proxy "${ARGS[@]}"
xpi_sink vic victim 9000

xpi_gen flood dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 --flows 1 \
	--rate 1000 --count 1000 --dst "$VICTIM_ADDR:9000"
xpi_wait_for "the flooding pair in the drop-map" 10 \
	xpi_true 'proxy.xdp_packets.drop_flagged > 0' proxy="$XPI_T/proxyA.json"
XPI_STATS=$XPI_T/proxyA.json xpi_settle
xpi_dropmap before
xpi_kill proxyA
xpi_dropmap between

XPI_PROXY_NAME=proxyB xpi_start_proxy "${ARGS[@]}"
xpi_dropmap restarted
xpi_gen_bg calm0 dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 --flows 1 \
	--flow-base 100 --rate 20 --count 40 --epoch 2000 --dst "$VICTIM_ADDR:9000"
xpi_gen_bg calm1 dev --mode paced -P "$XPI_PROV" --dev-first 1 --dev-count 1 --flows 1 \
	--flow-base 200 --rate 20 --count 40 --epoch 2000 --dst "$VICTIM_ADDR:9000"
xpi_wait calm0
xpi_wait calm1
xpi_settle
xpi_dropmap after
XPI_PROXY_NAME=proxyB xpi_stop_proxy
xpi_stop vic

echo "proxy_restart: hold 60 s; proxy A flagged the pair, proxy B started on the same pins"
xpi_report "f'flood: sent {flood.sent}, delivered {recv(vic, flow=0)}; proxy A: flagged {ws(proxyA, \"pairs_flagged\")}, XDP drop_flagged {proxyA.xdp_packets.drop_flagged}'" flood vic proxyA
for d in before between restarted after; do
	xpi_report "f'drop-map $d: {[(e.dst, e.dev, e.packets, e.until_ns) for e in drops($d)]}'" $d
done
xpi_report "f'after the restart: dev0 sent {calm0.sent}, delivered {recv(vic, flow=100)}; dev1 sent {calm1.sent}, delivered {recv(vic, flow=200)}; proxy B rx {ws(proxyB, \"rx_packets\")}, PASS {verd(proxyB, \"PASS\")}, engine pairs {proxyB.engine.pairs}'" calm0 calm1 vic proxyB

xpi_check "proxy A flagged the pair (device 0, victim)" \
	"ws(proxyA, 'pairs_flagged') >= 1 and [(e.dev, e.dst) for e in drops(before)] == [(0, '$VICTIM_ADDR')]" proxyA before
if grep -q "replaced the program a dead xpro-proxy left attached" "$XPI_T/proxyB.err"; then
	XPI_PASS=$((XPI_PASS + 1))
	echo "ok - proxy B took over the XDP program the killed proxy A left attached, and said so"
else
	XPI_FAIL=$((XPI_FAIL + 1))
	echo "not ok - proxy B did not say it replaced proxy A's program: $(head -3 "$XPI_T/proxyB.err")"
fi
xpi_check "the entry outlives the killed proxy A (pinned)" \
	'[(e.dev, e.dst, e.until_ns) for e in drops(between)] == [(e.dev, e.dst, e.until_ns) for e in drops(before)]' before between
xpi_check "proxy B starts with the same entry, not rewritten (same until_ns, packets kept)" \
	'[(e.dev, e.dst, e.until_ns, e.packets) for e in drops(restarted)] == [(e.dev, e.dst, e.until_ns, e.packets) for e in drops(between)]' between restarted
xpi_check "the hold has not ended yet (until_ns in the future at proxy B's start)" \
	'drops(restarted)[0].until_ns > restarted.now_ns' restarted
xpi_check "after the restart XDP dropped each of device 0's 40 calm packets (entry packets +40)" \
	'calm0.sent == 40 and drops(after)[0].packets - drops(restarted)[0].packets == calm0.sent' calm0 restarted after
xpi_check "none of them reached the victim" 'recv(vic, flow=100) == 0' vic
xpi_check "none reached proxy B's workers: B saw only device 1's flow, one pair" \
	'ws(proxyB, "rx_packets") == calm1.sent and proxyB.engine.pairs == 1 and verd(proxyB, "PASS") == calm1.sent' calm1 proxyB
xpi_check "device 1's flow through proxy B delivered in full" \
	'recv(vic, flow=200) == calm1.sent == 40 and clean(vic, flow=200)' calm1 vic
xpi_finish
