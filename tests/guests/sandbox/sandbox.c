/* sandbox.pvh - the guest of the sandbox tests.  Prints "sandbox: ready",
 * then:
 *   with "selftest=N" on its command line: issues control-port command
 *   0x7f (sandbox self-test, test builds of ember only) with argument N
 *   at once and halts: the forbidden syscall should kill ember (should it
 *   not, ember's self-test stops the VM with status 101 itself);
 *
 *   otherwise: obeys command bytes read from COM1 (polled, no interrupts):
 *   'q' exits with status 0 through the control port; '0'..'9' issues
 *   the self-test command with that argument (and, if ember survives,
 *   prints "sandbox: survived N" and goes on); other bytes are ignored.
 * The tests wait for the ready line, look at ember from outside, then
 * send a byte. */
#include "rt.h"

#define COM1_LSR (COM1 + 5)
#define LSR_DR 0x01
#define CTL_SELFTEST 0x7f

static char getc_polled(void)
{
	while (!(inb(COM1_LSR) & LSR_DR))
		cpu_pause();
	return (char)inb(COM1);
}

static void selftest(uint32_t n)
{
	outl(CTL_PORT, (n << 8) | CTL_SELFTEST);
	rt_puts("sandbox: survived ");
	rt_put_dec(n);
	rt_putc('\n');
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = si->cmdline_paddr ? (const char *)(uintptr_t)si->cmdline_paddr : "";
	uint64_t n;

	rt_println("sandbox: ready");
	if (rt_cmdline_num(cmdline, "selftest", &n)) {
		outl(CTL_PORT, ((uint32_t)n << 8) | CTL_SELFTEST);
		rt_halt();
	}
	for (;;) {
		char c = getc_polled();

		if (c == 'q')
			return 0;
		if (c >= '0' && c <= '9')
			selftest((uint32_t)(c - '0'));
	}
}
