#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packaging stage of "make check", as root on the Debian 12 CI machine:
#
#   scripts/pkg-test.sh KVER KSFT_INSTALL
#
# KVER is the VM's kernel (scripts/deps.sh --kver), whose headers are
# installed; KSFT_INSTALL the installed kselftest tree (make ksft-install).
# Each check is a TAP line:  VERSION against dkms.conf and
# debian/changelog; make install into a DESTDIR against the list of files
# it must install, and make uninstall leaving that tree empty; make deb and
# lintian (no error, no warning that debian/*.lintian-overrides does not
# explain); apt-get install ./build/deb/*.deb as an admin would; dkms
# status showing zxmem built and installed for KVER, the module, the group,
# the udev rule; dkms build for the other amd64 kernels of scripts/kernels.conf
# (their build trees from scripts/kernel.sh; not the -debug and -kcsan
# builds of 7.2, whose sources the 7.2 build already is); a program built on the
# installed headers with pkg-config; then the 6.1 VM booted with the
# module DKMS installed (loaded by modprobe, its parameter from a
# modprobe.d file) and the kselftest suite, judged by vm-run.sh against
# selftests/zxmem/expected.txt; at last the packages are purged and the
# machine compared with its state before.  Whatever fails on the way, the
# EXIT trap purges what was installed.  The command and every man page
# (man/NAME.SECTION.in) are checked in both installs.  Counts
# (TAP and the VM's together) go to $ZXMEM_PKG_COUNTS if set.
# shellcheck disable=SC2317 # the checks' functions run through check()
set -uo pipefail

kver=${1:?usage: pkg-test.sh KVER KSFT_INSTALL}
ksft=${2:?usage: pkg-test.sh KVER KSFT_INSTALL}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=$repo/build/pkg
version=$(head -n 1 "$repo/VERSION")
packages=(zxmem-dkms zxmem-tools zxmem-dev)
export DEBIAN_FRONTEND=noninteractive

cd "$repo" || exit 1
rm -rf "$out" && mkdir -p "$out"
n=0 passed=0 failed=0 skipped=0
ok() { n=$((n + 1)) passed=$((passed + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)) failed=$((failed + 1)); echo "not ok $n $1"; }
# check NAME COMMAND...: a TAP line; the output of a failed COMMAND shown.
check() {
	local name=$1 log=$out/check.log

	shift
	if "$@" >"$log" 2>&1; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   /' "$log" | tail -n 40
	fi
}
finish() {
	echo "1..$n"
	[ -n "${ZXMEM_PKG_COUNTS:-}" ] &&
		echo "passed=$passed failed=$failed skipped=$skipped" >"$ZXMEM_PKG_COUNTS"
	[ "$failed" -eq 0 ]
	exit
}

[ "$(id -u)" -eq 0 ] || { not_ok "run as root (it installs packages)"; finish; }
for p in "${packages[@]}"; do
	if dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^.i'; then
		not_ok "$p is already installed: this test would remove it"
		finish
	fi
done

# What the packages may touch, before: compared after the purge.
state() {
	find /usr/src /var/lib/dkms /lib/modules /usr/lib/udev/rules.d \
		/usr/lib/modprobe.d /usr/lib/sysusers.d /usr/include/zircon \
		/usr/include/linux/zxmem.h /usr/include/zxmem /usr/share/pkgconfig /usr/bin/zxmem \
		-path '/lib/modules/*/kernel' -prune -o -print 2>/dev/null |
		grep -v -e '/modules\.[a-z.]*$' | LC_ALL=C sort
	getent group zxmem
	# Every package: the packages' dependencies must be there before.
	dpkg-query -W -f='${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n' |
		grep -v ' un $'
}
state >"$out/state.before"
had_group=0
getent group zxmem >/dev/null && had_group=1
# DKMS makes its module-signing key on its first build, and keeps it.
had_mok=0
[ -e /var/lib/dkms/mok.key ] && had_mok=1

installed=0
purge() {
	((installed)) || return 0
	apt-get -q -y purge "${packages[@]}" >"$out/purge.log" 2>&1
	local rc=$?
	# Debian leaves system groups behind on purge; the test made it.
	((had_group)) || ! getent group zxmem >/dev/null || groupdel zxmem
	# Nor is a signing key that only this test's build made worth keeping.
	((had_mok)) || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	installed=0
	return "$rc"
}
trap 'purge' EXIT
trap 'exit 130' INT TERM

echo "# pkg-test: zxmem $version, packages for $kver"

# -- One version ------------------------------------------------------------
check version_in_dkms_conf grep -qx "PACKAGE_VERSION=\"$version\"" dkms.conf
check version_in_debian_changelog \
	test "$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//')" = "$version"

# -- make install / make uninstall ------------------------------------------
kdir=/usr/src/linux-headers-$kver
dest=$out/destdir
expected_files() {
	printf '%s\n' "lib/modules/$kver/extra/zxmem.ko" \
		usr/lib/udev/rules.d/60-zxmem.rules usr/lib/sysusers.d/zxmem.conf \
		usr/lib/modprobe.d/zxmem.conf usr/include/zircon/syscalls.h \
		usr/include/zircon/errors.h usr/include/linux/zxmem.h \
		usr/include/zxmem/vec.h usr/share/pkgconfig/zxmem.pc
	echo usr/bin/zxmem
	for m in man/*.in; do
		m=${m%.in}
		echo "usr/share/man/man${m##*.}/${m##*/}"
	done
}
install_tree() {
	make -s install KDIR="$kdir" DESTDIR="$dest" PREFIX=/usr &&
		(cd "$dest" && find . -mindepth 1 ! -type d -printf '%P\n') |
		LC_ALL=C sort >"$out/installed.txt" &&
		expected_files | LC_ALL=C sort >"$out/expected.txt" &&
		diff -u "$out/expected.txt" "$out/installed.txt"
}
check make_install_destdir_installs_the_file_list install_tree
check make_install_pc_version grep -qx "Version: $version" "$dest/usr/share/pkgconfig/zxmem.pc"
check make_install_udev_group_mode grep -q 'GROUP="zxmem", MODE="0660"' \
	"$dest/usr/lib/udev/rules.d/60-zxmem.rules"
uninstall_tree() {
	make -s uninstall KDIR="$kdir" DESTDIR="$dest" PREFIX=/usr &&
		left=$(find "$dest" -mindepth 1) &&
		{ [ -z "$left" ] || { echo "left after make uninstall:"; echo "$left"; false; }; }
}
check make_uninstall_empties_destdir uninstall_tree

# -- make deb, lintian --------------------------------------------------------
check make_deb make deb
debs=()
for p in "${packages[@]}"; do
	f=$(ls build/deb/"${p}"_"$version"-*_*.deb 2>/dev/null)
	if [ -n "$f" ]; then
		debs+=("./$f")
	else
		not_ok "make deb built $p"
	fi
done
lint() {
	lintian --pedantic --info --fail-on error,warning --tag-display-limit 0 \
		build/deb/*.changes >"$out/lintian.txt" 2>&1
	local rc=$?
	grep -v '^running with root privileges' "$out/lintian.txt"
	return "$rc"
}
check lintian_no_error_no_warning lint

# -- apt-get install ------------------------------------------------------------
if ((${#debs[@]})); then
	installed=1
	check apt_get_install_debs apt-get -q -y install --no-install-recommends "${debs[@]}"
else
	not_ok "apt_get_install_debs: no package to install"
fi
module=/lib/modules/$kver/updates/dkms/zxmem.ko
check dkms_status_installed_for_"$kver" \
	grep -qx "zxmem/$version, $kver, x86_64: installed" <(dkms status zxmem)
check module_in_updates_dkms test -f "$module"
check module_vermagic_"$kver" grep -q "^vermagic: *$kver " <(modinfo "$module")
check module_signed_by_dkms_mok grep -q '^signer: *DKMS' <(modinfo "$module")
# MODULE_VERSION is VERSION's.
modversion=$(modinfo -F version "$module" 2>/dev/null)
check module_version_is_"$version" test "$modversion" = "$version"
check group_zxmem_created getent group zxmem
check udev_rule_installed test -f /usr/lib/udev/rules.d/60-zxmem.rules
check modprobe_d_installed grep -qx '#options zxmem enable_debugging_syscalls=1' \
	/usr/lib/modprobe.d/zxmem.conf
check zxmem_command_installed test -x /usr/bin/zxmem
check zxmem_command_version_is_"$version" \
	grep -qF "$version" <(/usr/bin/zxmem --version)
for m in man/*.in; do
	m=${m%.in}
	check "man_page_${m##*/}_installed" \
		test -f "/usr/share/man/man${m##*.}/${m##*/}.gz"
done

# The other kernels: DKMS cannot find their build trees by itself (they
# live in the cache, not in /lib/modules), so they are named.
while read -r name _; do
	[ "$name" = 6.1 ] && continue
	# DKMS builds where the module will run: an arm64 machine builds it
	# natively.  The cross build for 6.1-arm64 is vm-suite.sh's.
	case $name in *-arm64) continue ;; esac
	dkms_build_other() {
		local kernel kdir krel ko

		kernel=$("$here/kernel.sh" "$1") || return 1
		kdir=$(sed -n 's/^KDIR=//p' <<<"$kernel")
		krel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
			"$kdir/include/generated/utsrelease.h")
		[ -n "$krel" ] || return 1
		dkms build "zxmem/$version" -k "$krel" --kernelsourcedir "$kdir" ||
			return 1
		# What DKMS built, for that kernel; what it says, if not.
		ko=/var/lib/dkms/zxmem/$version/$krel/x86_64/module/zxmem.ko
		modinfo -F vermagic "$ko" | grep -q "^$krel " && return 0
		dkms status zxmem
		return 1
	}
	check "dkms_build_$name" dkms_build_other "$name"
done < <(awk '!/^#/ && NF && $1 !~ /-(debug|kcsan)$/' "$here/kernels.conf")

# The development package: a program on the installed headers.
# shellcheck disable=SC2046 # pkg-config's flags are words
headers_work() {
	printf '%s\n' '#include <zircon/syscalls.h>' '#include <zxmem/vec.h>' \
		'int main(void) { return zx_status_get_string(ZX_OK)[0] != 90; }' \
		>"$out/api.c" &&
		cc -Wall -Werror $(pkg-config --cflags zxmem) -o "$out/api" "$out/api.c" &&
		"$out/api" && test "$(pkg-config --modversion zxmem)" = "$version"
}
check zxmem_dev_headers_and_pkg_config headers_work

# -- The VM, with the module DKMS installed ---------------------------------------
vm=$out/vm-$kver
root=$vm/guest/pkgroot
mkdir -p "$root/lib/modules/$kver/updates/dkms" "$root/usr/lib/modprobe.d" \
	"$root/etc/modprobe.d"
cp "$module" "$root/lib/modules/$kver/updates/dkms/" 2>/dev/null
cp /lib/modules/"$kver"/modules.* "$root/lib/modules/$kver/"
cp /usr/lib/modprobe.d/zxmem.conf "$root/usr/lib/modprobe.d/" 2>/dev/null
echo 'options zxmem enable_debugging_syscalls=1' >"$root/etc/modprobe.d/zxmem-test.conf"
cp -R "$ksft" "$vm/guest/kselftest"
cp "$here/pkg-guest.sh" "$vm/guest/run.sh"
if ! "$here/mkinitramfs.sh" "$vm/initrd.cpio.gz" "$vm/guest/pkgroot" \
	"$vm/guest/kselftest" "$vm/guest/run.sh"; then
	not_ok "initramfs with the installed module"
else
	"$here/vm-run.sh" --kernel "/boot/vmlinuz-$kver" --initrd "$vm/initrd.cpio.gz" \
		--out "$vm" --timeout "${ZXMEM_VM_TIMEOUT:-1200}" --quiet \
		--expect "$repo/selftests/zxmem/expected.txt" --name 6.1
	echo "# vm-run.sh: $vm/console.log, $vm/result.tap"
	guest=$(grep -a '^pkg-guest: ' "$vm/console.log" | tr -d '\r')
	while read -r line; do
		case $line in
		"pkg-guest: ok "*) ok "guest: ${line#pkg-guest: ok }" ;;
		"pkg-guest: not ok "*) not_ok "guest: ${line#pkg-guest: not ok }" ;;
		esac
	done <<<"$guest"
	grep -qx 'pkg-guest: checks done' <<<"$guest" ||
		not_ok "guest: the checks did not finish"
	read -r vm_passed vm_failed vm_skipped < <(sed -n \
		's/^passed=\([0-9]*\) failed=\([0-9]*\) skipped=\([0-9]*\)$/\1 \2 \3/p' \
		"$vm/counts" 2>/dev/null) || vm_passed=0 vm_failed=1 vm_skipped=0
	echo "# the kselftests in the VM: $vm_passed passed, $vm_failed failed, $vm_skipped skipped"
fi

# -- Purge: the machine as it was ----------------------------------------------
check apt_get_purge purge
check no_zxmem_package_left test -z "$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 'zxmem*' 2>/dev/null | grep -v ' un $')"
check dkms_forgot_zxmem test -z "$(dkms status zxmem 2>/dev/null)"
state >"$out/state.after"
check machine_as_before diff -u "$out/state.before" "$out/state.after"

# The VM's counts join the TAP's.
echo "# pkg-test: $passed passed, $failed failed on the host and in the guest"
passed=$((passed + ${vm_passed:-0})) failed=$((failed + ${vm_failed:-1}))
skipped=$((skipped + ${vm_skipped:-0}))
echo "# pkg-test: with the VM's kselftests: $passed passed, $failed failed, $skipped skipped"
finish
