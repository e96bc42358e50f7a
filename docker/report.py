#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The docker testbed's outcome (docker/testbed.sh): per proxy (its final status file) and per
# destination (the sinks' counts), for each run; with CHECK=1 also the assertions, in the
# ok / not ok and "[  PASSED  ] N test(s)." format scripts/run-tests.sh counts.
# usage: report.py OUTDIR CHECK RUN...   (RUN: on, off)
# XDK_STORE (redis or cluster, as docker/testbed.sh exports it) names the store in the
# outcome; the address and the masters are what the proxies' status files say.
import json
import os
import sys

out, check, runs = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
STORE = os.environ.get("XDK_STORE", "redis")
# The proxies' thresholds and sync period in docker/compose.yaml.
TF2, TT3_MS, PERIOD_MS, NP = 400, 500, 100, 3


def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def verd(s, v):
    return sum(w["verdicts"][v] for w in s["workers"]) if s else -1


def ws(s, k):
    return sum(w[k] for w in s["workers"]) if s else -1


R = {}
for tag in runs:
    r = R[tag] = {n: load(f"{n}_{tag}") for n in
                  ("p0", "p1", "p2", "g0", "g1", "g2", "gb", "vic", "bys")}
    gens = [r[g] or {} for g in ("g0", "g1", "g2")]
    offered = sum(g.get("sent", 0) for g in gens)
    dur = max((g.get("duration_s", 0) for g in gens), default=0) or 1
    vic, bys, gb = r["vic"] or {}, r["bys"] or {}, r["gb"] or {}
    try:
        with open(os.path.join(out, f"replicas_{tag}.txt")) as f:
            r["replicas"] = int(f.read().strip() or 0)
    except (OSError, ValueError):
        r["replicas"] = 0
    print(f"sync {tag}: (proxies reading through a local replica: {r['replicas']})")
    syncs = [((r[f"p{i}"] or {}).get("sync") or {}) for i in range(3)]
    if any(syncs):
        addrs = sorted({sy.get("master", "?") for sy in syncs if sy})
        print(f"  store: {'Redis Cluster' if STORE == 'cluster' else 'one Redis master'} "
              f"{' / '.join(addrs)}; masters seen by proxy0-2: "
              f"{' '.join(str(sy.get('store_nodes', '?')) for sy in syncs)}")
    for i in range(3):
        p = r[f"p{i}"]
        sy = (p or {}).get("sync") or {}
        print(f"  proxy{i}: rx {ws(p, 'rx_packets')} PASS {verd(p, 'PASS')} DROP_DST "
              f"{verd(p, 'DROP_DST')} DROP_PAIR {verd(p, 'DROP_PAIR')}; sync "
              f"{sy.get('state', 'off')} rounds {sy.get('rounds_ok', 0)} failed "
              f"{sy.get('rounds_failed', 0)} others {sy.get('other_proxies', 0)}")
    print(f"  victim    198.18.9.100: offered {offered} in {dur:.1f} s, received "
          f"{vic.get('received')} ({(vic.get('received') or 0) / dur:.0f} pps; T_F2 {TF2})")
    print(f"  bystander 198.18.9.101: offered {gb.get('sent')}, received {bys.get('received')}")

if not check:
    sys.exit(0)
npass = nfail = 0


def ok(desc, cond):
    global npass, nfail
    if cond:
        npass += 1
        print(f"ok - {desc}")
    else:
        nfail += 1
        print(f"not ok - {desc}")


def safe(f):
    try:
        return bool(f())
    except (TypeError, KeyError, AttributeError):
        return False


for tag in runs:
    r = R[tag]
    P = [r["p0"], r["p1"], r["p2"]]
    G = [r["g0"], r["g1"], r["g2"]]
    ok(f"sync {tag}: every device container sent everything",
       safe(lambda: all(g["sent"] > 0 and g["errors"] == 0 for g in G + [r["gb"]])))
    ok(f"sync {tag}: the bystander received all its devices sent",
       safe(lambda: r["bys"]["received"] == r["gb"]["sent"] > 0))
    offered = safe(lambda: True) and sum((g or {}).get("sent", 0) for g in G)
    if tag == "on":
        ok("sync on: every proxy synced with the master and saw the other two",
           safe(lambda: all(p["sync"]["state"] == "up" and p["sync"]["other_proxies"] == 2
                            and p["sync"]["rounds_failed"] == 0 for p in P)))
        ok("sync on: every proxy dropped victim-bound traffic (DROP_DST)",
           safe(lambda: all(verd(p, "DROP_DST") > 0 for p in P)))
        # As in tests/integration/test_proxy_sync.sh: T_F2 x D, plus the first, unjudged
        # T_T3 window at the offered 600 pps, plus one sync period per proxy.
        dur = max(g["duration_s"] for g in G)
        allowed = TF2 * dur + 600 * TT3_MS / 1000 + NP * TF2 * PERIOD_MS / 1000
        ok(f"sync on: victim held near T_F2 (at most {allowed:.0f})",
           safe(lambda: r["vic"]["received"] <= allowed))
        ok(f"sync on: victim not starved (at least {0.8 * TF2 * dur:.0f})",
           safe(lambda: r["vic"]["received"] >= 0.8 * TF2 * dur))
        ok("sync on: every victim packet accounted (received + DROP_DST = offered)",
           safe(lambda: r["vic"]["received"] + sum(verd(p, "DROP_DST") for p in P) == offered))
        if STORE == "cluster":
            ok("sync on: every proxy synced through the cluster's 3 masters",
               safe(lambda: all(p["sync"]["store_nodes"] == 3 for p in P)))
        if os.environ.get("XDK_REPLICA") == "1":
            ok("sync on: every proxy read the master through its local replica",
               r["replicas"] == 3)
    else:
        # Each proxy sees a third of the victim's rate, under T_F2.  The fair policy bounds a
        # new destination from its first packet (T_F2 with a 20 ms burst until its first
        # share tick): devices that start in step can lose the tail of that first burst.
        ok("sync off: no proxy dropped past a new destination's first burst (at most 1%)",
           safe(lambda: sum(verd(p, "DROP_PAIR") for p in P) == 0 and
                sum(verd(p, "DROP_DST") for p in P) <= 0.01 * offered))
        ok("sync off: the victim received at least 99% of what was offered",
           safe(lambda: offered > 0 and r["vic"]["received"] >= 0.99 * offered))
print(f"[  PASSED  ] {npass} test(s).")
if nfail:
    print(f"[  FAILED  ] {nfail} test(s).")
sys.exit(1 if nfail else 0)
