#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A device moved from one proxy to another mid-flood stays flagged (issue 11): two synced
# proxies; one device floods the victim at 1000 pps (T_F1 100 pps) through proxy 0 for 3 s,
# then through proxy 1 for 3 s.  Proxy 0 holds it at T_F1.  With sync, proxy 1 reads the
# device's handoff record (the windows of its heavy pairs, written by proxy 0) in its first
# round after the device's first packet there and judges the pair by that window: it admits
# about one period's worth, then T_F1.  Without sync proxy 1 starts a fresh window and admits
# the flood whole for T_T2.  Under the fcfs policy, whose pair check is Algorithm 2's window
# (under fair the pair limiter holds T_F1 from the first packet on any proxy: nothing to carry).
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init proxy_handoff

NP=2
RATE=1000
D=3
TF1=100
TT2=1000
PERIOD=100
ARGS=(--queues 0 --dst-policy fcfs --tf1 $TF1 --tf2 100000 --tt2-ms $TT2 --tt3-ms $TT2 --tick-ms 50)

export TB_PROXIES=$NP TB_QUEUES=1
tb_up || xpi_die "tb_up"
xpi_provision 4
xps_master_start

# run TAG [PROXY ARGS]: the flood through proxy 0, then through proxy 1.
run()
{
	local tag=$1
	shift
	xps_start_proxies $NP "${ARGS[@]}" "$@"
	xpi_sink "vic_$tag" victim 9000
	xpi_gen_bg "ga_$tag" dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 \
		--flows 1 --rate $RATE --count $((RATE * D)) -x "$(tb_addr proxy0):7447" \
		--dst "$VICTIM_ADDR:9000"
	xpi_wait "ga_$tag"
	xpi_gen_bg "gb_$tag" dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 \
		--flows 1 --rate $RATE --count $((RATE * D)) -x "$(tb_addr proxy1):7447" \
		--dst "$VICTIM_ADDR:9000"
	xpi_wait "gb_$tag"
	xps_settle $NP
	xps_stop_proxies $NP
	for ((i = 0; i < NP; i++)); do
		mv "$XPI_T/proxy$i.json" "$XPI_T/p${i}_$tag.json"
	done
	xpi_stop "vic_$tag"
}

run on --redis "$MASTER_ADDR:$MASTER_PORT" --sync-ms $PERIOD
run off --proxy-id unused

for tag in on off; do
	xpi_report "f'sync $tag: proxy 0 admitted {verd(p0_$tag, \"PASS\")} of {ga_$tag.sent}, proxy 1 {verd(p1_$tag, \"PASS\")} of {gb_$tag.sent} in {gb_$tag.duration_s:.1f} s (T_F1 {$TF1} pps, T_T2 {$TT2} ms); proxy 1 took {p1_$tag.sync.pairs_applied if p1_$tag.sync else 0} windows over'" \
		"ga_$tag" "gb_$tag" "p0_$tag" "p1_$tag"
done
xpi_check "generators sent everything, both runs" \
	"all(g.sent == $((RATE * D)) and g.errors == 0 for g in (ga_on, gb_on, ga_off, gb_off))" \
	ga_on gb_on ga_off gb_off
xpi_check "proxy 0 held the device near T_F1 in both runs" \
	"all(verd(p, 'PASS') <= $TF1 * g.duration_s + $RATE * $TT2 / 1000 + $TF1 for p, g in ((p0_on, ga_on), (p0_off, ga_off)))" \
	p0_on p0_off ga_on ga_off
xpi_check "sync on: proxy 1 took the device's window over from its handoff record" \
	"p1_on.sync.pairs_applied >= 1 and p1_on.sync.state == 'up'" p1_on
xpi_check "sync on: proxy 1 admitted at most one period and a half of the flood, then T_F1" \
	"verd(p1_on, 'PASS') <= $RATE * 1.5 * $PERIOD / 1000 + $TF1 * gb_on.duration_s" p1_on gb_on
xpi_check "sync off: proxy 1 started afresh and let the flood through for T_T2" \
	"verd(p1_off, 'PASS') >= 0.9 * $RATE * $TT2 / 1000" p1_off
xpi_finish
