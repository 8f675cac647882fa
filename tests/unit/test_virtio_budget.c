/* tests/unit/test_virtio_budget.c - a pass's budget (virtio_pass_*, in
 * virtio/mmio.c), with virtio-rng behind the transport: a guest that keeps
 * the avail ring full gets VIRTIO_BUDGET chains served per turn of the
 * event loop, the next pass posted on the loop in between; none of that
 * without a loop; a pass posted when a reset comes does nothing; a restore
 * serves what the snapshot left available.  The virtio-blk and virtio-net
 * floods are in their own files. */
#include <string.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "tests/unit/test_virtio.h"

#define N 200		/* chains published at once: over three budgets */
#define QS 256

static struct loop loop;

static void setup(void)
{
	vt_setup_rng();
	cr_assert_eq(loop_init(&loop, 64), 0);
	vt_vm.host.loop = &loop;
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), QS);	/* DRIVER_OK kicks the queue */
}

static void teardown(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
	vt_teardown();
}

TestSuite(budget, .init = setup, .fini = teardown);

/* Chain 0, one 16-byte writable buffer, made available n times. */
static void flood(unsigned n)
{
	vt_set_desc(0, 0, VT_BUF, 16, VRING_DESC_F_WRITE, 0);
	vt_avail_repeat(0, 0, n);
}

Test(budget, one_pass_a_turn)
{
	flood(N);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	for (uint16_t want = VIRTIO_BUDGET; ; want += VIRTIO_BUDGET) {
		if (want > N)
			want = N;
		cr_assert_eq(vt_loop_turn(&loop, true), 1, "one completion a turn");
		cr_assert_eq(vt_used_idx(0), want, "one pass a turn");
		cr_assert_eq(vt_vd->q[0].rerun, want < N, "the next pass is posted");
		if (want == N)
			break;
	}
	cr_assert_eq(vt_used_len(0, N - 1), 16);
}

/* A kick handled while a pass is posted serves one more pass and posts
 * no second one. */
Test(budget, kick_while_posted)
{
	flood(N);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), VIRTIO_BUDGET);
	cr_assert(vt_vd->q[0].rerun);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 2 * VIRTIO_BUDGET);
	cr_assert(vt_pump_until_used(&loop, 0, N));
	while (vt_vd->q[0].rerun)	/* (a pass posted before the last one) */
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_used_idx(0), N);
	cr_assert_eq(vt_loop_turn(&loop, false), 0, "nothing left on the loop");
}

/* The pass posted before a reset finds the queue not live: nothing used,
 * nothing posted again. */
Test(budget, reset_while_posted)
{
	flood(N);
	virtio_dev_kick(vt_vd, 0);
	cr_assert(vt_vd->q[0].rerun);
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	while (vt_vd->q[0].rerun)
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_used_idx(0), VIRTIO_BUDGET);
	cr_assert_eq(vt_loop_turn(&loop, false), 0, "nothing left on the loop");
}

/* Without an event loop (the fuzz session) there is nothing to yield to:
 * a kick serves everything. */
Test(budget, none_without_a_loop)
{
	vt_vm.host.loop = NULL;
	flood(N);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), N);
	cr_assert_not(vt_vd->q[0].rerun);
}

/* A snapshot taken with chains left for the next pass: the restored VM's
 * loop (a new one) gets a pass for them, without a kick. */
Test(budget, restore_serves_what_was_left)
{
	struct sbuf sb, rb;

	cr_assert_eq(vt_loop_turn(&loop, true), 1);	/* DRIVER_OK's kick, read */
	flood(N);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), VIRTIO_BUDGET);
	sbuf_init(&sb);
	cr_assert_eq(vt_vd->dev.ops->save(&vt_vd->dev, &sb), 0);
	vt_vm.host.loop = NULL;		/* the old loop goes, its pass with it */
	loop_destroy(&loop);
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), 0);
	cr_assert_eq(loop_init(&loop, 64), 0);
	vt_vm.host.loop = &loop;
	virtio_start(&vt_vm.host);
	cr_assert(vt_pump_until_used(&loop, 0, N), "used %u, wanted %u",
		  vt_used_idx(0), N);
	sbuf_free(&sb);
}
