#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: a Debian package of what `make install PREFIX=/usr` installs, built with
# dpkg-deb from the tree (no debian/ directory, no rebuild).  Usage: deb.sh OUTDIR
set -euo pipefail
out=${1:?usage: deb.sh OUTDIR}
version=${XPRO_VERSION:-0.1.0}
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

make --no-print-directory install DESTDIR="$stage" PREFIX=/usr >/dev/null
# Debian keeps manual pages compressed.
find "$stage/usr/share/man" -type f -exec gzip -9n {} +

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CTRL
Package: xpro
Version: $version
Architecture: $arch
Maintainer: X-Pro developers <xpro@localhost>
Installed-Size: $size
Depends: libc6, libxdp1, libbpf1, libhiredis0.14, liburcu8, libjemalloc2, libsodium23, libelf1, zlib1g
Recommends: redis-server
Section: net
Priority: optional
Homepage: https://github.com/xpro/xpro
Description: distributed XDP proxies against IoT botnets
 xpro-proxy authenticates tunnelled packets from IoT devices in AF_XDP workers,
 limits each (device, destination) pair and each destination (shared across
 proxies through Redis) and forwards the rest; flagged pairs are dropped in XDP.
 xpro-modem is the device side over TUN; xproctl controls a running proxy.
CTRL
# Units are enabled by the operator, per interface or device: only tell systemd they exist.
cat >"$stage/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SH
cat >"$stage/DEBIAN/postrm" <<'SH'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
SH
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"

mkdir -p "$out"
deb="$out/xpro_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "deb: $deb"
