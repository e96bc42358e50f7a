#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run each libFuzzer binary for a bounded time over its corpus in
# tests/fuzz/corpus/<name>/ (new inputs go to a scratch dir, not the repo).
set -u
secs=$1
shift
pass=0
fail=0
for f in "$@"; do
	name=$(basename "$f")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	scratch=$(mktemp -d)
	if "$f" -max_total_time="$secs" -print_final_stats=0 "$scratch" "$corpus" >"$f.log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS $f ($(grep -c . <(ls "$scratch" "$corpus" 2>/dev/null)) inputs, ${secs}s)"
	else
		fail=$((fail + 1))
		echo "FAIL $f; its output:"
		tail -40 "$f.log" | sed 's/^/    /'
	fi
	rm -rf "$scratch"
done
echo "fuzz: $pass passed, $fail failed"
[ -n "${XPRO_TEST_SUMMARY:-}" ] && echo "fuzz $pass $fail" >>"$XPRO_TEST_SUMMARY"
[ "$fail" -eq 0 ]
