#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Helper of tests/bench/bench_proxy.sh: counter snapshots and the BENCH summary.

  bench_proxy.py snap OUT.json [key=value ...]   one snapshot of every counter a case needs
  bench_proxy.py dropkey MAP DEV DST_IPV4 HOLD_S bpftool hex for an entry of pinned xpro_drop MAP
  bench_proxy.py statsmap PROG_ID                id of the xpro_stats map of that XDP program
  bench_proxy.py frame OUT SMAC DMAC DEV DST SIZE [PORT]  one tunnel frame (for BPF_PROG_RUN)
  bench_proxy.py summary RESULTS_DIR             BENCH lines from every trial's snapshots

snap keys: proxy_ns, victim_ns, status (proxy status file), proxy_pid, worker_cpu,
gen_pid, nft_ns (read the nftables counter 'dropped' of table netdev xpb there),
xdp_stats_id (the proxy's xpro_stats map: per-CPU XDP counters, so the CPU that ran them).
"""
import json
import os
import statistics
import subprocess
import sys
import time


def sh(args):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def link_stats(ns, dev="eth0"):
    out = sh(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev])
    try:
        st = json.loads(out)[0]["stats64"]
    except (ValueError, IndexError, KeyError):
        return None
    return {"t": time.monotonic_ns(), "rx": st["rx"]["packets"],
            "rx_dropped": st["rx"]["dropped"], "tx": st["tx"]["packets"]}


def softirqs():
    with open("/proc/softirqs") as f:
        lines = f.read().splitlines()
    for line in lines[1:]:
        parts = line.split()
        if parts and parts[0] == "NET_RX:":
            return [int(x) for x in parts[1:]]
    return []


def cpu_times():
    """Per CPU: [user, nice, system, idle, iowait, irq, softirq, steal] in ticks."""
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                out.append([int(x) for x in line.split()[1:9]])
    return out


def task_stat(path):
    """Fields 3.. of a task's stat (index 0 is field 3, the state)."""
    try:
        with open(path + "/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return []


def task_cpu(path):
    """Last CPU a task ran on (field 39 of stat); -1 if the task is gone."""
    st = task_stat(path)
    return int(st[36]) if len(st) > 36 else -1


def worker_task(pid, cpu):
    """The proxy's worker thread: the one task pinned to exactly the worker CPU."""
    try:
        tids = os.listdir("/proc/%s/task" % pid)
    except OSError:
        return None
    for tid in tids:
        base = "/proc/%s/task/%s" % (pid, tid)
        try:
            with open(base + "/status") as f:
                lines = f.read().splitlines()
            allowed = [l.split()[1] for l in lines if l.startswith("Cpus_allowed_list:")]
            sleeps = [int(l.split()[1]) for l in lines if l.startswith("voluntary_ctxt_switches:")]
            if allowed and allowed[0] == str(cpu):
                with open(base + "/schedstat") as f:
                    run_ns = int(f.read().split()[0])
                st = task_stat(base)
                tick = os.sysconf("SC_CLK_TCK")
                return {"tid": int(tid), "run_ns": run_ns, "t": time.monotonic_ns(),
                        "cpu": int(st[36]), "utime_ns": int(st[11]) * 10**9 // tick,
                        "stime_ns": int(st[12]) * 10**9 // tick,
                        "sleeps": sleeps[0] if sleeps else 0}
        except (OSError, ValueError, IndexError):
            continue
    return None


def nft_dropped(ns):
    out = sh(["ip", "netns", "exec", ns, "nft", "-j", "list", "counter", "netdev", "xpb",
              "dropped"])
    try:
        for o in json.loads(out)["nftables"]:
            if "counter" in o:
                return {"t": time.monotonic_ns(), "packets": o["counter"]["packets"]}
    except (ValueError, KeyError):
        pass
    return None


def xdp_percpu(map_id):
    """Packets the proxy's XDP program handled, per CPU (all counters together)."""
    out = sh(["bpftool", "-j", "map", "dump", "id", str(map_id)])
    try:
        per = {}
        for ent in json.loads(out):
            for v in ent.get("formatted", ent).get("values", []):
                val = v.get("value", {})
                per[v["cpu"]] = per.get(v["cpu"], 0) + int(val.get("packets", 0))
        return [per[c] for c in sorted(per)]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def snap(out, kv):
    # Cheapest and most time-critical first: is the generator still running, then the
    # proxy's counters; the machine is fully loaded, so this process may be slow.
    s = {"t": time.monotonic_ns()}
    if kv.get("gen_pid"):
        s["gen_cpu"] = task_cpu("/proc/%s" % kv["gen_pid"])
    if kv.get("status"):
        try:
            with open(kv["status"]) as f:
                s["status"] = json.load(f)
        except (OSError, ValueError):
            s["status"] = None
    if kv.get("proxy_pid"):
        s["worker"] = worker_task(kv["proxy_pid"], kv.get("worker_cpu", "1"))
    s["cpu_times"] = cpu_times()
    s["softirq_net_rx"] = softirqs()
    if kv.get("proxy_ns"):
        s["proxy_link"] = link_stats(kv["proxy_ns"])
    if kv.get("victim_ns"):
        s["victim_link"] = link_stats(kv["victim_ns"])
    if kv.get("nft_ns"):
        s["nft"] = nft_dropped(kv["nft_ns"])
    if kv.get("xdp_stats_id"):
        s["xdp_percpu"] = xdp_percpu(kv["xdp_stats_id"])
    with open(out, "w") as f:
        json.dump(s, f)


def dropkey(path, dev, dst, hold_s):
    """bpftool arguments for an xpro_drop entry: key xf_key {dst[16] IPv4-mapped, dev u32
    host order}; value xpro_drop_val {until_ns, ...}: until_ns first, the rest (counters)
    zero, as long as the pinned map says a value is."""
    key = bytes(10) + b"\xff\xff" + bytes(int(x) for x in dst.split("."))
    key += int(dev).to_bytes(4, "little")
    try:
        vsize = int(json.loads(sh(["bpftool", "-j", "map", "show", "pinned", path]))
                    ["bytes_value"])
    except (ValueError, KeyError, TypeError):
        vsize = 16
    until = time.monotonic_ns() + int(float(hold_s) * 1e9)
    val = until.to_bytes(8, "little") + bytes(vsize - 8)
    print("key hex " + " ".join("%02x" % b for b in key) +
          " value hex " + " ".join("%02x" % b for b in val))


def statsmap(prog_id):
    """Id of the map named xpro_stats that program prog_id uses (empty if none)."""
    try:
        ids = json.loads(sh(["bpftool", "-j", "prog", "show", "id", str(prog_id)]))["map_ids"]
    except (ValueError, KeyError, TypeError):
        return ""
    for m in ids:
        try:
            if json.loads(sh(["bpftool", "-j", "map", "show", "id", str(m)]))["name"] == \
                    "xpro_stats":
                return str(m)
        except (ValueError, KeyError, TypeError):
            continue
    return ""


def csum16(b):
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def frame(out, smac, dmac, dev, dst, size, dport="7447"):
    """One tunnel frame, dev -> dst, as the floods send it (the tag is not checked in XDP)."""
    def ip4(proto, src, dst_, payload):
        h = bytearray(b"\x45\x00" + (20 + len(payload)).to_bytes(2, "big") +
                      b"\x00\x00\x40\x00\x40" + bytes([proto]) + b"\x00\x00" +
                      bytes(int(x) for x in src.split(".")) +
                      bytes(int(x) for x in dst_.split(".")))
        h[10:12] = csum16(bytes(h)).to_bytes(2, "big")
        return bytes(h) + payload

    def udp(sport, dport, payload):
        return (sport.to_bytes(2, "big") + dport.to_bytes(2, "big") +
                (8 + len(payload)).to_bytes(2, "big") + b"\x00\x00" + payload)

    dev = int(dev)
    inner = ip4(17, "198.18.%d.%d" % (64 + dev // 256 % 64, dev % 256), dst,
                udp(10000, 9000, bytes(int(size))))
    msg = (b"\x11\x00\x00\x00" + (2).to_bytes(4, "big") + dev.to_bytes(4, "big") +
           (1).to_bytes(8, "big") + inner + bytes(8))
    eth = bytes.fromhex(dmac.replace(":", "")) + bytes.fromhex(smac.replace(":", "")) + \
        b"\x08\x00"
    with open(out, "wb") as f:
        f.write(eth + ip4(17, "198.18.0.10", "198.18.0.1", udp(20000, int(dport), msg)))


# ---- summary ------------------------------------------------------------------------------

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def w0(snapshot):
    try:
        return snapshot["status"]["workers"][0]
    except (TypeError, KeyError, IndexError):
        return None


def status_rate(s1, s2, pick):
    """Rate of a status-file counter between two snapshots, over the proxy's own clock."""
    try:
        dt = (s2["status"]["uptime_ms"] - s1["status"]["uptime_ms"]) / 1e3
        return (pick(s2["status"]) - pick(s1["status"])) / dt if dt > 0 else None
    except (TypeError, KeyError, IndexError):
        return None


def link_rate(s1, s2, which, field="rx"):
    a, b = s1.get(which), s2.get(which)
    if not a or not b or b["t"] <= a["t"]:
        return None
    return (b[field] - a[field]) * 1e9 / (b["t"] - a["t"])


def wsum(st, path):
    """Sum of one worker counter over all workers; path like ('verdicts', 'DROP_DST')."""
    tot = 0
    for w in st["workers"]:
        v = w
        for p in path:
            v = v[p]
        tot += v
    return tot


# What each case's rate is: the packets X-Pro (or the ceiling) handled per second.
def case_rate(case, s1, s2):
    if case == "xdp_drop":
        return link_rate(s1, s2, "proxy_link")
    if case.startswith("nft_meter"):
        a, b = s1.get("nft"), s2.get("nft")
        if not a or not b or b["t"] <= a["t"]:
            return None
        return (b["packets"] - a["packets"]) * 1e9 / (b["t"] - a["t"])
    if case == "xdp_drop_flagged":
        return status_rate(s1, s2, lambda st: st["xdp_packets"]["drop_flagged"])
    if case == "userspace_drop":
        return status_rate(s1, s2, lambda st: wsum(st, ("verdicts", "DROP_DST")))
    if case.startswith("reflect") or case.startswith("full"):
        return status_rate(s1, s2, lambda st: wsum(st, ("tx_packets",)))
    return status_rate(s1, s2, lambda st: wsum(st, ("rx_packets",)))


def worker_cost(s1, s2):
    """Worker CPU per packet received (ns: total, user, system) and busy fraction."""
    a, b = s1.get("worker"), s2.get("worker")
    rx = status_rate(s1, s2, lambda st: wsum(st, ("rx_packets",)))
    if not a or not b or b["t"] <= a["t"] or not rx:
        return {}
    dt = b["t"] - a["t"]
    busy = (b["run_ns"] - a["run_ns"]) / dt
    return {"ns": busy * 1e9 / rx, "busy": busy,
            "sleeps_per_kpkt": (b.get("sleeps", 0) - a.get("sleeps", 0)) / dt * 1e9 / rx * 1e3,
            "user_ns": (b["utime_ns"] - a["utime_ns"]) / dt * 1e9 / rx,
            "sys_ns": (b["stime_ns"] - a["stime_ns"]) / dt * 1e9 / rx}


def losses(s1, s2):
    """In the window: share of frames the AF_XDP ring refused (veth rx_dropped over rx) and
    share of transmits that failed (tx_fail over tx + tx_fail)."""
    out = {}
    a, b = s1.get("proxy_link"), s2.get("proxy_link")
    if a and b and b["rx"] > a["rx"]:
        out["ring_drop"] = (b["rx_dropped"] - a["rx_dropped"]) / (b["rx"] - a["rx"])
    try:
        tx = wsum(s2["status"], ("tx_packets",)) - wsum(s1["status"], ("tx_packets",))
        tf = (wsum(s2["status"], ("tx_fail_packets",))
              - wsum(s1["status"], ("tx_fail_packets",)))
        if tx + tf > 0:
            out["tx_fail"] = tf / (tx + tf)
    except (TypeError, KeyError):
        pass
    return out


def napi_cpu(s1, s2):
    """CPU that ran the proxy's XDP program (its NAPI), and the per-CPU shares: from the
    proxy's per-CPU XDP counters where it runs, else from the NET_RX softirq counts."""
    a, b = s1.get("xdp_percpu"), s2.get("xdp_percpu")
    if a and b and len(a) == len(b):
        d = [y - x for x, y in zip(a, b)]
        src = "xdp"
    else:
        a, b = s1.get("softirq_net_rx"), s2.get("softirq_net_rx")
        d = [y - x for x, y in zip(a or [], b or [])]
        src = "softirq"
    if not d or sum(d) <= 0:
        return None, None
    c = max(range(len(d)), key=lambda i: d[i])
    return c, "%s:%s" % (src, "/".join("%.0f" % (100.0 * x / sum(d)) for x in d))


def fmt(x, nd=3):
    return "na" if x is None else ("%.*f" % (nd, x))


def median_spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


LADDER = ["rx", "parse", "auth", "filter", "decap", "full"]
# BENCH name: (case, ceiling BENCH name, nftables reference case); X-Pro's lines have both.
MAIN = {
    "xdp_drop": ("xdp_drop", None, None),
    "afxdp_rx": ("rx", None, None),
    "afxdp_fwd": ("reflect", None, None),
    "nft_meter": ("nft_meter", None, None),
    "nft_meter_seal": ("nft_meter_seal", None, None),
    "xdp_drop_flagged": ("xdp_drop_flagged", "xdp_drop", "nft_meter"),
    "userspace_drop": ("userspace_drop", "afxdp_rx", "nft_meter_seal"),
    "forward": ("full", "afxdp_fwd", "nft_meter_seal"),
    # Evidence for the TX finding: the same two cases with bursts of 32 (--batch 32).
    "afxdp_fwd_batch32": ("reflect_b32", None, None),
    "forward_batch32": ("full_b32", "afxdp_fwd_batch32", None),
}
COUNTED = ["xdp_drop", "nft_meter", "nft_meter_seal", "xdp_drop_flagged"] + LADDER + [
    "reflect", "userspace_drop", "full_b32", "reflect_b32"]


def collect(rdir, why=None):
    """Per case, its trials' measurements; why (a dict, if given): per case, the reasons
    its failed or left-out trials give."""
    runs = {}  # case -> list of per-trial dicts
    why = {} if why is None else why
    for name in sorted(os.listdir(rdir)):
        if name.endswith(".fail"):
            case = name[:-len(".fail")].rsplit(".", 1)[0]
            with open(os.path.join(rdir, name)) as f:
                why.setdefault(case, []).append(f.read().strip() or "failed")
            continue
        if not name.endswith(".s1.json"):
            continue
        base = name[:-len(".s1.json")]
        case, trial = base.rsplit(".", 1)
        s1 = load(os.path.join(rdir, name))
        s2 = load(os.path.join(rdir, base + ".s2.json"))
        if not s1 or not s2:
            continue
        # Both snapshots must fall while the generator runs (it is gone at s2 otherwise).
        if s1.get("gen_cpu", -1) < 0 or s2.get("gen_cpu", -1) < 0:
            print("# %s trial %s: a snapshot fell outside the flood; trial left out"
                  % (case, trial))
            why.setdefault(case, []).append("a snapshot fell outside the flood")
            continue
        wc = worker_cost(s1, s2)
        ncpu, nshare = napi_cpu(s1, s2)
        idle, steal = [], []
        for a, b in zip(s1.get("cpu_times", []), s2.get("cpu_times", [])):
            d = [y - x for x, y in zip(a, b)]
            tot = sum(d) or 1
            idle.append(100.0 * (d[3] + d[4]) / tot)
            steal.append(100.0 * d[7] / tot)
        # What else kept the worker's CPU busy: other processes disturb the measurement.
        other = None
        if wc.get("busy") is not None and len(idle) > 1:
            other = max(0.0, 100.0 - idle[1] - steal[1] - 100.0 * wc["busy"])
        runs.setdefault(case, []).append({
            "trial": int(trial), "rate": case_rate(case, s1, s2),
            "rx_rate": status_rate(s1, s2, lambda st: wsum(st, ("rx_packets",))),
            "offered": link_rate(s1, s2, "proxy_link"),
            "ns": wc.get("ns"), "busy": wc.get("busy"), "user_ns": wc.get("user_ns"),
            "sys_ns": wc.get("sys_ns"), "sleeps": wc.get("sleeps_per_kpkt"), "napi_cpu": ncpu, "napi_share": nshare,
            "loss": losses(s1, s2), "idle": idle, "steal": steal, "other": other, "gen_cpu": s2.get("gen_cpu", -1),
            "worker_cpu": (s2.get("worker") or {}).get("cpu", -1),
            "s0": load(os.path.join(rdir, base + ".s0.json")) or {},
            "fin": load(os.path.join(rdir, base + ".final.json")) or {},
            "gen": load(os.path.join(rdir, base + ".gen.json")) or {}})
    for rs in runs.values():
        rs.sort(key=lambda r: r["trial"])
    return runs


def summary(rdir):
    why = {}
    runs = collect(rdir, why)

    def failed(bench, case):
        """A case that was tried and has no trial left says why, on stdout and stderr."""
        reasons = sorted(set(why.get(case, [])))
        if case in runs or not reasons:
            return
        msg = "; ".join(reasons).replace('"', "'")
        print('BENCH name=%s case=%s trials=0 error="%s"' % (bench, case, msg))
        print("bench_proxy: %s (%s): no trial measured: %s" % (bench, case, msg),
              file=sys.stderr)

    def med(case, key="rate"):
        return median_spread([r[key] for r in runs.get(case, [])])

    def mpps(case):
        m = med(case)[0]
        return None if m is None else m / 1e6

    def paired(case, ceil):
        """Median and spread of per-trial ratios (trials are interleaved: pair them)."""
        a = {r["trial"]: r["rate"] for r in runs.get(case, [])}
        b = {r["trial"]: r["rate"] for r in runs.get(ceil, [])}
        return median_spread([a[t] / b[t] for t in a if a[t] and b.get(t)])

    def common(case):
        rs = runs[case]
        off = med(case, "offered")[0]
        out = " offered_mpps=%s" % fmt(off / 1e6 if off else None)
        ns, busy = med(case, "ns")[0], med(case, "busy")[0]
        if ns is not None:
            # Worker CPU per received packet; its inverse is the rate one fully busy worker
            # would sustain (an estimate: the worker is rarely saturated here).
            out += " worker_ns_per_pkt=%s worker_busy=%s worker_capacity_mpps=%s" % (
                fmt(ns, 0), fmt(busy, 2), fmt(1e3 / ns if ns else None, 2))
            # Times the worker blocked (poll() on an empty ring) per 1000 packets.
            out += " worker_sleeps_per_kpkt=%s" % fmt(med(case, "sleeps")[0], 1)
        for k in ("ring_drop", "tx_fail"):
            v = median_spread([r["loss"].get(k) for r in rs])[0]
            if v is not None and (k == "ring_drop" or v > 0 or case.startswith(("full",
                                                                                 "reflect"))):
                out += " %s_pct=%s" % (k, fmt(100 * v, 1))
        out += " gen_cpu=%s" % ",".join(sorted({str(r["gen_cpu"]) for r in rs}))
        wc = sorted({str(r["worker_cpu"]) for r in rs if r["worker_cpu"] != -1})
        if wc:
            out += " worker_cpu=%s" % ",".join(wc)
        for k in ("idle", "steal"):
            per = list(zip(*[r[k] for r in rs if r[k]]))
            if per:
                out += " %s_pct=%s" % (k, "/".join(fmt(statistics.median(c), 0) for c in per))
        oth = median_spread([r["other"] for r in rs])
        if oth[0] is not None:
            out += " cpu1_other_pct=%s" % fmt(oth[0], 0)
        cpus = sorted({r["napi_cpu"] for r in rs if r["napi_cpu"] is not None})
        out += " napi_cpu=%s napi_share=%s" % (",".join(map(str, cpus)) or "na",
                                              rs[len(rs) // 2]["napi_share"])
        return out

    for bench, (case, ceil, nft) in MAIN.items():
        if case not in runs:
            failed(bench, case)
            continue
        m, lo, hi = med(case)
        line = "BENCH name=%s mpps=%s min=%s max=%s trials=%d" % (
            bench, fmt(m / 1e6 if m else None), fmt(lo / 1e6 if lo else None),
            fmt(hi / 1e6 if hi else None), len(runs[case]))
        if ceil and MAIN[ceil][0] in runs:
            cc = MAIN[ceil][0]
            r, rlo, rhi = paired(case, cc)
            line += " ratio=%s ratio_min=%s ratio_max=%s ceiling=%s" % (
                fmt(r), fmt(rlo), fmt(rhi), ceil)
            cns, ns = med(cc, "ns")[0], med(case, "ns")[0]
            if cns and ns:
                line += " capacity_ratio=%s" % fmt(cns / ns)
        if nft and mpps(nft) and m:
            line += " vs_nft=%s nft_ref=%s" % (fmt(m / 1e6 / mpps(nft), 2), nft)
        print(line + common(case))
    # The ladder: where the worker's time goes, stage by stage (same legitimate traffic).
    prev = None
    for st in LADDER:
        rs = runs.get(st)
        if not rs:
            if not any(st == c for c, _, _ in MAIN.values()):
                failed("ladder_" + st, st)
            continue
        rx, ns = med(st, "rx_rate"), med(st, "ns")
        line = ("BENCH name=ladder_%s mpps=%s min=%s max=%s ns_per_pkt=%s ns_min=%s ns_max=%s"
                % (st, fmt(rx[0] / 1e6 if rx[0] else None),
                   fmt(rx[1] / 1e6 if rx[1] else None), fmt(rx[2] / 1e6 if rx[2] else None),
                   fmt(ns[0], 0), fmt(ns[1], 0), fmt(ns[2], 0)))
        if prev is not None and ns[0] is not None:
            line += " delta_ns=%s" % fmt(ns[0] - prev, 0)
        line += " user_ns=%s sys_ns=%s worker_busy=%s sleeps_per_kpkt=%s trials=%d" % (
            fmt(med(st, "user_ns")[0], 0), fmt(med(st, "sys_ns")[0], 0),
            fmt(med(st, "busy")[0], 2), fmt(med(st, "sleeps")[0], 1), len(rs))
        if st == "full":
            fwd = med(st)[0]
            line += " fwd_mpps=%s" % fmt(fwd / 1e6 if fwd else None)
        print(line)
        prev = ns[0] if ns[0] is not None else prev
    # Counts at both ends, summed over the trials of each case.
    for case in COUNTED:
        rs = runs.get(case)
        if not rs:
            continue
        tot = {"gen_sent": sum(r["gen"].get("sent", 0) for r in rs)}
        st = [r["fin"].get("status") for r in rs if r["fin"].get("status")]
        if st:
            tot["xdp_redirect"] = sum(s["xdp_packets"]["redirect"] for s in st)
            tot["xdp_drop_flagged"] = sum(s["xdp_packets"]["drop_flagged"] for s in st)
            tot["xdp_drop_other"] = sum(s["xdp_packets"]["drop_malformed"]
                                        + s["xdp_packets"]["drop_unknown_dev"]
                                        for s in st)
            # BENCH keys as before; the status file's names (docs/metrics.md) beside them.
            for k, f in (("rx", "rx_packets"), ("tx", "tx_packets"), ("tx_fail", "tx_fail_packets"),
                         ("tx_kernel", "tx_kernel_packets"), ("not_tunnel", "not_tunnel_packets"),
                         ("flagged", "pairs_flagged")):
                tot[k] = sum(wsum(s, (f,)) for s in st)
            tot["rejected"] = sum(sum(w["rejected"].values()) for s in st for w in s["workers"])
            for v in ("PASS", "DROP_PAIR", "DROP_DST"):
                tot[v.lower()] = sum(wsum(s, ("verdicts", v)) for s in st)

        def delta(which, field, rs=rs):
            pairs = [((r["fin"].get(which) or {}).get(field),
                      (r["s0"].get(which) or {}).get(field, 0)) for r in rs]
            if any(a is None for a, _ in pairs):
                return None
            return sum(a - b for a, b in pairs)

        for key, which, field in (("proxy_if_rx", "proxy_link", "rx"),
                                  ("proxy_if_rx_dropped", "proxy_link", "rx_dropped"),
                                  ("sink_rx", "victim_link", "rx"),
                                  ("nft_dropped", "nft", "packets")):
            v = delta(which, field)
            if v is not None and (key != "sink_rx" or case.startswith(("full", "reflect"))):
                tot[key] = v
        print("BENCH name=count_%s trials=%d %s" % (
            case, len(rs), " ".join("%s=%d" % kv for kv in tot.items())))
    # The sealing generator's frames: what the proxy's authenticator made of them.
    au = [c for c in ("auth", "filter", "decap", "full", "userspace_drop", "full_b32")
          if c in runs]
    if au:
        n = rej = 0
        for c in au:
            for r in runs[c]:
                s = r["fin"].get("status")
                if s:
                    n += wsum(s, ("rx_packets",))
                    rej += sum(sum(w["rejected"].values()) for w in s["workers"])
        print("BENCH name=gen_seal_valid authenticated=%d rejected=%d accepted_pct=%s cases=%s"
              % (n - rej, rej, fmt(100.0 * (n - rej) / n if n else None, 3), ",".join(au)))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "snap":
        snap(sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:]))
    elif len(sys.argv) == 3 and sys.argv[1] == "statsmap":
        print(statsmap(sys.argv[2]))
    elif len(sys.argv) == 6 and sys.argv[1] == "dropkey":
        dropkey(*sys.argv[2:])
    elif len(sys.argv) in (8, 9) and sys.argv[1] == "frame":
        frame(*sys.argv[2:])
    elif len(sys.argv) == 3 and sys.argv[1] == "summary":
        summary(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
