#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make check", run by the VM's /init from /root as root: the
# installed kselftest tree in /root/kselftest, run as LKFT runs it
# (run_kselftest.sh -c zxmem).  zxmem.sh, the collection's entry point,
# loads zxmem.ko and runs the programs; its KTAP, nested in the runner's,
# goes to the console and to $ZXMEM_RESULT (the second serial port), where
# the host (scripts/vm-run.sh) counts every test.  Exits non-zero if the
# runner reports a failure.
# shellcheck disable=SC3040 # the guest's busybox sh has pipefail
set -o pipefail
cd "$(dirname "$0")/kselftest" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}

uptime() { cut -d' ' -f1 /proc/uptime; }
start=$(uptime)
./run_kselftest.sh -c zxmem 2>&1 | tee -a "$RESULT"
rc=$?
# How long the runner took (for settings' timeout): on the console.
echo "run.sh: run_kselftest.sh -c zxmem: exit $rc after $(uptime) - $start s of uptime"
exit "$rc"
