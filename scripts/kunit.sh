#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run zxmem's KUnit suite in a User-Mode Linux kernel built from the
# linux-source tree in $ZXMEM_CACHE, with the kernel's own kunit.py.
# The module's sources are linked in as drivers/misc/zxmem; the build
# directory stays in the cache, so later runs are incremental.
# LLVM=1 builds the same kernel with clang instead of gcc.
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
grep -q 'zxmem/' "$ksrc/drivers/misc/Makefile" ||
	echo 'obj-$(CONFIG_ZXMEM)		+= zxmem/' >> "$ksrc/drivers/misc/Makefile"

mkdir -p "$build"
cat > "$build/.kunitconfig" <<CFG
CONFIG_KUNIT=y
CONFIG_ZXMEM=y
CONFIG_ZXMEM_KUNIT_TEST=y
CFG

cd "$ksrc"
log=$build/kunit.log
set +e
python3 tools/testing/kunit/kunit.py run --arch=um \
	--build_dir="$build" --kunitconfig="$build/.kunitconfig" \
	--jobs="$(nproc)" ${LLVM:+--make_options LLVM=1} "$@" </dev/null 2>&1 |
	tee "$log"
rc=${PIPESTATUS[0]}
set -e

# "Testing complete. Ran 15 tests: passed: 15, failed: 1, skipped: 2"
if [ -n "${ZXMEM_KUNIT_COUNTS:-}" ]; then
	line=$(grep -o 'Ran [0-9]* tests:.*' "$log" | tail -n 1)
	count() { sed -n "s/.*$1: \([0-9]*\).*/\1/p" <<<"$line"; }
	passed=$(count passed) failed=$(count failed) skipped=$(count skipped)
	failed=${failed:-0}
	[ -n "$line" ] && [ "$rc" -eq 0 ] || failed=$((failed + 1))
	# The compiler's word on our own files counts as a failure too.
	if grep -E '(zxmem|drivers/misc/zxmem)/[^ ]*: (warning|error):' "$log"; then
		failed=$((failed + 1))
	fi
	echo "passed=${passed:-0} failed=$failed skipped=${skipped:-0}" \
		> "$ZXMEM_KUNIT_COUNTS"
fi
exit "$rc"
