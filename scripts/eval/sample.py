#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sample the proxy's status file (and an nftables table's counters) once a second until a
stop file appears; one CSV row per sample, cumulative counters (the report takes the
differences).  usage: sample.py OUT.csv STOPFILE [--stats FILE] [--nft NS TABLE]"""
import csv, json, subprocess, sys, time

out, stop = sys.argv[1], sys.argv[2]
stats = nft = None
a = sys.argv[3:]
while a:
    if a[0] == "--stats":
        stats, a = a[1], a[2:]
    elif a[0] == "--nft":
        nft, a = (a[1], a[2]), a[3:]
    else:
        sys.exit("sample.py: unknown argument " + a[0])

COLS = ["t", "rx", "pass", "drop_pair", "drop_dst", "xdp_drop_flagged", "flagged",
        "nft_pair_drop", "nft_dst_drop"]


def proxy_row():
    try:
        with open(stats) as f:
            s = json.load(f)
    except (OSError, ValueError, TypeError):
        return {}
    ws = s["workers"]
    return {"rx": sum(w["rx_packets"] for w in ws),
            "pass": sum(w["verdicts"]["PASS"] for w in ws),
            "drop_pair": sum(w["verdicts"]["DROP_PAIR"] for w in ws),
            "drop_dst": sum(w["verdicts"]["DROP_DST"] for w in ws),
            "flagged": sum(w["pairs_flagged"] for w in ws),
            "xdp_drop_flagged": (s.get("xdp_packets") or {}).get("drop_flagged", 0)}


def nft_row():
    try:
        j = json.loads(subprocess.run(
            ["ip", "netns", "exec", nft[0], "nft", "-j", "list", "counters", "table",
             "netdev", nft[1]], capture_output=True, text=True, timeout=2).stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}
    r = {}
    for o in j.get("nftables", []):
        c = o.get("counter")
        if c:
            r["nft_" + c["name"]] = c["packets"]
    return r


t0 = time.time()
last = {}
with open(out, "w", newline="") as f:
    w = csv.DictWriter(f, COLS)
    w.writeheader()
    k = 0
    import os
    while not os.path.exists(stop):
        row = {c: 0 for c in COLS}
        if stats:
            row.update(proxy_row() or {c: last.get(c, 0) for c in COLS})
        if nft:
            row.update(nft_row() or {c: last.get(c, 0) for c in COLS if c.startswith("nft")})
        row["t"] = k
        last = row
        w.writerow(row)
        f.flush()
        k += 1
        time.sleep(max(0.0, t0 + k - time.time()))
