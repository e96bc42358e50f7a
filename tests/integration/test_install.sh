#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What an operator installs: `make install` into a staging root, then the Debian package
# (`make deb`) installed on this machine with dpkg, used, and removed.
#
#   1. make install DESTDIR=... PREFIX=/usr: the binaries, the manual pages, the units,
#      the examples; every page renders with no groff warning; xpro-proxy(8) documents every
#      option that `xpro-proxy --help` lists, xpro-proxy.conf(5) every file key, xproctl(8)
#      every command; systemd-analyze verify accepts both units with no complaint.
#   2. make deb, dpkg -i: the installed xpro-proxy starts from the installed example
#      configuration (provision pointed at this test's file) as the unit starts it
#      (-C FILE -i IFACE), xproctl status reaches it, SIGTERM stops it cleanly.
#   3. dpkg -r: every file the package installed is gone.
set -euo pipefail
# shellcheck source=scripts/lib/harness.sh
source "$(dirname "$0")/../../scripts/lib/harness.sh"
xpi_init install

ok() {
	XPI_PASS=$((XPI_PASS + 1))
	echo "ok - $1"
}
notok() {
	XPI_FAIL=$((XPI_FAIL + 1))
	echo "not ok - $1"
}
# check DESC CMD...: CMD must succeed.
check() {
	local desc=$1
	shift
	if "$@" >"$XPI_T/check.out" 2>&1; then
		ok "$desc"
	else
		notok "$desc   [$(head -c 600 "$XPI_T/check.out" | tr '\n' ' ')]"
	fi
}

root=$XPI_T/root
pkg_ours=0
cleanup_pkg() {
	local rc=$?
	if [ "$pkg_ours" = 1 ]; then
		dpkg -P xpro >/dev/null 2>&1
	fi
	(exit "$rc") # xpi_cleanup reads the test's status from $?
	xpi_cleanup
}
trap cleanup_pkg EXIT

# --- 1. make install into a staging root ---
make --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$XPI_T/install.log" 2>&1 ||
	xpi_die "make install: $(tail -5 "$XPI_T/install.log")"

files_ok() {
	local f
	for f in usr/sbin/xpro-proxy usr/sbin/xproctl usr/sbin/xpro-modem usr/sbin/xpro-replay; do
		[ -x "$root/$f" ] || { echo "$f missing or not executable"; return 1; }
	done
	for f in usr/share/man/man8/xpro-proxy.8 usr/share/man/man5/xpro-proxy.conf.5 \
		usr/share/man/man8/xproctl.8 usr/share/man/man8/xpro-modem.8 \
		lib/systemd/system/xpro-proxy@.service lib/systemd/system/xpro-modem@.service \
		usr/share/doc/xpro/examples/proxy.conf usr/share/doc/xpro/examples/devices.conf.example \
		usr/share/doc/xpro/examples/modem.args.example usr/share/doc/xpro/protocol.md; do
		[ -s "$root/$f" ] || { echo "$f missing"; return 1; }
	done
	! grep -l "@SBINDIR@" "$root"/lib/systemd/system/* || return 1
	grep -q "^ExecStart=/usr/sbin/xpro-proxy -C /etc/xpro/%i.conf -i %i$" \
		"$root/lib/systemd/system/xpro-proxy@.service"
}
check "make install puts binaries, pages, units (ExecStart in PREFIX/sbin) and examples" files_ok

help_ok() {
	local b
	for b in xpro-proxy xproctl xpro-modem; do
		"$root/usr/sbin/$b" --help >"$XPI_T/$b.help" || { echo "$b --help failed"; return 1; }
	done
}
check "the installed binaries run (--help of each exits 0)" help_ok

pages_clean() {
	local p w
	for p in "$root"/usr/share/man/man*/*; do
		w=$(groff -man -ww -z "$p" 2>&1) || { echo "$p: groff failed"; return 1; }
		[ -z "$w" ] || { echo "$p: $w"; return 1; }
		MANWIDTH=80 man -l "$p" 2>/dev/null | grep -q "^NAME" || { echo "$p: no NAME"; return 1; }
	done
}
check "every manual page renders, with no groff warning" pages_clean

# Every --long option of --help in xpro-proxy(8), roff spelling each '-' as '\-'.
options_documented() {
	local o page=$root/usr/share/man/man8/xpro-proxy.8 n=0
	for o in $(grep -o -- '--[a-z0-9-]*' "$XPI_T/xpro-proxy.help" | sort -u); do
		grep -qF -- "\\fB${o//-/\\-}\\fR" "$page" || { echo "$o not in xpro-proxy(8)"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 40 ] || { echo "only $n options in --help"; return 1; }
	echo "$n options"
}
check "xpro-proxy(8) documents every option xpro-proxy --help lists" options_documented

keys_documented() {
	local k page=$root/usr/share/man/man5/xpro-proxy.conf.5 n=0
	for k in $(sed -n 's/^#\{0,1\}\([a-z0-9-]*\) =.*/\1/p' \
		"$root/usr/share/doc/xpro/examples/proxy.conf"); do
		grep -qF -- "\\fB${k//-/\\-}\\fR" "$page" || { echo "key $k not in xpro-proxy.conf(5)"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 40 ] || { echo "only $n keys in the example"; return 1; }
}
check "xpro-proxy.conf(5) documents every key of the example configuration" keys_documented

commands_documented() {
	local c page=$root/usr/share/man/man8/xproctl.8
	for c in status top flagged flag unflag set reload devices dst trace; do
		grep -q "^ *$c\b" "$XPI_T/xproctl.help" || { echo "$c not in xproctl --help"; return 1; }
		grep -q "^ *$c\b" "$page" || { echo "$c not in xproctl(8)"; return 1; }
	done
}
check "xproctl(8) documents every command" commands_documented

# systemd-analyze verify on an instance of each template, ExecStart pointing into the
# staging root, the Documentation= pages found there (MANPATH).
units_verify() {
	local d=$XPI_T/units out
	mkdir -p "$d"
	sed "s|/usr/sbin/|$root/usr/sbin/|" "$root/lib/systemd/system/xpro-proxy@.service" \
		>"$d/xpro-proxy@eth0.service"
	sed "s|/usr/sbin/|$root/usr/sbin/|" "$root/lib/systemd/system/xpro-modem@.service" \
		>"$d/xpro-modem@dev7.service"
	out=$(MANPATH=$root/usr/share/man systemd-analyze verify "$d/xpro-proxy@eth0.service" \
		"$d/xpro-modem@dev7.service" 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}
check "systemd-analyze verify accepts xpro-proxy@eth0 and xpro-modem@dev7, no warning" units_verify

# --- 2. the package, installed and used ---
make --no-print-directory deb >"$XPI_T/deb.log" 2>&1 || xpi_die "make deb: $(tail -5 "$XPI_T/deb.log")"
deb=$(sed -n 's/^deb: //p' "$XPI_T/deb.log")
[ -f "$deb" ] || xpi_die "make deb named no package: $(cat "$XPI_T/deb.log")"
if dpkg-query -W -f='${Status}' xpro 2>/dev/null | grep -q "install ok installed"; then
	notok "a package named xpro is already installed here: not touching it (dpkg -r xpro first)"
	xpi_finish
	exit
fi
pkg_ours=1
check "dpkg -i installs the package, its dependencies met" dpkg -i "$deb"
dpkg-query -L xpro >"$XPI_T/pkg.files" 2>/dev/null || true

tb_up 1 1 0 || xpi_die "tb_up"
xpi_provision 2
conf=$XPI_T/eth0.conf
sed "s|^provision = .*|provision = $XPI_PROV|" /usr/share/doc/xpro/examples/proxy.conf >"$conf"
PROXY=/usr/sbin/xpro-proxy xpi_start_proxy -C "$conf"
ctl_ok() {
	/usr/sbin/xproctl -s "$XPI_T/proxy.sock" status || return 1
	/usr/sbin/xproctl -s "$XPI_T/proxy.sock" devices | tee "$XPI_T/devices.out"
	grep -q "provisioned *2" "$XPI_T/devices.out"
}
check "the installed xproctl reaches the installed proxy (example configuration): 2 devices" ctl_ok
xpi_stop_proxy
ok "the installed proxy stops cleanly on SIGTERM"

# --- 3. removed ---
check "dpkg -r removes the package" dpkg -r xpro
left=()
while read -r f; do
	[ -f "$f" ] && left+=("$f")
done <"$XPI_T/pkg.files"
if [ "$(wc -l <"$XPI_T/pkg.files")" -ge 15 ] && [ ${#left[@]} -eq 0 ]; then
	ok "every one of its $(wc -l <"$XPI_T/pkg.files") paths' files is gone"
else
	notok "after dpkg -r: $(wc -l <"$XPI_T/pkg.files") paths listed, left: ${left[*]}"
fi
dpkg -P xpro >/dev/null 2>&1 || true
pkg_ours=0

xpi_finish
