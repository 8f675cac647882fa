/* snapcount.pvh - prints "count 1" .. "count N" and exits 0.
 *
 * Command line (all optional):
 *   n=N       how many lines (default 40)
 *   snap=K    after line K, ask for a snapshot (control-port command 3)
 *   spin=S    busy-loop S iterations between lines (default 0)
 *   pace=C    wait until the TSC has advanced C cycles between lines
 *             (wall-clock pacing: the same on hardware KVM and emulated)
 *   touch=P   before line 1, write one word into each of P pages from
 *             16 MiB (so the snapshot's memory file holds them)
 *   dirty=P   after each snapshot point, check that the pages written at
 *             the one before (if any) still hold what was written, then
 *             write one word into each of P pages from 128 MiB (what a
 *             restored or forked VM writes)
 *   snap2=K2  a second snapshot point (diff snapshots)
 *   halt=1    after "done", print "halted" and halt with interrupts off
 *             (the vCPU then touches no memory until ember stops it)
 *   snapall=1 ask for a snapshot after every line, and print what ember
 *             answered in the data register: "snapshot status S" (0
 *             written, 1 refused by --snapshot-max, 2 failed)
 *   gate=1    after the first snapshot point, wait until QEMU's fw_cfg
 *             boot-menu item reads non-zero: a QEMU started without
 *             `-boot menu=on` holds the guest there to be saved with
 *             `migrate`, one started with it and `-incoming` lets the
 *             restored guest go on (tests/perf/bench_restore.sh; fw_cfg
 *             items come from the command line, not the migration stream)
 * Everything the guest needs to go on (the counter, the stack) is in
 * guest RAM and registers: a restore continues with line K+1. */
#include "snap.h"

#define TOUCH_BASE 0x1000000u
#define DIRTY_BASE 0x8000000u
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_BOOT_MENU 0x0e

/* QEMU's fw_cfg boot-menu flag (-boot menu=on) */
static bool boot_menu(void)
{
	outw(FW_CFG_SEL, FW_CFG_BOOT_MENU);
	return inb(FW_CFG_DATA) != 0;
}

static void fill(uint32_t base, uint64_t pages, uint32_t v)
{
	for (uint32_t p = 0; p < pages; p++)
		*(volatile uint32_t *)(uintptr_t)(base + p * 4096u) = v + p;
}

static bool check(uint32_t base, uint64_t pages, uint32_t v)
{
	for (uint32_t p = 0; p < pages; p++)
		if (*(volatile uint32_t *)(uintptr_t)(base + p * 4096u) != v + p)
			return false;
	return true;
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ?
		(const char *)(uintptr_t)si->cmdline_paddr : "";
	uint64_t n = 40, snap = 0, spin = 0, touch = 0, dirty = 0, snap2 = 0, pace = 0;
	uint64_t snapall = 0, halt = 0, gate = 0;
	uint32_t filled = 0;

	rt_cmdline_num(cmdline, "n", &n);
	rt_cmdline_num(cmdline, "snap", &snap);
	rt_cmdline_num(cmdline, "spin", &spin);
	rt_cmdline_num(cmdline, "pace", &pace);
	rt_cmdline_num(cmdline, "touch", &touch);
	rt_cmdline_num(cmdline, "dirty", &dirty);
	rt_cmdline_num(cmdline, "snap2", &snap2);
	rt_cmdline_num(cmdline, "snapall", &snapall);
	rt_cmdline_num(cmdline, "halt", &halt);
	rt_cmdline_num(cmdline, "gate", &gate);
	fill(TOUCH_BASE, touch, 0x5a5a0000u);
	for (uint32_t i = 1; i <= n; i++) {
		rt_puts("count ");
		rt_put_dec(i);
		rt_putc('\n');
		for (volatile uint64_t s = 0; s < spin; s++)
			;
		for (uint64_t t0 = rdtsc(); pace && rdtsc() - t0 < pace;)
			;
		if (snapall) {
			outl(CTL_DATA_LO, 0xffffffffu);	/* not an answer */
			snap_here();
			rt_puts("snapshot status ");
			rt_put_dec(inl(CTL_DATA_LO));
			rt_putc('\n');
		}
		if (i == snap || i == snap2) {
			snap_here();
			while (gate && i == snap && !boot_menu())
				cpu_pause();
			if (filled && !check(DIRTY_BASE, dirty, filled)) {
				rt_println("written memory lost");
				return 1;
			}
			fill(DIRTY_BASE, dirty, i);
			filled = i;
		}
	}
	/* what was touched and written must still be there */
	if (!check(TOUCH_BASE, touch, 0x5a5a0000u) ||
	    (filled && !check(DIRTY_BASE, dirty, filled))) {
		rt_println("touched memory lost");
		return 1;
	}
	rt_println("done");
	if (halt) {
		rt_println("halted");
		rt_halt();
	}
	return 0;
}
