#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make check-debug", run by the VM's /init from /root as root
# on a kernel with KASAN, UBSAN, lockdep, kmemleak, failslab and
# fail_page_alloc (the 7.2-debug kernel of scripts/kernels.conf).  Loads
# zxmem with writes on, runs the functional suite, the fuzzer and the race
# tests, then fault injection: faults (one allocation in three fails) and
# the fuzzer again with every allocation of its zxmem calls failing
# (failslab and fail_page_alloc).  Last it asks kmemleak for leaks and
# unloads the module.  A part that cannot run (a missing test program, no
# failslab, no kmemleak) is a "not ok" line that says why, never a skip:
# on the kernel this is for, each of them is there.  TAP goes to the
# console and to $ZXMEM_RESULT (the second serial port); the kernel's own
# splats are for the host (vm-run.sh) to find on the console.  Exits
# non-zero if anything failed.
#
# On the KCSAN kernel (7.2-kcsan, the data-race detector, which cannot
# share a kernel with KASAN) the same script runs the functional suite,
# the fuzzer and the races, and instead of fault injection and kmemleak,
# which that kernel leaves out by design, ends with KCSAN's own counters.
# The host (vm-run.sh) fails the run on any KCSAN report with a zxmem
# frame in either stack.
#
# ZXMEM_FUZZ_SEED, ZXMEM_FUZZ_CALLS, ZXMEM_FUZZ_SECONDS and
# ZXMEM_FUZZ_MIN_CALLS override the fuzzer's seed, call count, time cap
# and the fewest calls that pass (the cap only stops the run early).
# The floors below are a fraction of what this script measured on the
# debug kernel under TCG (100000 calls took 65 s on a quiet machine, 216 s
# on a loaded one; the fault-injection run and faults: see their lines).
set -o pipefail
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}
DEBUGFS=/sys/kernel/debug
SEED=${ZXMEM_FUZZ_SEED:-1}
CALLS=${ZXMEM_FUZZ_CALLS:-100000}
SECONDS_CAP=${ZXMEM_FUZZ_SECONDS:-300}
MIN_CALLS=${ZXMEM_FUZZ_MIN_CALLS:-50000}
# KCSAN watches concurrent accesses: the races are its work, and the
# single-threaded fuzzer only has to walk every path under it (100000
# calls stay KASAN's).  security_test's tracer races run a tenth of their
# cycles there (security_test.c, race_cycles()).  Not on the KASAN kernel:
# its coverage goal needs every ZX_ERR line, and one of them (a caller
# killed while it polls for a cred_guard_mutex that an attach holds) is
# reached only by chance, which a tenth of the attach cycles missed once.
if [ -e "$DEBUGFS/kcsan" ]; then
	CALLS=${ZXMEM_FUZZ_CALLS:-30000}
	MIN_CALLS=${ZXMEM_FUZZ_MIN_CALLS:-15000}
	export ZXMEM_RACE_CYCLES_DIVISOR=10
fi
# fault injection: "times" counts down once per injected failure
FI_TIMES=1000000000
failed=0

# Run one test binary; its TAP and "#" diagnostics are kept.
run_tests() {
	echo "# check-debug: $* ($(date +%T))" | tee -a "$RESULT"
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
kcsan=0
[ -e "$DEBUGFS/kcsan" ] && kcsan=1

# The Zircon API's own tests first, while /dev/zxmem does not exist yet.
if [ -x ./api_test ]; then
	run_tests ./api_test
else
	result api_test "not ok" "no ./api_test in the guest"
fi

# Leaks from before the tests are not zxmem's: report only newer ones.
if [ -e "$DEBUGFS/kmemleak" ]; then
	echo scan >"$DEBUGFS/kmemleak"
	echo clear >"$DEBUGFS/kmemleak"
fi

have_fault_injection() {
	[ -d "$DEBUGFS/failslab" ] && [ -d "$DEBUGFS/fail_page_alloc" ]
}

if ! insmod ./zxmem.ko enable_debugging_syscalls=1; then
	result module_loads "not ok"
	exit 1
fi

# The VM suite's programs in the order of the Makefile's ZXMEM_TESTS
# (zxmem_tests.list); api_test has run, compat_test follows.
if programs=$(cat zxmem_tests.list); then
	for p in $programs; do
		case $p in
		api_test | compat_test) ;;
		*) run_tests "./$p" ;;
		esac
	done
else
	result zxmem_tests_list "not ok" "no zxmem_tests.list in the guest"
fi
# A 32-bit caller, if the kernel runs 32-bit programs (IA32_EMULATION,
# not switched off on the command line).
if [ -e /proc/sys/abi/vsyscall32 ] &&
   ! grep -qw ia32_emulation=off /proc/cmdline; then
	run_tests ./compat_test
else
	printf '1..1\nok 1 compat_test # SKIP no IA32_EMULATION\n' |
		tee -a "$RESULT"
fi
run_tests ./fuzz --seed "$SEED" --calls "$CALLS" --time "$SECONDS_CAP" \
	--min-calls "$MIN_CALLS"
run_tests ./races

if [ $kcsan = 1 ]; then
	# What KCSAN watched and reported, for the note; the verdict on
	# its reports is the host's.
	echo "# check-debug: KCSAN ($(date +%T))"
	comment <"$DEBUGFS/kcsan"
	if rmmod zxmem; then
		result module_unloads_cleanly ok
	else
		result module_unloads_cleanly "not ok"
	fi
	echo "# check-debug: done ($(date +%T))"
	exit "$failed"
fi

# faults arms failslab and fail_page_alloc itself (30 %) and disarms them:
# 1500 calls, at least 300 failures injected of each kind and 20 calls
# answering ZX_ERR_NO_MEMORY (measured with 3000 calls: 9804 and 1952
# failures, 75 calls; 9862 and 3114, 413).
if have_fault_injection; then
	run_tests ./faults 1500 300 20
else
	result faults "not ok" "no failslab and fail_page_alloc in $DEBUGFS"
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

if have_fault_injection; then
	ok=1
	for f in failslab fail_page_alloc; do
		fi_set $f/task-filter Y || ok=0
		fi_set $f/probability 100 || ok=0
		fi_set $f/interval 1 || ok=0
		fi_set $f/times $FI_TIMES || ok=0
		fi_set $f/space 0 || ok=0
		# 0: no message per failure (2 would print a call trace)
		fi_set $f/verbose 0 || ok=0
		# and sleeping (GFP_KERNEL) allocations fail too
		fi_set $f/ignore-gfp-wait N || ok=0
	done
	# user pages (__GFP_HIGHMEM) and single pages fail as well
	fi_set fail_page_alloc/ignore-gfp-highmem N || ok=0
	fi_set fail_page_alloc/min-order 0 || ok=0
	# Floors: 10000 calls, 20 failures of each kind injected, 100 calls
	# answering otherwise than predicted (measured: 20000 calls in 30 s
	# with 780 such answers; 39 slab and 436 page failures, 229 answers
	# in 4919 calls).
	if [ $ok = 1 ]; then
		run_tests ./fuzz --fault-injection --seed "$((SEED + 1))" \
			--calls 20000 --time 240 --min-calls 10000 \
			--min-injected 20 --min-degraded 100
	else
		result fuzz_fault_injection_setup "not ok"
	fi
	for f in failslab fail_page_alloc; do
		fi_set $f/probability 0
		fi_set $f/task-filter N
	done
else
	result fuzz_fault_injection "not ok" \
		"no failslab and fail_page_alloc in $DEBUGFS"
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
	result kmemleak_reports_no_leaks "not ok" "no $DEBUGFS/kmemleak"
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
