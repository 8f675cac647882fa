/* monitor/boot/elf64.c - a Linux vmlinux (ELF64 x86-64) started through the
 * 64-bit boot protocol: segments at p_paddr, a zero page built from
 * scratch, entry at e_entry in long mode with RSI = the zero page. */
#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

/* What an x86-64 bzImage says in its own setup header; a vmlinux has no
 * setup header, so the loader assumes the same values. */
#define VMLINUX_INITRD_ADDR_MAX 0x7fffffffULL
#define VMLINUX_KERNEL_ALIGN 0x1000000u
#define VMLINUX_PROTOCOL 0x020c	/* nonzero: the kernel sees a filled zero page */

_Static_assert(sizeof(struct boot_params) == 4096, "zero page layout");

void boot_fill_zero_page(struct vm *vm, struct boot_params *bp,
			 uint64_t initrd, size_t initrd_len)
{
	const struct e820_map *map = boot_e820(vm);
	unsigned i;

	bp->hdr.type_of_loader = 0xff;
	bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_ADDR >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd;
	bp->hdr.ramdisk_size = (uint32_t)initrd_len;
	bp->ext_ramdisk_image = (uint32_t)(initrd >> 32);
	bp->ext_ramdisk_size = (uint32_t)((uint64_t)initrd_len >> 32);
	bp->e820_entries = 0;
	for (i = 0; i < map->n && i < E820_MAX_ENTRIES_ZEROPAGE; i++) {
		bp->e820_table[i].addr = map->e[i].addr;
		bp->e820_table[i].size = map->e[i].size;
		bp->e820_table[i].type = map->e[i].type;
		bp->e820_entries++;
	}
}

int boot_load_elf64(struct vm *vm, const struct boot_input *in,
		    struct boot_entry *out, struct errbuf *err)
{
	struct boot_params *bp;
	struct elf_image img;
	uint64_t initrd = 0;
	int r;

	r = boot_elf_parse(vm, in, &img, err);
	if (r < 0)
		return r;
	if (img.elfclass != 64)
		return err_set(err, ENOEXEC, "kernel '%s': not an ELF64 x86-64 image",
			       in->path);
	r = boot_write_cmdline(vm, in, BOOT_CMDLINE_MAX - 1, err);
	if (r < 0)
		return r;
	r = boot_elf_load(vm, in, &img, img.entry, err);
	if (r < 0)
		return r;
	r = boot_place_initrd(vm, in, img.hi, VMLINUX_INITRD_ADDR_MAX + 1,
			      &initrd, err);
	if (r < 0)
		return r;

	bp = gm_ptr(vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	if (!bp)
		return err_set(err, EFAULT, "kernel '%s': no guest RAM for the zero page",
			       in->path);
	memset(bp, 0, sizeof(*bp));
	bp->hdr.boot_flag = 0xAA55;
	bp->hdr.header = 0x53726448;	/* "HdrS" */
	bp->hdr.version = VMLINUX_PROTOCOL;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.kernel_alignment = VMLINUX_KERNEL_ALIGN;
	bp->hdr.cmdline_size = BOOT_CMDLINE_MAX - 1;
	bp->hdr.initrd_addr_max = (uint32_t)VMLINUX_INITRD_ADDR_MAX;
	boot_fill_zero_page(vm, bp, initrd, initrd ? in->initrd_len : 0);

	boot_entry_init(out, BOOT_LONG64, "elf64");
	out->rip = img.entry;
	out->rsi = BOOT_PARAMS_ADDR;
	return 0;
}
