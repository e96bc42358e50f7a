#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# xpro-modem on an ordinary network: its proxy is behind a router, its uplink's MTU is not
# 1500, and it routes everything (--route 0.0.0.0/0, the default) into its TUN.
#
#   far (198.18.110.2, uplink MTU 1400) -- router (198.18.110.1 | 198.18.0.50) -- bridge --
#   proxy (198.18.0.1), victim (198.18.0.100)
#
# The tunnel socket is bound to the uplink, so the default route into the TUN cannot capture
# the tunnel itself; the TUN's MTU is the uplink's less the outer headers (1400 - 56).
#   - the modem says which uplink and MTU it found, and its TUN has MTU 1344;
#   - an 8 MB download from the victim and an 8 MB upload to it, through the tunnel: both
#     complete and identical;
#   - no loop: every datagram the modem sent reached the proxy (proxy rx == data + probes);
#   - a UDP datagram too big for the tunnel, sent with DF: the sender gets EMSGSIZE at once;
#   - then the uplink's MTU is lowered to 1280 and the modem restarted: TUN MTU 1224, the
#     download again complete and identical.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_offlink
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

DEV=5
xmt_setup 1
R=${TB_PREFIX}rt
F=${TB_PREFIX}far
INNER=$(tb_dev_addr $DEV)
ip netns add "$R"
ip netns add "$F"
sw=$(tb_ns switch)
ip -n "$sw" link add p-rt type veth peer name eth0 netns "$R"
ip -n "$sw" link set p-rt master br0 up
ip -n "$R" link add eth1 type veth peer name eth0 netns "$F"
ip -n "$R" addr add 198.18.0.50/24 dev eth0
ip -n "$R" addr add 198.18.110.1/24 dev eth1
ip -n "$F" addr add 198.18.110.2/24 dev eth0
for ns in "$R" "$F"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
done
ip -n "$R" link set eth1 up
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip -n "$R" link set eth1 mtu 1400
ip -n "$F" link set eth0 mtu 1400
ip -n "$F" route add default via 198.18.110.1
# The return path: the device's inner address lives behind the router.
ip -n "$R" route add "$INNER/32" via 198.18.110.2
tb_exec victim ip route add "$INNER/32" via 198.18.0.50
tb_exec proxy ip route add 198.18.110.0/24 via 198.18.0.50

xmt_proxy 0
xmt_www 8
# The victim also takes an upload: bytes and their SHA-256 in up.json when the sender closes.
xpi_bg up victim python3 -c '
import hashlib, json, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9100)); s.listen(1)
sys.stderr.write("listening\n"); sys.stderr.flush()
c, _ = s.accept(); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    h.update(b); n += len(b)
print(json.dumps({"bytes": n, "sha256": h.hexdigest()}))
' "$VICTIM_ADDR"
xpi_wait_line up listening

modem() {
	xpi_bg "$1" "ns:$F" "$MODEM" --dev $DEV --proxy "$(tb_addr proxy0):$XMT_PORT@$XPI_T/prov0" \
		--epoch-file "$XPI_T/far.epoch" --status "$XPI_T/$1.st"
	xpi_wait_line "$1" "running:"
	xpi_wait_for "$1 hears from its proxy" 10 \
		xpi_true 's.replies > 0 and s.current is not None' s="$XPI_T/$1.st"
}
modem m1
tun_state() {
	ip -n "$F" -j link show xm0 | python3 -c 'import json, subprocess, sys
print(json.dumps({"mtu": json.load(sys.stdin)[0]["mtu"],
                  "routes": subprocess.run(["ip", "-n", sys.argv[1], "route"], capture_output=True, text=True).stdout}))' "$F" >"$XPI_T/$1.json"
}
tun_state tun1
xpi_check "the modem found its uplink and MTU; its TUN is the default route, MTU 1400 - 56" \
	"'uplink eth0 (MTU 1400)' in open('$XPI_T/m1.err').read() and tun1.mtu == 1344 and 'default dev xm0' in tun1.routes" tun1

xmt_fetch down1 "ns:$F"
xmt_fetched down1
head -c $((8 * 1048576)) /dev/urandom >"$XPI_T/upblob"
ip netns exec "$F" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9100))
with open(sys.argv[2], "rb") as f:
    s.sendall(f.read())
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
' "$VICTIM_ADDR" "$XPI_T/upblob"
xpi_wait up
sha=$(sha256sum "$XPI_T/upblob" | cut -d' ' -f1)
# DF set, 1400 bytes of UDP: more than the TUN takes.
ip netns exec "$F" python3 -c '
import errno, json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
try:
    s.sendto(bytes(1400), (sys.argv[1], 9000)); r = "sent"
except OSError as e:
    r = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps({"result": r}))
' "$VICTIM_ADDR" >"$XPI_T/big.json"
xpi_stop m1
# The proxy's status file catches up within a tick or two.
for _ in $(seq 50); do
	xpi_true "ws(p, 'rx_packets') == m.sent + m.probes" p="$XPI_T/proxy0.json" m="$XPI_T/m1.st" &&
		break
	sleep 0.1
done
xpi_check "8 MB download through the tunnel, off-link proxy: complete and identical" \
	'down1.code == 200 and down1.bytes == 8 * 1048576 and c.same' down1 c="$XPI_T/down1.cmp"
xpi_check "8 MB upload through the tunnel: complete and identical" \
	"up.bytes == 8 * 1048576 and up.sha256 == '$sha'" up
xpi_check "no loop: every datagram the modem sent reached the proxy" \
	"ws(p, 'rx_packets') == m.sent + m.probes and m.sent > 5000 and m.send_errors == 0" \
	p="$XPI_T/proxy0.json" m="$XPI_T/m1.st"
xpi_check "a DF datagram too big for the tunnel: EMSGSIZE to the sender, not silence" \
	"big.result == 'EMSGSIZE'" big

# --- uplink MTU 1280 ---
ip -n "$F" link set eth0 mtu 1280
ip -n "$R" link set eth1 mtu 1280
modem m2
tun_state tun2
xmt_fetch down2 "ns:$F"
xmt_fetched down2
xpi_check "uplink MTU 1280: TUN MTU 1224, the download again complete and identical" \
	"tun2.mtu == 1224 and 'uplink eth0 (MTU 1280)' in open('$XPI_T/m2.err').read() and down2.code == 200 and down2.bytes == 8 * 1048576 and c.same" tun2 down2 c="$XPI_T/down2.cmp"
xpi_finish
