# tests/integration/t_faults.sh - a guest that triple-faults.  Sourced by
# run.sh.

expect triple-fault --status 71 --line "triple: faulting" \
	--stderr-has "triple fault" -- --kernel "$GUESTS/triple.pvh"

# executing where there is no RAM: KVM's emulator gives up (status 72)
expect emulation-failure --status 72 --line "emufail: jumping to 0xe0000000" \
	--stderr-has "KVM emulation failure (suberror 1) at RIP 0xe0000000" -- --kernel "$GUESTS/emufail.pvh"
