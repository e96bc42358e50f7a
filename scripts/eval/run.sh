#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make eval: run every experiment of docs/evaluation.md on the namespace testbed, then render
# the plots from the CSV files and write the page from the same files.
#
#   scripts/eval/run.sh           full run: CSV in build/eval/, plots in docs/eval/,
#                                 the page in docs/evaluation.md (about 10-15 minutes)
#   scripts/eval/run.sh --quick   fewer points, shorter runs; everything in build/eval-quick/
#                                 (CSV, png/, evaluation.md): the committed page is untouched
#   EV_STAGES="victim sweep"      only these experiments (the page says "not run" for others)
#
# A failed experiment does not stop the others; its status is in stages.csv and on the page,
# its output in logs/STAGE.log.  Exit status: 1 if any stage failed, else 0.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
cd "$ROOT" || exit 1
QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
if [ $QUICK = 1 ]; then
	OUT=$ROOT/build/eval-quick
	PNG=$OUT/png
	DOC=$OUT/evaluation.md
	PNGREL=png
else
	OUT=$ROOT/build/eval
	PNG=$ROOT/docs/eval
	DOC=$ROOT/docs/evaluation.md
	PNGREL="eval"
fi
STAGES=${EV_STAGES:-victim sweep shared device proxy}
for t in python3 gnuplot valgrind; do
	command -v $t >/dev/null || {
		echo "eval: $t missing (make deps)" >&2
		exit 1
	}
done
rm -rf "$OUT"
mkdir -p "$OUT/logs" "$PNG"
start=$(date +%s)
{
	echo "quick,date,commit,kernel,machine,cpus,load,seconds"
	printf '%s,%s,%s,%s,"%s",%s,%s,@SECONDS@\n' "$QUICK" "$(date -u '+%Y-%m-%d %H:%M')" \
		"$(git describe --always --dirty 2>/dev/null || echo unknown)" "$(uname -r)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | tr -d ','), $(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")" \
		"$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')"
} >"$OUT/meta.csv"
echo "stage,seconds,status" >"$OUT/stages.csv"
fail=0
for s in $STAGES; do
	t0=$(date +%s)
	echo "eval: $s ..."
	if [ "$s" != device ] && [ "$(id -u)" -ne 0 ]; then
		st="skipped: needs root"
	elif EV_OUT=$OUT EV_QUICK=$QUICK TB_PREFIX=ev$$${s:0:2}- "$D/$s.sh" >"$OUT/logs/$s.log" 2>&1; then
		st=ok
	else
		st=failed
		fail=1
		echo "eval: $s failed; the end of $OUT/logs/$s.log:" >&2
		grep -v 'Z xpro-\(proxy\|modem\) [a-z]*: \|^libbpf\|^libxdp' "$OUT/logs/$s.log" | tail -15 >&2
	fi
	echo "$s,$(($(date +%s) - t0)),$st" >>"$OUT/stages.csv"
	echo "eval: $s $st ($(($(date +%s) - t0)) s)"
done
sed -i "s/@SECONDS@/$(($(date +%s) - start))/" "$OUT/meta.csv"
rm -f "$PNG"/*.png
python3 "$D/plot.py" "$OUT" "$PNG" >"$OUT/logs/plot.log" 2>&1 || {
	fail=1
	echo "eval: plot.py failed:" >&2
	tail -15 "$OUT/logs/plot.log" >&2
}
python3 "$D/report.py" "$OUT" "$PNGREL" "$DOC" || fail=1
echo "eval: $(($(date +%s) - start)) s; CSV in ${OUT#"$ROOT"/}, plots in ${PNG#"$ROOT"/}, page ${DOC#"$ROOT"/}"
exit $fail
