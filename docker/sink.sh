#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry of the victim and the bystander: the devices' inner prefix routes back through the
# router (the sink itself never replies; a TCP server here would need it, and the router a
# route per device group to its proxy), then xpro-sink as PID 1 (SIGTERM: final JSON).
# Environment: XDK_NAME (file name in /out), XDK_PORT, XDK_ROUTER, XDK_DEV_RANGE.
set -eu
ip route replace "${XDK_DEV_RANGE:-198.18.64.0/18}" via "${XDK_ROUTER:?}"
exec xpro-sink -p "${XDK_PORT:?}" --json >"/out/${XDK_NAME:?}.json"
