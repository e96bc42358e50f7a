#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Render the evaluation's PNG plots with gnuplot from the CSV files of one run.
usage: plot.py CSVDIR PNGDIR   (a plot whose CSV is missing is skipped)"""
import csv, os, subprocess, sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
HEAD = """set terminal pngcairo size 1000,420 font "DejaVu Sans,10"
set datafile separator ","
set key top right
set grid
set termoption noenhanced
"""


def have(*names):
    return all(os.path.exists(os.path.join(src, n)) and os.path.getsize(os.path.join(src, n))
               for n in names)


def rows(name):
    with open(os.path.join(src, name)) as f:
        return list(csv.DictReader(f))


def gp(png, body):
    script = HEAD + 'set output "%s"\n' % os.path.join(dst, png) + body
    subprocess.run(["gnuplot"], input=script, text=True, check=True, cwd=src)
    print("plot.py: " + png)


MODES = (("none", "no filtering"), ("nft", "nftables meter at the victim"),
         ("fcfs", "X-Pro, fcfs (Algorithm 2)"), ("fair", "X-Pro, fair share"))
if have("victim_ts.csv"):
    body = 'set terminal pngcairo size 1400,420 font "DejaVu Sans,10" noenhanced\n' \
           'set output "%s"\n' % os.path.join(dst, "victim.png") + \
           'set multiplot layout 1,4\nset logscale y\nset yrange [1:*]\n' \
           'set xlabel "seconds"\nset ylabel "packets/s"\n'
    for m, title in MODES:
        body += f'set title "{title}"\n'
        body += ('plot "victim_ts.csv" using 2:(strcol(1) eq "{m}" ? $3 : NaN) '
                 'with linespoints title "attack at victim", '
                 '"" using 2:(strcol(1) eq "{m}" ? $4 : NaN) with linespoints '
                 'title "legit at victim", '
                 '"" using 2:(strcol(1) eq "{m}" ? $5 : NaN) with linespoints '
                 'title "legit at bystander"\n').format(m=m)
    gp("victim.png", body + "unset multiplot\n")
    body = ('set terminal pngcairo size 1400,420 font "DejaVu Sans,10" noenhanced\n'
            'set output "%s"\n' % os.path.join(dst, "victim_drops.png") +
            'set multiplot layout 1,3\nset xlabel "seconds"\nset ylabel "drops/s"\n')
    for m in ("fcfs", "fair"):
        body += (f'set title "X-Pro {m}: drops by reason and place"\n'
                 f'plot "victim_ts.csv" using 2:(strcol(1) eq "{m}" ? $6 : NaN) w lp '
                 f't "XDP (flagged pair)", "" using 2:(strcol(1) eq "{m}" ? $7 : NaN) w lp '
                 f't "worker DROP_PAIR", "" using 2:(strcol(1) eq "{m}" ? $8 : NaN) w lp '
                 't "worker DROP_DST"\n')
    body += ('set title "nftables meter: drops by rule"\n'
             'plot "victim_ts.csv" using 2:(strcol(1) eq "nft" ? $9 : NaN) w lp '
             't "per (src, dst) over T_F1", "" using 2:(strcol(1) eq "nft" ? $10 : NaN) '
             'w lp t "per dst over T_F2"\nunset multiplot\n')
    gp("victim_drops.png", body)

if have("victim_classes.csv"):
    gp("classes.png", 'set style data histogram\nset style histogram clustered gap 1\n'
       'set style fill solid 0.8 border -1\nset boxwidth 0.9\nset yrange [0:1.05]\n'
       'set key outside right top vertical autotitle columnhead\n'
       'set ylabel "fraction of its packets delivered"\n'
       'set title "Section 1: delivered fraction per device class and mode"\n'
       'plot "victim_classes.csv" using 2:xtic(1), "" using 3, "" using 4, "" using 5\n')

if have("sweep.csv"):
    r = rows("sweep.csv")
    tf1 = r[0]["tf1"]
    tf2 = r[0]["tf2"]
    kinds = [k for k in ("rate", "bots") if any(x["sweep"] == k for x in r)]
    body = 'set terminal pngcairo size 1000,420 font "DejaVu Sans,10" noenhanced\n' \
           'set output "%s"\n' % os.path.join(dst, "sweep.png") + \
           "set multiplot layout 1,%d\nset logscale x\nset ylabel \"packets/s\"\n" % len(kinds)
    leg = 'set terminal pngcairo size 1000,420 font "DejaVu Sans,10" noenhanced\n' \
          'set output "%s"\n' % os.path.join(dst, "sweep_legit.png") + \
          "set multiplot layout 1,%d\nset logscale x\nset yrange [0:1.05]\n" \
          "set ylabel \"legit to victim: fraction delivered\"\n" % len(kinds)
    for k in kinds:
        x = 3 if k == "rate" else 2
        sel = lambda pol, col: f'{x}:(strcol(1) eq "{k}" && strcol(19) eq "{pol}" ? {col} : NaN)'
        if k == "rate":
            head = (f'set title "10 bots, per-bot rate swept (T_F1 {tf1}, T_F2 {tf2})"\n'
                    'set xlabel "per-bot rate (packets/s)"\n'
                    f'set arrow 1 from {tf1}, graph 0 to {tf1}, graph 1 nohead dt 2\n')
        else:
            head = ('set title "bots at 20 packets/s each, number swept"\n'
                    'set xlabel "bots"\nunset arrow 1\n')
        body += head + (
            f'plot "sweep.csv" using {sel("fcfs", "$8/$7")} w lp t "attack offered", '
            f'"" using {sel("fcfs", "$9/$7")} w lp t "attack at victim, fcfs", '
            f'"" using {sel("fair", "$9/$7")} w lp t "attack at victim, fair", '
            f'"" using {sel("fcfs", "$13/$7")} w lp t "DROP_DST, fcfs", '
            f'"" using {sel("fair", "$13/$7")} w lp t "DROP_DST, fair"\n')
        leg += head + (
            f'plot "sweep.csv" using {sel("fcfs", "$16/$15")} w lp t "fcfs", '
            f'"" using {sel("fair", "$16/$15")} w lp t "fair"\n')
    gp("sweep.png", body + "unset multiplot\n")
    gp("sweep_legit.png", leg + "unset multiplot\n")

if have("shared.csv"):
    r = rows("shared.csv")
    body = ('set multiplot layout 1,2\nset style data histograms\nset style fill solid 0.6\n'
            'set boxwidth 0.8\nset ylabel "victim packets/s"\nset yrange [0:*]\n'
            f'set title "victim rate, T_F2 {r[0]["tf2"]}: sync on vs off"\n'
            'set xlabel "proxies (bots spread evenly)"\n')
    on = {x["proxies"]: x["victim_pps"] for x in r if x["sync"] == "on" and x["period_ms"] == "100"}
    off = {x["proxies"]: x["victim_pps"] for x in r if x["sync"] == "off"}
    ns = sorted(set(on) | set(off))
    data = "\n".join(f'{n} {on.get(n, "NaN")} {off.get(n, "NaN")}' for n in ns)
    body += ('$D << EOD\n' + data + '\nEOD\nset datafile separator whitespace\n'
             'plot $D using 2:xtic(1) title "sync on (t = 100 ms)", "" using 3 title "sync off"\n'
             'set datafile separator ","\nunset style\nset style data linespoints\n'
             'set title "3 proxies, sync on: first drop vs sync period t"\n'
             'set xlabel "sync period t (ms)"\nset ylabel "ms after the attack started"\n'
             'set logscale x\n'
             'plot "shared.csv" using 3:(strcol(2) eq "on" && $1 == 3 ? $12 : NaN) '
             'w lp t "first proxy drops", "" using 3:(strcol(2) eq "on" && $1 == 3 ? '
             '$13 : NaN) w lp t "every proxy drops", "" using 3:(strcol(2) eq "on" '
             '&& $1 == 3 ? $7 : NaN) w l dt 2 t "T_T3"\nunset multiplot\n')
    gp("shared.png", body)

if have("device_overhead.csv"):
    body = ('set multiplot layout 1,2\nset logscale x\nset xlabel "inner packet (bytes)"\n'
            'set title "goodput share of the bytes on the wire"\nset ylabel "%"\nset yrange [0:100]\n'
            'set key bottom right\n'
            'plot "device_overhead.csv" using 1:(strcol(2) eq "plain" ? $7 : NaN) w lp '
            't "X-Pro tunnel", "" using 1:(strcol(2) eq "enc" ? $7 : NaN) w lp '
            't "X-Pro tunnel, encrypted"\n'
            'set title "instructions per packet, mfw_send (x86-64 host, callgrind)"\n'
            'set ylabel "instructions"\nset yrange [0:*]\nset key top left\n'
            'plot "device_overhead.csv" using 1:(strcol(2) eq "plain" ? $8 : NaN) w lp '
            't "plaintext (SipHash tag)", "" using 1:(strcol(2) eq "enc" ? $8 : NaN) w lp '
            't "encrypted (ChaCha20-Poly1305 + tag)"\nunset multiplot\n')
    gp("device.png", body)

if have("proxy_paths.csv"):
    r = rows("proxy_paths.csv")
    data = "\n".join('"%s" %s' % (x["case"], x["mpps"] or "NaN")
                     for x in r)
    body = ('set style data histograms\nset style fill solid 0.6\nset boxwidth 0.7\n'
            'set datafile separator whitespace\nset ylabel "Mpps"\nset yrange [0:*]\n'
            'set xtics rotate by -30\nset title "proxy paths next to their ceilings (same run)"\n'
            'unset key\n$D << EOD\n' + data + '\nEOD\nplot $D using 2:xtic(1)\n')
    gp("proxy.png", body)
