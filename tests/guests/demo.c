/* demo.pvh - what `make run` boots: one line, the boot-complete marker,
 * exit status 0 through the control port. */
#include "rt.h"

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	(void)si;
	rt_println("ember demo guest: hello from PVH");
	rt_marker(0);
	return 0;
}
