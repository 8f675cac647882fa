/* Unit tests of the i8042 keyboard controller (devices/i8042.c) through its
 * port handlers on a fake VM (no KVM): Linux's probe of the controller and
 * of the keyboard (i8042.c and atkbd.c, byte for byte), Ctrl-Alt-Del in
 * each scan code set with and without translation, the IRQ lines, the
 * reset command, and snapshot save/restore (the old version-1 state too). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

#define DATA I8042_DATA_PORT
#define CMD I8042_CMD_PORT
#define OBF 0x01
#define AUXDATA 0x20
#define TIMEOUT 0x40
#define IRQ1 (1u << 1)
#define IRQ12 (1u << 12)

static struct vm vm;
static struct device *dev;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = vm.vm_fd = vm.stop_efd = vm.work.efd = vm.console_fd = -1;
	vm.pio.name = "pio";
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	vm_host_init(&vm);
	cr_assert_eq(i8042_create(&vm.host, &dev), 0);
}

static void teardown(void)
{
	for (unsigned i = 0; i < vm.ndevices; i++)
		vm.devices[i]->ops->destroy(vm.devices[i]);
	bus_destroy(&vm.pio);
}

static void outb(uint16_t port, uint8_t v)
{
	cr_assert_eq(bus_access(&vm.pio, port, &v, 1, true), 0);
}

static uint8_t inb(uint16_t port)
{
	uint8_t v = 0xee;

	cr_assert_eq(bus_access(&vm.pio, port, &v, 1, false), 0);
	return v;
}

/* The next output byte: OBF must be set, with the AUX bit as expected. */
static uint8_t next_byte(bool aux)
{
	uint8_t st = inb(CMD);

	cr_assert(st & OBF, "output buffer empty (status %#x)", st);
	cr_assert_eq(!!(st & AUXDATA), aux, "status %#x", st);
	return inb(DATA);
}

static void expect_empty(void)
{
	cr_assert_eq(inb(CMD) & OBF, 0, "unexpected byte %#x", inb(DATA));
}

/* Bytes the keyboard port must deliver, each with IRQ 1 up until read. */
static void expect_kbd(const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(i8042_irq_lines(dev), IRQ1, "byte %zu: IRQ 1 not raised", i);
		cr_assert_eq(next_byte(false), want[i], "byte %zu", i);
	}
	expect_empty();
	cr_assert_eq(i8042_irq_lines(dev), 0, "IRQ 1 must drop once all is read");
}

/* i8042_command: a command, its parameter bytes, then n replies. */
static void command(uint8_t c, int param, uint8_t *reply, size_t n, bool aux)
{
	outb(CMD, c);
	if (param >= 0)
		outb(DATA, (uint8_t)param);
	for (size_t i = 0; i < n; i++)
		reply[i] = next_byte(aux);
}

static uint8_t read_ctr(void)
{
	uint8_t v;

	command(0x20, -1, &v, 1, false);
	return v;
}

/* Linux 6.1's i8042_init + i8042_probe (no PNP, no ACPI) up to the
 * keyboard port's interrupt enabled; returns the command byte. */
static uint8_t linux_controller_probe(void)
{
	uint8_t b, ctr;

	expect_empty();				/* i8042_controller_check: flush */
	command(0xd1, 0xdf, NULL, 0, false);	/* A20 on through the output port */
	outb(CMD, 0xff);			/* the null command */
	cr_assert_eq(read_ctr(), read_ctr(), "stable CTR");
	ctr = read_ctr();
	cr_assert_eq(ctr & 0x40, 0x40, "power-on: translation on");
	cr_assert(inb(CMD) & 0x10, "keylock not active");
	ctr = (uint8_t)((ctr | 0x10) & ~0x01);	/* kbd off, its interrupt off */
	command(0x60, ctr, NULL, 0, false);
	cr_assert_eq(read_ctr(), ctr);
	/* i8042_check_mux: three loop-backs; the third echoes, so no MUX */
	command(0xd3, 0xf0, &b, 1, true);
	cr_assert_eq(b, 0xf0);
	command(0xd3, 0x56, &b, 1, true);
	cr_assert_eq(b, 0x56);
	command(0xd3, 0xa4, &b, 1, true);
	cr_assert_eq(b, 0xa4);
	/* i8042_check_aux: loop-back, AUX off and on, then the IRQ test */
	command(0xd3, 0x5a, &b, 1, true);
	cr_assert_eq(b, 0x5a);
	outb(CMD, 0xa7);
	cr_assert(read_ctr() & 0x20, "AUX disabled");
	outb(CMD, 0xa8);
	cr_assert_eq(read_ctr() & 0x20, 0, "AUX enabled");
	ctr = (uint8_t)((read_ctr() & ~0x20) | 0x02);
	command(0x60, ctr, NULL, 0, false);
	outb(CMD, 0xd3);
	outb(DATA, 0xa5);
	cr_assert_eq(i8042_irq_lines(dev), IRQ12, "the AUX IRQ test byte raises IRQ 12");
	cr_assert_eq(next_byte(true), 0xa5);
	cr_assert_eq(i8042_irq_lines(dev), 0);
	ctr = (uint8_t)((ctr | 0x20) & ~0x02);
	command(0x60, ctr, NULL, 0, false);
	/* i8042_setup_kbd: the keyboard port and its interrupt on */
	ctr = (uint8_t)((ctr & ~0x10) | 0x01);
	command(0x60, ctr, NULL, 0, false);
	expect_empty();
	cr_assert_eq(i8042_irq_lines(dev), 0);
	return ctr;
}

/* A keyboard command (and parameter) and the keyboard's whole answer. */
static void kbd(int c, int param, const uint8_t *want, size_t n)
{
	outb(DATA, (uint8_t)c);
	if (param >= 0) {
		cr_assert_eq(next_byte(false), 0xfa, "ACK of command %#x", c);
		outb(DATA, (uint8_t)param);
	}
	expect_kbd(want, n);
}

#define ACK ((const uint8_t[]){ 0xfa })

Test(i8042, linux_probe_translated, .init = setup, .fini = teardown)
{
	linux_controller_probe();
	/* atkbd_probe: GETID, translated ID 0xab41; deactivate */
	kbd(0xf2, -1, (const uint8_t[]){ 0xfa, 0xab, 0x41 }, 3);
	kbd(0xf5, -1, ACK, 1);
	/* atkbd_select_set (translated: set 2, nothing sent); EX_ENABLE of
	 * atkbd.extra=1 is refused like a real keyboard's */
	kbd(0xea, -1, (const uint8_t[]){ 0xfe }, 1);
	/* atkbd_set_leds/atkbd_set_repeat_rate, then atkbd_activate */
	kbd(0xed, 0x00, ACK, 1);
	kbd(0xf3, 0x2b, ACK, 1);
	kbd(0xf4, -1, ACK, 1);
	kbd(0xee, -1, (const uint8_t[]){ 0xee }, 1);	/* echo: no ACK */
	kbd(0xff, -1, (const uint8_t[]){ 0xfa, 0xaa }, 2);	/* reset: BAT passed */
	/* controller self-tests */
	outb(CMD, 0xaa);
	cr_assert_eq(next_byte(false), 0x55);
	outb(CMD, 0xab);
	cr_assert_eq(next_byte(false), 0x00);
	outb(CMD, 0xa9);
	cr_assert_eq(next_byte(false), 0x00);
}

Test(i8042, ctrl_alt_del_translated_set1, .init = setup, .fini = teardown)
{
	static const uint8_t want[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };

	linux_controller_probe();
	kbd(0xf4, -1, ACK, 1);
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), 0);
	expect_kbd(want, sizeof(want));
}

Test(i8042, ctrl_alt_del_untranslated_sets, .init = setup, .fini = teardown)
{
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71,
					0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };
	uint8_t ctr = linux_controller_probe();

	command(0x60, ctr & ~0x40, NULL, 0, false);	/* i8042.direct: no translation */
	kbd(0xf2, -1, (const uint8_t[]){ 0xfa, 0xab, 0x83 }, 3);
	kbd(0xf0, 0x00, (const uint8_t[]){ 0xfa, 0x02 }, 2);	/* which set: 2 */
	cr_assert_eq(i8042_send_ctrl_alt_del(dev), 0);
	expect_kbd(set2, sizeof(set2));
	kbd(0xf0, 0x01, ACK, 1);
	cr_assert_eq(i8042_send_ctrl_alt_del(dev), 0);
	expect_kbd(set1, sizeof(set1));
	kbd(0xf0, 0x03, ACK, 1);
	kbd(0xf0, 0x00, (const uint8_t[]){ 0xfa, 0x03 }, 2);
	kbd(0xfa, -1, ACK, 1);	/* set 3: all keys make/break/repeat */
	cr_assert_eq(i8042_send_ctrl_alt_del(dev), 0);
	expect_kbd(set3, sizeof(set3));
	kbd(0xf0, 0x05, (const uint8_t[]){ 0xfe }, 1);	/* no set 5 */
}

Test(i8042, interrupt_off_is_polled, .init = setup, .fini = teardown)
{
	uint8_t ctr = linux_controller_probe();

	command(0x60, ctr & ~0x01, NULL, 0, false);
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), 0);
	cr_assert(inb(CMD) & OBF);
	cr_assert_eq(i8042_irq_lines(dev), 0, "KBDINT off: no IRQ, the byte waits for a poll");
	command(0x60, ctr, NULL, 0, false);
	cr_assert_eq(i8042_irq_lines(dev), IRQ1, "KBDINT back on: the waiting byte raises IRQ 1");
}

Test(i8042, port_disabled_holds_keys, .init = setup, .fini = teardown)
{
	static const uint8_t want[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };

	linux_controller_probe();
	outb(CMD, 0xad);	/* keyboard port off: the keyboard keeps its bytes */
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), 0);
	expect_empty();
	cr_assert_eq(i8042_irq_lines(dev), 0);
	outb(CMD, 0xae);
	expect_kbd(want, sizeof(want));
}

Test(i8042, refusals, .init = setup, .fini = teardown)
{
	linux_controller_probe();
	kbd(0xf5, -1, ACK, 1);	/* the keyboard does not scan */
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), -EAGAIN);
	expect_empty();
	kbd(0xf4, -1, ACK, 1);
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), 0);	/* 11 set-2 bytes in the FIFO... */
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), -ENOSPC, "...so a second does not fit");
	vm.ndevices = 0;
	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), -ENODEV);
	vm.ndevices = 1;
}

Test(i8042, aux_write_times_out_and_reset_stops, .init = setup, .fini = teardown)
{
	uint8_t st;

	outb(CMD, 0xd4);	/* a byte for the mouse: there is none */
	outb(DATA, 0xf2);
	st = inb(CMD);
	cr_assert_eq(st & (OBF | AUXDATA | TIMEOUT), OBF | AUXDATA | TIMEOUT);
	cr_assert_eq(inb(DATA), 0xfe);
	cr_assert_eq(atomic_load(&vm.stopping), 0);
	outb(CMD, 0xfe);
	cr_assert_eq(atomic_load(&vm.stopping), 1, "command 0xfe ends the VM");
	cr_assert_eq(vm.exit_code, EXIT_OK);
}

static void save(struct sbuf *sb)
{
	sbuf_init(sb);
	cr_assert_eq(dev->ops->save(dev, sb), 0);
}

static int restore(const void *p, size_t len)
{
	struct sbuf sb;
	int r;

	sbuf_view(&sb, p, len);
	r = dev->ops->restore(dev, &sb);
	if (!r)
		cr_assert_eq(sb.pos, sb.len, "restore reads the whole state");
	return r;
}

Test(i8042, save_restore_round_trip, .init = setup, .fini = teardown)
{
	static const uint8_t rest[] = { 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	struct sbuf sb, again;
	uint8_t ctr = linux_controller_probe();

	cr_assert_eq(i8042_ctrl_alt_del(&vm.host), 0);
	cr_assert_eq(next_byte(false), 0x1d);
	/* mid-sequence: Alt in the output buffer, the rest in the FIFO, and a
	 * command waiting for its data byte */
	outb(CMD, 0x60);
	save(&sb);
	dev->ops->reset(dev);
	cr_assert_eq(read_ctr(), 0x65, "reset: power-on command byte");
	expect_empty();
	cr_assert_eq(restore(sb.data, sb.len), 0);
	cr_assert_eq(i8042_irq_lines(dev), IRQ1, "the restored byte raises IRQ 1 again");
	save(&again);
	cr_assert_eq(again.len, sb.len);
	cr_assert_eq(memcmp(again.data, sb.data, sb.len), 0, "save(restore(x)) == x");
	sbuf_free(&again);
	outb(DATA, ctr);	/* the pending command byte write completes */
	cr_assert_eq(next_byte(false), 0x38);
	expect_kbd(rest, sizeof(rest));
	cr_assert_eq(read_ctr(), ctr);
	/* malformed states are refused and change nothing */
	for (size_t cut = 0; cut < sb.len; cut++)
		cr_assert_eq(restore(sb.data, cut), -EINVAL, "cut at %zu", cut);
	sb.data[4 + 6] = 7;	/* scan code set 7 */
	cr_assert_eq(restore(sb.data, sb.len), -EINVAL);
	sb.data[4 + 6] = 2;
	sb.data[4 + 13] = 5;	/* 5 controller replies in a queue of 4 */
	cr_assert_eq(restore(sb.data, sb.len), -EINVAL);
	sb.data[0] = 3;		/* a version this ember does not know */
	cr_assert_eq(restore(sb.data, sb.len), -EINVAL);
	cr_assert_eq(read_ctr(), ctr, "a refused state leaves the device as it was");
	sbuf_free(&sb);
}

Test(i8042, restores_version_1_state, .init = setup, .fini = teardown)
{
	/* what ember wrote before: version 1 and 8 bytes, no state */
	static const uint8_t v1[12] = { 1 };

	command(0x60, 0x00, NULL, 0, false);
	cr_assert_eq(restore(v1, sizeof(v1)), 0);
	cr_assert_eq(read_ctr(), 0x65, "the old device had no state: power-on");
	cr_assert_eq(restore(v1, sizeof(v1) - 1), -EINVAL);
}
