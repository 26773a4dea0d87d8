#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel and an initramfs (from mkinitramfs.sh) in QEMU, then judge
# the run:
#
#   scripts/vm-run.sh --kernel VMLINUZ --initrd INITRD --out DIR
#                     [--timeout SECONDS] [--append "CMDLINE"]
#                     [--expect FILE --name KERNEL] [--quiet]
#
# The guest's console (ttyS0) goes to DIR/console.log, and to the terminal
# unless --quiet; its second serial port (ttyS1) goes to DIR/result.tap.
# --arch arm64 boots qemu-system-aarch64's "virt" board instead: console
# ttyAMA0, result port a virtio console (hvc0).
# Every test counts, KTAP subtests ("# "-prefixed) included; a result
# that holds a subtest counts only through it.  The run fails when
# result.tap does not end with "ZXMEM-EXIT 0" (the VM did not finish, or
# run.sh failed without reporting a failed test), when it holds no test
# result, when a TAP plan ("1..N") does not match its results, when the
# console shows a kernel splat, or when a test is "not ok".  With --expect
# (selftests/zxmem/expected.txt) for kernel KERNEL it also fails on a skip
# not declared there, on a declared skip that did not happen, and on a
# program below its declared minimum of passes.  DIR/judged.txt lists
# every test with its program.  Counts go to DIR/counts as "passed=N
# failed=M skipped=K"; each problem of the TAP adds 1 to failed, those of
# the VM (did not finish, splat) 1 together. Exit
# status 0 iff failed is 0.
#
# TCG is the default; ZXMEM_KVM=1 uses KVM instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

die() {
	echo "vm-run.sh: $*" >&2
	exit 2
}
usage() {
	die "usage: $0 [--arch amd64|arm64] --kernel VMLINUZ --initrd INITRD --out DIR [--timeout SECONDS] [--append CMDLINE] [--expect FILE --name KERNEL] [--quiet]"
}

kernel='' initrd='' out='' timeout=600 append='' quiet=0 expect='' name='' arch=amd64
while (($#)); do
	case $1 in
	--kernel | --initrd | --out | --timeout | --append | --expect | --name | --arch)
		(($# >= 2)) || usage
		case $1 in
		--arch) arch=$2 ;;
		--expect) expect=$2 ;;
		--name) name=$2 ;;
		--kernel) kernel=$2 ;;
		--initrd) initrd=$2 ;;
		--out) out=$2 ;;
		--timeout) timeout=$2 ;;
		--append) append+=${append:+ }$2 ;;
		esac
		shift 2
		;;
	--quiet) quiet=1 && shift ;;
	-h | --help) sed -n '4,31s/^# \{0,1\}//p' "$0" && exit 0 ;;
	*) usage ;;
	esac
done
[[ -n $kernel && -n $initrd && -n $out ]] || usage
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number of seconds"
[[ -r $kernel ]] || die "$kernel: cannot read the kernel"
[[ -r $initrd ]] || die "$initrd: cannot read the initramfs"
[[ -z $expect || (-r $expect && -n $name) ]] || die "--expect needs a readable file and --name"
case $arch in
amd64) qemu_bin="qemu-system-x86_64" ;;
arm64) qemu_bin="qemu-system-aarch64" ;;
*) die "--arch $arch: amd64 or arm64" ;;
esac
command -v "$qemu_bin" >/dev/null || die "$qemu_bin not found (run scripts/deps.sh)"

mkdir -p "$out"
console=$out/console.log
result=$out/result.tap
rm -f "$console" "$result" "$out/counts"
: >"$result"

accel=tcg
[[ ${ZXMEM_KVM:-0} == 1 ]] && accel=kvm
# One host thread runs both vCPUs, in turn.  With a thread each (QEMU's
# default for TCG), this QEMU now and then never delivers the call-function
# IPI of text patching (text_poke_bp(), behind every tracepoint, static
# call or kprobe switched): the patching CPU waits in
# smp_call_function_many_cond() for good while the other runs on and
# answers NMIs.  That was "soft lockup ... [gate_test]", the end of CI's
# pkg-test VM.  gate_test run 300 times in a row in the 6.1 VM, on a loaded
# host: with a thread per vCPU it hung at the 44th, 50th and 33rd run (the
# last with idle=poll, which is no cure); with one thread, 300 ran through.
# Two guest threads still interleave, at every switch between vCPUs.
accel_opts=$accel
[[ $accel == tcg ]] && accel_opts=tcg,thread=single

# QEMU splits option values at commas; a literal comma is written twice.
qarg() { printf '%s' "${1//,/,,}"; }

console_tty=ttyS0
[[ $arch == arm64 ]] && console_tty=ttyAMA0
cmdline="console=$console_tty panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1"
# loglevel=4 hides KERN_WARNING lines such as "WARNING: CPU: ..."; on a panic
# (which panic_on_warn makes of every WARN) panic_print=0x20 replays the whole
# kernel log to the console, so the splat that caused it is shown after all.
cmdline+=" loglevel=4 panic_print=0x20"
# A loaded host makes TCG's TSC look skewed to the clocksource watchdog,
# which then marks it unstable mid-run and live-patches the scheduler's
# clock static key; TCG guests have crashed in such patching (Oops: int3 in
# __schedule, 6.12).  TCG's TSC follows the host clock on every vCPU.
[[ $arch == amd64 ]] && cmdline+=" tsc=reliable"
cmdline+=${append:+ $append}

qemu=("$qemu_bin")
if [[ $arch == amd64 ]]; then
	qemu+=(-machine q35 -accel "$accel_opts" -cpu max)
else
	# Under TCG, pointer authentication with the architected algorithm
	# (QARMA) costs more than all the rest of the CPU; impdef is a
	# cheaper one, the same instructions.
	qemu+=(-machine virt -accel "$accel_opts" -cpu "max,pauth-impdef=on")
fi
qemu+=(
	-smp 2 -m 2G
	# Headless, like -nographic, but without -nographic's SeaBIOS serial
	# console, which writes terminal-reset escapes to ttyS0.
	-display none -no-reboot -nodefaults
	# The console: ttyS0 (0x3f8), or on arm64 the board's one PL011.
	-serial stdio
	-chardev "file,id=zxmem-result,path=$(qarg "$result")"
)
if [[ $arch == amd64 ]]; then
	# The second -serial is ttyS1 (0x2f8).
	qemu+=(-serial chardev:zxmem-result)
else
	# hvc0, on the board's virtio-mmio transports.
	qemu+=(-device virtio-serial-device
	       -device "virtconsole,chardev=zxmem-result")
fi
qemu+=(-kernel "$kernel" -initrd "$initrd" -append "$cmdline")

# --foreground: QEMU stays in our process group, so Ctrl-C stops it too.
start=$SECONDS
set +e
if ((quiet)); then
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null >"$console"
	qemu_rc=$?
else
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null | tee "$console"
	qemu_rc=${PIPESTATUS[0]}
fi
set -e
elapsed=$((SECONDS - start))

# Serial lines end in \r\n; keep plain text.
sed -i 's/\r$//' "$console" "$result"

# Problems of the run as a whole (did not finish, kernel splat, ...) are
# each reported, and together add 1 to the failed count.
vm_failed=0
problem() {
	echo "vm-run.sh: FAIL: $*"
	vm_failed=1
}

# TAP results, KTAP nesting included: a line's depth is the number of
# "# " prefixes in front of "TAP version", "1..N" or "[not ]ok N". A block
# of results at one depth that ends in a result one level up is that
# result's subtest: the result names the program of the block's tests
# (the runner's "selftests: zxmem: zxmem.sh" names zxmem.sh), and only
# tests without a subtest (leaves) are counted. A top-level block of
# check-debug.sh takes its program from the "# check-debug: ./PROGRAM"
# line before it; a block with no name is "-". Every block's plan must
# match its results. With --expect, every skip must be declared there,
# every declared skip must happen, and every program that ran must reach
# its declared minimum of passes.
judge_tap() { # RESULT [EXPECT NAME]
	awk -v expect="${2-}" -v kname="${3-}" '
	function glob_match(pats, s,   n, i, a, re) {
		n = split(pats, a, ",")
		for (i = 1; i <= n; i++) {
			re = a[i]
			gsub(/[.+^$(){}|\\[\]]/, "\\\\&", re)
			gsub(/\*/, ".*", re)
			gsub(/\?/, ".", re)
			if (s ~ ("^" re "$"))
				return 1
		}
		return 0
	}
	function problem(msg) { print "problem\t" msg; nproblems++ }
	function open_block(d, label) {
		close_deeper(d - 1)
		nres[d] = 0; plan[d] = -1; planskip[d] = 0; nleaf[d] = 0
		bfail[d] = 0; blabel[d] = label; isopen[d] = 1
		if (d > maxd) maxd = d
	}
	# Close the blocks deeper than d that no result claims.
	function close_deeper(d,   k) {
		for (k = maxd; k > d; k--)
			if (isopen[k])
				close_block(k, blabel[k] == "" ? "-" : blabel[k])
	}
	function close_block(d, prog,   i, p) {
		isopen[d] = 0
		if (plan[d] < 0)
			problem("results without a plan (depth " d ", " prog ")")
		else if (plan[d] != nres[d])
			problem("TAP plan of " prog " announced " plan[d] \
				" test(s) but " nres[d] " result(s) were reported")
		for (i = 1; i <= nleaf[d]; i++) {
			leaf(prog, lname[d, i], lstat[d, i], lwhy[d, i])
		}
		nleaf[d] = 0
	}
	function leaf(prog, name, stat, why) {
		print "leaf\t" prog "\t" stat "\t" name (why == "" ? "" : "\t" why)
		nleaves++
		if (stat == "pass") { passed++; ppass[prog]++ }
		else if (stat == "fail") { failed++; pfail[prog]++ }
		else { skipped++; pskip[prog]++; skips[prog SUBSEP name] = why }
		seen[prog] = 1
		bare[name] = 1
	}
	BEGIN {
		maxd = -1
		if (expect != "") {
			while ((getline line < expect) > 0) {
				if (line ~ /^[[:space:]]*(#|$)/)
					continue
				n = split(line, f, /[[:space:]]+/)
				if (f[1] == "skip" && n >= 5) {
					if (!glob_match(f[3], kname))
						continue
					why = line
					sub(/^[[:space:]]*skip[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+/, "", why)
					nexp++
					eprog[nexp] = f[2]; ename[nexp] = f[4]; ewhy[nexp] = why
				} else if (f[1] == "min" && n == 4 && f[4] ~ /^[0-9]+$/) {
					if (glob_match(f[3], kname))
						minp[f[2]] = f[4]
				} else {
					problem(expect ": cannot read the line: " line)
				}
			}
			close(expect)
		}
	}
	{
		line = $0; d = 0
		while (substr(line, 1, 2) == "# ") {
			line = substr(line, 3); d++
		}
		if (line ~ /^check-debug: \.\/[A-Za-z0-9_]+/) {
			pending = line
			sub(/^check-debug: \.\//, "", pending)
			sub(/[^A-Za-z0-9_].*$/, "", pending)
			next
		}
		if (line ~ /^K?TAP version [0-9]+/) {
			open_block(d, pending); pending = ""
			next
		}
		if (line ~ /^1\.\.[0-9]+/) {
			if (!isopen[d] || plan[d] >= 0) {
				open_block(d, pending); pending = ""
			}
			n = line; sub(/^1\.\./, "", n); sub(/[^0-9].*$/, "", n)
			plan[d] = n + 0
			planskip[d] = (line ~ /#[[:space:]]*[Ss][Kk][Ii][Pp]/)
			next
		}
		if (line !~ /^(not )?ok [0-9]+([[:space:]]|$)/)
			next
		if (!isopen[d])
			open_block(d, "")
		close_deeper(d + 1)
		ok = (line ~ /^ok/)
		name = line; sub(/^(not )?ok [0-9]+[[:space:]]*/, "", name)
		why = ""; dir = ""
		if (match(name, /[[:space:]]*#/)) {
			dir = substr(name, RSTART + RLENGTH)
			name = substr(name, 1, RSTART - 1)
			sub(/^[[:space:]]+/, "", dir)
		}
		sub(/^selftests: [^:]*: /, "", name)
		stat = ok ? "pass" : "fail"
		if (toupper(dir) ~ /^(SKIP|XFAIL)/) {
			stat = "skip"; why = dir
			sub(/^[A-Za-z]+[[:space:]]*/, "", why)
		} else if (toupper(dir) ~ /^XPASS/)
			stat = "fail"
		nres[d]++
		if (isopen[d + 1]) {
			# A parent: its subtest is the block at d + 1.
			empty = (nres[d + 1] == 0)
			before = failed
			close_block(d + 1, name)
			if (!empty) {
				if (stat == "fail" && failed == before)
					problem(name " is not ok, with no failed test of its own" \
						(dir == "" ? "" : " (" dir ")"))
				next
			}
			# A subtest without results (1..0): the parent is the test.
		}
		nleaf[d]++
		lname[d, nleaf[d]] = name; lstat[d, nleaf[d]] = stat
		lwhy[d, nleaf[d]] = why
	}
	END {
		close_deeper(-1)
		if (nleaves == 0)
			problem("no TAP test results at all")
		if (expect != "") {
			for (i = 1; i <= nexp; i++) {
				k = eprog[i] SUBSEP ename[i]
				if (!(k in skips))
					problem("expected skip did not happen: " eprog[i] " " ename[i] " (" ewhy[i] ")")
				else if (skips[k] != ewhy[i])
					problem("skipped for another reason: " eprog[i] " " ename[i] ": " skips[k] " (declared: " ewhy[i] ")")
				declared[k] = 1
			}
			for (k in skips)
				if (!(k in declared)) {
					split(k, kk, SUBSEP)
					problem("undeclared skip: " kk[1] " " kk[2] " (" skips[k] ")")
				}
			for (p in minp)
				if (ppass[p] + 0 < minp[p] + 0)
					problem(p ": " ppass[p] + 0 " passed, fewer than the " minp[p] " declared")
			# A program of its own that printed no TAP is a bare result.
			for (p in bare)
				if (p in minp)
					problem(p " printed no TAP results of its own")
			for (p in seen)
				if (!(p in minp))
					problem(p ": no minimum of passes declared for kernel " kname)
		}
		for (p in seen)
			printf "program\t%s\t%d\t%d\t%d\t%s\n", p, ppass[p], pfail[p], pskip[p], (p in minp) ? minp[p] : "-"
		printf "counts\t%d\t%d\t%d\t%d\n", passed, failed, skipped, nproblems
	}' "$1"
}

judged=$out/judged.txt
judge_tap "$result" ${expect:+"$expect" "$name"} >"$judged"
read -r _ passed tap_failed skipped tap_problems < <(grep '^counts' "$judged")
{ grep '^program' "$judged" || true; } | sort | while IFS=$'\t' read -r _ p np nf ns min; do
	printf 'vm-run.sh: %-16s %3d passed, %d failed, %d skipped (minimum %s)\n' \
		"$p" "$np" "$nf" "$ns" "$min"
done
if ((tap_failed)); then
	echo "vm-run.sh: FAIL: $tap_failed test(s) not ok:"
	awk -F'\t' '$1 == "leaf" && $3 == "fail" { print "    " $2 ": " $4 }' "$judged"
fi
# Sorted, and at most 40 of them: a missing device makes ~90.
nprob=$(grep -c '^problem' "$judged" || true)
{ grep '^problem' "$judged" || true; } | cut -f2- | sort | sed -n '1,40p' |
	sed 's/^/vm-run.sh: FAIL: /'
((nprob <= 40)) || echo "vm-run.sh: FAIL: ... and $((nprob - 40)) more (all in $judged)"

# (a) run.sh must have finished, with status 0.
last=$(grep -a . "$result" | tail -n 1 || true)
if [[ ! $last =~ ^ZXMEM-EXIT\ ([0-9]+)$ ]]; then
	why=
	((qemu_rc == 124 || qemu_rc == 137)) && why=": no result after ${timeout}s"
	((qemu_rc != 0 && qemu_rc != 124 && qemu_rc != 137)) && why=": qemu exited with status $qemu_rc"
	problem "VM did not finish (timeout, panic or crash)$why"
elif ((BASH_REMATCH[1] != 0 && tap_failed == 0)); then
	problem "run.sh exited with status ${BASH_REMATCH[1]} (and reported no failed test)"
fi

# (b) KCSAN's data-race reports (the 7.2-kcsan kernel).  Each report has
# two stacks, one per access; the first frame of each is the function that
# made the access.  A report fails the run, like any splat, when
#   - zxmem makes one of the accesses (a first frame is a function of
#     zxmem's, "[zxmem]" after its name), or
#   - it is reached through zxmem (a zxmem function lower on a stack) and
#     that stack's first frame is not in scripts/kcsan-known.txt, the
#     kernel functions whose lockless accesses are mm's design, each with
#     the reading that justifies it, and handle_mm_fault() is not on the
#     stack between the two: the page-fault handler, which GUP runs for
#     zxmem as it runs for the target's own faults, ptrace and
#     /proc/PID/mem (scripts/kcsan-known.txt says why that is the kernel's).
# Reports with no zxmem frame, and accesses "by interrupt" (which zxmem
# does not call), are the rest of the kernel's and are only listed.
# Every report goes to DIR/kcsan.txt with its verdict; the failing ones
# stay in the scan below.  A report runs from its "BUG: KCSAN:" line to
# KCSAN's closing rule of "=" signs, or to the next report.
scan=$console
rm -f "$out/kcsan.txt"
if grep -aq 'BUG: KCSAN:' "$console"; then
	scan=$out/console.scan
	awk -v all="$out/kcsan.txt" -v q="'" -v known="$here/kcsan-known.txt" '
		BEGIN {
			while ((getline l <known) > 0)
				if (l !~ /^#/ && l ~ /[^ \t]/) { sub(/[ \t].*/, "", l); ok[l] = 1 }
			close(known)
		}
		function strip(l) { sub(/^\[ *[0-9]+\.[0-9]+\] /, "", l); return l }
		function flush(   i, fails, why) {
			fails = ours; why = ""
			for (i = 1; i <= s; i++) {
				if (!deep[i] || ours) continue
				if (first[i] in ok) {
					why = why " " first[i] " (scripts/kcsan-known.txt)"
				} else if (fault[i]) {
					why = why " " first[i] " (in the page-fault handler)"
				} else {
					why = why " " first[i] " (not in scripts/kcsan-known.txt)"
					fails = 1
				}
			}
			if (fails) for (i = 1; i <= n; i++) print block[i]
			for (i = 1; i <= n; i++) print strip(block[i]) >all
			verdict = "(the kernel" q "s)"
			if (why != "") verdict = "(the kernel" q "s, reached through zxmem at" why ")"
			if (fails) verdict = verdict " fails the run"
			if (ours) verdict = "(an access of zxmem: fails the run)"
			print verdict >all
			print "" >all
			reports++; zx += ours; thru += !ours && why != ""; bad += fails
			n = 0; inblock = 0
		}
		inblock && strip($0) ~ /^=+$/ { flush(); next }
		inblock && /BUG: KCSAN:/ { flush() }
		inblock {
			block[++n] = $0
			if ($0 ~ / (by interrupt|by task [0-9]+) on cpu /) {
				s++; irq[s] = ($0 ~ / by interrupt /); top = 1
				first[s] = ""; deep[s] = 0; fault[s] = 0
				next
			}
			if (s && top && strip($0) ~ /^ [A-Za-z_.0-9]+\+0x/) {
				first[s] = strip($0); sub(/^ /, "", first[s]); sub(/\+0x.*/, "", first[s])
			}
			if (s && !irq[s] && $0 ~ /\[zxmem\]/) {
				if (top) ours = 1; else deep[s] = 1
			}
			# Above zxmem on the stack: an access of the fault handler
			if (s && !deep[s] && strip($0) ~ /^ handle_mm_fault\+0x/) fault[s] = 1
			if (strip($0) ~ /^ [A-Za-z_.0-9]+\+0x/) top = 0
			next
		}
		/BUG: KCSAN:/ {
			inblock = 1; ours = top = s = 0; n = 0
			block[++n] = $0; next
		}
		{ print }
		END {
			if (inblock) flush()
			printf "vm-run.sh: KCSAN: %d report(s): %d of an access of zxmem, %d more reached through zxmem, %d failing the run (%s)\n",
				reports, zx, thru, bad, all >"/dev/stderr"
		}' "$console" >"$scan"
fi

# (c) no kernel splat on the console.
splat='BUG:|WARNING:|Oops|Kernel panic|Call Trace|KASAN|UBSAN|general protection fault'
splat+='|INFO: task .* blocked|possible recursive locking|rcu: INFO|INFO: rcu_'
if hit=$(grep -anE -m 1 "$splat" "$scan"); then
	n=${hit%%:*}
	problem "kernel splat on the console, line $n of $scan: ${hit#*:}"
	echo "---- $scan lines $((n > 20 ? n - 20 : 1))-$((n + 19)) ----"
	sed -n "$((n > 20 ? n - 20 : 1)),$((n + 19))p" "$scan"
	echo "----"
	# After a panic the whole kernel log is replayed (panic_print), so the
	# splat that led to it may come later: list every distinct one.
	echo "vm-run.sh: all splat lines in $scan:"
	grep -aE "$splat" "$scan" | grep -av 'Call Trace' |
		sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' | awk '!seen[$0]++' | head -n 20 |
		sed 's/^/    /'
fi

failed=$((tap_failed + tap_problems + vm_failed))
echo "passed=$passed failed=$failed skipped=$skipped" >"$out/counts"
echo "vm-run.sh: $passed passed, $failed failed, $skipped skipped (VM ran ${elapsed}s, $accel)"
((failed == 0))
