/* memmap.pvh - checks the command line and memory map of hvm_start_info
 * against what the command line says: "mem=<size>" gives the RAM size.
 * Expected map (ember's): RAM 0..0x9fc00, reserved 0x9fc00..1 MiB (or
 * nothing there), RAM 1 MiB..min(mem, 3 GiB), RAM 4 GiB.. for the rest.
 * Prints "cmdline: <text>", one "e820: <addr>-<end> <type>" line per entry
 * and "memmap: ok"; exits 0, or 1 after saying what is wrong. */
#include "rt.h"

#define LOW_END 0x9fc00ull
#define HIGH_START 0x100000ull
#define GAP_START 0xc0000000ull
#define GAP_END 0x100000000ull
#define MAX_ENTRIES 64

static int bad;

static void fail(const char *msg, uint64_t v)
{
	rt_puts("memmap: ");
	rt_puts(msg);
	rt_putc(' ');
	rt_put_hex(v);
	rt_putc('\n');
	bad = 1;
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	const struct hvm_memmap_entry *e;
	uint64_t mem, want[3][2];
	unsigned nwant = 0, nram = 0, i;

	bad = 0;
	if (si->magic != HVM_START_MAGIC) {
		fail("bad magic", si->magic);
		return 1;
	}
	if (!cmdline) {
		fail("no command line", 0);
		return 1;
	}
	rt_puts("cmdline: ");
	rt_println(cmdline);
	if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries) {
		fail("no memory map, version", si->version);
		return 1;
	}
	if (si->memmap_entries > MAX_ENTRIES) {
		fail("too many memory map entries:", si->memmap_entries);
		return 1;
	}
	e = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < si->memmap_entries; i++) {
		rt_puts("e820: ");
		rt_put_hex(e[i].addr);
		rt_putc('-');
		rt_put_hex(e[i].addr + e[i].size);
		rt_putc(' ');
		rt_put_dec(e[i].type);
		rt_putc('\n');
	}
	if (!rt_cmdline_num(cmdline, "mem", &mem)) {
		fail("no mem= on the command line", 0);
		return 1;
	}
	want[nwant][0] = 0, want[nwant++][1] = LOW_END;
	want[nwant][0] = HIGH_START;
	want[nwant++][1] = mem < GAP_START ? mem : GAP_START;
	if (mem > GAP_START)
		want[nwant][0] = GAP_END, want[nwant++][1] = GAP_END + mem - GAP_START;

	for (i = 0; i < si->memmap_entries; i++) {
		uint64_t a = e[i].addr, end = e[i].addr + e[i].size;

		if (i && a < e[i - 1].addr + e[i - 1].size)
			fail("entry overlaps or is out of order at", a);
		if (e[i].type == E820_RAM) {
			if (nram >= nwant || a != want[nram][0] ||
			    end != want[nram][1])
				fail("unexpected RAM entry at", a);
			nram++;
		} else if (e[i].type == E820_RESERVED) {
			if (a < LOW_END || end > HIGH_START)
				fail("unexpected reserved entry at", a);
		} else {
			fail("unexpected type at", a);
		}
	}
	if (nram != nwant)
		fail("RAM entries:", nram);
	if (bad)
		return 1;
	rt_println("memmap: ok");
	return 0;
}
