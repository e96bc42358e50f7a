#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# IPv6 with xpro-modem: inner IPv6 through the tunnel, and the proxy reached over IPv6.
#
#   testbed with TB_IPV6=1; device 5 provisioned with the IPv6 prefix 2001:2:0:40::5/128
#   xpro-modem --proxy [2001:2::1]:7447 --route <victim's IPv6>/128 (source from the file)
#   - the TUN has the device's IPv6 address; ping -6 to the victim through it: all answered;
#   - an 8 MB upload and an 8 MB download over IPv6 (TCP) through the tunnel: complete and
#     identical;
#   - at the proxy: the tunnel came in over IPv6 (the modem's current proxy is the IPv6
#     address), every inner packet passed, none refused as SPOOF.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_ipv6
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

export TB_IPV6=1
export TB_PREFIX=${TB_PREFIX:-xm6$$-}
tb_up 1 1 0 || xpi_die "tb_up"
"$GEN" --mode provision --devices 8 --seed 1 --v6 -o "$XPI_T/prov0" || xpi_die "provisioning"
tb_exec dev sysctl -qw net.ipv4.conf.all.rp_filter=0
PX6=$(tb_addr proxy0 6)
VIC6=$(tb_addr victim 6)
SRC6=2001:2:0:40::5
# T_F1 well above a TCP upload's packet rate: this test is about IPv6, not limits.
XPI_PROV=$XPI_T/prov0 XPI_PROXY_ROLE=proxy0 XPI_PROXY_NAME=proxy0 xpi_start_proxy --ctl-socket off \
	--tf1 1000000 --tf2 1000000

mkdir -p "$XPI_T/www"
head -c $((8 * 1048576)) /dev/urandom >"$XPI_T/www/blob"
xpi_bg www victim python3 -m http.server --bind "$VIC6" --directory "$XPI_T/www" 8081
xpi_wait_for "http server listens on IPv6" 10 sh -c \
	"ip netns exec $(tb_ns victim) ss -Hltn 'sport = :8081' | grep -q LISTEN"

xpi_bg m dev "$MODEM" --dev 5 --proxy "[$PX6]:$XMT_PORT@$XPI_T/prov0" \
	--epoch-file "$XPI_T/m.epoch" --status "$XPI_T/m.st" --route "$VIC6/128"
xpi_wait_line m "running:"
xpi_wait_for "the modem hears from its proxy over IPv6" 10 \
	xpi_true 's.replies > 0 and s.current is not None' s="$XPI_T/m.st"
tb_exec dev ip -6 -j addr show dev xm0 >"$XPI_T/addr.raw"
python3 -c 'import json, sys; print(json.dumps({"a": [a["local"] for i in json.load(open(sys.argv[1])) for a in i["addr_info"]]}))' \
	"$XPI_T/addr.raw" >"$XPI_T/addr.json"
tb_exec dev ping -6 -c 20 -i 0.05 -W 2 "$VIC6" >"$XPI_T/ping.txt" 2>&1 || true
python3 -c 'import json, re, sys
t = open(sys.argv[1]).read(); m = re.search(r"(\d+) packets transmitted, (\d+) received", t)
print(json.dumps({"tx": int(m.group(1)) if m else 0, "rx": int(m.group(2)) if m else 0}))' \
	"$XPI_T/ping.txt" >"$XPI_T/ping.json"
# An upload too: the bulk of it goes through the tunnel (a download's data comes back direct).
xpi_bg up victim python3 -c '
import hashlib, json, socket, sys
s = socket.socket(socket.AF_INET6); s.bind((sys.argv[1], 9100)); s.listen(1)
sys.stderr.write("listening\n"); sys.stderr.flush()
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b); n += len(b)
print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))
' "$VIC6"
xpi_wait_line up listening
tb_exec dev python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9100))
with open(sys.argv[2], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
' "$VIC6" "$XPI_T/www/blob"
xpi_wait up
sha=$(sha256sum "$XPI_T/www/blob" | cut -d' ' -f1)
xpi_bg fetch dev curl -sS -g --max-time 120 -o "$XPI_T/fetch.blob" \
	-w '{"code": %{http_code}, "bytes": %{size_download}}' "http://[$VIC6]:8081/blob"
xpi_wait fetch
cmp -s "$XPI_T/fetch.blob" "$XPI_T/www/blob" && echo '{"same": true}' >"$XPI_T/cmp.json" ||
	echo '{"same": false}' >"$XPI_T/cmp.json"
xpi_stop m
XPI_PROXY_NAME=proxy0 xpi_stop_proxy

xpi_check "the TUN has the device's IPv6 address from the provisioning file" \
	"'$SRC6' in addr.a" addr
xpi_check "ping -6 through the tunnel: all 20 answered" "ping.tx == 20 and ping.rx == 20" ping
xpi_check "8 MB over IPv6 TCP through the tunnel: complete and identical" \
	"fetch.code == 200 and fetch.bytes == 8 * 1048576 and c.same" fetch c="$XPI_T/cmp.json"
xpi_check "8 MB upload over IPv6 TCP through the tunnel: complete and identical" \
	"up.bytes == 8 * 1048576 and up.sha256 == '$sha'" up
xpi_check "the tunnel ran over IPv6 to the proxy; every inner packet passed, none refused (the TUN's link-local noise not tunnelled)" \
	"m.current.startswith('[$PX6]') and verd(p, 'PASS') == m.sent > 5000 and rej(p) == 0 and m.tun_rx == m.sent + m.link_local" \
	m="$XPI_T/m.st" p="$XPI_T/proxy0.json"
xpi_finish
