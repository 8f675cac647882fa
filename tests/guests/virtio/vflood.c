/* vflood.pvh - a guest that floods a drive with bad requests for ever,
 * while it asks the rng (the second virtio device) for bytes.
 *
 * The drive gets one request, a read at a sector past its end (the device
 * refuses it with IOERR at once), made available over and over: the guest
 * keeps all 256 avail slots full, republishing the same head as soon as
 * the used index moves, and kicks when EVENT_IDX says the device wants it.
 * On several host CPUs the guest refills the ring while ember's event loop
 * empties it, whatever a request costs.  On one (the L1 lane has one) they
 * take turns, and the loop is held only if emptying a full ring takes
 * longer than its time slice: so the request's chain is one INDIRECT table
 * of HOPS descriptors (header, zero-length buffers, status byte), which the
 * device walks in full.  Measured in the L1 lane: up to 1024 the loop
 * got through at once, with 4096 it was held in 6 runs of 7, with 8192
 * and more in every run (with the budget, 8192 still lets SIGTERM end
 * ember in a few hundred ms there).  Such a chain is longer than the
 * queue size, which the virtio spec forbids a driver and ember does not
 * check; should it ever refuse them, one CPU will no longer show the
 * defect this guest is for.
 *
 * Meanwhile it posts a 16-byte rng request, polls for it, and posts the
 * next, three times; then prints "vflood: rng served 3 times while
 * flooding" and floods on, silent, until ember is stopped from outside.
 * An rng request not served within 2^33 TSC ticks prints "vflood: rng
 * starved" (once) and the flood goes on too: either way the test then
 * stops ember with SIGTERM.  Exits 1 with the reason on a broken device. */
#include "vio.h"

#define QSIZE 256		/* virtio-blk's QueueNumMax */
#define HOPS 8192		/* descriptors in the request's table */
#define RNG_QSIZE 8
#define RNG_ROUNDS 3

static uint8_t blk_ring[3 * 4096] __attribute__((aligned(4096)));
static uint8_t rng_ring[3 * 4096] __attribute__((aligned(4096)));
static struct vq_desc table[HOPS] __attribute__((aligned(16)));
static struct vblk_hdr hdr;
static volatile uint8_t status;
static uint8_t rbuf[16] __attribute__((aligned(16)));

static struct vio_dev blk, rng;
static struct vio_vq bq, rq;

static noreturn void die(const char *what)
{
	rt_puts("vflood: ");
	rt_println(what);
	rt_exit(1);
}

/* The bad request: a read at `sector`, HOPS descriptors, all in one
 * indirect table behind descriptor 0. */
static void make_request(uint64_t sector)
{
	hdr = (struct vblk_hdr){ .type = VBLK_T_IN, .sector = sector };
	status = VBLK_S_NONE;
	table[0] = (struct vq_desc){ (uintptr_t)&hdr, sizeof(hdr), VQ_DESC_F_NEXT, 1 };
	for (uint32_t i = 1; i < HOPS - 1; i++)
		table[i] = (struct vq_desc){ (uintptr_t)rbuf, 0,
					     VQ_DESC_F_WRITE | VQ_DESC_F_NEXT, (uint16_t)(i + 1) };
	table[HOPS - 1] = (struct vq_desc){ (uintptr_t)&status, 1, VQ_DESC_F_WRITE, 0 };
	bq.desc[0] = (struct vq_desc){ (uintptr_t)table, sizeof(table), VQ_DESC_F_INDIRECT, 0 };
}

/* Fills every free avail slot with the bad request; kicks if the device
 * asks for it. */
static void top_up(void)
{
	while ((uint16_t)(bq.avail_idx - vq_used_idx(&bq)) < QSIZE)
		vq_add(&bq, 0);
	vq_publish(&bq);
	vq_kick(&bq);
}

static void post_rng(void)
{
	struct vio_seg s = { rbuf, sizeof(rbuf), true };

	vq_add(&rq, vq_chain(&rq, 0, &s, 1));
	vq_publish(&rq);
	vq_kick(&rq);
}

int pvh_main(struct hvm_start_info *si);
int pvh_main(struct hvm_start_info *si)
{
	const char *cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
	uint64_t sectors, t0;
	uint16_t blk_start;
	unsigned served = 0;
	bool starved = false;

	if (!vio_find(cmdline, 0, &blk) || !vio_find(cmdline, 1, &rng))
		die("needs a drive and the rng (--drive ... --rng)");
	if (vio_init(&blk, VIO_ID_BLOCK, VIO_BIT(VIO_F_INDIRECT) | VIO_BIT(VIO_F_EVENT_IDX),
		     "vflood") < 0 ||
	    vio_init(&rng, VIO_ID_RNG, 0, "vflood") < 0)
		return 1;
	if (!(blk.features & VIO_BIT(VIO_F_INDIRECT)))
		die("INDIRECT not offered");
	if (vio_vq_setup(&blk, &bq, 0, QSIZE, blk_ring, "vflood") < 0 ||
	    vio_vq_setup(&rng, &rq, 0, RNG_QSIZE, rng_ring, "vflood") < 0)
		return 1;
	vq_no_interrupts(&bq);
	vq_no_interrupts(&rq);
	vio_driver_ok(&blk);
	vio_driver_ok(&rng);
	sectors = vio_read(&blk, VIO_CONFIG + VBLK_CFG_CAPACITY) |
		  (uint64_t)vio_read(&blk, VIO_CONFIG + VBLK_CFG_CAPACITY + 4) << 32;
	make_request(sectors + 1);

	top_up();
	rt_println("vflood: flooding");
	blk_start = vq_used_idx(&bq);
	post_rng();
	t0 = rdtsc();
	for (;;) {
		uint32_t id, len;

		top_up();	/* (no register reads here: they would wait for the device) */
		if (served == RNG_ROUNDS)
			continue;
		if (vq_get_used(&rq, &id, &len)) {
			if (id != 0 || len != sizeof(rbuf))
				die("rng: unexpected used element");
			if (++served < RNG_ROUNDS) {
				post_rng();
				t0 = rdtsc();
				continue;
			}
			if (vq_used_idx(&bq) == blk_start)
				die("the drive served nothing meanwhile");
			if (status != VBLK_S_IOERR || (vio_status(&blk) & VIO_S_NEEDS_RESET))
				die("the bad request did not fail with IOERR");
			rt_println("vflood: rng served 3 times while flooding");
		} else if (!starved && rdtsc() - t0 > (1ULL << 33)) {
			rt_println("vflood: rng starved");
			starved = true;
		}
	}
}
