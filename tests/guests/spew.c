/* spew.pvh - prints 64-byte lines ("spew 0000000001 xxx...x\n") as fast as
 * it can: n=N of them and exits 0, or (no n=) until ember stops it.  The
 * console tests run it with stdout a pipe nobody reads. */
#include "rt.h"

#define LINE 64

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ?
		(const char *)(uintptr_t)si->cmdline_paddr : "";
	char line[LINE + 1];
	uint64_t n = 0;

	rt_cmdline_num(cmdline, "n", &n);
	memset(line, 'x', LINE - 1);
	memcpy(line, "spew ", 5);
	line[15] = ' ';
	line[LINE - 1] = '\n';
	line[LINE] = 0;
	for (uint32_t i = 1; !n || i <= n; i++) {
		uint32_t v = i;

		for (int d = 14; d >= 5; d--, v /= 10)
			line[d] = (char)('0' + v % 10);
		rt_puts(line);
	}
	return 0;
}
