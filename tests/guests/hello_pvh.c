/* hello.pvh - PVH boot: checks the hvm_start_info magic, prints
 * "PVH: hello" and exits through isa-debug-exit with 0x10 (status 33). */
#include "rt.h"

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	if (si->magic != HVM_START_MAGIC) {
		rt_puts("PVH: bad hvm_start_info magic ");
		rt_put_hex(si->magic);
		rt_putc('\n');
		return 1;
	}
	rt_println("PVH: hello");
	rt_exit_debug(0x10);
}
