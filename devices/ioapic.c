/* devices/ioapic.c - an 82093AA-style IOAPIC in userspace for KVM's split
 * irqchip: the LAPICs are in the kernel, interrupts reach them as MSIs
 * built from the redirection table.  Pins' GSI routes mirror the table so
 * that KVM exits with KVM_EXIT_IOAPIC_EOI for level-triggered vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

#define IOAPIC_VERSION 0x11
#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_RO_BITS (RTE_REMOTE_IRR | (1ull << 12))	/* remote IRR, delivery status */

struct ioapic {
	struct device dev;
	pthread_mutex_t lock;
	uint32_t id;
	uint32_t regsel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t lines;		/* input pin levels, a bit each */
	struct kvm_irq_routing *routes;
	bool routed;		/* KVM_SET_GSI_ROUTING was called */
};

static void rte_msi(uint64_t rte, struct kvm_msi *m)
{
	uint32_t dest = (uint32_t)(rte >> 56);
	uint32_t dest_mode = (rte >> 11) & 1;
	uint32_t delivery = (rte >> 8) & 7;

	memset(m, 0, sizeof(*m));
	m->address_lo = 0xfee00000u | (dest << 12) | (dest_mode << 2) |
			(delivery == 1 ? 1u << 3 : 0);	/* lowest priority: RH */
	m->data = (uint32_t)(rte & 0xff) | (delivery << 8) |
		  ((rte & RTE_LEVEL) ? (1u << 15) | (1u << 14) : 0);
}

/* Mirrors the table into KVM's routing (lock held).  KVM reads the routes
 * only for the EOIs of level-triggered vectors, so a table without any
 * (a reset IOAPIC) needs no call until one appears: each costs an SRCU
 * grace period, about 0.1 ms of a VM's start. */
static void ioapic_update_routes(struct ioapic *io)
{
	struct kvm_irq_routing *r = io->routes;
	bool level = false;

	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		level |= (io->rte[i] & RTE_LEVEL) != 0;
	if (!level && !io->routed)
		return;
	io->routed = true;

	r->nr = IOAPIC_PINS;
	r->flags = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[i];
		struct kvm_msi m;

		rte_msi(io->rte[i], &m);
		memset(e, 0, sizeof(*e));
		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = m.address_lo;
		e->u.msi.data = m.data;
	}
	if (ioctl(io->dev.host->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		log_warn("ioapic: KVM_SET_GSI_ROUTING failed: %m");
}

/* Sends pin's interrupt (lock held). */
static void ioapic_deliver(struct ioapic *io, unsigned pin)
{
	struct kvm_msi m;

	if (io->rte[pin] & RTE_MASKED)
		return;
	if (io->rte[pin] & RTE_LEVEL) {
		if (io->rte[pin] & RTE_REMOTE_IRR)
			return;
		io->rte[pin] |= RTE_REMOTE_IRR;
	}
	rte_msi(io->rte[pin], &m);
	if (ioctl(io->dev.host->vm_fd, KVM_SIGNAL_MSI, &m) < 0)
		log_debug("ioapic: KVM_SIGNAL_MSI for pin %u failed: %m", pin);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, int level)
{
	uint32_t bit;

	if (pin >= IOAPIC_PINS)
		return;
	bit = 1u << pin;
	pthread_mutex_lock(&io->lock);
	if (level) {
		bool rising = !(io->lines & bit);

		io->lines |= bit;
		if (rising || (io->rte[pin] & RTE_LEVEL))
			ioapic_deliver(io, pin);
	} else {
		io->lines &= ~bit;
	}
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	pthread_mutex_lock(&io->lock);
	for (unsigned i = 0; i < IOAPIC_PINS; i++) {
		uint64_t *r = &io->rte[i];

		if ((*r & 0xff) != vector || !(*r & RTE_LEVEL))
			continue;
		*r &= ~RTE_REMOTE_IRR;
		if (io->lines & (1u << i))
			ioapic_deliver(io, i);
	}
	pthread_mutex_unlock(&io->lock);
}

static uint32_t ioapic_reg_read(struct ioapic *io)
{
	uint32_t sel = io->regsel;

	if (sel == 0)
		return io->id << 24;
	if (sel == 1)
		return ((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
	if (sel == 2)
		return io->id << 24;
	if (sel >= 0x10 && sel < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t rte = io->rte[(sel - 0x10) / 2];

		return (sel & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0;
}

static void ioapic_reg_write(struct ioapic *io, uint32_t val)
{
	uint32_t sel = io->regsel;
	unsigned pin;
	uint64_t *r;

	if (sel == 0) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (sel < 0x10 || sel >= 0x10 + 2 * IOAPIC_PINS)
		return;
	pin = (sel - 0x10) / 2;
	r = &io->rte[pin];
	if (sel & 1)
		*r = (*r & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*r = (*r & (0xffffffff00000000ull | RTE_RO_BITS)) |
		     (val & ~(uint32_t)RTE_RO_BITS);
	if (!(*r & RTE_LEVEL))
		*r &= ~RTE_REMOTE_IRR;
	ioapic_update_routes(io);
	/* unmasking a level-triggered pin that is high delivers it */
	if ((*r & RTE_LEVEL) && (io->lines & (1u << pin)))
		ioapic_deliver(io, pin);
}

static void ioapic_mmio_read(void *opaque, uint64_t off, void *data, unsigned size)
{
	struct ioapic *io = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&io->lock);
	if (off == 0x00)
		v = io->regsel;
	else if (off == 0x10)
		v = ioapic_reg_read(io);
	pthread_mutex_unlock(&io->lock);
	memset(data, 0, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

static void ioapic_mmio_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
	struct ioapic *io = opaque;
	uint32_t v = 0;

	memcpy(&v, data, size < 4 ? size : 4);
	pthread_mutex_lock(&io->lock);
	if (off == 0x00)
		io->regsel = v & 0xff;
	else if (off == 0x10)
		ioapic_reg_write(io, v);
	pthread_mutex_unlock(&io->lock);
	if (off == 0x40)	/* EOI register of version 0x20 IOAPICs */
		ioapic_eoi(io, (uint8_t)v);
}

static const struct bus_ops ioapic_bus_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

static void ioapic_reset_locked(struct ioapic *io)
{
	io->id = 0;
	io->regsel = 0;
	for (unsigned i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = RTE_MASKED;
}

static void ioapic_reset(struct device *d)
{
	struct ioapic *io = container_of(d, struct ioapic, dev);

	pthread_mutex_lock(&io->lock);
	ioapic_reset_locked(io);
	ioapic_update_routes(io);
	pthread_mutex_unlock(&io->lock);
}

#define IOAPIC_STATE_VERSION 1

static int ioapic_save(struct device *d, struct sbuf *sb)
{
	struct ioapic *io = container_of(d, struct ioapic, dev);

	pthread_mutex_lock(&io->lock);
	sbuf_put_u32(sb, IOAPIC_STATE_VERSION);
	sbuf_put_u32(sb, io->id);
	sbuf_put_u32(sb, io->regsel);
	sbuf_put_u32(sb, io->lines);
	sbuf_put(sb, io->rte, sizeof(io->rte));
	pthread_mutex_unlock(&io->lock);
	return sb->err;
}

static int ioapic_restore(struct device *d, struct sbuf *sb)
{
	struct ioapic *io = container_of(d, struct ioapic, dev);
	uint64_t rte[IOAPIC_PINS];
	uint32_t ver, id, sel, lines;

	ver = sbuf_get_u32(sb);
	id = sbuf_get_u32(sb);
	sel = sbuf_get_u32(sb);
	lines = sbuf_get_u32(sb);
	sbuf_get(sb, rte, sizeof(rte));
	if (sb->err || ver != IOAPIC_STATE_VERSION || lines >> IOAPIC_PINS)
		return -EINVAL;
	pthread_mutex_lock(&io->lock);
	io->id = id & 0xf;
	io->regsel = sel & 0xff;
	io->lines = lines;
	memcpy(io->rte, rte, sizeof(rte));
	ioapic_update_routes(io);
	pthread_mutex_unlock(&io->lock);
	return 0;
}

static void ioapic_destroy(struct device *d)
{
	struct ioapic *io = container_of(d, struct ioapic, dev);

	pthread_mutex_destroy(&io->lock);
	free(io->routes);
	free(io);
}

static const struct device_ops ioapic_ops = {
	.name = "ioapic",
	.save = ioapic_save,
	.restore = ioapic_restore,
	.reset = ioapic_reset,
	.destroy = ioapic_destroy,
};

int ioapic_create(struct dev_host *h, struct ioapic **out)
{
	struct ioapic *io = calloc(1, sizeof(*io));
	int r;

	if (!io)
		return -ENOMEM;
	io->routes = calloc(1, sizeof(*io->routes) +
			    IOAPIC_PINS * sizeof(io->routes->entries[0]));
	if (!io->routes) {
		free(io);
		return -ENOMEM;
	}
	io->dev.ops = &ioapic_ops;
	io->dev.host = h;
	io->dev.name = "ioapic";
	pthread_mutex_init(&io->lock, NULL);
	ioapic_reset_locked(io);
	ioapic_update_routes(io);
	r = host_add_device(h, &io->dev);	/* from here on the VM frees it */
	if (r) {
		ioapic_destroy(&io->dev);
		return r;
	}
	r = bus_register(h->mmio, IOAPIC_ADDR, 0x1000, &ioapic_bus_ops, io, "ioapic");
	if (r)
		return r;
	*out = io;
	return 0;
}
