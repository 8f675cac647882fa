/* tests/unit/test_virtio_mmio.c - the virtio-mmio transport driven through
 * the MMIO bus as a guest driver would, with virtio-rng behind it: the
 * registers, feature negotiation, the status machine, kicks (trapped write
 * and eventfd on a real event loop), interrupts, NEEDS_RESET on a hostile
 * ring, reset, and save/restore. */
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "tests/unit/test_virtio.h"

TestSuite(mmio, .init = vt_setup_rng, .fini = vt_teardown);

Test(mmio, identity_registers)
{
	cr_assert_eq(vt_rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_VERSION), 2);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_DEVICE_ID), 4);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_VENDOR_ID);
	vt_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
	vt_wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0, "rng has one queue");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	/* registers want 32-bit accesses; others read as 0 */
	uint16_t v16 = 0x1234;

	bus_access(&vt_vm.mmio, VIRTIO_MMIO_BASE, &v16, 2, false);
	cr_assert_eq(v16, 0);
}

Test(mmio, feature_negotiation)
{
	vt_wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vt_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	cr_assert(vt_rd(VIRTIO_MMIO_DEVICE_FEATURES) & 1, "VERSION_1 offered");
	vt_wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	cr_assert(vt_rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VQ_F_EVENT_IDX));

	/* without VERSION_1: FEATURES_OK does not stick */
	vt_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vt_wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	vt_wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* a feature that was not offered: refused too */
	vt_wr(VIRTIO_MMIO_DRIVER_FEATURES, 1 | (1u << 5));
	vt_wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	/* DRIVER_OK without FEATURES_OK is not taken either */
	vt_wr(VIRTIO_MMIO_STATUS, 0x7);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK, 0);
	vt_wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	vt_wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	cr_assert_eq(vt_vd->guest_features, 1ULL << 32);
	/* features are frozen once FEATURES_OK is set */
	vt_wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
	cr_assert_eq(vt_vd->guest_features, 1ULL << 32);
}

Test(mmio, request_kick_interrupt_ack)
{
	uint64_t cnt;
	uint8_t zero[64] = { 0 };

	vt_driver_init(vt_features(0), 16);
	/* DRIVER_OK kicked every queue once: work may have come before it */
	cr_assert_eq(read(vt_vd->q[0].efd, &cnt, 8), 8);
	cr_assert_eq(cnt, 1);
	vt_post_write(0, 0, VT_BUF, 64);
	/* the trapped QueueNotify write signals the queue's eventfd */
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	cr_assert_eq(read(vt_vd->q[0].efd, &cnt, 8), 8);
	cr_assert_eq(cnt, 1);
	vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 7);	/* no such queue: ignored */
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 1);
	cr_assert_eq(vt_used_len(0, 0), 64);
	cr_assert_neq(memcmp(vt_g(VT_BUF), zero, 64), 0, "random bytes written");
	cr_assert_eq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	vt_wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

Test(mmio, queue_registers_frozen_while_ready)
{
	vt_driver_init(vt_features(0), 16);
	vt_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	vt_wr(VIRTIO_MMIO_QUEUE_NUM, 8);
	vt_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	cr_assert_eq(vt_vd->q[0].vq.size, 16);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_DESC_LOW), VT_DESC(0));
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_READY), 1);
}

Test(mmio, reset_on_status_zero)
{
	vt_driver_init(vt_features(0), 16);
	vt_post_write(0, 0, VT_BUF, 8);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_neq(vt_vd->isr, 0);
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert_eq(vt_vd->guest_features, 0);
	cr_assert_eq(vt_vd->q[0].vq.last_avail, 0);
	/* and it can be brought up again */
	vt_driver_init(vt_features(0), 16);
	vt_post_write(0, 0, VT_BUF, 8);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 1);
}

Test(mmio, hostile_ring_needs_reset)
{
	vt_driver_init(vt_features(0), 16);
	vt_set_desc(0, 3, VT_BUF, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);	/* loop */
	vt_avail_add(0, 3);
	virtio_dev_kick(vt_vd, 0);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	cr_assert(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
	cr_assert_eq(vt_used_idx(0), 0);
	/* the driver's status writes keep NEEDS_RESET; kicks are ignored */
	vt_wr(VIRTIO_MMIO_STATUS, 0xf);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 0);
	/* reset recovers */
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	vt_driver_init(vt_features(0), 16);
	vt_post_write(0, 0, VT_BUF, 8);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 1);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}

Test(mmio, bad_ring_setup_needs_reset)
{
	vt_driver_init(vt_features(0), 12);	/* not a power of two */
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_READY), 0);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
}

Test(mmio, save_restore)
{
	struct sbuf sb, rb;

	vt_driver_init(vt_features(0), 16);
	vt_post_write(0, 0, VT_BUF, 8);
	virtio_dev_kick(vt_vd, 0);
	sbuf_init(&sb);
	cr_assert_eq(vt_vd->dev.ops->save(&vt_vd->dev, &sb), 0);
	vt_vd->dev.ops->reset(&vt_vd->dev);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0);
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_STATUS), 0xf);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	vt_wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_READY), 1);
	cr_assert_eq(vt_rd(VIRTIO_MMIO_QUEUE_USED_LOW), VT_USED(0));
	vt_post_write(0, 1, VT_BUF + 64, 8);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 2, "carries on where it was saved");
	/* truncated or foreign state is refused and leaves a reset device */
	for (size_t cut = 0; cut < sb.len; cut += 7) {
		sbuf_view(&rb, sb.data, cut);
		cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), -EINVAL, "cut %zu", cut);
	}
	sb.data[4] ^= 1;	/* device id */
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vt_vd->dev.ops->restore(&vt_vd->dev, &rb), -EINVAL);
	sbuf_free(&sb);
}

/* Kicks through the real event loop: eventfd poll, multishot. */
Test(mmio, kick_through_event_loop)
{
	static struct loop loop;

	cr_assert_eq(loop_init(&loop, 64), 0);
	vt_vm.host.loop = &loop;
	virtio_start(&vt_vm.host);
	vt_driver_init(vt_features(0), 16);	/* DRIVER_OK kicks every queue */
	for (unsigned k = 0; k < 3; k++) {
		vt_post_write(0, k, VT_BUF + 64 * k, 16);
		vt_wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		cr_assert(vt_pump_until_used(&loop, 0, (uint16_t)(k + 1)), "request %u", k);
	}
	vt_vm.host.loop = NULL;
	loop_destroy(&loop);
}
