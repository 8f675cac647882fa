/* vrng.pvh - virtio-rng on the first virtio device, interrupt-driven.
 *
 * Negotiates no optional feature (no EVENT_IDX: the avail flags ask for
 * interrupts), routes the device's GSI level-triggered through the IOAPIC,
 * then twice: offers buffers, kicks and waits (sti; hlt) for the used-ring
 * interrupt, whose handler acknowledges InterruptStatus.  Round 1 offers
 * two chains at once (64 bytes in two 32-byte segments, and 32 bytes),
 * round 2 one chain of 64 bytes: the second interrupt shows the line went
 * low on the acknowledgement and the IOAPIC took the EOI.  Each buffer
 * must be filled completely (used length) and must not be constant, and
 * no two buffers may be equal.  Prints one line per round and
 * "vrng: ok"; exits 0, or prints what is wrong and exits 1. */
#include "virq.h"

static uint8_t ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t buf[3][64] __attribute__((aligned(64)));

static struct vio_dev dev;
static struct vio_vq vq;

static noreturn void die(const char *what)
{
	rt_puts("vrng: ");
	rt_println(what);
	rt_exit(1);
}

/* A buffer of random bytes: not all the same byte. */
static bool random_enough(const uint8_t *p, uint32_t len)
{
	return !vio_all(p, p[0], len);
}

/* Waits for the interrupt, then for `count` used chains; each must have
 * filled want[id] bytes. */
static void collect(int h, unsigned count, const uint32_t *want)
{
	uint32_t bits = virq_wait(h, "vrng");

	if (!(bits & VIO_INT_VRING))
		die("interrupt without the used-ring bit");
	for (unsigned i = 0; i < count; i++) {
		uint32_t id, len;

		if (!vq_get_used(&vq, &id, &len))
			die("interrupt but no used chain");
		if (id >= 8 || len != want[id])
			die("short or unknown chain");
	}
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uint32_t want[8] = { 0 };
	int h;

	if (!vio_find(cmdline, 0, &dev))
		die("no virtio-mmio device on the command line");
	if (vio_init(&dev, VIO_ID_RNG, 0, "vrng") < 0)
		return 1;
	if (vio_vq_setup(&dev, &vq, 0, 8, ring, "vrng") < 0)
		return 1;
	virq_init();
	h = virq_route(&dev);
	vio_driver_ok(&dev);

	/* round 1: chain 0 = two segments of buf[0], chain 2 = buf[1] */
	{
		struct vio_seg a[2] = { { buf[0], 32, true }, { buf[0] + 32, 32, true } };
		struct vio_seg b[1] = { { buf[1], 32, true } };

		want[0] = 64;
		want[2] = 32;
		vq_add(&vq, vq_chain(&vq, 0, a, 2));
		vq_add(&vq, vq_chain(&vq, 2, b, 1));
		vq_publish(&vq);
		vq_kick(&vq);
		collect(h, 2, want);
	}
	if (!random_enough(buf[0], 64) || !random_enough(buf[1], 32))
		die("constant bytes");
	rt_println("vrng: round 1: 2 chains, 96 bytes");
	/* round 2 */
	{
		struct vio_seg c[1] = { { buf[2], 64, true } };

		want[3] = 64;
		vq_add(&vq, vq_chain(&vq, 3, c, 1));
		vq_publish(&vq);
		vq_kick(&vq);
		collect(h, 1, want);
	}
	if (!random_enough(buf[2], 64))
		die("constant bytes");
	if (vio_equal(buf[0], buf[2], 32) || vio_equal(buf[0], buf[1], 32) ||
	    vio_equal(buf[1], buf[2], 32))
		die("two buffers hold the same bytes");
	rt_println("vrng: round 2: 1 chain, 64 bytes");
	rt_println("vrng: ok");
	return 0;
}
