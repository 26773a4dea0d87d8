#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make check-debug", run by the VM's /init from /root as root
# on a kernel with KASAN, UBSAN, lockdep and kmemleak (it also runs, with
# those parts skipped, on any kernel).  Loads zxmem with writes on, runs
# the functional suite, the fuzzer and the race tests, then fault
# injection: faults (one allocation in three fails, both copy paths) and
# the fuzzer again with every allocation of its zxmem calls failing
# (failslab and fail_page_alloc).  Last it asks kmemleak for leaks and
# unloads the module.  TAP goes to the console and to $ZXMEM_RESULT (the
# second serial port); the kernel's own splats are for the host
# (vm-run.sh) to find on the console.  Exits non-zero if anything failed.
#
# ZXMEM_FUZZ_SEED, ZXMEM_FUZZ_CALLS and ZXMEM_FUZZ_SECONDS override the
# fuzzer's seed, call count and time cap.
set -o pipefail
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}
DEBUGFS=/sys/kernel/debug
SEED=${ZXMEM_FUZZ_SEED:-1}
CALLS=${ZXMEM_FUZZ_CALLS:-100000}
SECONDS_CAP=${ZXMEM_FUZZ_SECONDS:-300}
failed=0

# Run one test binary; its TAP and "#" diagnostics are kept.
run_tests() {
	echo "# check-debug: $* ($(date +%T))"
	"$@" 2>&1 | tee -a "$RESULT" || failed=1
}

# A TAP block of one result: NAME ok|"not ok" [DIRECTIVE]
result() {
	printf '1..1\n%s 1 %s%s\n' "$2" "$1" "${3:+ # $3}" | tee -a "$RESULT"
	[ "$2" = ok ] || failed=1
}

# Comment lines, for TAP.
comment() {
	sed 's/^/# /' | tee -a "$RESULT"
}

echo "# check-debug: kernel $(uname -r)"

# The Zircon API's own tests first, while /dev/zxmem does not exist yet.
if [ -x ./api_test ]; then
	run_tests ./api_test
fi

# Leaks from before the tests are not zxmem's: report only newer ones.
if [ -e "$DEBUGFS/kmemleak" ]; then
	echo scan >"$DEBUGFS/kmemleak"
	echo clear >"$DEBUGFS/kmemleak"
fi

if ! insmod ./zxmem.ko enable_debugging_syscalls=1; then
	result module_loads "not ok"
	exit 1
fi

run_tests ./zxmem_test
run_tests ./security_test
# A 32-bit caller, if the kernel runs 32-bit programs (IA32_EMULATION,
# not switched off on the command line).
if [ -e /proc/sys/abi/vsyscall32 ] &&
   ! grep -qw ia32_emulation=off /proc/cmdline; then
	run_tests ./compat_test
else
	printf '1..1\nok 1 compat_test # SKIP no IA32_EMULATION\n' |
		tee -a "$RESULT"
fi
run_tests ./fuzz --seed "$SEED" --calls "$CALLS" --time "$SECONDS_CAP"
run_tests ./races

# faults arms failslab and fail_page_alloc itself (30 %) and disarms them.
if [ -d "$DEBUGFS/failslab" ] && [ -d "$DEBUGFS/fail_page_alloc" ]; then
	run_tests ./faults 3000
fi

# The fuzzer under fault injection: every slab and page allocation fails, but only for a
# task marked in /proc/<pid>/make-it-fail; the fuzzer marks itself around
# its zxmem calls (Documentation/fault-injection/fault-injection.rst).
fi_set() { # FILE VALUE
	if ! echo "$2" >"$DEBUGFS/$1" 2>/dev/null; then
		echo "# check-debug: cannot set $1 to $2"
		return 1
	fi
}

if [ -d "$DEBUGFS/failslab" ] && [ -d "$DEBUGFS/fail_page_alloc" ]; then
	ok=1
	for f in failslab fail_page_alloc; do
		fi_set $f/task-filter Y || ok=0
		fi_set $f/probability 100 || ok=0
		fi_set $f/interval 1 || ok=0
		fi_set $f/times -1 || ok=0
		fi_set $f/space 0 || ok=0
		# 0: no message per failure (2 would print a call trace)
		fi_set $f/verbose 0 || ok=0
		# and sleeping (GFP_KERNEL) allocations fail too
		fi_set $f/ignore-gfp-wait N || ok=0
	done
	# user pages (__GFP_HIGHMEM) and single pages fail as well
	fi_set fail_page_alloc/ignore-gfp-highmem N || ok=0
	fi_set fail_page_alloc/min-order 0 || ok=0
	if [ $ok = 1 ]; then
		run_tests ./fuzz --fault-injection --seed "$((SEED + 1))" \
			--calls 20000 --time 240
	else
		result fuzz_fault_injection_setup "not ok"
	fi
	for f in failslab fail_page_alloc; do
		fi_set $f/probability 0
		fi_set $f/task-filter N
	done
else
	result fuzz_fault_injection ok \
		"SKIP no failslab and fail_page_alloc in $DEBUGFS"
fi

# kmemleak: two scans, since an object is reported only once it has
# stayed unreferenced for a while.
if [ -e "$DEBUGFS/kmemleak" ]; then
	echo "# check-debug: kmemleak scan ($(date +%T))"
	if echo scan >"$DEBUGFS/kmemleak" && sleep 10 &&
	   echo scan >"$DEBUGFS/kmemleak" &&
	   cat "$DEBUGFS/kmemleak" >/tmp/kmemleak.txt; then
		leaks=$(grep -c "unreferenced object" /tmp/kmemleak.txt)
		comment </tmp/kmemleak.txt
		echo "$leaks leak(s) reported, $(grep -c zxmem /tmp/kmemleak.txt) line(s) name zxmem" | comment
	else
		# It turns itself off after an internal failure.
		echo "kmemleak cannot scan: disabled? see the kernel log" | comment
		leaks=unknown
	fi
	if [ "$leaks" = 0 ]; then
		result kmemleak_reports_no_leaks ok
	else
		result kmemleak_reports_no_leaks "not ok"
	fi
else
	result kmemleak_reports_no_leaks ok "SKIP no $DEBUGFS/kmemleak"
fi

if rmmod zxmem; then
	result module_unloads_cleanly ok
else
	result module_unloads_cleanly "not ok"
fi
# make coverage: the counters, which gcov_persist keeps after the rmmod.
[ -f ./gcov-dump.sh ] && sh ./gcov-dump.sh
echo "# check-debug: done ($(date +%T))"
exit "$failed"
