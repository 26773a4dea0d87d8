#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kernel.sh against a small signed archive made here (a copy: URI,
# no network): a kernel whose version the suite no longer has fails with
# the one line that names the package and the suite, a suite the mirror
# lacks fails with one line too, and a version the suite has is fetched
# and unpacked.  Silent when every case passes (a make lint gate); -v
# prints TAP.  Each case gets its own cache and kernels.conf.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
verbose=
[ "${1-}" = -v ] && verbose=1
work=$(mktemp -d)
export GNUPGHOME=$work/gnupg
cleanup() {
	gpgconf --kill gpg-agent 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

archive=$work/archive
image_version=6.12.95+deb12
n=0
failed=0

report() {
	local status=$1 name=$2

	n=$((n + 1))
	if [ "$status" = ok ]; then
		[ -z "$verbose" ] || echo "ok $n $name"
	else
		failed=$((failed + 1))
		echo "not ok $n $name"
		shift 2
		printf '%s\n' "$@" | sed 's/^/#   /'
	fi
}

# deb PACKAGE VERSION [DEPENDS] [FILE=CONTENT...]: a .deb in the pool.
deb() {
	local package=$1 version=$2 depends=${3-} tree=$work/tree/$1 file

	shift 3 2>/dev/null || shift $#
	mkdir -p "$tree/DEBIAN" "$archive/pool"
	{
		echo "Package: $package"
		echo "Version: $version"
		echo "Architecture: amd64"
		echo "Maintainer: zxmem test <test@invalid>"
		[ -z "$depends" ] || echo "Depends: $depends"
		echo "Description: kernels-test.sh's stand-in for $package"
	} >"$tree/DEBIAN/control"
	for file in "$@"; do
		mkdir -p "$(dirname "$tree/${file%%=*}")"
		printf '%s\n' "${file#*=}" >"$tree/${file%%=*}"
	done
	dpkg-deb --root-owner-group -Zgzip -b "$tree" \
		"$archive/pool/${package}_${version}_amd64.deb" >/dev/null
}

# suite NAME DEB...: dists/NAME with the DEBs of the pool in its index,
# InRelease signed with the key made below.
suite() {
	local name=$1 dist=$archive/dists/$1 f packages

	shift
	packages=$dist/main/binary-amd64/Packages
	mkdir -p "$(dirname "$packages")"
	for f in "$@"; do
		dpkg-deb -f "$archive/pool/$f"
		echo "Filename: pool/$f"
		echo "Size: $(stat -c %s "$archive/pool/$f")"
		echo "SHA256: $(sha256sum <"$archive/pool/$f" | cut -d' ' -f1)"
		echo
	done >"$packages"
	{
		echo "Suite: $name"
		echo "Codename: $name"
		echo "Date: $(LC_ALL=C date -u -R)"
		echo "Architectures: amd64"
		echo "Components: main"
		echo "SHA256:"
		echo " $(sha256sum <"$packages" | cut -d' ' -f1) $(stat -c %s "$packages") main/binary-amd64/Packages"
	} >"$dist/Release"
	gpg --batch -q --yes --clearsign -o "$dist/InRelease" "$dist/Release"
}

# run CASE CONF-LINE NAME: kernel.sh NAME with kernels.conf = CONF-LINE;
# its stdout in $out, stderr in $err, status in $status.
run() {
	local case=$work/case/$1

	mkdir -p "$case"
	printf '%s\n' "$2" >"$case/kernels.conf"
	out=$(ZXMEM_CACHE=$case/cache ZXMEM_KERNELS_CONF=$case/kernels.conf \
		ZXMEM_APT_MIRROR=copy:$archive ZXMEM_APT_KEYRING=$work/key.gpg \
		"$here/kernel.sh" "$3" 2>"$case/stderr")
	status=$?
	err=$(cat "$case/stderr")
	conf=$case/kernels.conf
}

# expect_line NAME LINE: the run failed, and LINE is all it said.
expect_line() {
	if [ "$status" -ne 0 ] && [ "$err" = "$2" ] && [ -z "$out" ]; then
		report ok "$1"
	else
		report fail "$1" "exit status $status; stdout:" "$out" "stderr:" "$err" \
			"wanted exactly:" "$2"
	fi
}

mkdir -m 700 "$GNUPGHOME"
if ! gpg --batch -q --passphrase '' --quick-gen-key \
	'zxmem kernels-test <test@invalid>' ed25519 sign never 2>/dev/null ||
   ! gpg --batch -q --export >"$work/key.gpg"; then
	echo "kernels-test.sh: cannot make a signing key with gpg"
	exit 1
fi

headers=usr/src/linux-headers-$image_version
deb "linux-image-$image_version-amd64-unsigned" "$image_version-1" "" \
	"boot/vmlinuz-$image_version-amd64=not a kernel"
deb "linux-headers-$image_version-amd64" "$image_version-1" \
	"linux-headers-$image_version-common, linux-kbuild-$image_version" \
	"$headers-amd64/Makefile=include /$headers-common/Makefile" \
	"$headers-amd64/.kernelvariables=CC = \$(CROSS_COMPILE)gcc"
deb "linux-headers-$image_version-common" "$image_version-1" "" \
	"$headers-common/Makefile=# the common part"
deb "linux-kbuild-$image_version" "$image_version-1"
deb linux-source-7.2 7.2.13-1
suite bookworm-backports \
	"linux-image-$image_version-amd64-unsigned_$image_version-1_amd64.deb" \
	"linux-headers-$image_version-amd64_$image_version-1_amd64.deb" \
	"linux-headers-$image_version-common_$image_version-1_amd64.deb" \
	"linux-kbuild-${image_version}_$image_version-1_amd64.deb"
suite sid linux-source-7.2_7.2.13-1_amd64.deb

# A "debs" kernel whose packages the suite has: fetched and unpacked, the
# headers' Makefile pointed at the unpacked copy.
run present "6.12	debs	bookworm-backports	$image_version" 6.12
root=$work/case/present/cache/kernels/6.12/root
if [ "$status" -eq 0 ] &&
   [ "$out" = "KERNEL=$root/boot/vmlinuz-$image_version-amd64
KDIR=$root/$headers-amd64" ] &&
   grep -qx "include $root/$headers-common/Makefile" "$root/$headers-amd64/Makefile" &&
   [ -f "$root/$headers-common/Makefile" ]; then
	report ok debs_version_in_suite_is_fetched
else
	report fail debs_version_in_suite_is_fetched "exit status $status; stdout:" \
		"$out" "stderr:" "$err"
fi

# The same kernel one version on: that image is not in the index.
run dropped_debs "6.12	debs	bookworm-backports	6.12.96+deb12" 6.12
expect_line debs_version_not_in_suite_is_named \
	"zxmem: bookworm-backports no longer has linux-image-6.12.96+deb12-amd64-unsigned; bump $conf (README: Kernels)"

# A "source" kernel whose version the suite has: past the check, apt
# fetches it (the stand-in holds no source tarball, so the run fails
# after that).
run present_source "7.2	source	sid	7.2.13-1	guest.config" 7.2
if grep -qx 'kernel.sh: fetching linux-source-7.2=7.2.13-1 from sid' <<<"$err" &&
   ! grep -q 'no longer has' <<<"$err"; then
	report ok source_version_in_suite_is_fetched
else
	report fail source_version_in_suite_is_fetched "exit status $status; stderr:" "$err"
fi

# A "source" kernel: the package is there, in another version.
run dropped_source "7.2	source	sid	7.2.12-1	guest.config" 7.2
expect_line source_version_not_in_suite_is_named \
	"zxmem: sid no longer has linux-source-7.2 7.2.12-1; bump $conf (README: Kernels)"

# A "source" kernel whose package is not there at all.
run missing_source "7.9	source	sid	7.9.1-1	guest.config" 7.9
expect_line source_package_not_in_suite_is_named \
	"zxmem: sid no longer has linux-source-7.9 7.9.1-1; bump $conf (README: Kernels)"

# A suite the mirror does not carry.
run missing_suite "5.10	debs	bullseye	5.10.0-32" 5.10
case $err in
"zxmem: cannot read the index of bullseye (E: "*"bullseye Release"*"); see README: Kernels") one=$status ;;
*) one=0 ;;
esac
if [ "$one" -ne 0 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [ -z "$out" ]; then
	report ok suite_not_on_mirror_is_named
else
	report fail suite_not_on_mirror_is_named "exit status $status; stderr:" "$err"
fi

[ -z "$verbose" ] || echo "1..$n"
[ "$failed" -eq 0 ]
