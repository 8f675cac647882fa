/* tests/unit/test_mptable.c - the MP floating pointer and configuration
 * table: checksums, processors, the IOAPIC and the interrupt entries. */
#include <criterion/criterion.h>
#include <string.h>

#include "monitor/boot/boot.h"

static struct vm vm;
static struct errbuf err;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&err, 0, sizeof(err));
	cr_assert_eq(gmem_init(&vm.mem, MiB(64)), 0);
}

static void teardown(void)
{
	gmem_destroy(&vm.mem);
}

TestSuite(mptable, .init = setup, .fini = teardown);

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Parses the table like a guest would and checks everything. */
static void check(unsigned ncpus)
{
	struct mpf_intel mpf;
	struct mpc_table t;
	const uint8_t *p, *end;
	unsigned cpus = 0, buses = 0, ioapics = 0, ints = 0, lints = 0, n = 0;
	bool irq_seen[24] = { false };

	memset(gm_ptr(&vm, MPTABLE_ADDR, 4096), 0xa5, 4096);	/* stale bytes */
	cr_assert_eq(mptable_write(&vm, ncpus, &err), 0, "%s", err.msg);
	memcpy(&mpf, gm_ptr(&vm, MPTABLE_ADDR, sizeof(mpf)), sizeof(mpf));
	cr_assert_eq(memcmp(mpf.signature, "_MP_", 4), 0);
	cr_assert_eq(mpf.length, 1);
	cr_assert_eq(mpf.specification, 4);
	cr_assert_eq(sum(gm_ptr(&vm, MPTABLE_ADDR, 16), 16), 0);
	cr_assert_eq(mpf.feature[0], 0);	/* a table is present */
	cr_assert_eq(mpf.physptr % 4, 0);

	memcpy(&t, gm_ptr(&vm, mpf.physptr, sizeof(t)), sizeof(t));
	cr_assert_eq(memcmp(t.signature, "PCMP", 4), 0);
	cr_assert_eq(t.spec, 4);
	cr_assert_eq(t.lapic, LAPIC_ADDR);
	cr_assert_eq(t.ext_length, 0);
	cr_assert_eq(sum(gm_ptr(&vm, mpf.physptr, t.length), t.length), 0);
	cr_assert_lt(mpf.physptr + t.length, 0x100000);

	p = (const uint8_t *)gm_ptr(&vm, mpf.physptr, t.length) + sizeof(t);
	end = (const uint8_t *)gm_ptr(&vm, mpf.physptr, t.length) + t.length;
	while (p < end) {
		n++;
		switch (p[0]) {
		case MP_PROCESSOR: {
			struct mpc_cpu c;

			memcpy(&c, p, sizeof(c));
			cr_assert_eq(c.apicid, cpus);
			cr_assert(c.cpuflag & 1, "CPU %u enabled", cpus);
			cr_assert_eq(!!(c.cpuflag & 2), cpus == 0, "BSP is CPU 0");
			cr_assert_neq(c.cpufeature, 0);
			cpus++;
			p += 20;
			break;
		}
		case MP_BUS:
			cr_assert_eq(memcmp(p + 2, "ISA   ", 6), 0);
			cr_assert_eq(p[1], 0);
			buses++;
			p += 8;
			break;
		case MP_IOAPIC: {
			struct mpc_ioapic io;

			memcpy(&io, p, sizeof(io));
			cr_assert_eq(io.apicid, ncpus);
			cr_assert_eq(io.apicver, 0x11);
			cr_assert_eq(io.flags & 1, 1);
			cr_assert_eq(io.apicaddr, IOAPIC_ADDR);
			ioapics++;
			p += 8;
			break;
		}
		case MP_INTSRC: {
			struct mpc_intsrc s;

			memcpy(&s, p, sizeof(s));
			cr_assert_eq(s.irqtype, MP_INT);
			cr_assert_eq(s.srcbus, 0);
			cr_assert_lt(s.srcbusirq, 24);
			cr_assert_neq(s.srcbusirq, 2);
			cr_assert(!irq_seen[s.srcbusirq]);
			irq_seen[s.srcbusirq] = true;
			cr_assert_eq(s.dstapic, ncpus);
			cr_assert_eq(s.dstirq, s.srcbusirq == 0 ? 2 : s.srcbusirq);
			ints++;
			p += 8;
			break;
		}
		case MP_LINTSRC: {
			struct mpc_intsrc s;

			memcpy(&s, p, sizeof(s));
			cr_assert_eq(s.dstapic, 0xff);	/* all local APICs */
			cr_assert_eq(s.dstirq, s.irqtype == MP_EXTINT ? 0 : 1);
			cr_assert(s.irqtype == MP_EXTINT || s.irqtype == MP_NMI);
			lints++;
			p += 8;
			break;
		}
		default:
			cr_assert_fail("unknown entry type %u", p[0]);
		}
	}
	cr_assert_eq(p, end);
	cr_assert_eq(cpus, ncpus);
	cr_assert_eq(buses, 1);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(ints, 23, "pins 0-23 but the cascade");
	cr_assert_eq(lints, 2);
	cr_assert_eq(t.oemcount, n);
}

Test(mptable, one_cpu) { check(1); }
Test(mptable, two_cpus) { check(2); }
Test(mptable, thirty_two_cpus) { check(32); }
Test(mptable, sixty_four_cpus) { check(MAX_CPUS); }

Test(mptable, refused)
{
	cr_assert_eq(mptable_write(&vm, 0, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "cannot build an MP table for 0 CPUs (1 to 64)");
	cr_assert_eq(mptable_write(&vm, MAX_CPUS + 1, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "cannot build an MP table for 65 CPUs (1 to 64)");
}
