#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The namespace testbed and the test tools: the topology comes up and goes away (also after
# a failure half-way), hosts reach each other, and xpro-gen's paced, bad and flood traffic
# arrives intact where it is sent (xpro-sink standing in for the proxy).  Run as root.
set -u
cd "$(dirname "$0")/../.." || exit 1
GEN=build/xpro-gen
SINK=build/xpro-sink
pass=0
fail=0

check()
{
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "ok - $what"
	else
		fail=$((fail + 1))
		echo "not ok - $what"
	fi
}

# jget FILE EXPR: a value from a JSON file, d being the parsed object.
jget()
{
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# Our namespaces, by prefix.
ours()
{
	ip netns list | awk '{ print $1 }' | grep -c "^$1" || true
}

if [ "$(id -u)" -ne 0 ] || [ ! -x $GEN ] || [ ! -x $SINK ]; then
	echo "test_testbed: needs root and $GEN, $SINK (make all)" >&2
	exit 1
fi

# shellcheck source=scripts/testbed.sh
source scripts/testbed.sh
export TB_PREFIX=xpt$$-
T=$(mktemp -d)
trap 'tb_down; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# ---- up: namespaces, addresses, reachability -----------------------------------------------
check "tb_up 2 proxies, 2 queues, 1 extra device" tb_up 2 2 1
check "7 namespaces while up" [ "$(ours "$TB_PREFIX")" -eq 7 ]
check "proxy0 has eth0 with 198.18.0.1" \
	sh -c "ip -n $(tb_ns proxy) -br addr show dev eth0 | grep -q 198.18.0.1/24"
check "proxy eth0 has 2 rx queues" tb_exec proxy test -d /sys/class/net/eth0/queues/rx-1
check "ping victim -> bystander" tb_ping victim bystander 2
check "ping dev -> proxy1" tb_ping dev proxy1 1
check "ping bystander -> extra device dev1" tb_ping bystander dev1 1

# ---- paced traffic arrives intact in the proxy namespace -----------------------------------
check "provisioning file" $GEN --mode provision --devices 10 --inactive-last --seed 1 -o "$T/prov"
tb_exec proxy $SINK --tunnel --port 7447 --json --duration 3000 --quiet >"$T/paced.json" &
sleep 0.3
tb_exec dev $GEN --mode paced -P "$T/prov" --flows 20 --rate 50 --count 1000 \
	--dst 198.18.0.100:9000,198.18.0.101:9001 --json >"$T/gen.json"
wait
check "paced: 1000 sent" [ "$(jget "$T/gen.json" 'd["sent"]')" -eq 1000 ]
check "paced: 1000 received in order, 20 flows" \
	[ "$(jget "$T/paced.json" 'd["received"], d["in_order"], d["flows"]')" = "(1000, 1000, 20)" ]
check "paced: nothing lost, duplicated, reordered or corrupted" \
	[ "$(jget "$T/paced.json" 'd["missing"] + d["duplicates"] + d["out_of_order"] + d["corrupted"] + d["socket_drops"]')" -eq 0 ]
check "paced: inner sources are the 9 active devices" \
	[ "$(jget "$T/paced.json" 'sorted(s["src"] for s in d["sources"]) == ["198.18.64.%d" % i for i in range(9)]')" = True ]

# ---- bad traffic: every kind sent, every datagram arrives ----------------------------------
tb_exec proxy $SINK --tunnel --port 7447 --json --duration 3000 --quiet >"$T/bad.json" &
sleep 0.3
tb_exec dev $GEN --mode bad -P "$T/prov" --flows 3 --rate 2000 --count 280 --json >"$T/badgen.json"
wait
check "bad: all 14 kinds sent" [ "$(jget "$T/badgen.json" 'sum(v > 0 for v in d["kinds"].values())')" -eq 14 ]
check "bad: kinds + valid = sent = received" \
	[ "$(jget "$T/badgen.json" 'sum(d["kinds"].values()) + d["valid"] == d["sent"]')" = True ]
check "bad: the sink saw every datagram" \
	[ "$(jget "$T/badgen.json" 'd["sent"]')" -eq "$(jget "$T/bad.json" 'd["received"]')" ]

# ---- floods through the XDP fast path, counted by an XDP_DROP on the proxy ------------------
check "fast path dev -> proxy0" tb_fastpath dev proxy0
for mode in live afxdp; do
	tb_exec proxy $GEN --mode xdp --action drop --duration 2500 --json >"$T/drop.json" 2>/dev/null &
	sleep 0.3
	tb_exec dev $GEN --mode flood --flood-mode $mode -P "$T/prov" --flows 9 --count 100000 \
		--dst-mac "$(tb_mac proxy)" --json >"$T/flood.json"
	wait
	check "flood $mode: 100000 sent" [ "$(jget "$T/flood.json" 'd["sent"]')" -eq 100000 ]
	check "flood $mode: 100000 dropped by XDP on the proxy" \
		[ "$(jget "$T/drop.json" 'd["counted"]')" -eq 100000 ]
done

# ---- down: nothing left, twice ------------------------------------------------------------
tb_exec victim sleep 60 &
check "tb_down (ending a process left in the victim)" tb_down
wait 2>/dev/null
check "no namespace left" [ "$(ours "$TB_PREFIX")" -eq 0 ]
check "tb_down again is fine" tb_down

# ---- failures: a half-built testbed and a failing test both leave nothing -------------------
# shellcheck disable=SC2016 # expanded by the inner bash
check "tb_up failing before the victim returns 1" \
	bash -c 'source scripts/testbed.sh; TB_PREFIX=xpf$$- TB_FAIL_AT=victim tb_up 2>/dev/null
		 rc=$?; [ $rc -eq 1 ] && [ -z "$(ip netns list | grep "^xpf$$-")" ]'
(
	export TB_PREFIX=xpx$$-
	trap tb_down EXIT
	tb_up >/dev/null || exit 2
	tb_exec bystander sleep 60 &
	false || exit 1 # a test failing in the middle
) 2>/dev/null
check "a failing test's trap removed everything" [ "$(ours "xpx$$-")" -eq 0 ]

# ---- as a command --------------------------------------------------------------------------
out=$(TB_PREFIX=xpc$$- scripts/testbed.sh up 1 1 0)
check "testbed.sh up prints the prefix" grep -q "export TB_PREFIX=xpc$$-" <<<"$out"
check "testbed.sh status lists 5 namespaces" \
	[ "$(scripts/testbed.sh status "xpc$$-" | grep -c "^xpc$$-")" -eq 5 ]
check "testbed.sh down" scripts/testbed.sh down "xpc$$-"
check "nothing left after testbed.sh down" [ "$(ours "xpc$$-")" -eq 0 ]

echo "testbed: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
