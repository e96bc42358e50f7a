#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo`: X-Pro on this machine, in network namespaces, for about 20 seconds.  One proxy
# (two queues, two workers) sits between 26 simulated IoT devices and two hosts, a victim and
# a bystander.  Legitimate devices talk to both; three bots flood the victim; a dozen quiet
# bots, each harmless alone, together overload it; a burst of forged and malformed packets
# comes in.  At the end, tables say what each group offered, what arrived, and what was
# dropped where and why.  Everything is removed on exit.  Run as root (make demo does).
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/lib/harness.sh"
export TB_PREFIX=xpdemo$$-
xpi_init demo

# ---- the plan ------------------------------------------------------------------------------
TF1=40       # T_F1: packets/s one device may send to one destination
TT2=200      # T_T2: ms of a pair's window before T_F1 is judged
TF2=250      # T_F2: packets/s all devices together may send to one destination
TT3=1000     # T_T3: ms of a destination's window before T_F2 is judged
TT1=30000    # T_T1: ms a pair may be idle before its window restarts (longer than the demo)
HOLD=60000   # a flagged pair is dropped in XDP this long (longer than the demo)
RUN=20       # seconds of traffic
E=1000       # key epoch (bot 5's two concurrent senders use E and E+1)

LEGIT="0-4"; BOTS="5 6 7"; QUIET="8-19"; BAD="20-24" # device 25: provisioned, inactive
cat <<EOF

X-Pro demo: one proxy between 26 IoT devices and two hosts, for ${RUN} s.

Thresholds of the proxy's filter (the fair policy, the default), small so that the effects
show quickly:
  T_F1 = $TF1 pkt/s   per (device, destination) pair, from its first packet: what a device
                 offers above it is dropped; a pair that keeps it up for 3 s is flagged and
                 the kernel (XDP) drops its packets for $((HOLD / 1000)) s before they reach the workers.
  T_F2 = $TF2 pkt/s  per destination, all devices together, from its first packet.  While a
                 destination is over it, each device gets at most its fair share f of T_F2:
                 a device sending less than f loses nothing, one sending more is held to f.
  (--dst-policy fcfs runs the paper's Algorithm 2 instead: windows T_T2 = $TT2 ms, T_T3 = $TT3 ms,
  the destination's budget first come, first served.)
  (T_T1 = $((TT1 / 1000)) s, longer than the demo: no pair is forgotten while it runs.)

Who sends what (device numbers are provisioning indexes):
  devices $LEGIT    legitimate: 11 pkt/s to the victim and 11 pkt/s to the bystander, each
  bot 5          also legitimate to the bystander (10 pkt/s), all the time
  bots $BOTS     flood the victim at 1000 pkt/s each, from t=3 s to t=13 s
  devices $QUIET   quiet botnet: 35 pkt/s each to the victim (under T_F1), 420 together
  devices $BAD  a burst of malformed, forged and replayed packets (3000/s), t=6 s to t=12 s
The victim is offered 55 + 420 = 475 pkt/s by legitimate and quiet devices: more than T_F2.

EOF

echo "Setting up: namespaces (switch, proxy, devices, victim, bystander), proxy, sinks..."
tb_up 1 2 0 >/dev/null || xpi_die "could not build the testbed"
xpi_provision 26 --inactive-last
xpi_bpffs # the proxy pins its drop-map here, so that we can read it at the end
xpi_start_proxy --queues 0-1 --tf1 $TF1 --tt2-ms $TT2 --tf2 $TF2 --tt3-ms $TT3 \
	--tt1-ms $TT1 --hold-ms $HOLD
xpi_sink vic victim 9000
xpi_sink bys bystander 9001
V="$VICTIM_ADDR:9000"
B="$BYSTANDER_ADDR:9001"
paced() # NAME FIRST COUNT FLOWS RATE DURATION_S FLOW_BASE EPOCH DSTS
{
	xpi_gen_bg "$1" dev --mode paced -P "$XPI_PROV" --dev-first "$2" --dev-count "$3" \
		--flows "$4" --rate "$5" --duration "$(($6 * 1000))" --flow-base "$7" \
		--epoch "$8" --sockets 4 --dst "$9"
}

echo "t=0s   legitimate devices, bot 5's legitimate flow and the quiet botnet start"
paced legit 0 5 10 11 $RUN 0 $E "$V,$B"
paced bot5bys 5 1 1 10 $RUN 100 $E "$B"
paced quiet 8 12 12 35 $RUN 300 $E "$V"
sleep 3
echo "t=3s   bots 5, 6, 7 start flooding the victim"
paced flood 5 3 3 1000 10 200 $((E + 1)) "$V"
sleep 3
echo "t=6s   a burst of bad packets"
# (Among them a few valid messages, about 20/s per device: under T_F1, never flagged.)
xpi_gen_bg bad dev --mode bad --kind all -P "$XPI_PROV" --dev-first 20 --flows 5 \
	--flow-base 400 --rate 3000 --count 18000 --sockets 4 --epoch $E --dst "$B"
sleep 7
echo "t=13s  the flood ends; the rest goes on"
for g in flood bad; do xpi_wait $g; done
sleep $((RUN - 13))
for g in legit bot5bys quiet; do xpi_wait $g; done
echo "t=${RUN}s  all senders done; collecting counters"
xpi_settle
xpi_dropmap dropmap
xpi_stop_proxy
xpi_stop vic
xpi_stop bys

# ---- the report ----------------------------------------------------------------------------
python3 - "$XPI_T" "$VICTIM_ADDR" "$BYSTANDER_ADDR" "$TF1" "$TF2" <<'EOF'
import ipaddress, json, sys

t, vic_addr, bys_addr = sys.argv[1], sys.argv[2], sys.argv[3]
tf1, tf2 = int(sys.argv[4]), int(sys.argv[5])
J = lambda n: json.load(open("%s/%s.json" % (t, n)))
vic, bys, proxy, dm = J("vic"), J("bys"), J("proxy"), J("dropmap")
gens = {n: J(n) for n in ("legit", "bot5bys", "quiet", "flood", "bad")}

def per_flow(g):
    """Packets each flow of a generator sent (all flows of one run send alike)."""
    return g["sent"] / g["flows"] if g["flow_sent_min"] == g["flow_sent_max"] else None

def delivered(sink, flows):
    return sum(f["received"] for f in sink["flow_list"] if f["flow"] in flows)

def xdp_dropped(devs, dst):
    n = 0
    for e in dm["entries"]:
        k, v = e["formatted"]["key"], e["formatted"]["value"]
        a = ipaddress.IPv6Address(bytes(k["dst"]))
        if k["dev"] in devs and str(a.ipv4_mapped or a) == dst:
            n += v["packets"]
    return n

# (label, generator, its flows in this row, devices, destination address, sink)
lg = gens["legit"]
rows = [
    ("legitimate 0-4", "legit", range(0, 5), range(0, 5), vic_addr, vic),
    ("legitimate 0-4", "legit", range(5, 10), range(0, 5), bys_addr, bys),
    ("bot 5 (its legit flow)", "bot5bys", [100], [5], bys_addr, bys),
    ("bot 5 flood", "flood", [200], [5], vic_addr, vic),
    ("bot 6 flood", "flood", [201], [6], vic_addr, vic),
    ("bot 7 flood", "flood", [202], [7], vic_addr, vic),
    ("quiet botnet 8-19", "quiet", range(300, 312), range(8, 20), vic_addr, vic),
    ("bad-packet devs 20-24*", "bad", range(400, 405), range(20, 25), bys_addr, bys),
]
name = {vic_addr: "victim", bys_addr: "bystander"}
tot = [0, 0, 0, 0]
print()
print("What was sent, what arrived, and where the rest was dropped (packets)")
print("  offered: the generators' count; delivered: counted by the receiving host;")
print("  XDP: dropped in the kernel because the pair was flagged (the drop-map's count);")
print("  Alg. 2: dropped by the proxy's filter = offered - delivered - XDP.")
print()
hdr = "  %-24s %-10s %9s %10s %9s %9s %10s" % ("devices", "to", "offered", "delivered",
                                                "XDP", "Alg. 2", "delivered%")
print(hdr)
print("  " + "-" * (len(hdr) - 2))
for label, g, flows, devs, dst, sink in rows:
    gj = gens[g]
    if g == "bad":
        offered = gj["valid"]
    else:
        offered = round(per_flow(gj) * len(flows))
    d = delivered(sink, flows)
    x = xdp_dropped(devs, dst)
    a = offered - d - x
    for i, v in enumerate((offered, d, x, a)):
        tot[i] += v
    print("  %-24s %-10s %9d %10d %9d %9d %9.1f%%" % (label, name[dst], offered, d, x, a,
                                                    100.0 * d / offered if offered else 0))
print("  " + "-" * (len(hdr) - 2))
print("  %-24s %-10s %9d %10d %9d %9d" % ("all", "", *tot))
print("  * the bad-packet devices' valid messages only (see the next table for the bad ones)")

ws = lambda k: sum(w[k] for w in proxy["workers"])
verd = lambda v: sum(w["verdicts"][v] for w in proxy["workers"])
flagged = sorted(e["formatted"]["key"]["dev"] for e in dm["entries"])
pv = verd("DROP_PAIR") + verd("DROP_DST") + verd("DROP_DEVCAP") + verd("DROP_FULL")
ok = lambda a, b: "matches" if a == b else "MISMATCH: lost elsewhere?"
print()
print("  Cross-check with the proxy's own counters:")
print("    XDP dropped %d packets of flagged pairs (column XDP: %d, %s);"
      % (proxy["xdp_packets"]["drop_flagged"], tot[2], ok(proxy["xdp_packets"]["drop_flagged"], tot[2])))
print("    The filter dropped %d (column Alg. 2: %d, %s): %d because the pair was over T_F1"
      % (pv, tot[3], ok(pv, tot[3]), verd("DROP_PAIR")))
print("    (DROP_PAIR; kept up, the pair is flagged), %d over a share of T_F2 (DROP_DST)."
      % verd("DROP_DST"))
print("    Pairs flagged into the XDP drop-map: %d, of devices %s, all to the victim."
      % (len(flagged), ", ".join(map(str, flagged))))
per = vic["per_window"]
print()
print("  The victim received per second: %s" % " ".join(str(x) for x in per))
print("  T_F2 is %d/s, from the first second on: no unjudged window, no silence after it."
      % tf2)
print("  The budget is shared max-min fairly: the legitimate devices send less than the fair")
print("  share, so they lose nothing; the quiet bots, each under T_F1 = %d/s but above the"
      % tf1)
print("  share, are held to it, and so are the floods until their pair is flagged (column XDP).")
print("  What fair cannot do: bots that each send under the share look like legitimate")
print("  devices and still take their part of T_F2.")

# ---- rejected, and why ----
b = gens["bad"]["kinds"]
xdp = proxy["xdp_packets"]
rej = lambda r: sum(w["rejected"][r] for w in proxy["workers"])
print()
print("Bad packets: refused before the filter, never forwarded, never given any state")
print("  %d bad packets of 14 kinds were sent (plus %d valid ones among them)."
      % (sum(b.values()), gens["bad"]["valid"]))
print()
print("  %-44s %-48s %8s" % ("where, and why", "kinds that end there", "packets"))
print("  " + "-" * 102)
lines = [
    ("XDP: malformed tunnel header",
     "truncated, version, type, flags, reserved", xdp["drop_malformed"]),
    ("XDP: device unknown or inactive", "unknown-dev, inactive-dev", xdp["drop_unknown_dev"]),
]
why = {
    "SHORT": ("proxy: too short", ""), "VERSION": ("proxy: bad version", ""),
    "TYPE": ("proxy: unknown type", ""), "FLAGS": ("proxy: unknown flags/reserved", ""),
    "UNKNOWN_DEV": ("proxy: unknown device", ""), "INACTIVE": ("proxy: inactive device", ""),
    "EPOCH": ("proxy: key epoch too old", "wrong-epoch"),
    "REPLAY": ("proxy: replayed sequence number", "replayed"),
    "MAC": ("proxy: tag does not verify (forged/cut)", "bad-mac, truncated (at the tag)"),
    "INNER": ("proxy: inner packet length wrong", "inner-len"),
    "INNER_OPTIONS": ("proxy: inner IPv4 options", "ip-options"),
    "FRAGMENT": ("proxy: inner fragment", "fragment"),
    "SPOOF": ("proxy: inner source not the device's", "spoofed"),
}
for r, (w, k) in why.items():
    if rej(r):
        lines.append((w, k, rej(r)))
for w, k, n in lines:
    print("  %-44s %-48s %8d" % (w, k, n))
total = sum(n for _, _, n in lines)
print("  " + "-" * 102)
print("  %-44s %-48s %8d" % ("all refused", "(bad packets sent: %d%s)" % (
    sum(b.values()), ", every one refused" if total == sum(b.values()) else ""), total))
print()
e = proxy["engine"]
real = sum(len(r[2]) for r in rows) # one pair per flow above
print("Filter state at the end: %d (device, destination) pairs, %d destinations, %d devices."
      % (e["pairs"], e["dsts"], e["devs"]))
print("The flows above are %d pairs: only real senders have state, the bad packets made none."
      % real)
EOF
echo
echo "Done: the testbed is being removed."
