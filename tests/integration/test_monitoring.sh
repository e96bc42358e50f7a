#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The monitoring files of scripts/dist/monitoring/ against promtool and a real proxy:
#
#   1. promtool check rules xpro-alerts.yml; promtool test rules xpro-alerts.test.yml (which
#      alerts fire on which series, and none for sync when its families are absent).
#   2. xpro-dashboard.json: JSON, schema 38, the ${datasource} and $iface variables, unique
#      panel ids, every panel but the rows with targets on ${datasource}; every expression
#      (panels and annotations) is PromQL that promtool accepts.
#   3. A proxy with sync on (a redis-server of the test's) scraped from its namespace: every
#      xpro_* family that the rules, their tests and the dashboard name is exported, every
#      verdict, reason and action they match on is a value the proxy uses, and promtool
#      check metrics finds nothing to say about the scrape.
#   4. make install puts the three files in DOCDIR/monitoring.
set -euo pipefail
export TB_PREFIX=${TB_PREFIX:-xmo$$-}
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"
xpi_init monitoring

MON=scripts/dist/monitoring
ADDR=127.0.0.1:9464
command -v promtool >/dev/null || xpi_die "promtool missing (make deps: package prometheus)"

ok() {
	XPI_PASS=$((XPI_PASS + 1))
	echo "ok - $1"
}
notok() {
	XPI_FAIL=$((XPI_FAIL + 1))
	echo "not ok - $1"
}
# check DESC CMD...: CMD must succeed.
check() {
	local desc=$1
	shift
	if "$@" >"$XPI_T/check.out" 2>&1; then
		ok "$desc"
	else
		notok "$desc   [$(head -c 1500 "$XPI_T/check.out" | tr '\n' ' ')]"
	fi
}

# --- 1. the rules ---
check "promtool check rules $MON/xpro-alerts.yml" promtool check rules "$MON/xpro-alerts.yml"
check "promtool test rules $MON/xpro-alerts.test.yml" promtool test rules "$MON/xpro-alerts.test.yml"

# --- 2. the dashboard ---
cp "$MON/xpro-dashboard.json" "$XPI_T/dash.json"
xpi_check "dashboard: JSON, schema 38, \${datasource} (Prometheus) and \$iface from xpro_uptime_seconds" \
	"dash.schemaVersion == 38 and any(v.name == 'datasource' and v.type == 'datasource' and v.query == 'prometheus' for v in dash.templating.list) and any(v.name == 'iface' and v.definition == 'label_values(xpro_uptime_seconds, iface)' for v in dash.templating.list)" dash
xpi_check "dashboard: panel ids unique, every panel a gridPos" \
	"len({p.id for p in dash.panels}) == len(dash.panels) > 20 and all('gridPos' in p for p in dash.panels)" dash
xpi_check "dashboard: every panel but the rows has targets, each an expr on \${datasource}, refIds unique" \
	"all(p.type == 'row' or (p.targets and all(t.expr and t.datasource.uid == '\${datasource}' for t in p.targets) and len({t.refId for t in p.targets}) == len(p.targets)) for p in dash.panels)" dash
xpi_check "dashboard: every panel but the rows has a description (what the figure means, where names are)" \
	"all(p.type == 'row' or len(p.get('description', '')) > 20 for p in dash.panels)" dash

# Every expression of the dashboard, its variables given values, as a recording rule: JSON is
# YAML, so promtool reads it as a rules file.
xpi_py "__import__('json').dumps({'groups': [{'name': 'dashboard', 'rules': [{'record': 'xpro_dashboard:expr%d' % i, 'expr': e.replace('\$__rate_interval', '1m').replace('\$instance', '.*').replace('\$iface', '.*')} for i, e in enumerate([t.expr for p in dash.panels for t in p.get('targets', [])] + [a.expr for a in dash.annotations.list if 'expr' in a])]}]})" dash \
	>"$XPI_T/dash_rules.yml"
check "dashboard: every expression (panels, annotations) is PromQL (promtool check rules)" \
	promtool check rules "$XPI_T/dash_rules.yml"

# --- 3. a real proxy, sync on ---
tb_up 1 1 0 || xpi_die "tb_up"
xpi_provision 2
xps_master_start
xpi_start_proxy --metrics "$ADDR" --redis "$MASTER_ADDR:$MASTER_PORT" --proxy-id mon0

# scrape: GET /metrics from the proxy's namespace; the body in $XPI_T/metrics.txt, its
# families, types and label values in $XPI_T/scrape.json.
scrape() {
	tb_exec proxy python3 - "http://$ADDR/metrics" "$XPI_T/metrics.txt" >"$XPI_T/scrape.json" <<'EOF'
import json, re, sys, urllib.request
body = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
open(sys.argv[2], "w").write(body)
types, samples, labels = {}, {}, {}
for line in body.splitlines():
    if line.startswith("# TYPE "):
        _, _, fam, typ = line.split(" ", 3)
        types[fam] = typ
    elif line and not line.startswith("#"):
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
        for k, v in re.findall(r'(\w+)="([^"]*)"', name):
            labels.setdefault(k, set()).add(v)
print(json.dumps({"types": types, "samples": samples,
                  "labels": {k: sorted(v) for k, v in labels.items()}}))
EOF
}
synced() {
	scrape || return 1
	xpi_true "s.samples.get('xpro_sync_up{iface=\"eth0\"}') == 1 and 'xpro_xdp_packets_total' in s.types" s="$XPI_T/scrape.json"
}
xpi_wait_for "the proxy's /metrics shows sync up and the XDP counters" 20 synced

# The families named anywhere in the three files (rules, comments, descriptions, tests,
# panels; not a pattern such as xpro_sync_*): the name as exported, a histogram's or
# summary's suffix stripped.
fams() {
	cat "$MON/xpro-alerts.yml" "$MON/xpro-alerts.test.yml" "$MON/xpro-dashboard.json" |
		grep -o 'xpro_[a-z0-9_*]*' | grep -v '[*_]$' |
		sed 's/_\(bucket\|sum\|count\)$//' | sort -u
}
fams | python3 -c 'import json, sys; print(json.dumps({"names": sys.stdin.read().split()}))' \
	>"$XPI_T/named.json"
xpi_report "f'{len(named.names)} families named by the monitoring files, {len(s.types)} exported'" \
	named s="$XPI_T/scrape.json"
missing=$(xpi_py "' '.join(sorted(set(named.names) - set(s.types)))" named s="$XPI_T/scrape.json")
if [ -z "$missing" ]; then
	ok "every family the rules and the dashboard name is exported by the proxy (sync on)"
else
	# xpro_build_info and xpro_threshold are new (in the dashboard only, not in any alert).
	notok "families the rules or the dashboard name, not exported by the proxy: $missing"
fi
xpi_report "f'exported, in no rule or panel: {\" \".join(sorted(set(s.types) - set(named.names))) or None}'" \
	named s="$XPI_T/scrape.json"

# verdict="X", reason=~"A|B", action="y" as the rules and panels write them: every literal
# value is one the proxy exports, every regex matches one.
grep -ho '\(verdict\|reason\|action\)=~\?\\\?"[^"\\]*' "$MON/xpro-alerts.yml" \
	"$MON/xpro-dashboard.json" | tr -d '\134' | sort -u |
	python3 -c 'import json, sys; print(json.dumps({"m": sys.stdin.read().split()}))' \
		>"$XPI_T/matchers.json"
bad=$(xpi_py "' '.join(x + '\"' for x in m.m if not all(any(__import__('re').fullmatch(alt, v) for v in s.labels.get(x.split('=')[0], [])) for alt in x.split('\"')[1].split('|')))" \
	m="$XPI_T/matchers.json" s="$XPI_T/scrape.json")
n=$(xpi_py "len(m.m)" m="$XPI_T/matchers.json")
if [ -z "$bad" ] && [ "$n" -ge 5 ]; then
	ok "every verdict, reason and action the rules and panels match on is exported ($n matchers)"
else
	notok "matchers on no exported value: ${bad:-none} ($n matchers)"
fi

check "promtool check metrics: the scrape is clean (lint)" sh -c "promtool check metrics <'$XPI_T/metrics.txt'"
xpi_stop_proxy

# --- 4. installed ---
root=$XPI_T/root
installed() {
	local f
	make --no-print-directory install DESTDIR="$root" PREFIX=/usr || return 1
	for f in xpro-alerts.yml xpro-alerts.test.yml xpro-dashboard.json; do
		cmp "$MON/$f" "$root/usr/share/doc/xpro/monitoring/$f" || return 1
	done
	# The test file finds its rules beside it, from anywhere.
	(cd / && promtool test rules "$root/usr/share/doc/xpro/monitoring/xpro-alerts.test.yml")
}
check "make install puts the rules, their tests and the dashboard in DOCDIR/monitoring" installed

xpi_finish
