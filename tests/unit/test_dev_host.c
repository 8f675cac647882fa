/* tests/unit/test_dev_host.c - devices on a fake host (devices/host.h):
 * no VM, no KVM, an interrupt sink that records every level a device
 * drives, and a record of stops, markers and control-port commands.  The
 * 8250 UART, the i8042, the control port, isa-debug-exit and virtio-rng
 * behind the virtio-mmio transport are driven through their buses as a
 * guest would, and the interrupts they raise and lower are checked one by
 * one.  Built as device code is (no struct vm): the host is all they see. */
#define EMBER_DEVICE_CODE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "devices/devices.h"
#include "virtio/virtio.h"

#define MAX_EVENTS 64

struct irq_event {
	unsigned gsi;
	int level;
};

static struct fake_host {
	struct dev_host h;
	struct gmem mem;
	struct bus pio, mmio;
	struct device *devs[HOST_MAX_DEVICES];
	unsigned ndevs;
	unsigned state;			/* what host_state() answers */
	struct irq_event irq[MAX_EVENTS];
	unsigned nirq;
	int stops[4];
	unsigned nstops;
	uint32_t markers[4];
	unsigned nmarkers;
	unsigned ctl_cmd;		/* the last command handed to ctl, 0: none */
	uint32_t ctl_arg;
	uint64_t ctl_data;
} fk;

static struct fake_host *fake_of(struct dev_host *h)
{
	return container_of(h, struct fake_host, h);
}

static void fake_irq_line(struct dev_host *h, unsigned gsi, int level)
{
	struct fake_host *f = fake_of(h);

	cr_assert_lt(f->nirq, MAX_EVENTS);
	f->irq[f->nirq++] = (struct irq_event){ gsi, level };
}

static void fake_stop(struct dev_host *h, int status)
{
	struct fake_host *f = fake_of(h);

	cr_assert_lt(f->nstops, ARRAY_SIZE(f->stops));
	f->stops[f->nstops++] = status;
}

static unsigned fake_state(struct dev_host *h)
{
	return fake_of(h)->state;
}

static void fake_marker(struct dev_host *h, uint32_t value)
{
	struct fake_host *f = fake_of(h);

	cr_assert_lt(f->nmarkers, ARRAY_SIZE(f->markers));
	f->markers[f->nmarkers++] = value;
}

static int fake_ctl(struct dev_host *h, unsigned cmd, uint32_t arg, uint64_t data)
{
	struct fake_host *f = fake_of(h);

	f->ctl_cmd = cmd;
	f->ctl_arg = arg;
	f->ctl_data = data;
	return cmd == 0x42 ? 0 : -ENOSYS;	/* one command has a handler */
}

static int fake_add_device(struct dev_host *h, struct device *d)
{
	struct fake_host *f = fake_of(h);

	if (f->ndevs == HOST_MAX_DEVICES)
		return -ENOSPC;
	f->devs[f->ndevs++] = d;
	return 0;
}

static struct device *const *fake_devices(struct dev_host *h, unsigned *n)
{
	*n = fake_of(h)->ndevs;
	return fake_of(h)->devs;
}

static const struct dev_host_ops fake_ops = {
	.irq_line = fake_irq_line,
	.stop = fake_stop,
	.state = fake_state,
	.marker = fake_marker,
	.ctl = fake_ctl,
	.add_device = fake_add_device,
	.devices = fake_devices,
};

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	cr_assert_eq(gmem_init(&fk.mem, MiB(16)), 0);
	fk.pio.name = "pio";
	fk.mmio.name = "mmio";
	fk.h = (struct dev_host){
		.ops = &fake_ops, .mem = &fk.mem, .pio = &fk.pio, .mmio = &fk.mmio,
		.loop = NULL, .vm_fd = -1, .stop_efd = -1,
	};
}

static void teardown(void)
{
	for (unsigned i = fk.ndevs; i-- > 0;)
		fk.devs[i]->ops->destroy(fk.devs[i]);
	bus_destroy(&fk.mmio);
	bus_destroy(&fk.pio);
	gmem_destroy(&fk.mem);
}

TestSuite(dev_host, .init = setup, .fini = teardown);

/* The events recorded since `from` are exactly want[0..n). */
static void expect_irqs(unsigned from, const struct irq_event *want, unsigned n)
{
	cr_assert_eq(fk.nirq - from, n, "%u interrupt events, expected %u", fk.nirq - from, n);
	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(fk.irq[from + i].gsi, want[i].gsi, "event %u", i);
		cr_assert_eq(fk.irq[from + i].level, want[i].level, "event %u", i);
	}
}

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(bus_access(&fk.pio, port, &v, 1, true), 0);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xee;

	cr_assert_eq(bus_access(&fk.pio, port, &v, 1, false), 0);
	return v;
}

static void outl(uint16_t port, uint32_t v)
{
	cr_assert_eq(bus_access(&fk.pio, port, &v, 4, true), 0);
}

/* ---- 8250 UART ----------------------------------------------------------- */
Test(dev_host, serial_receive_and_thr_interrupts)
{
	struct device *s;
	unsigned from;

	cr_assert_eq(serial_create(&fk.h, COM1_BASE, COM1_IRQ, -1, &s), 0);
	cr_assert_eq(fk.ndevs, 1, "the UART added itself to the host's list");
	/* input with the receive interrupt off: no interrupt */
	cr_assert_eq(serial_input(s, (const uint8_t *)"ab", 2), 2);
	cr_assert_eq(fk.nirq, 0);
	/* enabling it with data waiting raises IRQ 4; reading the data out
	 * lowers it once the receive buffer is empty */
	outb(COM1_BASE + 1, 0x01);
	expect_irqs(0, (const struct irq_event[]){ { COM1_IRQ, 1 } }, 1);
	cr_assert_eq(inb(COM1_BASE), 'a');
	cr_assert_eq(fk.nirq, 1, "still data: the line stays high");
	cr_assert_eq(inb(COM1_BASE), 'b');
	expect_irqs(0, (const struct irq_event[]){ { COM1_IRQ, 1 }, { COM1_IRQ, 0 } }, 2);
	/* enabling THRI with THR empty raises it; reading IIR clears it */
	from = fk.nirq;
	outb(COM1_BASE + 1, 0x03);
	expect_irqs(from, (const struct irq_event[]){ { COM1_IRQ, 1 } }, 1);
	cr_assert_eq(inb(COM1_BASE + 2) & 0x0f, 0x02, "IIR: THR empty");
	expect_irqs(from, (const struct irq_event[]){ { COM1_IRQ, 1 }, { COM1_IRQ, 0 } }, 2);
	/* a reset lowers the line */
	from = fk.nirq;
	s->ops->reset(s);
	expect_irqs(from, (const struct irq_event[]){ { COM1_IRQ, 0 } }, 1);
}

/* The console wait asks the host whether the stop is an urgent one: then a
 * console that takes nothing (a full pipe nobody reads) loses the line
 * instead of holding the vCPU. */
Test(dev_host, serial_urgent_stop_drops_output, .timeout = 10)
{
	struct device *s;
	char fill[4096];
	int p[2];

	cr_assert_eq(pipe2(p, O_NONBLOCK), 0);
	memset(fill, 'x', sizeof(fill));
	while (write(p[1], fill, sizeof(fill)) > 0)
		;
	cr_assert_eq(serial_create(&fk.h, COM1_BASE, COM1_IRQ, p[1], &s), 0);
	fk.state = HOST_STOPPING | HOST_STOP_URGENT;
	outb(COM1_BASE, 'h');
	outb(COM1_BASE, '\n');	/* a line: flushed now, and dropped */
	cr_assert_eq(serial_dropped(s), 2);
	close(p[0]);
	close(p[1]);
}

/* ---- i8042 ----------------------------------------------------------------- */
Test(dev_host, i8042_keys_raise_irq1_and_reset_stops)
{
	struct device *k;
	unsigned from = 1;

	cr_assert_eq(i8042_ctrl_alt_del(&fk.h), -ENODEV, "no i8042 among the host's devices");
	cr_assert_eq(i8042_create(&fk.h, &k), 0);
	cr_assert_eq(i8042_ctrl_alt_del(&fk.h), 0);
	expect_irqs(0, (const struct irq_event[]){ { 1, 1 } }, 1);
	/* the eight set-1 codes of Ctrl-Alt-Del (the power-on command byte
	 * translates): each read lowers the line and the next byte raises it
	 * again (an edge per byte, what an edge-triggered IRQ 1 needs); it
	 * stays low after the last */
	for (unsigned i = 0; i < 8; i++) {
		cr_assert(inb(I8042_CMD_PORT) & 0x01, "byte %u waits", i);
		inb(I8042_DATA_PORT);
		if (i < 7) {
			expect_irqs(from, (const struct irq_event[]){ { 1, 0 }, { 1, 1 } }, 2);
			from += 2;
		} else {
			expect_irqs(from, (const struct irq_event[]){ { 1, 0 } }, 1);
		}
	}
	cr_assert_eq(inb(I8042_CMD_PORT) & 0x01, 0, "all read");
	cr_assert_eq(fk.nstops, 0);
	outb(I8042_CMD_PORT, 0xfe);	/* pulse the reset line */
	cr_assert_eq(fk.nstops, 1, "command 0xfe asks the host to stop");
	cr_assert_eq(fk.stops[0], 0);
}

/* ---- the control port and isa-debug-exit --------------------------------- */
Test(dev_host, ctlport_and_debug_exit_reach_the_host)
{
	struct device *c, *x;

	cr_assert_eq(ctlport_create(&fk.h, &c), 0);
	cr_assert_eq(debug_exit_create(&fk.h, &x), 0);
	outl(CTL_PORT, CTL_MARKER | (7u << 8));
	cr_assert_eq(fk.nmarkers, 1);
	cr_assert_eq(fk.markers[0], 7);
	/* a command the port does not know goes to the host's handlers, with
	 * the data register's 64 bits */
	outl(CTL_PORT_DATA, 0x11223344);
	outl(CTL_PORT_DATA + 4, 0x55667788);
	outl(CTL_PORT, 0x42 | (9u << 8));
	cr_assert_eq(fk.ctl_cmd, 0x42);
	cr_assert_eq(fk.ctl_arg, 9);
	cr_assert_eq(fk.ctl_data, 0x5566778811223344ULL);
	outl(CTL_PORT, CTL_EXIT | (3u << 8));
	outb(DEBUG_EXIT_PORT, 0x10);
	cr_assert_eq(fk.nstops, 2);
	cr_assert_eq(fk.stops[0], 3, "CTL_EXIT: the status as given");
	cr_assert_eq(fk.stops[1], 0x21, "isa-debug-exit: (v << 1) | 1");
	cr_assert_eq(fk.nirq, 0, "neither drives an interrupt");
}

/* ---- virtio-mmio + virtio-rng ---------------------------------------------- */
#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define BUF 0x100000ULL

static uint32_t mmio_rd(struct virtio_dev *vd, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	cr_assert_eq(bus_access(&fk.mmio, vd->base + off, &v, 4, false), 0);
	return v;
}

static void mmio_wr(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	cr_assert_eq(bus_access(&fk.mmio, vd->base + off, &v, 4, true), 0);
}

static uint8_t *gpa(uint64_t a, size_t len)
{
	uint8_t *p = gmem_ptr(&fk.mem, a, len);

	cr_assert_not_null(p);
	return p;
}

/* A driver's set-up of queue 0 (16 entries, VERSION_1 only), then one
 * device-writable buffer of len bytes made available. */
static void rng_driver_post(struct virtio_dev *vd, uint32_t len)
{
	struct vring_desc d = { .addr = BUF, .len = len, .flags = VRING_DESC_F_WRITE };
	uint16_t head = 0, idx = 1;

	mmio_wr(vd, VIRTIO_MMIO_STATUS, 0);
	mmio_wr(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	mmio_wr(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	mmio_wr(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(vd, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	mmio_wr(vd, VIRTIO_MMIO_STATUS, 0xb);
	cr_assert(mmio_rd(vd, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	memset(gpa(DESC, 0x3000), 0, 0x3000);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_NUM, 16);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED);
	mmio_wr(vd, VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_wr(vd, VIRTIO_MMIO_STATUS, 0xf);
	memcpy(gpa(DESC, sizeof(d)), &d, sizeof(d));
	memcpy(gpa(AVAIL + 4, 2), &head, 2);
	memcpy(gpa(AVAIL + 2, 2), &idx, 2);
}

Test(dev_host, virtio_rng_used_buffer_raises_its_gsi)
{
	struct virtio_dev *vd, *vd2;
	struct errbuf err;
	uint16_t used_idx;
	char line[128];

	cr_assert_eq(rng_create(&fk.h, 0, NULL, &vd, &err), 0, "%s", err.msg);
	cr_assert_eq(rng_create(&fk.h, 1, NULL, &vd2, &err), 0, "%s", err.msg);
	cr_assert_eq(fk.ndevs, 2);
	cr_assert_eq(virtio_cmdline(&fk.h, line, sizeof(line)), (int)strlen(line));
	cr_assert_str_eq(line, " virtio_mmio.device=4K@0xd0000000:5"
			       " virtio_mmio.device=4K@0xd0001000:6");
	rng_driver_post(vd2, 32);
	cr_assert_eq(fk.nirq, 0, "set-up alone interrupts nobody");
	virtio_dev_kick(vd2, 0);	/* no loop: served here */
	memcpy(&used_idx, gpa(USED + 2, 2), 2);
	cr_assert_eq(used_idx, 1);
	expect_irqs(0, (const struct irq_event[]){ { VIRTIO_IRQ_BASE + 1, 1 } }, 1);
	cr_assert_eq(mmio_rd(vd2, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	mmio_wr(vd2, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	expect_irqs(0, (const struct irq_event[]){ { VIRTIO_IRQ_BASE + 1, 1 },
						   { VIRTIO_IRQ_BASE + 1, 0 } }, 2);
	/* an acknowledged interrupt is not raised again by an empty kick */
	virtio_dev_kick(vd2, 0);
	cr_assert_eq(fk.nirq, 2);
}
