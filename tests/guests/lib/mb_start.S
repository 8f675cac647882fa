/* tests/guests/lib/mb_start.S - Multiboot v1 header and entry.
 *
 * The header (magic 0x1BADB002, flags, checksum) sits in the first 8 KiB of
 * the file; flags ask for the memory fields (bit 1) and page-aligned modules
 * (bit 0).  The image is an ELF32, so no address fields (bit 16) are given.
 *
 * Entry: flat 32-bit protected mode, EAX = 0x2BADB002, EBX = multiboot
 * info.  Calls int mb_main(uint32_t magic, struct multiboot_info *); its
 * return value is the exit status (control port). */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.entry, "ax"
	.code32
	.globl mb_start
mb_start:
	cli
	cld
	movl %eax, %ecx			/* keep the magic across the GDT load */
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
	pushl %ecx
	call mb_main
	pushl %eax
	call rt_exit

	.section .bss
	.balign 16
boot_stack:
	.skip 8192
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
