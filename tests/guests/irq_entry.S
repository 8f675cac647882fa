/* tests/guests/irq_entry.S - 256 interrupt stubs for irq.pvh, 16 bytes
 * apart: stub n pushes n and calls irq_dispatch(n), which never returns. */
	.text
	.code32
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	pushl $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	cld
	call irq_dispatch
1:	cli
	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
