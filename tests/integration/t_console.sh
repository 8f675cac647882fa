# tests/integration/t_console.sh - where the guest's serial output goes.
# Sourced by run.sh.

expect console-file --status 33 \
	--file "$WORK/console-file/console.txt" --file-line "PVH: hello" \
	-- --kernel "$GUESTS/hello.pvh" --console "file:$WORK/console-file/console.txt"

expect console-none --status 33 \
	-- --kernel "$GUESTS/hello.pvh" --console none
