#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Mutation testing of the test suite: plant each fault of scripts/mutants.list
# in a scratch copy of this repository, one at a time, run the suite against
# it, and expect the suite to fail.
#
#   scripts/mutants.sh [--list | --check | --apply]
#
# --list prints the mutants; --apply only plants each one in turn (is the
# list still exact for the sources?); --check plants and builds each one for
# MUTANTS_KERNEL with W=1 -Werror, without running any suite.
#
# The unmutated copy runs first and must pass (else nothing a mutant does
# could be told apart).  Each mutant is then a mutant of that copy: its edits
# must apply exactly (every '-' block found once, the file changed), and the
# module must still build warning-free; a mutant that does not apply or does
# not build is an error of the list, never a kill.  The suite per mutant is
# "make vm-check KVER=$MUTANTS_KERNEL" of the scratch copy (the fast VM suite
# on one kernel), and KUnit (scripts/kunit.sh) first for mutants of
# zxmem_ioctl.h.  The run ends with "N killed, M survived" (and the errors)
# and fails if any mutant survived or was in error.
#
# Environment:
#   MUTANTS=a,b        only these mutants (names from the list)
#   MUTANTS_KERNEL=K   the kernel of scripts/kernels.conf to run on (6.1)
#   MUTANTS_KUNIT=0    no KUnit runs (default 1: for zxmem_ioctl.h mutants)
#   MUTANTS_DEBUG=1    a mutant marked "needs debug" that survives the fast
#                      suite also gets "make debug-all" (7.2-debug: VM suite,
#                      fuzzer, races, fault injection; ~8 min each);
#                      MUTANTS_DEBUG=all: every survivor does
#   MUTANTS_FULL=1     run every suite to its end, even once one has failed
#                      (default: stop a mutant's run at its first "not ok")
#   MUTANTS_BASELINE=0 skip the unmutated run
#   MUTANTS_OUT=DIR    where the scratch copies and logs go (build/mutants)
#   MUTANTS_LIST=FILE  another list
#
# The KUnit runs use a private copy of the kernel tree (hard links to the
# shared cache's linux-source-6.1) and their own build directory under
# MUTANTS_OUT, so the cache's own KUnit tree is never pointed elsewhere.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
list=${MUTANTS_LIST:-$here/mutants.list}
kernel=${MUTANTS_KERNEL:-6.1}
want_kunit=${MUTANTS_KUNIT:-1}
debug=${MUTANTS_DEBUG:-0}
full=${MUTANTS_FULL:-0}
baseline=${MUTANTS_BASELINE:-1}
out=${MUTANTS_OUT:-$repo/build/mutants}
cache=${ZXMEM_CACHE:-$HOME/.cache/zxmem}

die() {
	echo "mutants.sh: $*" >&2
	exit 2
}

# ---- the list ----------------------------------------------------------

names=()
declare -A m_file m_what m_debug m_nhunks m_old m_new m_hasnew m_line

# Close the edit being read: its '-' and '+' lines become one hunk.
old='' new='' have_old=0 have_new=0 cur='' lineno=0
end_hunk() {
	((have_old)) || { ((have_new == 0)) || die "$list:$lineno: '+' lines without '-' lines"; return 0; }
	local h=${m_nhunks[$cur]}
	m_old[$cur,$h]=$old
	m_new[$cur,$h]=$new
	m_hasnew[$cur,$h]=$have_new
	m_nhunks[$cur]=$((h + 1))
	old='' new='' have_old=0 have_new=0
}
end_mutant() {
	[[ -n $cur ]] || return 0
	end_hunk
	[[ -n ${m_file[$cur]:-} ]] || die "mutant $cur: no 'file' line"
	[[ -n ${m_what[$cur]:-} ]] || die "mutant $cur: no 'what' line"
	((m_nhunks[$cur] > 0)) || die "mutant $cur: no edit"
}

[[ -r $list ]] || die "$list: cannot read the list"
while IFS= read -r line || [[ -n $line ]]; do
	lineno=$((lineno + 1))
	case $line in
	'#'* | '') [[ -z $cur ]] || end_hunk; continue ;;
	'mutant '*)
		end_mutant
		cur=${line#mutant }
		[[ $cur =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "$list:$lineno: bad mutant name '$cur'"
		[[ -z ${m_file[$cur]:-} && -z ${m_line[$cur]:-} ]] || die "$list:$lineno: mutant $cur twice"
		names+=("$cur")
		m_line[$cur]=$lineno m_nhunks[$cur]=0 m_debug[$cur]=0
		;;
	'file '*) m_file[$cur]=${line#file } ;;
	'what '*) m_what[$cur]=${line#what } ;;
	'needs debug') m_debug[$cur]=1 ;;
	-*)
		[[ -n $cur ]] || die "$list:$lineno: edit outside a mutant"
		((have_new == 0)) || end_hunk
		if ((have_old)); then old+=$'\n'${line#-}; else old=${line#-}; fi
		have_old=1
		;;
	+*)
		((have_old)) || die "$list:$lineno: '+' line before any '-' line"
		if ((have_new)); then new+=$'\n'${line#+}; else new=${line#+}; fi
		have_new=1
		;;
	*) die "$list:$lineno: cannot read: $line" ;;
	esac
done <"$list"
end_mutant

if [[ ${1:-} == --list ]]; then
	for n in "${names[@]}"; do
		printf '%-26s %-14s %s\n' "$n" "${m_file[$n]}" "${m_what[$n]}"
	done
	exit 0
fi
mode=run
case ${1:-} in
'') ;;
--check) mode=check ;;
--apply) mode=apply ;;
*) die "usage: $0 [--list | --check | --apply]" ;;
esac

selected=("${names[@]}")
if [[ -n ${MUTANTS:-} ]]; then
	IFS=, read -r -a selected <<<"$MUTANTS"
	for n in "${selected[@]}"; do
		[[ -n ${m_line[$n]:-} ]] || die "no mutant '$n' in $list"
	done
fi

# ---- applying a mutant -------------------------------------------------

# Replace the whole lines $2 (once in file $1, exactly) by the lines $3
# ($4: 1 if there are any).  Prints why not, and fails, otherwise.
apply_hunk() {
	local f=$1 o=$2 n=$3 has_new=$4 body pat rest count rep

	body=$'\n'$(<"$f")$'\n'
	pat=$'\n'$o$'\n'
	rest=${body//"$pat"/}
	count=$(((${#body} - ${#rest}) / ${#pat}))
	if ((count != 1)); then
		echo "the lines to replace occur $count times in $f, not once:"
		printf '%s\n' "$o" | sed 's/^/    -/'
		return 1
	fi
	rep=$'\n'
	((has_new)) && rep=$'\n'$n$'\n'
	body=${body/"$pat"/"$rep"}
	printf '%s\n' "${body:1:${#body}-2}" >"$f"
}

# Plant mutant $1 in the scratch copy $2; fails (with the reason on
# stdout) if an edit does not apply or leaves the file as it was.
plant() {
	local n=$1 dir=$2 f=$2/${m_file[$1]} h

	[[ -f $f ]] || { echo "no file ${m_file[$n]}"; return 1; }
	cp "$f" "$f.orig"
	for ((h = 0; h < m_nhunks[$n]; h++)); do
		apply_hunk "$f" "${m_old[$n,$h]}" "${m_new[$n,$h]}" \
			"${m_hasnew[$n,$h]}" || return 1
	done
	if cmp -s "$f" "$f.orig"; then
		echo "the edits leave ${m_file[$n]} unchanged"
		return 1
	fi
	diff -u --label "a/${m_file[$n]}" --label "b/${m_file[$n]}" \
		"$f.orig" "$f" >"$dir.diff" || true
	rm -f "$f.orig"
}

# ---- running a suite ---------------------------------------------------

# Run "$@" in its own session with its output in $log; with early stop on,
# end it (its whole process group) once the TAP file $tap shows a result
# "not ok" that is not a skip.  Sets run_rc, run_stopped.
not_ok() {
	[[ -s $1 ]] && grep -aE '^not ok [0-9]+' "$1" | grep -qaviE '#[[:space:]]*skip'
}
run_stoppable() {
	local log=$1 tap=$2 pid
	shift 2

	setsid "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	run_stopped=0
	while kill -0 "$pid" 2>/dev/null; do
		if [[ $full != 1 && -n $tap ]] && not_ok "$tap"; then
			run_stopped=1
			kill -TERM -- "-$pid" 2>/dev/null || true
			sleep 2
			kill -KILL -- "-$pid" 2>/dev/null || true
			break
		fi
		sleep 2
	done
	run_rc=0
	wait "$pid" || run_rc=$?
	((run_stopped)) && run_rc=1
	return 0
}

# The failed results of a VM run, for the table: "not ok" names, then the
# run's own problems.
vm_reasons() {
	local dir=$1 log=$2

	{
		grep -aE '^not ok [0-9]+' "$dir/result.tap" 2>/dev/null |
			grep -aviE '#[[:space:]]*skip' |
			sed -E 's/^not ok [0-9]+ //'
		grep -aE 'vm-run.sh: FAIL: (VM|run.sh|TAP|kernel splat)' "$log" |
			sed -E 's/^vm-run.sh: FAIL: //'
	} | awk '!seen[$0]++' | head -n 6 | paste -sd ';' - | sed 's/;/; /g' ||
		true
}

# KUnit's failed cases, from kunit.py's log $1.
kunit_reasons() {
	{
		grep -aE '\[FAILED\] [^ =]+$' "$1" | sed -E 's/.*\[FAILED\] //' |
			awk '!seen[$0]++' | head -n 6 | paste -sd ' ' -
		grep -a 'Ran [0-9]* tests' "$1" | tail -n 1
	} | head -n 1 || true
}

# The private KUnit tree: the kernel source as hard links (a symbolic-link
# copy where hard links fail), so kunit.sh may point its drivers/misc/zxmem
# at the scratch copy without touching the shared cache.
kunit_cache=$out/kunit-cache
kunit_ready() {
	[[ -d $kunit_cache/linux-source-6.1 ]] && return 0
	[[ -d $cache/linux-source-6.1 ]] || { echo "no $cache/linux-source-6.1"; return 1; }
	mkdir -p "$kunit_cache"
	cp -al "$cache/linux-source-6.1" "$kunit_cache/" 2>/dev/null ||
		{ rm -rf "$kunit_cache/linux-source-6.1" &&
		  cp -as "$cache/linux-source-6.1" "$kunit_cache/"; }
}

# Sets verdict ("pass", "fail", "error") and detail for scratch copy $1,
# results into directory $2.  $3: run KUnit too.
run_suites() {
	local dir=$1 res=$2 kunit=$3 log counts line

	mkdir -p "$res"
	verdict=pass detail=
	if ((kunit)); then
		log=$res/kunit.log
		if ! kunit_ready >"$log" 2>&1; then
			verdict=error detail="KUnit tree: $(tail -n 1 "$log" || true)"
			return
		fi
		run_stoppable "$log" '' env ZXMEM_CACHE="$kunit_cache" \
			"$dir/scripts/kunit.sh"
		# kunit.sh counts our files' warnings as failures; here the
		# list is at fault, not the suite.
		if grep -qE 'zxmem/[^ ]*: (warning|error):' "$log"; then
			verdict=error
			detail="does not build cleanly for KUnit: $(grep -m 1 -E 'zxmem/[^ ]*: (warning|error):' "$log" || true)"
			return
		fi
		if ((run_rc)); then
			verdict=fail
			detail="KUnit: $(kunit_reasons "$log")"
			[[ $full == 1 ]] || return 0
		fi
	fi

	log=$res/vm.log
	# A VM that printed no TAP line at all never reached run.sh (api_test
	# runs before the module is loaded): the machine, not the mutant, is at
	# fault.  Such a run is tried once more, then counts as an error.
	local try
	for try in 1 2; do
		run_stoppable "$log" "$dir/build/vm/$kernel/result.tap" \
			env ZXMEM_VM_QUIET=1 make -C "$dir" --no-print-directory \
			vm-check KVER="$kernel"
		grep -qs 'zxmem.ko does not build warning-free' "$log" && break
		grep -qaE '^(not )?ok [0-9]+' "$dir/build/vm/$kernel/result.tap" && break
		((try == 2)) && { verdict=error detail="vm $kernel: the VM printed no TAP, twice"; return; }
		echo "mutants.sh: the VM printed no TAP; once more" >>"$res/retries.log"
	done
	cp -f "$dir/build/vm/$kernel/result.tap" "$dir/build/vm/$kernel/counts" \
		"$dir/build/vm/$kernel/console.log" "$res/" 2>/dev/null || true
	if grep -q 'zxmem.ko does not build warning-free' "$log"; then
		verdict=error detail="does not build: $(grep -m 1 -E 'error:' "$log" || true)"
		return
	fi
	counts=$(cat "$res/counts" 2>/dev/null || echo '')
	if ((run_rc)); then
		line="vm $kernel: $(vm_reasons "$res" "$log")"
		((run_stopped)) && line+=" (stopped at the first)"
		verdict=fail detail=${detail:+$detail; }$line
	else
		detail=${detail:+$detail; }"vm $kernel: green, $counts"
	fi
}

run_debug() {
	local dir=$1 res=$2 log=$2/debug.log

	run_stoppable "$log" "$dir/build/vm/7.2-debug/result.tap" \
		env ZXMEM_VM_QUIET=1 make -C "$dir" --no-print-directory debug-all
	cp -f "$dir/build/vm/7.2-debug/result.tap" "$res/debug.tap" 2>/dev/null || true
	# debug-all's stages do not stop make; summary.sh's status is its verdict.
	if ((run_rc)); then
		verdict=fail
		detail+="; debug: $(vm_reasons "$dir/build/vm/7.2-debug" "$log")"
	else
		detail+="; debug: green"
	fi
}

# ---- the run -----------------------------------------------------------

base=$out/base
scratch=$out/src
rm -rf "$base" "$scratch" "$out/results" && mkdir -p "$base" "$out/results"
# The working tree as it stands (tracked and new files, not the ignored).
git -C "$repo" ls-files -z -co --exclude-standard |
	(cd "$repo" && tar --null --ignore-failed-read -T - -cf -) 2>/dev/null |
	tar -xf - -C "$base"
if [[ $mode != run ]]; then
	errors=0
	if [[ $mode == check ]]; then
		eval "$("$here/kernel.sh" "$kernel")" || die "kernel $kernel not available"
	fi
	for n in "${selected[@]}"; do
		rm -rf "$scratch" && mkdir -p "$scratch"
		cp -a "$base/Kbuild" "$base/VERSION" "$base"/*.c "$base"/*.h "$base/uapi" "$scratch/"
		if ! why=$(plant "$n" "$scratch"); then
			errors=$((errors + 1))
			printf '%-26s ERROR does not apply: %s\n' "$n" "$(head -n 1 <<<"$why")"
			continue
		fi
		if [[ $mode == check ]] && ! make -s -C "$KDIR" M="$scratch" W=1 \
				KCFLAGS=-Werror modules >"$out/build.log" 2>&1; then
			errors=$((errors + 1))
			printf '%-26s ERROR does not build: %s\n' "$n" \
				"$(grep -m 1 -E 'error' "$out/build.log" || true)"
			continue
		fi
		mkdir -p "$out/diffs" && mv "$scratch.diff" "$out/diffs/$n.diff"
		printf '%-26s ok\n' "$n"
	done
	rm -rf "$scratch" "$scratch.diff"
	echo "${#selected[@]} mutant(s), $errors error(s)"
	((errors == 0))
	exit
fi

# The test programs are built once (the installed kselftest tree, and for
# the debug run its programs too); mutants touch only the module.
targets=ksft-install
[[ $debug == 0 ]] || targets+=" ksft-debug"
# shellcheck disable=SC2086 # two make targets
make -s -C "$base" --no-print-directory $targets ||
	die "the test programs do not build"

need_kunit=0
for n in "${selected[@]}"; do
	[[ $want_kunit == 1 && ${m_file[$n]} == zxmem_ioctl.h ]] && need_kunit=1
done

fresh() {
	rm -rf "$scratch" "$scratch.diff"
	cp -a "$base" "$scratch"
}

suites="vm-check on $kernel"
((need_kunit)) && suites+=", KUnit for zxmem_ioctl.h"
echo "mutants.sh: ${#selected[@]} mutant(s), suite: $suites"
start=$SECONDS
if [[ $baseline == 1 ]]; then
	fresh
	echo "mutants.sh: the unmutated copy first"
	run_suites "$scratch" "$out/results/baseline" "$need_kunit"
	if [[ $verdict != pass ]]; then
		echo "mutants.sh: the unmutated suite is not green: $detail"
		echo "mutants.sh: no mutant can be judged; logs in $out/results/baseline"
		exit 1
	fi
	echo "mutants.sh: unmutated: $detail ($((SECONDS - start))s)"
fi

killed=0 survived=0 errors=0
table=$out/results/table.txt
: >"$table"
report() {
	printf '%-26s %-9s %s\n' "$1" "$2" "$3" | tee -a "$table"
}
for n in "${selected[@]}"; do
	t=$SECONDS
	fresh
	res=$out/results/$n
	mkdir -p "$res"
	if ! why=$(plant "$n" "$scratch"); then
		errors=$((errors + 1))
		report "$n" ERROR "does not apply: $(printf '%s' "$why" | head -n 1)"
		continue
	fi
	mv "$scratch.diff" "$res/mutant.diff"
	run_suites "$scratch" "$res" "$([[ $want_kunit == 1 && ${m_file[$n]} == zxmem_ioctl.h ]] && echo 1 || echo 0)"
	if [[ $verdict == pass && ( $debug == all || ( $debug == 1 && ${m_debug[$n]} == 1 ) ) ]]; then
		run_debug "$scratch" "$res"
	fi
	case $verdict in
	fail) killed=$((killed + 1)) && report "$n" killed "$detail ($((SECONDS - t))s)" ;;
	pass) survived=$((survived + 1)) && report "$n" SURVIVED "$detail ($((SECONDS - t))s)" ;;
	*) errors=$((errors + 1)) && report "$n" ERROR "$detail" ;;
	esac
done
rm -rf "$scratch"

echo "mutants.sh: table in $table, diffs and logs in $out/results/ ($(((SECONDS - start) / 60)) min)"
line="$killed killed, $survived survived"
((errors)) && line+=", $errors error(s) in the list"
echo "$line"
((survived == 0 && errors == 0))
