/* monitor/boot/pvh.c - the Xen PVH boot protocol: an ELF kernel with a
 * XEN_ELFNOTE_PHYS32_ENTRY note is entered in 32-bit protected mode with
 * EBX pointing at a struct hvm_start_info. */
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

/* Layout of the BOOT_INFO_ADDR page: start info, memory map, module list. */
#define PVH_MEMMAP_ADDR (BOOT_INFO_ADDR + sizeof(struct hvm_start_info))
#define PVH_MODLIST_ADDR \
	(PVH_MEMMAP_ADDR + E820_MAX * sizeof(struct hvm_memmap_table_entry))

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist layout");
_Static_assert(PVH_MODLIST_ADDR + sizeof(struct hvm_modlist_entry) <=
	       BOOT_PARAMS_ADDR, "PVH boot info overflows its page");

int boot_load_pvh(struct vm *vm, const struct boot_input *in,
		  struct boot_entry *out, struct errbuf *err)
{
	const struct e820_map *map;
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct elf_image img;
	uint64_t initrd = 0;
	unsigned i;
	int r;

	r = boot_elf_parse(vm, in, &img, err);
	if (r < 0)
		return r;
	if (!img.has_pvh)
		return err_set(err, ENOEXEC, "kernel '%s': no PVH entry note",
			       in->path);
	r = boot_write_cmdline(vm, in, BOOT_CMDLINE_MAX - 1, err);
	if (r < 0)
		return r;
	r = boot_elf_load(vm, in, &img, img.pvh_entry, err);
	if (r < 0)
		return r;
	/* the initrd goes above the kernel, below 4 GiB for 32-bit kernels */
	r = boot_place_initrd(vm, in, img.hi, MMIO_GAP_START, &initrd, err);
	if (r < 0)
		return r;

	map = boot_e820(vm);
	si = gm_ptr(vm, BOOT_INFO_ADDR, sizeof(*si));
	mm = gm_ptr(vm, PVH_MEMMAP_ADDR, E820_MAX * sizeof(*mm));
	if (!si || !mm)
		return err_set(err, EFAULT,
			       "kernel '%s': no guest RAM for the PVH start info",
			       in->path);
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = BOOT_CMDLINE_ADDR;
	si->rsdp_paddr = 0;
	si->memmap_paddr = PVH_MEMMAP_ADDR;
	si->memmap_entries = map->n;
	for (i = 0; i < map->n; i++)
		mm[i] = (struct hvm_memmap_table_entry){
			.addr = map->e[i].addr, .size = map->e[i].size,
			.type = map->e[i].type,
		};
	if (initrd) {
		struct hvm_modlist_entry *mod =
			gm_ptr(vm, PVH_MODLIST_ADDR, sizeof(*mod));

		if (!mod)
			return err_set(err, EFAULT,
				       "kernel '%s': no guest RAM for the PVH module list",
				       in->path);
		*mod = (struct hvm_modlist_entry){
			.paddr = initrd, .size = in->initrd_len,
		};
		si->nr_modules = 1;
		si->modlist_paddr = PVH_MODLIST_ADDR;
	}

	boot_entry_init(out, BOOT_PROT32, "pvh");
	out->rip = img.pvh_entry;
	out->rbx = BOOT_INFO_ADDR;
	return 0;
}
