#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run zxmem's KUnit suite in a User-Mode Linux kernel built from the
# linux-source tree in $ZXMEM_CACHE, with the kernel's own kunit.py.
# The module's sources are linked in as drivers/misc/zxmem; the build
# directory stays in the cache, so later runs are incremental.
# LLVM=1 builds the same kernel with clang instead of gcc.  The kernel's
# options are the repository's .kunitconfig.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${ZXMEM_CACHE:-$HOME/.cache/zxmem}
ksrc=$cache/linux-source-6.1
build=$cache/kunit-um${LLVM:+-llvm}

[ -d "$ksrc" ] || { echo "kunit.sh: $ksrc missing; run scripts/deps.sh" >&2; exit 1; }

# Link the module into the tree, idempotently.
ln -sfn "$repo" "$ksrc/drivers/misc/zxmem"
grep -q 'drivers/misc/zxmem/Kconfig' "$ksrc/drivers/misc/Kconfig" ||
	sed -i '$i source "drivers/misc/zxmem/Kconfig"' "$ksrc/drivers/misc/Kconfig"
# shellcheck disable=SC2016 # a make variable, for make
grep -q 'zxmem/' "$ksrc/drivers/misc/Makefile" ||
	echo 'obj-$(CONFIG_ZXMEM)		+= zxmem/' >> "$ksrc/drivers/misc/Makefile"

mkdir -p "$build"
# Our objects are always compiled afresh, so that the compiler's warnings
# on them are in every run's log, not only in those that rebuilt them.
rm -f "$build"/drivers/misc/zxmem/*.o

cd "$ksrc"
log=$build/kunit.log
set +e
python3 tools/testing/kunit/kunit.py run --arch=um \
	--build_dir="$build" --kunitconfig="$repo/.kunitconfig" \
	--jobs="$(nproc)" ${LLVM:+--make_options LLVM=1} "$@" </dev/null 2>&1 |
	tee "$log"
rc=${PIPESTATUS[0]}
set -e

# "Testing complete. Ran 15 tests: passed: 9, failed: 1, crashed: 2,
# skipped: 2, errors: 1": every failed or crashed test and every error
# (e.g. a suite that printed no result) is one failure.
line=$(grep -o 'Ran [0-9]* tests:.*' "$log" | tail -n 1 || true)
count() { sed -n "s/.*$1: \([0-9]*\).*/\1/p" <<<"$line"; }
passed=$(count passed) skipped=$(count skipped)
failed=$(($(count failed) + $(count crashed) + $(count errors) + 0))
# No summary, or kunit.py failing without a failed test: one failure more.
if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
	echo "kunit.sh: kunit.py exited with status $rc${line:+ after: $line}"
	failed=$((failed + 1))
fi
# The compiler's word on our own files counts as a failure too.
warnings=$(grep -cE '(zxmem|drivers/misc/zxmem)/[^ ]*: (warning|error):' "$log" || true)
if [ "$warnings" -gt 0 ]; then
	echo "kunit.sh: $warnings compiler warning(s) or error(s) on zxmem's files:"
	grep -E '(zxmem|drivers/misc/zxmem)/[^ ]*: (warning|error):' "$log"
	failed=$((failed + 1))
fi
echo "kunit.sh: ${passed:-0} passed, $failed failed, ${skipped:-0} skipped"
[ -z "${ZXMEM_KUNIT_COUNTS:-}" ] ||
	echo "passed=${passed:-0} failed=$failed skipped=${skipped:-0}" \
		> "$ZXMEM_KUNIT_COUNTS"
[ "$failed" -eq 0 ]
