# tests/integration/t_boot.sh - each boot protocol's hello guest, the demo
# guest, the memory map, unmapped accesses (and their count) and an
# interrupt.  Sourced by run.sh.

expect hello-pvh --status 33 --line "PVH: hello" \
	-- --kernel "$GUESTS/hello.pvh"

expect demo --line "ember demo guest: hello from PVH" \
	-- --kernel "$GUESTS/demo.pvh"

expect hello-elf64 --line "ELF64: hello" --line "ELF64: cmdline: elf64 args" \
	-- --kernel "$GUESTS/hello.elf64" --cmdline "elf64 args"

expect hello-bzimage --line "bzImage: hello" \
	--line "bzImage: cmdline: console=ttyS0 bz=1" \
	-- --kernel "$GUESTS/hello.bzimage" --cmdline "console=ttyS0 bz=1"

expect hello-mb --line "Multiboot: hello" --line "Multiboot: cmdline: mb args" \
	-- --kernel "$GUESTS/hello.mb" --cmdline "mb args"

# isa-debug-exit with 0: status (0 << 1) | 1
expect hello-raw --status 1 --line "real mode: hello" \
	-- --raw "$GUESTS/hello.raw"

# another load address, not 16-byte aligned: CS:IP = 0x1000:0x0008
expect hello-raw-at --status 1 --line "real mode: hello" \
	-- --raw "$GUESTS/hello.raw@0x10008"

expect memmap --line "cmdline: check mem=64M" \
	--line "e820: 0x0-0x9fc00 1" \
	--line "e820: 0x9fc00-0x100000 2" \
	--line "e820: 0x100000-0x4000000 1" \
	--line "memmap: ok" \
	-- --kernel "$GUESTS/memmap.pvh" --mem 64M --cmdline "check mem=64M"

# RAM above the 3-4 GiB MMIO gap (guest memory is not touched: cheap)
expect memmap-5g --line "cmdline: check mem=5G" \
	--line "e820: 0x0-0x9fc00 1" \
	--line "e820: 0x9fc00-0x100000 2" \
	--line "e820: 0x100000-0xc0000000 1" \
	--line "e820: 0x100000000-0x180000000 1" \
	--line "memmap: ok" \
	-- --kernel "$GUESTS/memmap.pvh" --mem 5G --cmdline "check mem=5G"

expect unmapped --line "unmapped: ok" -- --kernel "$GUESTS/unmapped.pvh"

# the bus miss counter, reported at EMBER_LOG=debug when the VM ends: the
# guest's 6 port and 5 MMIO accesses to nothing, and none in a guest that
# makes none
EMBER_LOG=debug expect unmapped-misses --line "unmapped: ok" \
	--stderr-line "ember: pio bus: 6 accesses hit no device (reads returned all-ones, writes were dropped)" \
	--stderr-has "ember: mmio bus: 5 accesses hit no device" \
	-- --kernel "$GUESTS/unmapped.pvh"
EMBER_LOG=debug expect unmapped-misses-none --status 33 --line "PVH: hello" \
	--stderr-line "ember: pio bus: 0 accesses hit no device (reads returned all-ones, writes were dropped)" \
	--stderr-has "ember: mmio bus: 0 accesses hit no device" \
	-- --kernel "$GUESTS/hello.pvh"
expect unmapped-misses-boot-time --line "unmapped: ok" \
	--stderr-line "  bus misses: 6 port, 5 MMIO (accesses that hit no device)" \
	-- --kernel "$GUESTS/unmapped.pvh" --boot-time

expect irq --line "irq: got vector 0x30" -- --kernel "$GUESTS/irq.pvh"

expect irqchip-full-hello --status 33 --line "PVH: hello" \
	-- --kernel "$GUESTS/hello.pvh" --irqchip full

expect irqchip-full-irq --line "irq: got vector 0x30" \
	-- --kernel "$GUESTS/irq.pvh" --irqchip full
