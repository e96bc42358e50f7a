#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the xpro-modem tests (tests/integration/test_modem_*.sh); source after scripts/lib/harness.sh.
#
#   xmt_setup NPROXIES            testbed with NPROXIES proxies (one queue each), one
#                                 provisioning file per proxy (own secrets: --seed 1, 2, ..)
#   xmt_modem NAME ROLE DEV [ARGS]  xpro-modem for device DEV in ROLE's namespace, to every
#                                 proxy in order; its status file is $XPI_T/NAME.st
#   xmt_www MB                    python3 http.server on the victim serving $XPI_T/www/blob
#   xmt_fetch NAME ROLE [CURL ARGS]  curl the blob from ROLE in the background; xmt_fetched
#   xmt_udp_rx NAME ROLE PORT / xmt_udp_tx ROLE DST PORT COUNT PPS: a counted UDP stream
MODEM=$XPI_ROOT/build/xpro-modem
[ -x "$MODEM" ] || xpi_die "$MODEM missing (make all)"
XMT_PORT=7447

xmt_setup()
{
	local n=$1 i
	export TB_PREFIX=${TB_PREFIX:-xm$$-}
	tb_up "$n" 1 "${XMT_EXTRA_DEVS:-0}" || xpi_die "tb_up"
	for ((i = 0; i < n; i++)); do
		"$GEN" --mode provision --devices 8 --seed $((i + 1)) -o "$XPI_T/prov$i" ||
			xpi_die "provisioning"
	done
	# Replies from the servers come in on eth0 while the route to them is the TUN.
	for role in dev $(tb_roles | grep '^dev[0-9]'); do
		tb_exec "$role" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0
	done
}

# xmt_proxy I [ARGS]: proxy I with its own provisioning file.
xmt_proxy()
{
	local i=$1
	shift
	XPI_PROV=$XPI_T/prov$i XPI_PROXY_ROLE=proxy$i XPI_PROXY_NAME=proxy$i \
		xpi_start_proxy --ctl-socket off "$@"
}

xmt_modem()
{
	local name=$1 role=$2 dev=$3 i px=()
	shift 3
	for ((i = 0; i < TB_PROXIES; i++)); do
		px+=(--proxy "$(tb_addr proxy$i):$XMT_PORT@$XPI_T/prov$i")
	done
	xpi_bg "$name" "$role" "$MODEM" --dev "$dev" "${px[@]}" --epoch-file "$XPI_T/$name.epoch" \
		--status "$XPI_T/$name.st" --route "$VICTIM_ADDR/32" --route "$BYSTANDER_ADDR/32" "$@"
	xpi_wait_line "$name" "running:"
	xpi_wait_for "$name hears from its proxy" 10 \
		xpi_true 's.replies > 0 and s.current is not None' s="$XPI_T/$name.st"
}

# xmt_www MB [KBPS]: an HTTP server on the victim that serves the blob, paced to KBPS kB/s
# when given (a download that lasts long enough to lose a proxy in the middle).
xmt_www()
{
	mkdir -p "$XPI_T/www"
	head -c "$(($1 * 1048576))" /dev/urandom >"$XPI_T/www/blob"
	xpi_bg www victim python3 -c '
import http.server, os, sys, time
blob, rate = sys.argv[3], int(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        size = os.path.getsize(blob)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = 16384
        t0 = time.monotonic()
        with open(blob, "rb") as f:
            sent = 0
            while True:
                b = f.read(chunk)
                if not b:
                    break
                self.wfile.write(b)
                sent += len(b)
                if rate:
                    d = t0 + sent / (rate * 1000) - time.monotonic()
                    if d > 0:
                        time.sleep(d)
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
' "$VICTIM_ADDR" 8080 "$XPI_T/www/blob" "${2:-0}"
	xpi_wait_for "http server listens" 10 sh -c \
		"ip netns exec $(tb_ns victim) ss -Hltn 'sport = :8080' | grep -q LISTEN"
}

xmt_fetch()
{
	local name=$1 role=$2
	shift 2
	xpi_bg "$name" "$role" curl -sS --max-time 120 -o "$XPI_T/$name.blob" \
		-w '{"code": %{http_code}, "bytes": %{size_download}, "secs": %{time_total}}' \
		"$@" "http://$VICTIM_ADDR:8080/blob"
}

# xmt_fetched NAME: the download ended; prints nothing, fails the test if curl failed.
xmt_fetched()
{
	xpi_wait "$1"
	cmp -s "$XPI_T/$1.blob" "$XPI_T/www/blob" && echo '{"same": true}' >"$XPI_T/$1.cmp" ||
		echo '{"same": false}' >"$XPI_T/$1.cmp"
}

xmt_udp_rx()
{
	xpi_bg "$1" "$2" python3 -c '
import json, signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
seen, srcs, n = set(), set(), 0
def done(*_):
    print(json.dumps({"received": n, "unique": len(seen), "sources": sorted(srcs)}))
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
sys.stderr.write("listening\n"); sys.stderr.flush()
while True:
    b, a = s.recvfrom(2048)
    n += 1
    srcs.add(a[0])
    seen.add(int.from_bytes(b[:4], "big"))
' "$(tb_addr "$2")" "$3"
	xpi_wait_line "$1" listening
}

# xmt_udp_tx ROLE DST PORT COUNT PPS: COUNT datagrams of 200 bytes, numbered, paced.
xmt_udp_tx()
{
	tb_exec "$1" python3 -c '
import socket, sys, time
dst, port, count, pps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(count):
    d = t0 + i / pps - time.monotonic()
    if d > 0:
        time.sleep(d)
    s.sendto(i.to_bytes(4, "big") + bytes(196), (dst, port))
' "$2" "$3" "$4" "$5"
}

# xmt_retrans ROLE: TCP segments retransmitted in ROLE's namespace so far (RetransSegs).
xmt_retrans()
{
	# shellcheck disable=SC2016 # awk's $i and $c
	tb_exec "$1" awk '/^Tcp:/ { if (++n == 1) { for (i = 1; i <= NF; i++) if ($i == "RetransSegs") c = i } else print $c }' /proc/net/snmp
}
