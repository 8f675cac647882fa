/* irq.pvh - one interrupt from the UART through the IOAPIC.
 *
 * IOAPIC pin 4 -> vector 0x30 (fixed, physical, edge, active high) to the
 * BSP; LAPIC software-enabled; an IDT whose every vector reports itself;
 * then the UART's THR-empty interrupt is enabled (IER = 0x02, MCR OUT2) and
 * the CPU waits in sti; hlt.  Vector 0x30 prints "irq: got vector 0x30"
 * and exits 0.  A one-shot LAPIC timer (vector 0x31, ~5 s) is a watchdog:
 * if it fires first the guest says so and exits 1; any other vector also
 * exits 1. */
#include "lapic.h"

#define UART_VECTOR 0x30
#define WATCHDOG_VECTOR 0x31
#define UART_PIN 4

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
extern const char isr_stubs[];

void irq_dispatch(uint32_t vec);
void irq_dispatch(uint32_t vec)
{
	if (vec == UART_VECTOR) {
		outb(COM1 + 1, 0);		/* IER: no more interrupts */
		lapic_write(LAPIC_EOI, 0);
		rt_println("irq: got vector 0x30");
		rt_exit(0);
	}
	if (vec == WATCHDOG_VECTOR)
		rt_println("irq: timeout: no interrupt from the UART");
	else {
		rt_puts("irq: unexpected vector ");
		rt_put_hex(vec);
		rt_putc('\n');
	}
	rt_exit(1);
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
	uint16_t cs;
	unsigned i;

	(void)si;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (i = 0; i < 256; i++) {
		uint32_t a = (uint32_t)(isr_stubs + 16 * i);

		idt[i].off_lo = (uint16_t)a;
		idt[i].sel = cs;
		idt[i].zero = 0;
		idt[i].type = 0x8e;		/* present, ring 0, 32-bit interrupt gate */
		idt[i].off_hi = (uint16_t)(a >> 16);
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));

	lapic_write(LAPIC_SVR, 0x1ff);		/* enable, spurious vector 0xff */
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);	/* no 8259 ExtINT */
	lapic_write(LAPIC_TIMER_DIV, 0x3);	/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, WATCHDOG_VECTOR);	/* one-shot */
	lapic_write(LAPIC_TIMER_INIT, 312500000);	/* ~5 s at a 1 GHz bus */

	ioapic_write(IOAPIC_REDTBL(UART_PIN) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REDTBL(UART_PIN), UART_VECTOR);

	outb(COM1 + 4, 0x08);			/* MCR: OUT2 (IRQ enable) */
	outb(COM1 + 1, 0x02);			/* IER: THR empty */
	for (;;)
		__asm__ volatile("sti; hlt; cli");
}
