#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install every Debian package X-Pro's build, tests, demo and benchmarks need.
# Idempotent: installs only what is missing, and touches apt only then.
set -euo pipefail

PKGS=(
	build-essential make pkg-config git
	clang llvm lld libclang-rt-14-dev clang-format
	libbpf-dev libxdp-dev bpftool linux-libc-dev
	liburcu-dev libhiredis-dev libcmocka-dev libjemalloc-dev libsodium-dev
	redis-server iproute2 nftables python3 iputils-ping curl
	valgrind gnuplot-nox
	systemd man-db groff-base
	prometheus
)
# prometheus is here for promtool (tests/integration/test_monitoring.sh checks the alert rules
# of scripts/dist/monitoring/); its maintainer scripts would start a server, see below.

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No service starts because of us (prometheus, redis-server): policy-rc.d exiting 101 is
# Debian's way of telling maintainer scripts "not now" (invoke-rc.d and deb-systemd-invoke
# ask it).  Only if there is none already (containers often have one), and only around the
# install.
rcd=/usr/sbin/policy-rc.d
if [ ! -e "$rcd" ]; then
	trap 'rm -f "$rcd"' EXIT
	trap 'exit 130' INT TERM HUP
	printf '#!/bin/sh\n# written by X-Pro scripts/deps.sh for one apt-get install\nexit 101\n' >"$rcd"
	chmod 0755 "$rcd"
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
