#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Forged control messages change nothing on either side.
#  proxy -> device: from the bystander's namespace, PROBE_REPLY and OVERLOAD messages with
#    the source address of the device's proxy spoofed (raw socket): under a wrong key, for
#    another device, for another epoch, a device's own type reflected, a genuine reply
#    captured on the device's link and replayed, and one from an address that is no proxy.
#    xpro-modem counts each as a rejection and its state (current proxy, switches, overload
#    warnings, the proxy's load and flags) stays as it was.
#  device -> proxy: a PROBE for the device under a wrong key gets no answer and is counted
#    as MAC; xpro-gen --mode bad (other devices) is refused; the device stays on its proxy.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_forged
export TB_PREFIX=xm$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"

xmt_setup 2
xmt_proxy 0
xmt_proxy 1
xmt_modem m dev 1
xpi_wait_for "a few replies" 10 xpi_true 's.replies >= 3' s="$XPI_T/m.st"
port=$(tb_exec dev ss -Hunap | awk '/xpro-modem/ { n = split($4, a, ":"); print a[n]; exit }')
[ -n "$port" ] || xpi_die "xpro-modem's UDP port not found"
dev_addr=$(tb_addr dev)
cp "$XPI_T/m.st" "$XPI_T/before.json"
cp "$XPI_T/proxy0.json" "$XPI_T/p0before.json"

# Capture one genuine message from proxy0 on the device's link, then forge and send.
tb_exec dev python3 - "$dev_addr" "$port" >"$XPI_T/captured.hex" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
s.bind(("eth0", 0x0800))
s.settimeout(10)
dst, port = socket.inet_aton(sys.argv[1]), int(sys.argv[2])
while True:
    p = s.recv(2048)
    ihl = (p[0] & 15) * 4
    if p[9] == 17 and p[12:16] == socket.inet_aton("198.18.0.1") and p[16:20] == dst and \
            int.from_bytes(p[ihl + 2:ihl + 4], "big") == port:
        print(p[ihl + 8:].hex())
        break
PY
cap=$!
wait $cap || xpi_die "no genuine reply captured"
tb_exec bystander python3 - "$dev_addr" "$port" "$(cat "$XPI_T/captured.hex")" \
	>"$XPI_T/forged.json" <<'PY'
import json, os, socket, struct, sys
dst, dport, genuine = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
epoch = int.from_bytes(genuine[4:8], "big")

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff

def spoof(payload, src="198.18.0.1", sport=7447):
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", csum(ph + udp)) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    r.sendto(ip + udp, (dst, 0))

def msg(typ, dev=1, ep=None, seq=None, body=None):
    ep = epoch if ep is None else ep
    seq = (1 << 62) if seq is None else seq
    if body is None:
        # a reply that would say "load 999, draining", or an OVERLOAD PAIR_DROPPED
        body = (struct.pack("!QBBHB3x", 0, 1, 2, 999, 0) if typ == 3 else
                struct.pack("!BBHI16s", 1, 1, 999, 0, bytes(16)))
    hdr = struct.pack("!BBHIIQ", 1 << 4 | typ, 0, 0, ep, dev, seq)
    return hdr + body + os.urandom(8)  # a tag under no key anyone holds

sent = {}
def send(kind, payload, **kw):
    spoof(payload, **kw)
    sent[kind] = sent.get(kind, 0) + 1

send("MAC", msg(3))
send("MAC", msg(4))
send("DEV", msg(3, dev=2))
send("EPOCH", msg(3, ep=epoch + 1))
send("DIRECTION", msg(2, body=bytes(20)))
send("REPLAY", genuine)
send("REPLAY", genuine)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7447))
u.sendto(msg(3), (dst, dport))       # right port, but not from a proxy's address
sent["PROXY"] = 1
print(json.dumps(sent))
PY

# Device -> proxy: a PROBE for device 1 under no key; wait for an answer that must not come.
tb_exec bystander python3 - >"$XPI_T/probe.json" <<'PY'
import json, os, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
for seq in range(5):
    s.sendto(struct.pack("!BBHIIQ", 1 << 4 | 2, 0, 0, 1, 1, 1000 + seq) + bytes([1, 0, 1]) +
             bytes(17) + os.urandom(8), ("198.18.0.1", 7447))
try:
    s.recv(2048)
    print(json.dumps({"sent": 5, "answered": True}))
except socket.timeout:
    print(json.dumps({"sent": 5, "answered": False}))
PY
xpi_gen bad dev --mode bad -P "$XPI_T/prov0" --dev-first 2 --dev-count 2 --flows 2 \
	--rate 200 --count 400
sleep 1.5
cp "$XPI_T/m.st" "$XPI_T/after.json"
xpi_stop m
XPI_PROXY_NAME=proxy0 xpi_stop_proxy
XPI_PROXY_NAME=proxy1 xpi_stop_proxy

B="b=$XPI_T/before.json" A="a=$XPI_T/after.json" F="f=$XPI_T/forged.json"
echo "modem_forged: forged proxy -> device messages to xpro-modem (UDP port $port), forged device -> proxy messages to proxy0"
xpi_report 'f"forged to the device: {dict(f)}; device rejections after: { {k: v for k, v in a.rej.items() if v} }"' "$A" "$F"
xpi_report 'f"forged PROBEs answered: {p.answered}; proxy0 rejections: { {k: v for k, v in s.workers[0].rejected.items() if v} }, XDP drops malformed {s.xdp_packets.drop_malformed}, unknown device {s.xdp_packets.drop_unknown_dev}"' p="$XPI_T/probe.json" s="$XPI_T/proxy0.json"
xpi_check "the device counted every forged message under its reason" \
	'all(a.rej[k] - b.rej[k] == n for k, n in f.items()) and a.rejected - b.rejected == sum(f.values())' "$A" "$B" "$F"
xpi_check "the device's state did not move: same proxy, no switch, no overload, no UNAVAIL" \
	'a.current == b.current == "198.18.0.1:7447" and a.switches == b.switches == 0 and a.overloads == b.overloads == 0 and not a.proxies[0].unavail and a.proxies[0].load != 999 and a.proxies[0].state == "up"' \
	"$A" "$B"
xpi_check "genuine replies kept coming after the forgeries" 'a.replies > b.replies' "$A" "$B"
xpi_check "a forged PROBE gets no answer and is counted as MAC by proxy0" \
	'not p.answered and rej(s, "MAC") - rej(o, "MAC") >= p.sent' \
	p="$XPI_T/probe.json" s="$XPI_T/proxy0.json" o="$XPI_T/p0before.json"
xpi_check "every bad message of xpro-gen and the forged PROBEs refused by proxy0 (in XDP or by tun_auth)" \
	'rej(s) - rej(o) + (s.xdp_packets.drop_malformed + s.xdp_packets.drop_unknown_dev) - (o.xdp_packets.drop_malformed + o.xdp_packets.drop_unknown_dev) == g.sent - g.valid + p.sent' \
	g="$XPI_T/bad.json" p="$XPI_T/probe.json" s="$XPI_T/proxy0.json" o="$XPI_T/p0before.json"
xpi_finish
