/* spam.pvh - random reads and writes of every device register, from every
 * vCPU at once, until ember is stopped from outside.
 *
 * Command line: cpus=N (the vCPUs, APIC IDs 0..N-1, as ember numbers them),
 * spam=K (accesses per CPU in the first round, default 5000), and ember's
 * virtio_mmio.device= entries (the windows to hit).
 *
 * Each CPU runs a xorshift generator seeded by its APIC ID and does, again
 * and again, one of:
 *   - a read or write of 1, 2 or 4 bytes at a random port 0..0xffff, or
 *     (half of them) at a random port of a device ember has;
 *   - a read or write at a random offset of a random virtio-mmio window
 *     (registers and config space, any size and alignment), or now and
 *     then a driver's whole set-up of queue 0 with random features, queue
 *     size and rings in the scratch area, then a kick;
 *   - an IOAPIC register select and a read or write of its window;
 *   - a read or write of 4 bytes in unbacked space of the MMIO gap;
 *   - a random word into the scratch area that the virtqueue addresses
 *     written above point at (so the devices walk rings of garbage).
 * Only what would end the VM on its own or lose the guest's output is kept
 * out:
 *   - writes to isa-debug-exit (0xf4..0xf7), the i8042 reset command (0xfe
 *     at 0x64) and the control port's exit command (2 at 0xe80);
 *   - the UART's THR, its DLAB and loopback bits (the guest's own output
 *     must stay readable);
 *   - IOAPIC redirection entries other than fixed delivery of vectors
 *     0x20..0xff (NMI, SMI or INIT would take the CPU away; interrupts stay
 *     pending: no CPU enables them);
 *   - virtqueue addresses outside the scratch area (a device writing its
 *     used ring over the guest's code would end the test, not ember);
 *   - the LAPIC, which is KVM's, not ember's.
 * Accesses to the UART and the IOAPIC (whose select register is shared)
 * are made under a lock, as the output is.
 *
 * After K accesses on every CPU the BSP prints "spam: N cpus x K accesses,
 * still running" and all of them go on for ever: the test then stops ember
 * with SIGTERM and expects it to end at once with 143.  Prints what went
 * wrong and exits 1 if the APs do not come up. */
#include "lapic.h"

#define TRAMP_ADDR 0x10000u	/* SIPI vector 0x10 */
#define MAX_CPUS 64
#define MAX_DEVS 16
#define WAIT_TSC (1ull << 36)
#define SCRATCH 0x01000000u	/* 16 MiB: the rings' area (--mem 64M or more) */
#define SCRATCH_LEN 0x00100000u
#define GAP_HOLE 0xe0000000u	/* nothing is mapped there */

extern const char tramp_start[], tramp_end[];

static volatile uint32_t lock_word;
static volatile uint32_t cpus_up, cpus_done;
static uint32_t ndevs, rounds = 5000;
static uint32_t windows[MAX_DEVS];

static void lock(void)
{
	while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock_word, __ATOMIC_RELAXED))
			cpu_pause();
}

static void unlock(void)
{
	__atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
}

static uint32_t next(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static void pio(uint16_t port, uint32_t v, unsigned size, bool write)
{
	if (!write) {
		if (size == 1)
			(void)inb(port);
		else if (size == 2)
			(void)inw(port);
		else
			(void)inl(port);
	} else if (size == 1) {
		outb(port, (uint8_t)v);
	} else if (size == 2) {
		outw(port, (uint16_t)v);
	} else {
		outl(port, v);
	}
}

static void mmio(uintptr_t a, uint32_t v, unsigned size, bool write)
{
	if (!write) {
		if (size == 1)
			(void)*(volatile uint8_t *)a;
		else if (size == 2)
			(void)*(volatile uint16_t *)a;
		else
			(void)*(volatile uint32_t *)a;
	} else if (size == 1) {
		*(volatile uint8_t *)a = (uint8_t)v;
	} else if (size == 2) {
		*(volatile uint16_t *)a = (uint16_t)v;
	} else {
		*(volatile uint32_t *)a = v;
	}
}

/* The ports of ember's devices (and the PIT and PICs of --irqchip full):
 * half the port accesses go there, the rest anywhere in 0..0xffff. */
static const uint16_t dev_ports[][2] = {
	{ COM1, 8 }, { 0x60, 5 }, { CTL_PORT, 12 }, { DEBUG_EXIT_PORT, 4 },
	{ 0x40, 4 }, { 0x20, 2 }, { 0xa0, 2 },
};

static void spam_port(uint32_t *s)
{
	uint32_t r = next(s), v = next(s);
	uint16_t port = (uint16_t)r;
	unsigned size = 1u << ((r >> 16) % 3);
	bool write = r & (1u << 20);

	if (r & (1u << 19)) {
		const uint16_t *d = dev_ports[(r >> 24) % (sizeof(dev_ports) / sizeof(dev_ports[0]))];

		port = (uint16_t)(d[0] + (r >> 8) % d[1]);
	}
	if (write && port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + 4)
		return;
	if (write && port == 0x64 && (v & 0xff) == 0xfe)
		return;
	if (write && port == CTL_PORT && (v & 0xff) == CTL_EXIT)
		return;
	if (port >= COM1 - 3 && port < COM1 + 8) {	/* may reach the UART */
		if (write && port <= COM1)
			return;			/* THR (and DLL) */
		if (port == COM1 + 3)
			v &= ~0x80u;		/* DLAB */
		if (port == COM1 + 4)
			v &= ~0x10u;		/* loopback */
		if (size > 1 && write)
			return;			/* would span LCR/MCR unsanitised */
		lock();
		pio(port, v, size, write);
		unlock();
		return;
	}
	pio(port, v, size, write);
}

/* A driver's set-up of queue 0 of the window at w, by the book but with
 * random features, size and rings in the scratch area: the device then
 * walks garbage when kicked. */
static void virtio_setup(uintptr_t w, uint32_t *s)
{
	mmio_write32(w + 0x070, 0);		/* Status: reset */
	mmio_write32(w + 0x070, 3);		/* ACKNOWLEDGE | DRIVER */
	mmio_write32(w + 0x024, 0);		/* DriverFeaturesSel */
	mmio_write32(w + 0x020, next(s));
	mmio_write32(w + 0x024, 1);
	mmio_write32(w + 0x020, 1 | (next(s) & 0x6));	/* VERSION_1 and more */
	mmio_write32(w + 0x070, 11);		/* FEATURES_OK */
	mmio_write32(w + 0x030, 0);		/* QueueSel */
	mmio_write32(w + 0x038, 1u << (next(s) % 9));	/* QueueNum */
	mmio_write32(w + 0x080, SCRATCH + (next(s) % SCRATCH_LEN & ~15u));
	mmio_write32(w + 0x084, 0);
	mmio_write32(w + 0x090, SCRATCH + (next(s) % SCRATCH_LEN & ~1u));
	mmio_write32(w + 0x094, 0);
	mmio_write32(w + 0x0a0, SCRATCH + (next(s) % SCRATCH_LEN & ~3u));
	mmio_write32(w + 0x0a4, 0);
	mmio_write32(w + 0x044, 1);		/* QueueReady */
	mmio_write32(w + 0x070, 15);		/* DRIVER_OK */
	mmio_write32(w + 0x050, 0);		/* QueueNotify */
}

static void spam_virtio(uint32_t *s)
{
	uint32_t r = next(s), v = next(s), off;
	unsigned size = 1u << ((r >> 16) % 3);
	bool write = r & (1u << 20);

	if (!ndevs)
		return;
	if ((r & 0x3f) == 0) {
		virtio_setup(windows[(r >> 24) % ndevs], s);
		return;
	}
	off = (r >> 4) & 0x1ff;
	if (r & (1u << 21))
		off &= ~3u;		/* mostly the aligned register accesses */
	/* queue desc/driver/device addresses: low words into the scratch area,
	 * high words 0 or anything (outside RAM) */
	if (write && off >= 0x80 && off < 0xa8 && ((off - 0x80) & 0xc) < 8) {
		if (((off - 0x80) & 0x4) == 0)
			v = SCRATCH + (v % SCRATCH_LEN);
		else if (v & 1)
			v = 0;
		size = 4;
		off &= ~3u;
	}
	mmio(windows[(r >> 24) % ndevs] + off, v, size, write);
}

static void spam_ioapic(uint32_t *s)
{
	uint32_t r = next(s), v = next(s), reg = r & 0x3f;
	bool write = r & (1u << 20);

	if (write && reg >= 0x10 && !(reg & 1)) {	/* a redirection entry's low word */
		v &= ~0x700u;		/* fixed delivery */
		if ((v & 0xff) < 0x20)
			v |= 0x20;
	}
	lock();
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, (r & (1u << 22)) ? (r >> 8) & 0xff : reg);
	if (write)
		mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
	else
		(void)mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
	unlock();
}

static void spam_one(uint32_t *s)
{
	uint32_t r = next(s);

	switch (r % 8) {
	case 0: case 1: case 2:
		spam_port(s);
		break;
	case 3: case 4:
		spam_virtio(s);
		break;
	case 5:
		spam_ioapic(s);
		break;
	case 6:
		mmio(GAP_HOLE + (next(s) & 0xffffc), next(s), 4, r & 8);
		break;
	default:
		*(volatile uint32_t *)(uintptr_t)(SCRATCH + (next(s) % SCRATCH_LEN & ~3u)) = next(s);
	}
}

static void spam(uint32_t id)
{
	uint32_t s = 0x9e3779b9u * (id + 1);

	for (uint32_t i = 0; i < rounds; i++)
		spam_one(&s);
	__atomic_add_fetch(&cpus_done, 1, __ATOMIC_RELEASE);
	for (;;)
		spam_one(&s);
}

void ap_main(uint32_t id);
void ap_main(uint32_t id)
{
	__atomic_add_fetch(&cpus_up, 1, __ATOMIC_RELEASE);
	spam(id);
}

static void icr_send(uint32_t dest, uint32_t cmd)
{
	unsigned spins = 100000;

	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, cmd);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_BUSY) && --spins)
		cpu_pause();
}

/* Collects the base of each "virtio_mmio.device=4K@0xADDR:GSI" entry. */
static void find_windows(const char *c)
{
	static const char key[] = "virtio_mmio.device=4K@";

	for (; *c && ndevs < MAX_DEVS; c++) {
		uint32_t v = 0;
		unsigned i = 0;

		while (key[i] && c[i] == key[i])
			i++;
		if (key[i] || c[i] != '0' || c[i + 1] != 'x')
			continue;
		for (c += i + 2; (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'); c++)
			v = v * 16 + (uint32_t)(*c <= '9' ? *c - '0' : *c - 'a' + 10);
		windows[ndevs++] = v;
	}
}

static void wait_for(volatile uint32_t *count, uint32_t n, const char *what)
{
	uint64_t t0 = rdtsc();

	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < n) {
		if (rdtsc() - t0 > WAIT_TSC) {
			lock();
			rt_puts("spam: only ");
			rt_put_dec(*count);
			rt_puts(" of ");
			rt_put_dec(n);
			rt_puts(" cpus ");
			rt_println(what);
			unlock();
			rt_exit(1);
		}
		cpu_pause();
	}
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ?
		(const char *)(uintptr_t)si->cmdline_paddr : "";
	uint64_t n = 1, k;
	uint32_t bsp = lapic_id();

	if (rt_cmdline_num(cmdline, "spam", &k))
		rounds = (uint32_t)k;
	if (rt_cmdline_num(cmdline, "cpus", &n) && (n < 1 || n > MAX_CPUS)) {
		rt_println("spam: cpus must be 1..64");
		return 1;
	}
	find_windows(cmdline);
	lock_word = 0;		/* no trust in a zeroed .bss */
	cpus_up = 1;
	cpus_done = 0;
	memcpy((void *)(uintptr_t)TRAMP_ADDR, tramp_start, (size_t)(tramp_end - tramp_start));
	for (uint32_t id = 0; id < n; id++) {
		if (id == bsp)
			continue;
		icr_send(id, 0x00004500);	/* INIT, level assert */
		icr_send(id, 0x00004600 | (TRAMP_ADDR >> 12)); /* SIPI */
		icr_send(id, 0x00004600 | (TRAMP_ADDR >> 12));
	}
	wait_for(&cpus_up, (uint32_t)n, "came up");
	lock();
	rt_puts("spam: ");
	rt_put_dec((uint32_t)n);
	rt_puts(" cpus, ");
	rt_put_dec(ndevs);
	rt_println(" virtio windows");
	unlock();
	{
		uint32_t s = 0x9e3779b9u * (bsp + 1);

		for (uint32_t i = 0; i < rounds; i++)
			spam_one(&s);
		__atomic_add_fetch(&cpus_done, 1, __ATOMIC_RELEASE);
		wait_for(&cpus_done, (uint32_t)n, "finished their round");
		lock();
		rt_puts("spam: ");
		rt_put_dec((uint32_t)n);
		rt_puts(" cpus x ");
		rt_put_dec(rounds);
		rt_println(" accesses, still running");
		unlock();
		for (;;)
			spam_one(&s);
	}
}
