#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# xproctl against a running proxy: every command's output checked against counters the test
# knows (what it sent, what it provisioned), `set tf1` taking effect on traffic without a
# restart, `flag` dropping a pair in XDP at once and `unflag` restoring it; `devices N` and
# `dst ADDR` showing one device's and one destination's state (device 5: 50 forged messages).
#
#   device 1 -> victim     200 packets at 100 pps       status / top / the stats file
#   device 2 -> bystander  100 pps for 4 s; T_F1 lowered from 1000 to 20 while it runs
#   device 3 -> victim     100 packets while flagged by hand, 100 more after unflag
#
# T_T1 is long (60 s) so that pairs are neither reclaimed nor restarted during the test, and
# the hold (60 s) outlasts it, so what is flagged stays flagged until unflagged.
set -euo pipefail
export TB_PREFIX=${TB_PREFIX:-xc$$-}
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init xproctl

CTL=$XPI_ROOT/build/xproctl
[ -x "$CTL" ] || xpi_die "$CTL missing (make all)"
SOCK=$XPI_T/ctl.sock

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 6
xpi_bpffs
xpi_start_proxy --queues 0-1 --tf1 1000 --tt2-ms 200 --tt1-ms 60000 --hold-ms 60000 \
	--ctl-socket "$SOCK"

# ctl NAME ARGS...: xproctl --json ARGS into $XPI_T/NAME.json; its stderr in NAME.err.
ctl()
{
	local name=$1
	shift
	"$CTL" -s "$SOCK" --json "$@" >"$XPI_T/$name.json" 2>"$XPI_T/$name.err"
}

# The socket: root's only.
xpi_check "the control socket is a socket of mode 0600 owned by root" \
	"__import__('os').stat('$SOCK').st_mode & 0o777 == 0o600 and __import__('os').stat('$SOCK').st_uid == 0 and __import__('stat').S_ISSOCK(__import__('os').stat('$SOCK').st_mode)"

ctl dev0 devices || xpi_die "xproctl devices"
xpi_check "devices: 6 provisioned, 6 active, nothing rejected" \
	'dev0.ok and dev0.provisioned == 6 and dev0.active == 6 and sum(dev0.rejected.values()) == 0' dev0
ctl st0 status || xpi_die "xproctl status"
xpi_check "status before traffic: 2 workers on queues 0 and 1, rx 0" \
	'[w.queue for w in st0.workers] == [0, 1] and st0.rx_packets == 0 and all(w.mode in ("copy", "zero-copy") for w in st0.workers)' st0

# --- status and top against what was sent ---
xpi_gen d1 dev --mode paced -P "$XPI_PROV" --dev-first 1 --dev-count 1 --flows 1 --rate 100 \
	--count 200 --dst "$VICTIM_ADDR:9000"
xpi_settle
ctl st1 status || xpi_die "xproctl status"
xpi_check "status: rx == 200 sent, all PASS, XDP redirected them" \
	'd1.sent == 200 and st1.rx_packets == 200 and st1.verdicts.PASS == 200 and st1.xdp_packets.redirect == 200' d1 st1
xpi_check "status agrees with the status file (rx per queue)" \
	'[w.rx_packets for w in st1.workers] == [w.rx_packets for w in s.workers]' st1 s="$XPI_STATS"
xpi_check "status and the status file: one schema (the same members, the same in a worker)" \
	'sorted(k for k in st1 if k != "ok") == sorted(s) and sorted(st1.workers[0]) == sorted(s.workers[0]) and sorted(st1.engine) == sorted(s.engine)' st1 s="$XPI_STATS"
xpi_check "status: engine holds one pair, one destination, one device" \
	'(st1.engine.pairs, st1.engine.dsts, st1.engine.devs) == (1, 1, 1)' st1
ctl top1 top 5 || xpi_die "xproctl top"
xpi_check "top: the pair (1, victim) with its 200 packets, heaviest destination and device" \
	"[(p.dev, p.dst, p.count) for p in top1.pairs] == [(1, '$VICTIM_ADDR', 200)] and top1.dsts[0].dst == '$VICTIM_ADDR' and top1.dsts[0].count == 200 and top1.devs[0].dev == 1" top1
"$CTL" -s "$SOCK" status >"$XPI_T/human.txt" || xpi_die "xproctl status (table)"
xpi_check "status as a table: the rx total, the workers table with its mode column" \
	"__import__('re').search(r'^rx_packets +200$', open('$XPI_T/human.txt').read(), 8) and 'workers:' in open('$XPI_T/human.txt').read() and 'mode' in open('$XPI_T/human.txt').read()"

# --- set: T_F1 lowered under a running flow ---
xpi_gen_bg d2 dev --mode paced -P "$XPI_PROV" --dev-first 2 --dev-count 1 --flows 1 \
	--rate 100 --duration 4000 --dst "$BYSTANDER_ADDR:9001"
xpi_wait_for "device 2's flow passes under T_F1 1000" 10 \
	xpi_true 'verd(s, "PASS") >= 250' s="$XPI_STATS"
ctl before_set status
ctl set_bad set tf1 abc || true
xpi_check "set tf1 abc: refused with the configuration file's message" \
	"set_bad.ok is False and set_bad.error == \"tf1: bad value 'abc' (not a number)\"" set_bad
ctl set_fixed set iface eth1 || true
xpi_check "set iface: refused, not a runtime key" \
	"set_fixed.ok is False and 'cannot change at run time' in set_fixed.error" set_fixed
ctl set_ok set tf1 20 || xpi_die "xproctl set tf1 20: $(cat "$XPI_T/set_ok.err")"
xpi_check "set tf1 20: accepted and reported" "set_ok.ok and 'tf1 1000 -> 20' in set_ok.changed" set_ok
xpi_wait_for "DROP_PAIR after T_F1 was lowered" 10 xpi_true 'verd(s, "DROP_PAIR") >= 1' s="$XPI_STATS"
xpi_wait d2
xpi_settle
ctl st2 status
ctl fl2 flagged
xpi_check "no DROP_PAIR before set; DROP_PAIR after, for device 2's pair only (flagged)" \
	"before_set.verdicts.DROP_PAIR == 0 and st2.verdicts.DROP_PAIR >= 1 and [(f.dev, f.dst) for f in fl2.flagged] == [(2, '$BYSTANDER_ADDR')]" before_set st2 fl2
xpi_check "status shows the new threshold" 'st2.thresholds.tf1 == 20' st2
xpi_check "flagged: expiry within the hold, XDP drops counted for the pair" \
	"0 < fl2.flagged[0].expires_ms <= 60000 and fl2.flagged[0].xdp_drops == st2.xdp_packets.drop_flagged" fl2 st2

ctl set_back set tf1 1000 || xpi_die "xproctl set tf1 1000"

# --- one device, one destination ---
xpi_gen bad5 dev --mode bad --kind bad-mac -P "$XPI_PROV" --dev-first 5 --dev-count 1 --flows 1 \
	--rate 200 --count 50
xpi_settle
ctl dv2 devices 2 || xpi_die "xproctl devices 2: $(cat "$XPI_T/dv2.json")"
ctl dv5 devices 5 || xpi_die "xproctl devices 5"
ctl dst2 dst "$BYSTANDER_ADDR" || xpi_die "xproctl dst: $(cat "$XPI_T/dst2.json")"
ctl fl2b flagged
xpi_check "devices 2: its prefix, an epoch, nothing rejected, its one pair flagged with the drop-map's expiry and drops" \
	"dv2.prefix == '198.18.64.2/32' and dv2.active and dv2.epoch is not None and sum(dv2.rejected.values()) == 0 and [(p.dst, p.state) for p in dv2.pairs] == [('$BYSTANDER_ADDR', 'flagged')] and dv2.pairs[0].xdp_drops == [f.xdp_drops for f in fl2b.flagged if f.dev == 2][0] and 0 < dv2.pairs[0].expires_ms <= 60000 and dv2.pairs[0].count > 0" dv2 fl2b
xpi_check "devices 5: its forged messages counted on it as MAC, its one valid message a pair that passes" \
	"bad5.valid == 1 and bad5.kinds['bad-mac'] == bad5.sent - 1 >= 40 and dv5.rejected.MAC == sum(dv5.rejected.values()) == bad5.kinds['bad-mac'] and [(p.dst, p.count, p.state) for p in dv5.pairs] == [('$VICTIM_ADDR', 1, 'pass')] and dv5.epoch == bad5.epoch and dv5.last_packet_ms is not None" bad5 dv5
xpi_check "dst bystander: one local pair, device 2 its top sender (flagged), no global view without sync" \
	"dst2.dst == '$BYSTANDER_ADDR' and dst2.local.pairs == 1 and dst2.local.count > 0 and [(p.dev, p.state) for p in dst2.top] == [(2, 'flagged')] and dst2['global'] is None and dst2.policy == 'fair' and dst2.tf2 == 10000" dst2
ctl dvnone devices 99 || true
ctl dstnone dst 198.18.200.200 || true
ctl dstbad dst nonsense || true
xpi_check "devices 99, dst of an address never seen, dst of a non-address: clear errors" \
	"dvnone.ok is False and dvnone.error == 'device 99 is not provisioned' and dstnone.ok is False and 'no live record for destination 198.18.200.200' in dstnone.error and dstbad.ok is False and dstbad.error.startswith('usage: dst ADDR')" dvnone dstnone dstbad
"$CTL" -s "$SOCK" devices 2 >"$XPI_T/dv2.txt" || xpi_die "xproctl devices 2 (table)"
xpi_check "devices 2 as a table: the pair's row with its state" \
	"'flagged' in open('$XPI_T/dv2.txt').read() and '$BYSTANDER_ADDR' in open('$XPI_T/dv2.txt').read()"
ctl st2 status # the baseline of what follows

# --- flag by hand: XDP drops the pair at once, the workers never see it ---
ctl flag3 flag 3 "$VICTIM_ADDR" 60 || xpi_die "xproctl flag: $(cat "$XPI_T/flag3.json")"
xpi_gen d3 dev --mode paced -P "$XPI_PROV" --dev-first 3 --dev-count 1 --flows 1 --rate 100 \
	--count 100 --dst "$VICTIM_ADDR:9000"
xpi_settle
ctl st3 status
ctl fl3 flagged
xpi_check "flag: all 100 packets dropped in XDP (drop_flagged +100), the workers saw none" \
	'st3.xdp_packets.drop_flagged - st2.xdp_packets.drop_flagged == 100 and st3.rx_packets == st2.rx_packets' st2 st3
xpi_check "flagged lists (3, victim) with its 100 XDP drops" \
	"[(f.dev, f.dst, f.xdp_drops) for f in fl3.flagged if f.dev == 3] == [(3, '$VICTIM_ADDR', 100)]" fl3
ctl unflag3 unflag 3 "$VICTIM_ADDR" || xpi_die "xproctl unflag"
ctl unflag_again unflag 3 "$VICTIM_ADDR" || true
xpi_check "unflag twice: the second says it is not flagged" \
	"unflag3.ok and unflag_again.ok is False and 'not flagged' in unflag_again.error" unflag3 unflag_again
xpi_gen d3b dev --mode paced -P "$XPI_PROV" --dev-first 3 --dev-count 1 --flows 1 --rate 100 \
	--count 100 --seq-start 100000 --dst "$VICTIM_ADDR:9000"
xpi_settle
ctl st4 status
xpi_check "unflag: the next 100 packets reach the workers and pass" \
	'st4.rx_packets - st3.rx_packets == 100 and st4.verdicts.PASS - st3.verdicts.PASS == 100 and st4.xdp_packets.drop_flagged == st3.xdp_packets.drop_flagged' st3 st4

# --- reload, bad requests, no proxy ---
ctl rl reload || xpi_die "xproctl reload"
xpi_check "reload: accepted, and it says what it applied" \
	"rl.ok and 'devices provisioned from' in rl.changed" rl
cp "$XPI_PROV" "$XPI_T/prov.good"
printf '1 zz 198.18.64.1/32\n' >>"$XPI_PROV"
rc=0
ctl rlbad reload || rc=$?
cp "$XPI_T/prov.good" "$XPI_PROV"
xpi_check "reload of a broken provisioning file: exit 1, the reason, the devices kept" \
	"$rc == 1 and rlbad.ok is False and 'bad secret' in rlbad.error and 'previous devices stay' in rlbad.error" rlbad
ctl bad frobnicate || true
xpi_check "an unknown command: a clear error" "bad.ok is False and 'unknown request' in bad.error" bad
xpi_stop_proxy
rc=0
"$CTL" -s "$SOCK" status >/dev/null 2>"$XPI_T/down.err" || rc=$?
xpi_check "no proxy: exit 1 and 'no proxy listening'" \
	"$rc == 1 and open('$XPI_T/down.err').read() == 'xproctl: $SOCK: no proxy listening (is xpro-proxy running?)\n'"
xpi_finish
