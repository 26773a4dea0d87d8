#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of "make profile", run by the VM's /init from /root as root,
# with the bench and a bundled perf (scripts/perf-bundle.sh) beside it.
#
# Where the time of the batched breakpoint install goes: 1,024 one-byte
# sites, one to a page of a file the target maps r-x, written by one
# ZXMEM_IOC_WRITE_MEMORY_VEC call with ZXMEM_VEC_EXCHANGE, batch after
# batch (bench --loop).  First each method of the comparison is timed
# alone, without a profiler; then perf samples the batched call (cpu-clock,
# the guest has no PMU) and the single calls.  From the share of the
# samples spent pinning and unpinning the target's pages in the kernel's
# GUP (every byte of a forced write needs its page pinned: ptrace and
# /proc/PID/mem pin them the same way), the time per page that no batched
# call can go below, and so how many times faster than single calls and
# than PEEKTEXT+POKETEXT pairs a call that pins every page can be.
#
# Every line of the report starts with "profile:"; TAP to $ZXMEM_RESULT.
cd "$(dirname "$0")" || exit 1
RESULT=${ZXMEM_RESULT:-/dev/null}
PERF=./perf/run

fail() {
	echo "profile.sh: $*"
	printf '1..1\nnot ok 1 profile_runs\n' >>"$RESULT"
	exit 1
}

insmod ./zxmem.ko enable_debugging_syscalls=1 || fail "insmod failed"
# Kernel symbols and sampling for root, whatever the defaults.
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid

# "bench-loop: METHOD 1024 sites: N ns per batch, S ns per site, ...":
# print the line, and add S to /tmp/METHOD.ns.
per_site() {
	./bench --loop="$1,$2" >/tmp/loop.txt || fail "bench --loop=$1 failed"
	sed 's/^/profile: /' /tmp/loop.txt
	sed -n 's/.* ns per batch, \([0-9.]*\) ns per site.*/\1/p' \
		/tmp/loop.txt >>"/tmp/$1.ns"
}

# The middle one of the three rounds' values.
median() {
	sort -n "/tmp/$1.ns" | sed -n 2p
}

echo "profile: each method alone, no profiler, three rounds in turn"
for round in 1 2 3; do
	for m in vec_xchg single peek+poke; do
		per_site $m 3
	done
done
vec=$(median vec_xchg)
single=$(median single)
pp=$(median peek+poke)
[ -n "$vec" ] && [ -n "$single" ] && [ -n "$pp" ] || fail "no timings"

for m in vec_xchg single; do
	$PERF record -q -e cpu-clock -F 10000 -g -o /tmp/$m.data \
		./bench --loop=$m,10 >/dev/null 2>&1 || fail "perf record failed"
done

# "    37.90%     0.23%  [k] __get_user_pages_remote": children, self.
# The symbols are 6.1's, the kernel make profile boots; a kernel that
# names them otherwise fails below, not with a wrong bound.
$PERF report -i /tmp/vec_xchg.data --stdio --children --sort sym -g none \
	--percent-limit 1 2>/dev/null | grep '%' | grep -v '\] 0x' >/tmp/vec.txt
share() {
	awk -v sym="$1" '$4 == sym { sub("%", "", $1); print $1; exit }' \
		/tmp/vec.txt
}
pin=$(share __get_user_pages_remote)
unpin=$(share unpin_user_pages_dirty_lock)
[ -n "$pin" ] && [ -n "$unpin" ] || fail "no GUP in the profile"

echo "profile:"
echo "profile: the batched call with exchange, by symbol (children, self):"
head -n 25 /tmp/vec.txt | sed 's/^/profile: /'
echo "profile:"
echo "profile: the single calls, by symbol (children, self):"
$PERF report -i /tmp/single.data --stdio --children --sort sym -g none \
	--percent-limit 1.5 2>/dev/null | grep '%' | grep -v '\] 0x' |
	head -n 40 | sed 's/^/profile: /'
echo "profile:"
awk -v vec="$vec" -v single="$single" -v pp="$pp" -v pin="$pin" \
	-v unpin="$unpin" 'BEGIN {
	page = (pin + unpin) / 100 * vec
	printf "profile: pinning (%.1f%%) and unpinning (%.1f%%) the pages: %.0f ns of the batched call'"'"'s %.0f ns per site, one page each\n", pin, unpin, page, vec
	printf "profile: a batched call that pins every page is at most %.1fx faster than single calls (%.0f ns per site; now %.1fx) and %.1fx than peek+poke (%.0f ns; now %.1fx)\n", single / page, single, single / vec, pp / page, pp, pp / vec
}'
rmmod zxmem || fail "rmmod zxmem failed"
printf '1..1\nok 1 profile_runs\n' >>"$RESULT"
