/* tests/unit/test_ratelimit.c - token buckets on a made-up clock (refill,
 * one-time burst, requests larger than the bucket, the long-run rate), the
 * drive option and its validation, and virtio-blk held back by its
 * limiter on a real event loop (the timer lets requests go; a reset drops
 * the held ones at once). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

#define MS 1000000ull

static struct tbucket bucket(uint64_t size, uint64_t burst, uint64_t refill_ms)
{
	struct tbucket_cfg c = { size, burst, refill_ms };
	struct tbucket b;

	tb_init(&b, &c, 1000 * MS);
	return b;
}

Test(tbucket, no_limit)
{
	struct tbucket b = bucket(0, 0, 100);

	cr_assert_eq(tb_wait_ns(&b, 1ull << 40, 0), 0);
	tb_take(&b, 1ull << 40);
	cr_assert_eq(tb_wait_ns(&b, 1ull << 40, 0), 0);
}

Test(tbucket, refill_in_proportion)
{
	struct tbucket b = bucket(1000, 0, 1000);	/* 1 token a ms */

	cr_assert_eq(tb_wait_ns(&b, 1000, 1000 * MS), 0, "starts full");
	tb_take(&b, 600);
	cr_assert_eq(tb_wait_ns(&b, 400, 1000 * MS), 0);
	cr_assert_eq(tb_wait_ns(&b, 600, 1000 * MS), 200 * MS);
	cr_assert_eq(tb_wait_ns(&b, 600, 1150 * MS), 50 * MS, "150 ms made 150 tokens");
	cr_assert_eq(tb_wait_ns(&b, 600, 1200 * MS), 0);
	cr_assert_eq(tb_wait_ns(&b, 1000, 5000 * MS), 0, "never more than full");
	tb_take(&b, 1000);
	cr_assert_eq(tb_wait_ns(&b, 1, 5000 * MS), 1 * MS);
}

Test(tbucket, fractions_are_not_lost)
{
	struct tbucket b = bucket(3, 0, 10);	/* a token every 3.33 ms */
	uint64_t t = 1000 * MS;

	tb_take(&b, 3);
	/* asked every millisecond, it still refills at 3 tokens / 10 ms */
	for (int i = 0; i < 10; i++, t += MS)
		(void)tb_wait_ns(&b, 3, t);
	cr_assert_eq(tb_wait_ns(&b, 3, 1010 * MS), 0);
}

Test(tbucket, one_time_burst_first_and_once)
{
	struct tbucket b = bucket(100, 500, 1000);

	cr_assert_eq(tb_wait_ns(&b, 600, 1000 * MS), 0, "bucket + burst");
	tb_take(&b, 550);		/* 500 from the burst, 50 from the bucket */
	cr_assert_eq(b.burst, 0);
	cr_assert_eq(b.budget, 50);
	cr_assert_eq(tb_wait_ns(&b, 100, 1000 * MS), 500 * MS);
	cr_assert_eq(tb_wait_ns(&b, 100, 100000 * MS), 0);
	cr_assert_eq(b.budget, 100, "the burst does not come back");
}

Test(tbucket, larger_than_the_bucket_goes_when_full_and_leaves_debt)
{
	struct tbucket b = bucket(1000, 0, 1000);

	cr_assert_eq(tb_wait_ns(&b, 5000, 1000 * MS), 0);
	tb_take(&b, 5000);
	cr_assert_eq(b.budget, -4000);
	/* the debt is paid before anything else goes: 4 s, plus 1 ms for 1 */
	cr_assert_eq(tb_wait_ns(&b, 1, 1000 * MS), 4001 * MS);
}

Test(tbucket, long_run_rate)
{
	struct tbucket b = bucket(64 * 1024, 0, 100);	/* 640 KiB/s */
	uint64_t t = 1000 * MS, bytes = 0, seed = 7;

	/* requests of 512 B .. 256 KiB, each sent as soon as allowed */
	while (t < 11000 * MS) {
		uint64_t n, w;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = 512 + (seed >> 33) % (256 * 1024);
		while ((w = tb_wait_ns(&b, n, t)))
			t += w;
		tb_take(&b, n);
		bytes += n;
	}
	/* 10 s at 640 KiB/s, plus the first full bucket, within 1 % */
	cr_assert(bytes > 6553600 * 99 / 100 && bytes < (6553600 + 65536 + 262144) * 101 / 100,
		  "%llu bytes in 10 s", (unsigned long long)bytes);
}

Test(ratelimit, drive_option_and_validation)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	char *ok[] = { "run", "--kernel", "/dev/null", "--drive",
		       "path=/dev/null,bw_size=1M,bw_refill_time=500,ops_size=100,ops_refill_time=1000,ops_one_time_burst=50",
		       NULL };
	char *no_refill[] = { "run", "--kernel", "/dev/null", "--drive",
			      "path=/dev/null,bw_size=4096", NULL };
	char *bad_num[] = { "run", "--kernel", "/dev/null", "--drive",
			    "path=/dev/null,ops_size=lots", NULL };

	cr_assert_eq(config_parse_run(5, ok, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.drives[0].rl.bw.size, 1 << 20);
	cr_assert_eq(cfg.drives[0].rl.bw.refill_ms, 500);
	cr_assert_eq(cfg.drives[0].rl.ops.size, 100);
	cr_assert_eq(cfg.drives[0].rl.ops.one_time_burst, 50);
	config_free(&cfg);
	cr_assert_neq(config_parse_run(5, no_refill, &cfg, &err), 0);
	cr_assert_str_eq(err.msg, "--drive: bandwidth rate limiter: refill time must be 1 to "
			 "3600000 ms, not 0");
	config_free(&cfg);
	cr_assert_neq(config_parse_run(5, bad_num, &cfg, &err), 0);
	cr_assert_str_eq(err.msg, "--drive: ops_size must be a number, not 'lots'");
	config_free(&cfg);
	{
		char *no_eq[] = { "run", "--kernel", "/dev/null", "--rng-rate", "bw_size", NULL };

		cr_assert_neq(config_parse_run(5, no_eq, &cfg, &err), 0);
		cr_assert_str_eq(err.msg, "--rng-rate: 'bw_size' is not key=value");
		config_free(&cfg);
	}
}

/* --net's limiters: the drive's keys behind rx_ and tx_, each direction
 * checked and named on its own */
Test(ratelimit, net_option_and_validation)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	char *ok[] = { "run", "--kernel", "/dev/null", "--net",
		       "tap=tap0,rx_bw_size=128K,rx_bw_refill_time=250,rx_bw_one_time_burst=1M,"
		       "tx_ops_size=100,tx_ops_refill_time=1000,tx_ops_one_time_burst=10,mac=02:00:00:00:00:01",
		       "--net", "tap=tap1,tx_bw_size=64K,tx_bw_refill_time=100,rx_ops_size=5,rx_ops_refill_time=50",
		       NULL };
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "tap=t,rx_bw_size=4096", "--net: rx: bandwidth rate limiter: refill time must be 1 to "
		  "3600000 ms, not 0" },
		{ "tap=t,tx_ops_refill_time=10", "--net: tx: ops rate limiter: size must be more than 0" },
		{ "tap=t,tx_bw_size=lots", "--net: tx_bw_size must be a number, not 'lots'" },
		{ "tap=t,rx_size=1", "--net: unknown key 'rx_size'" },
		{ "tap=t,bw_size=1", "--net: unknown key 'bw_size'" },
		{ "tap=t,rx_", "--net: 'rx_' is not key=value" },
	};

	cr_assert_eq(config_parse_run(7, ok, &cfg, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.nnets, 2);
	cr_assert_eq(cfg.nets[0].rx_rl.bw.size, 128 << 10);
	cr_assert_eq(cfg.nets[0].rx_rl.bw.refill_ms, 250);
	cr_assert_eq(cfg.nets[0].rx_rl.bw.one_time_burst, 1 << 20);
	cr_assert_eq(cfg.nets[0].rx_rl.ops.size, 0);
	cr_assert_eq(cfg.nets[0].tx_rl.ops.size, 100);
	cr_assert_eq(cfg.nets[0].tx_rl.ops.refill_ms, 1000);
	cr_assert_eq(cfg.nets[0].tx_rl.ops.one_time_burst, 10);
	cr_assert_eq(cfg.nets[0].tx_rl.bw.size, 0);
	cr_assert(cfg.nets[0].mac_set);
	cr_assert_eq(cfg.nets[1].tx_rl.bw.size, 64 << 10);
	cr_assert_eq(cfg.nets[1].tx_rl.bw.refill_ms, 100);
	cr_assert_eq(cfg.nets[1].rx_rl.ops.size, 5);
	cr_assert_eq(cfg.nets[1].rx_rl.ops.refill_ms, 50);
	config_free(&cfg);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char *argv[] = { "run", "--kernel", "/dev/null", "--net", (char *)bad[i].spec, NULL };

		cr_assert_neq(config_parse_run(5, argv, &cfg, &err), 0, "%s", bad[i].spec);
		cr_assert_str_eq(err.msg, bad[i].msg);
		cr_assert_eq(cfg.nnets, 0);
		config_free(&cfg);
	}
}

/* ---- virtio-blk behind its limiter ---- */
#define RQ(k) (VT_BUF + 0x10000ULL * (k))
#define RQ_DATA(k) (RQ(k) + 0x1000)
#define RQ_STATUS(k) (RQ(k) + 0xf000)

static struct loop rl_loop;
static char rl_img[64];

static void setup_limited(void)
{
	/* 8 KiB a 100 ms (80 KiB/s), full at the start */
	struct drive_cfg cfg = { .path = rl_img, .rl = { .bw = { 8192, 0, 100 } } };
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct errbuf err;
	int fd;

	snprintf(rl_img, sizeof(rl_img), "%s/ember-rl-XXXXXX", dir);
	fd = mkstemp(rl_img);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	vt_setup_vm();
	cr_assert_eq(loop_init(&rl_loop, 256), 0);
	vt_vm.host.loop = &rl_loop;
	cr_assert_eq(blk_create(&vt_vm.host, 0, &cfg, &vt_vd, &err), 0, "%s", err.msg);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), 64);
}

static void teardown_limited(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&rl_loop);
	vt_teardown();
	unlink(rl_img);
}

/* Request k: a 4 KiB read of sector 8k. */
static void post_read(unsigned k)
{
	struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 8 * k };
	unsigned d = 3 * k;

	memcpy(vt_g(RQ(k)), &h, sizeof(h));
	*vt_g(RQ_STATUS(k)) = 0xee;
	vt_set_desc(0, d, RQ(k), sizeof(h), VRING_DESC_F_NEXT, d + 1);
	vt_set_desc(0, d + 1, RQ_DATA(k), 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, d + 2);
	vt_set_desc(0, d + 2, RQ_STATUS(k), 1, VRING_DESC_F_WRITE, 0);
	vt_avail_add(0, (uint16_t)d);
}

TestSuite(blk_limited, .init = setup_limited, .fini = teardown_limited);

Test(blk_limited, timer_lets_held_requests_go)
{
	uint64_t t0 = vt_mono_ms(), dt;

	for (unsigned k = 0; k < 6; k++)
		post_read(k);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&rl_loop, 0, 2), "the full bucket lets 2 reads go");
	while (vt_loop_turn(&rl_loop, false))
		;
	cr_assert_eq(vt_used_idx(0), 2, "the other 4 wait for tokens");
	cr_assert(vt_pump_until_used(&rl_loop, 0, 6));
	dt = vt_mono_ms() - t0;
	/* 16 KiB more at 80 KiB/s: 200 ms */
	cr_assert(dt >= 190 && dt < 2000, "took %llu ms", (unsigned long long)dt);
	for (unsigned k = 0; k < 6; k++)
		cr_assert_eq(*vt_g(RQ_STATUS(k)), VIRTIO_BLK_S_OK);
}

Test(blk_limited, reset_drops_held_requests_at_once)
{
	for (unsigned k = 0; k < 6; k++)
		post_read(k);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&rl_loop, 0, 2));
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(virtio_vm_draining(&vt_vm.host), 0, "held requests are not in the kernel");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	for (unsigned k = 2; k < 6; k++)
		cr_assert_eq(*vt_g(RQ_STATUS(k)), 0xee, "request %u was not served", k);
}

/* ---- virtio-rng behind its limiter: 128 bytes a 100 ms ---- */
static void setup_rng_limited(void)
{
	struct ratelimit_cfg rl = { .bw = { 128, 0, 100 } };
	struct errbuf err;

	vt_setup_vm();
	cr_assert_eq(loop_init(&rl_loop, 256), 0);
	vt_vm.host.loop = &rl_loop;
	cr_assert_eq(rng_create(&vt_vm.host, 0, &rl, &vt_vd, &err), 0, "%s", err.msg);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), 64);
}

static void teardown_rng_limited(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&rl_loop);
	vt_teardown();
}

Test(rng_limited, bytes_per_interval, .init = setup_rng_limited, .fini = teardown_rng_limited)
{
	uint64_t t0 = vt_mono_ms(), dt;

	for (unsigned k = 0; k < 6; k++)
		vt_post_write(0, (uint16_t)k, VT_BUF + 0x1000 * k, 64);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert(vt_pump_until_used(&rl_loop, 0, 2), "a full bucket gives 128 bytes at once");
	while (vt_loop_turn(&rl_loop, false))
		;
	cr_assert_eq(vt_used_idx(0), 2, "the rest waits for its timer");
	cr_assert(vt_pump_until_used(&rl_loop, 0, 6));
	dt = vt_mono_ms() - t0;
	/* the rng learns a request's size only after taking it: it waits for
	 * one token and then runs into debt, so the last 64 bytes are paid
	 * for after they went: 192 bytes at 1280 B/s, 150 ms */
	cr_assert(dt >= 140 && dt < 2000, "took %llu ms", (unsigned long long)dt);
	for (unsigned k = 0; k < 6; k++)
		cr_assert_eq(vt_used_len(0, k), 64);
}
