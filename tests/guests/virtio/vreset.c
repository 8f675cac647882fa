/* vreset.pvh - a device reset with reads in flight must not let them land
 * after it (virtio 1.x 2.1: after a reset the driver owns its buffers
 * again).  Needs a slow drive of at least 8 MiB (the test puts a
 * device-mapper delay target under it, reads delayed by 500 ms).
 *
 * Fills NREQ 4 KiB buffers with 0x5a, makes NREQ reads of sectors 1 MiB
 * apart (distinct read-ahead windows) available at once and kicks; spins
 * 2^27 TSC ticks (tens of ms) so that ember's loop submits them (nothing
 * tells a driver that), then writes Status 0 and reads Status until it is
 * 0.  It copies the buffers, spins 3 * 2^30 ticks (about a second at the
 * host's TSC rate, twice the drive's delay), and compares: a read that
 * landed after the reset changed a buffer.  Prints how many buffers held
 * data at the reset's end (reads finished before, which is allowed), how
 * long the reset took (in 2^20 TSC ticks), then the verdict:
 * "vreset: PASS: no buffer changed after the reset" (exit 0) or
 * "vreset: FAIL: N of 8 buffers changed after the reset" (exit 1). */
#include "vio.h"

#define QSIZE 64
#define NREQ 8
#define BUF 4096u
#define APART 2048u		/* sectors between two reads: 1 MiB */
#define SETTLE (1ULL << 27)
#define WATCH (3ULL << 30)

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t buf[NREQ][BUF] __attribute__((aligned(4096)));
static uint8_t seen[NREQ][BUF] __attribute__((aligned(4096)));
static struct vblk_hdr hdrs[NREQ];
static volatile uint8_t status[NREQ];

static struct vio_dev dev;
static struct vio_vq vq;

static noreturn void die(const char *what)
{
	rt_puts("vreset: ");
	rt_println(what);
	rt_exit(1);
}

static void spin(uint64_t ticks)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < ticks)
		cpu_pause();
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	unsigned landed = 0, changed = 0;
	uint64_t cap, t0, t1;

	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_BLOCK, VIO_BIT(VIO_F_EVENT_IDX), "vreset") < 0)
		return 1;
	cap = vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY) |
	      (uint64_t)vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY + 4) << 32;
	if (cap < (uint64_t)NREQ * APART)
		die("the drive must hold at least 8 MiB");
	if (vio_vq_setup(&dev, &vq, 0, QSIZE, ring, "vreset") < 0)
		return 1;
	vio_driver_ok(&dev);
	vq_no_interrupts(&vq);
	for (unsigned r = 0; r < NREQ; r++) {
		struct vio_seg segs[3] = {
			{ &hdrs[r], sizeof(hdrs[r]), false },
			{ buf[r], BUF, true },
			{ (const void *)&status[r], 1, true },
		};

		for (unsigned i = 0; i < BUF; i++)
			buf[r][i] = 0x5a;
		hdrs[r] = (struct vblk_hdr){ .type = VBLK_T_IN, .sector = (uint64_t)r * APART };
		status[r] = VBLK_S_NONE;
		vq_add(&vq, vq_chain(&vq, (uint16_t)(r * 3), segs, 3));
	}
	vq_publish(&vq);
	vq_notify(&vq);
	spin(SETTLE);
	t0 = rdtsc();
	vio_write(&dev, VIO_STATUS, 0);
	while (vio_read(&dev, VIO_STATUS) != 0) {
		if (rdtsc() - t0 > (1ULL << 36))
			die("Status never read 0 after the reset");
		cpu_pause();
	}
	t1 = rdtsc();
	vio_copy(seen, buf, sizeof(buf));
	for (unsigned r = 0; r < NREQ; r++)
		landed += !vio_all(seen[r], 0x5a, BUF);
	rt_puts("vreset: ");
	rt_put_dec(landed);
	rt_puts(" of 8 reads had landed when Status read 0, after ");
	rt_put_dec((uint32_t)((t1 - t0) >> 20));
	rt_println(" Mticks");
	spin(WATCH);
	for (unsigned r = 0; r < NREQ; r++)
		changed += !vio_equal(seen[r], buf[r], BUF);
	if (changed) {
		rt_puts("vreset: FAIL: ");
		rt_put_dec(changed);
		rt_println(" of 8 buffers changed after the reset");
		return 1;
	}
	rt_println("vreset: PASS: no buffer changed after the reset");
	return 0;
}
