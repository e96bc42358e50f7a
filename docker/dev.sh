#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of a device container: simulated devices sending through one proxy.
# XPRO-MODEM: the devices are xpro-gen --mode paced (tunnel packets from provisioned device
# keys over UDP), not the device daemon xpro-modem (modem-fw/linux/, being written).  To run
# real device daemons, replace the exec below with xpro-modem started once per device index
# in [XDK_FIRST, XDK_FIRST + XDK_COUNT), each with /prov/prov and -x XDK_PROXY, and have it
# send to XDK_DST; the outcome JSON must then come from the sink side only.
# Environment: XDK_NAME, XDK_PROXY (addr:port), XDK_DST (addr:port), XDK_FIRST, XDK_COUNT,
# XDK_FLOW_BASE, XDK_RATE (pps per device), XDK_PACKETS (in all).
set -eu
exec xpro-gen --json --mode paced -P /prov/prov --dev-first "${XDK_FIRST:?}" \
	--dev-count "${XDK_COUNT:?}" --flows "$XDK_COUNT" --flow-base "${XDK_FLOW_BASE:?}" \
	--rate "${XDK_RATE:?}" --count "${XDK_PACKETS:?}" --sockets 4 -x "${XDK_PROXY:?}" \
	--dst "${XDK_DST:?}" >"/out/${XDK_NAME:?}.json"
