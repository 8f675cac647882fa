/* The smallest useful guest: a PVH ELF whose entry writes 0 to the
 * isa-debug-exit port (the monitor exits with status 1).  Used by the
 * start-up benchmark for ember and QEMU alike. */
	.section .note.Xen, "a"
	.balign 4
	.long 4			/* name size: "Xen\0" */
	.long 4			/* desc size */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.text
	.code32
	.globl pvh_start
pvh_start:
	xorl %eax, %eax
	outb %al, $0xf4
1:	hlt
	jmp 1b
