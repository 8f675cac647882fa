/* triple.pvh - loads an empty IDT (limit 0) and executes ud2: #UD cannot be
 * delivered, nor the #GP/#DF that follow: a triple fault (ember: 71). */
#include "rt.h"

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	static const struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	(void)si;
	rt_println("triple: faulting");
	__asm__ volatile("lidt %0; ud2" : : "m"(empty_idt));
	rt_println("triple: still alive");
	return 1;
}
