#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run test binaries of one tier; print one line per binary and a closing
# "tier: N passed, N failed" line.  Exit non-zero if any failed.
set -u
tier=$1
shift
pass=0
fail=0
failed=()
for t in "$@"; do
	log="${t}.log"
	if "$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $t"
	else
		rc=$?
		fail=$((fail + 1))
		failed+=("$t")
		echo "FAIL $t (exit $rc); its output:"
		sed 's/^/    /' "$log" | tail -60
	fi
done
echo "${tier%% *}: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
