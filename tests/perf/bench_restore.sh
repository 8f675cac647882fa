#!/usr/bin/env bash
# Restore against QEMU's: process start -> the restored guest's first output
# byte, ember restore against QEMU microvm -incoming, the same guest at the
# same point, 128 MiB, 1 GiB and 4 GiB of RAM, interleaved rounds.
#
# The guest is snapcount.pvh "n=1 snap=1 touch=256": it writes 256 pages
# (1 MiB), prints "count 1", reaches its snapshot point, and once resumed
# reads those 256 pages back and prints "done".  The marker timed for both
# is that "done" line as linetime (linetime.c) reads it on the monitor's
# stdout, counted from just before the fork of the monitor's process: the
# guest's first output after the resume, a few hundred instructions and 256
# first touches of restored memory after its first instruction.
#   ember: `ember run --snapshot-dir D --snapshot-exit` wrote the snapshot
#          at the control-port command; timed: `ember restore D`.
#   QEMU:  the guest also has gate=1: it waits at the snapshot point until
#          fw_cfg's boot-menu item reads non-zero.  A QEMU started without
#          `-boot menu=on` holds it there; when "count 1" is out, QMP
#          `migrate` to "exec:cat > FILE" (QEMU 7.2 has no file: migration
#          URI) saves it, running (a guest stopped before is restored
#          paused).  Timed: the same QEMU command line with
#          `-boot menu=on -incoming "exec:cat FILE"`: fw_cfg is not in the
#          migration stream, so the restored guest goes on at once (one
#          port read more than ember's: two PIO exits).
# ember's own clock (--boot-time "first KVM_RUN", process start -> first
# KVM_RUN) is beside it: the part of the restore that must not grow with the
# guest's RAM (the goal: within 10 % from 128 MiB to 4 GiB, and <= 0.2x
# QEMU's -incoming).
# Env: N rounds (default 10, 5 in the L1 lane), W warm-up rounds (1),
# SIZES (default "128M 1G 4G"), SECS per run (60), QEMU_ACCEL (default
# "-enable-kvm -cpu host"; "-accel tcg -cpu max" tries the script without KVM).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${GUESTS:?set GUESTS to the guests dir}"
N=${N:-$(lane_default 5 10)}
W=${W:-1}
SIZES=${SIZES:-128M 1G 4G}
SECS=${SECS:-60}
read -r -a QACCEL <<<"${QEMU_ACCEL:--enable-kvm -cpu host}"
LT=$BENCH_OUT/linetime
cc -O2 -Wall -o "$LT" "$here/linetime.c" || exit 1
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-restore.XXXXXX")
trap 'rm -rf "$work"' EXIT
GUEST=$GUESTS/snapcount.pvh
CMD="n=1 snap=1 touch=256"
SNAP_RUN_OPTS=${SNAP_RUN_OPTS:-}
qemu=$(command -v qemu-system-x86_64 || :)
[ -n "$qemu" ] && ! command -v socat >/dev/null && qemu="" && echo "(no socat for QMP: QEMU left out)"

# qemu_args MEM: QEMU microvm's command line for the guest with MEM of RAM
qemu_args() {
	# shellcheck disable=SC2054 # the commas are QEMU's
	QARGS=(-M microvm,acpi=off,pit=off,pic=off,rtc=off "${QACCEL[@]}" -m "$1" -smp 1
		-nodefaults -no-user-config -display none -serial stdio -no-reboot
		-device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$GUEST" -append "$CMD gate=1")
}

# qemu_save MEM FILE: boots the guest in QEMU, saves it at its gate to FILE
qemu_save() {
	local mem=$1 file=$2 sock=$work/qmp.sock line qpid qfd st=1
	qemu_args "$mem"
	rm -f "$sock" "$work/qo"
	mkfifo "$work/qo"
	"$qemu" "${QARGS[@]}" -qmp "unix:$sock,server=on,wait=off" \
		</dev/null >"$work/qo" 2>"$work/qsave.err" &
	qpid=$!
	exec {qo}<"$work/qo"
	while IFS= read -r -t "$SECS" -u "$qo" line && [[ $line != *"count 1"* ]]; do :; done
	cat <&"$qo" >/dev/null &
	exec {qo}<&-
	if [[ $line == *"count 1"* ]]; then
		coproc QMP { socat - "UNIX-CONNECT:$sock"; }
		printf '%s\n' '{"execute":"qmp_capabilities"}' \
			'{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"events","state":true}]}}' \
			'{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":17179869184}}' \
			"{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"exec:cat > $file\"}}" >&"${QMP[1]}"
		while IFS= read -r -t "$SECS" -u "${QMP[0]}" line; do
			[[ $line == *'"MIGRATION"'* && $line == *'"completed"'* ]] && st=0 && break
			[[ $line == *'"MIGRATION"'* && $line == *'"failed"'* ]] && break
			[[ $line == *'"error"'* ]] && echo "QMP: $line" >>"$work/qsave.err" && break
		done
		printf '%s\n' '{"execute":"quit"}' >&"${QMP[1]}"
		qfd=${QMP[1]}
		exec {qfd}>&-
		wait "$QMP_PID" 2>/dev/null
	fi
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	[ $st = 0 ] || sed 's/^/    /' "$work/qsave.err"
	return $st
}

# the time of the "done" line in linetime's output $1 (nothing if none)
done_ms() { awk '$2 == "done" { print $1; exit }' "$1"; }

# median min max of the numbers in file $1 ("- - -" when none)
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}
med() { stats "$1" | cut -d' ' -f1; }

echo "## restore against QEMU -incoming: process start -> the restored guest's first output line"
echo "(snapcount.pvh \"$CMD\", 1 MiB written before the snapshot and read after it;"
echo " $N interleaved rounds after $W warm-up, ember and QEMU alternating for each size)"
for mem in $SIZES; do
	rm -rf "$work/s$mem"
	# shellcheck disable=SC2086 # SNAP_RUN_OPTS: options, split
	EMBER_LOG=info "$EMBER" run $SNAP_RUN_OPTS --kernel "$GUEST" --mem "$mem" --cmdline "$CMD" \
		--console none --snapshot-dir "$work/s$mem" --snapshot-exit >"$work/esave.err" 2>&1 ||
		{ echo "ember snapshot of $mem failed:"; sed 's/^/    /' "$work/esave.err"; }
	[ -n "$qemu" ] && { qemu_save "$mem" "$work/q$mem.mig" || echo "QEMU save of $mem failed"; }
	for f in e q k; do : >"$work/$f$mem"; done
done
held=("$EMBER" "$LT" "$GUEST")
[ -n "$qemu" ] && held+=("$qemu")
hold_open "${held[@]}" || exit 1
echo "sizes on disk (du): ember $(for m in $SIZES; do du -sh "$work/s$m" | cut -f1; done | paste -sd/)," \
	"QEMU $( [ -n "$qemu" ] && for m in $SIZES; do du -sh "$work/q$m.mig" | cut -f1; done | paste -sd/)"
for ((i = 0; i < N + W; i++)); do
	for mem in $SIZES; do
		"$LT" "$SECS" "done" -- "$EMBER" restore "$work/s$mem" --console stdio --boot-time \
			>"$work/out" 2>"$work/err" </dev/null
		if [ "$i" -ge "$W" ]; then
			done_ms "$work/out" >>"$work/e$mem"
			awk '$1 == "first" && $2 == "KVM_RUN" { print $3 }' "$work/err" >>"$work/k$mem"
		fi
		[ -n "$(done_ms "$work/out")" ] || { echo "ember restore $mem: no marker"; sed 's/^/    /' "$work/err" | tail -n 5; }
		[ -n "$qemu" ] && [ -s "$work/q$mem.mig" ] || continue
		qemu_args "$mem"
		"$LT" "$SECS" "done" -- "$qemu" "${QARGS[@]}" -boot menu=on -incoming "exec:cat $work/q$mem.mig" \
			>"$work/out" 2>"$work/err" </dev/null
		[ "$i" -ge "$W" ] && done_ms "$work/out" >>"$work/q$mem"
		[ -n "$(done_ms "$work/out")" ] || { echo "QEMU -incoming $mem: no marker"; sed 's/^/    /' "$work/err" | tail -n 5; }
	done
done
echo "| guest RAM | ember med ms |   min  |   max  | QEMU med ms |   min  |   max  | ember/QEMU | ember first KVM_RUN med (min-max) |"
echo "|-----------|--------------|--------|--------|-------------|--------|--------|------------|-----------------------------------|"
for mem in $SIZES; do
	read -r em en ex <<<"$(stats "$work/e$mem")"
	read -r qm qn qx <<<"$(stats "$work/q$mem")"
	read -r km kn kx <<<"$(stats "$work/k$mem")"
	printf '| %-9s | %12s | %6s | %6s | %11s | %6s | %6s | %10s | %33s |\n' "$mem" "$em" "$en" "$ex" \
		"$qm" "$qn" "$qx" "$(ratio "$em" "$qm")" "$km ($kn-$kx)"
done
first=${SIZES%% *} last=${SIZES##* }
echo
echo "ember, $last over $first (flat: within 1.10x): to the marker $(ratio "$(med "$work/e$last")" "$(med "$work/e$first")")," \
	"to the first KVM_RUN $(ratio "$(med "$work/k$last")" "$(med "$work/k$first")");" \
	"QEMU $(ratio "$(med "$work/q$last")" "$(med "$work/q$first")")"
echo "ember / QEMU (goal <= 0.2x): $(for m in $SIZES; do ratio "$(med "$work/e$m")" "$(med "$work/q$m")"; echo; done | paste -sd/)" \
	"for $(echo "$SIZES" | tr ' ' /)"
for m in "$first" "$last"; do
	echo
	echo "one ember restore, step by step ($m):"
	"$EMBER" restore "$work/s$m" --console none --boot-time 2>&1 | sed 's/^/    /'
done
