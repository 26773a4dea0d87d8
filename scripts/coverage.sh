#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Line and branch coverage of zxmem.ko from a "make check-debug" run:
#
#   scripts/coverage.sh OUTDIR [--html DIR]
#
# OUTDIR is vm-suite.sh's output directory: OUTDIR/module holds the module
# as built (with GCOV_PROFILE, so zxmem.gcno is there) and OUTDIR/result.tap
# the counters, which selftests/zxmem/gcov-dump.sh wrote there as base64.
# Prints per function of zxmem.c, zxmem_compat.h and zxmem_ioctl.h the
# lines and branches executed, every line of zxmem.c that no test ran, and
# one summary line; --html also writes genhtml's report to DIR.
#
# The goal: line coverage of zxmem.c at least ZXMEM_LINE_GOAL percent, and
# every line of zxmem.c that returns or sets a ZX_ERR_* executed.  Missing
# it fails (OUTDIR/coverage.counts gets failed=1), unless
# ZXMEM_COVERAGE_GATE=0, which reports the shortfall as a skip.  No
# counters at all (the VM did not finish, the module had no gcov) always
# fails.
set -euo pipefail

# The goal of issue 11, in percent of zxmem.c's executable lines.
ZXMEM_LINE_GOAL=95

usage() {
	echo "usage: coverage.sh OUTDIR [--html DIR]" >&2
	exit 2
}
out=${1:-}
[ -n "$out" ] || usage
shift
html=
while (($#)); do
	case $1 in
	--html) (($# >= 2)) || usage; html=$2; shift 2 ;;
	*) usage ;;
	esac
done
gate=${ZXMEM_COVERAGE_GATE:-1}
mod=$out/module
counts=$out/coverage.counts
report=$out/coverage.txt
rm -f "$counts" "$report" "$mod"/*.gcda

fail() {
	echo "coverage: FAIL: $*"
	echo "passed=0 failed=1 skipped=0" >"$counts"
	exit 1
}

for tool in lcov genhtml; do
	command -v "$tool" >/dev/null || fail "$tool not found (run scripts/deps.sh)"
done
# The counters' format is the compiler's: gcov of the gcc that built them.
gcov=gcov-$(gcc -dumpversion)
command -v "$gcov" >/dev/null || gcov=gcov
[ -f "$mod/zxmem.gcno" ] ||
	fail "no $mod/zxmem.gcno: zxmem.ko was not built with GCOV_PROFILE (kernel without CONFIG_GCOV_KERNEL?)"
[ -f "$out/result.tap" ] || fail "no $out/result.tap"

# The one block gcov-dump.sh wrote: base64 between the marker lines, with
# the size and SHA-256 of the original.
blocks=$(grep -c '^# zxmem-gcov-begin ' "$out/result.tap" || true)
[ "$blocks" = 1 ] ||
	fail "$blocks zxmem.gcda block(s) in $out/result.tap, expected 1 (did the guest reach gcov-dump.sh?)"
read -r _ _ bytes sum < <(grep '^# zxmem-gcov-end ' "$out/result.tap") ||
	fail "the zxmem.gcda block in $out/result.tap is cut short"
sed -n '/^# zxmem-gcov-begin /,/^# zxmem-gcov-end /{//!s/^# //p}' \
	"$out/result.tap" | base64 -d >"$mod/zxmem.gcda" ||
	fail "the zxmem.gcda block does not decode"
if [ "$(wc -c <"$mod/zxmem.gcda")" != "$bytes" ] ||
   [ "$(sha256sum "$mod/zxmem.gcda" | cut -d ' ' -f 1)" != "$sum" ]; then
	fail "zxmem.gcda from $out/result.tap is not what the guest sent"
fi

# lcov 1.16's geninfo warns about its own Perl on every run: not ours.
quiet() {
	"$@" 2>&1 | grep -v -e '^Processing' -e '^Subroutine .* redefined at '
	return "${PIPESTATUS[0]}"
}
rc=(--rc lcov_branch_coverage=1)
quiet lcov -q "${rc[@]}" --gcov-tool "$gcov" --capture --directory "$mod" \
	--output-file "$out/coverage-all.info" ||
	fail "lcov --capture failed on $mod"
quiet lcov -q "${rc[@]}" --extract "$out/coverage-all.info" "$mod/zxmem.c" \
	"$mod/zxmem_compat.h" "$mod/zxmem_ioctl.h" \
	--output-file "$out/coverage.info" || fail "lcov --extract failed"
grep -q '^SF:.*/zxmem\.c$' "$out/coverage.info" ||
	fail "no counters for zxmem.c in $out/coverage.info"
if [ -n "$html" ]; then
	rm -rf "$html"
	quiet genhtml -q "${rc[@]}" --prefix "$mod" --title zxmem --legend \
		--output-directory "$html" "$out/coverage.info" ||
		fail "genhtml failed"
fi

# Per function: a line or branch belongs to the function whose first line
# is the last one at or before it.  The ZX_ERR_* lines of zxmem.c are those
# outside comments that return or assign one (comparisons do not count).
awk -v goal="$ZXMEM_LINE_GOAL" -v src="$mod/zxmem.c" '
function base(p) { sub(/.*\//, "", p); return p }
function fn_of(f, l,   i, best, bl) {
	best = "(outside functions)"; bl = 0
	for (i = 1; i <= nfn[f]; i++)
		if (fnl[f, i] <= l && fnl[f, i] > bl) { bl = fnl[f, i]; best = fnn[f, i] }
	return best
}
function pct(h, t) { return t ? sprintf("%.1f%%", 100 * h / t) : "-" }
BEGIN {
	while ((getline line < src) > 0) {
		n++
		text[n] = line
		if (line ~ /^[[:space:]]*(\/?\*|\/\/)/)
			continue
		gsub(/[!=]=[[:space:]]*ZX_ERR_[A-Z_]+|ZX_ERR_[A-Z_]+[[:space:]]*[!=]=/, "", line)
		if (line ~ /ZX_ERR_/)
			errline[n] = 1
	}
}
/^SF:/ { f = base(substr($0, 4)); files[f] = 1; order[++nf] = f }
/^FN:/ { split(substr($0, 4), a, ","); nfn[f]++; fnl[f, nfn[f]] = a[1]; fnn[f, nfn[f]] = a[2] }
/^DA:/ {
	split(substr($0, 4), a, ",")
	g = fn_of(f, a[1]); key = f SUBSEP g
	if (!(key in seen)) { seen[key] = 1; fns[f] = fns[f] " " g }
	lt[key]++; ft[f]++
	if (a[2] > 0) { lh[key]++; fh[f]++ }
	else if (f == "zxmem.c") miss[a[1]] = g
	if (f == "zxmem.c") da[a[1]] = a[2]
}
/^BRDA:/ {
	split(substr($0, 6), a, ",")
	g = fn_of(f, a[1]); key = f SUBSEP g
	bt[key]++; fbt[f]++
	if (a[4] != "-" && a[4] > 0) { bh[key]++; fbh[f]++ }
	else if (f == "zxmem.c") brmiss[a[1]] = 1
}
END {
	printf "%-16s %-32s %14s %16s\n", "file", "function", "lines", "branches"
	for (i = 1; i <= nf; i++) {
		f = order[i]
		m = split(fns[f], list, " ")
		for (j = 1; j <= m; j++) {
			key = f SUBSEP list[j]
			printf "%-16s %-32s %6s %7s %7s %8s\n", f, list[j],
				(lh[key] + 0) "/" lt[key], pct(lh[key], lt[key]),
				(bh[key] + 0) "/" (bt[key] + 0), pct(bh[key], bt[key])
		}
		printf "%-16s %-32s %6s %7s %7s %8s\n", f, "TOTAL",
			(fh[f] + 0) "/" ft[f], pct(fh[f], ft[f]),
			(fbh[f] + 0) "/" (fbt[f] + 0), pct(fbh[f], fbt[f])
	}
	# A ZX_ERR_* line gcc gave no counter of its own (the tail of a
	# statement) is judged by the statement it belongs to.
	for (l = 1; l <= n; l++) {
		if (!(l in errline))
			continue
		for (k = l; k > 0 && !(k in da); k--)
			;
		errs++
		if (k > 0 && da[k] > 0)
			errhit++
		else
			errmiss[l] = k
	}
	print ""
	print "zxmem.c lines no test executed (file:line function: source):"
	for (l = 1; l <= n; l++)
		if (l in miss) {
			t = text[l]; sub(/^[[:space:]]+/, "", t)
			printf "  zxmem.c:%d %s: %s%s\n", l, miss[l], t,
				(l in errline) ? "   [ZX_ERR]" : ""
		}
	for (l = 1; l <= n; l++)
		if ((l in errmiss) && errmiss[l] != l) {
			t = text[l]; sub(/^[[:space:]]+/, "", t)
			printf "  zxmem.c:%d (statement of line %d): %s   [ZX_ERR]\n", l, errmiss[l], t
		}
	print ""
	print "ZX_ERR lines of zxmem.c that ran, with a branch on them never taken:"
	for (l = 1; l <= n; l++)
		if ((l in errline) && (l in brmiss) && !(l in errmiss)) {
			t = text[l]; sub(/^[[:space:]]+/, "", t)
			printf "  zxmem.c:%d %s: %s\n", l, fn_of("zxmem.c", l), t
		}
	f = "zxmem.c"
	need = int((goal * ft[f] + 99) / 100) - fh[f]
	if (need < 0) need = 0
	nerr = errs - errhit
	print ""
	printf "coverage: zxmem.c lines %s (%d/%d) branches %s (%d/%d)",
		pct(fh[f], ft[f]), fh[f], ft[f], pct(fbh[f], fbt[f]), fbh[f], fbt[f]
	f = "zxmem_compat.h"
	printf "; zxmem_compat.h lines %s (%d/%d) branches %s (%d/%d)",
		pct(fh[f], ft[f]), fh[f], ft[f], pct(fbh[f], fbt[f]), fbh[f], fbt[f]
	printf "; ZX_ERR lines %d/%d", errhit, errs
	if (!need && !nerr)
		printf "; goal (lines >= %d%%, every ZX_ERR line) met\n", goal
	else
		printf "; goal (lines >= %d%%, every ZX_ERR line) MISSED by %d line(s) and %d ZX_ERR line(s)\n", goal, need, nerr
}' "$out/coverage.info" >"$report"
cat "$report"
[ -n "$html" ] && echo "coverage: HTML report in $html/index.html"

summary=$(tail -n 1 "$report")
if [[ $summary == *" met" ]]; then
	echo "passed=1 failed=0 skipped=0" >"$counts"
elif [ "$gate" = 0 ]; then
	echo "coverage: the goal is missed, but ZXMEM_COVERAGE_GATE=0: a skip"
	echo "passed=0 failed=0 skipped=1" >"$counts"
else
	echo "coverage: FAIL: below the goal (ZXMEM_COVERAGE_GATE=0 reports only)"
	echo "passed=0 failed=1 skipped=0" >"$counts"
	exit 1
fi
