/* smp.pvh - brings up every AP with INIT-SIPI-SIPI through the xAPIC.
 *
 * The CPUs come from the MP table (floating pointer "_MP_" in 0xf0000..
 * 0xfffff, processor entries of the "PCMP" table); "cpus=N" on the command
 * line, if given, must match it (and stands in when there is no table).
 * Every CPU prints "cpu <lapic id> up" under a spinlock (the order of the AP
 * lines varies), the BSP waits for all of them (bounded by the TSC) and
 * prints "all N cpus up", exit status 0.  Otherwise it says what went
 * wrong and exits 1. */
#include "lapic.h"

#define TRAMP_ADDR 0x10000u	/* SIPI vector 0x10 */
#define MAX_CPUS 64
#define WAIT_TSC (1ull << 34)	/* ~6-17 s at 1-3 GHz */

extern const char tramp_start[], tramp_end[];

static volatile uint32_t print_lock;
static volatile uint32_t cpus_up;

static void lock(void)
{
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&print_lock, __ATOMIC_RELAXED))
			cpu_pause();
}

static void unlock(void)
{
	__atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE);
}

static void report_up(uint32_t id)
{
	lock();
	rt_puts("cpu ");
	rt_put_dec(id);
	rt_println(" up");
	__atomic_add_fetch(&cpus_up, 1, __ATOMIC_RELEASE);
	unlock();
}

void ap_main(uint32_t id);
void ap_main(uint32_t id)
{
	report_up(id);
	rt_halt();
}

static uint8_t sum(const uint8_t *p, unsigned len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Fills ids[] with the APIC IDs of the enabled processors of the MP table.
 * Returns their number, 0 if there is no MP table, -1 if it is broken. */
static int mp_cpus(uint8_t *ids)
{
	const uint8_t *fp = NULL, *t, *e;
	uint32_t p, n = 0;
	unsigned i, count;

	for (p = 0xf0000; p < 0x100000; p += 16) {
		if (!memcmp((const void *)(uintptr_t)p, "_MP_", 4)) {
			fp = (const uint8_t *)(uintptr_t)p;
			break;
		}
	}
	if (!fp)
		return 0;
	if (sum(fp, 16)) {
		rt_println("smp: bad MP floating pointer checksum");
		return -1;
	}
	memcpy(&p, fp + 4, 4);
	t = (const uint8_t *)(uintptr_t)p;
	if (!p || memcmp(t, "PCMP", 4)) {
		rt_println("smp: no PCMP table");
		return -1;
	}
	if (sum(t, (unsigned)(t[4] | t[5] << 8))) {
		rt_println("smp: bad MP table checksum");
		return -1;
	}
	count = (unsigned)(t[34] | t[35] << 8);
	e = t + 44;
	for (i = 0; i < count; i++) {
		if (e[0] == 0) {		/* processor */
			if ((e[3] & 1) && n < MAX_CPUS)
				ids[n++] = e[1];
			e += 20;
		} else if (e[0] <= 4) {	/* bus, IOAPIC, I/O int, local int */
			e += 8;
		} else {
			rt_println("smp: unknown MP table entry");
			return -1;
		}
	}
	return (int)n;
}

static void icr_send(uint32_t dest, uint32_t cmd)
{
	unsigned spins = 100000;

	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, cmd);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) && --spins)
		cpu_pause();
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ?
		(const char *)(uintptr_t)si->cmdline_paddr : "";
	uint8_t ids[MAX_CPUS];
	uint64_t want = 0, t0;
	uint32_t bsp = lapic_id(), n;
	bool have_want = rt_cmdline_num(cmdline, "cpus", &want);
	int found = mp_cpus(ids);
	unsigned i;

	if (found < 0)
		return 1;
	if (found == 0) {
		if (!have_want || want < 1 || want > MAX_CPUS) {
			rt_println("smp: no MP table and no cpus=N");
			return 1;
		}
		for (i = 0; i < want; i++)
			ids[i] = (uint8_t)i;
		found = (int)want;
	} else if (have_want && want != (uint64_t)found) {
		rt_puts("smp: MP table lists ");
		rt_put_dec((uint32_t)found);
		rt_puts(" cpus, cpus=");
		rt_put_dec((uint32_t)want);
		rt_putc('\n');
		return 1;
	}
	n = (uint32_t)found;
	print_lock = 0;		/* no trust in a zeroed .bss */
	cpus_up = 0;
	memcpy((void *)(uintptr_t)TRAMP_ADDR, tramp_start,
	       (size_t)(tramp_end - tramp_start));
	report_up(bsp);
	for (i = 0; i < n; i++) {
		if (ids[i] == bsp)
			continue;
		icr_send(ids[i], 0x00004500);	/* INIT, level assert */
		icr_send(ids[i], 0x00004600 | (TRAMP_ADDR >> 12)); /* SIPI */
		icr_send(ids[i], 0x00004600 | (TRAMP_ADDR >> 12));
	}
	t0 = rdtsc();
	while (__atomic_load_n(&cpus_up, __ATOMIC_ACQUIRE) < n) {
		if (rdtsc() - t0 > WAIT_TSC) {
			lock();
			rt_puts("smp: only ");
			rt_put_dec(cpus_up);
			rt_puts(" of ");
			rt_put_dec(n);
			rt_println(" cpus came up");
			unlock();
			return 1;
		}
		cpu_pause();
	}
	lock();
	rt_puts("all ");
	rt_put_dec(n);
	rt_println(" cpus up");
	unlock();
	return 0;
}
