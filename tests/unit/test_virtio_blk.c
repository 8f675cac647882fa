/* tests/unit/test_virtio_blk.c - virtio-blk over a real event loop and a
 * temporary image: read/write/flush/get-id/discard/write-zeroes, bounds,
 * read-only, many requests in flight, reset and save/restore with
 * requests in flight, and device creation from a configuration. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "tests/unit/test_virtio.h"
#include "virtio/blk.h"

#define IMG_SECTORS 2048
#define QS 256
#define REQ(k) (VT_BUF + 0x10000ULL * (k))	/* header; data at +0x1000 */
#define DATA(k) (REQ(k) + 0x1000)
#define STATUS(k) (REQ(k) + 0xf000)

static struct loop loop;
static char img[64];
static int img_fd = -1;

static void make_image(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(img, sizeof(img), "%s/ember-blk-XXXXXX", dir);
	img_fd = mkstemp(img);
	cr_assert_geq(img_fd, 0);
	cr_assert_eq(ftruncate(img_fd, IMG_SECTORS * 512), 0);
}

static void setup_blk_opts(bool ro)
{
	struct drive_cfg cfg = { .path = img, .ro = ro };
	struct errbuf err;

	vt_setup_vm();
	make_image();
	cr_assert_eq(loop_init(&loop, 256), 0);
	vt_vm.host.loop = &loop;
	cr_assert_eq(blk_create(&vt_vm.host, 0, &cfg, &vt_vd, &err), 0, "%s", err.msg);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(ro ? 1ULL << VIRTIO_BLK_F_RO :
				   1ULL << VIRTIO_BLK_F_DISCARD |
				   1ULL << VIRTIO_BLK_F_WRITE_ZEROES), QS);
}

static void setup_blk(void) { setup_blk_opts(false); }
static void setup_blk_ev(void)
{
	setup_blk_opts(false);
	vt_driver_init(vt_features(1ULL << VQ_F_EVENT_IDX), QS);
}
static void setup_blk_ro(void) { setup_blk_opts(true); }

static void teardown_blk(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
	vt_teardown();
	if (img_fd >= 0)
		close(img_fd);
	unlink(img);
}

/* Posts request k: header, then len data bytes (writable for reads), then
 * the status byte.  Descriptors 3k..3k+2. */
static void post(unsigned k, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
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

static void kick_and_wait(uint16_t used)
{
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&loop, 0, used), "used %u, wanted %u",
		  vt_used_idx(0), used);
}

static uint8_t status(unsigned k) { return *vt_g(STATUS(k)); }

static void file_read(uint64_t off, void *buf, size_t len)
{
	cr_assert_eq(pread(img_fd, buf, len, (off_t)off), (ssize_t)len);
}

TestSuite(blk, .init = setup_blk, .fini = teardown_blk);
TestSuite(blk_ro, .init = setup_blk_ro, .fini = teardown_blk);
TestSuite(blk_ev, .init = setup_blk_ev, .fini = teardown_blk);

Test(blk, config_space)
{
	uint64_t cap;
	uint32_t v;

	memcpy(&cap, (uint32_t[]){ vt_rd(0x100), vt_rd(0x104) }, 8);
	cr_assert_eq(cap, IMG_SECTORS);
	v = vt_rd(0x100 + offsetof(struct virtio_blk_config, seg_max));
	cr_assert_eq(v, 126);
	v = vt_rd(0x100 + offsetof(struct virtio_blk_config, blk_size));
	cr_assert_eq(v, 512);
	vt_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = vt_rd(VIRTIO_MMIO_DEVICE_FEATURES);
	cr_assert(v & (1u << VIRTIO_BLK_F_FLUSH));
	cr_assert_eq(v & (1u << VIRTIO_BLK_F_RO), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_DEVICE_ID), 2);
}

Test(blk, write_flush_read)
{
	uint8_t buf[1024];

	for (unsigned i = 0; i < 1024; i++)
		vt_g(DATA(0))[i] = (uint8_t)(i * 7 + 1);
	post(0, VIRTIO_BLK_T_OUT, 5, 1024);
	kick_and_wait(1);
	cr_assert_eq(status(0), VIRTIO_BLK_S_OK);
	cr_assert_eq(vt_used_len(0, 0), 1);
	post(1, VIRTIO_BLK_T_FLUSH, 0, 0);
	kick_and_wait(2);
	cr_assert_eq(status(1), VIRTIO_BLK_S_OK);
	file_read(5 * 512, buf, 1024);
	cr_assert_eq(memcmp(buf, vt_g(DATA(0)), 1024), 0, "on disk");
	post(2, VIRTIO_BLK_T_IN, 5, 1024);
	kick_and_wait(3);
	cr_assert_eq(status(2), VIRTIO_BLK_S_OK);
	cr_assert_eq(vt_used_len(0, 2), 1025);
	cr_assert_eq(memcmp(vt_g(DATA(2)), vt_g(DATA(0)), 1024), 0);
	cr_assert_neq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

Test(blk, get_id_and_unsupported)
{
	post(0, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	post(1, 99, 0, 0);
	kick_and_wait(2);
	cr_assert_eq(status(0), VIRTIO_BLK_S_OK);
	cr_assert_str_eq((char *)vt_g(DATA(0)), "vda");
	cr_assert_eq(status(1), VIRTIO_BLK_S_UNSUPP);
}

Test(blk, bounds)
{
	post(0, VIRTIO_BLK_T_IN, IMG_SECTORS - 1, 1024);	/* runs off the end */
	post(1, VIRTIO_BLK_T_IN, 0, 100);			/* not whole sectors */
	post(2, VIRTIO_BLK_T_OUT, ~0ULL, 512);			/* absurd sector */
	post(3, VIRTIO_BLK_T_IN, IMG_SECTORS - 2, 1024);	/* exactly the end */
	kick_and_wait(4);
	cr_assert_eq(status(0), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(1), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(2), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(3), VIRTIO_BLK_S_OK);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

Test(blk, discard_and_write_zeroes)
{
	struct virtio_blk_discard_write_zeroes seg = { .sector = 8, .num_sectors = 4 };
	uint8_t buf[4096], zero[2048] = { 0 };

	memset(vt_g(DATA(0)), 0xab, 4096);
	post(0, VIRTIO_BLK_T_OUT, 8, 4096);
	kick_and_wait(1);
	memcpy(vt_g(DATA(1)), &seg, sizeof(seg));
	post(1, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg));
	kick_and_wait(2);
	cr_assert_eq(status(1), VIRTIO_BLK_S_OK);
	seg.sector = 12;
	memcpy(vt_g(DATA(2)), &seg, sizeof(seg));
	post(2, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg));
	kick_and_wait(3);
	cr_assert_eq(status(2), VIRTIO_BLK_S_OK);
	file_read(8 * 512, buf, 4096);
	cr_assert_eq(memcmp(buf, zero, 2048), 0, "write-zeroes range is zero");
	seg.sector = IMG_SECTORS;	/* out of range */
	memcpy(vt_g(DATA(3)), &seg, sizeof(seg));
	post(3, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg));
	seg.sector = 0;
	seg.flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;	/* not for discard */
	memcpy(vt_g(DATA(4)), &seg, sizeof(seg));
	post(4, VIRTIO_BLK_T_DISCARD, 0, sizeof(seg));
	kick_and_wait(5);
	cr_assert_eq(status(3), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(4), VIRTIO_BLK_S_UNSUPP);
}

Test(blk, many_in_flight)
{
	const unsigned n = 80;	/* 3 descriptors each: 240 of 256 */
	uint8_t buf[512];

	for (unsigned k = 0; k < n; k++) {
		memset(vt_g(DATA(k)), (int)k + 1, 512);
		post(k, VIRTIO_BLK_T_OUT, 100 + k, 512);
	}
	kick_and_wait((uint16_t)n);
	for (unsigned k = 0; k < n; k++) {
		cr_assert_eq(status(k), VIRTIO_BLK_S_OK, "request %u", k);
		file_read((100 + k) * 512ULL, buf, 512);
		cr_assert_eq(buf[0], k + 1);
		cr_assert_eq(buf[511], k + 1);
	}
}

Test(blk, request_without_status_needs_reset)
{
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN };

	memcpy(vt_g(REQ(0)), &h, sizeof(h));
	vt_set_desc(0, 0, REQ(0), sizeof(h), 0, 0);
	vt_avail_add(0, 0);
	virtio_dev_kick(vt_vd, 0);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	cr_assert_eq(vt_used_idx(0), 0);
}

Test(blk, reset_drops_in_flight)
{
	post(0, VIRTIO_BLK_T_IN, 0, 4096);
	virtio_dev_kick(vt_vd, 0);	/* submitted, not completed */
	vt_driver_init(vt_features(0), QS);	/* reset + set up again */
	post(1, VIRTIO_BLK_T_IN, 0, 512);
	kick_and_wait(1);
	cr_assert_eq(vt_used_id(0, 0), 3, "only the new request is reported");
	cr_assert_eq(status(1), VIRTIO_BLK_S_OK);
}

Test(blk, save_restore_in_flight)
{
	struct sbuf sb, rb;
	uint8_t pat[512];

	memset(pat, 0x5a, sizeof(pat));
	cr_assert_eq(pwrite(img_fd, pat, 512, 512 * 9), 512);
	post(0, VIRTIO_BLK_T_IN, 9, 512);
	virtio_dev_kick(vt_vd, 0);	/* in flight now */
	sbuf_init(&sb);
	cr_assert_eq(vt_vd->dev.ops->save(&vt_vd->dev, &sb), 0);
	vt_vd->dev.ops->reset(&vt_vd->dev);
	memset(vt_g(DATA(0)), 0, 512);
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), 0);
	cr_assert(vt_pump_until_used(&loop, 0, 1));
	cr_assert_eq(status(0), VIRTIO_BLK_S_OK);
	cr_assert_eq(memcmp(vt_g(DATA(0)), pat, 512), 0, "resubmitted after restore");
	sbuf_free(&sb);
}

/* Requests that complete at once (an unknown type, an out-of-range
 * sector, GET_ID), republished on one chain as a flooding guest would: a
 * kick serves one pass of VIRTIO_BUDGET and posts the next pass on the
 * loop; each later turn of the loop serves one more pass, so the loop's
 * other completions get their turn in between. */
static void flood(uint32_t type, uint64_t sector, uint32_t len)
{
	const uint16_t n = 200, b = VIRTIO_BUDGET;

	post(0, type, sector, len);	/* one chain, head 0 ... */
	vt_avail_repeat(0, 0, n - 1);	/* ... made available n times */
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (uint16_t want = b; ; want = want + b < n ? want + b : n) {
		cr_assert_eq(vt_loop_turn(&loop, true), 1, "one completion a turn");
		cr_assert_eq(vt_used_idx(0), want, "one pass a turn");
		cr_assert_eq(vt_vd->q[0].rerun, want < n, "the next pass is posted");
		if (want == n)
			break;
	}
}

Test(blk, flood_unknown_type_yields)
{
	flood(99, 0, 0);
	cr_assert_eq(status(0), VIRTIO_BLK_S_UNSUPP);
}

Test(blk, flood_out_of_range_yields)
{
	flood(VIRTIO_BLK_T_IN, IMG_SECTORS + 1, 512);
	cr_assert_eq(status(0), VIRTIO_BLK_S_IOERR);
}

Test(blk, flood_get_id_yields)
{
	flood(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES);
	cr_assert_eq(status(0), VIRTIO_BLK_S_OK);
	cr_assert_str_eq((char *)vt_g(DATA(0)), "vda");
}

Test(blk_ro, writes_refused)
{
	uint8_t buf[512], zero[512] = { 0 };
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0, .num_sectors = 1 };

	vt_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	cr_assert(vt_rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
	memset(vt_g(DATA(0)), 0x77, 512);
	post(0, VIRTIO_BLK_T_OUT, 0, 512);
	memcpy(vt_g(DATA(1)), &seg, sizeof(seg));
	post(1, VIRTIO_BLK_T_WRITE_ZEROES, 0, sizeof(seg));
	post(2, VIRTIO_BLK_T_IN, 0, 512);
	post(3, VIRTIO_BLK_T_FLUSH, 0, 0);
	kick_and_wait(4);
	cr_assert_eq(status(0), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(1), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(status(2), VIRTIO_BLK_S_OK);
	cr_assert_eq(status(3), VIRTIO_BLK_S_OK);
	file_read(0, buf, 512);
	cr_assert_eq(memcmp(buf, zero, 512), 0, "file unchanged");
}

/* Devices from a configuration, and the kernel command line for them. */
Test(virtio_cfg, create_devices_and_cmdline)
{
	struct vm_config cfg = { .ndrives = 2, .rng = true };
	struct errbuf err;
	char line[256];

	vt_setup_vm();
	make_image();
	cfg.drives[0].path = img;
	cfg.drives[1].path = img;
	cfg.drives[1].ro = true;
	cfg.drives[1].id = "data";
	cr_assert_eq(virtio_create_devices(&vt_vm.host, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(vt_vm.ndevices, 3);
	cr_assert_eq(virtio_cmdline(&vt_vm.host, line, sizeof(line)), (int)strlen(line));
	cr_assert_str_eq(line, " virtio_mmio.device=4K@0xd0000000:5"
			       " virtio_mmio.device=4K@0xd0001000:6"
			       " virtio_mmio.device=4K@0xd0002000:7");
	cr_assert_eq(virtio_cmdline(&vt_vm.host, line, 40), -ENOSPC);
	cr_assert_str_eq(virtio_dev_of(vt_vm.devices[1])->name, "data");
	cr_assert_null(virtio_dev_of(NULL));
	/* a missing image is refused with a message naming it */
	cfg.ndrives = 1;
	cfg.rng = false;
	cfg.drives[0].path = "/nonexistent/disk.img";
	cr_assert_eq(virtio_create_devices(&vt_vm.host, &cfg, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "drive '/nonexistent/disk.img': No such file or directory");
	vt_teardown();
	close(img_fd);
	unlink(img);
}

/* ---- batching with EVENT_IDX (virtio/blk_batch.c) ---- */
static uint16_t avail_event(void)
{
	uint16_t v;

	memcpy(&v, vt_g(VT_USED(0) + 4 + 8 * QS), 2);
	return v;
}

static void set_used_event(uint16_t v)
{
	memcpy(vt_g(VT_AVAIL(0) + 4 + 2 * QS), &v, 2);
}

/* A batch of 2 reads: one interrupt, then avail_event one further ahead
 * than the batch (a probe: the third chain kicks).  The guest adds only
 * one and does not kick (its addition does not pass the event): the
 * timer serves it all the same, and the next chain kicks again.  A later
 * probe the guest meets (two chains, the second kicks) ends its batch. */
Test(blk_ev, kick_ahead_and_the_timer_rescue)
{
	struct blk *b = container_of(vt_vd, struct blk, vd);

	post(0, VIRTIO_BLK_T_IN, 1, 512);
	post(1, VIRTIO_BLK_T_IN, 2, 512);
	kick_and_wait(2);
	cr_assert_neq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	vt_wr(VIRTIO_MMIO_INTERRUPT_ACK, vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	cr_assert(b->ahead);
	cr_assert_eq(avail_event(), 2 + 3 - 1, "a kick at the third chain");
	set_used_event(2);	/* as Linux re-enables its callback: the next */
	post(2, VIRTIO_BLK_T_IN, 3, 512);	/* no kick */
	cr_assert(vt_pump_until_used(&loop, 0, 3), "the timer served it");
	cr_assert_eq(status(2), VIRTIO_BLK_S_OK);
	cr_assert_neq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0, "and interrupted");
	cr_assert_eq(b->nrescues, 1);
	cr_assert_not(b->ahead);
	cr_assert_eq(avail_event(), 3, "the next chain kicks");
	cr_assert_eq(b->probe_gap, 1, "the failed probe: the next after one batch");
	post(3, VIRTIO_BLK_T_IN, 4, 512);
	kick_and_wait(4);	/* a batch of 1, probed: 2 */
	cr_assert(b->ahead);
	cr_assert_eq(avail_event(), 4 + 2 - 1);
	post(4, VIRTIO_BLK_T_IN, 5, 512);	/* 4 -> 5 does not pass 5 */
	post(5, VIRTIO_BLK_T_IN, 6, 512);	/* 5 -> 6 does: the kick */
	kick_and_wait(6);
	cr_assert_eq(b->nbatches, 1, "the kick ended the batch");
	cr_assert_eq(b->nrescues, 1);
	cr_assert_eq(b->probe_gap, 0, "probes go on after each batch");
}

/* A reset while avail_event is ahead: the timer finds nothing to do, and
 * the driver's first request after the reset kicks. */
Test(blk_ev, reset_while_ahead)
{
	struct blk *b = container_of(vt_vd, struct blk, vd);

	post(0, VIRTIO_BLK_T_IN, 1, 512);
	kick_and_wait(1);
	cr_assert(b->ahead);
	vt_driver_init(vt_features(1ULL << VQ_F_EVENT_IDX), QS);
	cr_assert_not(b->ahead);
	post(0, VIRTIO_BLK_T_IN, 1, 512);
	kick_and_wait(1);
	cr_assert_eq(status(0), VIRTIO_BLK_S_OK);
	cr_assert_eq(b->nrescues, 0);
}
