#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages needed to build zxmem and to run its tests in
# a QEMU guest, then unpack the kernel source into the project cache once.
# Idempotent; a run with nothing to do prints nothing.
#
#   scripts/deps.sh          install what is missing (needs root for that)
#   scripts/deps.sh --profile  the same, and perf for make profile
#   scripts/deps.sh --kver   print the kernel version the test VM boots
#                            (the one linux-image-amd64 depends on)
#
# Environment: ZXMEM_CACHE (default: $HOME/.cache/zxmem)
set -euo pipefail

PACKAGES=(
	# gcc-12-multilib: gcc-multilib conflicts with the cross compiler.
	gcc gcc-12-multilib make libc6-dev bc bison flex libelf-dev
	cpio gzip xz-utils kmod rsync
	qemu-system-x86 busybox-static
	# The arm64 kernel of scripts/kernels.conf: module and tests
	# cross-built, the guest under qemu-system-aarch64.
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	python3 sparse coccinelle ocaml-nox codespell clang lld llvm
	dwarves libssl-dev gnuplot-nox lcov groff-base mandoc
	dkms dh-dkms debhelper lintian pkg-config systemd
	# scripts/kernels-test.sh signs its stand-in archive.
	gpg gpg-agent
	# spatch loads its Python support from libpython3.X.so, the -dev's link.
	libpython3-dev
)
# Only make profile needs perf (linux-perf is Debian 12's, for its kernel).
PROFILE_PACKAGES=(linux-perf)
SRC_NAME=linux-source-6.1
SRC_TARBALL=/usr/src/$SRC_NAME.tar.xz
CACHE=${ZXMEM_CACHE:-$HOME/.cache/zxmem}

die() {
	echo "deps.sh: $*" >&2
	exit 1
}

# Print the kernel version (e.g. 6.1.0-56-amd64) that the linux-image-amd64
# metapackage depends on: from dpkg when it is installed, else from apt's
# package lists. Installs nothing.
print_kver() {
	local deps kver

	deps=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) || deps=
	if [[ -z $deps ]]; then
		deps=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
			sed -n 's/^Depends: //p' | head -n 1) || deps=
	fi
	kver=$(sed -nE 's/^[[:space:]]*linux-image-([0-9][^[:space:],|]*).*/\1/p' \
		<<<"${deps//,/$'\n'}" | head -n 1)
	[[ -n $kver ]] || die "cannot tell the kernel version: linux-image-amd64 is neither installed nor known to apt"
	echo "$kver"
}

is_installed() {
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == "ii " ]]
}

install_missing() {
	local pkg missing=()

	for pkg in "${PACKAGES[@]}"; do
		is_installed "$pkg" || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0

	[[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run this script as root"
	echo "deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update
	apt-get -q -y install --no-install-recommends "${missing[@]}"
}

# Unpack the kernel source tarball into $CACHE/linux-source-6.1. The tree is
# built in a temporary directory, stamped, and only then renamed into place,
# so an interrupted run never leaves a tree that looks complete.
extract_source() {
	local dest=$CACHE/$SRC_NAME tmp

	[[ -e $dest/.extracted ]] && return 0
	[[ -r $SRC_TARBALL ]] || die "$SRC_TARBALL not found (is $SRC_NAME installed?)"
	mkdir -p "$CACHE"

	# Serialise concurrent runs; the loser finds the stamp and returns.
	exec 9>"$CACHE/.deps.lock"
	flock 9
	if [[ -e $dest/.extracted ]]; then
		exec 9>&-
		return 0
	fi
	rm -rf "$CACHE/.$SRC_NAME.tmp."*	# leftovers of interrupted runs

	echo "deps.sh: extracting $SRC_TARBALL into $CACHE/" >&2
	tmp=$(mktemp -d "$CACHE/.$SRC_NAME.tmp.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT
	tar -xJf "$SRC_TARBALL" -C "$tmp" --no-same-owner
	[[ -d $tmp/$SRC_NAME ]] || die "$SRC_TARBALL does not contain $SRC_NAME/"
	: >"$tmp/$SRC_NAME/.extracted"
	# An unstamped tree from an earlier, unfinished run is replaced.
	if [[ -e $dest ]]; then
		mv "$dest" "$tmp/old"
	fi
	mv "$tmp/$SRC_NAME" "$dest"
	rm -rf "$tmp"
	trap - EXIT
	exec 9>&-
}

case "${1-}" in
--kver)
	(($# == 1)) || die "usage: $0 [--kver|--profile]"
	print_kver
	;;
"")
	(($# == 0)) || die "usage: $0 [--kver|--profile]"
	install_missing
	extract_source
	;;
--profile)
	(($# == 1)) || die "usage: $0 [--kver|--profile]"
	PACKAGES+=("${PROFILE_PACKAGES[@]}")
	install_missing
	extract_source
	;;
-h | --help)
	sed -n '4,13s/^# \{0,1\}//p' "$0"
	;;
*)
	die "usage: $0 [--kver|--profile]"
	;;
esac
