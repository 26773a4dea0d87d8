#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make check-debug", on the debug kernel (KASAN, UBSAN,
# lockdep, kmemleak, failslab, fail_page_alloc): the functional suite,
# the fuzzer, fault injection, then a kmemleak scan and the module's
# unload.  Every
# part writes TAP to $ZXMEM_RESULT; vm-run.sh also fails the run on any
# splat in the console.
set -o pipefail
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}
failed=0

run_tests() {
	"$@" 2>&1 | tee -a "$RESULT" || failed=1
}

# tap NAME COMMAND...: one TAP block of one test.
tap() {
	name=$1
	shift
	if "$@"; then
		printf '1..1\nok 1 %s\n' "$name" | tee -a "$RESULT"
	else
		printf '1..1\nnot ok 1 %s\n' "$name" | tee -a "$RESULT"
		failed=1
	fi
}

if ! insmod ./zxmem.ko enable_debugging_syscalls=0; then
	printf '1..1\nnot ok 1 module_loads\n' | tee -a "$RESULT"
	exit 1
fi

run_tests ./zxmem_test
# 100,000 seeded calls against a model of the module (it flips the
# parameter itself); then fault injection with writes on.
run_tests ./fuzz --seed 1 --calls 100000 --time 600
echo 1 > /sys/module/zxmem/parameters/enable_debugging_syscalls
run_tests ./faults 3000

no_leaks() {
	[ -e /sys/kernel/debug/kmemleak ] || return 1
	# Twice: an object is reported only once it stayed unreferenced
	# across scans; the pause lets RCU-freed objects go.
	echo scan > /sys/kernel/debug/kmemleak
	sleep 5
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
	[ -z "$leaks" ] && return 0
	echo "$leaks" | head -n 60
	return 1
}
tap kmemleak_reports_no_leaks no_leaks
tap module_unloads_cleanly rmmod zxmem
exit "$failed"
