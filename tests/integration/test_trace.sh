#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# xproctl trace: the proxy records the authenticated DATA its workers filter as
# xpro-replay's trace, for sizing thresholds from real traffic (docs/deploy.md).
#
#   1. trace 10 s while device 1 sends 200 packets to the victim and device 2 100 packets to
#      the bystander (two queues): the file has exactly those 300 lines (and device 3's one valid one), in time
#      order, inside the 10 s; forged messages from device 3 (MAC) are not in it; xpro-replay
#      reads it and replays the same 300 packets.
#   2. trace 60 s, 50 packets, trace stop: the file is complete when stop answers.
#   3. a relative path, 0 seconds, a second trace while one runs: refused with the reason.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init trace

CTL=$XPI_ROOT/build/xproctl
REPLAY=$XPI_ROOT/build/xpro-replay
SOCK=$XPI_T/ctl.sock
export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 4
xpi_start_proxy --queues 0-1 --ctl-socket "$SOCK"

ctl() {
	local name=$1
	shift
	"$CTL" -s "$SOCK" --json "$@" >"$XPI_T/$name.json" 2>"$XPI_T/$name.err"
}
# The trace file as JSON: header lines, rows (time, dev, dst), per-pair counts.
summarise() {
	python3 - "$XPI_T/$1" >"$XPI_T/$2.json" <<'EOF'
import collections, json, sys
head, rows = [], []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("#") or line == "time_ms,device,destination":
        head.append(line)
        continue
    t, dev, dst = line.split(",")
    rows.append((float(t), int(dev), dst))
pairs = collections.Counter(f"{d}>{a}" for _, d, a in rows)
print(json.dumps({"head": head, "n": len(rows), "pairs": pairs,
                  "sorted": all(rows[i][0] <= rows[i + 1][0] for i in range(len(rows) - 1)),
                  "first": rows[0][0] if rows else None, "last": rows[-1][0] if rows else None}))
EOF
}

# --- 1. a timed trace of known traffic ---
ctl t1 trace "$XPI_T/t1.csv" 10 || xpi_die "xproctl trace: $(cat "$XPI_T/t1.json")"
xpi_gen_bg g1 dev --mode paced -P "$XPI_PROV" --dev-first 1 --dev-count 1 --flows 1 --rate 100 \
	--count 200 --dst "$VICTIM_ADDR:9000"
xpi_gen_bg g2 dev --mode paced -P "$XPI_PROV" --dev-first 2 --dev-count 1 --flows 1 --rate 50 \
	--count 100 --dst "$BYSTANDER_ADDR:9001"
xpi_gen bad dev --mode bad --kind bad-mac -P "$XPI_PROV" --dev-first 3 --dev-count 1 --flows 1 \
	--rate 100 --count 30
xpi_wait g1
xpi_wait g2
xpi_wait_for "the 10 s trace ends by itself" 30 \
	sh -c "'$CTL' -s '$SOCK' --json trace | grep -q '\"tracing\":false'"
ctl t1end trace
summarise t1.csv s1
xpi_check "trace started: it says so, file and duration" \
	"t1.ok and t1.tracing and t1.file == '$XPI_T/t1.csv' and 5000 <= t1.remaining_ms <= 10000" t1
xpi_check "the file: its header, then exactly the 300 packets sent plus device 3's one valid message, per pair" \
	"s1.head[-1] == 'time_ms,device,destination' and 'tf1 1000' in s1.head[1] and s1.pairs == {'1>$VICTIM_ADDR': g1.sent, '2>$BYSTANDER_ADDR': g2.sent, '3>$VICTIM_ADDR': bad.valid} and g1.sent == 200 and g2.sent == 100 and bad.valid == 1" s1 g1 g2 bad
xpi_check "in time order, inside the trace's 10 s; the proxy counted them as written, none lost" \
	"s1.sorted and 0 <= s1.first and s1.last <= 10000 and t1end.tracing is False and t1end.packets == s1.n and t1end.lost == 0" s1 t1end
xpi_check "the file is mode 0600" "__import__('os').stat('$XPI_T/t1.csv').st_mode & 0o777 == 0o600"
"$REPLAY" --trace "$XPI_T/t1.csv" >"$XPI_T/replay.txt" 2>&1 || xpi_die "xpro-replay: $(tail -3 "$XPI_T/replay.txt")"
xpi_check "xpro-replay reads it: the same packets, devices and destinations" \
	"'trace $XPI_T/t1.csv: 301 packets from 3 devices to 2 destinations' in open('$XPI_T/replay.txt').read()"

# --- 2. stopped by hand ---
ctl t2 trace "$XPI_T/t2.csv" 60 || xpi_die "xproctl trace 60"
xpi_gen g3 dev --mode paced -P "$XPI_PROV" --dev-first 1 --dev-count 1 --flows 1 --rate 100 \
	--count 50 --seq-start 100000 --dst "$VICTIM_ADDR:9000"
xpi_settle
ctl t2stop trace stop || xpi_die "xproctl trace stop: $(cat "$XPI_T/t2stop.json")"
summarise t2.csv s2
xpi_check "trace stop: answers when the file is complete (50 packets)" \
	"t2stop.ok and t2stop.tracing is False and t2stop.packets == 50 and s2.n == 50 and s2.pairs == {'1>$VICTIM_ADDR': 50}" t2stop s2

# --- 3. refused ---
ctl rel trace relative.csv 5 || true
ctl zero trace "$XPI_T/z.csv" 0 || true
ctl t3 trace "$XPI_T/t3.csv" 30 || xpi_die "xproctl trace 30"
ctl busy trace "$XPI_T/t4.csv" 30 || true
ctl t3stop trace stop || true
ctl nostop trace stop || true
xpi_check "refused: a relative path, 0 seconds, a second trace, a stop with none running" \
	"rel.ok is False and 'absolute path' in rel.error and zero.ok is False and 'seconds must be 1..3600' in zero.error and busy.ok is False and 'is running' in busy.error and t3stop.ok and nostop.ok is False and nostop.error == 'no trace is running'" rel zero busy t3stop nostop
xpi_finish
