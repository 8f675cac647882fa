/* vhostile.pvh - a guest that breaks the virtqueue rules on one virtio-blk
 * device (the first: "A") and keeps using a second one ("B") between
 * attacks.  Run with two drives (B of at least 16 sectors) and --mem 64M
 * (so 2 GiB is outside RAM).
 *
 * For each case A is reset and set up again (queue of 16, INDIRECT
 * offered and taken except where the case says not), the case writes its
 * garbage into the rings and kicks; A must answer with the config-change
 * interrupt (taken through the IOAPIC) and NEEDS_RESET in Status, and
 * must not have used anything.  Then B writes a sector and reads it back.
 * The last case sets a ring outside RAM before DRIVER_OK: Status must show
 * NEEDS_RESET (no interrupt: the driver is not ready).  At the end A is
 * reset with 8 writes in flight and set up again: a read must work and be
 * the only thing in the new used ring.  Prints one line per case and
 * "vhostile: ok"; exits 0, or prints what went wrong and exits 1. */
#include "virq.h"

#define QSIZE 16
#define OUTSIDE_RAM 0x80000000u

static uint8_t ring_a[3 * 4096] __attribute__((aligned(4096)));
static uint8_t ring_b[3 * 4096] __attribute__((aligned(4096)));
static uint8_t data[2][512] __attribute__((aligned(512)));
static struct vq_desc itable[4] __attribute__((aligned(16)));
static struct vq_desc inner[2] __attribute__((aligned(16)));
static struct vblk_hdr hdr, inflight_hdr[8];
static volatile uint8_t st, inflight_st[8];

static struct vio_dev a, b;
static struct vio_vq qa, qb;
static int irq_a;

static noreturn void die(const char *what)
{
	rt_puts("vhostile: ");
	rt_println(what);
	rt_exit(1);
}

/* One synchronous request on q (one data buffer of 512 bytes). */
static uint8_t blk_sync(struct vio_vq *q, uint32_t type, uint64_t sector, void *buf)
{
	struct vio_seg s[3] = {
		{ &hdr, sizeof(hdr), false },
		{ buf, 512, type == VBLK_T_IN },
		{ (const void *)&st, 1, true },
	};
	uint32_t id, len;

	hdr = (struct vblk_hdr){ .type = type, .sector = sector };
	st = VBLK_S_NONE;
	vq_add(q, vq_chain(q, 0, s, 3));
	vq_publish(q);
	vq_kick(q);
	if (!vq_wait_used(q, &id, &len))
		die("timeout on a request");
	return st;
}

/* B must still work: write sector n with a pattern, read it back. */
static void check_b(unsigned n)
{
	vio_zero(data[0], 512);
	data[0][0] = (uint8_t)n;
	data[0][511] = (uint8_t)~n;
	if (blk_sync(&qb, VBLK_T_OUT, n, data[0]) != VBLK_S_OK)
		die("drive B: write failed");
	vio_zero(data[1], 512);
	if (blk_sync(&qb, VBLK_T_IN, n, data[1]) != VBLK_S_OK ||
	    !vio_equal(data[0], data[1], 512))
		die("drive B: read back differs");
}

static void setup_a(bool indirect, bool driver_ok)
{
	uint64_t want = VIO_BIT(VBLK_F_FLUSH) | (indirect ? VIO_BIT(VIO_F_INDIRECT) : 0);

	vio_reset(&a);
	if (vio_init(&a, VIO_ID_BLOCK, want, "vhostile") < 0 ||
	    vio_vq_setup(&a, &qa, 0, QSIZE, ring_a, "vhostile") < 0)
		rt_exit(1);
	vq_no_interrupts(&qa);	/* used-ring interrupts off; config ones stay */
	if (driver_ok)
		vio_driver_ok(&a);
}

/* Kicks A and waits for its config-change interrupt and NEEDS_RESET;
 * then drive B must work. */
static void expect_reset(const char *name)
{
	static unsigned n = 1;
	uint32_t bits;
	const char *bad = NULL;

	vq_notify(&qa);
	bits = virq_wait(irq_a, "vhostile");
	if (!(bits & VIO_INT_CONFIG) || !(vio_status(&a) & VIO_S_NEEDS_RESET))
		bad = ": no config interrupt or no NEEDS_RESET";
	else if (vq_used_idx(&qa) != 0)
		bad = ": the device used a bad chain";
	if (bad) {
		rt_puts("vhostile: ");
		rt_puts(name);
		rt_println(bad);
		rt_exit(1);
	}
	check_b(n++);
	rt_puts("vhostile: ");
	rt_puts(name);
	rt_println(": needs reset; drive B ok");
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	qa.desc[i] = (struct vq_desc){ addr, len, flags, next };
}

/* Publishes head 0 on A. */
static void publish0(void)
{
	vq_add(&qa, 0);
	vq_publish(&qa);
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uintptr_t h = (uintptr_t)&hdr, s = (uintptr_t)&st, d = (uintptr_t)data[1];

	if (!vio_find(cmdline, 0, &a) || !vio_find(cmdline, 1, &b))
		die("needs two virtio-mmio devices");
	if (vio_init(&b, VIO_ID_BLOCK, 0, "vhostile") < 0 ||
	    vio_vq_setup(&b, &qb, 0, QSIZE, ring_b, "vhostile") < 0)
		return 1;
	vio_driver_ok(&b);
	vq_no_interrupts(&qb);
	virq_init();
	irq_a = virq_route(&a);

	setup_a(true, true);		/* 0 -> 1 -> 0 -> ... */
	desc(0, h, 16, VQ_DESC_F_NEXT, 1);
	desc(1, h, 16, VQ_DESC_F_NEXT, 0);
	publish0();
	expect_reset("descriptor loop");

	setup_a(true, true);
	desc(0, h, 16, VQ_DESC_F_NEXT, 200);
	publish0();
	expect_reset("next out of range");

	setup_a(true, true);
	qa.avail[1] = QSIZE + 1;	/* avail.idx ahead by more than the size */
	expect_reset("avail index jump");

	setup_a(true, true);
	vq_add(&qa, 999);
	vq_publish(&qa);
	expect_reset("head out of range");

	setup_a(true, true);
	desc(0, OUTSIDE_RAM, 16, VQ_DESC_F_NEXT, 1);
	desc(1, s, 1, VQ_DESC_F_WRITE, 0);
	publish0();
	expect_reset("buffer outside RAM");

	setup_a(true, true);
	desc(0, 0xfffffffffffff000ull, 0x2000, VQ_DESC_F_NEXT, 1);
	desc(1, s, 1, VQ_DESC_F_WRITE, 0);
	publish0();
	expect_reset("buffer wrapping the address space");

	setup_a(false, true);
	itable[0] = (struct vq_desc){ h, 16, VQ_DESC_F_NEXT, 1 };
	itable[1] = (struct vq_desc){ s, 1, VQ_DESC_F_WRITE, 0 };
	desc(0, (uintptr_t)itable, 32, VQ_DESC_F_INDIRECT, 0);
	publish0();
	expect_reset("indirect not negotiated");

	setup_a(true, true);
	inner[0] = (struct vq_desc){ h, 16, 0, 0 };
	itable[0] = (struct vq_desc){ (uintptr_t)inner, 16, VQ_DESC_F_INDIRECT, 0 };
	desc(0, (uintptr_t)itable, 16, VQ_DESC_F_INDIRECT, 0);
	publish0();
	expect_reset("indirect inside indirect");

	setup_a(true, true);
	desc(0, d, 512, VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, 1);
	desc(1, h, 16, VQ_DESC_F_NEXT, 2);
	desc(2, s, 1, VQ_DESC_F_WRITE, 0);
	publish0();
	expect_reset("readable after writable");

	setup_a(true, true);
	desc(0, s, 1, VQ_DESC_F_WRITE, 0);	/* a status byte and no header */
	publish0();
	expect_reset("request without a header");

	/* a ring outside RAM, before DRIVER_OK: NEEDS_RESET, no interrupt */
	vio_reset(&a);
	if (vio_init(&a, VIO_ID_BLOCK, 0, "vhostile") < 0)
		return 1;
	vio_write(&a, VIO_QUEUE_SEL, 0);
	vio_write(&a, VIO_QUEUE_NUM, QSIZE);
	vio_write(&a, VIO_QUEUE_DESC, OUTSIDE_RAM);
	vio_write(&a, VIO_QUEUE_DESC + 4, 0);
	vio_write(&a, VIO_QUEUE_READY, 1);
	if (vio_read(&a, VIO_QUEUE_READY) || !(vio_status(&a) & VIO_S_NEEDS_RESET))
		die("ring outside RAM: accepted");
	check_b(0);
	rt_println("vhostile: ring outside RAM: refused, needs reset; drive B ok");

	/* a reset with 8 writes in flight: none of them may complete into
	 * the rings set up after it */
	setup_a(true, true);
	for (unsigned i = 0; i < 8; i++) {
		struct vio_seg sg[3] = {
			{ &inflight_hdr[i], sizeof(inflight_hdr[i]), false },
			{ data[0], 512, false },
			{ (const void *)&inflight_st[i], 1, true },
		};

		inflight_hdr[i] = (struct vblk_hdr){ .type = VBLK_T_OUT, .sector = i };
		vq_add(&qa, vq_chain(&qa, (uint16_t)(4 + 3 * i), sg, 3));
	}
	vq_publish(&qa);
	vq_notify(&qa);
	setup_a(true, true);
	{
		uint32_t id, len;

		if (blk_sync(&qa, VBLK_T_IN, 0, data[1]) != VBLK_S_OK)
			die("drive A: read after reset failed");
		if (vq_used_idx(&qa) != 1 || vq_get_used(&qa, &id, &len))
			die("drive A: a request from before the reset completed after it");
	}
	rt_println("vhostile: drive A works after a reset with writes in flight");
	rt_println("vhostile: ok");
	return 0;
}
