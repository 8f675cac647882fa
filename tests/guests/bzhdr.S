/* tests/guests/bzhdr.S - the real-mode part of hello.bzimage: boot sector
 * with the Linux setup header (boot protocol 2.15), a real-mode setup stub,
 * then the protected-mode part (PM_BIN, PM_SIZE bytes; INIT_SIZE bytes of
 * memory from its load address) appended with .incbin.  Linked at 0.
 *
 * The 16-bit stub (entered by BIOS-based loaders at setup + 0x200, e.g.
 * QEMU's) treats the setup area as the zero page: it reads the e820 map
 * with int 0x15, enters flat 32-bit protected mode and jumps to
 * code32_start with ESI = zero page.  ember instead enters the 64-bit entry
 * at pm + 0x200 itself. */
#define SETUP_SECTS 4
#define E820_MAX 32			/* 0x2d0 + 32 * 20 < setup_rm */

	.code16
	.text
	.globl _start
_start:
	.org 0x1f1
setup_sects:		.byte SETUP_SECTS
root_flags:		.word 0
syssize:		.long (PM_SIZE + 15) / 16
ram_size:		.word 0
vid_mode:		.word 0xffff		/* normal */
root_dev:		.word 0
boot_flag:		.word 0xaa55
	.org 0x200
jump:			.byte 0xeb, setup_jmp - 1f
1:
header:			.ascii "HdrS"
version:		.word 0x020f
realmode_swtch:		.long 0
start_sys_seg:		.word 0x1000
kernel_version:		.word kernel_version_str - 0x200
type_of_loader:		.byte 0
loadflags:		.byte 0x01		/* LOADED_HIGH */
setup_move_size:	.word 0x8000
code32_start:		.long 0x100000
ramdisk_image:		.long 0
ramdisk_size:		.long 0
bootsect_kludge:	.long 0
heap_end_ptr:		.word 0
ext_loader_ver:		.byte 0
ext_loader_type:	.byte 0
cmd_line_ptr:		.long 0
initrd_addr_max:	.long 0x7fffffff
kernel_alignment:	.long 0x100000
relocatable_kernel:	.byte 0
min_alignment:		.byte 20		/* log2(kernel_alignment) */
xloadflags:		.word 0x0001		/* XLF_KERNEL_64 */
cmdline_size:		.long 2048
hardware_subarch:	.long 0
hardware_subarch_data:	.quad 0
payload_offset:		.long 0
payload_length:		.long 0
setup_data:		.quad 0
pref_address:		.quad 0x100000
init_size:		.long INIT_SIZE
handover_offset:	.long 0
kernel_info_offset:	.long 0
setup_jmp:
	jmp setup_rm
kernel_version_str:
	.asciz "ember hello.bzimage"

	.org 0x600
	/* CS = setup segment + 0x20, IP = 0 at offset 0x200. */
setup_rm:
	cli
	cld
	movw %cs, %ax
	subw $0x20, %ax
	movw %ax, %ds
	movw %ax, %es
	/* e820 map into the zero page */
	xorl %ebx, %ebx
	movw $0x2d0, %di
	xorw %bp, %bp
2:	movl $0xe820, %eax
	movl $0x534d4150, %edx			/* "SMAP" */
	movl $20, %ecx
	int $0x15
	jc 3f
	cmpl $0x534d4150, %eax
	jne 3f
	incw %bp
	addw $20, %di
	cmpw $E820_MAX, %bp
	jae 3f
	testl %ebx, %ebx
	jnz 2b
3:	movw %bp, %ax
	movb %al, 0x1e8				/* e820_entries */
	/* ESI = linear address of the zero page; fix up GDTR and far pointer */
	xorl %esi, %esi
	movw %ds, %si
	shll $4, %esi
	movl %esi, %eax
	addl $rm_gdt, %eax
	movl %eax, rm_gdtr + 2
	movl %esi, %eax
	addl $pm32, %eax
	movl %eax, rm_farptr
	lgdtl rm_gdtr
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl *rm_farptr

	.code32
pm32:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl 0x214(%esi), %eax			/* code32_start */
	jmp *%eax

	.balign 8
rm_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff		/* 0x08 code32 */
	.quad 0x00af9a000000ffff		/* 0x10 code64 */
	.quad 0x00cf92000000ffff		/* 0x18 data */
rm_gdtr:
	.word 31
	.long 0
rm_farptr:
	.long 0
	.word 0x08

	.org (SETUP_SECTS + 1) * 512
pm_start:
	.incbin PM_BIN
	.section .note.GNU-stack, "", @progbits
