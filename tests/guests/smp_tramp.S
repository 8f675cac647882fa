/* tests/guests/smp_tramp.S - the AP trampoline of smp.pvh.
 *
 * tramp_start..tramp_end is copied to TRAMP_ADDR (0x10000; SIPI vector
 * 0x10) and runs there in real mode with CS = 0x1000, IP = 0.  It loads
 * the guest's GDT, enters protected mode and jumps to ap_entry32 in the
 * image at 1 MiB, which picks a stack by LAPIC ID and calls
 * ap_main(lapic_id). */
#define STACK_SIZE 4096
#define MAX_APIC_ID 64

	.section .rodata
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tramp_gdtr - tramp_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $ap_entry32
	.balign 4
	.word 0
tramp_gdtr:
	.word 31
	.long gdt
tramp_end:

	.text
	.code32
ap_entry32:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl 0xfee00020, %ebx		/* LAPIC ID register */
	shrl $24, %ebx
	cmpl $MAX_APIC_ID, %ebx
	jae 2f
	leal 1(%ebx), %eax
	shll $12, %eax			/* (id + 1) * STACK_SIZE */
	addl $ap_stacks, %eax
	movl %eax, %esp
	pushl %ebx
	call ap_main
2:	cli
	hlt
	jmp 2b

	.section .bss
	.balign 16
ap_stacks:
	.skip STACK_SIZE * MAX_APIC_ID
	.section .note.GNU-stack, "", @progbits
