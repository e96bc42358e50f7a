#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# When the master misbehaves (issue 4, tests 4 and 5), on real processes: three proxies under
# the distributed attack of test_proxy_sync.sh.
#
#   1. The master (append-only file, fsync always) is killed (SIGKILL) for ten seconds
#      mid-attack and restarted from its file: no proxy crashes, every proxy keeps filtering
#      with its last global view, and after reconnection the master's per-proxy totals equal
#      the packets each proxy admitted, exactly.
#   2. Between attacks the master is killed, its data wiped, and restarted empty: every proxy
#      notices the new instance and re-seeds it with every live pair, and the new master
#      counts exactly what was admitted since.  (Whether the re-seeded destination window
#      holds the pairs' counts is checked in simulated time, tests/sync/test_round.c: here the
#      idle gap between attacks already dilutes the window below T_F2, re-seeded or not.)
#   3. Start-up: a wrong password is a clear error and the proxy does not start; a master
#      nobody answers for is not fatal (the proxy starts and retries).
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init proxy_sync_outage

NP=3
PER=10
RATE=20
TF2=400
AOF=(--appendonly yes --appendfsync always)

export TB_PROXIES=$NP TB_QUEUES=1
tb_up || xpi_die "tb_up"
xpi_provision $((NP * PER))
xps_master_start "${AOF[@]}"
xps_start_proxies $NP --queues 0 --tf1 100 --tf2 $TF2 --tt3-ms 500 --tick-ms 50 \
	--redis "$MASTER_ADDR:$MASTER_PORT" --sync-ms 100 --redis-timeout-ms 300

# attack TAG SECONDS: the three generators in the background.
attack()
{
	local tag=$1 secs=$2 i
	for ((i = 0; i < NP; i++)); do
		xpi_gen_bg "g${i}_$tag" dev --mode paced -P "$XPI_PROV" --dev-first $((i * PER)) \
			--dev-count $PER --flows $PER --rate $RATE --count $((PER * RATE * secs)) \
			--sockets 4 -x "$(tb_addr proxy$i):7447" --dst "$VICTIM_ADDR:9000"
	done
}

attack_wait()
{
	local i
	for ((i = 0; i < NP; i++)); do
		xpi_wait "g${i}_$1"
	done
	xps_settle $NP
	sleep 0.5 # a few more rounds: nothing left pending
}

# snap TAG: every proxy's status file as it is now, as p<i>_TAG.json.
snap()
{
	local i
	for ((i = 0; i < NP; i++)); do
		cp "$XPI_T/proxy$i.json" "$XPI_T/p${i}_$1.json"
	done
}

# totals TAG: the master's per-proxy totals, as TAG.json {"p0": n, ...}.
totals()
{
	local i sep="" out="{"
	for ((i = 0; i < NP; i++)); do
		out+="$sep\"p$i\": $(xps_cli HGET "xpro:p:{p$i}" total | tr -cd 0-9 || true)"
		sep=", "
	done
	echo "$out}" | sed 's/: }/: null}/; s/: ,/: null,/g' >"$XPI_T/$1.json"
}

xpi_sink vic victim 9000

# --- 1. killed for ten seconds mid-attack, restarted from its append-only file ---------
attack a 16
sleep 3
snap before_kill
xps_master_kill
sleep 10
snap during
xps_master_start "${AOF[@]}"
attack_wait a
snap after_a
totals master_a

P="p0 p1 p2"
xpi_report "f'outage: DROP_DST per proxy before the kill {[verd(b, \"DROP_DST\") for b in (p0_before_kill, p1_before_kill, p2_before_kill)]}, after 10 s without master {[verd(d, \"DROP_DST\") for d in (p0_during, p1_during, p2_during)]}; sync state during {[d.sync.state for d in (p0_during, p1_during, p2_during)]}, pending packets {[d.sync.pending_packets for d in (p0_during, p1_during, p2_during)]}'" \
	p0_before_kill p1_before_kill p2_before_kill p0_during p1_during p2_during
xpi_report "f'after: state {[a.sync.state for a in (p0_after_a, p1_after_a, p2_after_a)]}, outages {[a.sync.outages for a in (p0_after_a, p1_after_a, p2_after_a)]}, failed rounds {[a.sync.rounds_failed for a in (p0_after_a, p1_after_a, p2_after_a)]}; admitted (PASS) {[verd(a, \"PASS\") for a in (p0_after_a, p1_after_a, p2_after_a)]}, master totals {[master_a[k] for k in (\"p0\", \"p1\", \"p2\")]}'" \
	p0_after_a p1_after_a p2_after_a master_a
alive=0
for ((i = 0; i < NP; i++)); do
	xpi_alive "proxy$i" && alive=$((alive + 1))
done
xpi_check "no proxy crashed during the outage" "$alive == $NP"
xpi_check "without the master every proxy saw it down and kept its deltas" \
	"all(d.sync.state == 'down' and d.sync.outages >= 1 for d in (p0_during, p1_during, p2_during))" \
	p0_during p1_during p2_during
xpi_check "filtering went on during the outage (DROP_DST grew)" \
	"sum(verd(d, 'DROP_DST') - verd(b, 'DROP_DST') for d, b in ((p0_during, p0_before_kill), (p1_during, p1_before_kill), (p2_during, p2_before_kill))) > 0" \
	p0_during p1_during p2_during p0_before_kill p1_before_kill p2_before_kill
xpi_check "after reconnection every proxy is up, nothing pending" \
	"all(a.sync.state == 'up' and a.sync.pending_packets == 0 for a in (p0_after_a, p1_after_a, p2_after_a))" \
	p0_after_a p1_after_a p2_after_a
xpi_check "the master's totals equal what each proxy admitted, exactly" \
	"all(master_a[f'p{i}'] == verd(a, 'PASS') == a.sync.packets_merged for i, a in enumerate((p0_after_a, p1_after_a, p2_after_a)))" \
	p0_after_a p1_after_a p2_after_a master_a

# --- 2. restarted empty between attacks: re-seeded ---------------------------------------
snap idle
xps_master_kill
rm -rf "$XPI_T/redis"
xps_master_start
sleep 1.5
snap reseeded
attack b 4
attack_wait b
snap after_b
totals master_b
xpi_report "f'empty master: re-seeds {[b.sync.reseeds for b in (p0_after_b, p1_after_b, p2_after_b)]}; DROP_DST in the next attack {[verd(b, \"DROP_DST\") - verd(a, \"DROP_DST\") for b, a in ((p0_after_b, p0_after_a), (p1_after_b, p1_after_a), (p2_after_b, p2_after_a))]}; new master totals {[master_b[k] for k in (\"p0\", \"p1\", \"p2\")]}'" \
	p0_after_b p1_after_b p2_after_b p0_after_a p1_after_a p2_after_a master_b
xpi_check "every proxy re-seeded the new master once" \
	"all(b.sync.reseeds == 1 and b.sync.state == 'up' for b in (p0_after_b, p1_after_b, p2_after_b))" \
	p0_after_b p1_after_b p2_after_b
xpi_check "the re-seed carried every live destination to the new master" \
	"all(r.sync.dsts_sent - i.sync.dsts_sent >= i.engine.dsts > 0 for r, i in ((p0_reseeded, p0_idle), (p1_reseeded, p1_idle), (p2_reseeded, p2_idle)))" \
	p0_reseeded p1_reseeded p2_reseeded p0_idle p1_idle p2_idle
xpi_check "the new master holds every proxy's whole total again, exactly (totals are absolute)" \
	"all(master_b[f'p{i}'] == verd(b, 'PASS') == b.sync.packets_merged > verd(a, 'PASS') for i, (b, a) in enumerate(((p0_after_b, p0_after_a), (p1_after_b, p1_after_a), (p2_after_b, p2_after_a))))" \
	p0_after_b p1_after_b p2_after_b p0_after_a p1_after_a p2_after_a master_b
xps_stop_proxies $NP
xpi_stop vic
# Seconds 4-12 of attack a: the master was away.  The proxies' own views alone (200 pps each,
# under T_F2) would let all 600 pps through; the last global view holds the victim near T_F2.
xpi_report "f'victim per second during attack a (master away from ~3 s to ~13 s): {vic.per_window[:17]}'" vic
xpi_check "while the master was away the victim stayed near T_F2 (seconds 4-12: mean <= 1.15 x T_F2)" \
	"sum(vic.per_window[4:12]) / 8 <= 1.15 * $TF2" vic

# --- 3. start-up errors -------------------------------------------------------------------
rc=0
tb_exec proxy0 "$PROXY" -i eth0 -P "$XPI_PROV" --redis "$MASTER_ADDR:$MASTER_PORT" \
	--redis-password wrong --proxy-id p9 2>"$XPI_T/badpass.err" || rc=$?
xpi_report "f'wrong password: exit {$rc}: {open(\"$XPI_T/badpass.err\").read().strip().splitlines()[-1]}'"
xpi_check "a wrong password stops the proxy at start-up with Redis's words" \
	"$rc != 0 and 'AUTH' in open('$XPI_T/badpass.err').read()"
XPI_PROXY_ROLE=proxy0 XPI_PROXY_NAME=lonely xpi_start_proxy --queues 0 --proxy-id p8 \
	--redis "198.18.0.251:$MASTER_PORT" --redis-timeout-ms 200
sleep 1
XPI_PROXY_NAME=lonely xpi_stop_proxy
xpi_check "a master nobody answers for is not fatal: the proxy ran, sync down, said so" \
	"lonely.sync.state == 'down' and 'retrying' in open('$XPI_T/lonely.err').read()" lonely
xpi_finish
