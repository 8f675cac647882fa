# tests/integration/t_ports.sh - isa-debug-exit at 0xf4 takes a write of
# any width, as QEMU's isa-debug-exit,iosize=4 does (test kernels written
# for QEMU commonly use outl): status ((V << 1) | 1) & 0xff.  A write that
# ember dropped would end with status 99 and "debugexit: ignored".
# Sourced by run.sh.

expect debug-exit-outb --status 43 --line "debugexit: outb" \
	-- --kernel "$GUESTS/debugexit.pvh" --cmdline "width=1 value=0x15"
expect debug-exit-outw --status 65 --line "debugexit: outw" \
	-- --kernel "$GUESTS/debugexit.pvh" --cmdline "width=2 value=0x120"
expect debug-exit-outl --status 241 --line "debugexit: outl" \
	-- --kernel "$GUESTS/debugexit.pvh" --cmdline "width=4 value=0x12345678"
