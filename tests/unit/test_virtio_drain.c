/* tests/unit/test_virtio_drain.c - a reset, or the end of the VM, waits
 * for I/O in flight (virtio/drain.c and its register side in mmio.c):
 * virtio-blk counts the requests a reset made stale; the loop's kick
 * handler, not the resetting thread, queues an ASYNC_CANCEL for each;
 * Status reads non-zero until they are gone; a vCPU-like thread that
 * writes Status 0 waits for them while a loop runs on another thread;
 * teardown (virtio_quiesce) drains them before the ring goes.
 *
 * A request submitted by virtio_dev_kick stays in the ring's SQ until the
 * next turn (loop_sqe only queues), which is what lets these tests hold
 * requests "in flight" without a slow disk. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

#define QS 64
#define REQ(k) (VT_BUF + 0x2000ULL * (k))
#define DATA(k) (REQ(k) + 0x1000)
#define STATUS(k) (REQ(k) + 0x100)

static struct loop loop;
static char img[64];

static void setup(void)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct drive_cfg cfg = { .path = img };
	struct errbuf err;
	int fd;

	vt_setup_vm();
	snprintf(img, sizeof(img), "%s/ember-drain-XXXXXX", dir);
	fd = mkstemp(img);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(loop_init(&loop, 256), 0);
	vt_vm.host.loop = &loop;
	cr_assert_eq(blk_create(&vt_vm.host, 0, &cfg, &vt_vd, &err), 0, "%s", err.msg);
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), QS);
	while (vt_loop_turn(&loop, false))	/* DRIVER_OK's kick */
		;
}

static void teardown(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
	vt_teardown();
	unlink(img);
}

TestSuite(drain, .init = setup, .fini = teardown);

/* n reads of 4 KiB made available and taken by the device: queued in the
 * SQ, not yet submitted. */
static void reads_in_flight(unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN, .sector = 8 * k };

		memcpy(vt_g(REQ(k)), &h, sizeof(h));
		vt_set_desc(0, 3 * k, REQ(k), sizeof(h), VRING_DESC_F_NEXT, 3 * k + 1);
		vt_set_desc(0, 3 * k + 1, DATA(k), 4096,
			    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3 * k + 2);
		vt_set_desc(0, 3 * k + 2, STATUS(k), 1, VRING_DESC_F_WRITE, 0);
		vt_avail_add(0, (uint16_t)(3 * k));
	}
	virtio_dev_kick(vt_vd, 0);
}

static unsigned draining(void)
{
	unsigned n;

	pthread_mutex_lock(&vt_vd->lock);
	n = virtio_dev_draining(vt_vd);
	pthread_mutex_unlock(&vt_vd->lock);
	return n;
}

static unsigned sq_pending(void) { return loop.ring.sq.sqe_tail - loop.ring.sq.sqe_head; }

static struct io_uring_sqe *sq_at(unsigned i)
{
	return &loop.ring.sq.sqes[(loop.ring.sq.sqe_head + i) & loop.ring.sq.ring_mask];
}

Test(drain, counts_stale_requests_only)
{
	reads_in_flight(3);
	cr_assert_eq(sq_pending(), 3);
	cr_assert_eq(draining(), 0, "requests of the current generation are not stale");
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(draining(), 3);
	while (draining())
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_used_idx(0), 0, "nothing of the old generation is used");
}

Test(drain, cancel_queued_by_the_kick_not_the_resetter)
{
	struct pollfd p = { .fd = vt_vd->q[0].efd, .events = POLLIN };

	reads_in_flight(3);
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(sq_pending(), 3, "the resetting thread queued nothing");
	cr_assert(vt_vd->cancel_wanted);
	cr_assert_eq(poll(&p, 1, 0), 1, "the reset kicked queue 0 for the loop");
	virtio_dev_kick(vt_vd, 0);	/* the loop's kick handler */
	cr_assert_not(vt_vd->cancel_wanted);
	cr_assert_eq(sq_pending(), 6);
	for (unsigned i = 0; i < 3; i++) {
		struct io_uring_sqe *c = sq_at(3 + i);
		bool found = false;

		cr_assert_eq(c->opcode, IORING_OP_ASYNC_CANCEL);
		cr_assert_eq(c->user_data, 0, "the cancel's own completion is ignored");
		for (unsigned j = 0; j < 3; j++)
			found |= c->addr == sq_at(j)->user_data;
		cr_assert(found, "cancel %u names a read", i);
	}
	while (draining())
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
}

Test(drain, status_non_zero_until_drained)
{
	reads_in_flight(2);
	vt_wr(VIRTIO_MMIO_STATUS, 0);	/* no loop runs elsewhere: no wait */
	cr_assert_eq(draining(), 2);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0xf, "the pre-reset status, while draining");
	while (draining())
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	vt_driver_init(vt_features(0), QS);	/* and the device works again */
	reads_in_flight(1);
	cr_assert(vt_pump_until_used(&loop, 0, 1));
	cr_assert_eq(*vt_g(STATUS(0)), VIRTIO_BLK_S_OK);
}

Test(drain, queue_ready_zero_drains_too)
{
	reads_in_flight(2);
	vt_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	vt_wr(VIRTIO_MMIO_QUEUE_READY, 0);
	cr_assert_eq(draining(), 2);
	cr_assert(vt_vd->cancel_wanted);
	while (draining())
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_used_idx(0), 0);
}

/* A fake device for the wait: "requests" of generation req_gen; its
 * cancel (which must run on the loop thread) posts their end, which comes
 * 100 ms later, on the loop. */
struct fake {
	struct virtio_dev vd;
	uint32_t req_gen;
	unsigned nreq;
	pthread_t cancel_thread;
	unsigned cancels;
	struct loop_op done_op;
};
static struct fake *fk;

static unsigned fake_draining(struct virtio_dev *vd)
{
	struct fake *f = container_of(vd, struct fake, vd);

	return f->req_gen != vd->gen ? f->nreq : 0;
}

static void fake_done(struct loop_op *op, int res, uint32_t flags)
{
	struct fake *f = container_of(op, struct fake, done_op);

	(void)res, (void)flags;
	usleep(100 * 1000);
	pthread_mutex_lock(&f->vd.lock);
	f->nreq = 0;
	virtio_dev_drained(&f->vd);
	pthread_mutex_unlock(&f->vd.lock);
}

static void fake_cancel(struct virtio_dev *vd)
{
	struct fake *f = container_of(vd, struct fake, vd);

	f->cancel_thread = pthread_self();
	f->cancels++;
	loop_post(vd->host->loop, &f->done_op);
}

static void fake_notify(struct virtio_dev *vd, unsigned q) { (void)vd, (void)q; }
static void fake_destroy(struct virtio_dev *vd) { free(container_of(vd, struct fake, vd)); }

static const struct virtio_dev_ops fake_ops = {
	.device_id = 4, .nqueues = 1, .queue_max = 64,
	.notify = fake_notify, .draining = fake_draining, .cancel = fake_cancel,
	.destroy = fake_destroy,
};

static void setup_fake(void)
{
	struct errbuf err;

	vt_setup_vm();
	cr_assert_eq(loop_init(&loop, 64), 0);
	vt_vm.host.loop = &loop;
	fk = calloc(1, sizeof(*fk));
	cr_assert_eq(virtio_dev_init(&fk->vd, &vt_vm.host, 0, &fake_ops, 0, "fake", &err), 0);
	vm_add_device(&vt_vm, &fk->vd.dev);
	vt_vd = &fk->vd;
	fk->done_op.fn = fake_done;
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), QS);
	while (vt_loop_turn(&loop, false))
		;
}

static void teardown_fake(void)
{
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
	vt_teardown();
}

/* The event loop on its own thread, as in ember; stopped through an
 * eventfd whose poll it serves. */
static int stop_efd = -1;
static struct loop_op stop_op;

static void on_stop(struct loop_op *op, int res, uint32_t flags)
{
	(void)op, (void)res, (void)flags;
	loop_stop(&loop);
}

static void *loop_thread(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)loop_run(&loop);
}

static pthread_t start_loop_thread(void)
{
	pthread_t t;

	stop_efd = eventfd(0, EFD_CLOEXEC);
	stop_op.fn = on_stop;
	loop_poll(&loop, stop_efd, POLLIN, false, &stop_op);
	cr_assert_eq(pthread_create(&t, NULL, loop_thread, NULL), 0);
	while (!atomic_load(&loop.running))
		sched_yield();
	return t;
}

static void stop_loop_thread(pthread_t t)
{
	uint64_t one = 1;
	void *rc;

	cr_assert_eq(write(stop_efd, &one, sizeof(one)), sizeof(one));
	pthread_join(t, &rc);
	cr_assert_eq((intptr_t)rc, 0);
	close(stop_efd);
}

TestSuite(drain_wait, .init = setup_fake, .fini = teardown_fake);

Test(drain_wait, resetting_thread_waits_for_the_loop)
{
	pthread_t t;
	uint64_t t0;

	fk->req_gen = fk->vd.gen;
	fk->nreq = 3;
	t = start_loop_thread();
	t0 = now_ns();
	vt_wr(VIRTIO_MMIO_STATUS, 0);	/* this thread is a vCPU */
	cr_assert_geq(now_ns() - t0, 100 * 1000000ULL, "returned before the requests ended");
	cr_assert_eq(fk->nreq, 0);
	cr_assert_eq(fk->cancels, 1);
	cr_assert(pthread_equal(fk->cancel_thread, t), "cancel ran on the loop thread");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	stop_loop_thread(t);
}

Test(drain_wait, no_wait_when_stopping)
{
	pthread_t t;

	fk->req_gen = fk->vd.gen;
	fk->nreq = 3;
	atomic_store(&vt_vm.stopping, 1);
	t = start_loop_thread();
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	pthread_mutex_lock(&fk->vd.lock);
	/* (the loop may have ended them already; if not, Status shows it) */
	cr_assert(fk->nreq == 0 || vt_vd->reset_status == 0xf);
	pthread_mutex_unlock(&fk->vd.lock);
	stop_loop_thread(t);
	atomic_store(&vt_vm.stopping, 0);
}

Test(drain_wait, no_wait_on_the_loop_thread)
{
	fk->req_gen = fk->vd.gen;
	fk->nreq = 3;
	loop.thread = pthread_self();	/* as if loop_run ran here */
	atomic_store(&loop.running, true);
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	atomic_store(&loop.running, false);
	cr_assert_eq(fk->nreq, 3, "it did not wait for itself");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0xf);
	while (fk->nreq)
		cr_assert_gt(vt_loop_turn(&loop, true), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
}

Test(drain, teardown_quiesces_and_drains)
{
	reads_in_flight(5);
	cr_assert_eq(virtio_quiesce(&vt_vm.host, 5000), 0);
	cr_assert_eq(draining(), 0);
	cr_assert_eq(sq_pending(), 0, "everything was submitted");
	cr_assert_eq(vt_used_idx(0), 0, "nothing completes to the guest");
	cr_assert_not(virtio_dev_queue_live(vt_vd, 0), "a quiesced device starts nothing");
	reads_in_flight(0);
	vt_avail_add(0, 0);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(sq_pending(), 0);
	cr_assert_eq(virtio_vm_draining(&vt_vm.host), 0);
}
