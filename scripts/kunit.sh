#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run zxmem's KUnit suite in a User-Mode Linux kernel built from the
# linux-source tree in $ZXMEM_CACHE, with the kernel's own kunit.py.
# The module's sources are linked in as drivers/misc/zxmem; the build
# directory stays in the cache, so later runs are incremental.
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
exec python3 tools/testing/kunit/kunit.py run --arch=um \
	--build_dir="$build" --kunitconfig="$build/.kunitconfig" \
	--jobs="$(nproc)" ${LLVM:+--make_options LLVM=1} "$@"
