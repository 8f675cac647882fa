/* snapshot/vmstate.c - VM-wide state (the KVM clock and, with the full
 * in-kernel irqchip, the two PICs, the IOAPIC and the PIT) and the device
 * sections (a device's name, then its own save blob). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/devices.h"
#include "snapshot/snapshot.h"

#define VMSTATE_VERSION 1

int vm_state_get(struct vm *vm, struct vm_state *s)
{
	memset(s, 0, sizeof(*s));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &s->clock) < 0)
		return -errno;
	s->have_clock = true;
	if (vm->cfg->irqchip == IRQCHIP_FULL) {
		for (unsigned i = 0; i < 3; i++) {
			s->chip[i].chip_id = i;
			if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &s->chip[i]) < 0)
				return -errno;
		}
		s->have_irqchip = true;
	}
	if (vm->cfg->pit) {
		if (ioctl(vm->vm_fd, KVM_GET_PIT2, &s->pit) < 0)
			return -errno;
		s->have_pit = true;
	}
	return 0;
}

int vm_state_set(struct vm *vm, const struct vm_state *s, struct errbuf *err)
{
	if (s->have_irqchip != (vm->cfg->irqchip == IRQCHIP_FULL) ||
	    s->have_pit != vm->cfg->pit)
		return err_set(err, EINVAL, "snapshot: interrupt controllers do not match the VM");
	if (s->have_irqchip) {
		for (unsigned i = 0; i < 3; i++)
			if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &s->chip[i]) < 0)
				return err_set(err, errno, "restoring irqchip %u: %s", i,
					       strerror(errno));
	}
	if (s->have_pit && ioctl(vm->vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return err_set(err, errno, "restoring the PIT: %s", strerror(errno));
	if (s->have_clock) {
		struct kvm_clock_data c;

		memset(&c, 0, sizeof(c));
		c.clock = s->clock.clock;	/* guest time goes on from there */
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0)
			return err_set(err, errno, "restoring the KVM clock: %s", strerror(errno));
	}
	return 0;
}

void vm_state_encode(const struct vm_state *s, struct sbuf *sb)
{
	sbuf_put_u32(sb, VMSTATE_VERSION);
	sbuf_put_u32(sb, (uint32_t)s->have_clock | (uint32_t)s->have_irqchip << 1 |
			 (uint32_t)s->have_pit << 2);
	if (s->have_clock)
		sbuf_put(sb, &s->clock, sizeof(s->clock));
	if (s->have_irqchip)
		sbuf_put(sb, s->chip, sizeof(s->chip));
	if (s->have_pit)
		sbuf_put(sb, &s->pit, sizeof(s->pit));
}

int vm_state_decode(struct sbuf *sb, struct vm_state *s)
{
	uint32_t ver, fl;

	memset(s, 0, sizeof(*s));
	ver = sbuf_get_u32(sb);
	fl = sbuf_get_u32(sb);
	if (sb->err || ver != VMSTATE_VERSION || fl > 7)
		return -EINVAL;
	s->have_clock = fl & 1;
	s->have_irqchip = fl & 2;
	s->have_pit = fl & 4;
	if (s->have_clock)
		sbuf_get(sb, &s->clock, sizeof(s->clock));
	if (s->have_irqchip) {
		sbuf_get(sb, s->chip, sizeof(s->chip));
		for (unsigned i = 0; i < 3; i++)
			if (s->chip[i].chip_id != i)
				return -EINVAL;
	}
	if (s->have_pit)
		sbuf_get(sb, &s->pit, sizeof(s->pit));
	return sb->err || sb->pos != sb->len ? -EINVAL : 0;
}

void snap_cpuid_encode(const struct kvm_cpuid2 *c, struct sbuf *sb)
{
	sbuf_put_u32(sb, c->nent);
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t w[7] = { e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx };

		sbuf_put(sb, w, sizeof(w));
	}
}

int snap_cpuid_decode(struct sbuf *sb, struct kvm_cpuid2 **out)
{
	uint32_t n = sbuf_get_u32(sb);
	struct kvm_cpuid2 *c;

	*out = NULL;
	if (sb->err || n == 0 || n > SNAP_CPUID_MAX || sb->len - sb->pos != (size_t)n * 28)
		return -EINVAL;
	c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t w[7];

		sbuf_get(sb, w, sizeof(w));
		e->function = w[0];
		e->index = w[1];
		e->flags = w[2];
		e->eax = w[3];
		e->ebx = w[4];
		e->ecx = w[5];
		e->edx = w[6];
	}
	*out = c;
	return 0;
}

int snap_device_save(struct device *d, struct sbuf *sb)
{
	sbuf_put_str(sb, d->ops->name);
	if (sb->err)
		return sb->err;
	return d->ops->save(d, sb);
}

/* True when d's state is already `blob` (a restore would change nothing:
 * skipped, since some cost, e.g. the IOAPIC's KVM routing update). */
static bool device_has(struct device *d, const uint8_t *blob, size_t len)
{
	struct sbuf now;
	bool same;

	sbuf_init(&now);
	same = !d->ops->save(d, &now) && now.len == len && !memcmp(now.data, blob, len);
	sbuf_free(&now);
	return same;
}

int snap_device_restore(struct device *d, unsigned index, const struct snap_sec *sec,
			const char *path, bool skip_same, struct errbuf *err)
{
	struct sbuf sb;
	char name[64];
	int r;

	sbuf_view(&sb, sec->data, sec->len);
	if (sbuf_get_str(&sb, name, sizeof(name)))
		return err_set(err, EINVAL, "snapshot '%s': device %u: malformed section", path, index);
	if (strcmp(name, d->ops->name))
		return err_set(err, EINVAL, "snapshot '%s': device %u is '%s' in the snapshot but '%s' in this VM",
			       path, index, name, d->ops->name);
	if (skip_same && device_has(d, sb.data + sb.pos, sb.len - sb.pos))
		return 0;
	r = d->ops->restore(d, &sb);
	if (!r && sb.pos != sb.len)
		r = -EINVAL;
	if (r)
		return err_set(err, -r, "snapshot '%s': device %u (%s): state refused: %s", path,
			       index, d->name, strerror(-r));
	return 0;
}
