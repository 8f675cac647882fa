/* tests/unit/test_overlay.c - the drive overlay of the fuzzing reset loop
 * (virtio/overlay.c) over a temporary image: reads and writes across block
 * boundaries, partial blocks, the image's unaligned end, discard, reset,
 * and virtio-blk serving requests synchronously over it (no event loop)
 * while the image file stays as it was. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

#define IMG_SIZE (64 * 1024 + 512)	/* 16 blocks and one sector */

static char path[64];
static int fd = -1;
static uint8_t want[IMG_SIZE];	/* what the drive must read as */
static struct overlay ov;

/* byte i of the image */
static uint8_t img_byte(uint64_t i)
{
	return (uint8_t)(i * 31 + (i >> 9) + 1);
}

static void make_image(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(path, sizeof(path), "%s/ember-ov-XXXXXX", dir);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		want[i] = img_byte(i);
	cr_assert_eq(pwrite(fd, want, IMG_SIZE, 0), IMG_SIZE);
}

/* The image file still holds exactly what make_image wrote. */
static void image_untouched(void)
{
	static uint8_t now[IMG_SIZE + 1];

	cr_assert_eq(pread(fd, now, sizeof(now), 0), IMG_SIZE, "image size changed");
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		cr_assert_eq(now[i], img_byte(i), "image byte %llu changed", (unsigned long long)i);
}

static void setup(void)
{
	make_image();
	cr_assert_eq(ov_init(&ov, fd, IMG_SIZE), 0);
}

static void teardown(void)
{
	ov_free(&ov);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* Reads [off, off + len) through three uneven iovecs and checks it
 * against want[]. */
static void check_read(uint64_t off, uint64_t len)
{
	static uint8_t buf[IMG_SIZE];
	uint64_t a = len / 3, b = len / 3 + 1 > len - a ? len - a : len / 3 + 1;
	struct iovec iov[3] = {
		{ buf, a }, { buf + a, b }, { buf + a + b, len - a - b },
	};

	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(ov_read(&ov, iov, 3, off, len), 0);
	for (uint64_t i = 0; i < len; i++)
		cr_assert_eq(buf[i], want[off + i], "byte %llu: %#x, want %#x",
			     (unsigned long long)(off + i), buf[i], want[off + i]);
}

static void do_write(uint64_t off, uint64_t len, uint8_t seed)
{
	static uint8_t buf[IMG_SIZE];
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };

	for (uint64_t i = 0; i < len; i++)
		want[off + i] = buf[i] = (uint8_t)(seed + i * 7);
	cr_assert_eq(ov_write(&ov, iov, 2, off, len), 0);
}

TestSuite(overlay, .init = setup, .fini = teardown);

Test(overlay, reads_the_image_when_empty)
{
	check_read(0, IMG_SIZE);
	check_read(4000, 300);		/* across a block boundary */
	check_read(IMG_SIZE - 700, 700);	/* the unaligned end */
	cr_assert_eq(ov.lo, UINT64_MAX, "a read changes nothing");
}

Test(overlay, partial_block_write_keeps_the_rest)
{
	do_write(100, 10, 1);	/* inside block 0 */
	check_read(0, 4096);
	cr_assert_eq(ov.present[0], 1, "block 0 held (copied in)");
	image_untouched();
}

Test(overlay, write_across_blocks)
{
	do_write(4096 - 5, 4096 + 10, 2);	/* end of 0, all of 1, start of 2 */
	cr_assert_eq(ov.present[0], 7);
	check_read(0, 3 * 4096);
	check_read(4090, 20);
	do_write(3 * 4096, 2 * 4096, 3);	/* two whole blocks: no copy-in */
	cr_assert_eq(ov.present[0], 0x1f);
	check_read(0, IMG_SIZE);
	/* a read spanning held, not held, held: one iovec run each */
	do_write(7 * 4096 + 1, 1, 4);
	check_read(4 * 4096 - 3, 4 * 4096);
	image_untouched();
}

Test(overlay, unaligned_end_of_drive)
{
	do_write(IMG_SIZE - 300, 300, 5);	/* the last, partial block */
	check_read(IMG_SIZE - 4096, 4096);
	do_write(IMG_SIZE - 512 - 100, 200, 6);	/* across into it */
	check_read(0, IMG_SIZE);
	image_untouched();
}

Test(overlay, discard_reads_zero)
{
	cr_assert_eq(ov_zero(&ov, 10, 20), 0);
	memset(want + 10, 0, 20);
	check_read(0, 4096);
	/* many whole blocks: released rather than written */
	cr_assert_eq(ov_zero(&ov, 4096 + 512, 12 * 4096), 0);
	memset(want + 4096 + 512, 0, 12 * 4096);
	check_read(0, IMG_SIZE);
	/* write after a discard */
	do_write(5 * 4096 + 7, 100, 7);
	check_read(0, IMG_SIZE);
	image_untouched();
}

Test(overlay, reset_drops_everything)
{
	do_write(1, 5 * 4096, 8);
	ov_zero(&ov, 9 * 4096, 4096);
	do_write(IMG_SIZE - 10, 10, 9);
	ov_reset(&ov);
	for (uint64_t i = 0; i < IMG_SIZE; i++)
		want[i] = img_byte(i);
	check_read(0, IMG_SIZE);
	for (unsigned w = 0; w <= ov.nblocks / 64; w++)
		cr_assert_eq(ov.present[w], 0);
	cr_assert_eq(ov.lo, UINT64_MAX);
	/* and works again after it */
	do_write(4095, 2, 10);
	check_read(0, 2 * 4096);
	ov_reset(&ov);
	ov_reset(&ov);	/* nothing to do */
	image_untouched();
}

Test(overlay, bounds)
{
	uint8_t b[16];
	struct iovec iov = { b, sizeof(b) };

	cr_assert_eq(ov_read(&ov, &iov, 1, IMG_SIZE - 8, 16), -EINVAL);
	cr_assert_eq(ov_write(&ov, &iov, 1, IMG_SIZE + 512, 16), -EINVAL);
	cr_assert_eq(ov_zero(&ov, UINT64_MAX - 4, 16), -EINVAL);
	cr_assert_eq(ov_read(&ov, &iov, 1, 0, 32), -EINVAL, "iovecs shorter than len");
	cr_assert_eq(ov_write(&ov, &iov, 1, 0, 0), 0);
	cr_assert_eq(ov_read(&ov, &iov, 1, IMG_SIZE, 0), 0);
	image_untouched();
}

Test(overlay, image_shorter_than_drive_reads_zero)
{
	struct overlay big;
	static uint8_t buf[8192];
	struct iovec iov = { buf, sizeof(buf) };

	cr_assert_eq(ov_init(&big, fd, IMG_SIZE + 8192), 0);
	memset(buf, 0xee, sizeof(buf));
	cr_assert_eq(ov_read(&big, &iov, 1, IMG_SIZE - 512, 8192), 0);
	for (unsigned i = 0; i < 512; i++)
		cr_assert_eq(buf[i], img_byte(IMG_SIZE - 512 + i));
	for (unsigned i = 512; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0);
	ov_free(&big);
}

/* ---- virtio-blk over the overlay, no event loop ------------------------- */
#define REQ(k) (VT_BUF + 0x10000ULL * (k))
#define DATA(k) (REQ(k) + 0x1000)
#define STATUS(k) (REQ(k) + 0xf000)

static void setup_blk(void)
{
	struct drive_cfg cfg = { .path = path };
	struct errbuf err;

	make_image();
	vt_setup_vm();
	cr_assert_eq(blk_create(&vt_vm.host, 0, &cfg, &vt_vd, &err), 0, "%s", err.msg);
	cr_assert_eq(blk_overlay_start(&vt_vm.host, &err), 1, "%s", err.msg);
	vt_driver_init(vt_features(1ULL << VIRTIO_BLK_F_DISCARD |
				   1ULL << VIRTIO_BLK_F_WRITE_ZEROES), 64);
}

static void teardown_blk(void)
{
	vt_teardown();
	if (fd >= 0)
		close(fd);
	unlink(path);
}

static void post(unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	bool in = type == VIRTIO_BLK_T_IN;
	unsigned d = 3 * k;

	memcpy(vt_g(REQ(k)), &h, sizeof(h));
	*vt_g(STATUS(k)) = 0xee;
	vt_set_desc(0, d, REQ(k), sizeof(h), VRING_DESC_F_NEXT, len ? d + 1 : d + 2);
	if (len)
		vt_set_desc(0, d + 1, DATA(k), len,
			    VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0), d + 2);
	vt_set_desc(0, d + 2, STATUS(k), 1, VRING_DESC_F_WRITE, 0);
	vt_avail_add(0, (uint16_t)d);
}

/* The guest's QueueNotify and the exit's aftermath: served at once. */
static void kick(uint16_t used)
{
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	blk_overlay_poll(&vt_vm.host, vt_vd->base + VIRTIO_MMIO_QUEUE_NOTIFY);
	cr_assert_eq(vt_used_idx(0), used);
}

TestSuite(blk_overlay, .init = setup_blk, .fini = teardown_blk);

Test(blk_overlay, writes_stay_in_the_overlay_until_reset)
{
	memset(vt_g(DATA(0)), 'X', 1024);
	post(0, VIRTIO_BLK_T_OUT, 7, 1024);	/* 3584..4608: two blocks */
	kick(1);
	cr_assert_eq(*vt_g(STATUS(0)), VIRTIO_BLK_S_OK);
	post(1, VIRTIO_BLK_T_FLUSH, 0, 0);
	kick(2);
	cr_assert_eq(*vt_g(STATUS(1)), VIRTIO_BLK_S_OK);
	post(2, VIRTIO_BLK_T_IN, 6, 2048);
	kick(3);
	cr_assert_eq(*vt_g(STATUS(2)), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		cr_assert_eq(vt_g(DATA(2))[i], img_byte(3072 + i));
	for (unsigned i = 512; i < 1536; i++)
		cr_assert_eq(vt_g(DATA(2))[i], 'X');
	for (unsigned i = 1536; i < 2048; i++)
		cr_assert_eq(vt_g(DATA(2))[i], img_byte(3072 + i));
	image_untouched();
	blk_overlay_reset(&vt_vm.host);
	post(3, VIRTIO_BLK_T_IN, 7, 1024);
	kick(4);
	for (unsigned i = 0; i < 1024; i++)
		cr_assert_eq(vt_g(DATA(3))[i], img_byte(3584 + i));
	image_untouched();
}

Test(blk_overlay, write_zeroes_and_discard)
{
	struct virtio_blk_discard_write_zeroes seg = { .sector = 1, .num_sectors = 16 };

	memcpy(vt_g(DATA(0)), &seg, sizeof(seg));
	post(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg));
	kick(1);
	cr_assert_eq(*vt_g(STATUS(0)), VIRTIO_BLK_S_OK);
	seg.sector = 40;
	memcpy(vt_g(DATA(1)), &seg, sizeof(seg));
	post(1, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg));
	kick(2);
	cr_assert_eq(*vt_g(STATUS(1)), VIRTIO_BLK_S_OK);
	post(2, VIRTIO_BLK_T_IN, 0, 32 * 512);
	kick(3);
	for (unsigned i = 0; i < 32 * 512; i++)
		cr_assert_eq(vt_g(DATA(2))[i], i < 512 || i >= 17 * 512 ? img_byte(i) : 0,
			     "byte %u", i);
	image_untouched();
}

Test(blk_overlay, kicks_elsewhere_are_not_served)
{
	post(0, VIRTIO_BLK_T_IN, 0, 512);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	blk_overlay_poll(&vt_vm.host, vt_vd->base + VIRTIO_MMIO_SIZE);	/* another window */
	cr_assert_eq(vt_used_idx(0), 0);
	blk_overlay_poll(&vt_vm.host, UINT64_MAX);
	cr_assert_eq(vt_used_idx(0), 1);
	cr_assert_eq(*vt_g(STATUS(0)), VIRTIO_BLK_S_OK);
}
