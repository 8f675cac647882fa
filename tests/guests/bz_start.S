/* tests/guests/bz_start.S - start of the protected-mode part of
 * hello.bzimage, linked at 0x100000 (code32_start = pref_address).
 *
 * Offset 0x000: the 32-bit boot protocol entry (flat 32-bit protected mode,
 *               paging off, ESI = boot_params): builds an identity map of
 *               the first GiB, enters long mode and goes to offset 0x200.
 * Offset 0x200: the 64-bit entry (long mode, identity mapped, RSI =
 *               boot_params): what ember uses.  Calls main64(boot_params). */
	.section .text.entry, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	cld
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	/* page tables: PML4[0] -> PDPT[0] -> PD of 512 2 MiB pages */
	movl $pt_pml4, %edi
	xorl %eax, %eax
	movl $(3 * 4096 / 4), %ecx
	rep stosl
	movl $(pt_pdpt + 3), pt_pml4
	movl $(pt_pd + 3), pt_pdpt
	movl $pt_pd, %edi
	movl $0x83, %eax			/* present, writable, 2 MiB */
	movl $512, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 2b
	movl %cr4, %eax
	orl $0x20, %eax				/* PAE */
	movl %eax, %cr4
	movl $pt_pml4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx			/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax			/* PG | PE */
	movl %eax, %cr0
	ljmp $0x10, $startup_64

	.org 0x200
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	movq $boot_stack_top, %rsp
	movq %rsi, %rdi
	call main64
	movl %eax, %edi
	call rt_exit

	.section .bss
	.balign 4096
pt_pml4:
	.skip 4096
pt_pdpt:
	.skip 4096
pt_pd:
	.skip 4096
	.balign 16
boot_stack:
	.skip 8192
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
