#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel and an initramfs (from mkinitramfs.sh) in QEMU, then judge
# the run:
#
#   scripts/vm-run.sh --kernel VMLINUZ --initrd INITRD --out DIR
#                     [--timeout SECONDS] [--append "CMDLINE"] [--quiet]
#
# The guest's console (ttyS0) goes to DIR/console.log, and to the terminal
# unless --quiet; its second serial port (ttyS1) goes to DIR/result.tap.
# The run fails when result.tap does not end with "ZXMEM-EXIT 0" (the VM did
# not finish, or run.sh failed without reporting a failed test), when the
# TAP plans ("1..N") add up to another number of results than reported,
# when the console shows a kernel splat, or when a TAP result is "not ok".
# Counts go to DIR/counts as "passed=N failed=M skipped=K"; problems of the
# run as a whole add 1 to failed. Exit status 0 iff failed is 0.
#
# TCG is the default; ZXMEM_KVM=1 uses KVM instead.
set -euo pipefail

die() {
	echo "vm-run.sh: $*" >&2
	exit 2
}
usage() {
	die "usage: $0 --kernel VMLINUZ --initrd INITRD --out DIR [--timeout SECONDS] [--append CMDLINE] [--quiet]"
}

kernel='' initrd='' out='' timeout=600 append='' quiet=0
while (($#)); do
	case $1 in
	--kernel | --initrd | --out | --timeout | --append)
		(($# >= 2)) || usage
		case $1 in
		--kernel) kernel=$2 ;;
		--initrd) initrd=$2 ;;
		--out) out=$2 ;;
		--timeout) timeout=$2 ;;
		--append) append+=${append:+ }$2 ;;
		esac
		shift 2
		;;
	--quiet) quiet=1 && shift ;;
	-h | --help) sed -n '4,19s/^# \{0,1\}//p' "$0" && exit 0 ;;
	*) usage ;;
	esac
done
[[ -n $kernel && -n $initrd && -n $out ]] || usage
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number of seconds"
[[ -r $kernel ]] || die "$kernel: cannot read the kernel"
[[ -r $initrd ]] || die "$initrd: cannot read the initramfs"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/deps.sh)"

mkdir -p "$out"
console=$out/console.log
result=$out/result.tap
rm -f "$console" "$result" "$out/counts"
: >"$result"

accel=tcg
[[ ${ZXMEM_KVM:-0} == 1 ]] && accel=kvm

# QEMU splits option values at commas; a literal comma is written twice.
qarg() { printf '%s' "${1//,/,,}"; }

cmdline="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 softlockup_panic=1"
# loglevel=4 hides KERN_WARNING lines such as "WARNING: CPU: ..."; on a panic
# (which panic_on_warn makes of every WARN) panic_print=0x20 replays the whole
# kernel log to the console, so the splat that caused it is shown after all.
cmdline+=" loglevel=4 panic_print=0x20${append:+ $append}"

qemu=(
	qemu-system-x86_64
	-machine "q35,accel=$accel"
	-cpu max -smp 2 -m 2G
	# Headless, like -nographic, but without -nographic's SeaBIOS serial
	# console, which writes terminal-reset escapes to ttyS0.
	-display none -no-reboot -nodefaults
	# The first -serial is ttyS0 (0x3f8), the second ttyS1 (0x2f8).
	-serial stdio
	-chardev "file,id=zxmem-result,path=$(qarg "$result")"
	-serial chardev:zxmem-result
	-kernel "$kernel"
	-initrd "$initrd"
	-append "$cmdline"
)

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

# TAP results: only top-level "ok N ..." / "not ok N ..." lines count; a
# "# SKIP" directive makes either a skip.
tap_lines() { grep -aE "^$1 [0-9]+( |\$)" "$result" || true; }
is_skip='#[[:space:]]*skip'
passed=$(tap_lines ok | grep -aEvic "$is_skip" || true)
skipped=$(tap_lines '(not )?ok' | grep -aEic "$is_skip" || true)
tap_failed=$(tap_lines 'not ok' | grep -aEvic "$is_skip" || true)
results=$((passed + skipped + tap_failed))
if ((tap_failed)); then
	echo "vm-run.sh: FAIL: $tap_failed test(s) not ok:"
	tap_lines 'not ok' | grep -aEvi "$is_skip" | sed 's/^/    /'
fi

# (a) run.sh must have finished, with status 0.
last=$(grep -a . "$result" | tail -n 1 || true)
if [[ ! $last =~ ^ZXMEM-EXIT\ ([0-9]+)$ ]]; then
	why=
	((qemu_rc == 124 || qemu_rc == 137)) && why=": no result after ${timeout}s"
	((qemu_rc != 0 && qemu_rc != 124 && qemu_rc != 137)) && why=": qemu exited with status $qemu_rc"
	problem "VM did not finish (timeout, panic or crash)$why"
else
	if ((BASH_REMATCH[1] != 0 && tap_failed == 0)); then
		problem "run.sh exited with status ${BASH_REMATCH[1]} (and reported no failed test)"
	fi
	# A TAP stream that announced more (or fewer) tests than it reported
	# was cut short, e.g. by a crashing test binary.
	planned=$(sed -nE 's/^1\.\.([0-9]+)([[:space:]].*)?$/\1/p' "$result" |
		awk '{ n += $1 } END { print n + 0 }')
	if grep -aqE '^1\.\.[0-9]+' "$result" && ((planned != results)); then
		problem "TAP plan announced $planned test(s) but $results result(s) were reported"
	fi
fi

# (b) no kernel splat on the console.
splat='BUG:|WARNING:|Oops|Kernel panic|Call Trace|KASAN|UBSAN|general protection fault'
splat+='|INFO: task .* blocked|possible recursive locking|rcu: INFO|INFO: rcu_'
if hit=$(grep -anE -m 1 "$splat" "$console"); then
	n=${hit%%:*}
	problem "kernel splat on the console, line $n of $console: ${hit#*:}"
	echo "---- $console lines $((n > 20 ? n - 20 : 1))-$((n + 19)) ----"
	sed -n "$((n > 20 ? n - 20 : 1)),$((n + 19))p" "$console"
	echo "----"
	# After a panic the whole kernel log is replayed (panic_print), so the
	# splat that led to it may come later: list every distinct one.
	echo "vm-run.sh: all splat lines in $console:"
	grep -aE "$splat" "$console" | grep -av 'Call Trace' |
		sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' | awk '!seen[$0]++' | head -n 20 |
		sed 's/^/    /'
fi

if ((results == 0)); then
	echo "vm-run.sh: note: result.tap holds no TAP result lines"
fi
failed=$((tap_failed + vm_failed))
echo "passed=$passed failed=$failed skipped=$skipped" >"$out/counts"
echo "vm-run.sh: $passed passed, $failed failed, $skipped skipped (VM ran ${elapsed}s, $accel)"
((failed == 0))
