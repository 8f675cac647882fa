/* tests/guests/lib/bootparams.c - checks of the Linux zero page shared by
 * the ELF64 and bzImage guests. */
#include "bootparams.h"

/* True if the e820 table has a RAM entry holding [a, a + len). */
static bool e820_has_ram(const uint8_t *bp, uint64_t a, uint64_t len)
{
	const struct boot_e820_entry *e =
		(const struct boot_e820_entry *)(bp + BP_E820_TABLE);
	unsigned n = bp[BP_E820_ENTRIES], i;

	for (i = 0; i < n && i < 128; i++)
		if (e[i].type == E820_RAM && e[i].addr <= a &&
		    a + len <= e[i].addr + e[i].size)
			return true;
	return false;
}

const char *bp_check(const uint8_t *bp, const char *tag)
{
	uint32_t lo, hi;
	uint64_t p;

	if (!bp[BP_E820_ENTRIES]) {
		rt_puts(tag);
		rt_println(": no e820 entries in boot_params");
		return NULL;
	}
	if (!e820_has_ram(bp, 0x100000, 0x100000)) {
		rt_puts(tag);
		rt_println(": e820 has no RAM at 1 MiB");
		return NULL;
	}
	memcpy(&lo, bp + BP_CMD_LINE_PTR, 4);
	memcpy(&hi, bp + BP_EXT_CMD_LINE_PTR, 4);
	p = ((uint64_t)hi << 32) | lo;
	if (!p)
		return "";
	return (const char *)(uintptr_t)p;
}
