#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real applications through xpro-modem: a device namespace downloads a file over TCP (curl
# from a python3 http.server on the victim) and sends a numbered UDP stream to the
# bystander; every outbound packet goes through the TUN, the library and the proxy (XDP and
# AF_XDP), the replies come back directly.  The device talks the management protocol with
# the proxy (PROBE, PROBE_REPLY) and stays on it.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_traffic
export TB_PREFIX=xm$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

MB=8
COUNT=2000
PPS=400 # under T_F1 (1000 pps): legitimate

xmt_setup 2
xmt_proxy 0
xmt_proxy 1
xmt_modem m dev 1
xmt_www $MB
xmt_udp_rx udp bystander 9100
r0=$(xmt_retrans dev)
xmt_fetch dl dev
xmt_udp_tx dev "$BYSTANDER_ADDR" 9100 $COUNT $PPS
xmt_fetched dl
sleep 0.5
xpi_stop udp
echo "{\"retrans\": $(($(xmt_retrans dev) - r0))}" >"$XPI_T/tcp.json"
xpi_stop m
XPI_PROXY_NAME=proxy0 xpi_stop_proxy
XPI_PROXY_NAME=proxy1 xpi_stop_proxy

echo "modem_traffic: $MB MB over TCP and $COUNT UDP datagrams from device 1 through xpro-modem"
xpi_report 'f"download: HTTP {dl.code}, {dl.bytes} bytes in {dl.secs:.2f} s, identical {c.same}; TCP retransmissions {t.retrans}"' dl c="$XPI_T/dl.cmp" t="$XPI_T/tcp.json"
xpi_report 'f"UDP: {u.unique} of '$COUNT' received from {u.sources}"' u="$XPI_T/udp.json"
xpi_report 'f"modem: current {m.current}, sent {m.sent}, probes {m.probes}, replies {m.replies}, switches {m.switches}, rejected {m.rejected}"' m="$XPI_T/m.st"
xpi_report "f'proxy0: rx {ws(p, \"rx_packets\")}, forwarded {ws(p, \"tx_packets\") + ws(p, \"tx_kernel_packets\")}, control {ws(p, \"control_packets\")}, rejected {rej(p)}; proxy1: rx {ws(q, \"rx_packets\")}, control {ws(q, \"control_packets\")}'" p="$XPI_T/proxy0.json" q="$XPI_T/proxy1.json"

xpi_check "the download completed, byte for byte" \
	'dl.code == 200 and dl.bytes == '$((MB * 1048576))' and c.same' dl c="$XPI_T/dl.cmp"
xpi_check "the UDP stream arrived whole, from the device's own address" \
	'u.unique == '$COUNT' and u.sources == ["198.18.64.1"]' u="$XPI_T/udp.json"
xpi_check "the device stayed on its first proxy and heard its replies" \
	'm.current == "198.18.0.1:7447" and m.switches == 0 and m.replies > 0 and m.rejected == 0' \
	m="$XPI_T/m.st"
xpi_check "every packet went through proxy0, authenticated and was forwarded" \
	'ws(p, "rx_packets") + ws(q, "rx_packets") == m.sent + m.probes and ws(q, "rx_packets") == ws(q, "control_packets") and rej(p) + rej(q) == 0 and ws(p, "tx_packets") + ws(p, "tx_kernel_packets") == m.sent' \
	q="$XPI_T/proxy1.json" \
	p="$XPI_T/proxy0.json" m="$XPI_T/m.st"
xpi_check "the proxies took every probe as a control message, and answered (almost) all" \
	'ws(p, "control_packets") + ws(q, "control_packets") == m.probes and m.replies >= m.probes - 2' \
	p="$XPI_T/proxy0.json" q="$XPI_T/proxy1.json" m="$XPI_T/m.st"
xpi_finish
