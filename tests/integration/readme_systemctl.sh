#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stand-in for systemctl inside a test namespace, where no systemd runs: starts, stops and
# reloads the units that `make install` put under $XPRO_ROOT, as systemd would run them
# (test_readme.sh puts it first on PATH).  What it reads from the unit: ExecStart (%i, and
# /usr/sbin/ as $XPRO_ROOT/usr/sbin/), EnvironmentFile, ConditionPathExists,
# RuntimeDirectory, StateDirectory, LimitMEMLOCK, CapabilityBoundingSet and
# NoNewPrivileges; so the unit's capability set is the one the program gets.  The main
# process's pid is kept in /run/xpro-systemctl/UNIT.pid, its stderr goes to
# $XPRO_UNIT_LOGS/UNIT.err.
#
#   systemctl enable --now UNIT | start UNIT | stop UNIT | reload UNIT | is-active UNIT
set -euo pipefail

root=${XPRO_ROOT:?XPRO_ROOT: the make install DESTDIR}
state=/run/xpro-systemctl
verb=${1:?usage: systemctl VERB UNIT}
shift
if [ "$verb" = enable ]; then
	[ "${1:-}" = --now ] || exit 0 # nothing to enable at boot in a namespace
	verb=start
	shift
fi
unit=${1:?usage: systemctl VERB UNIT}
unit=${unit%.service}
inst=${unit#*@}
file=$root/lib/systemd/system/${unit%%@*}@.service
[ -f "$file" ] || {
	echo "systemctl: unit $unit.service not found ($file)" >&2
	exit 5
}
key() { sed -n "s/^$1=//p" "$file" | sed "s|%i|$inst|g"; }
pid() { cat "$state/$unit.pid" 2>/dev/null; }
alive() { [ -n "$(pid)" ] && kill -0 "$(pid)" 2>/dev/null; }

case $verb in
start)
	alive && exit 0
	cond=$(key ConditionPathExists)
	if [ -n "$cond" ] && [ ! -e "$cond" ]; then
		echo "systemctl: $unit: condition ConditionPathExists=$cond not met, not started" >&2
		exit 0
	fi
	for d in $(key RuntimeDirectory); do mkdir -p "/run/$d"; done
	for d in $(key StateDirectory); do
		mkdir -p "/var/lib/$d" && chmod "$(key StateDirectoryMode)" "/var/lib/$d"
	done
	mkdir -p "$state"
	caps=$(key CapabilityBoundingSet | tr 'A-Z ' 'a-z\n' | sed -n 's/^cap_/+/p' | paste -sd,)
	priv=(setpriv)
	[ -n "$caps" ] && priv+=(--bounding-set "-all,$caps")
	[ "$(key NoNewPrivileges)" = yes ] && priv+=(--no-new-privs)
	# (a container without CAP_SYS_RESOURCE cannot raise it: the hard limit is the most)
	[ "$(key LimitMEMLOCK)" = infinity ] && { ulimit -l unlimited 2>/dev/null || ulimit -l "$(ulimit -Hl)"; }
	env_file=$(key EnvironmentFile)
	cmd=$(key ExecStart | sed "s|^/usr/sbin/|$root/usr/sbin/|")
	(
		if [ -n "$env_file" ]; then
			set -a
			# shellcheck disable=SC1090 # the unit's EnvironmentFile
			. "$env_file"
			set +a
		fi
		# systemd splits an unquoted $VAR of ExecStart into words, as the shell does.
		eval "set -- $cmd"
		# shellcheck disable=SC2016 # expanded by sh
		exec setsid "${priv[@]}" sh -c 'echo $$ >"$0"; exec "$@"' "$state/$unit.pid" "$@" \
			</dev/null >/dev/null 2>>"${XPRO_UNIT_LOGS:-$state}/$unit.err"
	) &
	for _ in $(seq 50); do [ -s "$state/$unit.pid" ] && break; sleep 0.1; done
	;;
stop)
	alive || exit 0
	kill -TERM "$(pid)"
	for _ in $(seq 100); do alive || exit 0; sleep 0.1; done
	echo "systemctl: $unit did not stop within 10 s" >&2
	exit 1
	;;
reload)
	alive || { echo "systemctl: $unit is not active" >&2; exit 1; }
	kill -HUP "$(pid)"
	;;
is-active)
	if alive; then echo active; else
		echo inactive
		exit 3
	fi
	;;
*)
	echo "systemctl: '$verb' is not supported here" >&2
	exit 1
	;;
esac
