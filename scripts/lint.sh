#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own quality gates on the module, each one a TAP line.
# Usage: scripts/lint.sh KDIR   (headers of the kernel to build against)
# Writes passed=/failed= to $ZXMEM_LINT_COUNTS if set.  A gate that fails
# prints what it found.
set -uo pipefail

kdir=${1:?usage: lint.sh KDIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${ZXMEM_CACHE:-$HOME/.cache/zxmem}
ksrc=$cache/linux-source-6.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

kernel_sources=(zxmem.c zxmem_kunit.c zxmem_ioctl.h zxmem_compat.h zxmem_trace.h)
uapi_kernel=(uapi/linux/zxmem.h uapi/zircon/errors.h)
uapi_user=(uapi/zircon/syscalls.h uapi/zxmem/vec.h)
codespell_dict=$(dpkg -L codespell 2>/dev/null | grep '/dictionary.txt$' | head -n 1)

n=0
passed=0
failed=0

# gate NAME COMMAND...: run COMMAND; it passes if it exits 0 and prints
# nothing, since every tool here speaks only to complain.
gate() {
	local name=$1 out

	shift
	n=$((n + 1))
	out=$("$@" 2>&1)
	if [ $? -eq 0 ] && [ -z "$out" ]; then
		echo "ok $n $name"
		passed=$((passed + 1))
	else
		echo "not ok $n $name"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -n 60
		failed=$((failed + 1))
	fi
}

# The module's sources: not the zxmem.mod.c of a build in the repository,
# which pkg-test and the demo may be writing at the same time (make -j).
module_files=()
for f in "$repo"/*.[ch]; do
	[[ $f == *.mod.c ]] || module_files+=("$f")
done

# Build the module in a copy of the tree, so lint never races the real
# build's objects.
kbuild() {
	rm -rf "$work/tree" && mkdir -p "$work/tree" &&
		cp -r "$repo/Kbuild" "$repo/VERSION" "${module_files[@]}" "$repo/uapi" "$work/tree" &&
		make -s -C "$kdir" M="$work/tree" "$@" modules 2>&1 |
		grep -v -e '^Skipping BTF generation' -e '^make.*directory'
	return "${PIPESTATUS[0]}"
}

checkpatch() {
	cd "$ksrc" && perl scripts/checkpatch.pl --strict --no-tree --terse \
		--codespell --codespellfile "$codespell_dict" -f "$@" |
		grep -E '(ERROR|WARNING|CHECK):'
	[ "${PIPESTATUS[0]}" -eq 0 ]
}

headers_c90() {
	local h

	for h in "${uapi_kernel[@]}"; do
		gcc -std=c90 -Wall -Werror -fsyntax-only -I "$repo/uapi" -x c \
			"$repo/$h" || return 1
	done
}

# The user-space headers in every language a caller may use: C99 and C11
# strictly, gnu89, C++, 32-bit.
headers_user() {
	local h

	# gcc-12-multilib, not gcc-multilib (which conflicts with the arm64
	# cross compiler): the x86 <asm/*.h> serve -m32 through this link.
	mkdir -p "$work/asm32" &&
		ln -sfn "/usr/include/$(gcc -print-multiarch)/asm" "$work/asm32/asm" || return 1
	for h in "${uapi_user[@]}"; do
		printf '#include <%s>\n' "${h#uapi/}" >"$work/user.c" || return 1
		gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only \
			-I "$repo/uapi" "$work/user.c" &&
			gcc -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
				-I "$repo/uapi" "$work/user.c" &&
			gcc -m32 -std=c99 -pedantic -Wall -Wextra -Werror \
				-fsyntax-only -isystem "$work/asm32" \
				-I "$repo/uapi" "$work/user.c" &&
			g++ -pedantic -Wall -Wextra -Werror -fsyntax-only \
				-I "$repo/uapi" -x c++ "$work/user.c" || return 1
	done
}

spdx() {
	local f

	for f in "${uapi_kernel[@]}" "${uapi_user[@]}"; do
		head -n 1 "$repo/$f" | grep -q 'SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note' ||
			echo "$f: no GPL-2.0 WITH Linux-syscall-note SPDX line"
	done
}

# coccicheck DIR: every semantic patch of the kernel tree in report mode on
# DIR.  Prints the findings; fails (status 1, with the reason) when the tool
# did not do its work: spatch missing, a semantic patch skipped (spatch too
# old for it), spatch failing, or fewer spatch runs than semantic patches
# (the kernel's script echoes each spatch command it runs).
coccicheck_run() {
	local dir=$1 log=$work/coccicheck.log total ran status

	command -v spatch >/dev/null || { echo "spatch not found (coccinelle)"; return 1; }
	total=$(find "$ksrc/scripts/coccinelle" -name '*.cocci' -type f | wc -l)
	make -s -C "$ksrc" coccicheck MODE=report M="$dir" ${COCCI:+COCCI="$COCCI"} \
		>"$log" 2>&1
	status=$?
	[ -n "${COCCI:-}" ] && total=1
	ran=$(grep -c -- ' --cocci-file ' "$log")
	if [ "$status" -ne 0 ] || grep -q '^coccicheck failed' "$log" ||
	   grep -q '^Skipping coccinelle SmPL patch' "$log" || [ "$ran" -ne "$total" ]; then
		echo "coccicheck: exit status $status, spatch ran $ran of $total semantic patches:"
		grep -v -e ' --cocci-file ' -e '^[0-9]* files match$' "$log" | tail -n 20
		return 1
	fi
	grep -E "^$dir/[^:]+:[0-9]+" "$log"
	return 0
}

# The gate: no finding on the module, and a known defect (a NULL check
# before kfree(), scripts/coccinelle/free/ifnullfree.cocci) found in a file
# planted for it, so that a spatch that runs but matches nothing fails too.
coccicheck() {
	local found

	mkdir -p "$work/cocci" &&
		printf '%s\n' '#include <linux/slab.h>' \
			'void f(void *p)' '{' '	if (p)' '		kfree(p);' '}' \
			>"$work/cocci/planted.c" || return 1
	found=$(COCCI=$ksrc/scripts/coccinelle/free/ifnullfree.cocci \
		coccicheck_run "$work/cocci") || { echo "$found"; return 1; }
	grep -q 'planted.c:5:.*NULL check before' <<<"$found" ||
		{ echo "coccicheck: ifnullfree.cocci missed the planted defect: $found"; return 1; }
	# The module's own sources, in a copy: M=$repo would also scan the
	# user-space selftests and every copy of them under build/.
	mkdir -p "$work/module" &&
		cp -r "${module_files[@]}" "$repo/uapi" "$work/module/" ||
		return 1
	coccicheck_run "$work/module"
}

# The zxmem command and the target its test runs: user space, kernel style.
cmd_sources=(tools/zxmem.c selftests/zxmem/cmd_target.c)
man_pages=(man/*.in)

# The command builds warning-free with gcc and clang, and says the version
# of the file VERSION.
command_build() {
	local cc version want

	want="zxmem $(cat "$repo/VERSION")"
	for cc in gcc clang; do
		"$cc" -O2 -Wall -Wextra -Werror -I "$repo/uapi" \
			-DZXMEM_VERSION="\"$(cat "$repo/VERSION")\"" \
			-o "$work/zxmem-$cc" "$repo/tools/zxmem.c" || return 1
		version=$("$work/zxmem-$cc" --version) || return 1
		[ "$version" = "$want" ] ||
			echo "$cc: zxmem --version says '$version', not '$want'"
	done
}

# VERSION is one line, MAJOR.MINOR.PATCH; the module and the man pages
# take it from there and write it nowhere else.
version_one_place() {
	local v

	v=$(cat "$repo/VERSION")
	[[ $(wc -l <"$repo/VERSION") -eq 1 && $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		echo "VERSION: not one MAJOR.MINOR.PATCH line: '$v'"
	grep -q '^MODULE_VERSION(ZXMEM_VERSION);$' "$repo/zxmem.c" ||
		echo "zxmem.c: no MODULE_VERSION(ZXMEM_VERSION)"
	grep -Fq -- "-DZXMEM_VERSION=" "$repo/Kbuild" ||
		echo "Kbuild: does not pass ZXMEM_VERSION from VERSION"
	grep -Fln -- "$v" "${man_pages[@]/#/$repo/}" "$repo/tools/zxmem.c" \
		"$repo/zxmem.c" | sed "s|^$repo/|the version written out in |"
	grep -L '^\.TH .* "zxmem @VERSION@"' "${man_pages[@]/#/$repo/}" |
		sed 's|$|: no "zxmem @VERSION@" in .TH|'
}

# man_lint TOOL...: every man page, its version filled in as make man
# does, through TOOL; any message is a finding.
man_lint() {
	local page out

	mkdir -p "$work/man"
	for page in "${man_pages[@]}"; do
		out=$work/man/$(basename "$page" .in)
		sed "s/@VERSION@/$(cat "$repo/VERSION")/g" "$repo/$page" >"$out" ||
			return 1
		"$@" "$out" 2>&1 | sed "s|$work/man/|man/|g"
		[ "${PIPESTATUS[0]}" -eq 0 ] || echo "$page: $1 failed"
	done
}

cd "$repo" || exit 1
echo "# lint: module, headers and KUnit sources against $kdir"
gate checkpatch_strict_codespell checkpatch "${kernel_sources[@]/#/$repo/}" \
	"${uapi_kernel[@]/#/$repo/}"
# Zircon's API names its types with typedefs: zx_status_t and friends are
# the contract, so only that check is off for the user-space header.
gate checkpatch_strict_user_api checkpatch --ignore NEW_TYPEDEFS \
	"${uapi_user[@]/#/$repo/}"
gate build_w1_werror kbuild W=1 KCFLAGS=-Werror
gate sparse_c2 kbuild C=2 CHECK="sparse -Wsparse-error"
gate gcc_fanalyzer kbuild KCFLAGS="-fanalyzer -Werror"
gate coccicheck_report coccicheck
gate uapi_headers_c90 headers_c90
gate uapi_headers_spdx spdx
gate uapi_user_headers_c99_cxx headers_user
gate kernel_doc "$ksrc/scripts/kernel-doc" -none -Werror \
	"${uapi_kernel[@]}" "${uapi_user[@]}" zxmem_ioctl.h zxmem_compat.h
gate checkpatch_strict_command checkpatch "${cmd_sources[@]/#/$repo/}"
gate command_gcc_clang_werror command_build
gate version_in_one_place version_one_place
gate man_groff_ww man_lint groff -ww -z -man
gate man_mandoc_lint man_lint mandoc -Tlint -W warning
# DKMS reads dkms.conf literally: its PACKAGE_VERSION, and the last entry
# of debian/changelog, must be the first line of VERSION.
gate version_dkms_conf_changelog make -s --no-print-directory -C "$repo" version-check
# A kernel version a suite has dropped is one line naming the package and
# the suite (scripts/kernel.sh against a local archive, no network).
gate kernels_conf_dropped_version "$repo/scripts/kernels-test.sh"
echo "1..$n"
[ -n "${ZXMEM_LINT_COUNTS:-}" ] &&
	echo "passed=$passed failed=$failed skipped=0" > "$ZXMEM_LINT_COUNTS"
[ "$failed" -eq 0 ]
