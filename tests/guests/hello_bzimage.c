/* hello.bzimage (protected-mode part) - entered in long mode at load
 * address + 0x200 with RSI = boot_params.  Checks that the loader copied
 * the setup header ("HdrS") into the zero page and the e820 table, prints
 * "bzImage: hello" and the command line, exits 0 through the control port. */
#include "bootparams.h"

int main64(const uint8_t *bp);
int main64(const uint8_t *bp)
{
	const char *cmdline;
	uint32_t magic;

	memcpy(&magic, bp + BP_HEADER_MAGIC, 4);
	if (magic != HDRS_MAGIC) {
		rt_puts("bzImage: no setup header in boot_params: ");
		rt_put_hex(magic);
		rt_putc('\n');
		return 1;
	}
	cmdline = bp_check(bp, "bzImage");
	if (!cmdline)
		return 1;
	rt_println("bzImage: hello");
	rt_puts("bzImage: cmdline: ");
	rt_println(cmdline);
	return 0;
}
