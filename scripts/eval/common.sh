#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the experiment scripts of scripts/eval/: source after `set -euo pipefail`.
# The namespace harness is scripts/lib/ (harness.sh, sync_harness.sh), the one the demo and
# the integration tests use.  EV_OUT: where the CSV files go; EV_QUICK=1: fewer points, shorter.
EV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EV_ROOT=$(cd "$EV_DIR/../.." && pwd)
EV_OUT=${EV_OUT:?EV_OUT: the CSV directory}
EV_QUICK=${EV_QUICK:-0}
mkdir -p "$EV_OUT"
# shellcheck source=scripts/lib/harness.sh
source "$EV_ROOT/scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$EV_ROOT/scripts/lib/sync_harness.sh"
export TB_PREFIX=${TB_PREFIX:-ev$$-}

# ev_q QUICK FULL: the value for this run.
ev_q()
{
	if [ "$EV_QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi
}

# ev_sampler NAME [sample.py args]: per-second samples into $XPI_T/NAME.csv until ev_sampler_end.
ev_sampler()
{
	local name=$1
	shift
	rm -f "$XPI_T/stop_sample"
	python3 "$EV_DIR/sample.py" "$XPI_T/$name.csv" "$XPI_T/stop_sample" "$@" &
	EV_SAMPLER=$!
}

ev_sampler_end()
{
	touch "$XPI_T/stop_sample"
	wait "$EV_SAMPLER" || true
	rm -f "$XPI_T/stop_sample"
}
