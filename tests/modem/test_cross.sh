#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Cortex-M build of modem-fw (issue 5): it compiles and links for thumbv7em-none-eabi,
# references no malloc or stdio (modem-fw/Makefile's cross target fails if it does), and its
# code size is reported.  Run by `make unit`.
set -u
cd "$(dirname "$0")/../.." || exit 1
out=$(make -s -C modem-fw clean >/dev/null 2>&1; make -s -C modem-fw cross 2>&1)
rc=$?
echo "$out" | tail -5
pass=0
fail=0
if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
if echo "$out" | grep -q '^BENCH name=modem_cross text=[0-9]'; then
	pass=$((pass + 1))
else
	echo "no code size reported"
	fail=$((fail + 1))
fi
echo "[  PASSED  ] $pass test(s)."
[ $fail -eq 0 ] || echo "[  FAILED  ] $fail test(s)."
[ $fail -eq 0 ]
