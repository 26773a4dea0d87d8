#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make check", run by the VM's /init from /root as root.
# Loads zxmem with writes off (the tests switch enable_debugging_syscalls
# through sysfs themselves), runs the selftests, then checks that the module
# unloads.  The TAP output goes to the console and to $ZXMEM_RESULT (the
# second serial port).  Exits non-zero if anything failed.
set -o pipefail
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}
failed=0

# Run one test binary; its output (TAP, and the "#" diagnostics) is kept.
run_tests() {
	"$@" 2>&1 | tee -a "$RESULT" || failed=1
}

# The Zircon API's own tests first, while /dev/zxmem does not exist yet:
# one of them checks ZX_ERR_NOT_SUPPORTED for a missing device.
if [ -x ./api_test ]; then
	run_tests ./api_test
fi

if ! insmod ./zxmem.ko enable_debugging_syscalls=0; then
	printf '1..1\nnot ok 1 module_loads\n' | tee -a "$RESULT"
	exit 1
fi

# One program per step of the pipeline (Documentation/zxmem.rst).
for area in gate arguments handle right state region buffer abi; do
	run_tests "./${area}_test"
done
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

if rmmod zxmem; then
	printf '1..1\nok 1 module_unloads_cleanly\n' | tee -a "$RESULT"
else
	printf '1..1\nnot ok 1 module_unloads_cleanly\n' | tee -a "$RESULT"
	failed=1
fi
exit "$failed"
