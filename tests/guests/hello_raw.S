/* tests/guests/hello_raw.S - hello.raw: a flat binary run in 16-bit real
 * mode.  Position independent: it finds its own offset with call/pop, so
 * any load address works (ember's default 0x7c00 with CS:IP = 0x07c0:0000,
 * or 0000:7c00 as a BIOS starts a boot sector; the image ends in 0xaa55 so
 * it can be booted from a disk too).  Prints "real mode: hello" with out
 * instructions to 0x3f8, then writes 0 to isa-debug-exit (port 0xf4):
 * exit status (0 << 1) | 1 = 1. */
	.code16
	.text
	.globl _start
_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movw %ax, %ss
	xorw %sp, %sp				/* stack at the top of our segment */
	call 1f
1:	popw %si
	addw $(msg - 1b), %si
	movw $0x3f8, %dx
2:	lodsb
	testb %al, %al
	jz 3f
	outb %al, %dx
	jmp 2b
3:	movw $0xf4, %dx
	xorb %al, %al
	outb %al, %dx
4:	hlt
	jmp 4b
msg:
	.asciz "real mode: hello\n"
	.org 510
	.word 0xaa55
	.section .note.GNU-stack, "", @progbits
