#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bad input: over 20000 malformed, forged and replayed tunnel messages (24000 datagrams) (xpro-gen --mode bad
# --kind all, 14 kinds in turn, 10000 pps) while a legitimate device sends a paced flow to the
# victim.  Every bad message is dropped and counted by reason, none creates filter state,
# and the legitimate flow is delivered in full throughout.
#
# Where each kind must end (bpf/xpro.bpf.c, then docs/protocol.md "Proxy checks"):
#   XDP drop_malformed     version, type, flags, reserved (the XDP program checks the header)
#                          and truncated, except the cut that keeps all but the tag's last byte
#                          (1 in 9 of the truncation lengths), which is long enough for XDP
#   XDP drop_unknown_dev   unknown-dev, inactive-dev (the kernel's device map)
#   rejected MAC           bad-mac, and that one truncation in 9 (its tag cannot verify)
#   rejected EPOCH / REPLAY / SPOOF / INNER_OPTIONS / FRAGMENT / INNER
#                          wrong-epoch / replayed / spoofed / ip-options / fragment / inner-len
# The counts are exact.  The bad generator also sends some valid messages (each of its
# flows' first, to give its devices a current epoch, and the originals of replays): those
# are legitimate, go to the bystander and must all arrive there; they create one pair per
# bad-generator flow, and nothing else may.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init proxy_badinput

BAD_COUNT=24000
BAD_RATE=10000 # 2.4 s
BAD_FLOWS=6    # devices 1-6 (device 7 is provisioned inactive)
LEGIT_RATE=100
LEGIT_COUNT=400 # 4 s, starting before the bad traffic and ending after it

export TB_QUEUES=2
tb_up 1 2 0 || xpi_die "tb_up"
xpi_provision 8 --inactive-last
# T_T1 of a minute: no pair is reclaimed while the test runs, so engine.pairs at the end
# is every pair ever created.
xpi_start_proxy --queues 0-1 --tt1-ms 60000
xpi_sink vic victim 9000
xpi_sink bys bystander 9001

xpi_gen_bg legit dev --mode paced -P "$XPI_PROV" --dev-first 0 --dev-count 1 --flows 1 \
	--rate $LEGIT_RATE --count $LEGIT_COUNT --dst "$VICTIM_ADDR:9000"
xpi_wait_for "the legitimate flow reaches the proxy" 10 xpi_true 'verd(s, "PASS") >= 20' s="$XPI_STATS"
xpi_gen bad dev --mode bad --kind all -P "$XPI_PROV" --dev-first 1 --flows $BAD_FLOWS \
	--rate $BAD_RATE --count $BAD_COUNT --sockets 8 --dst "$BYSTANDER_ADDR:9001"
xpi_wait legit
xpi_settle
xpi_stop_proxy
xpi_stop vic
xpi_stop bys

K='bad.kinds'
TR_TAG="(${K}['truncated'] // 9)" # truncations at "all but the tag's last byte"
echo "proxy_badinput: $BAD_COUNT datagrams (bad and valid) at $BAD_RATE pps over $BAD_FLOWS devices, a $LEGIT_RATE pps legitimate flow alongside"
xpi_report "f'generator: {sum($K.values())} bad ({dict($K)}), {bad.valid} valid, sent {bad.sent}, errors {bad.errors}'" bad
xpi_report "f'XDP: drop_malformed {proxy.xdp_packets.drop_malformed}, drop_unknown_dev {proxy.xdp_packets.drop_unknown_dev}, redirect {proxy.xdp_packets.redirect}, pass_no_xsk {proxy.xdp_packets.pass_no_xsk}'" proxy
xpi_report "f'proxy rejected: { {r: rej(proxy, r) for r in proxy.workers[0].rejected if rej(proxy, r)} } (total {rej(proxy)}); PASS {verd(proxy, \"PASS\")}; engine pairs {proxy.engine.pairs}, devs {proxy.engine.devs}'" proxy
xpi_report "f'legitimate flow: sent {legit.sent}, delivered {vic.received}; bad generator valid messages: sent {bad.valid}, delivered {bys.received}'" legit vic bad bys

xpi_check "generator sent $BAD_COUNT datagrams (+2: its last event may add a valid original): over 20000 bad ones of all 14 kinds, the rest valid" \
	"$BAD_COUNT <= bad.sent <= $BAD_COUNT + 2 and sum($K.values()) + bad.valid == bad.sent and sum($K.values()) >= 20000 and len($K) == 14 and min($K.values()) > 0 and bad.errors == 0" bad
xpi_check "XDP drop_malformed == version + type + flags + reserved + truncated (all but 1 in 9)" \
	"proxy.xdp_packets.drop_malformed == sum(${K}[k] for k in ('version', 'type', 'flags', 'reserved', 'truncated')) - $TR_TAG" bad proxy
xpi_check "XDP drop_unknown_dev == unknown-dev + inactive-dev" \
	"proxy.xdp_packets.drop_unknown_dev == ${K}['unknown-dev'] + ${K}['inactive-dev']" bad proxy
xpi_check "rejected MAC == bad-mac + truncated at the tag" \
	"rej(proxy, 'MAC') == ${K}['bad-mac'] + $TR_TAG" bad proxy
for pair in EPOCH:wrong-epoch REPLAY:replayed SPOOF:spoofed INNER_OPTIONS:ip-options \
	FRAGMENT:fragment INNER:inner-len; do
	xpi_check "rejected ${pair%%:*} == ${pair#*:} (non-zero)" \
		"rej(proxy, '${pair%%:*}') == ${K}['${pair#*:}'] > 0" bad proxy
done
xpi_check "nothing rejected in userspace that XDP should have dropped" \
	"sum(rej(proxy, r) for r in ('SHORT', 'VERSION', 'TYPE', 'FLAGS', 'UNKNOWN_DEV', 'INACTIVE')) == 0" proxy
xpi_check "all bad messages accounted: XDP drops + rejections == bad sent" \
	"proxy.xdp_packets.drop_malformed + proxy.xdp_packets.drop_unknown_dev + rej(proxy) == sum($K.values())" bad proxy
xpi_check "every tunnel datagram reached XDP and was handled once" \
	"proxy.xdp_packets.redirect + proxy.xdp_packets.drop_malformed + proxy.xdp_packets.drop_unknown_dev == legit.sent + bad.sent and proxy.xdp_packets.pass_no_xsk == 0 and ws(proxy, 'rx_packets') == proxy.xdp_packets.redirect" legit bad proxy
xpi_check "the filter saw only valid messages, all passed" \
	"verd(proxy, 'PASS') == legit.sent + bad.valid and sum(w.verdicts[v] for w in proxy.workers for v in w.verdicts) == verd(proxy, 'PASS')" legit bad proxy
xpi_check "no pair state from bad messages: pairs == 1 legitimate + $BAD_FLOWS (bad generator's valid firsts)" \
	"proxy.engine.pairs == 1 + $BAD_FLOWS and ws(proxy, 'pairs_created') == 1 + $BAD_FLOWS and proxy.engine.devs == 1 + $BAD_FLOWS" proxy
xpi_check "legitimate flow delivered in full, in order, uncorrupted" \
	'vic.received == legit.sent == '$LEGIT_COUNT' and clean(vic) and vic.flows == 1' legit vic
xpi_check "the bad generator's valid messages all delivered (to the bystander)" \
	'bys.received == bad.valid and bys.corrupted == 0' bad bys
xpi_finish
