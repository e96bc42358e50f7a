#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""BENCH lines (tests/bench/bench_proxy.sh, bench_sync) into CSV files.
usage: bench_csv.py RAW OUTDIR"""
import csv, os, shlex, sys

raw, out = sys.argv[1], sys.argv[2]
lines = []
for line in open(raw):
    if line.startswith("BENCH "):
        kv = dict(a.split("=", 1) for a in shlex.split(line)[1:] if "=" in a)
        lines.append(kv)

# The paths and their ceilings, in the order of docs/evaluation.md's table.
PATHS = [("xdp_drop", "ceiling: bare XDP_DROP"),
         ("xdp_drop_flagged", "X-Pro: XDP drop of a flagged pair"),
         ("nft_meter", "nftables meter (kernel generator frames)"),
         ("nft_meter_seal", "nftables meter (sealed frames)"),
         ("afxdp_rx", "ceiling: AF_XDP receive + recycle"),
         ("userspace_drop", "X-Pro: worker drop (Algorithm 2, DROP_DST)"),
         ("afxdp_fwd", "ceiling: AF_XDP receive + transmit"),
         ("forward", "X-Pro: forward (auth, filter, decap, transmit)"),
         ("afxdp_fwd_batch32", "ceiling: AF_XDP receive + transmit, batch 32"),
         ("forward_batch32", "X-Pro: forward, batch 32")]
by = {kv.get("name"): kv for kv in lines}


def write(name, cols, rows):
    with open(os.path.join(out, name), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(rows)


rows = []
for n, desc in PATHS:
    kv = by.get(n)
    if not kv or kv.get("skipped"):
        continue
    rows.append([n, desc, kv.get("mpps", ""), kv.get("ceiling", ""), kv.get("ratio", ""),
                 kv.get("vs_nft", ""), kv.get("worker_ns_per_pkt", ""),
                 kv.get("offered_mpps", ""), kv.get("trials", ""), kv.get("error", "")])
write("proxy_paths.csv", ["case", "path", "mpps", "ceiling", "ratio_to_ceiling", "vs_nft",
                          "worker_ns_per_pkt", "offered_mpps", "trials", "error"], rows)
rows = [[kv["name"][len("ladder_"):], kv.get("mpps", ""), kv.get("ns_per_pkt", ""),
         kv.get("delta_ns", "")] for kv in lines if kv.get("name", "").startswith("ladder_")]
write("proxy_ladder.csv", ["stage", "mpps", "ns_per_pkt", "delta_ns"], rows)
s = by.get("proxy_setup", {})
write("proxy_setup.csv", ["commit", "kernel", "cpus", "trials", "case_ms", "frame_bytes", "xsk",
                          "busy_before_pct", "seconds"],
      [[s.get("commit", ""), s.get("kernel", ""), s.get("cpus", ""), s.get("trials", ""),
        s.get("case_ms", ""), s.get("frame_bytes", ""), s.get("xsk", ""),
        s.get("busy_before_pct", ""), by.get("proxy_run", {}).get("seconds", "")]])
rows = [[kv["records"], kv["dsts"], kv["round"], kv["round_ms"], kv["records_per_s"],
         kv["bytes_per_record"], kv["client_cpu_ms"], kv["master_cpu_ms"], kv["trials"]]
        for kv in lines if kv.get("name") == "sync_round"]
write("sync_round.csv", ["records", "dsts", "round", "round_ms", "records_per_s",
                         "bytes_per_record", "client_cpu_ms", "master_cpu_ms", "trials"], rows)
