/* snapfuzzblk.pvh - virtio-blk under the fuzzing reset loop and in diff
 * snapshots.  The first virtio device is a drive of at least 16 sectors;
 * the guest polls (no interrupts).
 *
 * Fuzz mode (the default): boots, reads sectors 6..9 (2 KiB, across a
 * 4 KiB boundary of the image) as they were at the snapshot, prints
 * "fuzzblk: ready" and asks for a snapshot.  Each run then asks for its
 * input (at most 1 KiB) and
 *   1. reads sectors 6..9 again: they must hold what they held at the
 *      snapshot, else a previous run's write leaked (crash 0xb1);
 *   2. input "Z...": WRITE_ZEROES sectors 7..8; anything else: writes the
 *      input (zero-padded to 1 KiB) over sectors 7..8; then FLUSH;
 *   3. reads 6..9 back: 7..8 must hold what was written and 6, 9 what
 *      they held (crash 0xb2); an I/O error is crash 0xb3;
 * then reports done.
 *
 * diff=1: asks for a snapshot (the full one), then reads sectors 6..9
 * into a page of its own that only the device writes, asks for a second
 * snapshot (the diff) and prints "fuzzblk: read '<sector 6's first
 * line>'".  A VM restored from the diff prints the same line: the page
 * the device wrote is in the diff, although KVM's dirty log never saw it
 * written. */
#include "../virtio/vio.h"
#include "snap.h"

#define SECTOR 512u
#define QSIZE 16
#define SPAN (4 * SECTOR)	/* sectors 6..9 */

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t input[4096] __attribute__((aligned(4096)));
static uint8_t base[SPAN] __attribute__((aligned(4096)));
static uint8_t rbuf[4096] __attribute__((aligned(4096)));	/* only the device writes it */
static uint8_t wbuf[2 * SECTOR] __attribute__((aligned(4096)));
static struct vblk_range range;
static struct vblk_hdr hdr;
static volatile uint8_t status;
static struct vio_dev dev;
static struct vio_vq vq;

static noreturn void die(const char *what)
{
	rt_puts("fuzzblk: ");
	rt_println(what);
	rt_exit(1);
}

/* One request, waited for.  False on an I/O error. */
static bool one(uint32_t type, uint64_t sector, const void *buf, uint32_t len, bool dev_writes)
{
	struct vio_seg segs[3];
	unsigned n = 0;
	uint32_t id, used;

	hdr = (struct vblk_hdr){ .type = type, .sector = sector };
	status = VBLK_S_NONE;
	segs[n++] = (struct vio_seg){ &hdr, sizeof(hdr), false };
	if (len)
		segs[n++] = (struct vio_seg){ buf, len, dev_writes };
	segs[n++] = (struct vio_seg){ (const void *)&status, 1, true };
	vq_add(&vq, vq_chain(&vq, 0, segs, n));
	vq_publish(&vq);
	vq_kick(&vq);
	if (!vq_wait_used(&vq, &id, &used))
		die("no completion");
	return status == VBLK_S_OK;
}

static void run(void)
{
	uint32_t len = snap_next_input(input, 2 * SECTOR);
	bool ok;

	if (!one(VBLK_T_IN, 6, rbuf, SPAN, true))
		snap_crash(0xb3);
	if (!vio_equal(rbuf, base, SPAN))
		snap_crash(0xb1);	/* an earlier run's write is still there */
	vio_zero(wbuf, sizeof(wbuf));
	if (len >= 1 && input[0] == 'Z') {
		range = (struct vblk_range){ .sector = 7, .num_sectors = 2 };
		ok = one(VBLK_T_WRITE_ZEROES, 0, &range, sizeof(range), false);
	} else {
		vio_copy(wbuf, input, len);
		ok = one(VBLK_T_OUT, 7, wbuf, sizeof(wbuf), false);
	}
	if (!ok || !one(VBLK_T_FLUSH, 0, NULL, 0, false) || !one(VBLK_T_IN, 6, rbuf, SPAN, true))
		snap_crash(0xb3);
	if (!vio_equal(rbuf, base, SECTOR) || !vio_equal(rbuf + SECTOR, wbuf, 2 * SECTOR) ||
	    !vio_equal(rbuf + 3 * SECTOR, base + 3 * SECTOR, SECTOR))
		snap_crash(0xb2);	/* the drive does not read what was written */
	snap_done();
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uint64_t diff = 0;
	char line[48];
	unsigned n;

	rt_cmdline_num(cmdline, "diff", &diff);
	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_BLOCK, VIO_BIT(VBLK_F_FLUSH) | VIO_BIT(VBLK_F_WRITE_ZEROES) |
		     VIO_BIT(VIO_F_EVENT_IDX), "fuzzblk") < 0)
		return 1;
	if (vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY) < 16)
		die("the drive needs 16 sectors");
	if (vio_vq_setup(&dev, &vq, 0, QSIZE, ring, "fuzzblk") < 0)
		return 1;
	vio_driver_ok(&dev);
	vq_no_interrupts(&vq);

	if (diff) {
		snap_here();	/* the full snapshot */
		if (!one(VBLK_T_IN, 6, rbuf, SPAN, true))
			die("read failed");
		snap_here();	/* the diff: rbuf only the device wrote */
		for (n = 0; n < sizeof(line) - 1 && rbuf[n] >= ' ' && rbuf[n] < 0x7f; n++)
			line[n] = (char)rbuf[n];
		line[n] = 0;
		rt_puts("fuzzblk: read '");
		rt_puts(line);
		rt_println("'");
		return 0;
	}
	if (!one(VBLK_T_IN, 6, base, SPAN, true))
		die("read failed");
	rt_println("fuzzblk: ready");
	snap_here();
	/* ---- each run starts here ---- */
	run();
	return 0;
}
