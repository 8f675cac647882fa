/* monitor/gmem.c - guest RAM (one memfd, mapped once), the checked
 * guest-physical translator, and the e820 memory map. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/monitor.h"

int gmem_init(struct gmem *m, uint64_t size)
{
	int fd;
	void *p;

	m->host = NULL;
	m->fd = -1;
	m->size = m->low_size = 0;
	if (size < MiB(2) || (size & 0xfff))
		return -EINVAL;
	fd = memfd_create("ember-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	/* no MAP_POPULATE: pages fault in when the guest first touches them */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	m->host = p;
	m->fd = fd;
	m->size = size;
	m->low_size = size < MMIO_GAP_START ? size : MMIO_GAP_START;
	m->zeroed = true;
	return 0;
fail:
	{
		int e = -errno;

		close(fd);
		return e;
	}
}

int gmem_init_file(struct gmem *m, uint64_t size, const char *path)
{
	struct stat st;
	void *p;
	int fd, e;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (size < MiB(2) || (size & 0xfff))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		close(fd);
		return -EINVAL;
	}
	/* private: guest writes copy the page, the file stays as it was */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		e = -errno;
		close(fd);
		return e;
	}
	m->host = p;
	m->fd = fd;
	m->size = size;
	m->low_size = size < MMIO_GAP_START ? size : MMIO_GAP_START;
	m->cow = true;
	return 0;
}

void gmem_destroy(struct gmem *m)
{
	if (m->host)
		munmap(m->host, m->size);
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
	uint64_t off = (uint64_t)((uint8_t *)dst - m->host);

	if (m->fd >= 0 && !m->cow && len >= 65536) {
		while (len) {
			ssize_t n = pwrite(m->fd, src, len, (off_t)off);

			if (n <= 0)
				break;	/* the rest by memcpy */
			src = (const uint8_t *)src + n;
			dst = (uint8_t *)dst + n;
			off += (uint64_t)n;
			len -= (size_t)n;
		}
	}
	if (len)
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
