/* tests/guests/lib/pvh_start.S - PVH entry of the 32-bit guests.
 *
 * The Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (type 18, name "Xen") holds the
 * physical address of the 32-bit entry.  Its descriptor is 8 bytes, as in
 * Linux's vmlinux, so loaders reading either 4 or 8 bytes find it.
 *
 * Entry state (PVH): flat 32-bit protected mode, paging off, EBX = address
 * of struct hvm_start_info.  We load our own GDT and stack and call
 * int pvh_main(struct hvm_start_info *); its return value is the exit
 * status (control port). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* namesz: "Xen\0" */
	.long 8				/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long pvh_start			/* low half of the 64-bit descriptor */
	.long 0
	.balign 4

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $boot_stack_top, %esp
	pushl %ebx
	call pvh_main
	pushl %eax
	call rt_exit

	.section .bss
	.balign 16
	.globl boot_stack_top
boot_stack:
	.skip 8192
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
