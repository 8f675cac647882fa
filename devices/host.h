/* devices/host.h - what a device sees of the VM that holds it: guest
 * memory, the buses it registers on, its interrupt lines, the event loop,
 * a stop request, boot markers and the VM's device list.  The VM fills
 * one (vm_host_init, monitor/host.c) and hands it to every device it
 * creates; device code (devices/, virtio/) never sees struct vm, and a
 * unit test can give a device a host of its own (a fake interrupt sink,
 * no KVM). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct gmem;
struct bus;
struct loop;
struct device;
struct dev_host;

/* The VM's device table holds this many devices. */
#define HOST_MAX_DEVICES 32

/* What host_state() reports, as bits. */
enum {
	HOST_STOPPING = 1,	/* a stop was requested (the first one wins) */
	HOST_STOP_URGENT = 2,	/* that stop came from outside (a signal): it
				 * must not wait for a console that takes no
				 * output (devices/serial.c drops what is left) */
	HOST_PAUSING = 4,	/* a pause is requested: the loop waits for the
				 * vCPUs to park */
};

struct dev_host_ops {
	/* Raises (level 1) or lowers (level 0) interrupt line gsi.  Any
	 * thread. */
	void (*irq_line)(struct dev_host *h, unsigned gsi, int level);
	/* Asks the VM to stop with exit status `status`; only the first
	 * request counts.  Any thread; returns at once. */
	void (*stop)(struct dev_host *h, int status);
	/* HOST_* bits of the VM's state now.  Any thread. */
	unsigned (*state)(struct dev_host *h);
	/* Records a control-port marker (value) with its time.  Any thread. */
	void (*marker)(struct dev_host *h, uint32_t value);
	/* Hands control-port command cmd (other than marker and exit) to the
	 * VM's handlers, on the vCPU thread that wrote it.  0 when one
	 * handled it, else -ENOSYS. */
	int (*ctl)(struct dev_host *h, unsigned cmd, uint32_t arg, uint64_t data);
	/* Adds d to the VM's device list (for reset, save, restore,
	 * destroy); from then on the VM owns it.  0 or -ENOSPC. */
	int (*add_device)(struct dev_host *h, struct device *d);
	/* The VM's devices, in the order added; *n their number. */
	struct device *const *(*devices)(struct dev_host *h, unsigned *n);
};

struct dev_host {
	const struct dev_host_ops *ops;
	struct gmem *mem;	/* guest RAM: reached only through gmem_ptr() */
	struct bus *pio, *mmio;	/* where devices register their windows */
	struct loop *loop;	/* the event loop: set from vm_start to the
				 * end of vm_wait, NULL otherwise (a device
				 * then does its work synchronously) */
	int vm_fd;		/* KVM's VM, for what only KVM does (kick
				 * ioeventfds, the IOAPIC's MSI routes);
				 * -1 without KVM (unit tests) */
	int stop_efd;		/* readable once a stop was requested (the
				 * serial port's console wait); -1: none */
};

static inline void host_irq_line(struct dev_host *h, unsigned gsi, int level)
{
	h->ops->irq_line(h, gsi, level);
}

static inline void host_stop(struct dev_host *h, int status)
{
	h->ops->stop(h, status);
}

static inline unsigned host_state(struct dev_host *h)
{
	return h->ops->state(h);
}

static inline void host_marker(struct dev_host *h, uint32_t value)
{
	h->ops->marker(h, value);
}

static inline int host_ctl(struct dev_host *h, unsigned cmd, uint32_t arg, uint64_t data)
{
	return h->ops->ctl(h, cmd, arg, data);
}

static inline int host_add_device(struct dev_host *h, struct device *d)
{
	return h->ops->add_device(h, d);
}

static inline struct device *const *host_devices(struct dev_host *h, unsigned *n)
{
	return h->ops->devices(h, n);
}
