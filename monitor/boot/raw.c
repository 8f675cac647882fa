/* monitor/boot/raw.c - a raw binary copied below 1 MiB and started in real
 * mode, the way a BIOS starts a boot sector (default 0x7c00). */
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

int boot_load_raw(struct vm *vm, const struct boot_input *in, uint64_t addr,
		  struct boot_entry *out, struct errbuf *err)
{
	uint8_t *dst;

	if (in->len == 0)
		return err_set(err, EINVAL, "raw image '%s' is empty", in->path);
	if (addr >= HIMEM_START || in->len > HIMEM_START - addr)
		return err_set(err, EINVAL,
			       "raw image '%s' (%zu bytes at 0x%llx) does not fit below 1 MiB",
			       in->path, in->len, (unsigned long long)addr);
	dst = gm_ptr(vm, addr, in->len);
	if (!dst)
		return err_set(err, EINVAL,
			       "raw image '%s' (%zu bytes at 0x%llx) lies outside guest RAM",
			       in->path, in->len, (unsigned long long)addr);
	gmem_copy_in(&vm->mem, dst, in->image, in->len);
	boot_entry_init(out, BOOT_REAL16, "raw");
	out->cs = (uint16_t)(addr >> 4);
	out->rip = addr & 15;
	return 0;
}
