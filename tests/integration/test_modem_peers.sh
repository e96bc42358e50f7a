#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PROBE_REPLY as a device receives it, checked by an independent implementation (the Python
# SipHash and KDF of tests/modem/gen_vectors.py): two proxies synced through a Redis master
# publish their tunnel addresses with their loads; device 3 probes proxy0 (PROBE sealed under
# IK) and gets one reply, sealed under PK for its epoch, echoing its sequence number, from
# the tunnel port, listing proxy1 (198.18.0.2:7447) as an available peer.  A PROBE beyond the
# per-device rate gets no reply.  Then xpro-modem runs against the same proxies and hears them.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init modem_peers
export TB_PREFIX=xm$$-
# shellcheck source=tests/integration/modem_lib.sh
source "$(dirname "$0")/modem_lib.sh"
# shellcheck source=scripts/lib/sync_harness.sh
source "$(dirname "$0")/../../scripts/lib/sync_harness.sh"

xmt_setup 2
# shellcheck disable=SC2119 # no extra redis arguments
xps_master_start
for i in 0 1; do
	xmt_proxy $i --redis "$MASTER_ADDR:$MASTER_PORT" --proxy-id "p$i" --sync-ms 100
done
# Both proxies have published (a round every 100 ms) once each lists the other.
xpi_wait_for "both loads published" 10 sh -c \
	"[ \$(ip netns exec $(tb_ns switch) redis-cli -h $MASTER_ADDR -p $MASTER_PORT hlen $(
		python3 -c 'import re,sys; print(re.search(r"SYNC_KEY_LOAD \"([^\"]+)\"", open("src/sync/keys.h").read()).group(1))'
	) 2>/dev/null) -ge 2 ]"
sleep 0.5

tb_exec dev python3 - "$XPI_ROOT/tests/modem/gen_vectors.py" "$XPI_T/prov0" >"$XPI_T/probe.json" <<'PY'
import json, socket, struct, sys
src = open(sys.argv[1]).read()
exec(src[src.index("M64 ="):src.index("\nSECRET =")])  # the reference SipHash and KDF only
secret = None
for line in open(sys.argv[2]):
    f = line.split()
    if f and f[0] == "3":
        secret = bytes.fromhex(f[1])
EPOCH, DEV = 77, 3
ik, pk = kdf(secret, b"xpro-ik", EPOCH, 2), kdf(secret, b"xpro-pk", EPOCH, 2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
out = {"replies": []}
# Six probes at once: the proxy answers at most 4 per device per second.
for seq in range(6):
    s.sendto(seal(ik, 2, 0, EPOCH, DEV, seq, bytes([1, 0, 1]) + bytes(17)), ("198.18.0.1", 7447))
try:
    while True:
        m, a = s.recvfrom(2048)
        body, tag = m[:-8], struct.unpack("<Q", m[-8:])[0]
        vt, fl, rsv, ep, dev, seq = struct.unpack(">BBHIIQ", body[:20])
        pl = body[20:]
        echo, pver, flags, load, npeers = struct.unpack(">QBBHB", pl[:13])
        peers = []
        for i in range(npeers):
            e = pl[16 + 24 * i:40 + 24 * i]
            ip = socket.inet_ntoa(e[12:16]) if e[:12] == bytes(10) + b"\xff\xff" else e[:16].hex()
            peers.append({"addr": "%s:%d" % (ip, struct.unpack(">H", e[16:18])[0]),
                          "load": struct.unpack(">H", e[18:20])[0], "state": e[20]})
        out["replies"].append({"from": "%s:%d" % a, "tag_ok": siphash24(pk, body) == tag,
                               "tag_ik": siphash24(ik, body) == tag, "type": vt & 15,
                               "ver": vt >> 4, "epoch": ep, "dev": dev, "seq": seq,
                               "echo": echo, "pver": pver, "flags": flags, "load": load,
                               "npeers": npeers, "peers": peers, "len": len(pl)})
except socket.timeout:
    pass
print(json.dumps(out))
PY
xmt_modem m dev 1
xpi_wait_for "xpro-modem hears both proxies" 15 \
	xpi_true 'all(p.state == "up" for p in s.proxies)' s="$XPI_T/m.st"
xpi_stop m
xps_stop_proxies 2

P="p=$XPI_T/probe.json"
echo "modem_peers: 6 PROBEs from device 3 (epoch 77) to proxy0, synced with proxy1 through Redis"
xpi_report 'f"{len(p.replies)} replies: {[(r.seq, r.echo, r.npeers, r.peers) for r in p.replies]}"' "$P"
xpi_check "4 replies to 6 probes (4 per device per second), all from proxy0's tunnel port" \
	'len(p.replies) == 4 and all(r["from"] == "198.18.0.1:7447" for r in p.replies)' "$P"
xpi_check "each reply is a PROBE_REPLY v1 for device 3, epoch 77, tagged under PK (not IK)" \
	'all(r.type == 3 and r.ver == 1 and r.dev == 3 and r.epoch == 77 and r.tag_ok and not r.tag_ik and r.pver == 1 for r in p.replies)' "$P"
xpi_check "replies echo the probes' sequence numbers, in order, under increasing proxy sequence numbers" \
	'[r.echo for r in p.replies] == [0, 1, 2, 3] and all(a.seq < b.seq for a, b in zip(p.replies, p.replies[1:]))' "$P"
xpi_check "each reply lists proxy1 as an available peer (its address from the sync layer)" \
	'all(r.npeers == 1 and r.peers[0]["addr"] == "198.18.0.2:7447" and r.peers[0]["state"] == 0 and r.len == 16 + 24 for r in p.replies)' "$P"
xpi_check "xpro-modem: both proxies up, no rejection" \
	'all(x.state == "up" for x in m.proxies) and m.rejected == 0 and m.replies > 0' m="$XPI_T/m.st"
xpi_finish
