/* monitor/console.c - guest console input: stdin is read on the event loop
 * and fed to the UART.  A terminal is put in raw mode (restored at exit);
 * Ctrl-A x quits.  When the UART's receive buffer is full, reading stops
 * until the guest drains it (the UART signals an eventfd). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "devices/devices.h"
#include "monitor/monitor.h"

struct console {
	struct vm *vm;
	struct loop_op read_op, space_op;
	int space_efd;
	uint64_t efd_val;
	uint8_t buf[256];
	size_t off, len;
	bool escape;	/* Ctrl-A seen */
};

static struct termios saved_tio;
static bool tio_saved;

static void console_restore_tty(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = false;
	}
}

static void console_raw_tty(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return;
	t = saved_tio;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;	/* keep our own messages readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		tio_saved = true;
		atexit(console_restore_tty);
	}
}

static void console_arm_read(struct console *c)
{
	struct io_uring_sqe *sqe = loop_sqe(c->vm->loop, &c->read_op);

	io_uring_prep_read(sqe, STDIN_FILENO, c->buf, sizeof(c->buf), (uint64_t)-1);
}

static void console_arm_space(struct console *c)
{
	struct io_uring_sqe *sqe = loop_sqe(c->vm->loop, &c->space_op);

	io_uring_prep_read(sqe, c->space_efd, &c->efd_val, sizeof(c->efd_val), 0);
}

/* Filters the escape sequence out of buf[off..len) in place. */
static void console_escape(struct console *c)
{
	size_t w = c->off;

	for (size_t i = c->off; i < c->len; i++) {
		uint8_t ch = c->buf[i];

		if (c->escape) {
			c->escape = false;
			if (ch == 'x') {
				vm_request_stop(c->vm, EXIT_OK, NULL);
				c->len = w;
				return;
			}
			if (ch != 1)
				c->buf[w++] = 1;
		} else if (ch == 1 && tio_saved) {	/* Ctrl-A on a terminal */
			c->escape = true;
			continue;
		}
		c->buf[w++] = ch;
	}
	c->len = w;
}

/* Hands pending bytes to the UART; true when all were taken. */
static bool console_push(struct console *c)
{
	c->off += serial_input(c->vm->serial, c->buf + c->off, c->len - c->off);
	return c->off == c->len;
}

static void console_on_read(struct loop_op *op, int res, uint32_t flags)
{
	struct console *c = container_of(op, struct console, read_op);

	(void)flags;
	if (res <= 0) {
		if (res == -EINTR || res == -EAGAIN) {
			console_arm_read(c);
			return;
		}
		return;	/* EOF or error: no more input */
	}
	c->off = 0;
	c->len = (size_t)res;
	console_escape(c);
	if (console_push(c))
		console_arm_read(c);
	else
		console_arm_space(c);
}

static void console_on_space(struct loop_op *op, int res, uint32_t flags)
{
	struct console *c = container_of(op, struct console, space_op);

	(void)res;
	(void)flags;
	if (console_push(c))
		console_arm_read(c);
	else
		console_arm_space(c);
}

int console_create(struct vm *vm, struct console **out)
{
	struct console *c;

	if (!vm->serial || !vm->loop)
		return -EINVAL;
	/* nothing to read: closed or not readable */
	if (fcntl(STDIN_FILENO, F_GETFL) < 0)
		return -EBADF;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->vm = vm;
	c->space_efd = eventfd(0, EFD_CLOEXEC);
	if (c->space_efd < 0) {
		free(c);
		return -errno;
	}
	c->read_op.fn = console_on_read;
	c->space_op.fn = console_on_space;
	serial_set_rx_notify(vm->serial, c->space_efd);
	console_raw_tty();
	console_arm_read(c);
	*out = c;
	return 0;
}

void console_destroy(struct console *c)
{
	if (!c)
		return;
	serial_set_rx_notify(c->vm->serial, -1);
	console_restore_tty();
	close(c->space_efd);
	free(c);
}
