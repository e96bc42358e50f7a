#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fail if any given C file differs from what .clang-format makes of it.
set -u
bad=0
for f in "$@"; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "format: $f differs from .clang-format (run 'make format')"
		bad=$((bad + 1))
	fi
done
if [ "$bad" -ne 0 ]; then
	echo "format: $bad file(s) need 'make format'"
	[ -n "${XPRO_TEST_SUMMARY:-}" ] && echo "format 0 1" >>"$XPRO_TEST_SUMMARY"
	exit 1
fi
echo "format: $# files clean"
[ -n "${XPRO_TEST_SUMMARY:-}" ] && echo "format 1 0" >>"$XPRO_TEST_SUMMARY"
exit 0
