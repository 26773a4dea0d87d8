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

kernel_sources=(zxmem.c zxmem_kunit.c zxmem_ioctl.h zxmem_compat.h)
uapi_kernel=(uapi/linux/zxmem.h uapi/zircon/errors.h)
uapi_user=(uapi/zircon/syscalls.h)
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

# Build the module in a copy of the tree, so lint never races the real
# build's objects.
kbuild() {
	rm -rf "$work/tree" && mkdir -p "$work/tree" &&
		cp -r "$repo/Kbuild" "$repo"/*.c "$repo"/*.h "$repo/uapi" "$work/tree" &&
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
		cp -r "$repo"/*.c "$repo"/*.h "$repo/uapi" "$work/module/" ||
		return 1
	coccicheck_run "$work/module"
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
gate kernel_doc "$ksrc/scripts/kernel-doc" -none -Werror \
	"${uapi_kernel[@]}" "${uapi_user[@]}" zxmem_ioctl.h zxmem_compat.h
# DKMS reads dkms.conf literally: its PACKAGE_VERSION, and the last entry
# of debian/changelog, must be the first line of VERSION.
gate version_dkms_conf_changelog make -s --no-print-directory -C "$repo" version-check
echo "1..$n"
[ -n "${ZXMEM_LINT_COUNTS:-}" ] &&
	echo "passed=$passed failed=$failed skipped=0" > "$ZXMEM_LINT_COUNTS"
[ "$failed" -eq 0 ]
