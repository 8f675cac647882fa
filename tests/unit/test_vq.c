/* tests/unit/test_vq.c - the split virtqueue core over a fake guest RAM:
 * normal and indirect chains, index wrap-around, EVENT_IDX, save/restore,
 * and hostile rings (each: an error, the queue broken, nothing written). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <linux/virtio_ring.h>

#include "snapshot/sbuf.h"
#include "virtio/virtio.h"

#define RAM MiB(16)
#define DESC 0x10000ULL
#define AVAIL 0x20000ULL
#define USED 0x30000ULL
#define ITBL 0x40000ULL
#define ITBL2 0x48000ULL
#define BUF 0x100000ULL
#define QSZ 16
#define WATCH MiB(1)	/* hostile pops must leave [0, WATCH) as it was */
#define F_IND (1ULL << VQ_F_INDIRECT_DESC)
#define F_EV (1ULL << VQ_F_EVENT_IDX)

static struct vm vm;
static struct vq q;
static uint16_t aidx;		/* the driver's avail.idx */
static uint8_t *before;
static struct iovec rd[64], wr[64];
static struct vq_req r, last;	/* last: r as the hostile pop left it */

static uint8_t *G(uint64_t gpa) { return vm.mem.host + gpa; }

static void set_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(G(table + 16ULL * i), &d, sizeof(d));
}

static void avail_add(uint16_t head)
{
	memcpy(G(AVAIL + 4 + 2 * (aidx % q.size)), &head, 2);
	aidx++;
	memcpy(G(AVAIL + 2), &aidx, 2);
}

static void set_avail_idx(uint16_t v)
{
	aidx = v;
	memcpy(G(AVAIL + 2), &aidx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, G(USED + 2), 2);
	return v;
}

static void used_elem(unsigned slot, uint32_t *id, uint32_t *len)
{
	memcpy(id, G(USED + 4 + 8 * slot), 4);
	memcpy(len, G(USED + 8 + 8 * slot), 4);
}

static void setup_q(uint64_t features)
{
	cr_assert_eq(gmem_init(&vm.mem, RAM), 0);
	vm_host_init(&vm);
	vq_init(&q, &vm.host);
	q.size = QSZ;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	cr_assert_eq(vq_set_ready(&q, features, 256), 0);
	aidx = 0;
	r = (struct vq_req){ .rd = rd, .wr = wr, .rd_cap = 8, .wr_cap = 8 };
	before = malloc(WATCH);
	cr_assert(before);
}

static void setup_plain(void) { setup_q(0); }
static void setup_all(void) { setup_q(F_IND | F_EV); }

static void teardown(void)
{
	free(before);
	gmem_destroy(&vm.mem);
}

static bool in_ram(const struct iovec *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *p = v[i].iov_base;

		if (p < vm.mem.host || p + v[i].iov_len > vm.mem.host + vm.mem.size ||
		    p + v[i].iov_len < p)
			return false;
	}
	return true;
}

/* A hostile pop: the expected error, the queue broken, later calls refused,
 * and not one byte of guest memory changed (pushes included). */
static void expect_hostile(int err)
{
	int rc;

	memcpy(before, vm.mem.host, WATCH);
	rc = vq_pop(&q, &r);
	last = r;
	cr_assert_eq(rc, err, "pop gave %d, wanted %d", rc, err);
	cr_assert(q.broken);
	cr_assert_eq(q.err, err);
	cr_assert(in_ram(rd, r.nrd) && in_ram(wr, r.nwr));
	cr_assert(r.nrd <= r.rd_cap && r.nwr <= r.wr_cap);
	cr_assert_eq(vq_pop(&q, &r), VQ_ERR_BROKEN);
	vq_push(&q, 0, 1);
	cr_assert_not(vq_should_notify(&q));
	cr_assert_eq(memcmp(before, vm.mem.host, WATCH), 0, "guest memory written");
	cr_assert_str_neq(vq_strerror(err), "unknown virtqueue error");
}

/* ---- normal operation -------------------------------------------------- */
TestSuite(vq, .init = setup_plain, .fini = teardown);
TestSuite(vq_all, .init = setup_all, .fini = teardown);
TestSuite(vq_hostile, .init = setup_plain, .fini = teardown);
TestSuite(vq_hostile_ind, .init = setup_all, .fini = teardown);

Test(vq, empty_queue_pops_nothing)
{
	cr_assert_eq(vq_pop(&q, &r), 0);
	cr_assert_not(vq_has_avail(&q));
	cr_assert_not(q.broken);
}

Test(vq, simple_chain)
{
	set_desc(DESC, 3, BUF, 16, VRING_DESC_F_NEXT, 7);
	set_desc(DESC, 7, BUF + 0x1000, 512, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	avail_add(3);
	cr_assert(vq_has_avail(&q));
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(r.head, 3);
	cr_assert_eq(r.nrd, 2);
	cr_assert_eq(r.nwr, 1);
	cr_assert_eq(r.rd_len, 528);
	cr_assert_eq(r.wr_len, 1);
	cr_assert_eq(rd[0].iov_base, G(BUF));
	cr_assert_eq(rd[1].iov_base, G(BUF + 0x1000));
	cr_assert_eq(rd[1].iov_len, 512);
	cr_assert_eq(wr[0].iov_base, G(BUF + 0x2000));
	cr_assert_eq(vq_pop(&q, &r), 0);

	vq_push(&q, 3, 1);
	uint32_t id, len;

	cr_assert_eq(used_idx(), 1);
	used_elem(0, &id, &len);
	cr_assert_eq(id, 3);
	cr_assert_eq(len, 1);
	cr_assert(vq_should_notify(&q));
	cr_assert_not(vq_should_notify(&q), "nothing new since the last check");
}

Test(vq, zero_length_buffers_are_skipped)
{
	/* a zero-length buffer at an absurd address is not a violation */
	set_desc(DESC, 0, 0xfffffffffffff000ULL, 0, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(r.nrd, 0);
	cr_assert_eq(r.nwr, 1);
}

Test(vq, no_interrupt_flag)
{
	uint16_t fl = VRING_AVAIL_F_NO_INTERRUPT;

	set_desc(DESC, 0, BUF, 8, 0, 0);
	avail_add(0);
	cr_assert_eq(vq_pop(&q, &r), 1);
	memcpy(G(AVAIL), &fl, 2);
	vq_push(&q, 0, 0);
	cr_assert_not(vq_should_notify(&q));
	fl = 0;
	memcpy(G(AVAIL), &fl, 2);
	avail_add(0);
	cr_assert_eq(vq_pop(&q, &r), 1);
	vq_push(&q, 0, 0);
	cr_assert(vq_should_notify(&q));
}

Test(vq, no_notify_flag)
{
	uint16_t fl;

	cr_assert_not(vq_set_notify(&q, false));
	memcpy(&fl, G(USED), 2);
	cr_assert_eq(fl, VRING_USED_F_NO_NOTIFY);
	set_desc(DESC, 0, BUF, 8, 0, 0);
	avail_add(0);
	cr_assert(vq_set_notify(&q, true), "a chain arrived while kicks were off");
	memcpy(&fl, G(USED), 2);
	cr_assert_eq(fl, 0);
}

Test(vq, notify_after_is_a_plain_enable_without_event_idx)
{
	uint16_t fl;

	cr_assert_not(vq_set_notify(&q, false));
	cr_assert_not(vq_set_notify_after(&q, 8), "nothing available");
	memcpy(&fl, G(USED), 2);
	cr_assert_eq(fl, 0, "kicks on: the next chain kicks");
	cr_assert(q.notify_on);
}

Test(vq, index_wrap_around)
{
	/* start both sides just below 65536 and run across the wrap */
	q.last_avail = q.used_idx = q.signalled = 65530;
	set_avail_idx(65530);
	for (unsigned k = 0; k < 40; k++) {
		uint16_t head = k % QSZ;

		set_desc(DESC, head, BUF + 64 * k, 64, VRING_DESC_F_WRITE, 0);
		avail_add(head);
		cr_assert_eq(vq_pop(&q, &r), 1, "round %u", k);
		cr_assert_eq(r.head, head);
		cr_assert_eq(wr[0].iov_base, G(BUF + 64 * k));
		vq_push(&q, head, 64);
		cr_assert_eq(used_idx(), (uint16_t)(65531 + k));
	}
	cr_assert_eq(q.last_avail, (uint16_t)(65530 + 40));
	cr_assert_not(q.broken);
}

Test(vq, full_ring_is_fine)
{
	for (unsigned i = 0; i < QSZ; i++) {
		set_desc(DESC, i, BUF + 16 * i, 16, 0, 0);
		avail_add(i);
	}
	for (unsigned i = 0; i < QSZ; i++)
		cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(vq_pop(&q, &r), 0);
}

Test(vq, unpop_and_get_chain)
{
	set_desc(DESC, 5, BUF, 100, VRING_DESC_F_WRITE, 0);
	avail_add(5);
	cr_assert_eq(vq_pop(&q, &r), 1);
	vq_unpop(&q, 1);
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(r.head, 5);
	cr_assert_eq(vq_get_chain(&q, 5, &r), 1);
	cr_assert_eq(r.wr_len, 100);
	cr_assert_eq(vq_get_chain(&q, QSZ, &r), VQ_ERR_INDEX);
	cr_assert(q.broken);
}

Test(vq, ring_setup_checks)
{
	struct vq b;

	vq_init(&b, &vm.host);
	b.desc_gpa = DESC;
	b.avail_gpa = AVAIL;
	b.used_gpa = USED;
	b.size = 12;			/* not a power of two */
	cr_assert_lt(vq_set_ready(&b, 0, 256), 0);
	b.size = 512;			/* above the device's maximum */
	cr_assert_lt(vq_set_ready(&b, 0, 256), 0);
	b.size = 0;
	cr_assert_lt(vq_set_ready(&b, 0, 256), 0);
	b.size = 8;
	b.desc_gpa = DESC + 8;		/* misaligned */
	cr_assert_lt(vq_set_ready(&b, 0, 256), 0);
	b.desc_gpa = DESC;
	b.used_gpa = USED + 2;
	cr_assert_lt(vq_set_ready(&b, 0, 256), 0);
	b.used_gpa = RAM - 16;		/* runs off the end of RAM */
	cr_assert_eq(vq_set_ready(&b, 0, 256), VQ_ERR_ADDR);
	b.used_gpa = 0xfffffffffffffff0ULL;	/* wraps the address space */
	cr_assert_eq(vq_set_ready(&b, 0, 256), VQ_ERR_ADDR);
	cr_assert_not(b.ready);
	b.used_gpa = USED;
	cr_assert_eq(vq_set_ready(&b, 0, 256), 0);
	cr_assert(b.ready);
}

Test(vq, iov_helpers)
{
	uint8_t a[5], b[7], out[12];
	struct iovec v[2] = { { a, 5 }, { b, 7 } }, s[2];

	memset(a, 'a', 5);
	memset(b, 'b', 7);
	cr_assert_eq(vq_iov_read(v, 2, 3, out, 12), 9);
	cr_assert_eq(memcmp(out, "aabbbbbbb", 9), 0);
	cr_assert_eq(vq_iov_write(v, 2, 4, "XY", 2), 2);
	cr_assert_eq(a[4], 'X');
	cr_assert_eq(b[0], 'Y');
	cr_assert_eq(vq_iov_slice(v, 2, 4, 3, s, 2), 2);
	cr_assert_eq(s[0].iov_base, a + 4);
	cr_assert_eq(s[0].iov_len, 1);
	cr_assert_eq(s[1].iov_len, 2);
	cr_assert_eq(vq_iov_slice(v, 2, 0, 12, s, 1), -ENOBUFS);
	cr_assert_eq(vq_iov_slice(v, 2, 0, 13, s, 2), -ERANGE);
}

/* ---- indirect and EVENT_IDX --------------------------------------------- */
Test(vq_all, indirect_chain)
{
	set_desc(ITBL, 0, BUF, 16, VRING_DESC_F_NEXT, 2);
	set_desc(ITBL, 2, BUF + 0x1000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(ITBL, 1, BUF + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 4, ITBL, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(4);
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(r.head, 4);
	cr_assert_eq(r.nrd, 1);
	cr_assert_eq(r.nwr, 2);
	cr_assert_eq(r.wr_len, 4097);
	cr_assert_eq(wr[1].iov_base, G(BUF + 0x3000));
}

Test(vq_all, direct_then_indirect)
{
	set_desc(ITBL, 0, BUF + 0x1000, 8, VRING_DESC_F_WRITE, 0);
	set_desc(DESC, 0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, ITBL, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_eq(r.nrd, 1);
	cr_assert_eq(r.nwr, 1);
}

Test(vq_all, event_idx_both_ways)
{
	uint16_t ev, aev;

	for (unsigned i = 0; i < 4; i++)
		set_desc(DESC, i, BUF + 64 * i, 64, VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 4; i++)
		avail_add(i);
	/* device -> driver: the driver wants an interrupt after used entry 2 */
	ev = 2;
	memcpy(G(AVAIL + 4 + 2 * QSZ), &ev, 2);
	for (unsigned i = 0; i < 2; i++) {
		cr_assert_eq(vq_pop(&q, &r), 1);
		vq_push(&q, r.head, 64);
	}
	cr_assert_not(vq_should_notify(&q), "used.idx 2 has not passed event 2");
	cr_assert_eq(vq_pop(&q, &r), 1);
	vq_push(&q, r.head, 64);
	cr_assert(vq_should_notify(&q), "used.idx 3 crossed event 2");
	cr_assert_eq(vq_pop(&q, &r), 1);
	vq_push(&q, r.head, 64);
	cr_assert_not(vq_should_notify(&q), "event already passed");
	/* driver -> device: avail_event follows what we consumed */
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 4);
	cr_assert_not(vq_set_notify(&q, false));
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 3, "kicks off: one behind what was consumed");
	avail_add(0);
	/* the driver's kick test (vring_need_event): its addition 4 -> 5
	 * does not pass event 3 */
	cr_assert_geq((uint16_t)(5 - aev - 1), (uint16_t)(5 - 4));
	cr_assert_eq(vq_pop(&q, &r), 1);
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 3, "not updated while kicks are off");
	cr_assert_not(vq_set_notify(&q, true));
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 5);
}

/* The driver's side of EVENT_IDX (vring_need_event): does moving avail.idx
 * from old to new kick? */
static bool driver_kicks(uint16_t old, uint16_t new)
{
	uint16_t aev;

	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	return (uint16_t)(new - aev - 1) < (uint16_t)(new - old);
}

Test(vq_all, notify_after_kicks_at_the_nth_chain)
{
	uint16_t aev;

	set_desc(DESC, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 4; i++) {
		avail_add(0);
		cr_assert_eq(vq_pop(&q, &r), 1);
		vq_push(&q, 0, 8);
	}
	cr_assert_not(vq_set_notify_after(&q, 3), "nothing available");
	cr_assert(q.notify_on);
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 6, "last_avail 4 + 3 - 1");
	/* one at a time: only the third addition kicks */
	cr_assert_not(driver_kicks(4, 5));
	cr_assert_not(driver_kicks(5, 6));
	cr_assert(driver_kicks(6, 7));
	/* added at once, past the event: one kick */
	cr_assert(driver_kicks(4, 9));
	/* the driver added two (no kick): they are reported, and a pop asks
	 * for a kick on the next chain again */
	avail_add(0);
	avail_add(0);
	cr_assert(vq_set_notify_after(&q, 3), "chains available");
	cr_assert_eq(vq_pop(&q, &r), 1);
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, 5);
	cr_assert_eq(vq_pop(&q, &r), 1);
	cr_assert_not(vq_set_notify_after(&q, 1), "n 1: the next chain kicks");
	cr_assert(driver_kicks(6, 7));
	/* never further ahead than the ring holds */
	cr_assert_not(vq_set_notify_after(&q, 1000));
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, (uint16_t)(6 + QSZ - 1));
	cr_assert(driver_kicks(6, 6 + QSZ), "a full ring kicks");
	/* a broken queue: nothing written */
	vq_fail(&q, VQ_ERR_INDEX);
	cr_assert_not(vq_set_notify_after(&q, 2));
	memcpy(&aev, G(USED + 4 + 8 * QSZ), 2);
	cr_assert_eq(aev, (uint16_t)(6 + QSZ - 1));
}

Test(vq_all, save_restore_roundtrip)
{
	struct sbuf sb;
	struct vq copy;

	set_desc(DESC, 0, BUF, 8, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	avail_add(0);
	cr_assert_eq(vq_pop(&q, &r), 1);
	vq_push(&q, 0, 8);
	sbuf_init(&sb);
	vq_save(&q, &sb);
	cr_assert_eq(sb.err, 0);
	vq_init(&copy, &vm.host);
	struct sbuf rb;

	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vq_restore(&copy, &rb, 256), 0);
	cr_assert(copy.ready && copy.indirect && copy.event_idx);
	cr_assert_eq(copy.last_avail, 1);
	cr_assert_eq(copy.used_idx, 1);
	cr_assert_eq(copy.desc, q.desc);
	cr_assert_eq(vq_pop(&copy, &r), 1, "the second chain is still there");
	/* truncated and out-of-range state is refused */
	sbuf_view(&rb, sb.data, sb.len - 1);
	cr_assert_eq(vq_restore(&copy, &rb, 256), -EINVAL);
	sbuf_view(&rb, sb.data, sb.len);
	cr_assert_eq(vq_restore(&copy, &rb, 8), -EINVAL, "size above max");
	sbuf_free(&sb);
}

/* ---- hostile rings ------------------------------------------------------ */
Test(vq_hostile, two_descriptor_loop)
{
	set_desc(DESC, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	avail_add(0);
	r.rd_cap = 64;		/* room for more than the queue size */
	expect_hostile(VQ_ERR_LOOP);
	cr_assert_eq(last.nrd, QSZ);
}

Test(vq_hostile, loop_with_zero_length_buffers)
{
	/* zero-length buffers use no iovec, so only the hop limit ends this */
	set_desc(DESC, 0, BUF, 0, VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 0, VRING_DESC_F_NEXT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_LOOP);
}

Test(vq_hostile, self_loop)
{
	set_desc(DESC, 2, BUF, 0, VRING_DESC_F_NEXT, 2);
	avail_add(2);
	expect_hostile(VQ_ERR_LOOP);
}

Test(vq_hostile, next_out_of_range)
{
	set_desc(DESC, 0, BUF, 8, VRING_DESC_F_NEXT, QSZ);
	avail_add(0);
	expect_hostile(VQ_ERR_INDEX);
}

Test(vq_hostile, head_out_of_range)
{
	avail_add(0xffff);
	expect_hostile(VQ_ERR_INDEX);
}

Test(vq_hostile, avail_idx_jumps_past_size)
{
	set_avail_idx(QSZ + 1);
	expect_hostile(VQ_ERR_AVAIL);
}

Test(vq_hostile, avail_idx_goes_backwards)
{
	set_avail_idx(0xffff);
	expect_hostile(VQ_ERR_AVAIL);
}

Test(vq_hostile, buffer_outside_ram)
{
	set_desc(DESC, 0, RAM - 8, 16, 0, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ADDR);
}

Test(vq_hostile, buffer_in_mmio_gap)
{
	set_desc(DESC, 0, VIRTIO_MMIO_BASE, 16, 0, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ADDR);
}

Test(vq_hostile, buffer_wraps_address_space)
{
	set_desc(DESC, 0, 0xfffffffffffffff8ULL, 16, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ADDR);
}

Test(vq_hostile, huge_length)
{
	set_desc(DESC, 0, BUF, 0xffffffffu, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ADDR);
}

Test(vq_hostile, readable_after_writable)
{
	set_desc(DESC, 0, BUF, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, 0, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ORDER);
}

Test(vq_hostile, iovec_capacity_exceeded)
{
	for (unsigned i = 0; i < 5; i++)
		set_desc(DESC, i, BUF + 8 * i, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, i + 1);
	set_desc(DESC, 5, BUF, 8, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	r.wr_cap = 4;
	expect_hostile(VQ_ERR_CAPACITY);
	cr_assert_eq(last.nwr, 4);
}

Test(vq_hostile, indirect_not_negotiated)
{
	set_desc(ITBL, 0, BUF, 8, 0, 0);
	set_desc(DESC, 0, ITBL, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_NOINDIRECT);
}

Test(vq_hostile_ind, indirect_inside_indirect)
{
	set_desc(ITBL2, 0, BUF, 8, 0, 0);
	set_desc(ITBL, 0, ITBL2, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(DESC, 0, ITBL, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_NESTED);
}

Test(vq_hostile_ind, indirect_zero_length)
{
	set_desc(DESC, 0, ITBL, 0, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_INDIRECT);
}

Test(vq_hostile_ind, indirect_length_not_multiple_of_16)
{
	set_desc(DESC, 0, ITBL, 24, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_INDIRECT);
}

Test(vq_hostile_ind, indirect_with_next)
{
	set_desc(ITBL, 0, BUF, 8, 0, 0);
	set_desc(DESC, 0, ITBL, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	avail_add(0);
	expect_hostile(VQ_ERR_INDIRECT);
}

Test(vq_hostile_ind, indirect_table_outside_ram)
{
	set_desc(DESC, 0, RAM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_ADDR);
}

Test(vq_hostile_ind, indirect_table_huge)
{
	set_desc(DESC, 0, ITBL, 0xfffffff0u, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_INDIRECT);
}

Test(vq_hostile_ind, indirect_loop)
{
	set_desc(ITBL, 0, BUF, 0, VRING_DESC_F_NEXT, 1);
	set_desc(ITBL, 1, BUF, 0, VRING_DESC_F_NEXT, 0);
	set_desc(DESC, 0, ITBL, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_LOOP);
}

Test(vq_hostile_ind, indirect_next_out_of_range)
{
	set_desc(ITBL, 0, BUF, 8, VRING_DESC_F_NEXT, 2);
	set_desc(ITBL, 1, BUF, 8, 0, 0);
	set_desc(DESC, 0, ITBL, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_INDEX);
}

Test(vq_hostile_ind, indirect_capacity_exceeded)
{
	for (unsigned i = 0; i < 20; i++)
		set_desc(ITBL, i, BUF, 8, i < 19 ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(DESC, 0, ITBL, 20 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_hostile(VQ_ERR_CAPACITY);
}

/* Random descriptor tables and avail rings: whatever pop says, it returns,
 * the iovecs it hands out lie in RAM within capacity, and a failure breaks
 * the queue. */
Test(vq_hostile_ind, random_rings)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (unsigned round = 0; round < 3000; round++) {
		vq_init(&q, &vm.host);
		q.size = QSZ;
		q.desc_gpa = DESC;
		q.avail_gpa = AVAIL;
		q.used_gpa = USED;
		cr_assert_eq(vq_set_ready(&q, round & 1 ? F_IND | F_EV : 0, 256), 0);
		for (unsigned i = 0; i < 2 * QSZ; i++) {
			uint64_t w[2];

			for (int k = 0; k < 2; k++) {
				s ^= s << 13; s ^= s >> 7; s ^= s << 17;
				w[k] = s;
			}
			/* bias toward small lengths and addresses inside RAM */
			w[0] &= (round & 2) ? 0xffffffULL : ~0ULL;
			w[1] &= 0x000f0007ffff00ffULL | ((round & 4) ? ~0ULL : 0);
			memcpy(G(i < QSZ ? DESC + 16 * i : ITBL + 16 * (i - QSZ)), w, 16);
		}
		for (unsigned i = 0; i < QSZ; i++) {
			uint16_t h = (uint16_t)(s >> (i % 48));

			if (round & 8)
				h %= QSZ;
			memcpy(G(AVAIL + 4 + 2 * i), &h, 2);
		}
		set_avail_idx((uint16_t)(s >> 20) % (2 * QSZ));
		for (unsigned k = 0; k < 2 * QSZ; k++) {
			int rc = vq_pop(&q, &r);

			cr_assert(r.nrd <= r.rd_cap && r.nwr <= r.wr_cap);
			cr_assert(in_ram(rd, r.nrd) && in_ram(wr, r.nwr));
			if (rc <= 0) {
				cr_assert(rc == 0 || q.broken);
				break;
			}
			vq_push(&q, r.head, (uint32_t)r.wr_len);
		}
	}
}
