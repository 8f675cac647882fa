# tests/integration/t_boot.sh - each boot protocol's hello guest, the demo
# guest, the memory map, unmapped accesses and an interrupt.  Sourced by
# run.sh.

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

expect irq --line "irq: got vector 0x30" -- --kernel "$GUESTS/irq.pvh"

expect irqchip-full-hello --status 33 --line "PVH: hello" \
	-- --kernel "$GUESTS/hello.pvh" --irqchip full

expect irqchip-full-irq --line "irq: got vector 0x30" \
	-- --kernel "$GUESTS/irq.pvh" --irqchip full
