#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# xpro-proxy's start-up and shutdown: clear errors for a missing interface, a bad
# provisioning file (nothing attached) and a busy interface (the running proxy is left
# alone); SIGTERM detaches the XDP program and exits 0; a program that is not ours is
# refused and left attached; a start without privileges names the capabilities it lacks.
# (A proxy started after a SIGKILL takes the dead one's program over: test_proxy_restart.sh.)
set -euo pipefail
cd "$(dirname "$0")/../.."

ns="xps$$"
tmp=$(mktemp -d)
proxy_pid=""
cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

ip netns add "$ns"
ip -n "$ns" link add veth0 type veth peer name veth1
ip -n "$ns" link set veth0 up
ip -n "$ns" link set veth1 up
build/xpro-gen --mode provision --devices 2 --seed 1 -o "$tmp/ok.prov" >/dev/null
printf '1 zz 198.18.64.1/32\n' >"$tmp/bad.prov"
proxy() { ip netns exec "$ns" build/xpro-proxy "$@"; }
has_xdp() { ip -n "$ns" link show veth0 | grep -qw xdp; }

# 1. Missing interface.
rc=0
proxy -i nosuch0 -P "$tmp/ok.prov" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "missing interface: exit $rc, want 1"
grep -q "interface 'nosuch0' not found" "$tmp/err" || fail "missing interface: $(cat "$tmp/err")"
echo "missing interface: exit 1, '$(tail -1 "$tmp/err")'"

# 2. Bad provisioning: refused before anything touches the interface.
rc=0
proxy -i veth0 -P "$tmp/bad.prov" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "bad provisioning: exit $rc, want 1"
grep -q "bad.prov:1: bad secret 'zz'" "$tmp/err" || fail "bad provisioning: $(cat "$tmp/err")"
! has_xdp || fail "bad provisioning left a program attached"
echo "bad provisioning: exit 1, '$(tail -1 "$tmp/err")', nothing attached"

# 3. Bad option value.
rc=0
proxy -i veth0 -P "$tmp/ok.prov" --tf1 0 2>"$tmp/err" || rc=$?
[ "$rc" -eq 2 ] || fail "bad threshold: exit $rc, want 2"
grep -q -- "--tf1: bad value '0'" "$tmp/err" || fail "bad threshold: $(cat "$tmp/err")"
echo "bad threshold: exit 2, '$(tail -1 "$tmp/err")'"

# 3b. Not root: refused, and the message names the capabilities to grant.
# (binary and file copied where nobody can reach them, whatever the checkout's modes)
chmod 0755 "$tmp"
cp build/xpro-proxy "$tmp/xpro-proxy"
chmod 0644 "$tmp/ok.prov"
rc=0
ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$tmp/xpro-proxy" -i veth0 -P "$tmp/ok.prov" --ctl-socket off 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "unprivileged: exit $rc, want 1"
grep -q "lacks CAP_NET_ADMIN, .*CAP_BPF; run xpro-proxy as root or grant them" "$tmp/err" ||
	fail "unprivileged: no hint: $(grep -v '^lib' "$tmp/err")"
! has_xdp || fail "unprivileged start left a program attached"
echo "unprivileged: exit 1, '$(grep -o 'lacks .*' "$tmp/err" | head -c 100)...'"

# 4. A running proxy, then a second one on the same interface.
ip netns exec "$ns" build/xpro-proxy -i veth0 -P "$tmp/ok.prov" -s "$tmp/stats.json" \
	2>"$tmp/first.err" &
proxy_pid=$!
for _ in $(seq 50); do [ -s "$tmp/stats.json" ] && break; sleep 0.1; done
[ -s "$tmp/stats.json" ] || fail "first proxy did not start: $(cat "$tmp/first.err")"
has_xdp || fail "first proxy: no XDP program on veth0"
rc=0
proxy -i veth0 -P "$tmp/ok.prov" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "second proxy: exit $rc, want 1"
grep -q "another xpro-proxy runs on it" "$tmp/err" || fail "second proxy: $(cat "$tmp/err")"
kill -0 "$proxy_pid" || fail "the second proxy's failure stopped the first"
has_xdp || fail "the second proxy's failure detached the first one's program"
echo "busy interface: exit 1, '$(grep "another xpro-proxy" "$tmp/err")', first proxy still attached"

# 5. SIGTERM: detach, free, exit 0, final status written.
kill -TERM "$proxy_pid"
rc=0
wait "$proxy_pid" || rc=$?
proxy_pid=""
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc, want 0: $(cat "$tmp/first.err")"
! has_xdp || fail "SIGTERM left the program attached"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert len(s['workers']) == 1" \
	"$tmp/stats.json" || fail "final status file incomplete"
echo "SIGTERM: exit 0, program detached, final status written"

# 6. Someone else's XDP program on the interface: refused, and it stays.
ip -n "$ns" link set dev veth0 xdp obj build/gen/gen_seal.bpf.o sec xdp
rc=0
proxy -i veth0 -P "$tmp/ok.prov" 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] || fail "foreign program: exit $rc, want 1"
grep -q "another program is attached (id [0-9]*, 'gen_seal'), not one of ours" "$tmp/err" ||
	fail "foreign program: $(cat "$tmp/err")"
ip -n "$ns" link show veth0 | grep -q "name gen_seal" || fail "the foreign program was displaced"
ip -n "$ns" link set dev veth0 xdp off
echo "foreign program: exit 1, '$(grep "not one of ours" "$tmp/err")', left attached"
echo "startup: all checks passed"
