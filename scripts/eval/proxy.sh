#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment 5, cost on the proxy: tests/bench/bench_proxy.sh (BENCH_QUICK=1 in the quick
# variant, without the extra batch-32 cases) and the sync round benchmark
# (build/bench/bench_sync --records N); their BENCH lines, parsed into proxy_paths.csv,
# proxy_ladder.csv, proxy_setup.csv and sync_round.csv.  The raw lines are kept in
# proxy_bench.txt.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
OUT=${EV_OUT:?}
RAW=$OUT/proxy_bench.txt
cd "$ROOT"
if [ "${EV_QUICK:-0}" = 1 ]; then
	BENCH_QUICK=1 BENCH_EXTRA_CASES=" " BENCH_TB_PREFIX=evb$$- \
		tests/bench/bench_proxy.sh >"$RAW" 2>"$OUT/proxy_bench.err" || true
	RECORDS=1000,10000
else
	BENCH_TB_PREFIX=evb$$- tests/bench/bench_proxy.sh >"$RAW" 2>"$OUT/proxy_bench.err" || true
	RECORDS=1000,10000,100000
fi
build/bench/bench_sync --records $RECORDS --trials "$( [ "${EV_QUICK:-0}" = 1 ] && echo 1 || echo 3)" \
	>>"$RAW" 2>>"$OUT/proxy_bench.err" || true
python3 "$D/bench_csv.py" "$RAW" "$OUT"
echo "eval_proxy: done"
