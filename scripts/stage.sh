#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One stage of "make check" or "make check-debug":
#
#   scripts/stage.sh NAME COUNTS COMMAND...
#
# removes the stage's counts file COUNTS (written by COMMAND, read by
# summary.sh: a stage that did not finish leaves none), runs COMMAND and
# closes with "stage NAME: exit N after S s", the line to look for when
# the CI's time budget is in question.  The stages run in parallel (make
# -j, output kept together per stage), so a stage's time is its own and the
# run's time is the longest chain of them, not their sum.  Always exits 0:
# one stage's failure does not stop the others; summary.sh judges.
set -uo pipefail

name=${1:?usage: stage.sh NAME COUNTS COMMAND...}
counts=${2:?usage: stage.sh NAME COUNTS COMMAND...}
shift 2
# A stage runs as if started alone: the makes inside it do not see the
# parent's job server or output syncing (and would warn about them, which
# lint counts as a failure).
unset MAKEFLAGS MFLAGS MAKELEVEL
rm -f "$counts"
mkdir -p "$(dirname "$counts")"
start=$(date +%s)
"$@"
status=$?
echo "stage $name: exit $status after $(($(date +%s) - start)) s"
exit 0
