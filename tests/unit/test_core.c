/* Unit tests of the core pieces that need no KVM: guest memory and the
 * checked translator, the e820 map, the buses, the state buffer. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

Test(gmem, translator_bounds)
{
	struct gmem m;

	cr_assert_eq(gmem_init(&m, MiB(16)), 0);
	cr_assert_eq(m.low_size, MiB(16));
	cr_assert_eq(gmem_ptr(&m, 0, 1), m.host);
	cr_assert_eq(gmem_ptr(&m, MiB(16) - 4, 4), m.host + MiB(16) - 4);
	cr_assert_null(gmem_ptr(&m, MiB(16) - 4, 5), "straddles the end");
	cr_assert_null(gmem_ptr(&m, MiB(16), 1));
	cr_assert_null(gmem_ptr(&m, 0, 0), "zero length");
	cr_assert_null(gmem_ptr(&m, UINT64_MAX - 1, 4), "wraps");
	cr_assert_null(gmem_ptr(&m, MMIO_GAP_END, 1), "nothing above 4G");
	gmem_destroy(&m);
	gmem_destroy(&m);	/* idempotent */
}

/* Fresh RAM is anonymous, zeroed, and 2 MiB aligned (so the host's huge
 * pages line up with the guest's 2 MiB frames); it has no file. */
Test(gmem, fresh_ram_is_aligned_and_zero)
{
	struct gmem m;

	cr_assert_eq(gmem_init(&m, MiB(6) + 4096), 0);
	cr_assert_eq((uintptr_t)m.host % MiB(2), 0);
	cr_assert_eq(m.fd, -1);
	cr_assert(m.zeroed);
	cr_assert_eq(m.host[0], 0);
	cr_assert_eq(m.host[MiB(6) + 4095], 0);
	m.host[MiB(6) + 4095] = 1;	/* the last byte is mapped and writable */
	gmem_destroy(&m);
}

Test(gmem, refuses_bad_sizes)
{
	struct gmem m;

	cr_assert_eq(gmem_init(&m, MiB(1)), -EINVAL);
	cr_assert_eq(gmem_init(&m, MiB(4) + 1), -EINVAL);
}

Test(gmem, high_memory_above_gap)
{
	struct gmem m;
	uint64_t size = GiB(4);	/* sparse: never touched */

	cr_assert_eq(gmem_init(&m, size), 0);
	cr_assert_eq(m.low_size, MMIO_GAP_START);
	cr_assert_eq(gmem_ptr(&m, MMIO_GAP_START - 8, 8), m.host + MMIO_GAP_START - 8);
	cr_assert_null(gmem_ptr(&m, MMIO_GAP_START - 8, 16), "into the gap");
	cr_assert_null(gmem_ptr(&m, MMIO_GAP_START, 1), "the gap is not RAM");
	cr_assert_eq(gmem_ptr(&m, MMIO_GAP_END, 8), m.host + MMIO_GAP_START);
	cr_assert_eq(gmem_ptr(&m, MMIO_GAP_END + GiB(1) - 8, 8), m.host + size - 8);
	cr_assert_null(gmem_ptr(&m, MMIO_GAP_END + GiB(1) - 8, 9));
	gmem_destroy(&m);
}

Test(e820, small_guest)
{
	struct gmem m;
	struct e820_map e;

	cr_assert_eq(gmem_init(&m, MiB(64)), 0);
	e820_build(&m, &e);
	cr_assert_eq(e.n, 3);
	cr_assert(e.e[0].addr == 0 && e.e[0].size == 0x9fc00 && e.e[0].type == E820_RAM);
	cr_assert(e.e[1].addr == 0x9fc00 && e.e[1].size == 0x100000 - 0x9fc00 &&
		  e.e[1].type == E820_RESERVED);
	cr_assert(e.e[2].addr == MiB(1) && e.e[2].size == MiB(63) && e.e[2].type == E820_RAM);
	gmem_destroy(&m);
}

Test(e820, large_guest_has_gap)
{
	struct gmem m;
	struct e820_map e;

	cr_assert_eq(gmem_init(&m, GiB(5)), 0);
	e820_build(&m, &e);
	cr_assert_eq(e.n, 4);
	cr_assert_eq(e.e[2].addr + e.e[2].size, MMIO_GAP_START);
	cr_assert_eq(e.e[3].addr, MMIO_GAP_END);
	cr_assert_eq(e.e[3].size, GiB(2));
	for (unsigned i = 1; i < e.n; i++)
		cr_assert_geq(e.e[i].addr, e.e[i - 1].addr + e.e[i - 1].size, "sorted, no overlap");
	gmem_destroy(&m);
}

struct counter {
	uint64_t last_off;
	unsigned reads, writes;
};

static void c_read(void *o, uint64_t off, void *data, unsigned size)
{
	struct counter *c = o;

	c->reads++;
	c->last_off = off;
	memset(data, 0x5a, size);
}

static void c_write(void *o, uint64_t off, const void *data, unsigned size)
{
	struct counter *c = o;

	(void)data;
	(void)size;
	c->writes++;
	c->last_off = off;
}

static const struct bus_ops c_ops = { c_read, c_write };

Test(bus, refuses_overlaps)
{
	struct bus b = { .name = "t" };
	struct counter c = { 0 };

	cr_assert_eq(bus_register(&b, 0x100, 0x10, &c_ops, &c, "a"), 0);
	cr_assert_eq(bus_register(&b, 0x200, 0x10, &c_ops, &c, "b"), 0);
	cr_assert_eq(bus_register(&b, 0x10f, 1, &c_ops, &c, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0xf0, 0x11, &c_ops, &c, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x0, 0x1000, &c_ops, &c, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x1f0, 0x11, &c_ops, &c, "x"), -EEXIST);
	cr_assert_eq(bus_register(&b, 0x110, 0xf0, &c_ops, &c, "between"), 0);
	cr_assert_eq(bus_register(&b, 0x50, 0, &c_ops, &c, "empty"), -EINVAL);
	cr_assert_eq(bus_register(&b, UINT64_MAX - 1, 4, &c_ops, &c, "wrap"), -EINVAL);
	cr_assert_eq(b.n, 3);
	for (unsigned i = 1; i < b.n; i++)
		cr_assert_gt(b.r[i].base, b.r[i - 1].base);
	bus_destroy(&b);
}

Test(bus, dispatch_and_misses)
{
	struct bus b = { .name = "t" };
	struct counter c = { 0 };
	uint32_t v = 0;

	for (unsigned i = 0; i < 20; i++)
		cr_assert_eq(bus_register(&b, 0x1000 * (i + 1), 0x100, &c_ops, &c, "r"), 0);
	cr_assert_eq(bus_access(&b, 0x5010, &v, 4, false), 0);
	cr_assert_eq(v, 0x5a5a5a5a);
	cr_assert_eq(c.last_off, 0x10);
	cr_assert_eq(bus_access(&b, 0x50fc, &v, 4, true), 0);
	cr_assert_eq(c.writes, 1);
	cr_assert_eq(bus_access(&b, 0x50fe, &v, 4, false), -ENOENT, "straddles the end");
	cr_assert_eq(v, 0xffffffff);
	cr_assert_eq(bus_access(&b, 0x800, &v, 2, false), -ENOENT);
	cr_assert_eq(v & 0xffff, 0xffff);
	cr_assert_eq(bus_access(&b, 0x800, &v, 2, true), -ENOENT);
	cr_assert_eq(atomic_load(&b.misses), 3);
	cr_assert_null(bus_find(&b, 0x15000));
	cr_assert_not_null(bus_find(&b, 0x140ff));
	bus_destroy(&b);
}

Test(sbuf, roundtrip_and_short_reads)
{
	struct sbuf w, r;
	uint8_t bytes[3];

	sbuf_init(&w);
	sbuf_put_u32(&w, 0xdeadbeef);
	sbuf_put_u64(&w, 42);
	sbuf_put(&w, "abc", 3);
	cr_assert_eq(w.err, 0);
	sbuf_view(&r, w.data, w.len);
	cr_assert_eq(sbuf_get_u32(&r), 0xdeadbeef);
	cr_assert_eq(sbuf_get_u64(&r), 42);
	sbuf_get(&r, bytes, 3);
	cr_assert_eq(memcmp(bytes, "abc", 3), 0);
	cr_assert_eq(r.err, 0);
	cr_assert_eq(sbuf_get_u32(&r), 0, "past the end reads zero");
	cr_assert_eq(r.err, -EINVAL);
	sbuf_put(&r, "x", 1);	/* a view is read-only */
	cr_assert_eq(r.err, -EINVAL);
	sbuf_free(&r);
	sbuf_free(&w);
}
