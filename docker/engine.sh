#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Source it: dk_engine_up makes a Docker engine answer (starting dockerd if none runs, with
# docker.io installed by apt if missing), dk_engine_down stops a dockerd we started.
# dk_compose runs docker-compose v1 or `docker compose` v2, whichever is there.
# Our dockerd runs with --bridge=none --iptables=false: no docker0 (172.17/16) and no host
# firewall rules; the testbed's own networks are 198.18.8.0/24 and 198.18.9.0/24 and
# traffic between them goes through the router container, not the host.
# shellcheck disable=SC2034 # DK_SKIP_REASON is read by the scripts that source this
DK_STARTED=
DK_LOG=${DK_LOG:-/tmp/xdk-dockerd.log}
DK_SKIP_REASON=

dk_docker()
{
	if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

dk_compose()
{
	if command -v docker-compose >/dev/null; then
		docker-compose "$@"
	else
		dk_docker compose "$@"
	fi
}

# dk_engine_up [INSTALL]: 0 when an engine answers; else 1 with DK_SKIP_REASON set.
# INSTALL=1 lets it apt-get install docker.io, docker-compose and debootstrap if missing.
dk_engine_up()
{
	local install=${1:-0} i
	dk_docker info >/dev/null 2>&1 && return 0
	if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null ||
		{ ! command -v docker-compose >/dev/null && ! dk_docker compose version >/dev/null 2>&1; }; then
		if [ "$install" != 1 ] || [ "$(id -u)" -ne 0 ]; then
			DK_SKIP_REASON="docker.io, docker-compose or debootstrap not installed"
			return 1
		fi
		echo "docker: installing docker.io docker-compose debootstrap" >&2
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq \
			--no-install-recommends docker.io docker-compose debootstrap >/dev/null 2>&1 || {
			DK_SKIP_REASON="apt-get install docker.io docker-compose debootstrap failed"
			return 1
		}
	fi
	if [ "$(id -u)" -ne 0 ]; then
		DK_SKIP_REASON="no Docker engine answers and starting dockerd needs root"
		return 1
	fi
	echo "docker: starting dockerd (log $DK_LOG)" >&2
	# Its own session: a Ctrl-C or a timeout signalling our process group must not stop the
	# engine before the teardown has used it.
	setsid dockerd --bridge=none --iptables=false --ip6tables=false >"$DK_LOG" 2>&1 &
	DK_STARTED=$!
	for ((i = 0; i < 60; i++)); do
		dk_docker info >/dev/null 2>&1 && return 0
		kill -0 "$DK_STARTED" 2>/dev/null || break
		sleep 0.5
	done
	DK_SKIP_REASON="dockerd did not come up: $(tail -1 "$DK_LOG" 2>/dev/null)"
	dk_engine_down
	return 1
}

dk_engine_down()
{
	[ -n "$DK_STARTED" ] || return 0
	kill "$DK_STARTED" 2>/dev/null || true
	wait "$DK_STARTED" 2>/dev/null || true
	DK_STARTED=
}
