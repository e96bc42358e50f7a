#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the testbed's images without any image registry (make docker-image):
#   xpro-base  Debian bookworm minbase from debootstrap, with the runtime packages the X-Pro
#              binaries and the testbed need installed by debootstrap itself, imported with
#              `docker import`.  The rootfs tarball is cached in build/docker/: a second run
#              only re-imports it, and only if the image is missing.
#   xpro       FROM xpro-base: build/xpro-proxy, xpro-gen, xpro-sink, xproctl, docker/*.sh.
# Packages go in before the import, not by apt in a Dockerfile RUN: the build then needs no
# network inside containers (our dockerd may run with --bridge=none --iptables=false).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/build/docker
# Debian's client matches Debian's daemon (a newer client warns about the legacy builder).
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || echo docker)}
PKGS=libxdp1,libbpf1,libhiredis0.14,liburcu8,libjemalloc2,libelf1,zlib1g,libstdc++6
PKGS=$PKGS,redis-server,redis-tools,iproute2,procps
# The mirror apt uses (deb822 or one-line sources), else deb.debian.org.
mirror()
{
	local m
	m=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/* *$/\1/p' /etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -v security | head -1)
	[ -z "$m" ] && m=$(sed -n 's/^deb \(http[^ ]*debian\)\/* bookworm .*/\1/p' \
		/etc/apt/sources.list 2>/dev/null | head -1)
	echo "${m:-http://deb.debian.org/debian}"
}

base_tar()
{
	local tar=$CACHE/xpro-base.tar stamp=$CACHE/xpro-base.pkgs rootfs=$CACHE/rootfs
	if [ -s "$tar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$PKGS" ]; then
		return 0
	fi
	command -v debootstrap >/dev/null || {
		echo "docker-image: debootstrap missing (apt-get install debootstrap)" >&2
		return 1
	}
	mkdir -p "$CACHE"
	rm -rf "$rootfs"
	echo "docker-image: debootstrap bookworm minbase from $(mirror) (a few minutes, once)"
	debootstrap --variant=minbase --include="$PKGS" bookworm "$rootfs" "$(mirror)" \
		>"$CACHE/debootstrap.log" 2>&1 || {
		tail -20 "$CACHE/debootstrap.log" >&2
		return 1
	}
	# Smaller image; the apt lists and caches are not needed at run time.
	rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
	tar -C "$rootfs" --numeric-owner -cf "$tar.tmp" .
	mv "$tar.tmp" "$tar"
	echo "$PKGS" >"$stamp"
	rm -rf "$rootfs"
}

# shellcheck source=docker/engine.sh
source "$ROOT/docker/engine.sh"
dk_engine_up "${XDK_INSTALL:-0}" || {
	echo "docker-image: no Docker engine: $DK_SKIP_REASON" >&2
	exit 1
}
# A dockerd started just for this stops again; the images stay in its store.
trap dk_engine_down EXIT

base_tar
if ! "$DOCKER" image inspect xpro-base >/dev/null 2>&1 ||
	[ "$CACHE/xpro-base.tar" -nt "$CACHE/xpro-base.imported" ]; then
	echo "docker-image: docker import xpro-base"
	"$DOCKER" import "$CACHE/xpro-base.tar" xpro-base >/dev/null
	touch "$CACHE/xpro-base.imported"
fi

# The build context: only what the image holds (not the whole tree).
ctx=$CACHE/ctx
rm -rf "$ctx"
mkdir -p "$ctx/bin"
# xproctl and xpro-modem only if built (xpro-modem: for the XPRO-MODEM switch in dev.sh).
for b in xpro-proxy xpro-gen xpro-sink xproctl xpro-modem; do
	if [ -x "$ROOT/build/$b" ]; then
		cp "$ROOT/build/$b" "$ctx/bin/"
	elif [ "$b" != xproctl ] && [ "$b" != xpro-modem ]; then
		echo "docker-image: build/$b missing: run make first" >&2
		exit 1
	fi
done
# xpro-gen looks for its XDP objects in <its dir>/gen/.
mkdir -p "$ctx/bin/gen"
cp "$ROOT"/build/gen/*.bpf.o "$ctx/bin/gen/" 2>/dev/null || true
cp "$ROOT"/docker/*.sh "$ctx/bin/"
cp "$ROOT/docker/Dockerfile" "$ctx/"
echo "docker-image: docker build xpro"
DOCKER_BUILDKIT=0 "$DOCKER" build -q -t xpro "$ctx" >/dev/null
rm -rf "$ctx"
echo "docker-image: xpro-base and xpro ready"
