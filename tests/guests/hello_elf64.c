/* hello.elf64 - ELF64 without a PVH note: entered in long mode at e_entry
 * with RSI = boot_params.  Checks the e820 table, prints "ELF64: hello" and
 * the command line, exits 0 through the control port. */
#include "bootparams.h"

int main64(const uint8_t *bp);
int main64(const uint8_t *bp)
{
	const char *cmdline = bp_check(bp, "ELF64");

	if (!cmdline)
		return 1;
	rt_println("ELF64: hello");
	rt_puts("ELF64: cmdline: ");
	rt_println(cmdline);
	return 0;
}
