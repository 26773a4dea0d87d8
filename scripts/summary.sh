#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Add up the counts files of the stages of "make check" and print the
# closing line "N passed, M failed, K skipped".  A stage whose counts file
# is missing did not finish, and a stage that passed nothing ran nothing:
# each counts as one failure.  (Which skips a VM stage may have is
# vm-run.sh's business: an undeclared one is already a failure there.)
set -euo pipefail

total_passed=0
total_failed=0
total_skipped=0
for counts in "$@"; do
	passed=0 failed=1 skipped=0
	if [ -f "$counts" ]; then
		# shellcheck disable=SC1090 # written by our own scripts
		. "$counts"
	else
		echo "summary: $counts missing: that stage did not finish"
	fi
	stage="$(basename "$(dirname "$counts")")/$(basename "$counts")"
	if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
		echo "summary: $stage passed no test"
		failed=1
	fi
	echo "summary: $stage: $passed passed, $failed failed, $skipped skipped"
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	total_skipped=$((total_skipped + skipped))
done
echo "$total_passed passed, $total_failed failed, $total_skipped skipped"
[ "$total_failed" -eq 0 ] && [ "$total_passed" -gt 0 ]
