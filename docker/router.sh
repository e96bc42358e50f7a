#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of the router container: joins the proxies' network and the victims' network and
# forwards between them (compose sets the sysctls: /proc/sys is read-only in here).
# Decapsulated packets carry a device's inner source address (198.18.64.0/18), which no
# interface here owns: a reverse-path filter on any interface would drop them.
set -eu
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || echo "router.sh: ip_forward is off" >&2
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do
	[ "$(cat "$f")" = 0 ] || echo "router.sh: $f is $(cat "$f"): inner sources dropped" >&2
done
echo "router: forwarding"
exec sleep infinity
