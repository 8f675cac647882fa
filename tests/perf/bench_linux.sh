#!/usr/bin/env bash
# Linux boot of ember's default guest (guest-kernel-config/), ember against
# QEMU microvm booting the same vmlinux (PVH entry) and initramfs with the
# same command line, 256 MiB and 1 vCPU both, in the same run: process
# start -> first guest instruction -> kernel banner -> ember-init's
# boot-complete marker -> `true` ran -> exit.  The ember and QEMU runs
# alternate (one of each kind a round), so load that comes and goes weighs
# on both alike; the ratio ember/QEMU is what to read, above all in the L1
# lane, where absolute times mean nothing.
#
# Where the figures come from:
#  - ember: "first guest instruction", "boot-complete marker 0" and "exit
#    request" (ember-init handing over `true`'s status) are ember's
#    --boot-time lines, counted from ember's process start; "process exit"
#    is when linetime (linetime.c) saw `ember run -- true` end, counted
#    from just before it started ember.
#  - QEMU has no control port, so: its marker 0 is the exit of a QEMU with
#    isa-debug-exit at ember's control port 0xe80 (ember-init's marker
#    write, outl 1, ends QEMU with status 3: the time includes QEMU's own
#    exit, so it is an upper bound); "`true` ran" is ember-init's
#    "ember-init: exit status 0" line on the serial console (printed when
#    the control port does not end the VM), as linetime read it.  QEMU then
#    halts rather than exits (no ACPI power-off in this microvm): the run is
#    stopped at that line, and ember's process exit is set against it.
#  - exits by kind: KVM's own per-vCPU counters for the same boot, to
#    `true`'s status: ember prints them with --boot-time (its vCPUs' stats
#    fds), QEMU's are read from debugfs (/sys/kernel/debug/kvm/<pid>-<fd>/,
#    mounted here if need be) by linetime's LINETIME_AT_STOP hook when the
#    status line appears, while QEMU's VM still exists.  pf_taken counts
#    the MMU's page faults: with nested paging, the guest touching memory
#    not mapped yet (per 4 KiB, or per 2 MiB when the host backs guest
#    RAM with huge pages).
#  - the banner: the "Linux version" line on the serial console in runs
#    with `loglevel=6 earlyprintk=ttyS0` added (the default `quiet` prints
#    no banner), stopped there; the other runs boot the default command
#    line.
#
# Env: EMBER, BENCH_OUT (tests/perf/run.sh sets them); N rounds (LINUX_N
# overrides N for this script only; default 10, 5 in the L1 lane);
# EMBER_KERNEL_DIR (default <cache>/default, as ember's --kernel default).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
N=${LINUX_N:-${N:-$(lane_default 5 10)}}
SECS=$(lane_default 120 30)	# bound of one boot
cc -O2 -Wall -o "$BENCH_OUT/linetime" "$here/linetime.c" || exit 1
LT=$BENCH_OUT/linetime
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-linux.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "## Linux boot: default guest, ember vs QEMU microvm ($N rounds)"
# The guest: what `ember run --kernel default` boots, else built here.
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
gdir=${EMBER_KERNEL_DIR:-$cache/default}
if [ ! -s "$gdir/vmlinux" ] || [ ! -s "$gdir/bzImage" ] || [ ! -s "$gdir/initramfs.cpio.gz" ]; then
	if ! kdir=$("$root/guest-kernel-config/build.sh" 2>"$tmp/build.log") ||
		! initrd=$("$root/guest-kernel-config/initramfs.sh" 2>>"$tmp/build.log"); then
		echo "(skipped: no default guest in $gdir and it did not build: $(tail -n 1 "$tmp/build.log"))"
		exit 0
	fi
	gdir=$tmp/guest
	mkdir -p "$gdir"
	ln -sf "$kdir/vmlinux" "$kdir/bzImage" "$initrd" "$gdir/"
fi
export EMBER_KERNEL_DIR=$gdir
vmlinux=$(readlink -f "$gdir/vmlinux")
initrd=$(readlink -f "$gdir/initramfs.cpio.gz")
echo "guest: $vmlinux ($(($(stat -L -c %s "$vmlinux") / 1048576)) MiB), $initrd"
# held open, so no run reads them again over the lane's 9p (lib.sh)
hold_open "$EMBER" "$LT" "$vmlinux" "$initrd" || exit 1

hw=""
if [ -e /sys/module/kvm_pvm ]; then
	hw="KVM here is kvm_pvm (guest ring 0 emulated; Linux cannot reach init)"
elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	hw="no vmx/svm in /proc/cpuinfo"
fi
qemu=""
if command -v qemu-system-x86_64 >/dev/null; then
	qemu="qemu-system-x86_64"
fi

# median/min/max of the numbers in file $1: "median min max" (or "- - -")
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
# row LABEL EMBER-FILE QEMU-FILE|"text": one table row, ember/QEMU of the medians
row() {
	local e q r="-"
	read -r -a e <<<"$(stats "$2")"
	if [ -f "$3" ]; then
		read -r -a q <<<"$(stats "$3")"
		r=$(ratio "${e[0]}" "${q[0]}")
		printf '| %-46s | %9s | %8s | %8s | %9s | %8s | %8s | %10s |\n' "$1" "${e[@]}" "${q[@]}" "$r"
	else
		printf '| %-46s | %9s | %8s | %8s | %-30s | %10s |\n' "$1" "${e[@]}" "$3" "$r"
	fi
}

# ember_run SECS STOP ARGS...: one ember run under linetime; appends to
# $tmp/e.{first,marker,status,exit,banner}
ember_run() {
	local secs=$1 stop=$2
	shift 2
	"$LT" "$secs" "$stop" -- "$EMBER" run --kernel default --boot-time --console stdio "$@" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	awk '$1 == "first" && $2 == "KVM_RUN" { print $3 }' "$tmp/err" >>"$tmp/e.first"
	[ -z "$stop" ] && kvm_counts "$tmp/err" e
	awk '/Linux version/ { print $1; exit }' "$tmp/out" >>"$tmp/e.banner"
	if [ -z "$stop" ]; then
		awk '$1 == "marker" && $2 == "0" { print $3 }' "$tmp/err" >>"$tmp/e.marker"
		awk '$1 == "exit" && $2 == "request" { print $3 }' "$tmp/err" >>"$tmp/e.status"
		awk '$1 == "exit" && $3 == 0 { print $2 }' "$tmp/out" >>"$tmp/e.exit"
		cp "$tmp/err" "$tmp/e.last"
	fi
}

# The KVM counters the exits table shows (names as KVM's stats and debugfs)
KVM_STATS="exits io_exits mmio_exits halt_exits irq_exits irq_window_exits request_irq_exits signal_exits insn_emulation hypercalls irq_injections pf_taken"
# kvm_counts FILE PREFIX: appends each "  kvm   NAME VALUE" line of FILE to
# $tmp/PREFIX.kvm.NAME
kvm_counts() {
	local n v
	while read -r n v; do
		echo "$v" >>"$tmp/$2.kvm.$n"
	done < <(awk '$1 == "kvm" && $3 ~ /^[0-9]+$/ { print $2, $3 }' "$1")
}
# For QEMU: the same counters from debugfs, read by linetime when the
# status line appears (its VM still exists then)
qemu_at_stop() {
	[ -n "$qemu" ] || return 0
	{ mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; } 2>/dev/null
	[ -d /sys/kernel/debug/kvm ] || return 0
	# shellcheck disable=SC2016 # expanded by linetime's shell
	echo 'd=$(ls -d /sys/kernel/debug/kvm/"$LINETIME_PID"-* 2>/dev/null | head -n 1); [ -n "$d" ] && for n in '"$KVM_STATS"'; do [ -r "$d/$n" ] && echo "  kvm   $n $(cat "$d/$n")"; done; true'
}
QEMU_AT_STOP=$(qemu_at_stop)

# qemu_run SECS STOP EXTRA-APPEND [QEMU ARGS...]: one QEMU microvm run under
# linetime, the same kernel, initramfs and command line as ember's
qemu_run() {
	local secs=$1 stop=$2 append=$3
	shift 3
	"$LT" "$secs" "$stop" -- "$qemu" -M microvm,acpi=off,pit=off,pic=off,rtc=off \
		-enable-kvm -cpu host -m 256M -smp 1 -nodefaults -no-user-config \
		-display none -serial stdio -no-reboot "$@" \
		-kernel "$vmlinux" -initrd "$initrd" \
		-append "console=ttyS0 reboot=k panic=-1 quiet ember.cmd=dHJ1ZQA $append" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
}

for f in none e.first e.banner e.marker e.status e.exit q.banner q.marker q.status; do : >"$tmp/$f"; done
: >"$tmp/e.last"
if [ -z "$hw" ]; then
	for _ in $(seq "$N"); do
		ember_run "$SECS" "" -- true
		ember_run "$SECS" "Linux version" --cmdline "loglevel=6 earlyprintk=ttyS0" -- true
		[ -n "$qemu" ] || continue
		qemu_run "$SECS" "" "" -device isa-debug-exit,iobase=0xe80,iosize=4
		awk '$1 == "exit" && $3 == 3 { print $2 }' "$tmp/out" >>"$tmp/q.marker"
		LINETIME_AT_STOP=$QEMU_AT_STOP qemu_run "$SECS" "ember-init: exit status" ""
		awk '/ember-init: exit status 0/ { print $1; exit }' "$tmp/out" >>"$tmp/q.status"
		kvm_counts "$tmp/out" q
		qemu_run "$SECS" "Linux version" "loglevel=6 earlyprintk=ttyS0"
		awk '/Linux version/ { print $1; exit }' "$tmp/out" >>"$tmp/q.banner"
	done
	Q() { if [ -n "$qemu" ]; then echo "$tmp/$1"; else echo "QEMU microvm not installed"; fi; }
	echo
	echo "### Linux boot to ember-init's boot-complete marker (ms from process start; $N rounds)"
	echo "| point                                          | ember med |   min    |   max    | QEMU med  |   min    |   max    | ember/QEMU |"
	echo "|------------------------------------------------|-----------|----------|----------|-----------|----------|----------|------------|"
	row "first guest instruction (QEMU: not observable)" "$tmp/e.first" "$tmp/none"
	row "kernel banner (earlyprintk runs)" "$tmp/e.banner" "$(Q q.banner)"
	row "boot-complete marker 0 (QEMU: its exit there)" "$tmp/e.marker" "$(Q q.marker)"
	row "ember-init reports \`true\`'s status" "$tmp/e.status" "$(Q q.status)"
	row "process exit (QEMU: the status line)" "$tmp/e.exit" "$(Q q.status)"
	echo
	med() { stats "$tmp/$1" | cut -d' ' -f1; }
	if [ -n "$qemu" ]; then
		echo "ember/QEMU at the boot-complete marker: $(ratio "$(med e.marker)" "$(med q.marker)");" \
			"at the end of \`true\` (ember's process exit against QEMU's status line):" \
			"$(ratio "$(med e.exit)" "$(med q.status)")"
	else
		echo "QEMU microvm: not installed (Debian: qemu-system-x86), no ratio"
	fi
	for f in e.marker e.exit ${qemu:+q.marker q.status}; do
		n=$(wc -l <"$tmp/$f")
		[ "$n" -lt "$N" ] && echo "(only $n of $N runs gave $f: a boot failed or ran past ${SECS}s)"
	done
	[ -s "$tmp/e.last" ] || cp "$tmp/err" "$tmp/e.last"
	echo
	echo "### Exits per Linux boot, by kind (KVM's counters, process start to \`true\`'s status; median of $N)"
	echo "| KVM counter        | ember   | QEMU    | ember/QEMU |"
	echo "|--------------------|---------|---------|------------|"
	for n in $KVM_STATS; do
		[ -s "$tmp/e.kvm.$n" ] || [ -s "$tmp/q.kvm.$n" ] || continue
		ev=$( [ -s "$tmp/e.kvm.$n" ] && stats "$tmp/e.kvm.$n" | cut -d' ' -f1 | sed 's/\.0$//')
		qv=$( [ -s "$tmp/q.kvm.$n" ] && stats "$tmp/q.kvm.$n" | cut -d' ' -f1 | sed 's/\.0$//')
		printf '| %-18s | %7s | %7s | %10s |\n' "$n" "${ev:--}" "${qv:--}" "$(ratio "$ev" "$qv")"
	done
	[ -s "$tmp/q.kvm.exits" ] || echo "(QEMU's counters: no debugfs here (root mounts it), or QEMU not installed)"
	echo "(the exits that reached ember, by kind, port and MMIO range, are in the --boot-time lines below)"
else
	# the guest never reaches init: stop each run after 300 ms (ember then
	# prints its --boot-time table) and time one banner under emulation
	for _ in $(seq "$N"); do ember_run 0.3 "(none)" -- true; done
	: >"$tmp/e.banner"
	ember_run 120 "Linux version" --boot-protocol pvh --cmdline "loglevel=6 earlyprintk=ttyS0" -- true
	cp "$tmp/err" "$tmp/e.last"
	echo
	echo "### Linux boot to ember-init's boot-complete marker (ms from process start)"
	echo "| point                                          | ember med |   min    |   max    | QEMU microvm                   | ember/QEMU |"
	echo "|------------------------------------------------|-----------|----------|----------|--------------------------------|------------|"
	row "first guest instruction (first KVM_RUN)" "$tmp/e.first" "(not run here, below)"
	row "kernel banner, emulated ring 0 (1 run)" "$tmp/e.banner" "(not run here, below)"
	echo "| ember-init boot complete (marker 0)            | not measurable here (below)                 |"
	echo
	echo "This host: $hw."
	echo "Only the early phases are measured: process start to the first guest"
	echo "instruction (real: VM set-up and loading the 10 MiB of vmlinux segments and"
	echo "the initramfs), and one banner time that is dominated by KVM's instruction"
	echo "emulator (~0.5 us an instruction), not by ember. QEMU is not run: it cannot"
	echo "boot this Linux here either."
fi
echo
echo "ember's own per-step times for the last quiet run (--boot-time):"
sed 's/^/    /' "$tmp/e.last"
