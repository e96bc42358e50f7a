#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The device's proxy dies mid-download: xpro-modem's probes to it go unanswered, the library
# marks it down and moves to the other proxy by itself, and the TCP download (curl, paced to
# last several seconds) completes byte for byte; TCP retransmits what was lost meanwhile.
# Reports the gap between the kill and the switch, and the retransmissions on both ends.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_failover
export TB_PREFIX=xm$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

MB=8
KBPS=1000 # the server paces the download: about 8 s

xmt_setup 2
xmt_proxy 0
xmt_proxy 1
xmt_modem m dev 1
xmt_www $MB $KBPS
rd0=$(xmt_retrans dev)
rv0=$(xmt_retrans victim)
xmt_fetch dl dev
xpi_wait_for "download under way" 20 sh -c "[ \$(stat -c %s '$XPI_T/dl.blob' 2>/dev/null || echo 0) -gt 2000000 ]"
kill_ms=$(date +%s%3N)
kill -KILL "$(cat "$XPI_T/proxy0.pid")"
wait "${XPI_JOB[proxy0]}" 2>/dev/null || true
unset "XPI_JOB[proxy0]"
at_kill=$(stat -c %s "$XPI_T/dl.blob")
xpi_wait_for "the device leaves the dead proxy" 20 \
	xpi_true 's.current == "198.18.0.2:7447"' s="$XPI_T/m.st"
xmt_fetched dl
echo "{\"kill_ms\": $kill_ms, \"at_kill\": $at_kill, \"retrans_dev\": $(($(xmt_retrans dev) - rd0)), \"retrans_victim\": $(($(xmt_retrans victim) - rv0))}" >"$XPI_T/k.json"
xpi_stop m
XPI_PROXY_NAME=proxy1 xpi_stop_proxy

echo "modem_failover: proxy0 killed (SIGKILL) during an $MB MB download paced at $KBPS kB/s"
xpi_report 'f"download: HTTP {dl.code}, {dl.bytes} bytes in {dl.secs:.1f} s, identical {c.same}; {k.at_kill} bytes in when proxy0 died"' dl c="$XPI_T/dl.cmp" k="$XPI_T/k.json"
xpi_report 'f"switch {m.switch_log[-1].at_ms - k.kill_ms} ms after the kill; TCP retransmissions: device {k.retrans_dev}, server {k.retrans_victim}"' m="$XPI_T/m.st" k="$XPI_T/k.json" 2>/dev/null ||
	true
xpi_report 'f"modem: current {m.current}, switches {m.switches}, probes {m.probes}, replies {m.replies}, proxies {[(p.addr, p.state) for p in m.proxies]}"' m="$XPI_T/m.st"
xpi_report "f'proxy1: forwarded {ws(q, \"tx_packets\") + ws(q, \"tx_kernel_packets\")}, rejected {rej(q)}'" q="$XPI_T/proxy1.json"

xpi_check "the download completed, byte for byte" \
	'dl.code == 200 and dl.bytes == '$((MB * 1048576))' and c.same' dl c="$XPI_T/dl.cmp"
xpi_check "the download was under way, not done, when proxy0 died" \
	'0 < k.at_kill < '$((MB * 1048576)) k="$XPI_T/k.json"
xpi_check "the device moved from proxy0 to proxy1, once, after the kill" \
	'm.switches == 1 and m.switch_log[-1]["from"] == 0 and m.switch_log[-1]["to"] == 1 and m.switch_log[-1]["at_ms"] >= k.kill_ms' \
	m="$XPI_T/m.st" k="$XPI_T/k.json"
xpi_check "the device marks proxy0 down" 'm.proxies[0].state == "down"' m="$XPI_T/m.st"
xpi_check "proxy1 forwarded the rest of the device's traffic, rejecting nothing" \
	'ws(q, "tx_packets") + ws(q, "tx_kernel_packets") > 0 and rej(q) == 0' q="$XPI_T/proxy1.json"
xpi_finish
