#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Legitimate traffic passes the proxy untouched: 20 paced flows from 10 devices, half to the
# victim and half to the bystander, go through a proxy with two queues and two workers, and
# every datagram reaches its destination once, in order and byte for byte.  Default
# thresholds (T_F1 1000 pps, T_F2 10000 pps) are far above the 50 pps per flow sent here,
# so the filter must pass everything: the counts are exact.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_legit

FLOWS=20
DEVICES=10
RATE=50       # pps per flow
COUNT=3000    # all flows together: 3 s at 20 x 50 pps

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision $DEVICES
xpi_start_proxy --queues 0-1
xpi_sink vic victim 9000
xpi_sink bys bystander 9001

# Flow f: device f % 10, destination (f / 10) % 2; 8 sockets (outer source ports) so the
# bridge hashes the flows over both of the proxy's queues.
xpi_gen gen dev --mode paced -P "$XPI_PROV" --flows $FLOWS --rate $RATE --count $COUNT \
	--sockets 8 --dst "$VICTIM_ADDR:9000,$BYSTANDER_ADDR:9001"
xpi_settle
xpi_stop_proxy
xpi_stop vic
xpi_stop bys

echo "proxy_legit: 2 workers, $FLOWS flows over $DEVICES devices at $RATE pps each"
xpi_report 'f"generator sent {gen.sent} ({gen.flow_sent_min}..{gen.flow_sent_max} per flow, errors {gen.errors})"' gen
xpi_report 'f"victim received {vic.received} in {vic.flows} flows (in order {vic.in_order}, missing {vic.missing}, corrupted {vic.corrupted}, dups {vic.duplicates})"' vic
xpi_report 'f"bystander received {bys.received} in {bys.flows} flows (in order {bys.in_order}, missing {bys.missing}, corrupted {bys.corrupted}, dups {bys.duplicates})"' bys
xpi_report "f'proxy workers rx {[w.rx_packets for w in proxy.workers]}, tx {[w.tx_packets for w in proxy.workers]}, tx_kernel {[w.tx_kernel_packets for w in proxy.workers]}; PASS {verd(proxy, \"PASS\")}; engine pairs {proxy.engine.pairs}'" proxy

xpi_check "generator sent $COUNT without errors" 'gen.sent == '$COUNT' and gen.errors == 0' gen
xpi_check "every flow sent the same number" 'gen.flow_sent_min == gen.flow_sent_max' gen
xpi_check "victim + bystander received exactly what was sent" \
	'vic.received + bys.received == gen.sent' gen vic bys
xpi_check "victim got its 10 flows, each complete" \
	'vic.flows == 10 and vic.received == gen.sent // 2' gen vic
xpi_check "bystander got its 10 flows, each complete" \
	'bys.flows == 10 and bys.received == gen.sent // 2' gen bys
for s in vic bys; do
	xpi_check "$s: all in order, none missing, duplicated or corrupted" \
		"$s.in_order == $s.received and $s.missing == 0 and $s.corrupted == 0 and $s.duplicates == 0 and $s.out_of_order == 0" $s
	xpi_check "$s: inner sources are the 10 devices" \
		"sorted(x.src for x in $s.sources) == sorted('198.18.64.%d' % i for i in range(10))" $s
done
xpi_check "both workers received tunnel packets" \
	'len(proxy.workers) == 2 and all(w.rx_packets > 0 for w in proxy.workers)' proxy
xpi_check "proxy: every packet authenticated and passed (PASS == sent, nothing rejected)" \
	'verd(proxy, "PASS") == gen.sent and rej(proxy) == 0 and ws(proxy, "rx_packets") == gen.sent' gen proxy
xpi_check "proxy: every passed packet transmitted (tx + tx_kernel == PASS, tx_fail 0)" \
	'ws(proxy, "tx_packets") + ws(proxy, "tx_kernel_packets") == gen.sent and ws(proxy, "tx_fail_packets") == 0' gen proxy
xpi_check "proxy: no drops anywhere" \
	'sum(verd(proxy, v) for v in ("DROP_PAIR", "DROP_DST", "DROP_DEVCAP", "DROP_FULL")) == 0 and proxy.xdp_packets.drop_flagged == 0 and proxy.xdp_packets.drop_malformed == 0 and proxy.xdp_packets.drop_unknown_dev == 0' proxy
xpi_check "proxy: one pair per flow (20), 2 destinations, 10 devices" \
	'(proxy.engine.pairs, proxy.engine.dsts, proxy.engine.devs) == (20, 2, 10)' proxy
xpi_finish
