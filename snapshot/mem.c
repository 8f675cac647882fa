/* snapshot/mem.c - guest RAM images: the sparse full memory file, diff
 * files of dirtied pages, applying a diff, and dirty-page tracking with
 * KVM's dirty log (manual protect when KVM has it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

#define PAGE PAGE_SIZE_4K
#define BM_SET(bm, i) ((bm)[(i) / 64] |= 1ull << ((i) % 64))
#define BM_TEST(bm, i) (((bm)[(i) / 64] >> ((i) % 64)) & 1)

static bool page_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE / 8; i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static int pwrite_all(int fd, const uint8_t *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* Marks the pages of [start, end) of fd that hold data (SEEK_DATA). */
static void mark_data(int fd, uint64_t size, uint64_t *bm)
{
	off_t pos = 0;

	while ((uint64_t)pos < size) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			return;	/* ENXIO: no more data */
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > size)
			h = (off_t)size;
		for (uint64_t pg = (uint64_t)d / PAGE; pg * PAGE < (uint64_t)h; pg++)
			BM_SET(bm, pg);
		pos = h;
	}
}

/* Marks pages of the mapping that this process has copied on write
 * (pagemap: present and not a file page).  pm: /proc/self/pagemap, or
 * -1 to open it here. */
static int mark_cow(const struct gmem *m, int pm, uint64_t *bm)
{
	uint64_t npages = m->size / PAGE, buf[4096];
	int fd = pm >= 0 ? pm : open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (uint64_t pg = 0; pg < npages;) {
		uint64_t n = npages - pg < 4096 ? npages - pg : 4096;
		uint64_t off = ((uintptr_t)m->host / PAGE + pg) * 8;
		ssize_t got = pread(fd, buf, n * 8, (off_t)off);

		if (got <= 0) {
			int e = got < 0 ? -errno : -EIO;

			if (fd != pm)
				close(fd);
			return e;
		}
		n = (uint64_t)got / 8;
		for (uint64_t i = 0; i < n; i++)
			if ((buf[i] >> 63) & 1 && !((buf[i] >> 61) & 1))
				BM_SET(bm, pg + i);
		pg += n;
	}
	if (fd != pm)
		close(fd);
	return 0;
}

int mem_mark_written(struct vm *vm, int pagemap_fd, uint64_t *bitmap)
{
	/* a snapshot's private mapping, or fresh anonymous RAM: the pages
	 * present and not the file's */
	if (vm->mem.cow)
		return mark_cow(&vm->mem, pagemap_fd, bitmap);
	/* fresh RAM: only through a pagemap opened before the sandbox (the
	 * filter kills an open now); without one (a jail has no /proc), or
	 * when it cannot be read, every page, and the writer still leaves
	 * out the ones that read zero */
	if (pagemap_fd < 0 || mark_cow(&vm->mem, pagemap_fd, bitmap))
		memset(bitmap, 0xff, (vm->mem.size / PAGE + 63) / 64 * 8);
	return 0;
}

static int open_tmp(int dirfd, const char *path, char *tmp, size_t cap, uint64_t size,
		    struct errbuf *err)
{
	int fd;

	if (snprintf(tmp, cap, "%s.tmp", path) >= (int)cap)
		return err_set(err, ENAMETOOLONG, "snapshot memory '%s': name too long", path);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(err, errno, "snapshot memory '%s': %s", tmp, strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = errno;

		close(fd);
		unlinkat(dirfd, tmp, 0);
		return err_set(err, e, "snapshot memory '%s': %s", tmp, strerror(e));
	}
	return fd;
}

static int finish_tmp(int dirfd, int fd, const char *tmp, const char *path, int r,
		      struct errbuf *err)
{
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r) {
		unlinkat(dirfd, tmp, 0);
		return err_set(err, -r, "snapshot memory '%s': %s", path, strerror(-r));
	}
	return 0;
}

/* Writes the non-zero pages among those marked, coalescing runs. */
/* zeros: a marked page of zeros is written too (else it stays a hole) */
static int write_pages(const struct gmem *m, const uint64_t *bm, int fd, uint64_t *count,
		       bool zeros)
{
	uint64_t npages = m->size / PAGE, run = 0, start = 0;
	int r = 0;

	for (uint64_t pg = 0; pg <= npages && !r; pg++) {
		bool want = pg < npages && BM_TEST(bm, pg) &&
			    (zeros || !page_zero(m->host + pg * PAGE));

		if (want) {
			if (!run)
				start = pg;
			run++;
			continue;
		}
		if (run)
			r = pwrite_all(fd, m->host + start * PAGE, run * PAGE, start * PAGE);
		*count += run;
		run = 0;
		if (pg < npages && !bm[pg / 64] && pg % 64 == 0)
			pg += 63;	/* skip an empty word */
	}
	return r;
}

int mem_write_full(struct vm *vm, int dirfd, const char *path, int pagemap_fd,
		   uint64_t *pages_out, struct errbuf *err)
{
	const struct gmem *m = &vm->mem;
	uint64_t words = (m->size / PAGE + 63) / 64, n = 0;
	uint64_t *bm = calloc(words, 8);
	char tmp[4200];
	int fd, r;

	if (!bm)
		return err_set(err, ENOMEM, "snapshot memory: out of memory");
	if (m->cow) {
		/* pages of the file we came from, plus the ones copied since */
		mark_data(m->fd, m->size, bm);
		r = mark_cow(m, pagemap_fd, bm);
		if (r) {
			free(bm);
			return err_set(err, -r, "snapshot memory: pagemap: %s", strerror(-r));
		}
	} else {
		r = mem_mark_written(vm, pagemap_fd, bm);
		if (r) {
			free(bm);
			return err_set(err, -r, "snapshot memory: pagemap: %s", strerror(-r));
		}
	}
	fd = open_tmp(dirfd, path, tmp, sizeof(tmp), m->size, err);
	if (fd < 0) {
		free(bm);
		return fd;
	}
	r = write_pages(m, bm, fd, &n, false);
	free(bm);
	*pages_out = n;
	return finish_tmp(dirfd, fd, tmp, path, r, err);
}

int mem_write_diff(struct vm *vm, const uint64_t *bitmap, int dirfd, const char *path,
		   struct snap_mem *sm, struct errbuf *err)
{
	const struct gmem *m = &vm->mem;
	uint64_t npages = m->size / PAGE, nruns = 0, n = 0;
	char tmp[4200];
	int fd, r;

	for (uint64_t pg = 0; pg < npages; pg++)
		if (BM_TEST(bitmap, pg) && (pg == 0 || !BM_TEST(bitmap, pg - 1)))
			nruns++;
	sm->runs = calloc(nruns ? nruns : 1, sizeof(*sm->runs));
	if (!sm->runs)
		return err_set(err, ENOMEM, "snapshot memory: out of memory");
	sm->nruns = 0;
	for (uint64_t pg = 0; pg < npages; pg++) {
		if (!BM_TEST(bitmap, pg))
			continue;
		if (pg == 0 || !BM_TEST(bitmap, pg - 1))
			sm->runs[sm->nruns++].first = pg;
		sm->runs[sm->nruns - 1].n++;
	}
	fd = open_tmp(dirfd, path, tmp, sizeof(tmp), m->size, err);
	if (fd < 0)
		return fd;
	/* zero pages stay holes: the runs say they are part of the diff */
	r = write_pages(m, bitmap, fd, &n, false);
	return finish_tmp(dirfd, fd, tmp, path, r, err);
}

int mem_write_sparse(struct vm *vm, const uint64_t *bitmap, int dirfd, const char *path,
		     uint64_t *pages_out, struct errbuf *err)
{
	const struct gmem *m = &vm->mem;
	char tmp[4200];
	int fd, r;

	*pages_out = 0;
	fd = open_tmp(dirfd, path, tmp, sizeof(tmp), m->size, err);
	if (fd < 0)
		return fd;
	/* every marked page is data, zeros included: merged over the base
	 * (Firecracker's rebase), a hole would leave the base's old bytes */
	r = write_pages(m, bitmap, fd, pages_out, true);
	return finish_tmp(dirfd, fd, tmp, path, r, err);
}

int mem_apply_diff(uint8_t *base, uint64_t size, const char *path,
		   const struct snap_mem *m, struct errbuf *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(err, errno, "snapshot memory '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size) {
		close(fd);
		return err_set(err, EINVAL, "snapshot memory '%s': size %lld, expected %llu", path,
			       (long long)st.st_size, (unsigned long long)size);
	}
	for (uint64_t i = 0; i < m->nruns; i++) {
		uint64_t off = m->runs[i].first * PAGE, len = m->runs[i].n * PAGE, done = 0;

		while (done < len) {
			ssize_t n = pread(fd, base + off + done, len - done, (off_t)(off + done));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fd);
				return err_set(err, n < 0 ? errno : EIO, "snapshot memory '%s': read failed",
					       path);
			}
			done += (uint64_t)n;
		}
	}
	close(fd);
	return 0;
}

/* ---- dirty log -------------------------------------------------------- */
int dirty_start(struct vm *vm, struct dirty_log *d)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 };
	int r;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->nslots = vm->mem.size > vm->mem.low_size ? 2 : 1;
	if (vm->dring) {	/* KVM's dirty ring (monitor/dring.c): no bitmaps */
		for (unsigned s = 0; s < d->nslots; s++) {
			r = vm_set_memslot(vm, s, KVM_MEM_LOG_DIRTY_PAGES);
			if (r)
				return r;
		}
		d->on = true;
		return 0;
	}
	cap.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
	d->manual = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0 &&
		    ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	log_info("dirty tracking: KVM dirty bitmap%s", d->manual ? ", manual protect" : "");
	for (unsigned s = 0; s < d->nslots; s++) {
		uint64_t bytes = s == 0 ? vm->mem.low_size : vm->mem.size - vm->mem.low_size;

		d->words[s] = (bytes / PAGE + 63) / 64;
		d->first_page[s] = s == 0 ? 0 : vm->mem.low_size / PAGE;
		d->bm[s] = calloc(d->words[s], 8);
		if (!d->bm[s]) {
			dirty_stop(d);
			return -ENOMEM;
		}
		r = vm_set_memslot(vm, s, KVM_MEM_LOG_DIRTY_PAGES);
		if (r) {
			dirty_stop(d);
			return r;
		}
	}
	d->on = true;
	return 0;
}

int dirty_collect(struct dirty_log *d,
		  void (*fn)(void *ctx, uint64_t first, uint64_t n), void *ctx)
{
	if (d->vm->dring)
		return dring_consume(d->vm, fn, ctx);
	for (unsigned s = 0; s < d->nslots; s++) {
		struct kvm_dirty_log log = { .slot = s, .dirty_bitmap = d->bm[s] };
		struct page_runs runs = { .fn = fn, .ctx = ctx };
		uint64_t *bm = d->bm[s], lo = UINT64_MAX, hi = 0;
		uint64_t slot_pages = (s == 0 ? d->vm->mem.low_size :
				       d->vm->mem.size - d->vm->mem.low_size) / PAGE;

		if (ioctl(d->vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
			return -errno;
		page_runs_bitmap(&runs, bm, 0, d->words[s], d->first_page[s], false);
		page_runs_end(&runs);
		for (uint64_t w = 0; w < d->words[s]; w++) {	/* the span to re-arm */
			if (bm[w] && w < lo)
				lo = w;
			if (bm[w])
				hi = w;
		}
		if (d->manual && lo != UINT64_MAX) {
			struct kvm_clear_dirty_log c = { .slot = s };
			uint64_t end = (hi + 1) * 64;

			c.first_page = lo * 64;
			c.num_pages = (uint32_t)((end > slot_pages ? slot_pages : end) - c.first_page);
			c.dirty_bitmap = bm + lo;
			if (ioctl(d->vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &c) < 0)
				return -errno;
		}
	}
	return 0;
}

void dirty_stop(struct dirty_log *d)
{
	/* the VM goes away next: its memslots keep logging until then (and
	 * the sandboxed teardown need not touch them) */
	for (unsigned s = 0; s < 2; s++) {
		free(d->bm[s]);
		d->bm[s] = NULL;
	}
	d->on = false;
}
