#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Prometheus endpoint (--metrics) scraped from the proxy's namespace during traffic:
# every family present with # HELP and # TYPE, other paths 404, and once the traffic ends the
# values equal xproctl's status (rx, verdicts, XDP counters, engine records, devices); with a
# Redis master, xpro_sync_up 1 and rounds counted, and 0 once the master is killed.
#
#   devices 1-2 -> victim   100 pps each for 3 s; scraped while they run and after
set -euo pipefail
export TB_PREFIX=${TB_PREFIX:-xm$$-}
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init metrics

CTL=$XPI_ROOT/build/xproctl
[ -x "$CTL" ] || xpi_die "$CTL missing (make all)"
SOCK=$XPI_T/ctl.sock
ADDR=127.0.0.1:9464

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 4
xpi_bpffs
xps_master_start
xpi_start_proxy --queues 0-1 --tt1-ms 60000 --ctl-socket "$SOCK" --metrics "$ADDR" \
	--redis "$MASTER_ADDR:$MASTER_PORT" --proxy-id m0 --log-level debug

# scrape NAME PATH: GET http://$ADDR$PATH from the proxy's namespace into $XPI_T/NAME.json:
# {"status": code, "types": {family: type}, "helps": [families], "samples": {name{labels}: value}}.
scrape()
{
	tb_exec proxy python3 - "http://$ADDR$2" >"$XPI_T/$1.json" <<'EOF'
import json, sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    code, body = r.status, r.read().decode()
except urllib.error.HTTPError as e:
    code, body = e.code, ""
types, helps, samples = {}, [], {}
for line in body.splitlines():
    if line.startswith("# TYPE "):
        _, _, fam, typ = line.split(" ", 3)
        types[fam] = typ
    elif line.startswith("# HELP "):
        helps.append(line.split(" ", 3)[2])
    elif line:
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
print(json.dumps({"status": code, "types": types, "helps": helps, "samples": samples}))
EOF
}

xpi_gen_bg g dev --mode paced -P "$XPI_PROV" --dev-first 1 --dev-count 2 --flows 2 --rate 100 \
	--duration 3000 --dst "$VICTIM_ADDR:9000"
xpi_wait_for "traffic reaches the proxy" 10 xpi_true 'ws(s, "rx_packets") >= 50' s="$XPI_STATS"
scrape during /metrics
scrape nf /nope
# HEAD: the headers a GET would get, no body.
tb_exec proxy python3 - "http://$ADDR/metrics" >"$XPI_T/head.json" <<'EOF'
import json, sys, urllib.request
r = urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="HEAD"), timeout=5)
print(json.dumps({"status": r.status, "length": int(r.headers["Content-Length"]), "body": len(r.read())}))
EOF
xpi_wait g
# Not xpi_settle: the master's TCP keeps XDP's pass_other moving.  What was sent is known.
xpi_wait_for "every packet sent reached the workers" 10 xpi_true 'ws(s, "rx_packets") == g.sent' \
	s="$XPI_STATS" g
scrape after /metrics
"$CTL" -s "$SOCK" --json status >"$XPI_T/st.json" || xpi_die "xproctl status"

# Helpers over a scrape: the sum of a family's samples whose labels contain every given text.
M='(lambda m, fam, *lab: sum(v for k, v in m.samples.items() if k.split("{")[0] == fam and all(l in k for l in lab)))'

list=
FAMS="rx_packets_total rx_bytes_total tx_packets_total verdicts_total rejected_total
xdp_packets_total drop_map_entries devices_provisioned engine_pairs engine_dsts engine_devs
engine_bytes load_pps load_util_permille sync_up worker_zerocopy build_info threshold"
for f in $FAMS; do
	list="$list'xpro_$f',"
done
xpi_check "during traffic: 200 OK, every family with # HELP and # TYPE" \
	"during.status == 200 and all(f in during.types and f in during.helps for f in [$list])" during
xpi_check "during traffic: the families docs/metrics.md lists, no other (sync up, XDP read)" \
	"set(during.types) == {f for l in open('docs/metrics.md') if l.startswith('| ') for f in __import__('re').findall(r'\`(xpro_[a-z0-9_]+)', l)}" during
xpi_check "during traffic: counters already moving (rx > 0 on the queues)" \
	"$M(during, 'xpro_rx_packets_total') > 0" during
xpi_check "counter families typed counter, gauges gauge" \
	"during.types['xpro_rx_packets_total'] == 'counter' and during.types['xpro_engine_pairs'] == 'gauge'" during
xpi_check "any other path: 404" 'nf.status == 404' nf
xpi_check "HEAD /metrics: 200, a Content-Length, no body" \
	'head.status == 200 and head.length > 1000 and head.body == 0' head
xpi_check "after traffic: rx per queue equals xproctl status" \
	"all($M(after, 'xpro_rx_packets_total', 'queue=\"%d\"' % w.queue) == w.rx_packets for w in st.workers) and $M(after, 'xpro_rx_packets_total') == st.rx_packets == g.sent" after st g
xpi_check "after traffic: verdicts equal xproctl status" \
	"all($M(after, 'xpro_verdicts_total', 'verdict=\"%s\"' % v) == n for v, n in st.verdicts.items())" after st
xpi_check "after traffic: XDP counters (but pass_other: ARP, ND) equal xproctl status" \
	"all($M(after, 'xpro_xdp_packets_total', 'action=\"%s\"' % a) == n for a, n in st.xdp_packets.items() if a != 'pass_other')" after st
xpi_check "after traffic: engine records, drop-map and devices equal xproctl status" \
	"($M(after, 'xpro_engine_pairs'), $M(after, 'xpro_engine_dsts'), $M(after, 'xpro_engine_devs'), $M(after, 'xpro_drop_map_entries'), $M(after, 'xpro_devices_provisioned')) == (st.engine.pairs, st.engine.dsts, st.engine.devs, st.drop_map_entries, st.devices_provisioned) == (2, 1, 2, 0, 4)" after st
xpi_check "log-level debug: the configuration as it differs from the defaults, then a line per sync round (rate-limited)" \
	"(lambda t: 'debug: configuration, where it differs from the defaults: ' in t and 'tt1-ms 10000 -> 60000' in t and __import__('re').search(r'debug: sync round: up, \\d+ buckets, \\d+ bytes, [0-9.]+ ms \\(collect', t) is not None)(open('$XPI_T/proxy.err').read())"
xpi_check "build info: the release, the proxy id, the policy; thresholds as configured" \
	"$M(after, 'xpro_build_info', 'version=\"%s\"' % st.version, 'proxy_id=\"m0\"', 'dst_policy=\"fair\"') == 1 and st.version == open('include/xpro/version.h').read().split('XPRO_VERSION \"')[1].split('\"')[0] and ($M(after, 'xpro_threshold', 'key=\"tt1_ms\"'), $M(after, 'xpro_threshold', 'key=\"tf1\"'), $M(after, 'xpro_threshold', 'key=\"hold_ms\"')) == (60000, st.thresholds.tf1, st.thresholds.hold_ms) == (60000, 1000, 10000)" after st
xpi_check "with the master up: xpro_sync_up 1, rounds counted, as xproctl says (redis up)" \
	"$M(after, 'xpro_sync_up') == 1 and $M(after, 'xpro_sync_rounds_total') > 0 and st.redis == 'up' and st.sync.state == 'up' and 'xpro_sync_lag_seconds' in after.types and 'xpro_sync_round_seconds' in after.types" after st
xps_master_kill
sync_down()
{
	scrape down /metrics
	"$CTL" -s "$SOCK" --json status >"$XPI_T/st_down.json"
	xpi_true "$M(down, 'xpro_sync_up') == 0 and st_down.redis == 'down'" down st_down
}
xpi_wait_for "the master killed: xpro_sync_up 0, xproctl says redis down" 20 sync_down
xpi_check "the master killed: xpro_sync_up 0 and failed rounds counted" \
	"$M(down, 'xpro_sync_up') == 0 and $M(down, 'xpro_sync_rounds_failed_total') >= 1" down
xpi_stop_proxy
xpi_finish
