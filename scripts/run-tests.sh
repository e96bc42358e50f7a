#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run the test programs of one tier; one line per program, then a closing
# "tier: N passed, N failed" line counting test cases (cmocka's own counts
# where a program is a cmocka suite, else one per program).  With
# XPRO_TEST_SUMMARY set, also append "tier passed failed" to that file.
# Exit non-zero if anything failed.
set -u
tier=$1
shift
pass=0
fail=0
for t in "$@"; do
	log="build/logs/${tier}/$(basename "$t").log"
	mkdir -p "$(dirname "$log")"
	if "$t" >"$log" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	np=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	nf=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	np=${np:-$((rc == 0))}
	nf=${nf:-0}
	[ "$rc" -ne 0 ] && [ "$nf" -eq 0 ] && nf=1
	pass=$((pass + np))
	fail=$((fail + nf))
	if [ "$rc" -eq 0 ]; then
		echo "PASS $t ($np)"
	else
		echo "FAIL $t (exit $rc); the end of its output ($log):"
		tail -60 "$log" | sed 's/^/    /'
	fi
done
echo "$tier: $pass passed, $fail failed"
if [ -n "${XPRO_TEST_SUMMARY:-}" ]; then
	echo "$tier $pass $fail" >>"$XPRO_TEST_SUMMARY"
fi
[ "$fail" -eq 0 ]
