/* tests/guests/virtio/virq.c - virtio interrupts for the 32-bit guests
 * (see virq.h). */
#include "virq.h"
#include "lapic.h"

#define WATCHDOG_VECTOR 0x31
#define IOAPIC_LEVEL (1u << 15)

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t zero, type;
	uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(8)));
extern const char virq_stubs[];

static struct vio_dev *routed[VIRQ_MAX];
static volatile uint32_t isr_seen[VIRQ_MAX], taken[VIRQ_MAX];
static unsigned nrouted;
static volatile bool watchdog_fired;

void virq_dispatch(uint32_t vec);
void virq_dispatch(uint32_t vec)
{
	unsigned h = vec - VIRQ_VECTOR_BASE;

	if (vec == WATCHDOG_VECTOR) {
		watchdog_fired = true;
	} else if (vec >= VIRQ_VECTOR_BASE && h < nrouted) {
		uint32_t bits = vio_read(routed[h], VIO_INT_STATUS);

		vio_write(routed[h], VIO_INT_ACK, bits);	/* line low before EOI */
		isr_seen[h] |= bits;
		taken[h]++;
	} else if (vec != 0xff) {
		rt_puts("virq: unexpected vector ");
		rt_put_hex(vec);
		rt_putc('\n');
		rt_exit(1);
	}
	if (vec != 0xff)
		lapic_write(LAPIC_EOI, 0);
}

void virq_init(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	for (unsigned i = 0; i < 256; i++) {
		uint32_t a = (uint32_t)(virq_stubs + 16 * i);

		idt[i] = (struct idt_gate){ (uint16_t)a, cs, 0, 0x8e, (uint16_t)(a >> 16) };
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
	lapic_write(LAPIC_SVR, 0x1ff);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DIV, 0x3);		/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, WATCHDOG_VECTOR);	/* one-shot */
}

int virq_route(struct vio_dev *d)
{
	unsigned h = nrouted;

	if (h >= VIRQ_MAX)
		return -1;
	routed[h] = d;
	nrouted++;
	ioapic_write(IOAPIC_REDTBL(d->gsi) + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REDTBL(d->gsi), (VIRQ_VECTOR_BASE + h) | IOAPIC_LEVEL);
	return (int)h;
}

uint32_t virq_wait(int h, const char *tag)
{
	uint32_t bits;

	watchdog_fired = false;
	lapic_write(LAPIC_TIMER_INIT, 312500000);	/* ~5 s at a 1 GHz bus */
	while (!isr_seen[h] && !watchdog_fired)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	lapic_write(LAPIC_TIMER_INIT, 0);
	if (!isr_seen[h]) {
		rt_puts(tag);
		rt_println(": timeout waiting for an interrupt");
		rt_exit(1);
	}
	bits = isr_seen[h];
	isr_seen[h] = 0;
	return bits;
}

uint32_t virq_count(int h)
{
	return taken[h];
}
