#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A proxy cuts one device's flood and warns it; the device stays (a dropped pair is not the
# proxy's overload) and a neighbour's download completes while the flood is cut.  Two device
# namespaces, each with its xpro-modem, both starting on proxy0: device 1 (namespace dev)
# downloads a paced file over TCP; device 2 (namespace dev1) floods the victim with UDP at
# over three times T_F1 (proxies run with a low --tf1).  The pair check drops device 2's
# pair and warns: proxy0 sends OVERLOAD (PAIR_DROPPED, the victim); device 2's modem keeps
# proxy0 (moving would only carry the pair's limit to proxy1 through the shared view) and
# device 1 never moves and its download completes.  The proxy's own overload (BUSY) moving
# a device is tests/modem/test_mfw_select.c's.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_overload
export TB_PREFIX=xm$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

TF1=600
FLOOD_PPS=2000
FLOOD_N=16000 # 8 s
MB=8
KBPS=1000 # about 8 s, about 350 ACKs/s from device 1: under T_F1

XMT_EXTRA_DEVS=1 xmt_setup 2
xmt_proxy 0 --tf1 $TF1
xmt_proxy 1 --tf1 $TF1
xmt_modem m1 dev 1
xmt_modem m2 dev1 2
xmt_www $MB $KBPS
xmt_udp_rx flood victim 9000
xmt_fetch dl dev
xmt_udp_tx dev1 "$VICTIM_ADDR" 9000 $FLOOD_N $FLOOD_PPS
xmt_fetched dl
sleep 0.5
xpi_stop flood
xpi_stop m1
xpi_stop m2
XPI_PROXY_NAME=proxy0 xpi_stop_proxy
XPI_PROXY_NAME=proxy1 xpi_stop_proxy
grep -c "device 2 -> .*OVERLOAD sent" "$XPI_T/proxy0.err" | sed 's/.*/{"warned": &}/' >"$XPI_T/w0.json"

M1="a=$XPI_T/m1.st" M2="b=$XPI_T/m2.st"
echo "modem_overload: device 2 floods at $FLOOD_PPS pps (T_F1 $TF1) while device 1 downloads $MB MB"
xpi_report 'f"device 1: download HTTP {dl.code}, {dl.bytes} bytes in {dl.secs:.1f} s, identical {c.same}; switches {a.switches}, overloads {a.overloads}"' dl c="$XPI_T/dl.cmp" "$M1"
xpi_report 'f"device 2: sent {b.sent}, overloads {b.overloads}, switches {b.switches} {b.switch_log}, now on {b.current}"' "$M2"
xpi_report 'f"victim received {f.unique} of '$FLOOD_N' flood datagrams"' f="$XPI_T/flood.json"
xpi_report "f'proxy0: DROP_PAIR {verd(p, \"DROP_PAIR\")}, warnings {ws(p, \"warnings\")}, XDP drop_flagged {p.xdp_packets.drop_flagged}; proxy1: DROP_PAIR {verd(q, \"DROP_PAIR\")}'" p="$XPI_T/proxy0.json" q="$XPI_T/proxy1.json"

xpi_check "device 1's download completed, byte for byte" \
	'dl.code == 200 and dl.bytes == '$((MB * 1048576))' and c.same' dl c="$XPI_T/dl.cmp"
xpi_check "device 1 was never warned and never moved" \
	'a.overloads == 0 and a.switches == 0 and a.current == "198.18.0.1:7447"' "$M1"
xpi_check "proxy0 warned device 2 (OVERLOAD PAIR_DROPPED) and device 2 stayed on proxy0" \
	'w.warned >= 1 and b.overloads >= 1 and b.switches == 0 and b.current == "198.18.0.1:7447"' \
	"$M2" w="$XPI_T/w0.json"
xpi_check "the flood was cut: the victim got under half of it" \
	'f.unique < '$((FLOOD_N / 2)) f="$XPI_T/flood.json"
xpi_finish
