#!/usr/bin/env bash
# Start-up: process start -> guest exit for the smallest guest (one OUT to
# port 0xf4), ember against the floor (a raw KVM program, /bin/true) and
# QEMU microvm when installed.
set -uo pipefail
N=${N:-20}
W=${W:-3}
echo "## start-up: process start -> exit, tiny guest ($N runs after $W warm-up)"
echo "| what                         | median ms |   min ms |   max ms | peak RSS MiB |"
echo "|------------------------------|-----------|----------|----------|--------------|"
"$TIMEIT" "/bin/true" "$N" "$W" 0 -- /bin/true
"$TIMEIT" "raw KVM program" "$N" "$W" 1 -- "$RAWKVM"
"$TIMEIT" "ember (split irqchip)" "$N" "$W" 1 -- "$EMBER" run --kernel "$EXIT_PVH" --mem 128M --console none
"$TIMEIT" "ember --irqchip full" "$N" "$W" 1 -- "$EMBER" run --kernel "$EXIT_PVH" --mem 128M --console none --irqchip full
"$TIMEIT" "ember --pit" "$N" "$W" 1 -- "$EMBER" run --kernel "$EXIT_PVH" --mem 128M --console none --pit
if command -v qemu-system-x86_64 >/dev/null; then
	"$TIMEIT" "QEMU microvm" "$N" "$W" 1 -- qemu-system-x86_64 -M microvm,acpi=off,pit=off,pic=off,rtc=off \
		-enable-kvm -cpu host,-arch-capabilities -m 128M -nodefaults -no-user-config -display none \
		-device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$EXIT_PVH" \
		|| echo "| QEMU microvm                 | (did not run) |"
else
	echo "| QEMU microvm                 | not installed |"
fi
echo
echo "ember's own per-step times for one run (--boot-time):"
"$EMBER" run --kernel "$EXIT_PVH" --mem 128M --console none --boot-time 2>&1 | sed 's/^/    /'
