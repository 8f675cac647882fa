/* devices/i8042.c - the PC keyboard controller (Intel 8042) at ports 0x60
 * and 0x64, with an MF2 keyboard on its first port and an AUX (mouse) port
 * with nothing plugged in.
 *
 * Enough for Linux's i8042 and atkbd drivers to find the keyboard fast:
 * the controller answers its self-tests, command byte and AUX loop-back
 * at once (a command left unanswered costs Linux a 500 ms poll), and the
 * keyboard ACKs its commands and reports ID 0xab83.  What it is for:
 * i8042_send_ctrl_alt_del() types Ctrl-Alt-Del, on which Linux (with a
 * virtual terminal) reboots; the reboot, command 0xfe at 0x64 as before,
 * ends the VM with status 0.
 *
 * Model.  The guest reads one byte at 0x60, the output buffer (status
 * bit OBF).  It is refilled first from the controller's own replies, then
 * from the keyboard's FIFO while the keyboard port is enabled; bytes from
 * the keyboard go through the set 2 -> set 1 translation when the command
 * byte's XLATE bit is set.  IRQ 1 follows "a keyboard byte is in the
 * output buffer and KBDINT is on", IRQ 12 the same for AUX bytes; ISA
 * pins are edge-triggered, so each refill after a read is a new edge.
 * Ports 0x61..0x63 read 0 and ignore writes, as before.  The keyboard's
 * commands clear its FIFO (a PS/2 device drops its pending output when
 * the host sends), and a disabled keyboard (0xf5) sends no key codes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "snapshot/sbuf.h"

/* 1: ember's first i8042, only the reset line: a version word and 8
 * unused bytes (the port devices' common layout).  2: this one. */
#define I8042_STATE_V1 1
#define I8042_STATE_VERSION 2

#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* status register (read at 0x64) */
#define ST_OBF 0x01		/* output buffer full */
#define ST_SYS 0x04		/* system flag (command byte bit 2) */
#define ST_CMD 0x08		/* last write was to 0x64 */
#define ST_UNLOCKED 0x10	/* keyboard not inhibited by the key lock */
#define ST_AUXDATA 0x20		/* the output byte is from the AUX port */
#define ST_TIMEOUT 0x40		/* ... and the device did not answer */

/* command byte */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS 0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE 0x40
/* No BIOS runs before the guest: power-on is what one would leave, the
 * keyboard on with its interrupt and translation, AUX off. */
#define CTR_POWER_ON (CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE)

/* controller commands (written at 0x64) */
enum {
	CC_READ_CTR = 0x20, CC_WRITE_CTR = 0x60, CC_AUX_DISABLE = 0xa7,
	CC_AUX_ENABLE = 0xa8, CC_AUX_TEST = 0xa9, CC_SELF_TEST = 0xaa,
	CC_KBD_TEST = 0xab, CC_KBD_DISABLE = 0xad, CC_KBD_ENABLE = 0xae,
	CC_READ_OUTP = 0xd0, CC_WRITE_OUTP = 0xd1, CC_WRITE_KBD_OUT = 0xd2,
	CC_WRITE_AUX_OUT = 0xd3, CC_WRITE_AUX = 0xd4, CC_RESET = 0xfe,
};
#define SELF_TEST_OK 0x55
#define PORT_TEST_OK 0x00

/* keyboard commands (written at 0x60) and its replies */
enum {
	KC_SET_LEDS = 0xed, KC_ECHO = 0xee, KC_SCANSET = 0xf0, KC_GET_ID = 0xf2,
	KC_SET_RATE = 0xf3, KC_ENABLE = 0xf4, KC_RESET_DIS = 0xf5,
	KC_RESET_DEF = 0xf6, KC_SET3_FIRST = 0xf7, KC_SET3_LAST = 0xfd,
	KC_RESEND = 0xfe, KC_RESET = 0xff,
};
#define KBD_ACK 0xfa
#define KBD_NAK 0xfe		/* "resend": a command it does not know */
#define KBD_BAT_OK 0xaa
#define KBD_ID0 0xab
#define KBD_ID1 0x83		/* MF2 keyboard */
#define KBD_RATE_DEFAULT 0x2b	/* 10.9 characters/s after 500 ms */

#define CQ_SIZE 4		/* controller replies waiting */
#define KQ_SIZE 16		/* the keyboard's FIFO */

/* The state a snapshot holds, one byte each; the queues are saved from
 * their head. */
struct i8042_regs {
	uint8_t ctr, outp;
	uint8_t last_cmd;	/* ST_CMD: the last write was a command */
	uint8_t ctl_pending;	/* controller command waiting for its data byte */
	uint8_t kbd_pending;	/* keyboard command waiting for its parameter */
	uint8_t scanning;	/* the keyboard sends key codes (0xf4/0xf5) */
	uint8_t set;		/* the keyboard's scan code set, 1..3 */
	uint8_t leds, rate;
	uint8_t kbd_last;	/* last byte the keyboard sent (0xfe: resend it) */
	uint8_t xlat_break;	/* translation saw 0xf0: the next byte is a break */
	uint8_t out, out_st;	/* the output buffer and its ST_* bits */
	uint8_t cq_n, kq_n;
	uint8_t cq[CQ_SIZE], cq_st[CQ_SIZE];
	uint8_t kq[KQ_SIZE];
};

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	struct i8042_regs r;
	uint8_t kq_head;
	uint8_t line_kbd, line_aux;	/* the IRQ levels last driven */
};

static const struct device_ops i8042_ops;

/* ---- output buffer and interrupts (lock held) ----------------------------- */
static void update_irq(struct i8042 *k)
{
	const struct i8042_regs *r = &k->r;
	uint8_t kbd = (r->out_st & ST_OBF) && !(r->out_st & ST_AUXDATA) && (r->ctr & CTR_KBDINT);
	uint8_t aux = (r->out_st & ST_OBF) && (r->out_st & ST_AUXDATA) && (r->ctr & CTR_AUXINT);

	if (kbd != k->line_kbd)
		host_irq_line(k->dev.host, I8042_KBD_IRQ, kbd);
	if (aux != k->line_aux)
		host_irq_line(k->dev.host, I8042_AUX_IRQ, aux);
	k->line_kbd = kbd;
	k->line_aux = aux;
}

/* The controller's set 2 -> set 1 translation, for the bytes this keyboard
 * sends: its replies (0x83 of the ID, the scan set numbers) and the keys
 * it types.  Bytes of 0x80 and up (ACK, BAT, 0xe0, ...) pass unchanged;
 * a byte missing here is one this keyboard never sends in set 2, and
 * passes unchanged too (a keyboard switched to set 1 or 3 behind a
 * translating controller, which no driver does, would get garbage from
 * real hardware). */
static uint8_t xlate(uint8_t b)
{
	static const uint8_t map[][2] = {
		{ 0x01, 0x43 }, { 0x02, 0x41 }, { 0x03, 0x3f },	/* scan sets */
		{ 0x11, 0x38 }, { 0x14, 0x1d }, { 0x71, 0x53 },	/* Alt, Ctrl, Del */
		{ 0x83, 0x41 },					/* ID byte 2 */
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i][0] == b)
			return map[i][1];
	return b;
}

/* Moves the next byte into an empty output buffer. */
static void refill(struct i8042 *k)
{
	struct i8042_regs *r = &k->r;

	if (r->out_st & ST_OBF)
		return;
	if (r->cq_n) {
		r->out = r->cq[0];
		r->out_st = ST_OBF | r->cq_st[0];
		r->cq_n--;
		memmove(r->cq, r->cq + 1, r->cq_n);
		memmove(r->cq_st, r->cq_st + 1, r->cq_n);
		return;
	}
	while (r->kq_n && !(r->ctr & CTR_KBDDIS)) {
		uint8_t b = r->kq[k->kq_head];

		k->kq_head = (uint8_t)((k->kq_head + 1) % KQ_SIZE);
		r->kq_n--;
		if (r->ctr & CTR_XLATE) {
			if (b == 0xf0) {	/* break prefix: swallowed, sets bit 7 */
				r->xlat_break = 1;
				continue;
			}
			b = xlate(b);
			if (r->xlat_break)
				b |= 0x80;
			r->xlat_break = 0;
		}
		r->out = b;
		r->out_st = ST_OBF;
		return;
	}
}

/* After any change: refill, then drive the lines. */
static void settle(struct i8042 *k)
{
	refill(k);
	update_irq(k);
}

static void ctl_reply(struct i8042 *k, uint8_t b, uint8_t st)
{
	struct i8042_regs *r = &k->r;

	if (r->cq_n == CQ_SIZE)
		return;		/* a guest that never reads: the oldest stay */
	r->cq[r->cq_n] = b;
	r->cq_st[r->cq_n++] = st;
}

/* The keyboard sends b (its FIFO; full: dropped, as a keyboard's own
 * overrun would be). */
static void kbd_send(struct i8042 *k, uint8_t b)
{
	struct i8042_regs *r = &k->r;

	if (r->kq_n == KQ_SIZE)
		return;
	r->kq[(k->kq_head + r->kq_n++) % KQ_SIZE] = b;
	r->kbd_last = b;
}

/* ---- the keyboard ------------------------------------------------------------ */
static void kbd_defaults(struct i8042_regs *r)
{
	r->set = 2;
	r->rate = KBD_RATE_DEFAULT;
	r->kbd_pending = 0;
}

static void kbd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	struct i8042_regs *r = &k->r;

	r->kbd_pending = 0;
	switch (cmd) {
	case KC_SET_LEDS:
		r->leds = v & 7;
		break;
	case KC_SET_RATE:
		r->rate = v & 0x7f;
		break;
	case KC_SCANSET:
		if (v > 3) {
			kbd_send(k, KBD_NAK);
			return;
		}
		kbd_send(k, KBD_ACK);
		if (v == 0)
			kbd_send(k, r->set);	/* 0: which set is on */
		else
			r->set = v;
		return;
	}
	kbd_send(k, KBD_ACK);
}

/* A byte from the host to the keyboard. */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	struct i8042_regs *r = &k->r;
	uint8_t last = r->kbd_last;

	k->kq_head = 0;		/* the host sends: pending output is dropped */
	r->kq_n = 0;
	r->xlat_break = 0;
	if (r->kbd_pending && v < 0x80) {	/* commands are 0xed and up */
		kbd_param(k, r->kbd_pending, v);
		return;
	}
	r->kbd_pending = 0;
	switch (v) {
	case KC_SET_LEDS:
	case KC_SCANSET:
	case KC_SET_RATE:
		r->kbd_pending = v;
		kbd_send(k, KBD_ACK);
		return;
	case KC_ECHO:
		kbd_send(k, KC_ECHO);
		return;
	case KC_GET_ID:
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_ID0);
		kbd_send(k, KBD_ID1);
		return;
	case KC_ENABLE:
		r->scanning = 1;
		kbd_send(k, KBD_ACK);
		return;
	case KC_RESET_DIS:
	case KC_RESET_DEF:
		kbd_defaults(r);
		r->scanning = v == KC_RESET_DEF;
		kbd_send(k, KBD_ACK);
		return;
	case KC_RESEND:
		kbd_send(k, last);
		return;
	case KC_RESET:
		kbd_defaults(r);
		r->leds = 0;
		r->scanning = 1;
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_BAT_OK);
		return;
	}
	if (v >= KC_SET3_FIRST && v <= KC_SET3_LAST) {	/* set 3 key types */
		kbd_send(k, KBD_ACK);
		return;
	}
	kbd_send(k, KBD_NAK);
}

/* ---- the controller ---------------------------------------------------------- */
static void ctl_command(struct i8042 *k, uint8_t c)
{
	struct i8042_regs *r = &k->r;

	r->ctl_pending = 0;
	switch (c) {
	case CC_READ_CTR:
		ctl_reply(k, r->ctr, 0);
		break;
	case CC_WRITE_CTR:
	case CC_WRITE_OUTP:
	case CC_WRITE_KBD_OUT:
	case CC_WRITE_AUX_OUT:
	case CC_WRITE_AUX:
		r->ctl_pending = c;
		break;
	case CC_AUX_DISABLE:
		r->ctr |= CTR_AUXDIS;
		break;
	case CC_AUX_ENABLE:
		r->ctr &= (uint8_t)~CTR_AUXDIS;
		break;
	case CC_AUX_TEST:
	case CC_KBD_TEST:
		ctl_reply(k, PORT_TEST_OK, 0);
		break;
	case CC_SELF_TEST:
		r->ctr |= CTR_SYS;
		ctl_reply(k, SELF_TEST_OK, 0);
		break;
	case CC_KBD_DISABLE:
		r->ctr |= CTR_KBDDIS;
		break;
	case CC_KBD_ENABLE:
		r->ctr &= (uint8_t)~CTR_KBDDIS;
		break;
	case CC_READ_OUTP:
		ctl_reply(k, r->outp, 0);
		break;
	case CC_RESET:
		host_stop(k->dev.host, EXIT_OK);	/* reset: the VM ends */
		break;
	}
	/* anything else (RAM reads 0x21.., output pulses but 0xfe, vendor
	 * commands) is ignored, as an 8042 ignores what it does not know */
}

static void data_write(struct i8042 *k, uint8_t v)
{
	struct i8042_regs *r = &k->r;
	uint8_t c = r->ctl_pending;

	r->ctl_pending = 0;
	switch (c) {
	case CC_WRITE_CTR:
		r->ctr = v;
		return;
	case CC_WRITE_OUTP:
		/* A20 and the reset line: ember ends the VM on command 0xfe,
		 * what Linux's reboot=k sends, not on this bit */
		r->outp = v;
		return;
	case CC_WRITE_KBD_OUT:
		ctl_reply(k, v, 0);
		return;
	case CC_WRITE_AUX_OUT:
		ctl_reply(k, v, ST_AUXDATA);	/* the AUX loop-back */
		return;
	case CC_WRITE_AUX:
		/* no mouse: the controller times out waiting for its clock */
		ctl_reply(k, KBD_NAK, ST_AUXDATA | ST_TIMEOUT);
		return;
	}
	kbd_write(k, v);
}

/* ---- ports 0x60..0x64 -------------------------------------------------------- */
static uint8_t status(const struct i8042_regs *r)
{
	uint8_t st = ST_UNLOCKED | (r->ctr & CTR_SYS) | (r->last_cmd ? ST_CMD : 0);

	if (r->out_st & ST_OBF)
		st |= r->out_st;
	return st;
}

static void i8042_read(void *opaque, uint64_t off, void *data, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = 0;

	pthread_mutex_lock(&k->lock);
	if (off == 0) {
		v = k->r.out;	/* an empty buffer reads its last byte again */
		k->r.out_st = 0;
		update_irq(k);	/* the line drops: a refill is a new edge */
		settle(k);
	} else if (off == I8042_CMD_PORT - I8042_DATA_PORT) {
		v = status(&k->r);
	}
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, size);
	memcpy(data, &v, 1);
}

static void i8042_write(void *opaque, uint64_t off, const void *data, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = *(const uint8_t *)data;	/* the low byte: little-endian */

	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == 0) {
		k->r.last_cmd = 0;
		data_write(k, v);
	} else if (off == I8042_CMD_PORT - I8042_DATA_PORT) {
		k->r.last_cmd = 1;
		ctl_command(k, v);
	}
	settle(k);
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_ops i8042_bus_ops = { i8042_read, i8042_write };

/* ---- Ctrl-Alt-Del --------------------------------------------------------------- */
int i8042_send_ctrl_alt_del(struct device *d)
{
	/* press Ctrl, Alt, Del; release Del, Alt, Ctrl */
	static const uint8_t set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	static const uint8_t set2[] = { 0x14, 0x11, 0xe0, 0x71,
					0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14 };
	static const uint8_t set3[] = { 0x11, 0x19, 0x64, 0xf0, 0x64, 0xf0, 0x19, 0xf0, 0x11 };
	struct i8042 *k = container_of(d, struct i8042, dev);
	const uint8_t *seq = set2;
	size_t n = sizeof(set2);
	int r = 0;

	pthread_mutex_lock(&k->lock);
	if (k->r.set != 2) {
		seq = k->r.set == 1 ? set1 : set3;
		n = k->r.set == 1 ? sizeof(set1) : sizeof(set3);
	}
	if (!k->r.scanning)
		r = -EAGAIN;
	else if ((size_t)(KQ_SIZE - k->r.kq_n) < n)
		r = -ENOSPC;
	for (size_t i = 0; !r && i < n; i++)
		kbd_send(k, seq[i]);
	settle(k);
	pthread_mutex_unlock(&k->lock);
	return r;
}

int i8042_ctrl_alt_del(struct dev_host *h)
{
	unsigned n;
	struct device *const *devs = host_devices(h, &n);

	for (unsigned i = 0; i < n; i++)
		if (devs[i]->ops == &i8042_ops)
			return i8042_send_ctrl_alt_del(devs[i]);
	return -ENODEV;
}

unsigned i8042_irq_lines(struct device *d)
{
	struct i8042 *k = container_of(d, struct i8042, dev);
	unsigned v;

	pthread_mutex_lock(&k->lock);
	v = (k->line_kbd ? 1u << I8042_KBD_IRQ : 0) | (k->line_aux ? 1u << I8042_AUX_IRQ : 0);
	pthread_mutex_unlock(&k->lock);
	return v;
}

/* ---- device ops ------------------------------------------------------------------- */
static void power_on(struct i8042_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->ctr = CTR_POWER_ON;
	r->outp = 0x03;		/* reset line high (inactive), A20 on */
	r->scanning = 1;
	kbd_defaults(r);
}

static int i8042_save(struct device *d, struct sbuf *sb)
{
	struct i8042 *k = container_of(d, struct i8042, dev);
	struct i8042_regs r;

	pthread_mutex_lock(&k->lock);
	r = k->r;
	for (unsigned i = 0; i < r.kq_n; i++)	/* the FIFO from its head */
		r.kq[i] = k->r.kq[(k->kq_head + i) % KQ_SIZE];
	pthread_mutex_unlock(&k->lock);
	memset(r.kq + r.kq_n, 0, KQ_SIZE - r.kq_n);
	memset(r.cq + r.cq_n, 0, CQ_SIZE - r.cq_n);
	memset(r.cq_st + r.cq_n, 0, CQ_SIZE - r.cq_n);
	sbuf_put_u32(sb, I8042_STATE_VERSION);
	sbuf_put(sb, &r, sizeof(r));	/* bytes only: no padding */
	return sb->err;
}

static bool regs_valid(const struct i8042_regs *r)
{
	const uint8_t st_bits = ST_OBF | ST_AUXDATA | ST_TIMEOUT;

	if (r->set < 1 || r->set > 3 || r->cq_n > CQ_SIZE || r->kq_n > KQ_SIZE ||
	    r->last_cmd > 1 || r->scanning > 1 || r->xlat_break > 1 || r->leds > 7 ||
	    r->rate > 0x7f || (r->out_st & ~st_bits))
		return false;
	for (unsigned i = 0; i < r->cq_n; i++)
		if (r->cq_st[i] & ~(ST_AUXDATA | ST_TIMEOUT))
			return false;
	switch (r->ctl_pending) {
	case 0: case CC_WRITE_CTR: case CC_WRITE_OUTP: case CC_WRITE_KBD_OUT:
	case CC_WRITE_AUX_OUT: case CC_WRITE_AUX:
		break;
	default:
		return false;
	}
	return r->kbd_pending == 0 || r->kbd_pending == KC_SET_LEDS ||
	       r->kbd_pending == KC_SCANSET || r->kbd_pending == KC_SET_RATE;
}

static int i8042_restore(struct device *d, struct sbuf *sb)
{
	struct i8042 *k = container_of(d, struct i8042, dev);
	struct i8042_regs r;
	uint32_t ver = sbuf_get_u32(sb);

	if (sb->err)
		return -EINVAL;
	if (ver == I8042_STATE_V1) {
		uint32_t unused[2];

		/* the old reset-line-only device had no state: power-on */
		sbuf_get(sb, unused, sizeof(unused));
		power_on(&r);
	} else if (ver == I8042_STATE_VERSION) {
		sbuf_get(sb, &r, sizeof(r));
		if (!sb->err && !regs_valid(&r))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (sb->err)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	k->r = r;
	k->kq_head = 0;
	k->line_kbd = k->line_aux = 0;	/* re-derived against the new irqchip */
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_reset(struct device *d)
{
	struct i8042 *k = container_of(d, struct i8042, dev);

	pthread_mutex_lock(&k->lock);
	power_on(&k->r);
	k->kq_head = 0;
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_destroy(struct device *d)
{
	struct i8042 *k = container_of(d, struct i8042, dev);

	pthread_mutex_destroy(&k->lock);
	free(k);
}

static const struct device_ops i8042_ops = {
	"i8042", i8042_save, i8042_restore, i8042_reset, i8042_destroy,
};

int i8042_create(struct dev_host *h, struct device **out)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int r;

	_Static_assert(sizeof(struct i8042_regs) == 15 + 2 * CQ_SIZE + KQ_SIZE,
		       "i8042_regs is saved as bytes: no padding");
	if (!k)
		return -ENOMEM;
	k->dev.ops = &i8042_ops;
	k->dev.host = h;
	k->dev.name = i8042_ops.name;
	pthread_mutex_init(&k->lock, NULL);
	power_on(&k->r);
	r = host_add_device(h, &k->dev);	/* from here on the VM frees it */
	if (r) {
		i8042_destroy(&k->dev);
		return r;
	}
	r = bus_register(h->pio, I8042_DATA_PORT, I8042_CMD_PORT - I8042_DATA_PORT + 1,
			 &i8042_bus_ops, k, i8042_ops.name);
	if (r)
		return r;
	if (out)
		*out = &k->dev;
	return 0;
}
