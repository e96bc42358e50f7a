#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment 1, victim protection over time.  One proxy; a botnet attacks the victim while
# legitimate devices talk to the victim (port 9002) and the bystander (9001).  The bots:
# NLOW at RLOW pps each (under T_F1: only the destination check can stop them) and NHEAVY
# at RHEAVY pps (over T_F1: flagged, then dropped in XDP).  Timeline: PRE s of legitimate
# traffic alone, ATK s of attack, POST s of legitimate traffic alone.  The same traffic
# four times:
#   none   the proxy with thresholds so high that nothing drops (plain forwarding)
#   nft    the same proxy plus an nftables meter in front of the victim (netdev ingress of
#          the victim's eth0), keyed as Algorithm 2: ip saddr . ip daddr over T_F1/s, ip
#          daddr over T_F2/s (the decapsulated traffic: the inner source is the device)
#   fcfs   the proxy with T_F1, T_F2 and the paper's Algorithm 2 (--dst-policy fcfs)
#   fair   the proxy with T_F1, T_F2 and the fair share (--dst-policy fair, the default)
# Writes victim_ts.csv (per second), victim_sum.csv (per mode) and victim_classes.csv (the
# fraction of its packets each class of device got through, per mode).
set -euo pipefail
# shellcheck source=scripts/eval/common.sh
source "$(dirname "$0")/common.sh"
xpi_init eval_victim

TF1=100
TF2=1000
NLOW=$(ev_q 60 180)
RLOW=$(ev_q 30 15)
NHEAVY=$(ev_q 5 20)
RHEAVY=$(ev_q 300 150)
NLEG=10
RLEG=10
PRE=$(ev_q 1 2)
ATK=$(ev_q 3 10)
POST=$(ev_q 1 2)
TOTAL_MS=$(((PRE + ATK + POST) * 1000))
LEG0=$((NLOW + NHEAVY))

export TB_QUEUES=1
tb_up >/dev/null || xpi_die "tb_up"
xpi_provision $((LEG0 + 2 * NLEG))

NFT="table netdev evm {
	counter pair_drop { }
	counter dst_drop { }
	set evpair { type ipv4_addr . ipv4_addr; size 65535; flags dynamic,timeout; timeout 10s; }
	set evdst { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 10s; }
	chain ingress {
		type filter hook ingress device \"eth0\" priority 0; policy accept;
		ip protocol udp update @evpair { ip saddr . ip daddr limit rate over $TF1/second } counter name \"pair_drop\" drop
		ip protocol udp update @evdst { ip daddr limit rate over $TF2/second } counter name \"dst_drop\" drop
	}
}"

run()
{
	local m=$1
	shift
	xpi_start_proxy --queues 0 "$@"
	xpi_sink "va_$m" victim 9000
	xpi_sink "vl_$m" victim 9002
	xpi_sink "by_$m" bystander 9001
	if [ "$m" = nft ]; then
		echo "$NFT" | tb_exec victim nft -f - || xpi_die "nft"
		ev_sampler "s_$m" --stats "$XPI_STATS" --nft "$(tb_ns victim)" evm
	else
		ev_sampler "s_$m" --stats "$XPI_STATS"
	fi
	xpi_gen_bg "gl_$m" dev --mode paced -P "$XPI_PROV" --dev-first $LEG0 --dev-count $NLEG \
		--flows $NLEG --flow-base 1000 --rate $RLEG --duration $TOTAL_MS --dst "$VICTIM_ADDR:9002"
	xpi_gen_bg "gb_$m" dev --mode paced -P "$XPI_PROV" --dev-first $((LEG0 + NLEG)) \
		--dev-count $NLEG --flows $NLEG --flow-base 2000 --rate $RLEG --duration $TOTAL_MS \
		--dst "$BYSTANDER_ADDR:9001"
	sleep "$PRE"
	xpi_gen_bg "ga_$m" dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count "$NLOW" \
		--flows "$NLOW" --rate "$RLOW" --duration $((ATK * 1000)) --sockets 8 --dst "$VICTIM_ADDR:9000"
	xpi_gen_bg "gh_$m" dev --mode paced -P "$XPI_PROV" --dev-first "$NLOW" --dev-count "$NHEAVY" \
		--flows "$NHEAVY" --flow-base 500 --rate "$RHEAVY" --duration $((ATK * 1000)) --sockets 4 \
		--dst "$VICTIM_ADDR:9000"
	for g in ga gh gl gb; do
		xpi_wait "${g}_$m"
	done
	xpi_settle
	ev_sampler_end
	xpi_stop_proxy
	mv "$XPI_T/proxy.json" "$XPI_T/p_$m.json"
	for s in va vl by; do
		xpi_stop "${s}_$m"
	done
	[ "$m" = nft ] && tb_exec victim nft delete table netdev evm
	return 0
}

BIG=1000000000
run none --tf1 $BIG --tf2 $BIG
run nft --tf1 $BIG --tf2 $BIG
run fcfs --tf1 $TF1 --tf2 $TF2 --dst-policy fcfs
run fair --tf1 $TF1 --tf2 $TF2 --dst-policy fair

python3 - "$XPI_T" "$EV_OUT" <<PY
import csv, json, os, sys
t, out = sys.argv[1], sys.argv[2]
def j(n):
    with open(os.path.join(t, n + ".json")) as f:
        return json.load(f)
def verd(s, v):
    return sum(w["verdicts"][v] for w in s["workers"])
ts = open(os.path.join(out, "victim_ts.csv"), "w", newline="")
tw = csv.writer(ts)
tw.writerow(["mode", "t", "attack_at_victim", "legit_at_victim", "legit_at_bystander",
             "drop_xdp", "drop_pair", "drop_dst", "drop_nft_pair", "drop_nft_dst"])
sm = csv.writer(open(os.path.join(out, "victim_sum.csv"), "w", newline=""))
sm.writerow(["mode", "pre_s", "bots_low", "rate_low", "bots_heavy", "rate_heavy", "attack_s",
             "tf1", "tf2", "attack_offered", "attack_at_victim", "legit_victim_offered",
             "legit_at_victim", "legit_bystander_offered", "legit_at_bystander", "drop_xdp",
             "drop_pair", "drop_dst", "drop_nft_pair", "drop_nft_dst", "flagged",
             "low_offered", "low_at_victim", "heavy_offered", "heavy_at_victim"])
cl = csv.writer(open(os.path.join(out, "victim_classes.csv"), "w", newline=""))
cl.writerow(["mode", "legitimate to victim", "legitimate to bystander",
             "low-rate bots (under T_F1)", "heavy bots (over T_F1)"])
for m in ("none", "nft", "fcfs", "fair"):
    va, vl, by = j("va_" + m), j("vl_" + m), j("by_" + m)
    rows = list(csv.DictReader(open(os.path.join(t, "s_%s.csv" % m))))
    n = max(len(va["per_window"]), len(vl["per_window"]), len(by["per_window"]), len(rows))
    g = lambda l, i: l[i] if i < len(l) else 0
    # Sample i is taken i seconds after the sampler started (just after the receivers):
    # the drops of second i are sample i + 1 minus sample i.
    at = lambda i: rows[min(i, len(rows) - 1)] if rows else {}
    for i in range(n):
        a, b = at(i), at(i + 1)
        d = {k: int(b[k]) - int(a[k]) for k in a if k != "t"}
        tw.writerow([m, i, g(va["per_window"], i), g(vl["per_window"], i),
                     g(by["per_window"], i), d.get("xdp_drop_flagged", 0),
                     d.get("drop_pair", 0), d.get("drop_dst", 0), d.get("nft_pair_drop", 0),
                     d.get("nft_dst_drop", 0)])
    last = rows[-1] if rows else {}
    p = j("p_" + m)
    ga, gh, gl, gb = j("ga_" + m), j("gh_" + m), j("gl_" + m), j("gb_" + m)
    # The heavy bots' flows start at id 500 (--flow-base), the low-rate ones at 0.
    heavy = sum(f["received"] for f in va.get("flow_list", []) if (f.get("flow") or 0) >= 500)
    low = va["received"] - heavy
    sm.writerow([m, $PRE, $NLOW, $RLOW, $NHEAVY, $RHEAVY, $ATK, $TF1, $TF2, ga["sent"] + gh["sent"],
                 va["received"], gl["sent"], vl["received"], gb["sent"], by["received"],
                 (p.get("xdp_packets") or {}).get("drop_flagged", 0), verd(p, "DROP_PAIR"),
                 verd(p, "DROP_DST"), int(last.get("nft_pair_drop", 0)),
                 int(last.get("nft_dst_drop", 0)), sum(w["pairs_flagged"] for w in p["workers"]),
                 ga["sent"], low, gh["sent"], heavy])
    frac = lambda a, b: "%.4f" % (a / b if b else 0)
    cl.writerow([m, frac(vl["received"], gl["sent"]), frac(by["received"], gb["sent"]),
                 frac(low, ga["sent"]), frac(heavy, gh["sent"])])
PY
echo "eval_victim: done"
