#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Put this machine's perf, with the shared libraries it loads, into DIR for
# the busybox guest of make profile, which has no libraries of its own:
#
#   scripts/perf-bundle.sh DIR
#
# DIR/run is the command to call: it starts perf through the bundled
# dynamic loader, with DIR as its only library path.
set -euo pipefail

die() {
	echo "perf-bundle.sh: $*" >&2
	exit 1
}

(($# == 1)) || die "usage: $0 DIR"
dir=$1
perf=$(command -v perf) || die "no perf (scripts/deps.sh --profile installs it)"
perf=$(readlink -f "$perf")
[[ $(head -c 4 "$perf" | tail -c 3) == ELF ]] || die "$perf is not the perf binary"

rm -rf "$dir"
mkdir -p "$dir"
cp "$perf" "$dir/perf"
loader=
# ldd lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)" and
# the loader's own, "/lib64/ld-linux-x86-64.so.2 (0x...)".
while read -r lib; do
	cp -L "$lib" "$dir/"
	[[ $lib == */ld-linux* ]] && loader=$(basename "$lib")
done < <(ldd "$perf" | grep -o '/[^ ]*')
[[ -n $loader ]] || die "ldd names no dynamic loader for $perf"

cat >"$dir/run" <<RUN
#!/bin/sh
here=\$(dirname "\$0")
exec "\$here/$loader" --library-path "\$here" "\$here/perf" "\$@"
RUN
chmod +x "$dir/run"
