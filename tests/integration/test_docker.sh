#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The docker testbed (issue 6, docker/README.md): images built from debootstrap, a Redis
# master, three proxies each reading it through a local replica, devices (xpro-gen) spread
# over them, a victim and a bystander; the distributed attack with sync on, then off.
# The assertions are docker/report.py's (those of test_proxy_sync.sh, on containers).
#
# Runs when a Docker engine can be had: one that answers, or dockerd started here (docker.io,
# docker-compose and debootstrap installed by apt first if missing, as root).  Otherwise it
# prints one "skipped: REASON" line and counts as 0 passed, 0 failed.  XPRO_DOCKER=0 skips
# it on purpose.  Everything is torn down by docker/testbed.sh (images stay cached).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=docker/engine.sh
source "$ROOT/docker/engine.sh"

skip()
{
	echo "docker: skipped: $*"
	echo "[  PASSED  ] 0 test(s)."
	exit 0
}

[ "${XPRO_DOCKER:-1}" = 0 ] && skip "XPRO_DOCKER=0"
[ "$(id -u)" -eq 0 ] || skip "needs root (dockerd, XDP in containers)"
dk_engine_up 1 || skip "$DK_SKIP_REASON"
# A dockerd started here stops with the test; one that ran before is left alone.
trap dk_engine_down EXIT
# Bounded: ~1 min with the images cached, ~2 the first time (debootstrap); the timeout's
# SIGTERM still runs testbed.sh's teardown.
rc=0
XDK_REPLICA=1 timeout 300 "$ROOT/docker/testbed.sh" --check || rc=$?
exit "$rc"
