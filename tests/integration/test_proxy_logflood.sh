#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Under attack the log does not grow with the attack, and it loses no count: 40 devices (200
# pps each) flood the victim above T_F1 50 (fcfs: each pair flagged), then, after the limiter's
# window, one more device floods.
#
#   - every line is an RFC 3339 UTC timestamp, the program, a level tag, the message;
#   - the drop warnings ("device N -> A.B.C.D: pair dropped at R pkt/s (T_F1 ...)", IPv4 as a
#     dotted quad, the measured rate, the threshold, the hold) are at most 10 in the first
#     5 s, then a line says how many were suppressed; lines + suppressed == the overload
#     warnings the proxy sent (its own count at exit);
#   - 12000 forged messages at the same time add no line at all.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_logflood

NDEV=40
export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision $((NDEV + 2))
xpi_start_proxy --queues 0-1 --dst-policy fcfs --tf1 50 --tt2-ms 200 --hold-ms 60000 \
	--tt1-ms 60000
LOG=$XPI_T/proxy.err

xpi_gen_bg bad dev --mode bad --kind bad-mac -P "$XPI_PROV" --dev-first $((NDEV + 1)) \
	--dev-count 1 --flows 1 --rate 4000 --count 12000
xpi_gen first dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count $NDEV --flows $NDEV \
	--rate 200 --duration 1500 --dst "$VICTIM_ADDR:9000"
xpi_wait bad
# The limiter's window (5 s) passes; the next warning reports what was suppressed.
sleep 6
xpi_gen last dev --mode paced -P "$XPI_PROV" --dev-first $NDEV --dev-count 1 --flows 1 \
	--rate 500 --duration 1500 --dst "$VICTIM_ADDR:9000"
xpi_settle
xpi_stop_proxy

python3 - "$LOG" "$VICTIM_ADDR" >"$XPI_T/log.json" <<'EOF'
import json, re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if not l.startswith(("libbpf:", "libxdp:"))]
fmt = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z xpro-proxy (error|warn|info|debug): .+$")
drop = re.compile(r"device (\d+) -> (%s): pair dropped at (\d+) pkt/s \(T_F1 50 pkt/s, fcfs\); "
                  r"OVERLOAD sent; flagged pairs are dropped in XDP for 60000 ms$" % re.escape(sys.argv[2]))
sup = re.compile(r"\((\d+) similar messages suppressed\)$")
mgmt = re.compile(r"management: \d+ probes, \d+ replies, (\d+) overload warnings; \d+ rate-limited, "
                  r"(\d+) queue full, (\d+) send errors$")
drops = [l for l in lines if drop.search(l)]
sups = [int(sup.search(l).group(1)) for l in lines if sup.search(l)]
m = [mgmt.search(l) for l in lines if mgmt.search(l)]
print(json.dumps({
    "n": len(lines), "bad_format": [l for l in lines if not fmt.match(l)][:3],
    "drops": len(drops), "drop_devs": sorted({int(drop.search(l).group(1)) for l in drops}),
    "rates_over_tf1": all(int(drop.search(l).group(3)) > 50 for l in drops),
    "suppressed": sups, "overloads": int(m[0].group(1)) if m else -1,
    "queue_full": int(m[0].group(2)) if m else -1, "send_errors": int(m[0].group(3)) if m else -1,
    "other": [l for l in lines if not drop.search(l) and not sup.search(l)],
}))
EOF
xpi_report "f'log: {log.n} lines; {log.drops} drop warnings for devices {log.drop_devs}; suppressed {log.suppressed}; the proxy sent {log.overloads} OVERLOADs; flagged {ws(proxy, \"pairs_flagged\")} pairs'" log proxy
xpi_check "every line: RFC 3339 UTC time, program, level, message" "log.bad_format == []" log
xpi_check "all $NDEV + 1 flooding pairs were flagged and warned" \
	"ws(proxy, 'pairs_flagged') >= $NDEV + 1 and log.overloads >= $NDEV + 1 and log.send_errors == 0" log proxy
xpi_check "the first 5 s: 10 drop lines, each with device, dotted-quad victim, rate over T_F1, T_F1, policy, hold" \
	"log.drops == 11 and log.rates_over_tf1" log
xpi_check "then one line says how many were suppressed; logged + suppressed == OVERLOADs sent" \
	"len(log.suppressed) == 1 and log.drops + sum(log.suppressed) == log.overloads" log
xpi_check "the last device's warning is logged after the window" "$NDEV in log.drop_devs" log
xpi_check "12000 forged messages: counted as MAC, not one line in the log" \
	"rej(proxy, 'MAC') == bad.kinds['bad-mac'] >= 11000 and all('MAC' not in l and 'forged' not in l for l in log.other)" bad log proxy
xpi_finish
