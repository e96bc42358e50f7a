#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment 4, cost on the device.  (a) Tunnel overhead from the wire format: outer IPv4
# (20) + UDP (8) + X-Pro header (20) + SipHash tag (8), +16 (Poly1305 tag) with encryption,
# for typical IoT inner packet sizes, checked against the datagram length mfw_send() returns.
# (b) Instructions per packet of mfw_send() on this host (x86-64, -O2), under callgrind,
# plaintext and encrypted (libsodium's ChaCha20-Poly1305 as the hook).  (c) The Cortex-M4
# image's code and RAM (make -C modem-fw cross).  Writes device_overhead.csv,
# device_instr.csv, device_cross.csv.  Needs no root.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$D/../.." && pwd)
OUT=${EV_OUT:?}
Q=${EV_QUICK:-0}
SIZES="40 64 128 256 512 1200"
N=2000
[ "$Q" = 1 ] && N=200
T=$(mktemp -d /tmp/ev-device.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$ROOT"
cc -O2 -g -Wall -Wextra -Werror -Iinclude -Imodem-fw/include -Itests/modem "$D/mfw_cost.c" \
	tests/modem/mfw_fake.c modem-fw/src/*.c -o "$T/mfw_cost" -lcmocka -lsodium

echo "inner_bytes,mode,datagram_bytes,wire_bytes,overhead_bytes,overhead_share_pct,goodput_share_pct,instr_per_packet" >"$OUT/device_overhead.csv"
for s in $SIZES; do
	for m in plain enc; do
		dg=$("$T/mfw_cost" $m 1 "$s" | awk '{ print $4 }')
		ir=$(valgrind --tool=callgrind --toggle-collect=mfw_send \
			--callgrind-out-file="$T/cg.$m.$s" "$T/mfw_cost" $m $N "$s" 2>/dev/null >/dev/null &&
			awk '/^(summary|totals):/ { print $2; exit }' "$T/cg.$m.$s")
		python3 -c "
s, dg, ir, n = $s, $dg, ${ir:-0}, $N
wire = dg + 28
ov = wire - s
print(f'{s},$m,{dg},{wire},{ov},{100 * ov / wire:.1f},{100 * s / wire:.1f},{ir / n:.0f}')" \
			>>"$OUT/device_overhead.csv"
	done
done
make -s -C modem-fw cross 2>/dev/null | grep '^BENCH name=modem_cross' |
	python3 -c "
import sys
kv = dict(a.split('=', 1) for a in sys.stdin.read().split()[1:])
print('text,data,bss,lib_text,ctx_bytes,ctx_bytes_per_proxy')
print(','.join(kv.get(k, '') for k in ('text', 'data', 'bss', 'lib_text', 'ctx_bytes', 'ctx_bytes_per_proxy')))" \
	>"$OUT/device_cross.csv"
echo "eval_device: done"
