/* devices/devices.h - the device model and the non-virtio devices: 8250
 * serial, i8042 keyboard controller, isa-debug-exit and ember's control port.  The one
 * internal header of devices/. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "devices/host.h"

struct sbuf;
struct ioapic;

/* Every device, virtio or not, is one of these.  save/restore exist from a
 * device's first commit: a snapshot must hold every device's state. */
struct device;
struct device_ops {
	const char *name;
	/* Appends the device's state to sb.  0 or -errno. */
	int (*save)(struct device *d, struct sbuf *sb);
	/* Reads back what save wrote; refuses malformed state with -EINVAL. */
	int (*restore)(struct device *d, struct sbuf *sb);
	/* Puts the device in its power-on state. */
	void (*reset)(struct device *d);
	/* Frees the device (and its state). */
	void (*destroy)(struct device *d);
};
struct device {
	const struct device_ops *ops;
	struct dev_host *host;	/* the VM it belongs to, as devices see it */
	const char *name;	/* instance name, e.g. "serial0" */
};

/* ---- 8250 UART (devices/serial.c) ------------------------------------- */
#define COM1_BASE 0x3f8
#define COM1_IRQ 4
/* Creates the UART at base/irq writing guest output to out_fd (-1: none),
 * and registers it on the PIO bus and in the VM's device list. */
int serial_create(struct dev_host *h, uint16_t base, unsigned irq, int out_fd,
		  struct device **out);
/* Queues input bytes (from the event loop); raises the IRQ if enabled.
 * Returns how many bytes fitted in the receive FIFO. */
size_t serial_input(struct device *d, const uint8_t *buf, size_t len);
/* The UART writes 1 to efd when the guest has emptied a receive buffer
 * that serial_input() found full (-1: no notification). */
void serial_set_rx_notify(struct device *d, int efd);
/* Writes any buffered output.  Once the VM is stopping, only what the
 * console takes without blocking: the rest is dropped and counted. */
void serial_flush(struct device *d);
/* Bytes of guest output dropped because the console took none while the
 * VM was stopping (a pipe nobody reads, a stuck terminal). */
uint64_t serial_dropped(struct device *d);

/* ---- i8042 keyboard controller, ports 0x60..0x64 (devices/i8042.c) ----- */
#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64	/* command (write) and status (read) */
/* The controller with an AT keyboard, IRQ 1 (and an empty AUX port, IRQ
 * 12); command 0xfe at 0x64 (reset) ends the VM with status 0.  In
 * ember-test builds SIGUSR2 types Ctrl-Alt-Del. */
int i8042_create(struct dev_host *h, struct device **out);
/* Types Ctrl-Alt-Del on the keyboard: the press and release codes of
 * Ctrl, Alt and Del in the keyboard's scan code set (translated to set 1
 * when the command byte says so) go into its FIFO and IRQ 1 is raised if
 * the guest enabled it.  A Linux guest with a virtual terminal reboots,
 * which ends the VM with status 0.  Any thread (the device has its own
 * lock); the guest sees it when its vCPUs run.  0; -EAGAIN when the guest
 * has disabled the keyboard (command 0xf5; nothing queued); -ENOSPC when
 * its 16-byte FIFO lacks room (the guest does not read it). */
int i8042_send_ctrl_alt_del(struct device *d);
/* The same on the i8042 among h's devices; -ENODEV when the VM has none. */
int i8042_ctrl_alt_del(struct dev_host *h);
/* The IRQ lines the device drives now: bit 1 (IRQ 1), bit 12 (IRQ 12). */
unsigned i8042_irq_lines(struct device *d);

/* ---- isa-debug-exit, ports 0xf4..0xf7 (devices/ports.c) --------------- */
#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_LEN 4	/* QEMU's iosize=4: outb, outw and outl all exit */
int debug_exit_create(struct dev_host *h, struct device **out);

/* ---- ember control port (devices/ports.c); see README --------------- */
#define CTL_PORT 0xe80		/* 32-bit command register */
#define CTL_PORT_DATA 0xe84	/* 32-bit argument register (low, high) */
#define CTL_PORT_LEN 16
enum ctl_cmd {
	CTL_MARKER = 1,		/* arg: marker id; boot-complete is 0 */
	CTL_EXIT = 2,		/* arg: exit status, returned as is */
	CTL_SNAPSHOT = 3,	/* snapshot here (snapshot issue) */
	CTL_NEXT_INPUT = 4,	/* fuzzing: next input into buffer */
	CTL_DONE = 5,		/* fuzzing: run finished */
	CTL_CRASH = 6,		/* fuzzing: crash report */
};
int ctlport_create(struct dev_host *h, struct device **out);
/* Sets the 64-bit data register (0xe84 low, 0xe88 high): how a command
 * hands a result back to the guest, which reads it after its OUT. */
void ctlport_set_data(struct device *d, uint64_t v);

/* ---- IOAPIC in userspace, for KVM's split irqchip (devices/ioapic.c) ---- */
#define IOAPIC_PINS 24
/* Creates the IOAPIC at IOAPIC_ADDR on the MMIO bus and programs KVM's GSI
 * routes for its pins (so KVM reports EOIs of level-triggered vectors). */
int ioapic_create(struct dev_host *h, struct ioapic **out);
/* Sets the level of input pin (any thread).  Edge-triggered pins deliver
 * on a rising edge, level-triggered ones while high and not awaiting EOI. */
void ioapic_set_irq(struct ioapic *io, unsigned pin, int level);
/* An EOI for vector (from KVM_EXIT_IOAPIC_EOI): clears Remote IRR of the
 * level-triggered pins with that vector and re-delivers those still high. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);
