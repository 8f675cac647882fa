/* monitor/gmem.c - guest RAM (one anonymous mapping, huge pages where
 * the host gives them, or a snapshot memory file), the checked
 * guest-physical translator, the record of host writes to guest RAM, and
 * the e820 memory map. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/monitor.h"

int gmem_init(struct gmem *m, uint64_t size)
{
	uint8_t *p, *a;
	size_t over = (size_t)GMEM_HUGE;

	m->host = NULL;
	m->fd = -1;
	m->size = m->low_size = 0;
	m->cow = false;
	m->path = NULL;
	m->track = NULL;
	if (size < MiB(2) || (size & 0xfff))
		return -EINVAL;
	/* private anonymous memory, 2 MiB aligned: with MADV_HUGEPAGE the
	 * kernel backs it with transparent huge pages (a memfd gets none
	 * while shmem_enabled is "never", Debian's default), and KVM maps a
	 * 2 MiB page in the guest's nested page table per fault instead of
	 * a 4 KiB one.  Linux booting 256 MiB took 5532 nested page faults
	 * on a memfd, QEMU (huge pages) 548.  No MAP_POPULATE: pages fault
	 * in when first touched. */
	p = mmap(NULL, size + over, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	a = (uint8_t *)(((uintptr_t)p + over - 1) & ~(uintptr_t)(over - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + size < p + size + over)
		munmap(a + size, (size_t)(p + size + over - (a + size)));
	/* the first 2 MiB stay small pages, even where THP is "always": a
	 * tiny guest touches a few pages there and should not pay for
	 * zeroing (and keeping) 2 MiB.  Both are hints. */
	madvise(a, GMEM_HUGE, MADV_NOHUGEPAGE);
	if (size > GMEM_HUGE)
		madvise(a + GMEM_HUGE, size - GMEM_HUGE, MADV_HUGEPAGE);
	m->host = a;
	m->size = size;
	m->low_size = size < MMIO_GAP_START ? size : MMIO_GAP_START;
	m->zeroed = true;
	return 0;
}

void gmem_small_pages(struct gmem *m)
{
	if (m->host && m->fd < 0)
		madvise(m->host, m->size, MADV_NOHUGEPAGE);	/* a hint */
}

int gmem_init_file(struct gmem *m, uint64_t size, const char *path, struct errbuf *err)
{
	struct stat st;
	void *p;
	int fd, e;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size < MiB(2) || (size & 0xfff))
		return err_set(err, EINVAL, "snapshot memory '%s': the snapshot's RAM (%llu bytes) "
			       "is not a multiple of 4 KiB of at least 2 MiB", path,
			       (unsigned long long)size);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, errno, "snapshot memory '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		e = err_set(err, errno, "snapshot memory '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		e = err_set(err, EINVAL, "snapshot memory '%s': %llu bytes, the snapshot's RAM is %llu",
			    path, (unsigned long long)st.st_size, (unsigned long long)size);
		goto fail;
	}
	e = memfile_check(path, &st, err);
	if (e)
		goto fail;
	m->path = strdup(path);
	if (!m->path) {
		e = err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	/* private: guest writes copy the page, the file stays as it was */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		e = err_set(err, errno, "snapshot memory '%s': %s", path, strerror(errno));
		goto fail;
	}
	e = memfile_watch(p, size, path);
	if (e) {
		munmap(p, size);
		e = err_set(err, -e, "snapshot memory '%s': SIGBUS handler: %s", path, strerror(-e));
		goto fail;
	}
	m->host = p;
	m->fd = fd;
	m->size = size;
	m->low_size = size < MMIO_GAP_START ? size : MMIO_GAP_START;
	m->cow = true;
	return 0;
fail:
	free(m->path);
	m->path = NULL;
	close(fd);
	return e;
}

void gmem_destroy(struct gmem *m)
{
	gmem_track_stop(m);
	if (m->host && m->cow)
		memfile_unwatch(m->host);
	if (m->host)
		munmap(m->host, m->size);
	free(m->path);
	m->path = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->host = NULL;
	m->fd = -1;
	m->size = m->low_size = 0;
	m->zeroed = false;
	m->cow = false;
}

void gmem_copy_in(const struct gmem *m, void *dst, const void *src, size_t len)
{
	(void)m;	/* anonymous RAM or a private file mapping: memcpy */
	memcpy(dst, src, len);
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, size_t len)
{
	uint64_t end;

	if (!m->host || len == 0 || __builtin_add_overflow(gpa, (uint64_t)len, &end))
		return NULL;
	if (end <= m->low_size)
		return m->host + gpa;
	if (gpa >= MMIO_GAP_END && end - MMIO_GAP_END <= m->size - m->low_size)
		return m->host + m->low_size + (gpa - MMIO_GAP_END);
	return NULL;
}

/* ---- host writes ------------------------------------------------------ */
#define TRACK_PAGE 4096ull

int gmem_track_start(struct gmem *m)
{
	struct gmem_track *t;

	if (m->track)
		return -EBUSY;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->npages = m->size / TRACK_PAGE;
	t->words = (t->npages + 63) / 64;
	t->page = calloc(t->words ? t->words : 1, 8);
	t->sum = calloc((t->words + 63) / 64 ? (t->words + 63) / 64 : 1, 8);
	if (!t->page || !t->sum) {
		free(t->page);
		free(t->sum);
		free(t);
		return -ENOMEM;
	}
	__atomic_store_n(&m->track, t, __ATOMIC_RELEASE);
	return 0;
}

void gmem_track_stop(struct gmem *m)
{
	struct gmem_track *t = m->track;

	if (!t)
		return;
	__atomic_store_n(&m->track, NULL, __ATOMIC_RELEASE);
	free(t->page);
	free(t->sum);
	free(t);
}

/* Sets bits [lo, hi] (inclusive, same word) of *w unless they are set. */
static inline bool set_bits(uint64_t *w, unsigned lo, unsigned hi)
{
	uint64_t mask = (hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);

	if ((__atomic_load_n(w, __ATOMIC_RELAXED) & mask) == mask)
		return false;	/* the common case: marked already, no locked op */
	__atomic_fetch_or(w, mask, __ATOMIC_RELAXED);
	return true;
}

void gmem_track_mark(struct gmem_track *t, const struct gmem *m, const void *p, size_t len)
{
	uint64_t off, first, last;

	if (!len || (const uint8_t *)p < m->host)
		return;
	off = (uint64_t)((const uint8_t *)p - m->host);
	if (off >= m->size)
		return;
	if (len > m->size - off)
		len = m->size - off;
	first = off / TRACK_PAGE;
	last = (off + len - 1) / TRACK_PAGE;
	for (uint64_t w = first / 64; w <= last / 64; w++) {
		unsigned lo = w == first / 64 ? first % 64 : 0;
		unsigned hi = w == last / 64 ? last % 64 : 63;

		/* the page bits, then the summary: a collect that misses the
		 * summary bit finds the page bits next time */
		set_bits(&t->page[w], lo, hi);
		set_bits(&t->sum[w / 64], w % 64, w % 64);
	}
}

void page_runs_add(struct page_runs *r, uint64_t page)
{
	if (r->n && r->start + r->n == page) {
		r->n++;
		return;
	}
	if (r->n)
		r->fn(r->ctx, r->start, r->n);
	r->total += r->n;
	r->start = page;
	r->n = 1;
}

void page_runs_bitmap(struct page_runs *r, uint64_t *bm, uint64_t w0, uint64_t w1,
		      uint64_t base, bool clear)
{
	for (uint64_t w = w0; w < w1; w++) {
		uint64_t bits = bm[w];

		if (clear)
			bm[w] = 0;
		for (; bits; bits &= bits - 1)
			page_runs_add(r, base + w * 64 + (uint64_t)__builtin_ctzll(bits));
	}
}

uint64_t page_runs_end(struct page_runs *r)
{
	if (r->n)
		r->fn(r->ctx, r->start, r->n);
	r->total += r->n;
	r->n = 0;
	return r->total;
}

uint64_t gmem_track_collect(struct gmem *m, void (*fn)(void *ctx, uint64_t first, uint64_t n),
			    void *ctx)
{
	struct gmem_track *t = m->track;
	struct page_runs runs = { .fn = fn, .ctx = ctx };

	if (!t)
		return 0;
	for (uint64_t s = 0; s < (t->words + 63) / 64; s++) {
		uint64_t sum;

		if (!__atomic_load_n(&t->sum[s], __ATOMIC_RELAXED))
			continue;
		sum = __atomic_exchange_n(&t->sum[s], 0, __ATOMIC_ACQUIRE);
		for (; sum; sum &= sum - 1) {
			uint64_t w = s * 64 + (uint64_t)__builtin_ctzll(sum);
			uint64_t bits = __atomic_exchange_n(&t->page[w], 0, __ATOMIC_ACQUIRE);

			page_runs_bitmap(&runs, &bits, 0, 1, w * 64, false);
		}
	}
	return page_runs_end(&runs);
}

void gm_mark_dirty(struct vm *vm, uint64_t gpa, uint64_t len)
{
	struct gmem *m = &vm->mem;
	uint64_t end, high = m->size - m->low_size;

	if (!m->track || !len)
		return;
	if (__builtin_add_overflow(gpa, len, &end))
		end = UINT64_MAX;
	/* below the MMIO gap: [0, low_size) */
	if (gpa < m->low_size)
		gmem_mark(m, m->host + gpa, (size_t)((end < m->low_size ? end : m->low_size) - gpa));
	/* above 4 GiB: [MMIO_GAP_END, MMIO_GAP_END + high) */
	if (high && end > MMIO_GAP_END && gpa < MMIO_GAP_END + high) {
		uint64_t lo = gpa > MMIO_GAP_END ? gpa : MMIO_GAP_END;
		uint64_t hi = end < MMIO_GAP_END + high ? end : MMIO_GAP_END + high;

		gmem_mark(m, m->host + m->low_size + (lo - MMIO_GAP_END), (size_t)(hi - lo));
	}
}

static void e820_add(struct e820_map *out, uint64_t addr, uint64_t size,
		     uint32_t type)
{
	if (size == 0 || out->n >= E820_MAX)
		return;
	out->e[out->n].addr = addr;
	out->e[out->n].size = size;
	out->e[out->n].type = type;
	out->n++;
}

void e820_build(const struct gmem *m, struct e820_map *out)
{
	out->n = 0;
	e820_add(out, 0, LOWMEM_RAM_END, E820_RAM);
	e820_add(out, LOWMEM_RAM_END, HIMEM_START - LOWMEM_RAM_END, E820_RESERVED);
	if (m->low_size > HIMEM_START)
		e820_add(out, HIMEM_START, m->low_size - HIMEM_START, E820_RAM);
	if (m->size > m->low_size)
		e820_add(out, MMIO_GAP_END, m->size - m->low_size, E820_RAM);
}
