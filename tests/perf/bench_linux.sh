#!/usr/bin/env bash
# Linux boot of ember's default guest (guest-kernel-config/): process start
# -> first guest instruction -> kernel banner -> ember-init's boot-complete
# marker -> exit, median of N, and QEMU microvm with the same kernel and
# initramfs in the same run where this host can boot Linux.
#
# Where the figures come from: "first guest instruction" and "boot
# complete" are ember's --boot-time lines (first KVM_RUN, marker 0), counted
# from ember's process start; the banner is the time linetime (linetime.c)
# read the "Linux version" line from the serial console, counted from just
# before it started ember.  The banner runs add `loglevel=6
# earlyprintk=ttyS0` (the default `quiet` prints no banner), the others
# boot the default command line.  QEMU has no boot-complete marker: its
# "init" is ember-init's "exit status" line (printed when there is no
# control port, right after the command).
#
# Env: EMBER, BENCH_OUT (tests/perf/run.sh sets them); N (default 10).
set -uo pipefail
N=${N:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${EMBER:?set EMBER to the ember binary}"
BENCH_OUT=${BENCH_OUT:-$(dirname "$EMBER")/perf}
mkdir -p "$BENCH_OUT"
cc -O2 -Wall -o "$BENCH_OUT/linetime" "$here/linetime.c" || exit 1
LT=$BENCH_OUT/linetime
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-linux.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "## Linux boot: default guest, process start -> first guest instruction -> banner -> init (median of $N)"
if ! kdir=$("$root/guest-kernel-config/build.sh" 2>"$tmp/build.log") ||
	! initrd=$("$root/guest-kernel-config/initramfs.sh" 2>>"$tmp/build.log"); then
	echo "(skipped: the guest kernel or initramfs did not build: $(tail -n 1 "$tmp/build.log"))"
	exit 0
fi
mkdir -p "$tmp/guest"
ln -sf "$kdir/vmlinux" "$kdir/bzImage" "$initrd" "$tmp/guest/"
export EMBER_KERNEL_DIR=$tmp/guest

hw=""
if [ -e /sys/module/kvm_pvm ]; then
	hw="KVM here is kvm_pvm (guest ring 0 emulated; Linux cannot reach init)"
elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	hw="no vmx/svm in /proc/cpuinfo"
fi

# median/min/max of the numbers in file $1: "median min max" (or "- - -")
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
row() {	# row LABEL FILE
	local s
	s=$(stats "$2")
	# shellcheck disable=SC2086
	printf '| %-48s | %9s | %8s | %8s |\n' "$1" $s
}

# one ember run: $1 = seconds bound, $2 = stop text, rest = ember run args.
# Appends to $tmp/{first,banner,init,exit}: the banner from runs with
# loglevel= on their command line, init and exit from the others.
ember_once() {
	local secs=$1 stop=$2 banner=0
	shift 2
	case " $* " in *" loglevel="*) banner=1 ;; esac
	"$LT" "$secs" "$stop" -- "$EMBER" run --kernel default --boot-time "$@" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	awk '$1 == "first" && $2 == "KVM_RUN" { print $3 }' "$tmp/err" >>"$tmp/first"
	if [ $banner = 1 ]; then
		awk '/Linux version/ { print $1; exit }' "$tmp/out" >>"$tmp/banner"
	else
		awk '$1 == "marker" && $2 == "0" { print $3 }' "$tmp/err" >>"$tmp/init"
		awk '$1 == "exit" && $3 == 0 { print $2 }' "$tmp/out" >>"$tmp/exit"
	fi
}

echo "| what                                             | median ms |   min ms |   max ms |"
echo "|--------------------------------------------------|-----------|----------|----------|"
: >"$tmp/first"; : >"$tmp/init"; : >"$tmp/banner"; : >"$tmp/exit"
if [ -z "$hw" ]; then
	for _ in $(seq "$N"); do ember_once 20 "" --console stdio -- true; done
	for _ in $(seq "$N"); do
		ember_once 20 "" --console stdio --cmdline "loglevel=6 earlyprintk=ttyS0" -- true
	done
	row "ember: first guest instruction (first KVM_RUN)" "$tmp/first"
	row "ember: kernel banner (earlyprintk runs)" "$tmp/banner"
	row "ember: ember-init boot complete (marker 0)" "$tmp/init"
	row "ember: exit after \`true\` (quiet runs)" "$tmp/exit"
else
	# the guest never reaches init: stop each run after 300 ms (ember then
	# prints its --boot-time table) and time one banner under emulation
	for _ in $(seq "$N"); do ember_once 0.3 "" --console stdio -- true; done
	row "ember: first guest instruction (first KVM_RUN)" "$tmp/first"
	: >"$tmp/banner"
	ember_once 120 "Linux version" --console stdio --boot-protocol pvh \
		--cmdline "loglevel=6 earlyprintk=ttyS0" -- true
	row "ember: kernel banner, emulated ring 0 (1 run)" "$tmp/banner"
	echo "| ember: ember-init boot complete                  | not measurable here |"
fi

if [ -n "$hw" ]; then
	echo "| QEMU microvm                                     | not run here (below) |"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	echo "| QEMU microvm                                     | not installed |"
else
	: >"$tmp/qb"; : >"$tmp/qi"; : >"$tmp/qe"
	qemu() {	# qemu EXTRA_APPEND: the banner from earlyprintk runs, init from quiet ones
		"$LT" 30 "" -- qemu-system-x86_64 -M microvm,acpi=off,pit=off,pic=off,rtc=off \
			-enable-kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
			-display none -serial stdio -no-reboot \
			-kernel "$kdir/vmlinux" -initrd "$initrd" \
			-append "console=ttyS0 reboot=t panic=-1 quiet ember.cmd=dHJ1ZQA $1" \
			>"$tmp/out" 2>"$tmp/err" </dev/null
		if [ -n "$1" ]; then
			awk '/Linux version/ { print $1; exit }' "$tmp/out" >>"$tmp/qb"
		else
			awk '/ember-init: exit status 0/ { print $1; exit }' "$tmp/out" >>"$tmp/qi"
		fi
		awk '$1 == "exit" { print $2 }' "$tmp/out" >>"$tmp/qe"
	}
	for _ in $(seq "$N"); do qemu ""; done
	for _ in $(seq "$N"); do qemu "loglevel=6 earlyprintk=ttyS0"; done
	row "QEMU microvm: kernel banner (earlyprintk runs)" "$tmp/qb"
	row "QEMU microvm: ember-init ran \`true\`" "$tmp/qi"
	row "QEMU microvm: exit (all runs)" "$tmp/qe"
fi
if [ -n "$hw" ]; then
	echo
	echo "This host: $hw."
	echo "Only the early phases are measured: process start to the first guest"
	echo "instruction (real: VM set-up and loading the 10 MiB of vmlinux segments and"
	echo "the initramfs), and one banner time that is dominated by KVM's instruction"
	echo "emulator (~0.5 us an instruction), not by ember. QEMU is not run: it cannot"
	echo "boot this Linux here either."
fi
echo
echo "ember's own per-step times for the last run (--boot-time):"
sed 's/^/    /' "$tmp/err"
