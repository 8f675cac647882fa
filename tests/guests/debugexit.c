/* debugexit.pvh - exits through isa-debug-exit (port 0xf4) with an OUT of
 * the width on its command line, as test kernels written for QEMU's
 * isa-debug-exit,iosize=4 do.
 *
 *   width=1|2|4 (default 1)  value=V (default 0x15)
 *
 * Prints "debugexit: out<b|w|l>", then writes V; ember must exit with
 * ((V << 1) | 1) & 0xff.  If the write is ignored the guest prints
 * "debugexit: ignored" and exits through the control port with 99. */
#include "rt.h"

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : "";
	uint64_t width = 1, value = 0x15;

	rt_cmdline_num(cmdline, "width", &width);
	rt_cmdline_num(cmdline, "value", &value);
	switch (width) {
	case 2:
		rt_println("debugexit: outw");
		outw(0xf4, (uint16_t)value);
		break;
	case 4:
		rt_println("debugexit: outl");
		outl(0xf4, (uint32_t)value);
		break;
	default:
		rt_println("debugexit: outb");
		outb(0xf4, (uint8_t)value);
		break;
	}
	rt_println("debugexit: ignored");
	rt_exit(99);
}
