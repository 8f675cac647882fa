/* tests/guests/virtio/vio.c - the test guests' virtio-mmio driver (see
 * vio.h). */
#include "vio.h"

#define MMIO_PREFIX "virtio_mmio.device="

static uint64_t parse_num(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0, base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	for (;; p++) {
		unsigned dg;

		if (*p >= '0' && *p <= '9')
			dg = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dg = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dg = (unsigned)(*p - 'A' + 10);
		else
			break;
		v = v * base + dg;
	}
	*pp = p;
	return v;
}

bool vio_find(const char *cmdline, unsigned n, struct vio_dev *d)
{
	size_t plen = rt_strlen(MMIO_PREFIX);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, MMIO_PREFIX, plen)) {
			const char *q = p + plen;

			parse_num(&q);			/* size */
			if (*q == 'K' || *q == 'k' || *q == 'M' || *q == 'm')
				q++;
			if (*q++ == '@') {
				uint64_t base = parse_num(&q);

				if (*q++ == ':' && n-- == 0) {
					memset(d, 0, sizeof(*d));
					d->base = (uintptr_t)base;
					d->gsi = (unsigned)parse_num(&q);
					return true;
				}
			}
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

static int fail(const char *tag, const struct vio_dev *d, const char *what)
{
	rt_puts(tag);
	rt_puts(": device at ");
	rt_put_hex(d->base);
	rt_puts(": ");
	rt_println(what);
	return -1;
}

void vio_reset(struct vio_dev *d)
{
	vio_write(d, VIO_STATUS, 0);
	while (vio_read(d, VIO_STATUS) != 0)
		cpu_pause();
}

int vio_init(struct vio_dev *d, uint32_t device_id, uint64_t want, const char *tag)
{
	uint64_t acc;

	if (vio_read(d, VIO_MAGIC) != VIO_MAGIC_VALUE)
		return fail(tag, d, "bad magic");
	if (vio_read(d, VIO_VERSION) != 2)
		return fail(tag, d, "not virtio-mmio version 2");
	d->device_id = vio_read(d, VIO_DEVICE_ID);
	if (d->device_id != device_id)
		return fail(tag, d, "unexpected device ID");
	vio_reset(d);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE);
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	vio_write(d, VIO_DEV_FEATURES_SEL, 0);
	d->offered = vio_read(d, VIO_DEV_FEATURES);
	vio_write(d, VIO_DEV_FEATURES_SEL, 1);
	d->offered |= (uint64_t)vio_read(d, VIO_DEV_FEATURES) << 32;
	if (!(d->offered & VIO_BIT(VIO_F_VERSION_1)))
		return fail(tag, d, "VERSION_1 not offered");
	acc = d->offered & (want | VIO_BIT(VIO_F_VERSION_1));
	vio_write(d, VIO_DRV_FEATURES_SEL, 0);
	vio_write(d, VIO_DRV_FEATURES, (uint32_t)acc);
	vio_write(d, VIO_DRV_FEATURES_SEL, 1);
	vio_write(d, VIO_DRV_FEATURES, (uint32_t)(acc >> 32));
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
	if (!(vio_read(d, VIO_STATUS) & VIO_S_FEATURES_OK))
		return fail(tag, d, "FEATURES_OK refused");
	d->features = acc;
	return 0;
}

static uint32_t page_up(uint32_t n)
{
	return (n + 4095u) & ~4095u;
}

uint32_t vio_ring_bytes(uint16_t size)
{
	return page_up(16u * size) + page_up(6u + 2u * size) + page_up(6u + 8u * size);
}

static void write_addr(struct vio_dev *d, uint32_t reg, const volatile void *p)
{
	uint64_t a = (uint64_t)(uintptr_t)p;

	vio_write(d, reg, (uint32_t)a);
	vio_write(d, reg + 4, (uint32_t)(a >> 32));
}

int vio_vq_setup(struct vio_dev *d, struct vio_vq *q, unsigned index,
		 uint16_t size, void *mem, const char *tag)
{
	uint8_t *m = mem;
	uint32_t max;

	vio_write(d, VIO_QUEUE_SEL, index);
	if (vio_read(d, VIO_QUEUE_READY))
		return fail(tag, d, "queue already ready");
	max = vio_read(d, VIO_QUEUE_NUM_MAX);
	if (max == 0 || size > max || (size & (size - 1)))
		return fail(tag, d, "queue size not possible");
	vio_zero(mem, vio_ring_bytes(size));
	memset(q, 0, sizeof(*q));
	q->d = d;
	q->index = index;
	q->size = size;
	q->event_idx = (d->features & VIO_BIT(VIO_F_EVENT_IDX)) != 0;
	q->desc = (struct vq_desc *)m;
	q->avail = (volatile uint16_t *)(m + page_up(16u * size));
	q->used = (volatile uint16_t *)(m + page_up(16u * size) + page_up(6u + 2u * size));
	vio_write(d, VIO_QUEUE_NUM, size);
	write_addr(d, VIO_QUEUE_DESC, q->desc);
	write_addr(d, VIO_QUEUE_DRIVER, q->avail);
	write_addr(d, VIO_QUEUE_DEVICE, q->used);
	vio_write(d, VIO_QUEUE_READY, 1);
	if (vio_read(d, VIO_QUEUE_READY) != 1)
		return fail(tag, d, "queue not ready");
	return 0;
}

void vio_driver_ok(struct vio_dev *d)
{
	vio_write(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK |
				 VIO_S_DRIVER_OK);
}

uint16_t vq_chain(struct vio_vq *q, uint16_t first, const struct vio_seg *segs,
		  unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vq_desc *dsc = &q->desc[first + i];

		dsc->addr = (uint64_t)(uintptr_t)segs[i].addr;
		dsc->len = segs[i].len;
		dsc->flags = (uint16_t)((segs[i].write ? VQ_DESC_F_WRITE : 0) |
					(i + 1 < n ? VQ_DESC_F_NEXT : 0));
		dsc->next = (uint16_t)(i + 1 < n ? first + i + 1 : 0);
	}
	return first;
}

void vq_add(struct vio_vq *q, uint16_t head)
{
	q->avail[2 + (q->avail_idx++ & (q->size - 1))] = head;
}

void vq_publish(struct vio_vq *q)
{
	vio_barrier();		/* ring entries before the index */
	q->avail[1] = q->avail_idx;
}

void vq_notify(struct vio_vq *q)
{
	vio_write(q->d, VIO_QUEUE_NOTIFY, q->index);
}

bool vq_kick(struct vio_vq *q)
{
	uint16_t old = q->kicked_idx, now = q->avail_idx;
	bool need;

	vio_mb();		/* avail.idx visible before we read the device's side */
	q->kicked_idx = now;
	if (q->event_idx) {
		uint16_t ev = q->used[2 + 4 * q->size];	/* avail_event */

		need = (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	} else {
		need = !(q->used[0] & VQ_USED_F_NO_NOTIFY);
	}
	if (need)
		vq_notify(q);
	return need;
}

bool vq_get_used(struct vio_vq *q, uint32_t *id, uint32_t *len)
{
	const volatile struct vq_used_elem *e;

	if (vq_used_idx(q) == q->last_used)
		return false;
	vio_barrier();		/* the element after the index */
	e = (const volatile struct vq_used_elem *)(q->used + 2) +
	    (q->last_used++ & (q->size - 1));
	*id = e->id;
	*len = e->len;
	if (q->event_idx)	/* used_event: next one, or far ahead */
		q->avail[2 + q->size] = (uint16_t)(q->last_used +
						   (q->no_interrupts ? 0x8000 : 0));
	return true;
}

unsigned vio_wait_shift = 33;

bool vq_wait_used(struct vio_vq *q, uint32_t *id, uint32_t *len)
{
	uint64_t t0 = rdtsc();

	while (!vq_get_used(q, id, len)) {
		if (rdtsc() - t0 > (1ULL << vio_wait_shift))
			return false;
		cpu_pause();
	}
	return true;
}

void vq_no_interrupts(struct vio_vq *q)
{
	q->no_interrupts = true;
	if (q->event_idx)	/* flags must stay 0: used_event far from last_used */
		q->avail[2 + q->size] = (uint16_t)(q->last_used + 0x8000);
	else
		q->avail[0] = VQ_AVAIL_F_NO_INTERRUPT;
}

/* ---- bulk memory ----------------------------------------------------------- */
void vio_zero(void *p, uint32_t len)
{
	void *d = p;
	uint32_t n = len / 4, r = len % 4;

	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(0) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(0) : "memory");
}

void vio_copy(void *dst, const void *src, uint32_t len)
{
	void *d = dst;
	const void *s = src;
	uint32_t n = len / 4, r = len % 4;

	__asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(r) : : "memory");
}

bool vio_equal(const void *a, const void *b, uint32_t len)
{
	const void *x = a, *y = b;
	uint32_t n = len / 4;
	bool ne;

	if (n) {
		__asm__ volatile("repe cmpsl" : "=@ccne"(ne), "+D"(x), "+S"(y), "+c"(n)
				 : : "memory");
		if (ne)
			return false;
	}
	return memcmp(x, y, len % 4) == 0;
}

bool vio_all(const void *p, uint8_t v, uint32_t len)
{
	const uint8_t *x = p;
	uint32_t n = len / 4, w = v * 0x01010101u;
	bool ne = false;

	if (n)
		__asm__ volatile("repe scasl" : "=@ccne"(ne), "+D"(x), "+c"(n) : "a"(w)
				 : "memory");
	if (ne)
		return false;
	for (uint32_t i = 0; i < len % 4; i++)
		if (x[i] != v)
			return false;
	return true;
}

/* ---- command line ---------------------------------------------------------- */
static const char *find_key(const char *cmdline, const char *key)
{
	size_t klen = rt_strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

bool vio_cmdline_word(const char *cmdline, const char *key, char *buf, unsigned cap)
{
	const char *p = find_key(cmdline, key);
	unsigned i = 0;

	if (!p || !cap)
		return false;
	while (p[i] && p[i] != ' ' && i + 1 < cap) {
		buf[i] = p[i];
		i++;
	}
	buf[i] = 0;
	return true;
}

bool vio_cmdline_ip(const char *cmdline, const char *key, uint32_t *ip)
{
	const char *p = find_key(cmdline, key);
	uint32_t v = 0;

	if (!p)
		return false;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t o = parse_num(&p);

		if (o > 255 || (i < 3 && *p++ != '.'))
			return false;
		v = v << 8 | (uint32_t)o;
	}
	*ip = v;
	return true;
}
