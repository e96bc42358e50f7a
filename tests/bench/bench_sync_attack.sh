#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Time from the start of a distributed attack to the first drop on every proxy, as a function
# of the sync period t (issue 4).  Real processes on the namespace testbed: a Redis master,
# three proxies, thirty bots spread over them (200 pps per proxy, 600 pps in all, T_F2 400,
# T_T3 500 ms).  No proxy alone sees the victim over T_F2: every drop comes from the shared
# view.  The destination's window is judged only once it is T_T3 long, so the first drop
# cannot come before T_T3; what t adds is the wait for the round that tells each proxy.
#
#   tests/bench/bench_sync_attack.sh            t = 20 50 100 200 500 ms
#   BENCH_PERIODS="100" tests/bench/bench_sync_attack.sh
#
# BENCH name=sync_first_drop period_ms=T first_ms=<earliest proxy> all_ms=<last proxy>
#   after_tt3_ms=<all_ms - T_T3> victim_pps=<victim's rate over the attack> tf2=400
# Never fails: a run that cannot happen prints skipped=1 and why.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ] || ! command -v redis-server >/dev/null; then
	echo "BENCH name=sync_first_drop skipped=1 reason=needs-root-and-redis-server"
	exit 0
fi
(
	set -e
	# shellcheck source=scripts/lib/harness.sh
	source "$ROOT/scripts/lib/harness.sh"
	# shellcheck source=scripts/lib/sync_harness.sh
	source "$ROOT/scripts/lib/sync_harness.sh"
	xpi_init bench_sync_attack
	NP=3 PER=10 RATE=20 SECS=3 TF2=400 TT3=500
	export TB_PROXIES=$NP TB_QUEUES=1
	tb_up >/dev/null || xpi_die "tb_up"
	xpi_provision $((NP * PER))
	xps_master_start
	for t in ${BENCH_PERIODS:-20 50 100 200 500}; do
		xps_cli FLUSHALL >/dev/null
		xps_start_proxies $NP --queues 0 --tf1 100 --tf2 $TF2 --tt3-ms $TT3 --tick-ms 20 \
			--redis "$MASTER_ADDR:$MASTER_PORT" --sync-ms "$t" 2>/dev/null
		xpi_sink vic victim 9000
		t0=$(date +%s.%N)
		xps_watch_drops $NP "$t0"
		for ((i = 0; i < NP; i++)); do
			xpi_gen_bg "g$i" dev --mode paced -P "$XPI_PROV" --dev-first $((i * PER)) \
				--dev-count $PER --flows $PER --rate $RATE --count $((PER * RATE * SECS)) \
				--sockets 4 -x "$(tb_addr proxy$i):7447" --dst "$VICTIM_ADDR:9000"
		done
		for ((i = 0; i < NP; i++)); do
			xpi_wait "g$i"
		done
		xps_settle $NP
		xps_watch_end
		xps_stop_proxies $NP
		xpi_stop vic
		xpi_py "'BENCH name=sync_first_drop period_ms=$t first_ms=%s all_ms=%s after_tt3_ms=%s victim_pps=%.0f tf2=$TF2 tt3_ms=$TT3 proxies=$NP' % (((min(f.ms.values()), max(f.ms.values()), max(f.ms.values()) - $TT3) if len(f.ms) == $NP else ('none', 'none', 'none')) + (vic.received / g0.duration_s,))" \
			f="$XPI_T/first_drop.json" vic g0
	done
) || echo "BENCH name=sync_first_drop skipped=1 reason=run-failed"
exit 0
