#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make bench", run by the VM's /init from /root as root.
# Loads zxmem with writes enabled and runs the benchmark: its tables and
# "bench-data:" lines go to the console (scripts/bench-plot.sh reads them
# from console.log), its TAP (one line per ratio target) to $ZXMEM_RESULT.
# Exits non-zero only when the bench could not run; missed targets show as
# "not ok" lines.
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}

if ! insmod ./zxmem.ko enable_debugging_syscalls=1; then
	printf '1..1\nnot ok 1 module_loads\n' | tee -a "$RESULT"
	exit 1
fi

ZXMEM_RESULT=$RESULT ./bench
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "bench.sh: ./bench exited with status $rc"
	printf '1..1\nnot ok 1 bench_completes\n' | tee -a "$RESULT"
fi

if ! rmmod zxmem; then
	echo "bench.sh: rmmod zxmem failed"
	rc=1
fi
exit "$rc"
