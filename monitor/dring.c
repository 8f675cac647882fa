/* monitor/dring.c - KVM's dirty ring: each vCPU pushes the guest pages it
 * dirties into a ring of its own, which ember reads without a system call;
 * one KVM_RESET_DIRTY_RINGS re-arms what was read.  Cheaper than the
 * dirty bitmap when few pages change (a fuzzing run), and its cost follows
 * the pages dirtied, not the guest's size.  Harvested pages accumulate in
 * a bitmap until dring_consume takes them, so a full ring (a vCPU exit)
 * loses nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "monitor/monitor.h"

#define PAGE 4096ull	/* KVM tracks 4 KiB pages */

struct dring {
	unsigned entries;	/* per vCPU, a power of two */
	struct kvm_dirty_gfn *ring[MAX_CPUS];
	uint32_t next[MAX_CPUS];	/* the next entry to read */
	pthread_mutex_t lock;	/* harvest: the loop or fuzz thread, or a
				 * vCPU whose ring is full */
	uint64_t *bm;		/* pages of the image harvested, not consumed */
	uint64_t words, lo, hi;	/* bitmap words; [lo, hi] may hold bits */
	uint64_t slot_page[2];	/* each memslot's first page in the image */
	uint64_t slot_pages[2];
	uint64_t stray;		/* entries naming no page of RAM (counted) */
	bool overflowed;	/* a ring was found wholly full: see harvest */
};

int dring_enable(struct vm *vm, unsigned entries)
{
	int max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING_ACQ_REL);
	struct kvm_enable_cap cap = { .cap = KVM_CAP_DIRTY_LOG_RING_ACQ_REL };
	struct dring *d;

	if (max <= 0) {	/* x86 is strongly ordered: the older capability is as good */
		cap.cap = KVM_CAP_DIRTY_LOG_RING;
		max = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING);
	}
	if (max <= 0)
		return 0;	/* no ring: the dirty bitmap is used */
	if (!entries || (entries & (entries - 1)))
		return -EINVAL;
	while ((uint64_t)entries * sizeof(struct kvm_dirty_gfn) > (uint64_t)max)
		entries /= 2;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->entries = entries;
	d->words = (vm->mem.size / PAGE + 63) / 64;
	d->bm = calloc(d->words, 8);
	d->lo = UINT64_MAX;
	d->slot_pages[0] = vm->mem.low_size / PAGE;
	d->slot_page[1] = vm->mem.low_size / PAGE;
	d->slot_pages[1] = (vm->mem.size - vm->mem.low_size) / PAGE;
	cap.args[0] = (uint64_t)entries * sizeof(struct kvm_dirty_gfn);
	if (!d->bm || ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		int r = d->bm ? -errno : -ENOMEM;

		free(d->bm);
		free(d);
		return r;
	}
	pthread_mutex_init(&d->lock, NULL);
	vm->dring = d;
	log_info("dirty tracking: KVM dirty ring, %u entries per vCPU", entries);
	return 0;
}

int dring_map_vcpu(struct vm *vm, struct vcpu *v)
{
	struct dring *d = vm->dring;
	void *p;

	if (!d)
		return 0;
	p = mmap(NULL, d->entries * sizeof(struct kvm_dirty_gfn), PROT_READ | PROT_WRITE,
		 MAP_SHARED, v->fd, KVM_DIRTY_LOG_PAGE_OFFSET * sysconf(_SC_PAGESIZE));
	if (p == MAP_FAILED)
		return -errno;
	d->ring[v->id] = p;
	return 0;
}

static void mark(struct dring *d, uint32_t slot, uint64_t offset)
{
	uint64_t page;

	if ((slot >> 16) || (slot & 0xffff) > 1 || offset >= d->slot_pages[slot & 1]) {
		d->stray++;	/* another address space or slot: not RAM */
		return;
	}
	page = d->slot_page[slot] + offset;
	d->bm[page / 64] |= 1ull << (page % 64);
	if (page / 64 < d->lo)
		d->lo = page / 64;
	if (page / 64 > d->hi)
		d->hi = page / 64;
}

int dring_harvest(struct vm *vm)
{
	struct dring *d = vm->dring;
	unsigned n = 0;
	int r = 0;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	for (unsigned c = 0; c < vm->ncpus; c++) {
		struct kvm_dirty_gfn *ring = d->ring[c];
		unsigned k = 0;

		for (; ring && k < d->entries; d->next[c]++, n++, k++) {
			struct kvm_dirty_gfn *e = &ring[d->next[c] & (d->entries - 1)];

			if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY))
				break;
			mark(d, e->slot, e->offset);
			__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		}
		/* KVM stops a vCPU at the ring's soft limit, some entries short
		 * of full; a full ring means KVM went on pushing past it (seen
		 * with guest writes KVM emulates in a row) and may have
		 * overwritten pages not yet read: the dirty set is lost */
		if (k == d->entries && !d->overflowed) {
			d->overflowed = true;
			log_error("KVM's dirty ring of vCPU %u overflowed: KVM wrote past the ring's "
				  "soft limit (its kernel log warns in kvm_dirty_ring_push), so dirty "
				  "pages may be lost; the VM stops", c);
		}
	}
	log_debug("dirty ring: %u entries harvested", n);
	/* write-protects the harvested pages again, for every vCPU */
	if (n && ioctl(vm->vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
		r = -errno;
	if (d->overflowed)
		r = -EOVERFLOW;
	pthread_mutex_unlock(&d->lock);
	return r;
}

int dring_consume(struct vm *vm, void (*fn)(void *ctx, uint64_t first, uint64_t n),
		  void *ctx)
{
	struct dring *d = vm->dring;
	struct page_runs runs = { .fn = fn, .ctx = ctx };
	int r = dring_harvest(vm);

	if (r)
		return r;
	pthread_mutex_lock(&d->lock);
	if (d->lo != UINT64_MAX)
		page_runs_bitmap(&runs, d->bm, d->lo, d->hi + 1, 0, true);
	page_runs_end(&runs);
	d->lo = UINT64_MAX;
	d->hi = 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void dring_destroy(struct vm *vm)
{
	struct dring *d = vm->dring;

	if (!d)
		return;
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (d->ring[c])
			munmap(d->ring[c], d->entries * sizeof(struct kvm_dirty_gfn));
	if (d->stray)
		log_info("dirty ring: %llu entries named no page of RAM",
			 (unsigned long long)d->stray);
	pthread_mutex_destroy(&d->lock);
	free(d->bm);
	free(d);
	vm->dring = NULL;
}
