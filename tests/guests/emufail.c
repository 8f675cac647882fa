/* emufail.pvh - jumps into the MMIO gap, where there is neither RAM nor a
 * device: KVM cannot fetch the instruction and reports an emulation
 * failure (ember: 72) on any host. */
#include "rt.h"

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	(void)si;
	rt_println("emufail: jumping to 0xe0000000");
	__asm__ volatile("jmp *%0" : : "r"(0xe0000000u));
	return 1;
}
