/* hello.mb - Multiboot v1 ELF32: checks EAX = 0x2BADB002 and a memory map
 * with RAM at 1 MiB, prints "Multiboot: hello" and the command line, exits
 * 0 through the control port. */
#include "rt.h"

static bool mmap_has_ram(const struct multiboot_info *mbi, uint64_t a,
			 uint64_t len)
{
	uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;

	while (p + sizeof(struct multiboot_mmap_entry) <= end) {
		const struct multiboot_mmap_entry *e =
			(const struct multiboot_mmap_entry *)(uintptr_t)p;

		if (e->type == E820_RAM && e->addr <= a &&
		    a + len <= e->addr + e->len)
			return true;
		p += e->size + 4;
	}
	return false;
}

int mb_main(uint32_t magic, const struct multiboot_info *mbi);
int mb_main(uint32_t magic, const struct multiboot_info *mbi)
{
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		rt_puts("Multiboot: bad magic ");
		rt_put_hex(magic);
		rt_putc('\n');
		return 1;
	}
	if (!(mbi->flags & MBI_FLAG_MMAP) ||
	    !mmap_has_ram(mbi, 0x100000, 0x100000)) {
		rt_println("Multiboot: no memory map with RAM at 1 MiB");
		return 1;
	}
	rt_println("Multiboot: hello");
	rt_puts("Multiboot: cmdline: ");
	rt_println(mbi->flags & MBI_FLAG_CMDLINE && mbi->cmdline ?
		   (const char *)(uintptr_t)mbi->cmdline : "");
	return 0;
}
