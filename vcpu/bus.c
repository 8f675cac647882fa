/* vcpu/bus.c - PIO and MMIO buses: sorted interval tables, no overlaps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"
#include "vcpu/vcpu.h"

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	uint64_t end;
	unsigned i;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &end))
		return -EINVAL;
	/* find the insertion point and check both neighbours */
	for (i = 0; i < b->n && b->r[i].base < base; i++)
		;
	if (i > 0 && b->r[i - 1].base + (b->r[i - 1].len - 1) >= base)
		return -EEXIST;
	if (i < b->n && b->r[i].base <= end)
		return -EEXIST;
	if (b->n == b->cap) {
		unsigned ncap = b->cap ? b->cap * 2 : 8;
		struct bus_range *n = realloc(b->r, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		b->r = n;
		b->cap = ncap;
	}
	memmove(&b->r[i + 1], &b->r[i], (b->n - i) * sizeof(*b->r));
	b->r[i] = (struct bus_range){ base, len, ops, opaque, name };
	b->n++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->r[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_access(struct bus *b, uint64_t addr, void *data, unsigned size,
	       bool is_write)
{
	const struct bus_range *r = bus_find(b, addr);

	if (!r || size == 0 || size > 8 || addr - r->base + size > r->len) {
		atomic_fetch_add(&b->misses, 1);
		if (!is_write)
			memset(data, 0xff, size > 8 ? 8 : size);
		return -ENOENT;
	}
	if (is_write) {
		if (r->ops->write)
			r->ops->write(r->opaque, addr - r->base, data, size);
	} else {
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, size);
		else
			memset(data, 0xff, size);
	}
	return 0;
}

void bus_destroy(struct bus *b)
{
	/* the metric of DESIGN.md's "a read of nothing returns all-ones,
	 * counted": reported once, when the VM ends */
	log_debug("%s bus: %lu accesses hit no device (reads returned all-ones, writes were dropped)",
		  b->name ? b->name : "?", atomic_load(&b->misses));
	free(b->r);
	b->r = NULL;
	b->n = b->cap = 0;
}
