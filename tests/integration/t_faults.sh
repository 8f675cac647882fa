# tests/integration/t_faults.sh - a guest that triple-faults.  Sourced by
# run.sh.

expect triple-fault --status 71 --line "triple: faulting" \
	--stderr-has "triple fault" -- --kernel "$GUESTS/triple.pvh"
