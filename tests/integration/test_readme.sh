#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's "Running a proxy" and "Running a device", as written: every ```sh block
# marked `<!-- test: NAME -->` is read from README.md and run, in order, on the namespace
# testbed; the proxy's blocks on the proxy host (the proxy namespace), the device's on the
# device host (the dev namespace), each as `bash -e -c BLOCK`.  Nothing of the commands is
# copied here.  What differs from a real machine, and only that:
#
#   - binaries: `make install DESTDIR=$XPI_T/root PREFIX=/usr`, its usr/sbin first on PATH;
#   - systemctl: no systemd runs in a namespace; readme_systemctl.sh stands in for it and
#     runs the installed units (ExecStart, EnvironmentFile, directories, the capability
#     bounding set, no new privileges) as systemd would;
#   - each host is a private mount namespace (unshare -m, held by a sleep): /etc and
#     /var/lib are overlays whose writes land in $XPI_T, /run is a fresh tmpfs (and the
#     proxy mounts its own bpffs), so nothing the blocks write reaches this machine's /etc,
#     /var/lib, /run or /sys/fs/bpf;
#   - PASTE_DEVICE_1_SECRET in the device's block is replaced by device 1's secret from the
#     proxy host's devices.conf, as the operator copies it;
#   - the server the device downloads from is the testbed's victim (198.18.0.100), serving
#     a 1 MiB blob at :8080/blob (python3 http.server).
#
# The checks are what a user would look at: the proxy starts and xproctl answers; the
# device's TUN carries the route to the server, the download arrives whole, the proxy's PASS
# verdicts grow by what the device sent; stopping removes the TUN and detaches XDP.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init readme
export TB_PREFIX=xr$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

README=$XPI_ROOT/README.md
ROOT=$XPI_T/root
BLOCKS=(proxy-setup proxy-start proxy-check proxy-stop device-setup device-check device-stop)

# xrt_block NAME: the lines of the ```sh block right after <!-- test: NAME -->.
xrt_block()
{
	awk -v n="$1" '
		$0 == "<!-- test: " n " -->" { f = 1; next }
		f == 1 && $0 == "```sh" { f = 2; next }
		f == 1 { exit }
		f == 2 && $0 == "```" { exit }
		f == 2 { print }' "$README"
}

# xrt_host NAME ROLE: a "host": ROLE's network namespace and a private mount namespace
# (overlays on /etc and /var/lib, a tmpfs on /run), held by a sleep until the end.
xrt_host()
{
	local d=$XPI_T/$1
	mkdir -p "$d/etc.up" "$d/etc.work" "$d/var.up" "$d/var.work"
	# shellcheck disable=SC2016 # expanded by the inner sh
	xpi_bg "$1" "$2" unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0/etc.up,workdir=$0/etc.work" /etc &&
		mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$0/var.up,workdir=$0/var.work" /var/lib &&
		mount -t tmpfs -o mode=0755 tmpfs /run &&
		echo ready >&2 && exec sleep infinity' "$d"
	xpi_wait_line "$1" ready
}

# xrt_in HOST CMD...: CMD on HOST (its network and mount namespaces), the installed
# binaries and the systemctl stand-in first on PATH.
xrt_in()
{
	local host=$1
	shift
	nsenter -t "$(cat "$XPI_T/$host.pid")" -n -m \
		env PATH="$XPI_T/bin:$ROOT/usr/sbin:$PATH" XPRO_ROOT="$ROOT" XPRO_UNIT_LOGS="$XPI_T" \
		"$@"
}

# xrt_run HOST BLOCK [SED]: run README block BLOCK on HOST with bash -e; its output in
# $XPI_T/BLOCK.out (and .err); fails the test if the block fails.
xrt_run()
{
	local host=$1 name=$2 text
	text=$(xrt_block "$name")
	[ -n "${3:-}" ] && text=${text//PASTE_DEVICE_1_SECRET/$3}
	xrt_in "$host" bash -e -c "$text" >"$XPI_T/$name.out" 2>"$XPI_T/$name.stderr" ||
		xpi_die "README block '$name' failed: $(tail -3 "$XPI_T/$name.stderr")"
}

# xrt_json HOST PATH NAME: HOST's file PATH (JSON) as $XPI_T/NAME.json.
xrt_json()
{
	xrt_in "$1" cat "$2" >"$XPI_T/$3.json.tmp" && mv "$XPI_T/$3.json.tmp" "$XPI_T/$3.json"
}

# Every marked block is there and not empty.
missing=()
for b in "${BLOCKS[@]}"; do
	[ -n "$(xrt_block "$b")" ] || missing+=("$b")
done
[ ${#missing[@]} -eq 0 ] || xpi_die "README.md lacks the marked blocks: ${missing[*]}"
echo "{\"blocks\": ${#BLOCKS[@]}}" >"$XPI_T/blocks.json"
xpi_check "README.md has the ${#BLOCKS[@]} marked blocks, none empty" 'b.blocks == 7' b="$XPI_T/blocks.json"

make --no-print-directory install DESTDIR="$ROOT" PREFIX=/usr >"$XPI_T/install.log" 2>&1 ||
	xpi_die "make install: $(tail -5 "$XPI_T/install.log")"
mkdir -p "$XPI_T/bin"
ln -s "$XPI_ROOT/tests/integration/readme_systemctl.sh" "$XPI_T/bin/systemctl"

tb_up 1 1 0 || xpi_die "tb_up"
xrt_host proxyhost proxy
xrt_host devhost dev
xmt_www 1

# --- the proxy host -------------------------------------------------------------------
xrt_run proxyhost proxy-setup
xrt_in proxyhost cat /etc/xpro/devices.conf >"$XPI_T/devices.conf"
secret=$(awk '$1 == 1 { print $2 }' "$XPI_T/devices.conf")
[ ${#secret} -eq 32 ] || xpi_die "no secret for device 1 in devices.conf"
real_etc=$([ -e /etc/xpro/eth0.conf ] && echo true || echo false)
echo "{\"lines\": $(wc -l <"$XPI_T/devices.conf"), \"real_etc\": $real_etc}" >"$XPI_T/setup.json"
xpi_check "proxy-setup provisioned one device, in the private /etc only" \
	's.lines == 1 and not s.real_etc' s="$XPI_T/setup.json"

xrt_run proxyhost proxy-start
# The unit starts in the background: poll the check block until it succeeds.
poll_check()
{
	xrt_in proxyhost bash -e -c "$(xrt_block proxy-check)" >"$XPI_T/proxy-check.out" \
		2>"$XPI_T/proxy-check.stderr"
}
xpi_wait_for "xproctl status answers" 15 poll_check
python3 -c '
import json, re, sys
out = open(sys.argv[1]).read()
m = re.search(r"provisioned\s+(\d+)", out)
print(json.dumps({"status": "worker" in out.lower(), "provisioned": int(m.group(1)) if m else -1,
                  "metrics": "xpro_verdicts_total{" in out}))' "$XPI_T/proxy-check.out" \
	>"$XPI_T/check0.json"
xpi_check "systemctl started xpro-proxy@eth0; xproctl status and devices answer (1 device)" \
	'c.status and c.provisioned == 1' c="$XPI_T/check0.json"
xpi_check "the metrics endpoint of the configuration serves xpro_verdicts_total" \
	'c.metrics' c="$XPI_T/check0.json"
xrt_json proxyhost /run/xpro/eth0.json before

# The unit's capability bounding set is all the running proxy has (CAP_* bit numbers).
pid=$(xrt_in proxyhost cat /run/xpro-systemctl/xpro-proxy@eth0.pid)
python3 -c '
import json, sys
bits = {"net_admin": 12, "net_raw": 13, "ipc_lock": 14, "sys_admin": 21, "perfmon": 38, "bpf": 39}
unit = [l for l in open(sys.argv[1]) if l.startswith("CapabilityBoundingSet=")][0]
want = sum(1 << bits[c.lower()[4:]] for c in unit.split("=", 1)[1].split())
bnd = [int(l.split()[1], 16) for l in open(sys.argv[2]) if l.startswith("CapBnd:")][0]
print(json.dumps({"want": want, "bnd": bnd, "n": len(unit.split("=", 1)[1].split())}))' \
	"$ROOT/lib/systemd/system/xpro-proxy@.service" "/proc/$pid/status" >"$XPI_T/caps.json"
xpi_check "the running proxy holds only the unit's 6 capabilities (CapabilityBoundingSet)" \
	'c.n == 6 and c.bnd == c.want' c="$XPI_T/caps.json"

# --- the device host ------------------------------------------------------------------
xrt_run devhost device-setup "$secret"
modem_up() {
	xrt_json devhost /run/xpro-modem/dev1.json m0 2>/dev/null &&
		xpi_true 'm.current is not None and m.replies > 0' m="$XPI_T/m0.json"
}
xpi_wait_for "xpro-modem hears from its proxy" 15 modem_up
xpi_check "the device's current proxy is 198.18.0.1:7447, it hears its replies, none rejected" \
	'm.current == "198.18.0.1:7447" and m.replies > 0 and m.rejected == 0' m="$XPI_T/m0.json"

xrt_run devhost device-check
python3 -c '
import json, os, re, sys
out = open(sys.argv[1]).read()
r = re.search(r"^198\.18\.0\.100 dev (\S+)", out, re.M)
d = re.search(r"^(\d{3}) (\d+)$", out, re.M)
print(json.dumps({"dev": r.group(1) if r else None, "code": int(d.group(1)) if d else 0,
                  "bytes": int(d.group(2)) if d else -1, "want": os.path.getsize(sys.argv[2])}))' \
	"$XPI_T/device-check.out" "$XPI_T/www/blob" >"$XPI_T/dl.json"
xpi_check "the route to the server is the TUN (xm0)" 'd.dev == "xm0"' d="$XPI_T/dl.json"
xpi_check "the download through the tunnel arrived whole (HTTP 200, every byte)" \
	'd.code == 200 and d.bytes == d.want' d="$XPI_T/dl.json"

xrt_run devhost device-stop
xrt_json devhost /run/xpro-modem/dev1.json m
tun_gone=$(tb_exec dev ip link show xm0 >/dev/null 2>&1 && echo false || echo true)
stopped=$(grep -q "stopping:" "$XPI_T/xpro-modem@dev1.err" && echo true || echo false)
echo "{\"tun_gone\": $tun_gone, \"stopped\": $stopped}" >"$XPI_T/mstop.json"
xpi_check "systemctl stop xpro-modem@dev1: it stopped cleanly and the TUN is gone" \
	's.tun_gone and s.stopped' s="$XPI_T/mstop.json"

# Every packet the device sent is a PASS verdict on the proxy (written every tick).
passed() {
	xrt_json proxyhost /run/xpro/eth0.json after &&
		xpi_true 'verd(a, "PASS") - verd(b, "PASS") >= m.sent' a="$XPI_T/after.json" \
			b="$XPI_T/before.json" m="$XPI_T/m.json"
}
for _ in $(seq 50); do passed && break; sleep 0.2; done
xpi_report "f'device: sent {m.sent}, probes {m.probes}, replies {m.replies}; proxy: PASS {verd(a, \"PASS\") - verd(b, \"PASS\")}, rejected {rej(a)}'" \
	m="$XPI_T/m.json" a="$XPI_T/after.json" b="$XPI_T/before.json"
xpi_check "the proxy's PASS verdicts grew by every packet the device sent, none rejected" \
	'm.sent > 0 and verd(a, "PASS") - verd(b, "PASS") == m.sent and rej(a) == 0' \
	m="$XPI_T/m.json" a="$XPI_T/after.json" b="$XPI_T/before.json"

# --- stopping the proxy -----------------------------------------------------------------
xrt_run proxyhost proxy-stop
xdp_gone=$(tb_exec proxy ip link show eth0 | grep -qw xdp && echo false || echo true)
stopped=$(grep -q "stopping" "$XPI_T/xpro-proxy@eth0.err" && echo true || echo false)
active=$(xrt_in proxyhost systemctl is-active xpro-proxy@eth0 || true)
echo "{\"xdp_gone\": $xdp_gone, \"stopped\": $stopped, \"active\": \"$active\"}" \
	>"$XPI_T/pstop.json"
xpi_check "systemctl stop xpro-proxy@eth0: it stopped cleanly and XDP is detached" \
	's.xdp_gone and s.stopped and s.active == "inactive"' s="$XPI_T/pstop.json"
xpi_finish
