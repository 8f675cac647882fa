/* vblk.pvh - virtio-blk end to end, on the first virtio device (a drive
 * of 16..256 sectors).  The command line picks the mode:
 *
 *   vblk=rw     (default) GET_ID; writes the pattern over the whole disk
 *               (8 requests in flight, two data segments each, one kick),
 *               FLUSH, reads it all back through an INDIRECT table and
 *               compares; checks that a read past the end gives IOERR and
 *               an unknown type UNSUPP; WRITE_ZEROES sectors [n/8, n/4),
 *               WRITE_ZEROES with UNMAP [3n/8, n/2), DISCARD [5n/8, 3n/4)
 *               (three requests in flight), FLUSH, reads back and checks
 *               the zeroed ranges and the untouched ones (the discarded
 *               range is not checked: its content is unspecified).
 *   vblk=crash  writes the pattern, FLUSH, prints "vblk: flushed" and
 *               stops (the test then kills ember with SIGKILL).
 *   vblk=ro     the drive must offer RO; reads the whole disk (which must
 *               hold the pattern), then OUT, WRITE_ZEROES and DISCARD must
 *               each fail with IOERR, and FLUSH succeed.
 *   vblk=load   writes the pattern, FLUSH, reads it back and compares, then
 *               exits with status 1 + tag % 100 (many of these run at once
 *               in tests/integration/t_load.sh).
 *
 * tag=T (0..99999) on the command line puts T as five digits in bytes 17..21
 * of every sector, in place of the letters "abcde", so that VMs running at
 * once write different bytes.
 *
 * The pattern: sector s is "vblk sector %05u", then the letters a..z
 * repeated from offset 17 to 510, then '\n' (tests/integration/
 * t_virtio.sh builds the same bytes on the host).  Polls the used ring
 * (no interrupts) with EVENT_IDX negotiated.  Exits 0 when all is well,
 * else prints what differed and exits 1. */
#include "vio.h"

#define SECTOR 512u
#define MAX_SECTORS 256u
#define QSIZE 64
#define NREQ 8

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t wbuf[MAX_SECTORS * SECTOR] __attribute__((aligned(4096)));
static uint8_t rbuf[MAX_SECTORS * SECTOR] __attribute__((aligned(4096)));
static struct vq_desc itable[MAX_SECTORS * SECTOR / 4096 + 2] __attribute__((aligned(16)));
static struct vblk_hdr hdrs[NREQ];
static struct vblk_range ranges[NREQ];
static volatile uint8_t status[NREQ];
static char idbuf[24];

static struct vio_dev dev;
static struct vio_vq vq;
static uint32_t nsect;
static uint64_t tag = ~0ull;	/* tag=T, or none */

static noreturn void die(const char *what)
{
	rt_puts("vblk: ");
	rt_println(what);
	rt_exit(1);
}

static void put_u(const char *before, uint32_t v, const char *after)
{
	rt_puts(before);
	rt_put_dec(v);
	rt_println(after);
}

/* Fills buf with the pattern of sectors [0, n). */
static void make_pattern(uint8_t *buf, uint32_t n)
{
	static const char head[] = "vblk sector ";
	uint8_t *t = buf;

	for (unsigned i = 0; i < SECTOR; i++)
		t[i] = (uint8_t)('a' + (i - 17) % 26);
	vio_copy(t, head, sizeof(head) - 1);
	t[SECTOR - 1] = '\n';
	for (uint32_t s = 1; s < n; s++)
		vio_copy(buf + s * SECTOR, t, SECTOR);
	for (uint32_t s = 0; s < n; s++) {
		uint8_t *d = buf + s * SECTOR + 12;
		uint32_t v = s;

		for (int k = 4; k >= 0; k--, v /= 10)
			d[k] = (uint8_t)('0' + v % 10);
		if (tag == ~0ull)
			continue;
		v = (uint32_t)tag;
		for (int k = 9; k >= 5; k--, v /= 10)
			d[k] = (uint8_t)('0' + v % 10);
	}
}

/* Waits for `count` used elements; each must be a published request. */
static void wait_n(unsigned count, const char *what)
{
	for (unsigned i = 0; i < count; i++) {
		uint32_t id, len;

		if (!vq_wait_used(&vq, &id, &len)) {
			rt_puts("vblk: timeout waiting for ");
			die(what);
		}
	}
}

/* One request with descriptors from slot r (of NREQ) and its data in n
 * segments of buf (len bytes, split at 4 KiB); published, not kicked. */
static void add_req(unsigned r, uint32_t type, uint64_t sector, void *buf,
		    uint32_t len, unsigned nseg, bool dev_writes)
{
	struct vio_seg segs[18];
	unsigned n = 0;

	hdrs[r] = (struct vblk_hdr){ .type = type, .sector = sector };
	status[r] = VBLK_S_NONE;
	segs[n++] = (struct vio_seg){ &hdrs[r], sizeof(hdrs[r]), false };
	for (unsigned i = 0; i < nseg; i++)
		segs[n++] = (struct vio_seg){ (uint8_t *)buf + i * (len / nseg), len / nseg,
					      dev_writes };
	segs[n++] = (struct vio_seg){ (const void *)&status[r], 1, true };
	vq_add(&vq, vq_chain(&vq, (uint16_t)(r * 8), segs, n));
}

/* One request, alone, synchronously; returns its status. */
static uint8_t sync_req(uint32_t type, uint64_t sector, void *buf, uint32_t len,
			bool dev_writes)
{
	add_req(0, type, sector, buf, len, len ? 1 : 0, dev_writes);
	vq_publish(&vq);
	vq_kick(&vq);
	wait_n(1, "a request");
	return status[0];
}

static uint8_t range_req(uint32_t type, uint32_t first, uint32_t count, uint32_t flags)
{
	ranges[0] = (struct vblk_range){ first, count, flags };
	return sync_req(type, 0, &ranges[0], sizeof(ranges[0]), false);
}

static void write_pattern(void)
{
	uint32_t per = nsect / NREQ * SECTOR;

	make_pattern(wbuf, nsect);
	for (unsigned r = 0; r < NREQ; r++)
		add_req(r, VBLK_T_OUT, r * (per / SECTOR), wbuf + r * per, per, 2, false);
	vq_publish(&vq);
	vq_kick(&vq);
	wait_n(NREQ, "the writes");
	for (unsigned r = 0; r < NREQ; r++)
		if (status[r] != VBLK_S_OK)
			die("write failed");
	put_u("vblk: wrote ", NREQ, " requests");
	if (sync_req(VBLK_T_FLUSH, 0, NULL, 0, false) != VBLK_S_OK)
		die("flush failed");
	rt_println("vblk: flushed");
}

/* Reads the whole disk into rbuf through one INDIRECT descriptor. */
static void read_indirect(void)
{
	uint32_t len = nsect * SECTOR, nseg = len / 4096, id, ulen;
	struct vq_desc *t = itable;

	hdrs[0] = (struct vblk_hdr){ .type = VBLK_T_IN };
	status[0] = VBLK_S_NONE;
	t[0] = (struct vq_desc){ (uintptr_t)&hdrs[0], sizeof(hdrs[0]), VQ_DESC_F_NEXT, 1 };
	for (uint32_t i = 0; i < nseg; i++)
		t[1 + i] = (struct vq_desc){ (uintptr_t)(rbuf + i * 4096), 4096,
					     VQ_DESC_F_WRITE | VQ_DESC_F_NEXT,
					     (uint16_t)(2 + i) };
	t[1 + nseg] = (struct vq_desc){ (uintptr_t)&status[0], 1, VQ_DESC_F_WRITE, 0 };
	vq.desc[0] = (struct vq_desc){ (uintptr_t)t, (nseg + 2) * 16, VQ_DESC_F_INDIRECT, 0 };
	vio_zero(rbuf, len);
	vq_add(&vq, 0);
	vq_publish(&vq);
	vq_kick(&vq);
	if (!vq_wait_used(&vq, &id, &ulen))
		die("timeout waiting for the indirect read");
	if (status[0] != VBLK_S_OK || ulen != len + 1)
		die("indirect read failed");
}

static bool range_is(const uint8_t *got, const uint8_t *want, uint32_t first, uint32_t end)
{
	uint32_t off = first * SECTOR, len = (end - first) * SECTOR;

	return want ? vio_equal(got + off, want + off, len) : vio_all(got + off, 0, len);
}

static void zero_and_discard(void)
{
	uint32_t n = nsect;
	struct vblk_range *g = ranges;

	g[0] = (struct vblk_range){ n / 8, n / 8, 0 };
	g[1] = (struct vblk_range){ 3 * n / 8, n / 8, VBLK_WZ_UNMAP };
	g[2] = (struct vblk_range){ 5 * n / 8, n / 8, 0 };
	add_req(0, VBLK_T_WRITE_ZEROES, 0, &g[0], sizeof(g[0]), 1, false);
	add_req(1, VBLK_T_WRITE_ZEROES, 0, &g[1], sizeof(g[1]), 1, false);
	add_req(2, VBLK_T_DISCARD, 0, &g[2], sizeof(g[2]), 1, false);
	vq_publish(&vq);
	vq_kick(&vq);
	wait_n(3, "write-zeroes and discard");
	if (status[0] != VBLK_S_OK || status[1] != VBLK_S_OK || status[2] != VBLK_S_OK)
		die("write-zeroes or discard failed");
	if (sync_req(VBLK_T_FLUSH, 0, NULL, 0, false) != VBLK_S_OK)
		die("flush failed");
	vio_zero(rbuf, n * SECTOR);
	if (sync_req(VBLK_T_IN, 0, rbuf, n * SECTOR, true) != VBLK_S_OK)
		die("read after write-zeroes failed");
	if (!range_is(rbuf, NULL, n / 8, n / 4) || !range_is(rbuf, NULL, 3 * n / 8, n / 2))
		die("write-zeroes range is not zero");
	if (!range_is(rbuf, wbuf, 0, n / 8) || !range_is(rbuf, wbuf, n / 4, 3 * n / 8) ||
	    !range_is(rbuf, wbuf, n / 2, 5 * n / 8) || !range_is(rbuf, wbuf, 3 * n / 4, n))
		die("data outside the zeroed ranges changed");
	rt_println("vblk: write-zeroes and discard ok");
}

static void mode_ro(void)
{
	if (!(dev.features & VIO_BIT(VBLK_F_RO)))
		die("RO not offered");
	rt_println("vblk: read-only");
	make_pattern(wbuf, nsect);
	if (sync_req(VBLK_T_IN, 0, rbuf, nsect * SECTOR, true) != VBLK_S_OK)
		die("read failed");
	if (!vio_equal(rbuf, wbuf, nsect * SECTOR))
		die("the disk does not hold the pattern");
	rt_println("vblk: read ok");
	vio_zero(wbuf, SECTOR);
	if (sync_req(VBLK_T_OUT, 0, wbuf, SECTOR, false) != VBLK_S_IOERR)
		die("write did not fail with IOERR");
	if (range_req(VBLK_T_WRITE_ZEROES, 0, 8, 0) != VBLK_S_IOERR)
		die("write-zeroes did not fail with IOERR");
	if (range_req(VBLK_T_DISCARD, 0, 8, 0) != VBLK_S_IOERR)
		die("discard did not fail with IOERR");
	rt_println("vblk: writes fail with IOERR");
	if (sync_req(VBLK_T_FLUSH, 0, NULL, 0, false) != VBLK_S_OK)
		die("flush failed");
	rt_println("vblk: ok");
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	char mode[8] = "rw";
	uint64_t cap;

	vio_cmdline_word(cmdline, "vblk", mode, sizeof(mode));
	/* one of 50 VMs on one CPU (an ASan build, in an emulated L1): a
	 * request may wait its turn far longer than alone */
	if (rt_streq(mode, "load"))
		vio_wait_shift = 37;
	if (rt_cmdline_num(cmdline, "tag", &tag) && tag > 99999)
		die("tag must be 0..99999");
	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_BLOCK,
		     VIO_BIT(VBLK_F_FLUSH) | VIO_BIT(VBLK_F_RO) | VIO_BIT(VBLK_F_DISCARD) |
		     VIO_BIT(VBLK_F_WRITE_ZEROES) | VIO_BIT(VBLK_F_SEG_MAX) |
		     VIO_BIT(VIO_F_EVENT_IDX) | VIO_BIT(VIO_F_INDIRECT), "vblk") < 0)
		return 1;
	cap = vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY) |
	      (uint64_t)vio_read(&dev, VIO_CONFIG + VBLK_CFG_CAPACITY + 4) << 32;
	if (cap < 16 || cap > MAX_SECTORS || cap % 16)
		die("capacity must be 16..256 sectors, a multiple of 16");
	nsect = (uint32_t)cap;
	if (vio_vq_setup(&dev, &vq, 0, QSIZE, ring, "vblk") < 0)
		return 1;
	vio_driver_ok(&dev);
	vq_no_interrupts(&vq);
	put_u("vblk: capacity ", nsect, " sectors");
	if (rt_streq(mode, "ro")) {
		mode_ro();
		return 0;
	}
	if (sync_req(VBLK_T_GET_ID, 0, idbuf, 20, true) != VBLK_S_OK)
		die("GET_ID failed");
	rt_puts("vblk: id ");
	rt_println(idbuf);
	write_pattern();
	if (rt_streq(mode, "crash"))
		rt_halt();
	read_indirect();
	if (!vio_equal(rbuf, wbuf, nsect * SECTOR))
		die("read back differs");
	rt_println("vblk: read back ok");
	if (rt_streq(mode, "load"))
		return 1 + (int)(tag == ~0ull ? 0 : tag % 100);
	if (sync_req(VBLK_T_IN, nsect, rbuf, SECTOR, true) != VBLK_S_IOERR)
		die("read past the end did not fail with IOERR");
	if (sync_req(99, 0, rbuf, SECTOR, true) != VBLK_S_UNSUPP)
		die("unknown request type did not give UNSUPP");
	rt_println("vblk: bad requests refused");
	zero_and_discard();
	rt_println("vblk: ok");
	return 0;
}
