/* snapblk.pvh - a snapshot in the middle of virtio-blk I/O.  On the first
 * virtio device (a drive of 16..256 sectors, a multiple of 16):
 *   1. writes pattern 'A' over the disk, FLUSH ("blk: A flushed");
 *   2. writes pattern 'B' with 8 requests in flight and, before waiting
 *      for any of them, asks for a snapshot (control-port command 3);
 *   3. waits for the 8 completions, FLUSH, reads the disk back: it must
 *      hold 'B' ("blk: B read back", exit 0).
 * A VM restored from the snapshot does 3 itself: the requests in flight
 * at the snapshot must complete (done before it, or replayed), never be
 * lost.  Sector s holds "<letter> sector <s>" and then the letter. */
#include "../virtio/vio.h"
#include "snap.h"

#define SECTOR 512u
#define MAX_SECTORS 256u
#define QSIZE 64
#define NREQ 8

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t wbuf[MAX_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t rbuf[MAX_SECTORS * SECTOR] __attribute__((aligned(4096)));
static struct vblk_hdr hdrs[NREQ];
static volatile uint8_t status[NREQ];
static struct vio_dev dev;
static struct vio_vq vq;
static uint32_t nsect;

static noreturn void die(const char *what)
{
	rt_puts("blk: ");
	rt_println(what);
	rt_exit(1);
}

static void pattern(uint8_t letter)
{
	for (uint32_t s = 0; s < nsect; s++) {
		uint8_t *t = wbuf + s * SECTOR;
		uint32_t v = s;

		vio_zero(t, SECTOR);
		for (unsigned i = 0; i < SECTOR; i++)
			t[i] = letter;
		t[1] = ' ';
		for (int k = 4; k >= 0; k--, v /= 10)
			t[2 + k] = (uint8_t)('0' + v % 10);
	}
}

static void add(unsigned r, uint32_t type, uint64_t sector, void *buf, uint32_t len,
		bool dev_writes)
{
	struct vio_seg segs[3];
	unsigned n = 0;

	hdrs[r] = (struct vblk_hdr){ .type = type, .sector = sector };
	status[r] = 0xff;
	segs[n++] = (struct vio_seg){ &hdrs[r], sizeof(hdrs[r]), false };
	if (len)
		segs[n++] = (struct vio_seg){ buf, len, dev_writes };
	segs[n++] = (struct vio_seg){ (const void *)&status[r], 1, true };
	vq_add(&vq, vq_chain(&vq, (uint16_t)(r * 4), segs, n));
}

static void wait_all(unsigned n, const char *what)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t id, len;

		if (!vq_wait_used(&vq, &id, &len))
			die(what);
	}
	for (unsigned r = 0; r < n; r++)
		if (status[r] != VBLK_S_OK)
			die(what);
}

static void one(uint32_t type, uint64_t sector, void *buf, uint32_t len, bool dev_writes,
		const char *what)
{
	add(0, type, sector, buf, len, dev_writes);
	vq_publish(&vq);
	vq_kick(&vq);
	wait_all(1, what);
}

/* Starts NREQ writes of the pattern (published and kicked, not waited). */
static void start_writes(void)
{
	uint32_t per = nsect / NREQ * SECTOR;

	for (unsigned r = 0; r < NREQ; r++)
		add(r, VBLK_T_OUT, r * (per / SECTOR), wbuf + r * per, per, false);
	vq_publish(&vq);
	vq_kick(&vq);
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uint64_t cap;

	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_BLOCK, VIO_BIT(VBLK_F_FLUSH) | VIO_BIT(VIO_F_EVENT_IDX), "blk") < 0)
		return 1;
	cap = vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY);
	if (cap < 16 || cap > MAX_SECTORS || cap % 16)
		die("capacity must be 16..256 sectors, a multiple of 16");
	nsect = (uint32_t)cap;
	if (vio_vq_setup(&dev, &vq, 0, QSIZE, ring, "blk") < 0)
		return 1;
	vio_driver_ok(&dev);
	vq_no_interrupts(&vq);

	pattern('A');
	start_writes();
	wait_all(NREQ, "writing A failed");
	one(VBLK_T_FLUSH, 0, NULL, 0, false, "flush failed");
	rt_println("blk: A flushed");

	pattern('B');
	start_writes();
	snap_here();		/* 8 writes in flight */
	wait_all(NREQ, "writing B failed");
	one(VBLK_T_FLUSH, 0, NULL, 0, false, "flush failed");
	for (uint32_t s = 0; s < nsect; s += 16)
		one(VBLK_T_IN, s, rbuf + s * SECTOR, 16 * SECTOR, true, "read failed");
	if (!vio_equal(rbuf, wbuf, nsect * SECTOR))
		die("read back differs from B");
	rt_println("blk: B read back");
	return 0;
}
