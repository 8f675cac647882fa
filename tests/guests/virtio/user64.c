/* tests/guests/virtio/user64.c - page tables, GDT, TSS and IDT for ring 3
 * (see user64.h).  Runs in ring 0 once, so it is kept short. */
#include "user64.h"

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x18
#define SEL_UCODE 0x20
#define SEL_TSS 0x28
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct gate64 {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));
static uint64_t gdt64[7] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct gate64 idt64[256] __attribute__((aligned(16)));
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[65536] __attribute__((aligned(16)));

extern const char user64_stubs[];	/* user64_entry.S: 256 stubs, 16 bytes apart */
noreturn void user64_iret(void (*fn)(void *), void *arg, void *stack);

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx,
		 rbx, rax;
	uint64_t vec, err, rip, cs, rflags, rsp, ss;
};

/* Ring-3 port I/O faults here (#GP): the CPU running the guest's ring 3
 * does not honour the guest's IOPL on this host.  Emulates IN/OUT
 * (imm8 or DX port; byte, word with 0x66, dword).  True if done. */
static bool emulate_pio(struct trap_frame *f)
{
	const uint8_t *p = (const uint8_t *)f->rip;
	unsigned size = 4, len = 1;
	uint16_t port;
	uint8_t op;

	if (f->vec != 13 || (f->cs & 3) != 3)
		return false;
	if (p[0] == 0x66)
		size = 2, p++, len++;
	op = p[0];
	if (op == 0xe4 || op == 0xe5 || op == 0xe6 || op == 0xe7)
		port = p[1], len++;
	else if (op >= 0xec && op <= 0xef)
		port = (uint16_t)f->rdx;
	else
		return false;
	if (!(op & 1))
		size = 1;
	if (op & 2) {			/* OUT */
		if (size == 1)
			outb(port, (uint8_t)f->rax);
		else if (size == 2)
			outw(port, (uint16_t)f->rax);
		else
			outl(port, (uint32_t)f->rax);
	} else if (size == 1) {
		f->rax = (f->rax & ~0xffull) | inb(port);
	} else if (size == 2) {
		f->rax = (f->rax & ~0xffffull) | inw(port);
	} else {
		f->rax = inl(port);	/* a 32-bit result zero-extends */
	}
	f->rip += len;
	return true;
}

void user64_trap(struct trap_frame *f);
void user64_trap(struct trap_frame *f)
{
	uint64_t cr2;

	if (emulate_pio(f))
		return;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	rt_puts("user64: trap vector ");
	rt_put_hex(f->vec);
	rt_puts(" error ");
	rt_put_hex(f->err);
	rt_puts(" rip ");
	rt_put_hex(f->rip);
	rt_puts(" cs ");
	rt_put_hex(f->cs);
	rt_puts(" cr2 ");
	rt_put_hex(cr2);
	rt_putc('\n');
	rt_exit(1);
}

void user64_enter(void (*fn)(void *), void *arg)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = { sizeof(gdt64) - 1, (uint64_t)gdt64 },
				   idtr = { sizeof(idt64) - 1, (uint64_t)idt64 };
	uint64_t t = (uint64_t)&tss;

	pml4[0] = (uint64_t)pdpt | PTE_P | PTE_RW | PTE_US;
	for (unsigned i = 0; i < 4; i++) {
		pdpt[i] = (uint64_t)pd[i] | PTE_P | PTE_RW | PTE_US;
		for (unsigned j = 0; j < 512; j++)
			pd[i][j] = ((uint64_t)(i * 512 + j) << 21) | PTE_P | PTE_RW |
				   PTE_US | PTE_PS;
	}
	gdt64[1] = 0x00af9a000000ffffull;	/* 0x08 ring-0 code, 64-bit */
	gdt64[2] = 0x00cf92000000ffffull;	/* 0x10 ring-0 data */
	gdt64[3] = 0x00cff2000000ffffull;	/* 0x18 ring-3 data */
	gdt64[4] = 0x00affa000000ffffull;	/* 0x20 ring-3 code, 64-bit */
	gdt64[5] = (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) |
		   ((t >> 24 & 0xff) << 56);	/* 0x28 available 64-bit TSS */
	gdt64[6] = t >> 32;
	tss.rsp[0] = (uint64_t)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss);		/* no I/O bitmap: IOPL decides */
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(user64_stubs + 16 * v);

		idt64[v] = (struct gate64){ .off_lo = (uint16_t)a, .sel = SEL_KCODE,
					    .type = 0x8e, .off_mid = (uint16_t)(a >> 16),
					    .off_hi = (uint32_t)(a >> 32) };
	}
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4) : "memory");
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("lidt %0" : : "m"(idtr));
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\tmov %1, %%ds\n\t"
			 "mov %1, %%es\n\t"
			 "mov %1, %%ss"
			 : : "i"(SEL_KCODE), "r"(SEL_KDATA) : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
	user64_iret(fn, arg, ustack + sizeof(ustack) - 8);
}
