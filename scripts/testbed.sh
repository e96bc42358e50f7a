#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The namespace testbed: a switch namespace holding a Linux bridge, and one namespace per
# proxy, device generator, victim and bystander, each joined to the bridge by a veth pair.
# Source it (tb_up / tb_down / tb_exec ...) or run it: scripts/testbed.sh up|down|status.
#
#   role        namespace      eth0 address      notes
#   switch      ${P}sw         -                 br0, one port p-<role> per veth
#   proxy0..    ${P}p0..       198.18.0.1..      TB_QUEUES rx/tx queues on both veth ends
#   dev         ${P}dev        198.18.0.10       simulated devices; 198.18.64.0/18 is local;
#                                                TB_DEV_QUEUES (1) queues: with one, the
#                                                bridge spreads flows over the proxy's
#                                                queues by hash (with more, by queue number)
#   dev1..devK  ${P}d1..       198.18.0.11..     extra device namespaces (TB_EXTRA_DEVS)
#   victim      ${P}vic        198.18.0.100      route 198.18.64.0/18 via the dev namespace
#   bystander   ${P}bys        198.18.0.101      same route
# With TB_IPV6=1 every eth0 also gets 2001:2::<last octet>/64 (nodad) and the device range
# 2001:2:0:40::/64 sits in the dev namespace; otherwise IPv6 is off (no RS/MLD noise).
#
# Knobs (environment, read by tb_up): TB_PREFIX (default xp<pid>-), TB_PROXIES (1),
# TB_QUEUES (2), TB_DEV_QUEUES (1), TB_EXTRA_DEVS (0), TB_MTU (1500), TB_IPV6 (0).  tb_up
# exports them all.
# TB_FAIL_AT=ROLE makes tb_up fail just before ROLE (tests of the unwind).

TB_SUBNET=198.18.0
TB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TB_DEV_RANGE=198.18.64.0/18
TB_DEV_RANGE6=2001:2:0:40::/64

# ---- naming -------------------------------------------------------------------------------

# Every role tb_up creates, switch excluded, in creation order.
tb_roles()
{
	local i
	for ((i = 0; i < ${TB_PROXIES:-1}; i++)); do
		echo "proxy$i"
	done
	echo dev
	for ((i = 1; i <= ${TB_EXTRA_DEVS:-0}; i++)); do
		echo "dev$i"
	done
	echo victim
	echo bystander
}

# tb_ns ROLE: the namespace name of ROLE ("proxy" is proxy0).
tb_ns()
{
	local p=${TB_PREFIX:?TB_PREFIX is not set: call tb_up first}
	case $1 in
	switch) echo "${p}sw" ;;
	proxy) echo "${p}p0" ;;
	proxy[0-9]*) echo "${p}p${1#proxy}" ;;
	dev) echo "${p}dev" ;;
	dev[0-9]*) echo "${p}d${1#dev}" ;;
	victim) echo "${p}vic" ;;
	bystander) echo "${p}bys" ;;
	ns:*) echo "${1#ns:}" ;; # a namespace a test made itself (named ${TB_PREFIX}...: tb_down removes it)
	*)
		echo "tb_ns: unknown role '$1'" >&2
		return 1
		;;
	esac
}

# tb_addr ROLE [6]: ROLE's eth0 address (IPv6 with a second argument "6").
tb_addr()
{
	local host
	case $1 in
	proxy) host=1 ;;
	proxy[0-9]*) host=$((${1#proxy} + 1)) ;;
	dev) host=10 ;;
	dev[0-9]*) host=$((10 + ${1#dev})) ;;
	victim) host=100 ;;
	bystander) host=101 ;;
	*)
		echo "tb_addr: no address for role '$1'" >&2
		return 1
		;;
	esac
	if [ "${2:-4}" = 6 ]; then
		echo "2001:2::$host"
	else
		echo "$TB_SUBNET.$host"
	fi
}

# tb_ifname ROLE: the interface inside ROLE's namespace (always eth0; br0 in the switch).
tb_ifname()
{
	if [ "$1" = switch ]; then echo br0; else echo eth0; fi
}

# tb_port ROLE: ROLE's bridge port, inside the switch namespace.
tb_port()
{
	[ "$1" = proxy ] && set -- proxy0
	echo "p-$1"
}

# tb_mac ROLE: the MAC address of ROLE's eth0.
tb_mac()
{
	local ns
	ns=$(tb_ns "$1") || return 1
	ip -n "$ns" -br link show dev "$(tb_ifname "$1")" | awk '{ print $3 }'
}

# tb_exec ROLE CMD...: run CMD inside ROLE's namespace.
tb_exec()
{
	local ns
	ns=$(tb_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# tb_dev_addr I: the inner (tunnelled) source address of simulated device I.
tb_dev_addr()
{
	local i=$1
	echo "198.18.$((64 + i / 256)).$((i % 256))"
}

# tb_ping FROM TO [COUNT]: ICMP echo from FROM's namespace to TO's address; 0 if all answered.
# (iputils ping is not installed on these machines; this is python3 on a raw socket.)
tb_ping()
{
	local to
	to=$(tb_addr "$2") || return 1
	tb_exec "$1" python3 - "$to" "${3:-3}" <<'EOF'
import os, socket, struct, sys, time
dst, count = sys.argv[1], int(sys.argv[2])
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1.0)
ident, ok = os.getpid() & 0xffff, 0
for seq in range(count):
    body = struct.pack("!HH", ident, seq) + b"xpro-testbed-ping"
    hdr = struct.pack("!BBH", 8, 0, 0)
    pkt = struct.pack("!BBH", 8, 0, csum(hdr + body + b"\0")) + body
    s.sendto(pkt, (dst, 0))
    end = time.time() + 1.0
    while time.time() < end:
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (data[0] & 0x0f) * 4
        t, _, _, i, q = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if addr[0] == dst and t == 0 and i == ident and q == seq:
            ok += 1
            break
print("tb_ping %s: %d/%d answered" % (dst, ok, count))
sys.exit(0 if ok == count else 1)
EOF
}

# tb_fastpath FROM TO: an XDP program on FROM's bridge port sends frames for TO's MAC
# straight to TO's port (XDP redirect, no bridge, no skb) and passes the rest to the bridge.
# For floods: BPF_PROG_RUN live frames need an XDP program on the receiving port anyway
# (without one they are dropped), and this is the fastest.  TO must have an XDP program on
# its eth0 (the proxy's, or xpro-gen --mode xdp), or redirected frames are dropped.  Removed
# with the testbed.  tb_fastpath FROM pass: a plain counting XDP_PASS, the bridge path.
tb_fastpath()
{
	local gen="$TB_ROOT/build/xpro-gen"
	if [ "$2" = pass ]; then
		tb_exec switch "$gen" --mode xdp --action pass --ifname "$(tb_port "$1")" --keep
		return
	fi
	tb_exec switch "$gen" --mode xdp --action redirect --ifname "$(tb_port "$1")" \
		--redirect-to "$(tb_port "$2")" --dst-mac "$(tb_mac "$2")" --keep
}

# ---- set-up and tear-down ------------------------------------------------------------------

_tb_sysctl()
{
	ip netns exec "$1" sysctl -qw "$2" >/dev/null
}

# Run one set-up step; say which failed.  (Not set -e: it is switched off inside any
# function that a caller runs under if, && or ||.)
_tb_do()
{
	"$@" && return 0
	echo "tb_up: failed: $*" >&2
	return 1
}

# Create ROLE's namespace and its veth pair to the bridge, then address it.
_tb_attach()
{
	local role=$1 ns sw port q=1
	ns=$(tb_ns "$role") || return 1
	sw=$(tb_ns switch)
	port=$(tb_port "$role")
	case $role in
	proxy*) q=${TB_QUEUES} ;;
	dev) q=${TB_DEV_QUEUES:-1} ;;
	esac
	_tb_do ip netns add "$ns" || return 1
	# Before the veth exists, so that eth0 inherits the defaults.
	if [ "$TB_IPV6" = 1 ]; then
		_tb_do _tb_sysctl "$ns" net.ipv6.conf.all.accept_dad=0 || return 1
		_tb_do _tb_sysctl "$ns" net.ipv6.conf.default.accept_dad=0 || return 1
	else
		_tb_do _tb_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 || return 1
		_tb_do _tb_sysctl "$ns" net.ipv6.conf.default.disable_ipv6=1 || return 1
	fi
	# Both ends are created inside their namespaces: nothing ever appears in the root
	# namespace, so parallel runs cannot collide on interface names.
	_tb_do ip link add eth0 netns "$ns" numtxqueues "$q" numrxqueues "$q" mtu "$TB_MTU" \
		type veth peer name "$port" netns "$sw" numtxqueues "$q" numrxqueues "$q" \
		mtu "$TB_MTU" || return 1
	_tb_do ip -n "$sw" link set "$port" master br0 up || return 1
	_tb_do ip -n "$ns" link set lo up || return 1
	_tb_do ip -n "$ns" addr add "$(tb_addr "$role")/24" dev eth0 || return 1
	if [ "$TB_IPV6" = 1 ]; then
		_tb_do ip -n "$ns" addr add "$(tb_addr "$role" 6)/64" dev eth0 nodad || return 1
	fi
	_tb_do ip -n "$ns" link set eth0 up || return 1
	case $role in
	dev)
		# Every simulated device's inner address is local here, so replies reach them.
		_tb_do ip -n "$ns" route add local "$TB_DEV_RANGE" dev lo || return 1
		if [ "$TB_IPV6" = 1 ]; then
			_tb_do ip -n "$ns" -6 route add local "$TB_DEV_RANGE6" dev lo || return 1
		fi
		;;
	victim | bystander)
		_tb_do ip -n "$ns" route add "$TB_DEV_RANGE" via "$(tb_addr dev)" || return 1
		if [ "$TB_IPV6" = 1 ]; then
			_tb_do ip -n "$ns" -6 route add "$TB_DEV_RANGE6" via "$(tb_addr dev 6)" ||
				return 1
		fi
		;;
	esac
	return 0
}

_tb_build()
{
	local sw role
	sw=$(tb_ns switch)
	_tb_do ip netns add "$sw" || return 1
	_tb_do _tb_sysctl "$sw" net.ipv6.conf.all.disable_ipv6=1 || return 1
	_tb_do _tb_sysctl "$sw" net.ipv6.conf.default.disable_ipv6=1 || return 1
	_tb_do ip -n "$sw" link set lo up || return 1
	# No STP, no forwarding delay: ports forward as soon as they are up.
	_tb_do ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0 \
		mcast_snooping 0 || return 1
	_tb_do ip -n "$sw" link set br0 up || return 1
	for role in $(tb_roles); do
		# Tests set TB_FAIL_AT=ROLE to prove that a half-built testbed is unwound.
		if [ "${TB_FAIL_AT:-}" = "$role" ]; then
			echo "tb_up: failing before $role (TB_FAIL_AT)" >&2
			return 1
		fi
		_tb_attach "$role" || return 1
	done
	return 0
}

# tb_up [PROXIES [QUEUES [EXTRA_DEVS]]]: build the topology; on any failure remove whatever
# was built and return 1.
tb_up()
{
	export TB_PREFIX=${TB_PREFIX:-xp$$-}
	export TB_PROXIES=${1:-${TB_PROXIES:-1}}
	export TB_QUEUES=${2:-${TB_QUEUES:-2}}
	export TB_DEV_QUEUES=${TB_DEV_QUEUES:-1}
	export TB_EXTRA_DEVS=${3:-${TB_EXTRA_DEVS:-0}}
	export TB_MTU=${TB_MTU:-1500}
	export TB_IPV6=${TB_IPV6:-0}
	if [ "$TB_PROXIES" -lt 1 ] || [ "$TB_PROXIES" -gt 9 ] ||
		[ "$TB_EXTRA_DEVS" -lt 0 ] || [ "$TB_EXTRA_DEVS" -gt 80 ] ||
		[ "$TB_QUEUES" -lt 1 ] || [ "$TB_QUEUES" -gt 64 ] ||
		[ "$TB_DEV_QUEUES" -lt 1 ] || [ "$TB_DEV_QUEUES" -gt 64 ]; then
		echo "tb_up: want 1..9 proxies, 1..64 queues, 0..80 extra devices" >&2
		return 1
	fi
	if [ -n "$(_tb_namespaces)" ]; then
		echo "tb_up: namespaces with prefix '$TB_PREFIX' already exist" >&2
		return 1
	fi
	if ! _tb_build; then
		echo "tb_up: set-up failed; removing what was built" >&2
		tb_down
		return 1
	fi
}

_tb_namespaces()
{
	[ -n "${TB_PREFIX:-}" ] || return 0
	ip netns list 2>/dev/null | awk '{ print $1 }' | grep -F -- "$TB_PREFIX" |
		while read -r ns; do
			[ "${ns#"$TB_PREFIX"}" != "$ns" ] && echo "$ns"
		done
}

# tb_down: end every process left in our namespaces, then delete them (and with them every
# veth and the bridge).  Safe to call twice, and after a partial tb_up.
tb_down()
{
	local ns pids rc=0 i
	[ -n "${TB_PREFIX:-}" ] || return 0
	for ns in $(_tb_namespaces); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086 # one pid per word
			kill -TERM $pids 2>/dev/null
			for i in 1 2 3 4 5 6 7 8 9 10; do
				[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
				sleep 0.1
			done
			pids=$(ip netns pids "$ns" 2>/dev/null)
			# shellcheck disable=SC2086
			[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		fi
		ip netns del "$ns" 2>/dev/null || rc=1
	done
	return $rc
}

# tb_status: what exists now under TB_PREFIX.
tb_status()
{
	local ns
	echo "prefix ${TB_PREFIX:-<unset>}: proxies ${TB_PROXIES:-?} queues ${TB_QUEUES:-?}" \
		"device queues ${TB_DEV_QUEUES:-?} extra devices ${TB_EXTRA_DEVS:-?}"
	for ns in $(_tb_namespaces); do
		printf '%-14s ' "$ns"
		ip -n "$ns" -br addr show | awk '$1 != "lo" { printf "%s %s %s  ", $1, $2, $3 }'
		echo
	done
}

# ---- run as a command ----------------------------------------------------------------------

_tb_state_file()
{
	echo "/run/xpro-testbed-${TB_PREFIX%-}.env"
}

_tb_main()
{
	local cmd=${1:-}
	shift || true
	case $cmd in
	up)
		TB_PREFIX=${TB_PREFIX:-xp$$-}
		tb_up "$@" || return 1
		declare -p TB_PREFIX TB_PROXIES TB_QUEUES TB_DEV_QUEUES TB_EXTRA_DEVS TB_MTU TB_IPV6 |
			sed 's/^declare -x /export /' >"$(_tb_state_file)"
		tb_status
		echo "export TB_PREFIX=$TB_PREFIX   # then: scripts/testbed.sh down"
		;;
	down | status)
		[ -n "${1:-}" ] && TB_PREFIX=$1
		if [ -z "${TB_PREFIX:-}" ]; then
			echo "testbed.sh $cmd: set TB_PREFIX or pass it" >&2
			return 2
		fi
		# shellcheck disable=SC1090
		[ -f "$(_tb_state_file)" ] && . "$(_tb_state_file)"
		if [ "$cmd" = status ]; then
			tb_status
		else
			tb_down && rm -f "$(_tb_state_file)"
		fi
		;;
	*)
		cat <<EOF
usage: scripts/testbed.sh up [PROXIES [QUEUES [EXTRA_DEVS]]]   build; prints TB_PREFIX
       scripts/testbed.sh status [PREFIX]                      list namespaces, addresses
       scripts/testbed.sh down [PREFIX]                        remove everything
Sourced: tb_up, tb_down, tb_status, tb_ns ROLE, tb_exec ROLE CMD..., tb_addr ROLE [6],
tb_mac ROLE, tb_port ROLE, tb_ping FROM TO, tb_dev_addr I, tb_fastpath FROM TO|pass.
Roles: switch, proxy (proxy0), proxyN, dev, devK, victim, bystander.  Environment:
TB_PREFIX TB_PROXIES TB_QUEUES TB_DEV_QUEUES TB_EXTRA_DEVS TB_MTU TB_IPV6.
EOF
		[ "$cmd" = help ] || [ "$cmd" = -h ] || [ "$cmd" = --help ]
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_tb_main "$@"
	exit $?
fi
