/* tests/guests/lib/gdt.S - the guests' own flat GDT, laid out like ember's
 * boot GDT: 0x08 flat 32-bit code, 0x10 64-bit code, 0x18 flat data.
 * 32-bit guests load it at entry so they never depend on the loader's. */
	.section .rodata
	.balign 16
	.globl gdt, gdt_desc
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, 32-bit, flat */
	.quad 0x00af9a000000ffff	/* 0x10: code, 64-bit */
	.quad 0x00cf92000000ffff	/* 0x18: data, flat */
gdt_end:
	.balign 8
	.word 0
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.section .note.GNU-stack, "", @progbits
