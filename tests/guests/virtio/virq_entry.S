/* tests/guests/virtio/virq_entry.S - 256 interrupt stubs, 16 bytes
 * apart, for the 32-bit virtio guests: stub n pushes n and calls
 * virq_dispatch(n) with the scratch registers saved, then returns to the
 * interrupted code (the vectors that push an error code never come back:
 * they are faults and virq_dispatch exits).
 *
 * The return is popfl; ret rather than iret: KVM's instruction emulator,
 * which runs guest ring-0 code on an emulating host, has no protected-mode
 * IRET (it reports an emulation failure).  Interrupts are only taken from
 * ring 0 here, so the frame is EIP, CS (unchanged), EFLAGS. */
	.text
	.code32
	.balign 16
	.globl virq_stubs
virq_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	pushl $vec
	jmp virq_common
	.set vec, vec + 1
	.endr

virq_common:
	pushl %eax
	pushl %ecx
	pushl %edx
	cld
	pushl 12(%esp)		/* the vector */
	call virq_dispatch
	addl $4, %esp
	popl %edx
	popl %ecx
	/* stack: EAX, vector, EIP, CS, EFLAGS -> .., .., EAX, EFLAGS, EIP */
	movl 16(%esp), %eax
	movl %eax, 12(%esp)
	movl 8(%esp), %eax
	movl %eax, 16(%esp)
	movl (%esp), %eax
	movl %eax, 8(%esp)
	leal 8(%esp), %esp
	popl %eax
	popfl
	ret
	.section .note.GNU-stack, "", @progbits
