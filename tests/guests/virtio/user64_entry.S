/* tests/guests/virtio/user64_entry.S - the 64-bit benchmark guest's
 * interrupt stubs and the way down to ring 3 (see user64.h). */
	.text
	.code64
	.balign 16
	.globl user64_stubs
/* Stub n pushes a 0 error code where the CPU pushes none, then n, and
 * goes to user64_trap(frame) with every general register saved; if that
 * returns (it emulated a ring-3 port access), the registers, possibly
 * changed, are reloaded and iretq resumes the interrupted code. */
user64_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30
	.else
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call user64_trap
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp		/* vector and error code */
	iretq

/* user64_iret(fn, arg, stack): ring 3 at fn(arg) on stack, IOPL=3,
 * interrupts off. */
	.globl user64_iret
user64_iret:
	movq %rdx, %rax
	pushq $0x1b		/* SS: ring-3 data */
	pushq %rax		/* RSP */
	pushq $0x3002		/* RFLAGS: IOPL=3, IF=0 */
	pushq $0x23		/* CS: ring-3 code */
	pushq %rdi		/* RIP */
	movq %rsi, %rdi
	iretq
	.section .note.GNU-stack, "", @progbits
