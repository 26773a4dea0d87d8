#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make pkg-test", run by the VM's /init from /root as root.
# /root/pkgroot holds what the host's packages installed for this kernel
# (the DKMS-built /lib/modules/KVER/updates/dkms/zxmem.ko with the
# host's modules.* files, /usr/lib/modprobe.d/zxmem.conf) and the test's
# /etc/modprobe.d/zxmem-test.conf, which switches enable_debugging_syscalls
# on.  They are put in place, then each check prints "pkg-guest: ok NAME"
# or "pkg-guest: not ok NAME" on the console for the host to count, and
# the kselftest suite runs as in make check, except that zxmem.sh loads
# the installed module with a bare "modprobe zxmem": no zxmem.ko beside
# it, no parameter on the command line.
# shellcheck disable=SC3040 # the guest's busybox sh has pipefail
set -o pipefail
RESULT=${ZXMEM_RESULT:-/dev/null}
cd "$(dirname "$0")" || exit 1
cp -R pkgroot/. / || exit 1
kver=$(uname -r)

failed=0
check() { # NAME COMMAND...
	name=$1
	shift
	if "$@"; then
		echo "pkg-guest: ok $name"
	else
		echo "pkg-guest: not ok $name"
		failed=1
	fi
}
param=/sys/module/zxmem/parameters/enable_debugging_syscalls

check no_zxmem_ko_beside_zxmem_sh test ! -e kselftest/zxmem/zxmem.ko
check modinfo_names_the_dkms_module \
	test "$(modinfo -n zxmem)" = "/lib/modules/$kver/updates/dkms/zxmem.ko"
check modprobe_loads_it modprobe zxmem
check parameter_from_modprobe_d grep -qx Y "$param"
check device_node test -c /dev/zxmem
check rmmod_unloads_it rmmod zxmem
echo "pkg-guest: checks done"

cd kselftest || exit 1
ZXMEM_MODULE_ARGS='' ./run_kselftest.sh -c zxmem 2>&1 | tee -a "$RESULT"
rc=$?
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
