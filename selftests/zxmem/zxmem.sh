#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The kselftest entry point (TEST_PROGS): what run_kselftest.sh -c zxmem
# and "make run_tests" start, as root.  It runs the programs named in
# zxmem_tests.list (the Makefile's ZXMEM_TESTS) as KTAP subtests, so every
# test of every program keeps its own result line, one level deeper:
#
#   api_test first, while /dev/zxmem is absent (it checks that calls
#       answer ZX_ERR_NOT_SUPPORTED without the device);
#   module_loads: zxmem.ko beside this script (insmod) or an installed
#       module (modprobe), with enable_debugging_syscalls=0 (the tests
#       switch it through sysfs);
#   every other program, compat_test only where 32-bit programs run;
#   module_unloads_cleanly: rmmod once the programs are done.
#
# Exits 4 (kselftest's skip) when zxmem cannot be loaded, 1 if anything
# failed, else 0.  ZXMEM_MODULE_ARGS overrides the module parameters.
cd "$(dirname "$0")" || exit 1
KSFT_FAIL=1
KSFT_SKIP=4
args=${ZXMEM_MODULE_ARGS-enable_debugging_syscalls=0}

programs=$(cat zxmem_tests.list) || exit "$KSFT_FAIL"
n=2
for p in $programs; do
	n=$((n + 1))
done

num=0
failed=0
result() { # ok|"not ok" NAME [DIRECTIVE]
	num=$((num + 1))
	echo "$1 $num $2${3:+ # $3}"
	[ "$1" = ok ] || failed=1
}

# One program as a subtest: its output "# "-prefixed, its time in seconds
# of uptime (for the settings' timeout and the CI's budget), its result.
run() { # PROGRAM
	t0=$(cut -d' ' -f1 /proc/uptime)
	rc=$( ( (./"$1" 2>&1; echo "$?" >&3) | sed 's/^/# /' >&5) 3>&1)
	echo "# zxmem.sh: $1 took $(awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }' /proc/uptime) s"
	case $rc in
	0) result ok "$1" ;;
	"$KSFT_SKIP") result ok "$1" SKIP ;;
	*) result "not ok" "$1" "exit=$rc" ;;
	esac
}

# A 32-bit caller needs IA32_EMULATION, not switched off on the command line.
runs_32bit() {
	[ -e /proc/sys/abi/vsyscall32 ] &&
		! grep -qw ia32_emulation=off /proc/cmdline
}

# fd 5: our stdout, for run()'s subtests while $(...) collects the status.
exec 5>&1
echo "TAP version 13"
if [ -e /dev/zxmem ]; then
	loaded_here=0
elif [ -f ./zxmem.ko ]; then
	loaded_here=1 load="insmod ./zxmem.ko"
elif modinfo zxmem >/dev/null 2>&1; then
	loaded_here=1 load="modprobe zxmem"
else
	echo "1..0 # SKIP no zxmem.ko beside $0 and no installed zxmem module"
	exit "$KSFT_SKIP"
fi
echo "1..$n"

# api_test first, while there is no /dev/zxmem (when we load zxmem).
for p in $programs; do
	[ "$p" = api_test ] && run "$p"
done

# shellcheck disable=SC2086 # "$load $args" is a command and its arguments
if [ "$loaded_here" = 0 ]; then
	result ok module_loads "SKIP zxmem was loaded before the tests"
elif $load $args; then
	result ok module_loads
else
	result ok module_loads "SKIP $load $args failed"
	for p in $programs; do
		[ "$p" = api_test ] || result ok "$p" "SKIP zxmem not loaded"
	done
	result ok module_unloads_cleanly "SKIP zxmem not loaded"
	exit "$KSFT_SKIP"
fi

for p in $programs; do
	case $p in
	api_test) ;;
	compat_test)
		if runs_32bit; then
			run "$p"
		else
			result ok "$p" "SKIP no IA32_EMULATION"
		fi
		;;
	*) run "$p" ;;
	esac
done

if [ "$loaded_here" = 0 ]; then
	result ok module_unloads_cleanly "SKIP not loaded by $0"
elif rmmod zxmem; then
	result ok module_unloads_cleanly
else
	result "not ok" module_unloads_cleanly
fi
exit "$failed"
