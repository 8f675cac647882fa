/* tests/guests/lib/start64.S - entry of the 64-bit Linux-protocol guests
 * (ELF64 without a PVH note).  Entry state: 64-bit long mode, identity
 * mapped, RSI = struct boot_params.  Calls int main64(uint8_t *bp); its
 * return value is the exit status (control port). */
	.section .text.entry, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	movq $boot_stack_top, %rsp
	movq %rsi, %rdi
	call main64
	movl %eax, %edi
	call rt_exit

	.section .bss
	.balign 16
boot_stack:
	.skip 8192
boot_stack_top:
	.section .note.GNU-stack, "", @progbits
