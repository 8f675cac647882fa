#!/usr/bin/env bash
# Start-up: process start -> guest exit for the smallest guest (one OUT to
# port 0xf4), ember against the floor (a raw KVM program, /bin/true) and
# QEMU microvm when installed.  The commands run interleaved (timeit -i), so
# the ratios hold even where the load changes during the run.
# Env: N rounds (default 20, 10 in the L1 lane), W warm-up rounds (3).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${N:-$(lane_default 10 20)}
W=${W:-3}
TINY=(--kernel "$EXIT_PVH" --mem 128M --console none)
Q="QEMU microvm (same guest)"
E="ember (split irqchip)"

cmds=("/bin/true" 0 /bin/true
	:: "$FLOOR" 1 "$RAWKVM"
	:: "raw KVM, split irqchip" 1 "$RAWKVM" split
	:: "$E" 1 "$EMBER" run "${TINY[@]}"
	:: "ember --irqchip full" 1 "$EMBER" run "${TINY[@]}" --irqchip full
	:: "ember --pit" 1 "$EMBER" run "${TINY[@]}" --pit)
qrow=""
if command -v qemu-system-x86_64 >/dev/null; then
	# shellcheck disable=SC2054 # the commas are QEMU's
	cmds+=(:: "$Q" 1 qemu-system-x86_64 -M microvm,acpi=off,pit=off,pic=off,rtc=off
		-enable-kvm -cpu host,-arch-capabilities -m 128M -nodefaults -no-user-config
		-display none -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$EXIT_PVH")
else
	qrow="| $(printf '%-28s' "$Q") | not installed |"
fi

# every program and the guest held open (hold_open, lib.sh): no run reads
# its binary again over the lane's 9p
held=("$EMBER" "$RAWKVM" "$EXIT_PVH" /bin/true)
q=$(command -v qemu-system-x86_64) && held+=("$q")
hold_open "${held[@]}" || exit 1
echo "## start-up: process start -> exit, tiny guest ($N interleaved rounds after $W warm-up; the binaries held open)"
timeit_table "$BENCH_OUT/startup.rows" "$qrow" floor "$FLOOR" QEMU "$Q" -- \
	-i "$N" "$W" -- "${cmds[@]}"
e=$(row_median "$BENCH_OUT/startup.rows" "$E")
echo
echo "ember / raw-KVM floor: $(ratio "$e" "$(row_median "$BENCH_OUT/startup.rows" "$FLOOR")") (target <= 1.3x;" \
	"$(ratio "$e" "$(row_median "$BENCH_OUT/startup.rows" "raw KVM, split irqchip")") over the split-irqchip floor);" \
	"ember / QEMU microvm: $(ratio "$e" "$(row_median "$BENCH_OUT/startup.rows" "$Q")") (target <= 0.3x)" \
	"$([ -n "$qrow" ] && echo "(QEMU not installed)")"
echo
echo "ember's own per-step times for one run (--boot-time):"
{ "$EMBER" run "${TINY[@]}" --boot-time 2>&1 || :; } | sed 's/^/    /'	# the guest exits with 1
