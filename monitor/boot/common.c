/* monitor/boot/common.c - what every loader shares: the command line, the
 * initrd placement and the memory map. */
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

#define PAGE_SIZE 4096ULL

int boot_write_cmdline(struct vm *vm, const struct boot_input *in,
		       size_t max_len, struct errbuf *err)
{
	const char *s = in->cmdline ? in->cmdline : "";
	size_t n = strnlen(s, BOOT_CMDLINE_MAX);
	char *dst;

	if (n > BOOT_CMDLINE_MAX - 1) {
		n = strlen(s);
		return err_set(err, E2BIG,
			       "kernel '%s': command line is %zu bytes, at most %d are supported",
			       in->path, n, BOOT_CMDLINE_MAX - 1);
	}
	if (n > max_len)
		return err_set(err, E2BIG,
			       "kernel '%s': command line is %zu bytes, the kernel accepts at most %zu",
			       in->path, n, max_len);
	dst = gm_ptr(vm, BOOT_CMDLINE_ADDR, n + 1);
	if (!dst)
		return err_set(err, EFAULT,
			       "kernel '%s': no guest RAM for the command line",
			       in->path);
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int boot_place_initrd(struct vm *vm, const struct boot_input *in,
		      uint64_t floor, uint64_t limit, uint64_t *addr,
		      struct errbuf *err)
{
	const char *name = in->initrd_path ? in->initrd_path : "?";
	uint64_t top, start;
	void *dst;

	*addr = 0;
	if (!in->initrd)
		return 0;
	if (in->initrd_len == 0)
		return err_set(err, EINVAL, "initrd '%s' is empty", name);
	top = limit < vm->mem.low_size ? limit : vm->mem.low_size;
	/* round the floor up to a page; an overflow means nothing fits */
	if (__builtin_add_overflow(floor, PAGE_SIZE - 1, &floor))
		floor = UINT64_MAX;
	floor &= ~(PAGE_SIZE - 1);
	if (floor < HIMEM_START)
		floor = HIMEM_START;
	if (top < floor || top - floor < in->initrd_len)
		return err_set(err, ENOSPC,
			       "initrd '%s' (%zu bytes) does not fit in guest RAM between 0x%llx and 0x%llx",
			       name, in->initrd_len, (unsigned long long)floor,
			       (unsigned long long)(top > floor ? top : floor));
	start = (top - in->initrd_len) & ~(PAGE_SIZE - 1);
	dst = gm_ptr(vm, start, in->initrd_len);
	if (!dst)
		return err_set(err, EFAULT, "initrd '%s': no guest RAM at 0x%llx",
			       name, (unsigned long long)start);
	gmem_copy_in(&vm->mem, dst, in->initrd, in->initrd_len);
	*addr = start;
	return 0;
}

const struct e820_map *boot_e820(struct vm *vm)
{
	if (vm->e820.n == 0)
		e820_build(&vm->mem, &vm->e820);
	return &vm->e820;
}

void boot_entry_init(struct boot_entry *e, enum boot_mode mode,
		     const char *kind)
{
	memset(e, 0, sizeof(*e));
	e->mode = mode;
	e->kind = kind;
	if (mode != BOOT_REAL16)
		e->rsp = BOOT_STACK_TOP;
}
