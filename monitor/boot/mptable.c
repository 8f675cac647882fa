/* monitor/boot/mptable.c - the Intel MultiProcessor Specification 1.4
 * tables that tell a guest (Linux without ACPI) its CPUs, its IOAPIC and
 * how the ISA interrupts are wired. */
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

#define MP_SPEC_REV 4			/* version 1.4 */
#define MP_LAPIC_VERSION 0x14		/* what KVM's local APIC reports */
#define MP_IOAPIC_VERSION 0x11
#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2
#define MP_CPU_SIGNATURE 0x600		/* family 6, model 0, stepping 0 */
#define MP_CPU_FEATURES 0x201		/* CPUID.1 EDX: FPU, APIC */
#define MP_IOAPIC_ENABLED 1
#define MP_IRQS 24	/* every IOAPIC pin: virtio-mmio uses GSI 5 and up */
#define MP_ISA_BUS 0
#define MP_ALL_LAPICS 0xff

_Static_assert(sizeof(struct mpf_intel) == 16 && sizeof(struct mpc_table) == 44 &&
	       sizeof(struct mpc_cpu) == 20 && sizeof(struct mpc_bus) == 8 &&
	       sizeof(struct mpc_ioapic) == 8 && sizeof(struct mpc_intsrc) == 8,
	       "MP table layouts");

/* The whole table: floating pointer, header, then the entries. */
#define MP_SIZE_MAX (sizeof(struct mpf_intel) + sizeof(struct mpc_table) + \
		     MAX_CPUS * sizeof(struct mpc_cpu) + \
		     (1 + 1 + MP_IRQS + 2) * 8)

static uint8_t mp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void put(uint8_t **p, const void *e, size_t len, uint16_t *count)
{
	memcpy(*p, e, len);
	*p += len;
	(*count)++;
}

static void put_int(uint8_t **p, uint16_t *count, uint8_t type,
		    uint8_t irqtype, uint8_t bus_irq, uint8_t dst, uint8_t pin)
{
	struct mpc_intsrc e = {
		.type = type, .irqtype = irqtype, .irqflag = 0,
		.srcbus = MP_ISA_BUS, .srcbusirq = bus_irq,
		.dstapic = dst, .dstirq = pin,
	};

	put(p, &e, sizeof(e), count);
}

int mptable_write(struct vm *vm, unsigned ncpus, struct errbuf *err)
{
	uint8_t *base, *p;
	struct mpf_intel mpf;
	struct mpc_table hdr;
	uint16_t count = 0;
	unsigned i, irq;
	uint8_t ioapic_id = (uint8_t)ncpus;

	if (ncpus == 0 || ncpus > MAX_CPUS)
		return err_set(err, EINVAL,
			       "cannot build an MP table for %u CPUs (1 to %d)",
			       ncpus, MAX_CPUS);
	base = gm_ptr(vm, MPTABLE_ADDR, MP_SIZE_MAX);
	if (!base)
		return err_set(err, EFAULT, "no guest RAM for the MP table at 0x%llx",
			       (unsigned long long)MPTABLE_ADDR);
	memset(base, 0, MP_SIZE_MAX);
	p = base + sizeof(mpf) + sizeof(hdr);

	for (i = 0; i < ncpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR, .apicid = (uint8_t)i,
			.apicver = MP_LAPIC_VERSION,
			.cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			.cpufeature = MP_CPU_SIGNATURE,
			.featureflag = MP_CPU_FEATURES,
		};

		put(&p, &c, sizeof(c), &count);
	}
	{
		struct mpc_bus b = { .type = MP_BUS, .busid = MP_ISA_BUS };
		struct mpc_ioapic io = {
			.type = MP_IOAPIC, .apicid = ioapic_id,
			.apicver = MP_IOAPIC_VERSION, .flags = MP_IOAPIC_ENABLED,
			.apicaddr = (uint32_t)IOAPIC_ADDR,
		};

		memcpy(b.bustype, "ISA   ", 6);
		put(&p, &b, sizeof(b), &count);
		put(&p, &io, sizeof(io), &count);
	}
	/* IRQ n on pin n, except the timer (IRQ 0) which is on pin 2;
	 * IRQ 2 (the cascade) has no pin of its own.  Pins 16-23 are listed
	 * too, so a guest can use every pin for virtio-mmio devices. */
	for (irq = 0; irq < MP_IRQS; irq++) {
		if (irq == 2)
			continue;
		put_int(&p, &count, MP_INTSRC, MP_INT, (uint8_t)irq, ioapic_id,
			(uint8_t)(irq == 0 ? 2 : irq));
	}
	put_int(&p, &count, MP_LINTSRC, MP_EXTINT, 0, MP_ALL_LAPICS, 0);
	put_int(&p, &count, MP_LINTSRC, MP_NMI, 0, MP_ALL_LAPICS, 1);

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.signature, "PCMP", 4);
	hdr.length = (uint16_t)(p - base - sizeof(mpf));
	hdr.spec = MP_SPEC_REV;
	memcpy(hdr.oem, "EMBER   ", 8);
	memcpy(hdr.productid, "MICROVM     ", 12);
	hdr.oemcount = count;
	hdr.lapic = (uint32_t)LAPIC_ADDR;
	memcpy(base + sizeof(mpf), &hdr, sizeof(hdr));
	base[sizeof(mpf) + offsetof(struct mpc_table, checksum)] =
		mp_checksum(base + sizeof(mpf), hdr.length);

	memset(&mpf, 0, sizeof(mpf));
	memcpy(mpf.signature, "_MP_", 4);
	mpf.physptr = (uint32_t)(MPTABLE_ADDR + sizeof(mpf));
	mpf.length = 1;
	mpf.specification = MP_SPEC_REV;
	/* feature[0] = 0: a configuration table is present;
	 * feature[1] bit 7 (IMCR) = 0: virtual wire mode */
	mpf.checksum = mp_checksum(&mpf, sizeof(mpf));
	memcpy(base, &mpf, sizeof(mpf));
	return 0;
}
