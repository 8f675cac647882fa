# tests/integration/t_faults.sh - a guest that triple-faults.  Sourced by
# run.sh.

expect triple-fault --status 71 --line "triple: faulting" \
	--stderr-has "triple fault" -- --kernel "$GUESTS/triple.pvh"

# executing where there is no RAM: KVM's emulator gives up (status 72)
# In the L1 lane this wedges the whole L1 VM (both of its vCPUs spin and
# nothing in it runs again, `timeout` included): QEMU TCG's emulation of
# nested SVM, not ember; it runs on hardware KVM.
expect emulation-failure --status 72 \
	--not-in-l1 "an L2 instruction fetch from unbacked memory wedges the L1 VM (QEMU TCG's nested SVM emulation), not ember" \
	--line "emufail: jumping to 0xe0000000" \
	--stderr-has "KVM emulation failure (suberror 1) at RIP 0xe0000000" -- --kernel "$GUESTS/emufail.pvh"
