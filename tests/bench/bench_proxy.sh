#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The proxy's fast path on the veth testbed (issue 3), against its ceilings and nftables.
#
#   tests/bench/bench_proxy.sh            full run: 5 interleaved trials per case, ~5 minutes
#   BENCH_QUICK=1 tests/bench/bench_proxy.sh   smoke run: 1 trial, short cases
#
# Prints `BENCH name=... key=value` lines (shared/BENCH.md); never fails on slowness, and
# exits 0 with a `skipped=1` line where it cannot run (not root, one CPU, tools missing).
#
# Topology (scripts/testbed.sh, one proxy, one queue): the generator sends from the dev
# namespace, pinned to CPU 0, through an XDP fast path on the switch (p-dev -> p-proxy0) into
# the proxy's eth0.  veth runs the receiver's NAPI, and so the proxy's XDP program and the
# AF_XDP copy, on the sender's CPU (0); the proxy's one worker is pinned to CPU 1.  Frames the
# proxy transmits take a second fast path (p-proxy0 -> p-victim) to an XDP drop-and-count
# program on the victim's eth0 (the sink; veth counts those frames in rx_packets).
#
# Cases, each a fresh proxy (or program) per trial; every trial runs each case once in turn:
#   xdp_drop          bare XDP_DROP on the proxy's eth0                     (kernel ceiling)
#   nft_meter         nftables netdev-ingress meter on the proxy's eth0, key ip saddr . ip
#                     daddr (the tunnel's outer addresses: one key), limit rate over
#                     1000/second drop: its drop rate; nft_meter_seal: the same under the
#                     sealing generator (the reference for the AF_XDP cases)
#   xdp_drop_flagged  full proxy, the flood's pair already in the drop-map: XDP drop rate
#   rx parse auth filter decap full   the --stage ladder under legitimate traffic (all
#                     PASS): rx = afxdp_rx (bare AF_XDP receive), full = forward (tx rate)
#   reflect           --stage reflect = afxdp_fwd (bare AF_XDP receive-and-transmit)
#   userspace_drop    full proxy, T_F2 = 1/s after 1 ms: 1024 devices, each far below T_F1,
#                     together far above T_F2 (DROP_DST, nothing flagged): every packet is
#                     authenticated, filtered by Algorithm 2 and dropped in userspace
#   full_b32 reflect_b32  after the main trials (BENCH_EXTRA_TRIALS, 2): forward and
#                     reflect with --batch 32, the evidence for a TX finding
# Kernel cases use the fastest generator (--flood-mode live: a rotated batch; the kernel
# never checks tags); AF_XDP cases use --flood-mode seal (every frame freshly sealed with a
# new sequence number by an XDP program, devices in rotation), since the worker rejects
# replays.  Rates are taken between two snapshots inside each case's steady state.  Last,
# the XDP programs alone under BPF_PROG_RUN (ns per packet, no noise).
#
# Output: one line per case (mpps median, min, max; X-Pro's lines also ratio= to their
# ceiling over interleaved trial pairs, vs_nft=, and the worker's CPU per packet), the
# ladder (ladder_<stage>: ns_per_pkt on the worker, split user/sys), count_<case> lines
# (generator sent, XDP verdicts, worker counters, interface and sink counts, summed over
# trials), gen_seal_valid (what the authenticator made of the sealed frames), xdp_prog_ns.
#
# Knobs: BENCH_QUICK=1, BENCH_TRIALS (5), BENCH_CASE_MS (3500), BENCH_SIZE (56: a 64-byte
# inner UDP datagram), BENCH_DEVICES (1024), BENCH_CASES (the main list), BENCH_EXTRA_CASES,
# BENCH_EXTRA_TRIALS, BENCH_PROXY_ARGS (extra xpro-proxy options for every case),
# BENCH_KEEP=1 (keep the snapshots), BENCH_TB_PREFIX (xpb<pid>-).  Other work on the
# machine disturbs every number: proxy_setup reports how busy it was before the run, and
# each line the share of the worker's CPU that others took (cpu1_other_pct).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HELPER="$ROOT/tests/bench/bench_proxy.py"
GEN="$ROOT/build/xpro-gen"
PROXY="$ROOT/build/xpro-proxy"
SEAL_SRC="$ROOT/tests/tools/gen/bpf/gen_seal.bpf.c"
SEAL_OBJ="$ROOT/build/gen/gen_seal.bpf.o"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	TRIALS=${BENCH_TRIALS:-1}
	EXTRA_TRIALS=${BENCH_EXTRA_TRIALS:-1}
	CASE_MS=${BENCH_CASE_MS:-2500}
else
	TRIALS=${BENCH_TRIALS:-5}
	EXTRA_TRIALS=${BENCH_EXTRA_TRIALS:-2}
	CASE_MS=${BENCH_CASE_MS:-3500}
fi
SIZE=${BENCH_SIZE:-56}
DEVICES=${BENCH_DEVICES:-1024}
CASES=${BENCH_CASES:-xdp_drop nft_meter nft_meter_seal xdp_drop_flagged rx parse auth filter decap full reflect userspace_drop}
# Evidence for a finding (AF_XDP TX with bursts of 32), run after the main trials.
EXTRA_CASES=${BENCH_EXTRA_CASES:-full_b32 reflect_b32}
GEN_CPU=0
WORKER_CPU=1
VICTIM_IP=198.18.0.100
VICTIM_PORT=9000
# Snapshots at WARM_MS and CASE_MS - TAIL_MS after the generator starts; the tail leaves
# room for the second snapshot, which is slow on a fully loaded machine, to end in time.
WARM_MS=900
TAIL_MS=900
PROXY_ARGS=${BENCH_PROXY_ARGS:-} # extra xpro-proxy options for every case (tuning experiments)
LEGIT="--tf1 1000000000 --tf2 1000000000" # every packet within both rates: all PASS

skip()
{
	echo "BENCH name=proxy skipped=1 reason=\"$*\""
	exit 0
}
log()
{
	echo "bench_proxy: $*" >&2
}

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (generator and worker apart)"
for t in ip nft bpftool clang python3 taskset make mount; do
	command -v "$t" >/dev/null 2>&1 || skip "missing $t"
done

# ---- build what we run -----------------------------------------------------------------------

# Built by `make` (make bench builds the tools first); build here only what is missing.
if [ ! -x "$PROXY" ] || [ ! -x "$GEN" ] || ! "$GEN" --help | grep -q -- "--src-mac"; then
	make -s -C "$ROOT" --no-print-directory build/xpro-gen build/xpro-proxy >/dev/null ||
		skip "make build/xpro-gen build/xpro-proxy failed"
fi
# The sealing generator's XDP object (no Makefile rule yet): rebuild when its source is newer.
if [ ! -f "$SEAL_OBJ" ] || [ "$SEAL_SRC" -nt "$SEAL_OBJ" ] ||
	[ "$ROOT/tests/tools/gen/gen_seal.h" -nt "$SEAL_OBJ" ]; then
	mkdir -p "$(dirname "$SEAL_OBJ")"
	clang -target bpf -O2 -g -Wall -Werror -I"$ROOT/include" \
		-I/usr/include/"$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)" \
		-c "$SEAL_SRC" -o "$SEAL_OBJ" || skip "compiling $SEAL_SRC failed"
fi

# ---- testbed and clean-up --------------------------------------------------------------------

# shellcheck source=../../scripts/testbed.sh
. "$ROOT/scripts/testbed.sh"
export TB_PREFIX=${BENCH_TB_PREFIX:-xpb$$-}
export TB_QUEUES=1
TMP=$(mktemp -d /tmp/xpro-bench-proxy.XXXXXX) || skip "mktemp failed"
RES="$TMP/results"
mkdir -p "$RES" "$TMP/bpffs"

# Stop the process whose pid FILE holds, if it is still one of ours; then forget it.
stop_pidfile()
{
	local f=$1 pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f" 2>/dev/null)
	rm -f "$f"
	[ -n "$pid" ] || return 0
	grep -qa xpro- "/proc/$pid/cmdline" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	local f
	trap - EXIT INT TERM
	for f in "$TMP"/*.pid; do
		[ -e "$f" ] && stop_pidfile "$f"
	done
	tb_down
	mountpoint -q "$TMP/bpffs" && umount "$TMP/bpffs"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		log "results kept in $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

tb_up 1 1 0 >/dev/null || skip "testbed set-up failed"
PNS=$(tb_ns proxy)
VNS=$(tb_ns victim)
DNS=$(tb_ns dev)
PMAC=$(tb_mac proxy)
VMAC=$(tb_mac victim)
mount -t bpf bpf "$TMP/bpffs" || skip "cannot mount a bpffs"
"$GEN" --mode provision -n "$DEVICES" --seed 1 -o "$TMP/prov" || skip "provisioning failed"
tb_fastpath dev proxy0 || skip "fast path dev -> proxy failed"
# The proxy must know the victim's MAC, so that forwarding is AF_XDP TX, not the kernel path.
tb_ping proxy victim 1 >/dev/null || log "ping proxy -> victim failed (continuing)"
ip -n "$PNS" neigh replace "$VICTIM_IP" lladdr "$VMAC" dev eth0 nud permanent ||
	skip "neighbour entry failed"
tb_exec victim "$GEN" --mode xdp --action drop -i eth0 --keep || skip "sink program failed"
tb_fastpath proxy0 victim || skip "fast path proxy -> victim failed"

# ---- one case --------------------------------------------------------------------------------

# start_bg NAME NS OUT CMD...: run CMD in namespace NS in the background; its pid (the
# command itself: ip netns exec and sh both exec) goes to $TMP/NAME.pid.
start_bg()
{
	local name=$1 ns=$2 out=$3
	shift 3
	rm -f "$TMP/$name.pid"
	# shellcheck disable=SC2016 # $$ and $0 are the inner shell's
	sh -c 'echo $$ >"$0"; exec "$@"' "$TMP/$name.pid" ip netns exec "$ns" "$@" \
		>"$out" 2>"$out.err" &
	for _ in $(seq 50); do
		[ -s "$TMP/$name.pid" ] && return 0
		sleep 0.02
	done
	return 1
}

RUN=0
PIN=""
STATUS="$TMP/status.json"

# start_proxy STAGE ARGS...: one worker on queue 0, pinned to WORKER_CPU; wait until ready.
start_proxy()
{
	local stage=$1
	shift
	RUN=$((RUN + 1))
	PIN="$TMP/bpffs/run$RUN"
	rm -f "$STATUS"
	# shellcheck disable=SC2086 # PROXY_ARGS: words
	start_bg proxy "$PNS" "$TMP/proxy.log" "$PROXY" -i eth0 -P "$TMP/prov" --queues 0 \
		--cpus "$WORKER_CPU" --pin-root "$PIN" -s "$STATUS" --tick-ms 100 \
		--stage "$stage" "$@" $PROXY_ARGS || return 1
	for _ in $(seq 100); do
		grep -q '"workers":\[{' "$STATUS" 2>/dev/null && return 0
		sleep 0.05
	done
	log "proxy did not start: $(tail -3 "$TMP/proxy.log.err" | tr '\n' ' ')"
	return 1
}

stop_proxy()
{
	stop_pidfile "$TMP/proxy.pid"
	[ -n "$PIN" ] && rm -rf "$PIN"
	PIN=""
}

now_ms()
{
	date +%s%3N
}

sleep_until()
{
	local d=$(($1 - $(now_ms)))
	[ "$d" -gt 0 ] && sleep "$(awk -v d="$d" 'BEGIN { printf "%.3f", d / 1000 }')"
	return 0
}

snap()
{
	python3 "$HELPER" snap "$@"
}

NFT_RULES="
table netdev xpb {
	counter dropped { }
	set flood {
		type ipv4_addr . ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 10s
	}
	chain ingress {
		type filter hook ingress device \"eth0\" priority 0; policy accept;
		update @flood { ip saddr . ip daddr limit rate over 1000/second } counter name \"dropped\" drop
	}
}"

# run_case CASE TRIAL: set up, flood, two snapshots in the steady state, tear down.
run_case()
{
	local c=$1 t=$2 pre="$RES/$1.$2" keys=() fin flood genpid t0
	snap "$pre.s0.json" proxy_ns="$PNS" victim_ns="$VNS"
	case $c in
	xdp_drop)
		start_bg xdp "$PNS" "$TMP/xdp.out" "$GEN" --mode xdp --action drop -i eth0 -j ||
			{ WHY="the counting XDP program did not start"; return 1; }
		sleep 0.3
		;;
	nft_meter | nft_meter_seal)
		# Frames redirected into a veth need an XDP program there (else they are dropped):
		# a counting XDP_PASS, the cheapest, so that the meter sees every frame as an skb.
		start_bg xdp "$PNS" "$TMP/xdp.out" "$GEN" --mode xdp --action pass -i eth0 -j ||
			{ WHY="the counting XDP program did not start"; return 1; }
		echo "$NFT_RULES" | ip netns exec "$PNS" nft -f - ||
			{ WHY="nft refused the meter's rules"; return 1; }
		keys+=(nft_ns="$PNS")
		sleep 0.3
		;;
	xdp_drop_flagged)
		start_proxy full || { WHY="xpro-proxy did not start"; return 1; }
		# shellcheck disable=SC2046 # the helper prints "key hex .. value hex .."
		bpftool map update pinned "$PIN/eth0/xpro_drop" \
			$(python3 "$HELPER" dropkey "$PIN/eth0/xpro_drop" 0 "$VICTIM_IP" 3600) ||
			{ WHY="the drop-map update failed"; return 1; }
		;;
	userspace_drop)
		# Each device far below T_F1, all together far above T_F2 (1/s once the
		# destination's window is over 1 ms): Algorithm 2 says DROP_DST, nothing is
		# flagged, every packet costs the worker its full authenticate-and-filter path.
		# shellcheck disable=SC2086
		start_proxy full --dst-policy fcfs --tf1 1000000000 --tf2 1 --tt3-ms 1 ||
			{ WHY="xpro-proxy did not start"; return 1; }
		;;
	full_b32 | reflect_b32)
		# shellcheck disable=SC2086
		start_proxy "${c%_b32}" $LEGIT --batch 32 || { WHY="xpro-proxy did not start"; return 1; }
		;;
	*)
		# shellcheck disable=SC2086
		start_proxy "$c" $LEGIT || { WHY="xpro-proxy did not start"; return 1; }
		;;
	esac
	if [ -n "$PIN" ]; then
		keys+=(status="$STATUS" proxy_pid="$(cat "$TMP/proxy.pid")" worker_cpu="$WORKER_CPU"
			xdp_stats_id="$(python3 "$HELPER" statsmap "$(xdp_prog_id)")")
	fi
	case $c in
	xdp_drop | nft_meter | xdp_drop_flagged)
		flood=(--flood-mode live --flows 1)
		;;
	*)
		flood=(--flood-mode seal --src-mac "$VMAC" --bpf-obj "$SEAL_OBJ")
		;;
	esac
	t0=$(now_ms)
	start_bg gen "$DNS" "$pre.gen.json" taskset -c "$GEN_CPU" "$GEN" --mode flood \
		"${flood[@]}" -P "$TMP/prov" --dst-mac "$PMAC" -D "$VICTIM_IP:$VICTIM_PORT" \
		--size "$SIZE" -d "$CASE_MS" -j || { WHY="the generator did not start"; return 1; }
	genpid=$(cat "$TMP/gen.pid")
	sleep_until $((t0 + WARM_MS))
	snap "$pre.s1.json" proxy_ns="$PNS" victim_ns="$VNS" gen_pid="$genpid" "${keys[@]}"
	sleep_until $((t0 + CASE_MS - TAIL_MS))
	snap "$pre.s2.json" proxy_ns="$PNS" victim_ns="$VNS" gen_pid="$genpid" "${keys[@]}"
	for _ in $(seq $((CASE_MS / 100 + 50))); do
		kill -0 "$genpid" 2>/dev/null || break
		sleep 0.1
	done
	stop_pidfile "$TMP/gen.pid"
	sleep 0.2 # frames still in rings reach their counters
	stop_pidfile "$TMP/xdp.pid"
	[ -n "$PIN" ] && stop_pidfile "$TMP/proxy.pid" # final status written at exit
	fin=(proxy_ns="$PNS" victim_ns="$VNS")
	[ -n "$PIN" ] && fin+=(status="$STATUS")
	[ "${c#nft_meter}" != "$c" ] && fin+=(nft_ns="$PNS")
	snap "$pre.final.json" "${fin[@]}"
	stop_proxy
	[ "${c#nft_meter}" != "$c" ] && ip netns exec "$PNS" nft delete table netdev xpb
	if [ ! -s "$pre.gen.json" ]; then
		log "$c trial $t: generator failed: $(tail -3 "$pre.gen.json.err" | tr '\n' ' ')"
		echo "the generator failed: $(tail -3 "$pre.gen.json.err" 2>/dev/null | tr '\n' ' ' | tr -d '"')" \
			>"$pre.fail"
	fi
	return 0
}

# ---- the XDP programs alone: BPF_PROG_RUN (no live frames), ns per packet ------------------

xdp_prog_id()
{
	ip -n "$PNS" -j link show dev eth0 | python3 -c \
		'import json, sys; print(json.load(sys.stdin)[0].get("xdp", {}).get("prog", {}).get("id", ""))'
}

# prog_ns ID FRAME: average run time of program ID on FRAME, in ns ("na" if it fails).
prog_ns()
{
	local v
	v=$(bpftool prog run id "$1" data_in "$2" repeat 2000000 2>&1 |
		sed -n 's/.*duration (average): \([0-9]*\)ns.*/\1/p')
	echo "${v:-na}"
}

# Noise-free per-packet cost of the kernel paths: the bare XDP_DROP program on the flood's
# frame, and X-Pro's program on four frames that stop at successive points of it: not for
# the tunnel port (parse, pass), unknown device (+ device lookup, drop), unflagged pair
# (+ drop-map miss, redirect to AF_XDP), flagged pair (+ expiry check, counter, drop).
# Three rounds, each with a freshly attached program; the median.
xdp_prog_cost()
{
	local id f bare=() other=() unknown=() xsk=() flag=() dmac
	dmac=$(tb_mac dev)
	python3 "$HELPER" frame "$TMP/f_flag.bin" "$dmac" "$PMAC" 0 "$VICTIM_IP" "$SIZE" &&
		python3 "$HELPER" frame "$TMP/f_xsk.bin" "$dmac" "$PMAC" 1 "$VICTIM_IP" "$SIZE" &&
		python3 "$HELPER" frame "$TMP/f_unknown.bin" "$dmac" "$PMAC" 4000000000 "$VICTIM_IP" \
			"$SIZE" &&
		python3 "$HELPER" frame "$TMP/f_other.bin" "$dmac" "$PMAC" 0 "$VICTIM_IP" "$SIZE" 9999 ||
		return 1
	for _ in 1 2 3; do
		start_bg xdp "$PNS" "$TMP/xdp.out" "$GEN" --mode xdp --action drop -i eth0 || return 1
		sleep 0.3
		id=$(xdp_prog_id)
		[ -n "$id" ] && bare+=("$(prog_ns "$id" "$TMP/f_flag.bin")")
		stop_pidfile "$TMP/xdp.pid"
		start_proxy full || return 1
		# shellcheck disable=SC2046
		bpftool map update pinned "$PIN/eth0/xpro_drop" \
			$(python3 "$HELPER" dropkey "$PIN/eth0/xpro_drop" 0 "$VICTIM_IP" 3600)
		id=$(xdp_prog_id)
		if [ -n "$id" ]; then
			other+=("$(prog_ns "$id" "$TMP/f_other.bin")")
			unknown+=("$(prog_ns "$id" "$TMP/f_unknown.bin")")
			xsk+=("$(prog_ns "$id" "$TMP/f_xsk.bin")")
			flag+=("$(prog_ns "$id" "$TMP/f_flag.bin")")
		fi
		stop_proxy
	done
	echo "BENCH name=xdp_prog_ns bare_drop=$(median "${bare[@]}")" \
		"xpro_pass_other=$(median "${other[@]}") xpro_unknown_dev=$(median "${unknown[@]}")" \
		"xpro_to_xsk=$(median "${xsk[@]}") xpro_flagged=$(median "${flag[@]}")" \
		"rounds=3 method=bpf_prog_run"
}

median()
{
	[ $# -gt 0 ] || {
		echo na
		return
	}
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# ---- the run ---------------------------------------------------------------------------------

FRAME=$((42 + 20 + 20 + 8 + SIZE + 8))
LOAD0=$(cut -d' ' -f1 /proc/loadavg) # other work on this machine disturbs every number
# How busy the machine is without us: one second of /proc/stat.
BUSY0=$(
	a=$(head -1 /proc/stat)
	sleep 1
	b=$(head -1 /proc/stat)
	echo "$a $b" | awk '{ n = (NF - 2) / 2; for (i = 2; i <= n + 1; i++) { d = $(i + n + 1) - $i; t += d; if (i == 5 || i == 6) idle += d }
		printf "%.0f", t ? 100 * (t - idle) / t : 0 }'
)
echo "BENCH name=proxy_setup commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo na)" \
	"kernel=$(uname -r) cpus=$(nproc) trials=$TRIALS case_ms=$CASE_MS" \
	"frame_bytes=$FRAME inner_udp_bytes=$((SIZE + 8)) devices=$DEVICES gen_cpu=$GEN_CPU" \
	"worker_cpu=$WORKER_CPU queues=1 xsk=copy busy_before_pct=$BUSY0"
# run_trials N CASES...: N rounds, each running every case once (interleaved A/B/C...).
run_trials()
{
	local n=$1 t c
	shift
	for t in $(seq "$n"); do
		for c in "$@"; do
			log "trial $t/$n: $c"
			WHY="set-up failed"
			if ! run_case "$c" "$t"; then
				log "$c trial $t: $WHY; skipped"
				echo "$WHY" >"$RES/$c.$t.fail"
				stop_pidfile "$TMP/gen.pid"
				stop_pidfile "$TMP/xdp.pid"
				stop_proxy
				ip netns exec "$PNS" nft delete table netdev xpb 2>/dev/null
			fi
		done
	done
}

start=$(date +%s)
# shellcheck disable=SC2086 # lists of case names
run_trials "$TRIALS" $CASES
# shellcheck disable=SC2086
[ "$EXTRA_TRIALS" -gt 0 ] && run_trials "$EXTRA_TRIALS" $EXTRA_CASES
python3 "$HELPER" summary "$RES"
xdp_prog_cost || log "XDP program cost: set-up failed"
echo "BENCH name=proxy_run seconds=$(($(date +%s) - start)) load_before=$LOAD0" \
	"load_after=$(cut -d' ' -f1 /proc/loadavg)"
exit 0
