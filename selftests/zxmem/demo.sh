#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make demo": load zxmem with writes enabled, as an admin
# would with modprobe, then let the demo debugger patch a running program.
set -e
echo "1..1" >> "$ZXMEM_RESULT"
insmod ./zxmem.ko enable_debugging_syscalls=1
echo "zxmem loaded: /dev/zxmem, enable_debugging_syscalls=$(cat /sys/module/zxmem/parameters/enable_debugging_syscalls)"
if ./demo; then
	echo "ok 1 demo_patches_running_target" >> "$ZXMEM_RESULT"
else
	echo "not ok 1 demo_patches_running_target" >> "$ZXMEM_RESULT"
	exit 1
fi
