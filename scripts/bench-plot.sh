#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of "make bench": turn the console log of a bench VM run into
# data, a table and a plot:
#
#   scripts/bench-plot.sh OUTDIR
#
# reads OUTDIR/console.log (written by vm-run.sh) and writes
#   OUTDIR/bench.dat  the "bench-data:" lines without their prefix:
#                     size dir method median_ns p10_ns p90_ns mbps
#   OUTDIR/bench.txt  the human tables (from "bench: results" to the last
#                     "bench: N of M ratio targets met" line)
#   OUTDIR/bench-vec.dat  the "bench-vec:" lines without their prefix:
#                     segments method median_ns p10_ns p90_ns (per call)
#   OUTDIR/bench.png  above: throughput (MB/s, at the median time per call)
#                     against size, log-log, one line per method, write and
#                     read side by side; below: batched breakpoints, time per
#                     call and per segment against the segment count (1, 16,
#                     256, 1024), one line per method; the bars span the
#                     p10-p90 of the samples
# gnuplot comes from the Debian package gnuplot-nox, installed if missing.
set -euo pipefail

die() {
	echo "bench-plot.sh: $*" >&2
	exit 1
}

(($# == 1)) || die "usage: $0 OUTDIR"
out=$1
log=$out/console.log
[[ -r $log ]] || die "$log: cannot read the console log"

dat=$out/bench.dat
vdat=$out/bench-vec.dat
txt=$out/bench.txt
png=$out/bench.png

# Serial lines may end in \r; the data lines have exactly seven fields.
sed -n 's/\r$//; s/^bench-data: //p' "$log" |
	awk 'NF == 7 && $1 ~ /^[0-9]+$/' >"$dat"
[[ -s $dat ]] || die "$log holds no bench-data: lines (did the bench finish?)"
sed -n 's/\r$//; s/^bench-vec: //p' "$log" |
	awk 'NF == 5 && $1 ~ /^[0-9]+$/' >"$vdat"
[[ -s $vdat ]] || die "$log holds no bench-vec: lines (did the bench finish?)"

sed 's/\r$//' "$log" |
	sed -n '/^bench: results$/,/^bench: [0-9]* of [0-9]* ratio targets met$/p' |
	grep -Eav '^bench-(data|vec): ' >"$txt" || true
[[ -s $txt ]] || die "$log holds no result table"

if ! command -v gnuplot >/dev/null; then
	echo "bench-plot.sh: installing gnuplot-nox"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q gnuplot-nox >/dev/null ||
		die "cannot install gnuplot-nox"
fi

# pngcairo draws nicer lines; plain png (libgd) is the fallback.
term='png noenhanced size 1600,1400 font ",11"'
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
	term='pngcairo noenhanced size 1600,1400 font ",11"'
fi

# The methods in the order they appear in the data; their titles (the
# terminal is noenhanced, so underscores stay underscores).
mapfile -t methods < <(awk '!seen[$3]++ { print $3 }' "$dat")
title_of() {
	case $1 in
	zxmem) echo 'zxmem: zx_process_write/read_memory' ;;
	process_vm) echo 'process_vm_writev/readv' ;;
	proc_mem) echo 'pwrite/pread on /proc/PID/mem' ;;
	ptrace) echo 'PTRACE_POKEDATA/PEEKDATA' ;;
	*) echo "$1" ;;
	esac
}

# The batched section's methods, in the order of its data.
mapfile -t vec_methods < <(awk '!seen[$2]++ { print $2 }' "$vdat")
vec_title_of() {
	case $1 in
	vec_xchg) echo 'zxmem: 1 WRITE_MEMORY_VEC, EXCHANGE (text)' ;;
	vec) echo 'zxmem: 1 WRITE_MEMORY_VEC (text)' ;;
	process_vm) echo '1 process_vm_writev, n iovecs (read-write memory)' ;;
	single) echo 'zxmem: n single calls (text)' ;;
	peek+poke) echo 'n PTRACE_PEEKTEXT+POKETEXT pairs (text)' ;;
	*) echo "$1" ;;
	esac
}

# One panel per direction; each method's line comes from awk's filter.
# The data file's path goes to gnuplot as a variable: no quoting games.
# shellcheck disable=SC2016,SC1003 # gnuplot's $1, a literal backslash
panel() { # DIR
	local dir=$1 m sep=''
	printf 'set title "%s: throughput against size (higher is better)"\n' "$dir"
	printf 'plot '
	for m in "${methods[@]}"; do
		printf '%s"< awk '\''$2 == \\"%s\\" && $3 == \\"%s\\"'\'' '\''" . dat . "'\''"' \
			"$sep" "$dir" "$m"
		printf ' using 1:7:(1e3 * $1 / $6):(1e3 * $1 / $5)'
		printf ' with yerrorlines lw 2 pt 7 ps 1.2 title "%s"' "$(title_of "$m")"
		sep=', \'$'\n''     '
	done
	printf '\n'
}

# The batched breakpoints against the segment count: microseconds per
# call (DIV 1) or per segment (DIV the count).
# shellcheck disable=SC2016,SC1003 # gnuplot's $1, a literal backslash
vec_panel() { # per-call|per-segment
	local m sep='' div='1'
	if [[ $1 == per-segment ]]; then
		div='$1'
		printf 'set title "batched breakpoints: time per segment (lower is better)"\n'
		printf 'set ylabel "us per segment, at the median time per call"\n'
	else
		printf 'set title "batched breakpoints: time per call (lower is better)"\n'
		printf 'set ylabel "us per call (median)"\n'
	fi
	printf 'plot '
	for m in "${vec_methods[@]}"; do
		printf '%s"< awk '\''$2 == \\"%s\\"'\'' '\''" . vdat . "'\''"' \
			"$sep" "$m"
		printf ' using 1:($3 / 1e3 / %s):($4 / 1e3 / %s):($5 / 1e3 / %s)' \
			"$div" "$div" "$div"
		printf ' with yerrorlines lw 2 pt 7 ps 1.2 title "%s"' "$(vec_title_of "$m")"
		sep=', \'$'\n''     '
	done
	printf '\n'
}

# The title names the conditions: the kernel's THP policy and how much of
# the target huge pages cover change the picture.
setup=$(sed -n 's/^kernel \([^ ]*\) .*transparent hugepages: \(.*\)$/kernel \1, THP policy: \2/p' "$txt" | head -n 1)
target=$(sed -n 's/^target: //p' "$txt" | head -n 1)
title="zxmem benchmark (QEMU TCG guest: compare the lines, not the absolute values)"
title+="\\n${setup//\"/}\\ntarget: ${target//\"/}"

{
	printf 'set terminal %s\n' "$term"
	printf 'set output png\n'
	printf 'set multiplot layout 2, 2 title "%s"\n' "$title"
	cat <<'GNUPLOT'
set logscale xy
set xrange [4:128 * 1024 * 1024]
set xtics ("8 B" 8, "64 B" 64, "512 B" 512, "4 KiB" 4096, "64 KiB" 65536, \
	   "1 MiB" 1048576, "16 MiB" 16777216, "64 MiB" 67108864)
set format y "%g"
set xlabel "bytes per call"
set ylabel "MB/s (1e6 bytes/s), at the median time per call"
set grid xtics ytics mytics
set key bottom right box opaque
GNUPLOT
	panel write
	panel read
	cat <<'GNUPLOT'
set xrange [0.7:1500]
set xtics ("1" 1, "16" 16, "256" 256, "1024" 1024)
set xlabel "breakpoints (segments) per batch, one byte each, one per page"
set key top left box opaque
GNUPLOT
	vec_panel per-call
	vec_panel per-segment
	printf 'unset multiplot\n'
} >"$out/bench.gp"

gnuplot -e "dat = '$dat'; vdat = '$vdat'; png = '$png'" "$out/bench.gp" ||
	die "gnuplot failed (script: $out/bench.gp)"
echo "bench-plot.sh: wrote $dat, $vdat, $txt and $png"
