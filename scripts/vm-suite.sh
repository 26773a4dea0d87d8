#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole VM suite on one kernel of scripts/kernels.conf:
#   scripts/vm-suite.sh [--expect FILE] [--kselftest DIR] NAME OUTDIR GUEST_FILE...
# builds zxmem.ko for that kernel with W=1 -Werror (in OUTDIR, from a copy
# of the sources), boots the kernel with the module and GUEST_FILEs (the
# test binaries or run.sh) in /root and leaves OUTDIR/counts.  --kselftest
# DIR: an installed kselftest tree ("make install" of the kselftests),
# copied to /root/kselftest with zxmem.ko put beside zxmem/zxmem.sh.
# --expect FILE: the expected skips and minimum passes (vm-run.sh),
# judged for kernel NAME.  A module that does not build counts as one
# failure.
set -euo pipefail

usage="usage: vm-suite.sh [--expect FILE] [--kselftest DIR] NAME OUTDIR GUEST_FILE..."
expect=() ksft=
while (($#)); do
	case $1 in
	--expect) expect=(--expect "${2:?$usage}" --name) && shift 2 ;;
	--kselftest) ksft=${2:?$usage} && shift 2 ;;
	*) break ;;
	esac
done
name=${1:?$usage}
out=${2:?$usage}
shift 2
((${#expect[@]} == 0)) || expect+=("$name")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

rm -rf "$out" && mkdir -p "$out/module"
fail() {
	echo "vm-suite.sh: $name: $*" >&2
	echo "passed=0 failed=1 skipped=0" > "$out/counts"
	exit 1
}

kernel=$("$here/kernel.sh" "$name") || fail "kernel not available"
ARCH='' CROSS_COMPILE='' BUSYBOX='' INIT_MODULES=''
eval "$kernel"
# shellcheck disable=SC2153 # KERNEL and KDIR come from the eval
echo "# kernel $name: $KERNEL${ARCH:+ ($ARCH)}"

# The sources, not the zxmem.mod.c of a build in the repository, which
# pkg-test or the demo may be writing at the same time (make -j).
for f in "$repo"/*.[ch]; do
	[[ $f == *.mod.c ]] || cp "$f" "$out/module/"
done
cp -r "$repo/Kbuild" "$repo/VERSION" "$repo/uapi" "$out/module"
make -s -C "$KDIR" M="$out/module" ${ARCH:+ARCH=$ARCH CROSS_COMPILE=$CROSS_COMPILE} \
	W=1 KCFLAGS=-Werror modules ||
	fail "zxmem.ko does not build warning-free"
# Another architecture's guest: its busybox, and a virtio console as the
# result port (its "virt" machine has one UART), whose drivers are modules.
if [[ -n $ARCH ]]; then
	export ZXMEM_BUSYBOX=$BUSYBOX ZXMEM_INIT_MODULES=$INIT_MODULES \
		ZXMEM_RESULT_TTY=hvc0
fi

guest=("$out/module/zxmem.ko" "$@")
if [[ -n $ksft ]]; then
	[[ -x $ksft/run_kselftest.sh && -d $ksft/zxmem ]] ||
		fail "$ksft: not an installed kselftest tree with zxmem"
	rm -rf "$out/kselftest"
	cp -R "$ksft" "$out/kselftest"
	cp "$out/module/zxmem.ko" "$out/kselftest/zxmem/"
	guest=("$out/kselftest" "$@")
fi
"$here/mkinitramfs.sh" "$out/initrd.cpio.gz" "${guest[@]}"
boot() {
	"$here/vm-run.sh" ${ARCH:+--arch "$ARCH"} --kernel "$KERNEL" --initrd "$out/initrd.cpio.gz" \
		--out "$out" --timeout "${ZXMEM_VM_TIMEOUT:-1200}" \
		${ZXMEM_VM_QUIET:+--quiet} \
		${ZXMEM_VM_APPEND:+--append "$ZXMEM_VM_APPEND"} "${expect[@]}"
}
# A kernel that dies before its /init starts has not met zxmem: the module
# is in the initramfs, not yet loaded.  (7.2-debug under TCG once took a
# KASAN report in an early edge interrupt, in identify_cpu().)  Such a
# boot is kept as console.first.log and tried once more; any failure of
# the second boot, or a splat once /init runs, stands.
status=0
boot || status=$?
if ((status)) && ! grep -qs '^zxmem-init:' "$out/console.log"; then
	mv "$out/console.log" "$out/console.first.log"
	echo "vm-suite.sh: $name died before /init (console.first.log); booting once more" >&2
	status=0
	boot || status=$?
fi
exit "$status"
