/* snapsmp.pvh - every CPU counts: "cpu C count I" for I = 1..n, printed
 * under a spinlock; the BSP asks for a snapshot (control-port command 3)
 * after its line `snap`.  When every CPU is done the BSP prints "all N
 * cpus done" and exits 0.
 *
 * Command line: cpus=N (APIC IDs 0..N-1, as ember assigns them), n=I
 * (default 20), snap=K (default 0: none), spin=S (busy iterations between
 * lines, default 2000). */
#include "lapic.h"
#include "snap.h"

#define TRAMP_ADDR 0x10000u	/* SIPI vector 0x10 */
#define MAX_CPUS 64

extern const char tramp_start[], tramp_end[];

static volatile uint32_t print_lock;
static volatile uint32_t cpus_done;
static uint64_t n_lines = 20, spin = 2000, snap_at;

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

static void count(uint32_t id)
{
	for (uint32_t i = 1; i <= n_lines; i++) {
		lock();
		rt_puts("cpu ");
		rt_put_dec(id);
		rt_puts(" count ");
		rt_put_dec(i);
		rt_putc('\n');
		unlock();
		if (id == 0 && i == snap_at)
			snap_here();
		for (volatile uint64_t s = 0; s < spin; s++)
			;
	}
	__atomic_add_fetch(&cpus_done, 1, __ATOMIC_RELEASE);
}

void ap_main(uint32_t id);
void ap_main(uint32_t id)
{
	count(id);
	rt_halt();
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
	uint64_t ncpus = 1;

	rt_cmdline_num(cmdline, "cpus", &ncpus);
	rt_cmdline_num(cmdline, "n", &n_lines);
	rt_cmdline_num(cmdline, "snap", &snap_at);
	rt_cmdline_num(cmdline, "spin", &spin);
	if (ncpus < 1 || ncpus > MAX_CPUS) {
		rt_println("snapsmp: cpus=N must be 1..64");
		return 1;
	}
	memcpy((void *)(uintptr_t)TRAMP_ADDR, tramp_start, (size_t)(tramp_end - tramp_start));
	for (uint32_t i = 1; i < ncpus; i++) {
		icr_send(i, 0x00004500);	/* INIT */
		icr_send(i, 0x00004600 | (TRAMP_ADDR >> 12));	/* SIPI */
		icr_send(i, 0x00004600 | (TRAMP_ADDR >> 12));
	}
	count(0);
	while (__atomic_load_n(&cpus_done, __ATOMIC_ACQUIRE) < ncpus)
		cpu_pause();
	lock();
	rt_puts("all ");
	rt_put_dec((uint32_t)ncpus);
	rt_println(" cpus done");
	unlock();
	return 0;
}
