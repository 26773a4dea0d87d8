#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make coverage", run by check-debug.sh after rmmod: copy
# zxmem's gcov counters out of debugfs to $ZXMEM_RESULT (the second serial
# port), where scripts/coverage.sh finds them.  Each zxmem.gcda found goes
# out as base64 between marker lines, all TAP comments:
#
#   # zxmem-gcov-begin PATH
#   # <base64 lines>
#   # zxmem-gcov-end BYTES SHA256
#
# gcov_persist=1 (the kernel's default) keeps an unloaded module's counts,
# so zxmem_exit's lines are in them too.  A kernel without CONFIG_GCOV_KERNEL
# has no /sys/kernel/debug/gcov: then this prints one comment and nothing
# else.
RESULT=${ZXMEM_RESULT:-/dev/null}
GCOV=/sys/kernel/debug/gcov

if [ ! -d "$GCOV" ]; then
	echo "# gcov-dump: no $GCOV" | tee -a "$RESULT"
	exit 0
fi
n=0
find "$GCOV" -name zxmem.gcda >/tmp/gcov-dump.list
while read -r f; do
	cp "$f" /tmp/zxmem.gcda || continue
	bytes=$(wc -c </tmp/zxmem.gcda)
	sum=$(sha256sum /tmp/zxmem.gcda | cut -d ' ' -f 1)
	{
		echo "# zxmem-gcov-begin ${f#"$GCOV"}"
		base64 /tmp/zxmem.gcda | sed 's/^/# /'
		echo "# zxmem-gcov-end $bytes $sum"
	} >>"$RESULT"
	echo "# gcov-dump: ${f#"$GCOV"}: $bytes bytes"
	n=$((n + 1))
done </tmp/gcov-dump.list
[ "$n" -gt 0 ] || echo "# gcov-dump: no zxmem.gcda in $GCOV" | tee -a "$RESULT"
exit 0
