/* unmapped.pvh - accesses to nothing: a PIO port and an MMIO address with
 * no device behind them must read all-ones and swallow writes.
 * Prints "unmapped: ok" and exits 0, else what it read and exits 1. */
#include "rt.h"

#define NOPORT 0x2f0		/* no device here (COM2 is 0x2f8) */
#define NOMMIO 0xe0000000u	/* in the 3-4 GiB MMIO gap, no device there */

static int bad;

static void check(const char *what, uint32_t got, uint32_t want)
{
	if (got == want)
		return;
	rt_puts("unmapped: ");
	rt_puts(what);
	rt_puts(" read ");
	rt_put_hex(got);
	rt_puts(", want ");
	rt_put_hex(want);
	rt_putc('\n');
	bad = 1;
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	(void)si;
	bad = 0;
	check("inb", inb(NOPORT), 0xff);
	check("inw", inw(NOPORT), 0xffff);
	check("inl", inl(NOPORT), 0xffffffff);
	check("mmio8", mmio_read8(NOMMIO), 0xff);
	check("mmio32", mmio_read32(NOMMIO), 0xffffffff);
	outb(NOPORT, 0x5a);
	outl(NOPORT, 0x12345678);
	mmio_write8(NOMMIO + 4, 0x5a);
	mmio_write32(NOMMIO, 0x12345678);
	/* and still nothing there after the writes */
	check("inl after write", inl(NOPORT), 0xffffffff);
	check("mmio32 after write", mmio_read32(NOMMIO), 0xffffffff);
	if (bad)
		return 1;
	rt_println("unmapped: ok");
	return 0;
}
