/* snapfuzz.pvh - the reset loop's test target.  Boots, prints "fuzz:
 * ready", asks for a snapshot (control-port command 3); from there every
 * run asks for its input (command 4), checks that what earlier runs wrote
 * is gone (a global counter is 0, the pages it writes are zero: else it
 * reports a crash with code 0xbad1/0xbad2) and does what the input says:
 *   "D" + u16 count   write `count` pages (at most 512), then done
 *   "C" + u8 code     report a crash with that code
 *   "U"               execute ud2 (no IDT: a triple fault)
 *   "L"               loop forever (the timeout)
 *   "E" + u8 status   exit with that status
 *   "P" + u32 count   `count` port writes to port 0x80 (nothing there):
 *                     one PIO exit each, to time the round trip
 *   "Q" + u32 count   the same loop without the port write
 *   "M" + 4 bytes     a bug behind a magic word: each matching byte of
 *                     "FUZZ" sets a byte of the coverage map `cov` (for a
 *                     fuzzer's feedback); all four: crash code 0xf022
 *   anything else     done
 * then reports done (command 5).  Outside a fuzz session (no reset) it
 * exits 0 after the first run. */
#include "snap.h"

#define MAX_PAGES 512

static uint8_t input[4096] __attribute__((aligned(4096)));
static uint8_t pages[MAX_PAGES][4096] __attribute__((aligned(4096)));
static volatile uint32_t runs;
uint8_t cov[64] __attribute__((aligned(64)));	/* the coverage map */

static uint32_t le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	uint32_t len, n;

	(void)si;
	rt_println("fuzz: ready");
	snap_here();
	/* ---- each run starts here ---- */
	len = snap_next_input(input, sizeof(input));
	if (runs != 0)
		snap_crash(0xbad1);
	runs++;
	if (len >= 1) {
		switch (input[0]) {
		case 'D':
			n = len >= 3 ? le(input + 1, 2) : 1;
			if (n > MAX_PAGES)
				n = MAX_PAGES;
			for (uint32_t p = 0; p < n; p++) {
				if (pages[p][0] || pages[p][2048])
					snap_crash(0xbad2);
				pages[p][0] = 1;
				pages[p][2048] = (uint8_t)len;
			}
			break;
		case 'C':
			snap_crash(len >= 2 ? input[1] : 0);
			break;
		case 'U':
			__asm__ volatile("ud2");
			break;
		case 'L':
			for (;;)
				cpu_pause();
		case 'E':
			rt_exit(len >= 2 ? input[1] : 0);
		case 'P':
			n = len >= 5 ? le(input + 1, 4) : 1;
			for (uint32_t i = 0; i < n; i++)
				outb(0x80, 0);
			break;
		case 'M':
			for (n = 0; n < 4 && 1 + n < len && input[1 + n] == "FUZZ"[n]; n++)
				cov[n] = 1;
			if (n == 4)
				snap_crash(0xf022);
			break;
		case 'Q':
			n = len >= 5 ? le(input + 1, 4) : 1;
			for (uint32_t i = 0; i < n; i++)
				__asm__ volatile("" ::: "memory");
			break;
		default:
			break;
		}
	}
	snap_done();
	return 0;
}
