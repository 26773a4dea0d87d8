#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole VM suite on one kernel of scripts/kernels.conf:
#   scripts/vm-suite.sh NAME OUTDIR GUEST_FILE...
# builds zxmem.ko for that kernel with W=1 -Werror (in OUTDIR, from a copy
# of the sources), boots the kernel with the module and GUEST_FILEs (the
# test binaries and run.sh) and leaves OUTDIR/counts.  A module that does
# not build counts as one failure.
set -euo pipefail

name=${1:?usage: vm-suite.sh NAME OUTDIR GUEST_FILE...}
out=${2:?usage: vm-suite.sh NAME OUTDIR GUEST_FILE...}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

rm -rf "$out" && mkdir -p "$out/module"
fail() {
	echo "vm-suite.sh: $name: $*" >&2
	echo "passed=0 failed=1 skipped=0" > "$out/counts"
	exit 1
}

kernel=$("$here/kernel.sh" "$name") || fail "kernel not available"
eval "$kernel"
echo "# kernel $name: $KERNEL"

cp -r "$repo/Kbuild" "$repo"/*.c "$repo"/*.h "$repo/uapi" "$out/module"
make -s -C "$KDIR" M="$out/module" W=1 KCFLAGS=-Werror modules ||
	fail "zxmem.ko does not build warning-free"

"$here/mkinitramfs.sh" "$out/initrd.cpio.gz" "$out/module/zxmem.ko" "$@"
"$here/vm-run.sh" --kernel "$KERNEL" --initrd "$out/initrd.cpio.gz" \
	--out "$out" --timeout "${ZXMEM_VM_TIMEOUT:-1200}" ${ZXMEM_VM_QUIET:+--quiet} \
	${ZXMEM_VM_APPEND:+--append "$ZXMEM_VM_APPEND"}
