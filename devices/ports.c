/* devices/ports.c - the small port devices: QEMU's isa-debug-exit at 0xf4
 * and ember's control port at 0xe80 (the i8042 is devices/i8042.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

#define PORTS_STATE_VERSION 1

/* A device with no state but a version word, or ctlport's data words. */
struct portdev {
	struct device dev;
	pthread_mutex_t lock;
	uint32_t data[2];	/* control port argument register */
	uint32_t warned;	/* control commands already warned about */
};

static int portdev_save(struct device *d, struct sbuf *sb)
{
	struct portdev *p = container_of(d, struct portdev, dev);

	pthread_mutex_lock(&p->lock);
	sbuf_put_u32(sb, PORTS_STATE_VERSION);
	sbuf_put(sb, p->data, sizeof(p->data));
	pthread_mutex_unlock(&p->lock);
	return sb->err;
}

static int portdev_restore(struct device *d, struct sbuf *sb)
{
	struct portdev *p = container_of(d, struct portdev, dev);
	uint32_t ver, data[2];

	ver = sbuf_get_u32(sb);
	sbuf_get(sb, data, sizeof(data));
	if (sb->err || ver != PORTS_STATE_VERSION)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	memcpy(p->data, data, sizeof(data));
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void portdev_reset(struct device *d)
{
	struct portdev *p = container_of(d, struct portdev, dev);

	pthread_mutex_lock(&p->lock);
	memset(p->data, 0, sizeof(p->data));
	pthread_mutex_unlock(&p->lock);
}

static void portdev_destroy(struct device *d)
{
	struct portdev *p = container_of(d, struct portdev, dev);

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static uint32_t le_value(const void *data, unsigned size)
{
	uint32_t v = 0;

	memcpy(&v, data, size < 4 ? size : 4);
	return v;
}

/* ---- isa-debug-exit ----
 * Like QEMU's isa-debug-exit with iosize=4: a write of 1, 2 or 4 bytes at
 * 0xf4 ends the VM with ((value << 1) | 1) & 0xff; the port is 4 bytes
 * wide so a 32-bit OUT (test kernels commonly use outl) does not straddle
 * its end and get dropped. */
static void debug_exit_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
	struct portdev *p = opaque;

	(void)off;
	host_stop(p->dev.host, (int)(((le_value(data, size) << 1) | 1) & 0xff));
}

static const struct bus_ops debug_exit_bus_ops = { NULL, debug_exit_write };
static const struct device_ops debug_exit_ops = {
	"isa-debug-exit", portdev_save, portdev_restore, portdev_reset, portdev_destroy,
};

/* ---- control port ---- */
#define CTL_SIGNATURE 0x524d4245u	/* "EMBR": reads of the command register */

static void ctl_read(void *opaque, uint64_t off, void *data, unsigned size)
{
	struct portdev *p = opaque;
	uint32_t v = 0;

	pthread_mutex_lock(&p->lock);
	if (off == 0)
		v = CTL_SIGNATURE;
	else if (off == 4 || off == 8)
		v = p->data[(off - 4) / 4];
	pthread_mutex_unlock(&p->lock);
	memset(data, 0, size);
	memcpy(data, &v, size < 4 ? size : 4);
}

static void ctl_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
	struct portdev *p = opaque;
	struct dev_host *h = p->dev.host;
	uint32_t v = le_value(data, size);
	uint32_t arg = v >> 8;
	unsigned cmd = v & 0xff;

	if (off == 4 || off == 8) {
		pthread_mutex_lock(&p->lock);
		p->data[(off - 4) / 4] = v;
		pthread_mutex_unlock(&p->lock);
		return;
	}
	if (off != 0)
		return;
	switch (cmd) {
	case CTL_MARKER:
		host_marker(h, arg);
		return;
	case CTL_EXIT:
		host_stop(h, (int)(arg & 0xff));
		return;
	default:
		if (host_ctl(h, cmd, arg, ((uint64_t)p->data[1] << 32) | p->data[0]) == 0)
			return;
		if (cmd < 32 && !(p->warned & (1u << cmd))) {
			p->warned |= 1u << cmd;
			log_warn("control port: command %u is not available in this VM "
				 "(snapshot and fuzzing commands need a snapshot or fuzz session)", cmd);
		}
	}
}

static const struct bus_ops ctl_bus_ops = { ctl_read, ctl_write };
static const struct device_ops ctl_ops = {
	"ctlport", portdev_save, portdev_restore, portdev_reset, portdev_destroy,
};

static int portdev_create(struct dev_host *h, const struct device_ops *ops,
			  const struct bus_ops *bops, uint16_t base, uint16_t len,
			  struct device **out)
{
	struct portdev *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->dev.ops = ops;
	p->dev.host = h;
	p->dev.name = ops->name;
	pthread_mutex_init(&p->lock, NULL);
	r = host_add_device(h, &p->dev);	/* from here on the VM frees it */
	if (r) {
		portdev_destroy(&p->dev);
		return r;
	}
	r = bus_register(h->pio, base, len, bops, p, ops->name);
	if (r)
		return r;
	if (out)
		*out = &p->dev;
	return 0;
}

int debug_exit_create(struct dev_host *h, struct device **out)
{
	return portdev_create(h, &debug_exit_ops, &debug_exit_bus_ops,
			      DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, out);
}

void ctlport_set_data(struct device *d, uint64_t v)
{
	struct portdev *p;

	if (!d)
		return;
	p = container_of(d, struct portdev, dev);
	pthread_mutex_lock(&p->lock);
	p->data[0] = (uint32_t)v;
	p->data[1] = (uint32_t)(v >> 32);
	pthread_mutex_unlock(&p->lock);
}

int ctlport_create(struct dev_host *h, struct device **out)
{
	return portdev_create(h, &ctl_ops, &ctl_bus_ops, CTL_PORT, CTL_PORT_LEN, out);
}
