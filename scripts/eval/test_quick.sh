#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The checks are strings evaluated by check(), with this script's variables.
# shellcheck disable=SC2016,SC2034
# The eval tier of make test: run `make eval QUICK=1` (scripts/eval/run.sh --quick, output in
# build/eval-quick/, the committed docs/ untouched) and check what a reader of the page would:
# every stage ran, every CSV has data rows, every plot is a PNG, the page was written from
# this run and has every section with numbers.  Checks, not timings: nothing here depends on
# how fast this machine is.  Counted by scripts/run-tests.sh in cmocka's words.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/build/eval-quick
pass=0
fail=0
check()
{
	if eval "$2"; then
		pass=$((pass + 1))
		echo "ok - $1"
	else
		fail=$((fail + 1))
		echo "not ok - $1"
	fi
}
# rows FILE: data rows of a CSV (header excluded)
rows()
{
	[ -s "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0
}
t0=$(date +%s)
docs_before=$(cd "$ROOT" && cat docs/evaluation.md docs/eval/*.png 2>/dev/null | md5sum)
"$ROOT/scripts/eval/run.sh" --quick
rc=$?
check "run.sh --quick exited 0" '[ $rc -eq 0 ]'
check "every stage ran ok" \
	'[ "$(tail -n +2 "$OUT/stages.csv" | grep -vc ",ok$")" = 0 ] && [ "$(rows "$OUT/stages.csv")" = 5 ]'
for f in victim_ts victim_sum sweep shared device_overhead device_cross proxy_paths proxy_ladder sync_round; do
	check "$f.csv has data rows" '[ "$(rows "$OUT/$f.csv")" -gt 0 ]'
done
check "victim_sum.csv: the four modes" \
	'[ "$(cut -d, -f1 "$OUT/victim_sum.csv" | tail -n +2 | xargs)" = "none nft fcfs fair" ]'
check "sweep.csv: every point under both policies" \
	'[ "$(awk -F, '\''NR > 1 && $19 == "fcfs"'\'' "$OUT/sweep.csv" | wc -l)" -gt 0 ] && [ "$(awk -F, '\''NR > 1 && $19 == "fcfs"'\'' "$OUT/sweep.csv" | wc -l)" = "$(awk -F, '\''NR > 1 && $19 == "fair"'\'' "$OUT/sweep.csv" | wc -l)" ]'
check "proxy_paths.csv: X-Pro's paths and their ceilings, each measured or saying why not" \
	'python3 -c "import csv, sys; r = {x[\"case\"]: x for x in csv.DictReader(open(sys.argv[1]))}; sys.exit(not all(c in r and (r[c][\"mpps\"] or r[c][\"error\"]) for c in sys.argv[2:]))" "$OUT/proxy_paths.csv" xdp_drop xdp_drop_flagged afxdp_rx userspace_drop afxdp_fwd forward'
for p in victim victim_drops classes sweep sweep_legit shared device proxy; do
	check "$p.png rendered" '[ "$(head -c 8 "$OUT/png/$p.png" 2>/dev/null | od -An -tx1 | xargs)" = "89 50 4e 47 0d 0a 1a 0a" ]'
done
check "evaluation.md written by this run" '[ -s "$OUT/evaluation.md" ] && [ "$(stat -c %Y "$OUT/evaluation.md")" -ge "$t0" ]'
check "evaluation.md: five sections, no stage missing, every plot linked" \
	'[ "$(grep -c "^## [1-5]\. " "$OUT/evaluation.md")" = 5 ] && ! grep -q "(not run)\|not rendered" "$OUT/evaluation.md"'
check "evaluation.md quotes this run's CSV (victim offered, sync round)" \
	'grep -q "| fair | $(awk -F, '\''$1 == "fair" { print $10 }'\'' "$OUT/victim_sum.csv") |" "$OUT/evaluation.md" && grep -q "| $(awk -F, '\''NR == 2 { print $4 }'\'' "$OUT/sync_round.csv") |" "$OUT/evaluation.md"'
check "the committed docs/evaluation.md and docs/eval/*.png are untouched" \
	'[ "$(cd "$ROOT" && cat docs/evaluation.md docs/eval/*.png 2>/dev/null | md5sum)" = "$docs_before" ]'
echo "eval-quick: $pass passed, $fail failed ($(($(date +%s) - t0)) s)"
echo "[  PASSED  ] $pass test(s)."
[ "$fail" -eq 0 ] || echo "[  FAILED  ] $fail test(s)."
[ "$fail" -eq 0 ]
