/* tests/unit/test_gmem_track.c - the record of host writes to guest RAM
 * (monitor/gmem.c): marks across page and word boundaries, len 0, ranges
 * at the end of RAM and across the MMIO gap, runs merged across words,
 * collect clearing, nothing recorded while off; and the virtqueue core
 * marking the used ring and the buffers a device filled. */
#include <string.h>

#include <criterion/criterion.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

#define PG 4096ull

static struct vm vm;
static struct { uint64_t first, n; } runs[64];
static unsigned nruns;

static void record(void *ctx, uint64_t first, uint64_t n)
{
	(void)ctx;
	cr_assert_lt(nruns, 64);
	runs[nruns].first = first;
	runs[nruns++].n = n;
}

static uint64_t collect(void)
{
	nruns = 0;
	return gmem_track_collect(&vm.mem, record, NULL);
}

static void expect_runs(unsigned n, const uint64_t (*want)[2])
{
	cr_assert_eq(nruns, n, "%u runs, want %u", nruns, n);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(runs[i].first, want[i][0], "run %u starts at %llu, want %llu", i,
			     (unsigned long long)runs[i].first, (unsigned long long)want[i][0]);
		cr_assert_eq(runs[i].n, want[i][1], "run %u: %llu pages, want %llu", i,
			     (unsigned long long)runs[i].n, (unsigned long long)want[i][1]);
	}
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(16)), 0);
}

static void teardown(void)
{
	gmem_destroy(&vm.mem);	/* stops tracking too */
}

TestSuite(gmem_track, .init = setup, .fini = teardown);

Test(gmem_track, off_records_nothing)
{
	gmem_mark(&vm.mem, vm.mem.host, 100);
	gm_mark_dirty(&vm, 0, 100);
	cr_assert_eq(collect(), 0);
	cr_assert_eq(gmem_track_start(&vm.mem), 0);
	cr_assert_eq(collect(), 0, "nothing from before the start");
	cr_assert_eq(gmem_track_start(&vm.mem), -EBUSY);
	gmem_track_stop(&vm.mem);
	gmem_track_stop(&vm.mem);
	cr_assert_null(vm.mem.track);
}

Test(gmem_track, page_boundaries_and_len_0)
{
	cr_assert_eq(gmem_track_start(&vm.mem), 0);
	gmem_mark(&vm.mem, vm.mem.host + 5 * PG + 4095, 2);	/* pages 5 and 6 */
	gmem_mark(&vm.mem, vm.mem.host + 10 * PG, PG);		/* exactly page 10 */
	gmem_mark(&vm.mem, vm.mem.host + 20 * PG, 0);		/* nothing */
	gm_mark_dirty(&vm, 30 * PG + 1, 0);			/* nothing */
	gm_mark_dirty(&vm, 12 * PG - 1, 1);			/* page 11 */
	cr_assert_eq(collect(), 4);
	expect_runs(2, (const uint64_t[][2]){ { 5, 2 }, { 10, 2 } });
}

Test(gmem_track, runs_merge_across_words_and_clear)
{
	cr_assert_eq(gmem_track_start(&vm.mem), 0);
	/* pages 60..70 (two bitmap words), then 4095 (another summary word) */
	gmem_mark(&vm.mem, vm.mem.host + 60 * PG, 11 * PG);
	gmem_mark(&vm.mem, vm.mem.host + 64 * PG, 1);	/* already marked */
	gm_mark_dirty(&vm, 4095 * PG, PG);
	cr_assert_eq(collect(), 12);
	expect_runs(2, (const uint64_t[][2]){ { 60, 11 }, { 4095, 1 } });
	cr_assert_eq(collect(), 0, "a collect clears");
	gmem_mark(&vm.mem, vm.mem.host + 63 * PG, 2 * PG);
	cr_assert_eq(collect(), 2);
	expect_runs(1, (const uint64_t[][2]){ { 63, 2 } });
}

Test(gmem_track, end_of_ram)
{
	uint64_t last = MiB(16) / PG - 1;

	cr_assert_eq(gmem_track_start(&vm.mem), 0);
	gm_mark_dirty(&vm, MiB(16) - 10, 100);		/* runs past the end */
	gm_mark_dirty(&vm, MiB(16), 100);		/* wholly outside */
	gm_mark_dirty(&vm, UINT64_MAX - 5, 100);	/* overflows */
	gmem_mark(&vm.mem, vm.mem.host + MiB(16), PG);	/* past the mapping */
	gmem_mark(&vm.mem, vm.mem.host - 1, 2);		/* before it */
	cr_assert_eq(collect(), 1);
	expect_runs(1, (const uint64_t[][2]){ { last, 1 } });
	gm_mark_dirty(&vm, 0, UINT64_MAX);		/* everything */
	cr_assert_eq(collect(), MiB(16) / PG);
	expect_runs(1, (const uint64_t[][2]){ { 0, MiB(16) / PG } });
}

Test(gmem_track, both_sides_of_the_mmio_gap)
{
	struct vm big;

	/* 3 GiB + 8 MiB of RAM, never touched: 8 MiB lie above 4 GiB */
	memset(&big, 0, sizeof(big));
	cr_assert_eq(gmem_init(&big.mem, GiB(3) + MiB(8)), 0);
	cr_assert_eq(gmem_track_start(&big.mem), 0);
	gm_mark_dirty(&big, GiB(3) - PG, GiB(1) + 2 * PG);	/* 1 page, gap, 1 page */
	gm_mark_dirty(&big, GiB(4) + MiB(8) - 1, 2);		/* the very end */
	nruns = 0;
	cr_assert_eq(gmem_track_collect(&big.mem, record, NULL), 3);
	/* image pages: the low RAM's last, then the first above 4 GiB (right
	 * after it in the image), then the last page */
	expect_runs(2, (const uint64_t[][2]){ { GiB(3) / PG - 1, 2 },
					      { (GiB(3) + MiB(8)) / PG - 1, 1 } });
	gmem_destroy(&big.mem);
}

/* ---- the virtqueue core marks what the device wrote -------------------- */
TestSuite(vq_track, .init = vt_setup_rng, .fini = vt_teardown);

static unsigned has_page(uint64_t pg)
{
	for (unsigned i = 0; i < nruns; i++)
		if (pg >= runs[i].first && pg < runs[i].first + runs[i].n)
			return 1;
	return 0;
}

Test(vq_track, push_marks_used_ring_and_writable_buffers)
{
	vt_driver_init(vt_features(1ULL << VQ_F_EVENT_IDX), 16);
	cr_assert_eq(gmem_track_start(&vt_vm.mem), 0);
	/* a readable buffer (not marked), then a writable one over three
	 * pages (rng fills it all; the core marks it whole either way) */
	vt_set_desc(0, 0, VT_BUF + 0x5000, 16, VRING_DESC_F_NEXT, 1);
	vt_set_desc(0, 1, VT_BUF + 0x1ffe, 0x1004, VRING_DESC_F_WRITE, 0);
	vt_avail_add(0, 0);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 1);
	nruns = 0;
	gmem_track_collect(&vt_vm.mem, record, NULL);
	cr_assert(has_page(VT_USED(0) / PG), "the used ring");
	cr_assert(has_page((VT_BUF + 0x1ffe) / PG) && has_page((VT_BUF + 0x2000) / PG) &&
		  has_page((VT_BUF + 0x3001) / PG), "the whole writable buffer");
	cr_assert(!has_page((VT_BUF + 0x5000) / PG), "not the readable one");
	cr_assert(!has_page(VT_DESC(0) / PG) && !has_page(VT_AVAIL(0) / PG),
		  "not the driver's rings");
	gmem_track_stop(&vt_vm.mem);
	/* off again: a push marks nothing (and needs no record) */
	vt_post_write(0, 2, VT_BUF + 0x8000, 64);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 2);
}

Test(vq_track, indirect_chain)
{
	struct vring_desc tbl[2] = {
		{ .addr = VT_BUF + 0x9000, .len = 8, .flags = VRING_DESC_F_NEXT, .next = 1 },
		{ .addr = VT_BUF + 0xa000, .len = 3 * PG, .flags = VRING_DESC_F_WRITE },
	};

	vt_driver_init(vt_features(0), 16);
	memcpy(vt_g(VT_BUF + 0x7000), tbl, sizeof(tbl));
	cr_assert_eq(gmem_track_start(&vt_vm.mem), 0);
	vt_set_desc(0, 0, VT_BUF + 0x7000, sizeof(tbl), VRING_DESC_F_INDIRECT, 0);
	vt_avail_add(0, 0);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 1);
	nruns = 0;
	gmem_track_collect(&vt_vm.mem, record, NULL);
	for (uint64_t p = 0; p < 3; p++)
		cr_assert(has_page((VT_BUF + 0xa000) / PG + p));
	cr_assert(!has_page((VT_BUF + 0x9000) / PG));
	cr_assert(!has_page((VT_BUF + 0x7000) / PG), "not the table");
	cr_assert(has_page(VT_USED(0) / PG));
}

/* ---- page runs: the one walk from bits to runs of pages ---- */
struct got_runs {
	unsigned n;
	uint64_t first[8], len[8];
};

static void got_run(void *ctx, uint64_t first, uint64_t n)
{
	struct got_runs *g = ctx;

	cr_assert_lt(g->n, 8);
	g->first[g->n] = first;
	g->len[g->n++] = n;
}

Test(page_runs, runs_cross_words_and_clear_on_request)
{
	uint64_t bm[3] = { 1ull << 63, 0x7, 1ull << 5 };	/* pages 63..66, 133 */
	struct got_runs g = { 0 };
	struct page_runs r = { .fn = got_run, .ctx = &g };

	page_runs_bitmap(&r, bm, 0, 3, 1000, false);
	cr_assert_eq(page_runs_end(&r), 5);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.first[0], 1063);
	cr_assert_eq(g.len[0], 4);
	cr_assert_eq(g.first[1], 1133);
	cr_assert_eq(g.len[1], 1);
	cr_assert_eq(bm[1], 0x7, "not cleared unless asked");
	memset(&g, 0, sizeof(g));
	r = (struct page_runs){ .fn = got_run, .ctx = &g };
	page_runs_bitmap(&r, bm, 1, 3, 0, true);	/* words 1..2 only */
	page_runs_add(&r, 200);				/* then one page by hand */
	cr_assert_eq(page_runs_end(&r), 5);
	cr_assert_eq(g.n, 3);
	cr_assert_eq(g.first[0], 64);
	cr_assert_eq(g.len[0], 3);
	cr_assert_eq(bm[1] | bm[2], 0);
	cr_assert_eq(bm[0], 1ull << 63, "outside the words: untouched");
	cr_assert_eq(page_runs_end(&r), 5, "nothing left to hand over");
}
