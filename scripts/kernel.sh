#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make one kernel of scripts/kernels.conf ready in the cache and print where
# it is, as shell assignments:
#
#   scripts/kernel.sh NAME   ->   KERNEL=/path/to/bzImage
#                                 KDIR=/path/to/build/dir
#
# and for an arm64 kernel (a name ending in -arm64) also ARCH and
# CROSS_COMPILE for the module's build, BUSYBOX (the guest's) and
# INIT_MODULES (the result port's driver; scripts/mkinitramfs.sh).
#
# Downloads use a private apt configuration for the kernel's suite, with
# the mirror this machine's own apt sources name; the system's sources are
# never touched.  Everything lands in ${ZXMEM_CACHE:-$HOME/.cache/zxmem}/
# kernels/NAME and is reused while its version stays the same.  A version
# the suite no longer has is named in one line before anything is fetched.
#
# Environment (for scripts/kernels-test.sh, or a local mirror):
#   ZXMEM_KERNELS_CONF  the list of kernels (default scripts/kernels.conf)
#   ZXMEM_APT_MIRROR    the archive to download from (default: this
#                       machine's own mirror)
#   ZXMEM_APT_KEYRING   the keys its Release files are signed with
#                       (default: Debian's archive keyring)
set -euo pipefail
# Its kernel builds are its own (make -j$(nproc)), not part of a calling
# make's job server, whose file descriptors a script does not get.
unset MAKEFLAGS MFLAGS MAKELEVEL

name=${1:?usage: kernel.sh NAME}
here=$(cd "$(dirname "$0")" && pwd)
cache=${ZXMEM_CACHE:-$HOME/.cache/zxmem}
conf=${ZXMEM_KERNELS_CONF:-$here/kernels.conf}
# How the message for a dropped version names the file to edit.
conf_name=${ZXMEM_KERNELS_CONF:-scripts/kernels.conf}
keyring=${ZXMEM_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

die() {
	echo "kernel.sh: $*" >&2
	exit 1
}

read -r _ kind suite version fragments < <(awk -v n="$name" '$1 == n' "$conf") ||
	die "no kernel '$name' in $conf_name"
dir=$cache/kernels/$name
# The callers run in parallel (make -j, pkg-test beside the VM stages): one
# kernel is made ready by one of them at a time, and the others then find
# it ready.  Kernels of one source package share its unpacked tree, and
# kernels of one suite its apt index; those steps take locks of their own.
mkdir -p "$cache/kernels"
exec 8>"$cache/kernels/.$name.lock"
flock 8
# A name ending in -arm64 is an arm64 kernel, for a cross build and
# qemu-system-aarch64; any other is amd64, this machine's own.
arch=amd64
[[ $name == *-arm64 ]] && arch=arm64

# The archive this machine already uses, from deb822 or one-line sources.
mirror_uri() {
	local uri=${ZXMEM_APT_MIRROR:-}

	[ -z "$uri" ] || { echo "$uri"; return; }
	uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		tr ' ' '\n' | grep -v -e security -e '^$' | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$uri" ] || die "no Debian mirror in this machine's apt sources"
	echo "$uri"
}

# apt_download PACKAGE[=VERSION]...: fetch .debs of $suite into
# $dir/debs.  The Release file's signature is checked, its Valid-Until
# date is not: a mirror that stopped following sid still serves the
# version that kernels.conf pins, and apt would otherwise refuse its
# index.  A package (or version) the index lacks is the one line below,
# not apt's "Unable to locate package": Debian drops a kernel from sid,
# experimental or backports as soon as the next one lands there.
apt_download() {
	local apt=$cache/apt/$suite archs='' spec pkg want versions err opts

	# An arm64 kernel's packages come with the host's own linux-kbuild:
	# its index has both architectures.
	[[ $arch == amd64 ]] || apt+=-$arch archs=amd64,$arch
	opts=(-o "Dir::Etc::SourceList=$apt/sources.list"
	      -o Dir::Etc::SourceParts=/dev/null
	      -o "Dir::State::Lists=$apt/lists"
	      -o "Dir::Cache=$apt/cache"
	      -o APT::Sandbox::User=root
	      -o Acquire::Check-Valid-Until=false)
	[[ -z $archs ]] || opts+=(-o APT::Architectures::=amd64 -o "APT::Architectures::=$arch")
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/debs"
	exec 7>"$apt.lock"
	flock 7
	echo "deb [${archs:+arch=$archs }signed-by=$keyring] $(mirror_uri) $suite main" \
		> "$apt/sources.list"
	if ! err=$(apt-get -qq "${opts[@]}" update 2>&1); then
		echo "zxmem: cannot read the index of $suite ($(grep -m 1 '^E:' <<<"$err" || echo "$err")); see README: Kernels" >&2
		exit 1
	fi
	for spec in "$@"; do
		pkg=${spec%%=*}
		want=${spec#"$pkg"}
		want=${want#=}
		# An architecture qualifier (busybox-static:arm64) is not in
		# the messages; apt-cache takes it.
		versions=$(apt-cache "${opts[@]}" show "$pkg" 2>/dev/null |
			sed -n 's/^Version: //p') || versions=
		if [ -z "$versions" ] || { [ -n "$want" ] && ! grep -qxF -- "$want" <<<"$versions"; }; then
			echo "zxmem: $suite no longer has $pkg${want:+ $want}; bump $conf_name (README: Kernels)" >&2
			exit 1
		fi
	done
	echo "kernel.sh: fetching $* from $suite" >&2
	(cd "$dir/debs" && apt-get -qq "${opts[@]}" download "$@" >&2)
	exec 7>&-
}

# The headers name the compiler Debian built the kernel with (gcc-10 for
# 5.10); one this machine does not have is replaced by its own gcc.
use_own_gcc() {
	local vars=$1 cc

	cc=$(sed -n 's/^CC = .*)\(gcc[^ ]*\)$/\1/p' "$vars")
	if [ -n "$cc" ] && [ "$cc" != gcc ] && ! command -v "$cc" >/dev/null; then
		echo "kernel.sh: $cc is not installed; building with $(gcc -dumpversion | sed 's/^/gcc-/')" >&2
		sed -i "s/^\(CC = .*)\)$cc\$/\1gcc/" "$vars"
	fi
}

# Debian's own image and headers, unpacked; the headers' Makefile names
# /usr/src absolutely, so it is pointed at the unpacked copy.  For arm64
# the headers' scripts/ and tools/ links lead to ../../lib/linux-kbuild-*,
# which is this machine's (amd64) linux-kbuild of the headers' own
# version, unpacked beside them: Kbuild's host programs run here, the
# module is cross-compiled.  The guest's busybox and the modules of its
# result port (virtio_mmio, virtio_console) come from the same suite.
prepare_debs() {
	local root=$dir/root hdr=linux-headers-$version-$arch kbuild kbuild_version

	if [ "$(cat "$dir/.ready" 2>/dev/null)" != "$version" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		apt_download "linux-image-$version-$arch-unsigned" "$hdr"
		# linux-kbuild-6.12.95+deb12 for 6.12, linux-kbuild-5.10 for
		# 5.10.0-32: the headers package names it.
		kbuild=$(dpkg-deb -f "$dir"/debs/"$hdr"_*.deb Depends |
			tr ',' '\n' | sed -n 's/^ *\(linux-kbuild-[^ ]*\).*/\1/p')
		[ -n "$kbuild" ] || die "$hdr names no linux-kbuild package"
		if [[ $arch == amd64 ]]; then
			apt_download "linux-headers-$version-common" "$kbuild"
		else
			kbuild_version=$(dpkg-deb -f "$dir"/debs/"$hdr"_*.deb Version)
			apt_download "linux-headers-$version-common" \
				"$kbuild:amd64=$kbuild_version" "busybox-static:$arch"
		fi
		for deb in "$dir"/debs/*.deb; do
			dpkg -x "$deb" "$root"
		done
		sed -i "s|^include /usr/src/|include $root/usr/src/|" \
			"$root/usr/src/$hdr/Makefile"
		use_own_gcc "$root/usr/src/$hdr/.kernelvariables"
		rm -rf "$dir/debs"
		echo "$version" > "$dir/.ready"
	fi
	echo "KERNEL=$root/boot/vmlinuz-$version-$arch"
	echo "KDIR=$root/usr/src/$hdr"
	if [[ $arch == arm64 ]]; then
		local mods=$root/lib/modules/$version-$arch/kernel/drivers

		echo "ARCH=arm64"
		echo "CROSS_COMPILE=aarch64-linux-gnu-"
		echo "BUSYBOX=$root/bin/busybox"
		echo "INIT_MODULES='$mods/virtio/virtio_mmio.ko $mods/char/virtio_console.ko'"
	fi
}

# A small guest kernel built from Debian's linux-source with this
# machine's gcc, from tinyconfig plus the line's config fragments; the
# build directory doubles as KDIR for the module.  Kernels of the same
# source package share one unpacked tree.
prepare_source() {
	local package=linux-source-${name%%-*}
	local src=$cache/kernels/src/$package-$version build=$dir/build
	local configs=() fragment stamp

	mkdir -p "$(dirname "$src")"
	exec 6>"$src.lock"
	flock 6
	if [ ! -f "$src/.ready" ]; then
		rm -rf "$src" "$dir/debs" && mkdir -p "$src"
		apt_download "$package=$version"
		dpkg-deb --fsys-tarfile "$dir"/debs/"$package"_*.deb |
			tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$src" --strip-components=1
		rm -rf "$dir/debs"
		touch "$src/.ready"
	fi
	exec 6>&-

	for fragment in ${fragments//,/ }; do
		configs+=("$here/$fragment")
	done
	stamp="$version $(cat "${configs[@]}" | sha256sum | cut -c1-16)"
	if [ "$(cat "$dir/.built" 2>/dev/null)" != "$stamp" ]; then
		echo "kernel.sh: building Linux $version ($fragments)" >&2
		mkdir -p "$build"
		make -s -C "$src" O="$build" tinyconfig >&2
		"$src/scripts/kconfig/merge_config.sh" -m -O "$build" \
			"$build/.config" "${configs[@]}" >/dev/null
		make -s -C "$src" O="$build" olddefconfig >&2
		missing=$(missing_options "$build/.config" "${configs[@]}")
		[ -z "$missing" ] || die "not in the built config: $missing"
		make -s -C "$src" O="$build" -j "$(nproc)" bzImage modules >&2
		echo "$stamp" > "$dir/.built"
	fi
	echo "KERNEL=$build/arch/x86/boot/bzImage"
	echo "KDIR=$build"
}

# The =y options of the fragments that olddefconfig dropped: a missing
# dependency must not silently turn a detector off.  As for
# merge_config.sh, a later fragment overrides an earlier one, "is not set"
# included (sysctl.config for a renamed option).
missing_options() {
	local config=$1 option

	shift
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
		-e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' "$@" |
		awk '{ value[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } }
		     END { for (i = 1; i <= n; i++) if (value[order[i]] == "y") print order[i] }' |
		while read -r option; do
			grep -qx "$option=y" "$config" || printf '%s ' "$option"
		done
}

case $kind in
installed)
	kver=$("$here/deps.sh" --kver)
	echo "KERNEL=/boot/vmlinuz-$kver"
	echo "KDIR=/usr/src/linux-headers-$kver"
	;;
debs)
	prepare_debs
	;;
source)
	prepare_source
	;;
*)
	die "unknown kind '$kind' for $name"
	;;
esac
