#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The namespace harness: shared by the integration tests (tests/integration/), scripts/demo.sh
# and the experiments of scripts/eval/.  Source it after `set -euo pipefail`, then call
# xpi_init NAME.
#
#   xpi_init NAME                 root + binaries check, TB_PREFIX=xpi<pid>-, scratch dir $XPI_T,
#                                 EXIT trap: ends what we started, tb_down, unmounts our bpffs
#   xpi_provision N [ARGS]        $XPI_PROV: N devices (xpro-gen --mode provision --seed 1)
#   xpi_bpffs                     mount a test-owned bpffs; $XPI_PIN_ROOT for --pin-root
#   xpi_start_proxy [ARGS]        xpro-proxy on the proxy's eth0 with $XPI_PROV, stats to
#                                 $XPI_T/proxy.json; returns once it runs (XPI_PROXY_NAME)
#   xpi_stop_proxy                SIGTERM to the proxy itself; waits: proxy.json is final
#   xpi_sink NAME ROLE PORT [ARGS]   xpro-sink --json in ROLE; its summary is $XPI_T/NAME.json
#   xpi_stop NAME                 SIGTERM a background process started here, wait for it
#   xpi_gen NAME ROLE ARGS        xpro-gen --json in ROLE, in the foreground: $XPI_T/NAME.json
#   xpi_gen_bg NAME ROLE ARGS     the same in the background; xpi_wait NAME collects it
#   xpi_settle                    wait until the proxy's rx counter stops moving
#   xpi_dropmap NAME              bpftool dump of the pinned drop-map into $XPI_T/NAME.json
#   xpi_wait_for DESC SECS CMD..  poll CMD until it succeeds; fail the test after SECS
#   xpi_py EXPR [NAME...]         evaluate a python3 expression; every NAME is $XPI_T/NAME.json
#                                 loaded as an object whose keys read as attributes
#   xpi_true EXPR [NAME...]       succeed if EXPR is true (a condition for xpi_wait_for)
#   xpi_check DESC EXPR [NAME...] one assertion (ok / not ok line); xpi_finish: verdict + exit
#
# Python helpers inside EXPR: ws(stats, key) sums a worker counter, rej(stats[, reason]),
# verd(stats, verdict), recv(sink, flow=..., flows=range(..), src=...), fl(sink, ...) the
# matching flow entries, drops(dump) the drop-map as a list of {dst, dev, packets, until_ns}.
# Nothing here asserts on time: waits have generous limits and only fail when something never
# happens.

XPI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/testbed.sh
source "$XPI_ROOT/scripts/testbed.sh"
GEN=$XPI_ROOT/build/xpro-gen
SINK=$XPI_ROOT/build/xpro-sink
PROXY=$XPI_ROOT/build/xpro-proxy
# shellcheck disable=SC2034 # for the tests
VICTIM_ADDR=$(tb_addr victim)
# shellcheck disable=SC2034
BYSTANDER_ADDR=$(tb_addr bystander)

XPI_NAME=
XPI_T=
XPI_BPFFS=
XPI_PIN_ROOT=
XPI_PASS=0
XPI_FAIL=0
XPI_T0=
declare -A XPI_JOB=()

xpi_die()
{
	echo "$XPI_NAME: FAILED: $*" >&2
	exit 1
}

xpi_init()
{
	XPI_NAME=$1
	[ "$(id -u)" -eq 0 ] || xpi_die "needs root"
	local b
	for b in "$GEN" "$SINK" "$PROXY"; do
		[ -x "$b" ] || xpi_die "$b missing (make all)"
	done
	command -v bpftool >/dev/null || xpi_die "bpftool missing (make deps)"
	export TB_PREFIX=${TB_PREFIX:-xpi$$-}
	XPI_T=$(mktemp -d "/tmp/xpi-$XPI_NAME.XXXXXX")
	XPI_T0=$(date +%s.%N)
	trap xpi_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	cd "$XPI_ROOT" || exit 1
}

# The EXIT trap: every path out of a test comes through here.
xpi_cleanup()
{
	local rc=$? name pid i ours ns
	set +e
	trap - EXIT
	# SIGTERM first, so that a proxy detaches cleanly; only to pids that are still in one of
	# our namespaces (a pid whose process has ended may have been reused).
	ours=" $(for ns in $(_tb_namespaces); do ip netns pids "$ns" 2>/dev/null; done | xargs) "
	for name in "${!XPI_JOB[@]}"; do
		pid=$(cat "$XPI_T/$name.pid" 2>/dev/null)
		[ -n "$pid" ] && [ "${ours#* "$pid" }" != "$ours" ] && kill -TERM "$pid" 2>/dev/null
	done
	for name in "${!XPI_JOB[@]}"; do
		for i in $(seq 50); do
			kill -0 "${XPI_JOB[$name]}" 2>/dev/null || break
			sleep 0.1
		done
	done
	# Whatever is still in our namespaces (a pidfile not yet written, a stray child).
	tb_down
	wait 2>/dev/null
	if [ -n "$XPI_BPFFS" ]; then
		umount "$XPI_BPFFS" 2>/dev/null || umount -l "$XPI_BPFFS"
		rmdir "$XPI_BPFFS"
	fi
	if [ "$rc" -ne 0 ] && [ -n "$XPI_T" ]; then
		for name in "$XPI_T"/*.err; do
			[ -s "$name" ] || continue
			echo "--- $(basename "$name") (last lines)" >&2
			grep -v '^libbpf: \|^libxdp: ' "$name" | tail -8 >&2
		done
	fi
	if [ -n "$XPI_T" ] && [ "${XPI_KEEP:-0}" != 1 ]; then
		rm -rf "$XPI_T"
	elif [ -n "$XPI_T" ]; then
		echo "$XPI_NAME: files kept in $XPI_T" >&2
	fi
	exit "$rc"
}

xpi_provision()
{
	XPI_PROV=$XPI_T/prov
	"$GEN" --mode provision --devices "$1" --seed 1 -o "$XPI_PROV" "${@:2}" ||
		xpi_die "provisioning"
}

# A bpffs owned by this test, in the root namespace, so that pinned maps can be read from
# outside the proxy's namespace and survive a proxy restart.
xpi_bpffs()
{
	XPI_BPFFS=/run/xpro-test-$$
	mkdir -p "$XPI_BPFFS"
	mount -t bpf bpf "$XPI_BPFFS" || {
		rmdir "$XPI_BPFFS"
		XPI_BPFFS=
		xpi_die "cannot mount a bpffs"
	}
	XPI_PIN_ROOT=$XPI_BPFFS/pins
}

# xpi_bg NAME ROLE CMD...: CMD in ROLE's namespace, in the background; its own pid (not the
# wrapper's) in $XPI_T/NAME.pid, stdout in NAME.json, stderr in NAME.err.
xpi_bg()
{
	local name=$1 role=$2
	shift 2
	rm -f "$XPI_T/$name.pid" "$XPI_T/$name.json"
	# shellcheck disable=SC2016 # expanded by sh
	tb_exec "$role" sh -c 'echo $$ >"$0"; exec "$@"' "$XPI_T/$name.pid" "$@" \
		>"$XPI_T/$name.json" 2>"$XPI_T/$name.err" &
	XPI_JOB[$name]=$!
}

xpi_alive()
{
	kill -0 "${XPI_JOB[$1]}" 2>/dev/null
}

# xpi_wait_for DESC SECONDS CMD...: poll CMD every 0.1 s.
xpi_wait_for()
{
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	xpi_die "$desc: not after ${secs}s"
}

# xpi_wait_line NAME PATTERN: NAME's stderr shows PATTERN (fails at once if NAME exited).
xpi_wait_line()
{
	local name=$1 pat=$2 i
	for ((i = 0; i < 150; i++)); do
		grep -q -- "$pat" "$XPI_T/$name.err" 2>/dev/null && [ -s "$XPI_T/$name.pid" ] &&
			return 0
		xpi_alive "$name" || xpi_die "$name exited before '$pat'"
		sleep 0.1
	done
	xpi_die "$name: no '$pat' after 15s"
}

# xpi_stop NAME: SIGTERM to the process itself, wait until it has gone; fail if it exited
# with an error.
xpi_stop()
{
	local name=$1 pid i rc=0
	pid=$(cat "$XPI_T/$name.pid")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		xpi_alive "$name" || break
		sleep 0.1
	done
	if xpi_alive "$name"; then
		kill -KILL "$pid" 2>/dev/null || true
		xpi_die "$name did not stop on SIGTERM within 10s"
	fi
	wait "${XPI_JOB[$name]}" || rc=$?
	unset "XPI_JOB[$name]"
	# 143: ended by the SIGTERM itself (no handler), as asked.
	[ $rc -eq 0 ] || [ $rc -eq 143 ] || xpi_die "$name exited $rc on SIGTERM"
}

# xpi_kill NAME: SIGKILL, as a crash would end it (no handler runs); reap it.
xpi_kill()
{
	local name=$1 rc=0
	kill -KILL "$(cat "$XPI_T/$name.pid")" 2>/dev/null || true
	wait "${XPI_JOB[$name]}" || rc=$?
	unset "XPI_JOB[$name]"
	[ $rc -eq 137 ] || xpi_die "$name exited $rc, not by the SIGKILL"
}

# xpi_wait NAME: a background job that ends by itself; fail if it failed.
xpi_wait()
{
	local rc=0
	wait "${XPI_JOB[$1]}" || rc=$?
	unset "XPI_JOB[$1]"
	[ $rc -eq 0 ] || xpi_die "$1 exited $rc: $(tail -3 "$XPI_T/$1.err")"
}

# xpi_start_proxy [ARGS]: the proxy under XPI_PROXY_NAME (proxy), in the namespace of
# XPI_PROXY_ROLE (proxy), stats in $XPI_T/NAME.json.
xpi_start_proxy()
{
	local name=${XPI_PROXY_NAME:-proxy} pin=()
	[ -n "$XPI_PIN_ROOT" ] && pin=(--pin-root "$XPI_PIN_ROOT")
	XPI_STATS=$XPI_T/$name.json
	rm -f "$XPI_STATS"
	tb_exec "${XPI_PROXY_ROLE:-proxy}" true # fail early if the testbed is not up
	rm -f "$XPI_T/$name.pid"
	# shellcheck disable=SC2016
	tb_exec "${XPI_PROXY_ROLE:-proxy}" sh -c 'echo $$ >"$0"; exec "$@"' "$XPI_T/$name.pid" \
		"$PROXY" -i eth0 -P "$XPI_PROV" -s "$XPI_STATS" "${pin[@]}" \
		--ctl-socket "$XPI_T/$name.sock" "$@" \
		>/dev/null 2>"$XPI_T/$name.err" &
	XPI_JOB[$name]=$!
	xpi_wait_line "$name" "running:"
	xpi_wait_for "$name writes $XPI_STATS" 10 test -s "$XPI_STATS"
}

xpi_stop_proxy()
{
	xpi_stop "${XPI_PROXY_NAME:-proxy}"
	grep -q "stopping" "$XPI_T/${XPI_PROXY_NAME:-proxy}.err" ||
		xpi_die "proxy did not stop cleanly"
}

# xpi_sink NAME ROLE PORT [ARGS]: a sink until xpi_stop NAME; summary in $XPI_T/NAME.json.
xpi_sink()
{
	local name=$1 role=$2 port=$3
	shift 3
	xpi_bg "$name" "$role" "$SINK" -p "$port" --json "$@"
	xpi_wait_line "$name" "listening"
}

xpi_gen()
{
	local name=$1 role=$2
	shift 2
	tb_exec "$role" "$GEN" --json "$@" >"$XPI_T/$name.json" 2>"$XPI_T/$name.err" ||
		xpi_die "xpro-gen $name: $(tail -3 "$XPI_T/$name.err")"
}

xpi_gen_bg()
{
	local name=$1 role=$2
	shift 2
	xpi_bg "$name" "$role" "$GEN" --json "$@"
}

# xpi_settle [EXPR [FILE...]]: after the generators end, wait until the proxy has handled
# everything: EXPR over the status FILEs (default: total rx and XDP counters of $XPI_STATS)
# equal over three consecutive status writes.
xpi_settle()
{
	local expr=${1:-'ws(s, "rx_packets"), s.xdp_packets'} last="" cur same=0 i f
	local files=("${@:2}")
	[ ${#files[@]} -gt 0 ] || files=("${XPI_STATS:?}")
	for ((i = 0; i < 100 && same < 3; i++)); do
		sleep 0.25
		cur=$(for f in "${files[@]}"; do xpi_py "$expr" s="$f"; done | xargs)
		if [ "$cur" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$cur
	done
	# What the proxy sent is on a veth: delivered by now, give the sinks' sockets a moment.
	sleep 0.2
}

# xpi_dropmap NAME: {"now_ns": CLOCK_MONOTONIC just after the dump, "entries": bpftool's
# JSON}.  (After: every entry was written before now_ns.)
xpi_dropmap()
{
	local now dump
	dump=$(bpftool -j map dump pinned "${XPI_PIN_ROOT:?no test bpffs}/eth0/xpro_drop") ||
		xpi_die "bpftool map dump"
	now=$(python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC))')
	printf '{"now_ns": %s, "entries": %s}\n' "$now" "$dump" >"$XPI_T/$1.json"
}

# xpi_py EXPR [NAME | NAME=FILE]...: print the value of a python3 expression over JSON files.
xpi_py()
{
	python3 - "$XPI_T" "$@" <<'EOF'
import ipaddress, json, os, sys

class J(dict):
    """A JSON object whose keys also read as attributes."""
    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError:
            raise AttributeError(k)

def load(path):
    with open(path) as f:
        return json.load(f, object_hook=J)

def ws(s, k):                       # a worker counter summed over the proxy's workers
    return sum(w[k] for w in s["workers"])

def rej(s, r=None):                 # rejections by tun_auth: one reason, or all
    return sum(w["rejected"][r] if r else sum(w["rejected"].values()) for w in s["workers"])

def verd(s, v):                     # filter verdicts summed over workers
    return sum(w["verdicts"][v] for w in s["workers"])

def fl(sink, flow=None, flows=None, src=None):
    """The sink's flow entries matching a flow id, a set of ids, a source address."""
    return [f for f in sink["flow_list"]
            if (flow is None or f["flow"] == flow) and (flows is None or f["flow"] in flows)
            and (src is None or f["src"] == src)]

def recv(sink, **kw):
    return sum(f["received"] for f in fl(sink, **kw))

def clean(sink, **kw):              # every matching flow in order, none corrupted or missing
    return all(f["in_order"] == f["received"] and f["corrupted"] == 0 and f["missing"] == 0
               and f["duplicates"] == 0 for f in fl(sink, **kw))

def _bytes(v):
    return bytes(int(x, 16) if isinstance(x, str) else x for x in v)

def drops(dump):
    """bpftool's dump of xpro_drop as [{dst, dev, until_ns, packets}]."""
    out = []
    for e in dump["entries"] if isinstance(dump, dict) else dump:
        k, v = e.get("formatted", e)["key"], e.get("formatted", e)["value"]
        if isinstance(k, dict):
            dst, dev = bytes(k["dst"]), k["dev"]
            until, pk = v["until_ns"], v["packets"]
        else:
            kb, vb = _bytes(e["key"]), _bytes(e["value"])
            dst, dev = kb[:16], int.from_bytes(kb[16:20], "little")
            until, pk = int.from_bytes(vb[:8], "little"), int.from_bytes(vb[8:16], "little")
        a = ipaddress.IPv6Address(dst)
        out.append(J(dst=str(a.ipv4_mapped or a), dev=dev, until_ns=until, packets=pk))
    return out

t, expr = sys.argv[1], sys.argv[2]
env = {}
for a in sys.argv[3:]:
    name, _, path = a.partition("=")
    env[name] = load(path or os.path.join(t, name + ".json"))
g = dict(globals())
g.update(env)
v = eval(expr, g)
print(v if not isinstance(v, tuple) else " ".join(map(str, v)))
EOF
}

# xpi_true EXPR [NAME...]: succeed if the expression is true (for xpi_wait_for).
xpi_true()
{
	[ "$(xpi_py "$@" 2>/dev/null)" = True ]
}

# xpi_check DESC EXPR [NAME...]: the expression must be true.
xpi_check()
{
	local desc=$1 expr=$2 v
	shift 2
	v=$(xpi_py "$expr" "$@") || v="error"
	if [ "$v" = True ]; then
		XPI_PASS=$((XPI_PASS + 1))
		echo "ok - $desc"
	else
		XPI_FAIL=$((XPI_FAIL + 1))
		echo "not ok - $desc   [$expr -> $v]"
	fi
}

# xpi_report EXPR NAME...: print a summary line (an f-string over the files).
xpi_report()
{
	echo "  $(xpi_py "$@")"
}

xpi_finish()
{
	local secs
	secs=$(python3 -c "import time; print('%.1f' % (time.time() - $XPI_T0))")
	echo "$XPI_NAME: $XPI_PASS passed, $XPI_FAIL failed (${secs}s)"
	# In cmocka's words, so that scripts/run-tests.sh counts every check.
	echo "[  PASSED  ] $XPI_PASS test(s)."
	[ "$XPI_FAIL" -eq 0 ] || echo "[  FAILED  ] $XPI_FAIL test(s)."
	[ "$XPI_FAIL" -eq 0 ]
}
