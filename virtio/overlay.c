/* virtio/overlay.c - a throw-away copy-on-write layer over a drive image,
 * for the fuzzing reset loop: writes (data, discard, write-zeroes) go to
 * an anonymous sparse mapping the size of the drive, reads see them, the
 * image is only ever read, and a reset drops them all.
 *
 * The unit is a 4 KiB block: a bitmap says which blocks the overlay holds.
 * A write that covers part of a block it does not hold yet first copies
 * the image's block in; a read is split into runs of held and not-held
 * blocks (memcpy from the overlay, pread from the image).  The blocks
 * written since the last reset are a range [lo, hi): a reset releases
 * their memory (MADV_DONTNEED: they read as zero again) and clears their
 * bits.  Everything is synchronous and uses no syscall the fuzz sandbox
 * lacks (pread64, madvise). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtio/virtio.h"

#define BLK OV_BLOCK
#define MADVISE_MIN (8 * BLK)	/* zero larger spans by releasing them */

static bool held(const struct overlay *o, uint64_t b)
{
	return (o->present[b / 64] >> (b % 64)) & 1;
}

/* Marks blocks [first, last] held and written since the last reset. */
static void hold(struct overlay *o, uint64_t first, uint64_t last)
{
	for (uint64_t b = first; b <= last; b++)
		o->present[b / 64] |= 1ull << (b % 64);
	if (first < o->lo)
		o->lo = first;
	if (last + 1 > o->hi)
		o->hi = last + 1;
}

/* Reads len bytes of the image at off into dst; what lies past the
 * image's end reads as zero.  0 or -errno. */
static int base_read(struct overlay *o, uint8_t *dst, size_t len, uint64_t off)
{
	while (len) {
		ssize_t got;

		if (o->direct) {
			/* O_DIRECT: whole aligned blocks through the bounce buffer */
			uint64_t aligned = off & ~(uint64_t)(BLK - 1);
			size_t skip = (size_t)(off - aligned);
			size_t want = BLK - skip < len ? BLK - skip : len, avail;

			got = pread(o->base_fd, o->bounce, BLK, (off_t)aligned);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -errno;
			avail = (size_t)got > skip ? (size_t)got - skip : 0;
			if (avail > want)
				avail = want;
			memcpy(dst, o->bounce + skip, avail);
			if (avail < want) {	/* the end of the image */
				memset(dst + avail, 0, len - avail);
				return 0;
			}
			got = (ssize_t)want;
		} else {
			got = pread(o->base_fd, dst, len, (off_t)off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return -errno;
			if (got == 0) {	/* the end of the image */
				memset(dst, 0, len);
				return 0;
			}
		}
		dst += got;
		len -= (size_t)got;
		off += (uint64_t)got;
	}
	return 0;
}

/* Copies block b of the image into the overlay if it is not held. */
static int copy_in(struct overlay *o, uint64_t b)
{
	uint64_t start = b * BLK;
	size_t n = o->size - start < BLK ? (size_t)(o->size - start) : BLK;
	int r;

	if (held(o, b))
		return 0;
	r = base_read(o, o->data + start, n, start);
	if (!r)
		hold(o, b, b);
	return r;
}

/* Gets the overlay ready to change [off, off + len): copies in the edge
 * blocks the change covers only in part. */
static int prepare(struct overlay *o, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, first = off / BLK, last = (end - 1) / BLK;
	uint64_t last_end = (last + 1) * BLK < o->size ? (last + 1) * BLK : o->size;
	int r = 0;

	if (off % BLK)
		r = copy_in(o, first);
	if (!r && end < last_end)
		r = copy_in(o, last);	/* (held already if it is the first) */
	return r;
}

static int check(const struct overlay *o, uint64_t off, uint64_t len)
{
	return off > o->size || len > o->size - off ? -EINVAL : 0;
}

int ov_init(struct overlay *o, int base_fd, uint64_t size)
{
	int fl;

	memset(o, 0, sizeof(*o));
	o->base_fd = base_fd;
	o->size = size;
	o->nblocks = (size + BLK - 1) / BLK;
	o->lo = UINT64_MAX;
	fl = fcntl(base_fd, F_GETFL);
	o->direct = fl >= 0 && (fl & O_DIRECT);
	o->present = calloc(o->nblocks / 64 + 1, 8);
	if (!o->present)
		return -ENOMEM;
	if (o->nblocks) {
		void *p = mmap(NULL, o->nblocks * BLK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED) {
			int e = -errno;

			ov_free(o);
			return e;
		}
		o->data = p;
	}
	if (o->direct && posix_memalign((void **)&o->bounce, BLK, BLK)) {
		ov_free(o);
		return -ENOMEM;
	}
	return 0;
}

void ov_free(struct overlay *o)
{
	if (o->data)
		munmap(o->data, o->nblocks * BLK);
	free(o->present);
	free(o->bounce);
	memset(o, 0, sizeof(*o));
	o->base_fd = -1;
}

int ov_read(struct overlay *o, const struct iovec *iov, unsigned n, uint64_t off,
	    uint64_t len)
{
	uint64_t pos = off, end = off + len;
	int r = check(o, off, len);

	while (!r && pos < end) {
		uint64_t b = pos / BLK, e = b + 1;
		bool h = held(o, b);
		uint64_t run_end;

		while (e * BLK < end && held(o, e) == h)
			e++;
		run_end = e * BLK < end ? e * BLK : end;
		if (h) {
			if (vq_iov_write(iov, n, pos - off, o->data + pos, run_end - pos) !=
			    run_end - pos)
				r = -EINVAL;	/* the iovecs are shorter than len */
		} else {
			/* straight from the image into each piece of the iovecs */
			struct iovec piece[64];
			uint64_t done = pos;

			while (!r && done < run_end) {
				size_t want = (size_t)(run_end - done);
				int k = vq_iov_slice(iov, n, done - off, want, piece, 64);

				if (k == -ENOBUFS)	/* many small pieces: the first 64 */
					k = 64;
				if (k < 0) {
					r = -EINVAL;
					break;
				}
				for (int i = 0; i < k && !r; i++) {
					size_t l = piece[i].iov_len;

					if (l > run_end - done)
						l = (size_t)(run_end - done);
					r = base_read(o, piece[i].iov_base, l, done);
					done += l;
				}
			}
		}
		pos = run_end;
	}
	return r;
}

int ov_write(struct overlay *o, const struct iovec *iov, unsigned n, uint64_t off,
	     uint64_t len)
{
	int r = check(o, off, len);

	if (r || !len)
		return r;
	r = prepare(o, off, len);
	if (r)
		return r;
	if (vq_iov_read(iov, n, 0, o->data + off, len) != len)
		return -EINVAL;	/* the iovecs are shorter than len */
	hold(o, off / BLK, (off + len - 1) / BLK);
	return 0;
}

int ov_zero(struct overlay *o, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, a, z;
	int r = check(o, off, len);

	if (r || !len)
		return r;
	r = prepare(o, off, len);
	if (r)
		return r;
	/* whole blocks inside: released (they read as zero), the rest zeroed */
	a = (off + BLK - 1) / BLK * BLK;
	z = end / BLK * BLK;
	if (z > a && z - a >= MADVISE_MIN && madvise(o->data + a, z - a, MADV_DONTNEED) == 0) {
		memset(o->data + off, 0, a - off);
		memset(o->data + z, 0, end - z);
	} else {
		memset(o->data + off, 0, len);
	}
	hold(o, off / BLK, (end - 1) / BLK);
	return 0;
}

void ov_reset(struct overlay *o)
{
	uint64_t lo = o->lo, hi = o->hi;

	if (hi <= lo)
		return;
	if (madvise(o->data + lo * BLK, (hi - lo) * BLK, MADV_DONTNEED) < 0)
		memset(o->data + lo * BLK, 0, (hi - lo) * BLK);	/* not expected */
	for (uint64_t b = lo; b < hi;) {
		if (b % 64 == 0 && hi - b >= 64) {
			o->present[b / 64] = 0;
			b += 64;
		} else {
			o->present[b / 64] &= ~(1ull << (b % 64));
			b++;
		}
	}
	o->lo = UINT64_MAX;
	o->hi = 0;
}
