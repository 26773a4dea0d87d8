#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The zxmem command (tools/zxmem.c, built here as ./zxmem) against live
# targets (./cmd_target), as root and as unprivileged users, in TAP: a
# kselftest of its own (TEST_PROGS), run after zxmem.sh.  It checks each
# exit status (0 done, 1 Zircon error or short transfer, 2 usage error),
# reads and writes through every form of address (number, NAME+OFFSET,
# [heap], [stack]), a breakpoint byte in the target's read-only code (the
# target's output changes), maps, status, every bad input of zxmem(1)
# (each changes nothing), attaching and --no-attach, a target someone else
# traces, and users in and out of the device's group.
#
# Loads ./zxmem.ko (insmod) or the installed module (modprobe) and unloads
# it at the end; the status of a system without the module comes first.
# Leaves the device, the parameters and ptrace_scope as it found them.
# Exits 4 (skip) without the command or a module, 1 if a test failed.
cd "$(dirname "$0")" || exit 1
here=$(pwd)
ZX=$here/zxmem
TARGET=$here/cmd_target
SYSP=/sys/module/zxmem/parameters
tmp=$(mktemp -d /tmp/cmd_test.XXXXXX) || exit 1
chmod 1777 "$tmp"	# the unprivileged users' output goes here too
num=0
failed=0
pids=
loaded_here=0
# The breakpoint instruction, in the hex bytes zxmem(1) writes, and how the
# executable's first mapping (its ELF header, and on arm64 its code too,
# which GNU ld there puts in the same segment) is mapped.
case $(uname -m) in
aarch64)
	bp_insn=000020d4	# brk #0
	exe_perm='r-xp'
	;;
*)
	bp_insn=cc		# int3
	exe_perm='r--p'
	;;
esac

echo "TAP version 13"
if [ ! -x "$ZX" ] || [ ! -x "$TARGET" ]; then
	echo "1..0 # SKIP no ./zxmem or ./cmd_target beside $0"
	exit 4
fi

result() { # ok|"not ok" NAME [WHY...]
	num=$((num + 1))
	echo "$1 $num $2"
	[ "$1" = ok ] && return 0
	failed=1
	shift 2
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
	return 1
}

# zx RC OUT ERR ARGS...: run zxmem ARGS; its stdout and stderr land in
# $tmp/out and $tmp/err.  Then "expect" judges them.
zx_run() {
	"$ZX" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect NAME RC [OUT_ERE [ERR_ERE]]: the last zx_run exited RC, its
# stdout matched OUT_ERE and its stderr ERR_ERE (extended regexps; empty:
# anything).
expect() {
	name=$1 want=$2 out_re=${3-} err_re=${4-}
	why=
	[ "$rc" = "$want" ] || why="exit status $rc, not $want"
	if [ -z "$why" ] && [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$tmp/out"; then
		why="stdout does not match /$out_re/"
	fi
	if [ -z "$why" ] && [ -n "$err_re" ] && ! grep -Eq -- "$err_re" "$tmp/err"; then
		why="stderr does not match /$err_re/"
	fi
	if [ -z "$why" ]; then
		result ok "$name"
	else
		result "not ok" "$name" "$why" "stdout: $(head -c 600 "$tmp/out")" \
			"stderr: $(head -c 600 "$tmp/err")"
	fi
}

# run NAME RC OUT_ERE ERR_ERE ARGS...: zx_run and expect in one.
run() {
	n=$1 r=$2 o=$3 e=$4
	shift 4
	zx_run "$@"
	expect "$n" "$r" "$o" "$e"
}

# bytes PID ADDR LEN: LEN bytes of the target at ADDR, raw, on stdout.
bytes() {
	"$ZX" read --raw "$1" "$2" "$3" 2>/dev/null
}

# is NAME GOT WANT: a plain comparison as a test.
is() {
	if [ "$2" = "$3" ]; then
		result ok "$1"
	else
		result "not ok" "$1" "got '$2'" "want '$3'"
	fi
}

# wait_for FILE ERE [TENTHS]: until FILE has a line matching ERE.
wait_for() {
	i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -gt "${3:-300}" ] && return 1
		sleep 0.1
	done
}

# start NAME [USER [ARG]]: run cmd_target (as USER), output in
# $tmp/NAME.out, and set its fields: pid tick greeting heap stack edge
# shared io.
start() {
	out=$tmp/$1.out
	rm -f "$out"
	# Without the runner's descriptors (its fd 3 and 4 are the output
	# run.sh's tee waits on): a target must not hold them open.
	if [ -n "${2-}" ]; then
		su -s /bin/sh -c "exec '$TARGET' ${3-} >'$out' 2>&1" -- "$2" \
			</dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	else
		"$TARGET" ${3:+"$3"} >"$out" 2>&1 \
			</dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	fi
	pids="$pids $!"
	if ! wait_for "$out" '^cmd_target: pid='; then
		echo "# cmd_target did not start: $(head -c 300 "$out")"
		return 1
	fi
	line=$(grep -m 1 '^cmd_target: pid=' "$out")
	pid=$(field pid) tick=$(field tick) greeting=$(field greeting)
	heap=$(field heap) stack=$(field stack) edge=$(field edge)
	shared=$(field shared) io=$(field io)
	pids="$pids $pid"
}

field() { printf '%s\n' "$line" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# base PID NAME: the lowest start address of PID's mappings whose path is
# NAME or ends in /NAME, as a 0x number (computed apart from zxmem).
base() {
	awk -v n="$2" '$6 == n || $6 ~ ("/" n "$") { print "0x" $1; exit }' \
		"/proc/$1/maps" | cut -d- -f1
}

hex() { printf '0x%x' "$1"; }

# Put back what the tests changed; unload the module if it was ours.
cleanup() {
	# SIGKILL, tracees before their tracers: nothing can hold it off.
	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	pids=
	[ -n "${saved_scope-}" ] &&
		echo "$saved_scope" >/proc/sys/kernel/yama/ptrace_scope
	saved_scope=
	if [ -e /dev/zxmem ] && [ -n "${saved_mode-}" ]; then
		chmod "$saved_mode" /dev/zxmem
		chgrp "$saved_group" /dev/zxmem
	fi
	[ -e "$SYSP/force_override" ] && echo always >"$SYSP/force_override"
	if [ "$loaded_here" = 1 ]; then
		loaded_here=0
		rmmod zxmem || return 1
	elif [ -n "${saved_writes-}" ]; then
		echo "$saved_writes" >"$SYSP/enable_debugging_syscalls"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- without the module ---------------------------------------------------

if [ -e /dev/zxmem ]; then
	echo "# zxmem was loaded before $0: the tests without it do not run"
	saved_writes=$(cat "$SYSP/enable_debugging_syscalls")
else
	run status_says_module_not_loaded 1 '^module: +not loaded' '' status
	start plain0 || exit 1
	run read_without_module_is_not_supported 1 '' \
		'ZX_ERR_NOT_SUPPORTED: the zxmem module is not loaded' \
		read "$pid" "$greeting" 4
	if [ -f ./zxmem.ko ]; then
		load="insmod ./zxmem.ko"
	else
		load="modprobe zxmem"
	fi
	# shellcheck disable=SC2086 # a command and its argument
	if ! $load enable_debugging_syscalls=0; then
		echo "1..$num # SKIP $load failed"
		exit 4
	fi
	loaded_here=1
fi
saved_mode=$(stat -c %a /dev/zxmem)
saved_group=$(stat -c %g /dev/zxmem)
echo 0 >"$SYSP/enable_debugging_syscalls"

# ---- status, version, help --------------------------------------------------

modver=$(cat /sys/module/zxmem/version)
run version_is_the_modules 0 "^zxmem $modver\$" '' --version
run status_loaded_with_version 0 "^module: +loaded, version $modver\$" '' status
sed 's/^/# /' "$tmp/out"
expect status_says_writes_disabled 0 '^writes: +disabled'
expect status_names_device_owner_and_mode 0 \
	"^device: +/dev/zxmem, char [0-9]+:[0-9]+, owner root, group [a-z0-9?]+, mode 0$saved_mode\$"
expect status_says_root_may_open_it 0 '^you \(uid 0\): +may open it read-write'
run help_prints_usage 0 '^Usage: zxmem read PID ADDR LEN' '' --help

# ---- a target, root, writes off -------------------------------------------------

start plain || exit 1
plain_pid=$pid
exe_base=$(base "$pid" cmd_target)
heap_base=$(base "$pid" '[heap]')
stack_base=$(base "$pid" '[stack]')
g_off=$(hex $((greeting - exe_base)))
t_off=$(hex $((tick - exe_base)))
h_off=$(hex $((heap - heap_base)))
s_off=$(hex $((stack - stack_base)))
echo "# target $pid: cmd_target at $exe_base, greeting +$g_off, tick +$t_off, [heap] $heap_base +$h_off, [stack] $stack_base +$s_off"

run write_with_writes_disabled_is_not_supported 1 '' \
	'ZX_ERR_NOT_SUPPORTED: writes are disabled \(enable_debugging_syscalls=0\)' \
	write "$pid" "$greeting" 48
is write_with_writes_disabled_changes_nothing "$(bytes "$pid" "$greeting" 5)" hello

# ---- reads through each address form -------------------------------------------

run read_hexdump_has_target_addresses 0 \
	"^0*${greeting#0x}  68 65 6c 6c 6f 20 66 72  6f 6d 20 63 6d 64 5f 74  \|hello from cmd_t\|\$" '' \
	read "$pid" "$greeting" 16
zx_run read "$pid" "$greeting" 21
expect read_hexdump_of_21_bytes 0
is read_hexdump_has_2_rows "$(wc -l <"$tmp/out" | tr -d ' ')" 2
is read_hexdump_second_row "$(sed -n 2p "$tmp/out")" \
	"$(printf '%016x  61 72 67 65 74%36s|arget|' $((greeting + 16)) '')"
is read_raw_number_address "$(bytes "$pid" "$greeting" 21)" "hello from cmd_target"
is read_raw_decimal_address "$(bytes "$pid" $((greeting)) 21)" "hello from cmd_target"
is read_raw_name_offset "$(bytes "$pid" "cmd_target+$g_off" 21)" "hello from cmd_target"
is read_raw_path_offset "$(bytes "$pid" "$(readlink "/proc/$pid/exe")+$((g_off))" 21)" \
	"hello from cmd_target"
is read_raw_heap_offset "$(bytes "$pid" "[heap]+$h_off" 10)" "heap bytes"
is read_raw_stack_offset "$(bytes "$pid" "[stack]+$s_off" 11)" "stack bytes"
# The file is mapped twice (shared, higher up, too): the row's address
# tells the lowest mapping from the other.
run read_name_alone_is_lowest_address 0 \
	"^$(printf '%016x' $((exe_base)))  7f 45 4c 46 " '' read "$pid" cmd_target 4
run read_into_file 0 '' '' read "$pid" "$greeting" 21 -o "$tmp/file"
is read_into_file_holds_the_bytes "$(cat "$tmp/file")" "hello from cmd_target"
is read_into_file_prints_nothing "$(cat "$tmp/out")" ""

# ---- exit status 1: Zircon errors, short transfers -----------------------------

run read_of_unmapped_address_is_no_memory 1 '' \
	'ZX_ERR_NO_MEMORY: nothing is mapped at that address' read "$pid" 0x1000 4
run read_short_says_bytes_done 1 \
	"^0*${edge#0x}  45 45 45 45 45 45 45 45 +\|EEEEEEEE\|\$" \
	'read 8 of 16 bytes at ' read "$pid" "$edge" 16
run read_vvar_is_bad_state 1 '' 'ZX_ERR_BAD_STATE' read "$pid" '[vvar]' 8
if [ "$io" != "(nil)" ]; then
	run read_io_memory_is_bad_state 1 '' 'ZX_ERR_BAD_STATE' read "$pid" "$io" 8
else
	result "not ok" read_io_memory_is_bad_state "cmd_target could not map /dev/mem"
fi
run no_attach_gives_no_right 1 '' \
	'ZX_ERR_ACCESS_DENIED: no right: not this process, and not traced \(--no-attach\)' \
	--no-attach read "$pid" "$greeting" 4
run read_of_a_missing_pid 1 '' 'no process 4000000' read 4000000 0x1000 4
run read_of_an_unknown_mapping 1 '' "process $pid has no mapping named 'libnothing.so'" \
	read "$pid" libnothing.so+0x10 4

# ---- writes, root --------------------------------------------------------------

echo 1 >"$SYSP/enable_debugging_syscalls"
run status_says_writes_enabled 0 '^writes: +enabled' '' status
run write_hex_into_readonly_greeting 0 '' '' write "$pid" "$greeting" 48454c4c4f
is write_hex_reads_back "$(bytes "$pid" "$greeting" 21)" "HELLO from cmd_target"
if wait_for "$tmp/plain.out" '^tick [0-9]+: HELLO from cmd_target$' 100; then
	result ok write_into_rodata_changes_the_output
else
	result "not ok" write_into_rodata_changes_the_output "$(tail -n 2 "$tmp/plain.out")"
fi
run write_name_offset_hex_args 0 '' '' write "$pid" "[heap]+$h_off" 48 45 0x4150
is write_name_offset_reads_back "$(bytes "$pid" "$heap" 10)" "HEAP bytes"
printf STACK | "$ZX" write "$pid" "[stack]+$s_off" - >"$tmp/out" 2>"$tmp/err"
rc=$?
expect write_from_stdin 0
is write_from_stdin_reads_back "$(bytes "$pid" "$stack" 11)" "STACK bytes"
printf 'from a file' >"$tmp/bytes"
run write_from_file 0 '' '' write "$pid" "cmd_target+$g_off" -f "$tmp/bytes"
is write_from_file_reads_back "$(bytes "$pid" "$greeting" 21)" "from a filecmd_target"
run write_short_says_bytes_done 1 '' 'wrote 8 of 16 bytes at ' \
	write "$pid" "$edge" 46464646464646464646464646464646
is write_short_wrote_the_first_8 "$(bytes "$pid" "$edge" 8)" FFFFFFFF
run write_into_vdso_is_refused 1 '' \
	'ZX_ERR_ACCESS_DENIED: the mapping is \[vdso\]: refused: vDSO' write "$pid" '[vdso]' cc
run write_into_shared_readonly_is_refused 1 '' \
	'ZX_ERR_ACCESS_DENIED: .*refused: shared read-only' write "$pid" "$shared" 90
if [ "$io" != "(nil)" ]; then
	run write_into_io_memory_is_refused 1 '' 'ZX_ERR_BAD_STATE' write "$pid" "$io" 90
else
	result "not ok" write_into_io_memory_is_refused "cmd_target could not map /dev/mem"
fi
echo never >"$SYSP/force_override"
run write_with_force_override_never_is_refused 1 '' \
	'ZX_ERR_ACCESS_DENIED: .*refused: force_override=never' write "$pid" "$greeting" 48
echo always >"$SYSP/force_override"

# ---- maps ------------------------------------------------------------------------

zx_run maps "$pid"
sed 's/^/# /' "$tmp/out"
expect maps_lists_the_code_as_forced_cow 0 \
	"^0*${exe_base#0x}-[0-9a-f]{16}  $exe_perm  read +forced copy-on-write +/.*cmd_target\$"
expect maps_lists_code_executable 0 'r-xp  read +forced copy-on-write +/.*cmd_target$'
expect maps_lists_the_heap_written 0 "^0*${heap_base#0x}-[0-9a-f]{16}  rw-p  read +written +\[heap\]\$"
expect maps_lists_the_stack_written 0 "^0*${stack_base#0x}-[0-9a-f]{16}  rw-p  read +written +\[stack\]\$"
expect maps_refuses_the_vdso 0 'r-xp  read +refused: vDSO \(ZX_ERR_ACCESS_DENIED\) +\[vdso\]$'
expect maps_vvar_reads_bad_state 0 'ZX_ERR_BAD_STATE +refused: vDSO \(ZX_ERR_ACCESS_DENIED\) +\[vvar'
expect maps_refuses_shared_readonly 0 \
	"^0*${shared#0x}-[0-9a-f]{16}  r--s  read +refused: shared read-only \(ZX_ERR_ACCESS_DENIED\) +/.*cmd_target\$"
if [ "$io" != "(nil)" ]; then
	expect maps_refuses_io_memory 0 \
		"^0*${io#0x}-[0-9a-f]{16}  rw-s  ZX_ERR_BAD_STATE +refused: I/O memory \(ZX_ERR_BAD_STATE\) +/dev/mem\$"
else
	result "not ok" maps_refuses_io_memory "cmd_target could not map /dev/mem"
fi
is maps_one_line_per_mapping "$(grep -c '^[0-9a-f]' "$tmp/out")" "$(wc -l <"/proc/$pid/maps" | tr -d ' ')"
echo ptrace >"$SYSP/force_override"
zx_run maps "$pid"
expect maps_follows_force_override 0 'r-xp  read +forced copy-on-write, for a tracer only +/'
echo never >"$SYSP/force_override"
zx_run maps "$pid"
expect maps_follows_force_override_never 0 'r-xp  read +refused: force_override=never'
echo always >"$SYSP/force_override"
echo 0 >"$SYSP/enable_debugging_syscalls"
run maps_says_writes_disabled 0 '^# writes are disabled' '' maps "$pid"
echo 1 >"$SYSP/enable_debugging_syscalls"

# ---- usage errors: exit 2, nothing changed ----------------------------------------

before=$(bytes "$pid" "$greeting" 21)$(bytes "$pid" "$heap" 10)
usage() { # NAME ERR_ERE ARGS...
	n=$1 e=$2
	shift 2
	run "$n" 2 '' "$e" "$@"
}
usage usage_non_hex_byte "'zz' is not hex bytes" write "$pid" "$greeting" 90 zz
usage usage_odd_hex_digits 'an odd number of hex digits' write "$pid" "$greeting" 909
usage usage_no_bytes 'write needs bytes' write "$pid" "$greeting"
usage usage_length_0 'a length is 1 to 67108864 bytes' read "$pid" "$greeting" 0
usage usage_length_over_64MiB 'a length is 1 to 67108864 bytes' read "$pid" "$greeting" 67108865
usage usage_length_malformed "'12x' is not a length" read "$pid" "$greeting" 12x
usage usage_address_bad_hex "'0x12zz' is not an address" read "$pid" 0x12zz 4
usage usage_address_digits_then_letters "'12abc' is not an address" write "$pid" 12abc 90
usage usage_address_empty 'empty address' write "$pid" '' 90
usage usage_address_no_offset "no offset after '\+'" write "$pid" cmd_target+ 90
usage usage_address_no_name "no mapping name before '\+'" write "$pid" +0x10 90
usage usage_address_bad_offset "'0xzz' is not an offset" write "$pid" cmd_target+0xzz 90
usage usage_address_past_the_end 'past the end of the address space' \
	read "$pid" 0xffffffffffffffff 2
usage usage_pid_not_a_number "'abc' is not a process id" read abc "$greeting" 4
usage usage_pid_0 "'0' is not a process id" read 0 "$greeting" 4
usage usage_pid_negative 'invalid option' read -5 "$greeting" 4
usage usage_file_and_bytes 'either -f FILE or bytes' write "$pid" "$greeting" 90 -f "$tmp/bytes"
usage usage_file_missing 'cannot read /nonexistent' write "$pid" "$greeting" -f /nonexistent
: >"$tmp/empty"
usage usage_file_empty 'is empty: nothing to write' write "$pid" "$greeting" -f "$tmp/empty"
head -c 67108865 /dev/zero >"$tmp/big"
usage usage_file_over_64MiB 'holds more than 67108864 bytes' write "$pid" "$heap" -f "$tmp/big"
rm -f "$tmp/big"
"$ZX" write "$pid" "$greeting" - </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
expect usage_stdin_empty 2 '' 'stdin is empty'
usage usage_raw_on_write '--raw and -o are for read' write --raw "$pid" "$greeting" 90
usage usage_file_on_read '-f is for write' read "$pid" "$greeting" 4 -f "$tmp/bytes"
usage usage_read_arguments 'read takes PID ADDR LEN' read "$pid" "$greeting"
usage usage_maps_arguments 'maps takes PID' maps
usage usage_status_arguments 'status takes no arguments' status now
usage usage_unknown_command "unknown command 'peek'" peek "$pid"
usage usage_no_command 'no command'
usage usage_unknown_option 'unrecognized option' --frobnicate status
is usage_errors_change_nothing "$(bytes "$pid" "$greeting" 21)$(bytes "$pid" "$heap" 10)" "$before"
is usage_errors_leave_the_target_untraced "$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status")" 0

# ---- a breakpoint in running code -------------------------------------------------

start bp || exit 1
bp_pid=$pid
run write_breakpoint_into_code 0 '' '' write "$pid" "cmd_target+$t_off" "$bp_insn"
if wait_for "$tmp/bp.out" '^cmd_target: breakpoint in beat\(\)$' 100; then
	result ok breakpoint_changes_the_output
else
	result "not ok" breakpoint_changes_the_output "$(tail -n 2 "$tmp/bp.out")"
fi
i=0
while [ -d "/proc/$bp_pid" ] && [ "$(awk '/^State:/ { print $2 }' "/proc/$bp_pid/status")" != Z ] &&
	[ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
is breakpoint_target_stopped_ticking \
	"$(tail -n 1 "$tmp/bp.out")" "cmd_target: breakpoint in beat()"
is writes_leave_the_target_untraced \
	"$(awk '/^TracerPid:/ { print $2 }' "/proc/$plain_pid/status")" 0
ticks=$(grep -c '^tick' "$tmp/plain.out")
sleep 1
if [ "$(grep -c '^tick' "$tmp/plain.out")" -gt "$ticks" ]; then
	result ok writes_leave_the_target_running
else
	result "not ok" writes_leave_the_target_running "$(tail -n 2 "$tmp/plain.out")"
fi

# ---- a target someone else traces ----------------------------------------------------

start traced "" traced || exit 1
tracer=$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status")
run traced_by_another_says_so 1 '' \
	"process $pid is traced by process $tracer \(cmd_target\)" write "$pid" "$greeting" 48
expect traced_by_another_suggests_the_debugger 1 '' 'run the write from that debugger'
# Root reads /proc/PID/mem of any process (CAP_SYS_PTRACE).
is traced_by_another_changes_nothing \
	"$(dd if="/proc/$pid/mem" bs=1 skip=$((greeting)) count=5 2>/dev/null)" hello
run traced_by_another_no_attach_is_denied 1 '' 'ZX_ERR_ACCESS_DENIED' \
	--no-attach read "$pid" "$greeting" 5

# ---- unprivileged users ------------------------------------------------------------

grep -q '^zxuser:' /etc/passwd ||
	echo 'zxuser:x:1000:1000:zxmem test:/tmp:/bin/sh' >>/etc/passwd
grep -q '^zxother:' /etc/passwd ||
	echo 'zxother:x:1001:1001:zxmem test:/tmp:/bin/sh' >>/etc/passwd
grep -q '^zxuser:' /etc/group || echo 'zxuser:x:1000:' >>/etc/group
grep -q '^zxmem:' /etc/group || echo 'zxmem:x:990:zxuser' >>/etc/group
if [ -e /proc/sys/kernel/yama/ptrace_scope ]; then
	saved_scope=$(cat /proc/sys/kernel/yama/ptrace_scope)
	echo 0 >/proc/sys/kernel/yama/ptrace_scope
fi
# What the udev rule of make install sets: group zxmem, mode 0660.
chgrp zxmem /dev/zxmem
chmod 0660 /dev/zxmem
as() { # USER NAME RC OUT_ERE ERR_ERE ARGS...
	u=$1 n=$2 r=$3 o=$4 e=$5
	shift 5
	rm -f "$tmp/out" "$tmp/err"
	# shellcheck disable=SC2016 # $0 and $@ are for the user's shell
	su -s /bin/sh -c '"$0" "$@" >"'"$tmp"'/out" 2>"'"$tmp"'/err"' -- "$u" "$ZX" "$@"
	rc=$?
	expect "$n" "$r" "$o" "$e"
}
start user zxuser || exit 1
as zxuser user_status_may_open_read_write 0 '^you \(uid 1000\): +may open it read-write' '' status
expect user_status_names_group_and_mode 0 'owner root, group zxmem, mode 0660$'
uexe=$(base "$pid" cmd_target)
as zxuser user_reads_own_process 0 '\|hello from cmd_t\|' '' \
	read "$pid" "cmd_target+$(hex $((greeting - uexe)))" 16
as zxuser user_writes_own_process 0 '' '' write "$pid" "$greeting" 48454c4c4f
if wait_for "$tmp/user.out" '^tick [0-9]+: HELLO from cmd_target$' 100; then
	result ok user_write_changes_the_output
else
	result "not ok" user_write_changes_the_output "$(tail -n 2 "$tmp/user.out")"
fi
as zxuser user_cannot_attach_to_roots_target 1 '' \
	"cannot attach to process $plain_pid: Operation not permitted" \
	read "$plain_pid" "$greeting" 4
as zxother other_status_may_not_open 1 '^you \(uid 1001\): +may not open it' '' status
as zxother other_read_is_access_denied 1 '' \
	'ZX_ERR_ACCESS_DENIED: you may not open /dev/zxmem' read "$pid" "$greeting" 4
chmod 0640 /dev/zxmem
as zxuser user_readonly_device_status 0 '^you \(uid 1000\): +may open it read-only' '' status
as zxuser user_readonly_device_reads 0 '\|HELLO' '' read "$pid" "$greeting" 16
as zxuser user_readonly_device_write_denied 1 '' \
	'ZX_ERR_ACCESS_DENIED: /dev/zxmem is readable but not writable' write "$pid" "$greeting" 68

# Tracees first: a traced target's pid comes after its tracer's in $pids.
rev=
for p in $pids; do
	rev="$p $rev"
done
pids=$rev
was_loaded_here=$loaded_here
cleanup
unloaded=$?
# The cmd_target processes still alive (zombies are as good as gone).
alive() {
	for p in $(pidof cmd_target); do
		[ "$(awk '/^State:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" = Z ] ||
			printf '%s ' "$p"
	done
}
i=0
while [ -n "$(alive)" ] && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
is every_target_ended "$(alive)" ""
if [ "$unloaded" = 0 ] && [ "$was_loaded_here" = 1 ]; then
	result ok module_unloads_cleanly
elif [ "$was_loaded_here" = 1 ]; then
	result "not ok" module_unloads_cleanly "rmmod zxmem failed"
fi
trap - EXIT
echo "1..$num"
exit "$failed"
