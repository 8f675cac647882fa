/* devices/serial.c - a 16550A-compatible UART (8250 family).  Output goes
 * to a file descriptor, buffered up to a line; input comes from the event
 * loop through serial_input(). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

enum {
	UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_DEFAULT 0xb0	/* DCD, DSR, CTS */

#define RX_SIZE 4096
#define TX_SIZE 256

/* The registers: what a snapshot holds (plus the receive buffer). */
struct uart_regs {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t thri_pending;	/* THR-empty interrupt waiting for IIR read */
	uint8_t line;		/* current level of the IRQ line */
};

struct serial {
	struct device dev;
	pthread_mutex_t lock;
	uint16_t base;
	unsigned irq;
	int out_fd;
	bool out_may_block;	/* out_fd is not a regular file (pipe, tty, socket) */
	uint64_t dropped;	/* output bytes dropped because the VM was stopping */
	struct uart_regs r;
	uint8_t rx[RX_SIZE];
	uint32_t rx_head, rx_len;
	uint8_t tx[TX_SIZE];
	uint32_t tx_len;
	int rx_notify_fd;	/* eventfd, -1 if none */
	bool rx_blocked;	/* serial_input found the buffer full */
};

/* Waits until out_fd takes bytes: true when it may be written, false
 * when a stop came from outside (a signal) and it takes none now.  A
 * console that does not drain (stdout a pipe nobody reads) holds up the
 * guest, as a real UART would; it must never hold up such a stop.  So the
 * wait includes the stop eventfd (it stays readable from the stop request
 * on: nobody reads it during a run); once the stop is an urgent one the
 * console gets only what it takes at once.  A stop the guest itself asked
 * for (its exit) still waits: its last output must reach the console. */
static bool serial_out_wait(struct serial *s)
{
	struct dev_host *h = s->dev.host;
	struct pollfd p[2] = {
		{ .fd = s->out_fd, .events = POLLOUT },
		{ .fd = h ? h->stop_efd : -1, .events = POLLIN },
	};

	if (!s->out_may_block)
		return true;	/* a regular file never waits long */
	for (;;) {
		unsigned st = h ? host_state(h) : 0;
		bool urgent = st & HOST_STOP_URGENT;
		/* a plain stop seen: wait on the console alone */
		bool plain = !urgent && (st & HOST_STOPPING);
		int n = poll(p, urgent || plain ? 1 : 2, urgent ? 0 : -1);

		if (n < 0 && errno == EINTR)	/* a vCPU kick: stop or pause */
			continue;
		if (n < 0)
			return true;	/* cannot wait: let write() decide */
		if (n == 0)
			return false;	/* urgent, and no room now */
		if (!(p[0].revents) && (p[1].revents & POLLIN))
			continue;	/* a stop: urgent or not, look again */
		return true;	/* room, or POLLERR/POLLHUP for write() to report */
	}
}

/* Writes the line buffer out; what cannot be written because the VM is
 * stopping is dropped and counted (serial_dropped).  At most TX_SIZE
 * (256) bytes, under PIPE_BUF: a pipe that polled writable takes them
 * without blocking. */
static void serial_flush_locked(struct serial *s)
{
	size_t off = 0;

	while (off < s->tx_len && s->out_fd >= 0) {
		ssize_t n;

		if (!serial_out_wait(s)) {
			s->dropped += s->tx_len - off;
			break;
		}
		n = write(s->out_fd, s->tx + off, s->tx_len - off);
		if (n < 0 && errno == EINTR)
			continue;	/* serial_out_wait looks at the stop */
		if (n <= 0)
			break;	/* console gone: drop the output, keep the guest */
		off += (size_t)n;
	}
	s->tx_len = 0;
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = (s->r.fcr & 1) ? IIR_FIFO : 0;

	if ((s->r.ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->r.ier & IER_THRI) && s->r.thri_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* Drives the IRQ line from the pending interrupts (lock held).  Like
 * QEMU's UART, the line is not gated by MCR.OUT2. */
static void serial_update_irq(struct serial *s)
{
	int level = !(serial_iir(s) & IIR_NONE);

	if (level != s->r.line) {
		s->r.line = (uint8_t)level;
		host_irq_line(s->dev.host, s->irq, level);
	}
}

static uint8_t serial_reg_read(struct serial *s, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case UART_RBR:
		if (s->r.lcr & LCR_DLAB)
			return s->r.dll;
		if (!s->rx_len)
			return 0;
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % RX_SIZE;
		s->rx_len--;
		if (!s->rx_len && s->rx_blocked && s->rx_notify_fd >= 0) {
			uint64_t one = 1;

			s->rx_blocked = false;
			if (write(s->rx_notify_fd, &one, sizeof(one)) < 0)
				log_debug("serial: rx notify: %m");
		}
		return v;
	case UART_IER:
		return (s->r.lcr & LCR_DLAB) ? s->r.dlm : s->r.ier;
	case UART_IIR:
		v = serial_iir(s);
		if ((v & 0x0f) == IIR_THRI)
			s->r.thri_pending = 0;	/* reading IIR clears THRE */
		return v;
	case UART_LCR:
		return s->r.lcr;
	case UART_MCR:
		return s->r.mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case UART_MSR:
		if (s->r.mcr & MCR_LOOP)	/* loopback: outputs feed inputs */
			return (uint8_t)(((s->r.mcr & 0x02) << 3) | ((s->r.mcr & 0x01) << 5) |
					 ((s->r.mcr & 0x04) << 4) | ((s->r.mcr & 0x08) << 4));
		return MSR_DEFAULT;
	case UART_SCR:
		return s->r.scr;
	}
	return 0xff;
}

static void serial_reg_write(struct serial *s, unsigned reg, uint8_t v)
{
	switch (reg) {
	case UART_THR:
		if (s->r.lcr & LCR_DLAB) {
			s->r.dll = v;
			return;
		}
		if (s->r.mcr & MCR_LOOP) {
			if (s->rx_len < RX_SIZE) {
				s->rx[(s->rx_head + s->rx_len) % RX_SIZE] = v;
				s->rx_len++;
			}
		} else {
			s->tx[s->tx_len++] = v;
			if (v == '\n' || s->tx_len == TX_SIZE)
				serial_flush_locked(s);
		}
		s->r.thri_pending = 1;	/* sent at once: THR is empty again */
		return;
	case UART_IER:
		if (s->r.lcr & LCR_DLAB) {
			s->r.dlm = v;
			return;
		}
		/* enabling THRI with an empty THR raises the interrupt */
		if ((v & IER_THRI) && !(s->r.ier & IER_THRI))
			s->r.thri_pending = 1;
		s->r.ier = v & 0x0f;
		return;
	case UART_FCR:
		s->r.fcr = v & 0xc9;
		if (v & 0x02) {	/* clear receive FIFO */
			s->rx_head = 0;
			s->rx_len = 0;
		}
		return;
	case UART_LCR:
		s->r.lcr = v;
		return;
	case UART_MCR:
		s->r.mcr = v & 0x1f;
		return;
	case UART_SCR:
		s->r.scr = v;
		return;
	}
}

static void serial_read(void *opaque, uint64_t off, void *data, unsigned size)
{
	struct serial *s = opaque;

	memset(data, 0, size);
	pthread_mutex_lock(&s->lock);
	*(uint8_t *)data = serial_reg_read(s, (unsigned)off);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
	struct serial *s = opaque;

	(void)size;
	pthread_mutex_lock(&s->lock);
	serial_reg_write(s, (unsigned)off, *(const uint8_t *)data);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

size_t serial_input(struct device *d, const uint8_t *buf, size_t len)
{
	struct serial *s = container_of(d, struct serial, dev);
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_len < RX_SIZE) {
		s->rx[(s->rx_head + s->rx_len) % RX_SIZE] = buf[n++];
		s->rx_len++;
	}
	if (n < len)
		s->rx_blocked = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_set_rx_notify(struct device *d, int efd)
{
	struct serial *s = container_of(d, struct serial, dev);

	pthread_mutex_lock(&s->lock);
	s->rx_notify_fd = efd;
	s->rx_blocked = false;
	pthread_mutex_unlock(&s->lock);
}

uint64_t serial_dropped(struct device *d)
{
	struct serial *s = container_of(d, struct serial, dev);
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void serial_flush(struct device *d)
{
	struct serial *s = container_of(d, struct serial, dev);

	pthread_mutex_lock(&s->lock);
	serial_flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static void serial_reset(struct device *d)
{
	struct serial *s = container_of(d, struct serial, dev);

	pthread_mutex_lock(&s->lock);
	serial_flush_locked(s);
	memset(&s->r, 0, sizeof(s->r));
	s->rx_head = s->rx_len = 0;
	pthread_mutex_unlock(&s->lock);
	host_irq_line(d->host, s->irq, 0);
}

#define SERIAL_STATE_VERSION 1

static int serial_save(struct device *d, struct sbuf *sb)
{
	struct serial *s = container_of(d, struct serial, dev);

	pthread_mutex_lock(&s->lock);
	serial_flush_locked(s);
	sbuf_put_u32(sb, SERIAL_STATE_VERSION);
	sbuf_put(sb, &s->r, sizeof(s->r));
	sbuf_put_u32(sb, s->rx_len);
	for (uint32_t i = 0; i < s->rx_len; i++)
		sbuf_put(sb, &s->rx[(s->rx_head + i) % RX_SIZE], 1);
	pthread_mutex_unlock(&s->lock);
	return sb->err;
}

static int serial_restore(struct device *d, struct sbuf *sb)
{
	struct serial *s = container_of(d, struct serial, dev);
	struct uart_regs r;
	uint32_t ver, len;
	uint8_t rx[RX_SIZE];

	ver = sbuf_get_u32(sb);
	sbuf_get(sb, &r, sizeof(r));
	len = sbuf_get_u32(sb);
	if (sb->err || ver != SERIAL_STATE_VERSION || len > RX_SIZE)
		return -EINVAL;
	sbuf_get(sb, rx, len);
	if (sb->err)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	s->r = r;
	s->r.line = 0;	/* re-derived below against the new irqchip */
	memcpy(s->rx, rx, len);
	s->rx_head = 0;
	s->rx_len = len;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void serial_destroy(struct device *d)
{
	struct serial *s = container_of(d, struct serial, dev);

	serial_flush_locked(s);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct device_ops serial_ops = {
	.name = "serial",
	.save = serial_save,
	.restore = serial_restore,
	.reset = serial_reset,
	.destroy = serial_destroy,
};

int serial_create(struct dev_host *h, uint16_t base, unsigned irq, int out_fd,
		  struct device **out)
{
	struct serial *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->dev.ops = &serial_ops;
	s->dev.host = h;
	s->dev.name = "serial0";
	s->base = base;
	s->irq = irq;
	s->out_fd = out_fd;
	if (out_fd >= 0) {
		struct stat st;

		s->out_may_block = fstat(out_fd, &st) < 0 || !S_ISREG(st.st_mode);
	}
	s->rx_notify_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	r = host_add_device(h, &s->dev);	/* from here on the VM frees it */
	if (r) {
		serial_destroy(&s->dev);
		return r;
	}
	r = bus_register(h->pio, base, 8, &serial_bus_ops, s, "serial");
	if (r)
		return r;
	*out = &s->dev;
	return 0;
}
