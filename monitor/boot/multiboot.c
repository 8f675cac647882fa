/* monitor/boot/multiboot.c - Multiboot v1: a kernel with a Multiboot
 * header in its first 8 KiB, loaded by the header's address fields (the
 * "a.out kludge") or by its ELF32 program headers, entered in 32-bit
 * protected mode with EAX = 0x2BADB002 and EBX = the Multiboot info. */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "monitor/boot/boot.h"

/* Layout of the BOOT_INFO_ADDR page: info, memory map, module, strings. */
#define MBI_ADDR BOOT_INFO_ADDR
#define MBI_MMAP_ADDR (MBI_ADDR + 0x80)
#define MBI_MODS_ADDR (MBI_MMAP_ADDR + E820_MAX * sizeof(struct mb_mmap_entry))
#define MBI_NAME_ADDR (MBI_MODS_ADDR + sizeof(struct mb_module))
#define MBI_MODSTR_ADDR (MBI_NAME_ADDR + 0x10)
#define MBI_END BOOT_PARAMS_ADDR
#define MBI_LOADER_NAME_STR "ember"
/* header flags 0..15 are requirements; we meet these (video: no mode to
 * report, so the kernel sees no VBE/framebuffer info and keeps text) */
#define MB_FLAGS_KNOWN (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

_Static_assert(sizeof(struct mb_info) == 116, "multiboot info layout");
_Static_assert(offsetof(struct mb_info, mmap_length) == 44 &&
	       offsetof(struct mb_info, boot_loader_name) == 64, "mbi offsets");
_Static_assert(sizeof(struct mb_info) <= MBI_MMAP_ADDR - MBI_ADDR, "mbi");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "mmap entry layout");
_Static_assert(MBI_MODSTR_ADDR + 256 <= MBI_END, "multiboot info page");

int boot_mb_find(const uint8_t *image, size_t len, size_t *off)
{
	size_t lim = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN, o;
	int found = -1;

	for (o = 0; o + 12 <= lim; o += 4) {
		uint32_t w[3];

		memcpy(w, image + o, sizeof(w));
		if (w[0] != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(w[0] + w[1] + w[2]) == 0) {
			*off = o;
			return 1;
		}
		if (found < 0) {
			*off = o;
			found = 0;
		}
	}
	return found;
}

/* Loads an image described by the header's address fields. */
static int mb_load_aout(struct vm *vm, const struct boot_input *in,
			const struct mb_header *h, size_t hoff,
			uint64_t *entry, uint64_t *kend, struct errbuf *err)
{
	uint64_t file_off, load_len, mem_end;
	uint8_t *dst;

	if (hoff + sizeof(*h) > in->len)
		return err_set(err, EINVAL,
			       "kernel '%s': truncated Multiboot header", in->path);
	if (h->header_addr < h->load_addr)
		return err_set(err, EINVAL,
			       "kernel '%s': Multiboot header_addr 0x%x is below load_addr 0x%x",
			       in->path, h->header_addr, h->load_addr);
	if (h->header_addr - h->load_addr > hoff)
		return err_set(err, EINVAL,
			       "kernel '%s': Multiboot load_addr 0x%x lies before the start of the file",
			       in->path, h->load_addr);
	file_off = hoff - (h->header_addr - h->load_addr);
	if (h->load_end_addr == 0) {
		load_len = in->len - file_off;
	} else {
		if (h->load_end_addr <= h->load_addr)
			return err_set(err, EINVAL,
				       "kernel '%s': Multiboot load_end_addr 0x%x is not above load_addr 0x%x",
				       in->path, h->load_end_addr, h->load_addr);
		load_len = h->load_end_addr - h->load_addr;
		if (load_len > in->len - file_off)
			return err_set(err, EINVAL,
				       "kernel '%s': Multiboot load range lies outside the file",
				       in->path);
	}
	mem_end = (uint64_t)h->load_addr + load_len;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < mem_end)
			return err_set(err, EINVAL,
				       "kernel '%s': Multiboot bss_end_addr 0x%x is below the end of the loaded image 0x%llx",
				       in->path, h->bss_end_addr,
				       (unsigned long long)mem_end);
		mem_end = h->bss_end_addr;
	}
	dst = gm_ptr(vm, h->load_addr, mem_end - h->load_addr);
	if (!dst)
		return err_set(err, EINVAL,
			       "kernel '%s': Multiboot image lies outside guest RAM",
			       in->path);
	if (h->load_addr < HIMEM_START)
		return err_set(err, EINVAL,
			       "kernel '%s': Multiboot image overlaps the boot area below 1 MiB",
			       in->path);
	if (h->entry_addr < h->load_addr || h->entry_addr >= mem_end)
		return err_set(err, EINVAL,
			       "kernel '%s': entry point 0x%x lies outside the loaded image",
			       in->path, h->entry_addr);
	gmem_copy_in(&vm->mem, dst, in->image + file_off, load_len);
	if (!vm->mem.zeroed)	/* the bss, unless RAM is known to be zero */
		memset(dst + load_len, 0, mem_end - h->load_addr - load_len);
	*entry = h->entry_addr;
	*kend = mem_end;
	return 0;
}

/* Loads an ELF32 image by its program headers. */
static int mb_load_elf(struct vm *vm, const struct boot_input *in,
		       uint64_t *entry, uint64_t *kend, struct errbuf *err)
{
	struct elf_image img;
	int r;

	if (!boot_is_elf(in->image, in->len) || in->len <= 4 ||
	    in->image[EI_CLASS] != ELFCLASS32)
		return err_set(err, ENOEXEC,
			       "kernel '%s': Multiboot image without address fields must be ELF32",
			       in->path);
	r = boot_elf_parse(vm, in, &img, err);
	if (r < 0)
		return r;
	r = boot_elf_load(vm, in, &img, img.entry, err);
	if (r < 0)
		return r;
	*entry = img.entry;
	*kend = img.hi;
	return 0;
}

/* Writes the Multiboot information structure and what it points to. */
static int mb_write_info(struct vm *vm, const struct boot_input *in,
			 uint64_t initrd, struct errbuf *err)
{
	const struct e820_map *map = boot_e820(vm);
	struct mb_info *mbi = gm_ptr(vm, MBI_ADDR, sizeof(*mbi));
	struct mb_mmap_entry *mm = gm_ptr(vm, MBI_MMAP_ADDR, E820_MAX * sizeof(*mm));
	char *name = gm_ptr(vm, MBI_NAME_ADDR, sizeof(MBI_LOADER_NAME_STR));
	uint64_t upper = vm->mem.low_size > HIMEM_START ?
			 vm->mem.low_size - HIMEM_START : 0;
	unsigned i;

	if (!mbi || !mm || !name)
		return err_set(err, EFAULT,
			       "kernel '%s': no guest RAM for the Multiboot info",
			       in->path);
	memset(mbi, 0, sizeof(*mbi));
	mbi->flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	mbi->mem_lower = (uint32_t)(LOWMEM_RAM_END >> 10);
	mbi->mem_upper = (uint32_t)(upper >> 10);
	mbi->cmdline = (uint32_t)BOOT_CMDLINE_ADDR;
	for (i = 0; i < map->n; i++) {
		struct mb_mmap_entry e = {
			.size = sizeof(e) - sizeof(e.size),
			.addr = map->e[i].addr, .len = map->e[i].size,
			.type = map->e[i].type,
		};
		memcpy(&mm[i], &e, sizeof(e));
	}
	mbi->mmap_addr = (uint32_t)MBI_MMAP_ADDR;
	mbi->mmap_length = map->n * (uint32_t)sizeof(*mm);
	memcpy(name, MBI_LOADER_NAME_STR, sizeof(MBI_LOADER_NAME_STR));
	mbi->boot_loader_name = (uint32_t)MBI_NAME_ADDR;
	if (initrd) {
		const char *s = in->initrd_path ? in->initrd_path : "";
		size_t n = strlen(s), room = MBI_END - MBI_MODSTR_ADDR;
		struct mb_module *mod = gm_ptr(vm, MBI_MODS_ADDR, sizeof(*mod));
		char *str = gm_ptr(vm, MBI_MODSTR_ADDR, room);

		if (!mod || !str)
			return err_set(err, EFAULT,
				       "kernel '%s': no guest RAM for the Multiboot info",
				       in->path);
		if (n > room - 1)	/* keep the tail: the file name */
			s += n - (room - 1), n = room - 1;
		memcpy(str, s, n);
		str[n] = '\0';
		mod->mod_start = (uint32_t)initrd;
		mod->mod_end = (uint32_t)(initrd + in->initrd_len);
		mod->string = (uint32_t)MBI_MODSTR_ADDR;
		mod->reserved = 0;
		mbi->flags |= MBI_MODS;
		mbi->mods_count = 1;
		mbi->mods_addr = (uint32_t)MBI_MODS_ADDR;
	}
	return 0;
}

int boot_load_multiboot(struct vm *vm, const struct boot_input *in,
			struct boot_entry *out, struct errbuf *err)
{
	struct mb_header h;
	size_t hoff;
	uint64_t entry, kend, initrd = 0;
	int r;

	r = boot_mb_find(in->image, in->len, &hoff);
	if (r < 0)
		return err_set(err, ENOEXEC,
			       "kernel '%s': no Multiboot header in the first 8 KiB",
			       in->path);
	if (r == 0)
		return err_set(err, EINVAL,
			       "kernel '%s': bad Multiboot header checksum",
			       in->path);
	memset(&h, 0, sizeof(h));
	memcpy(&h, in->image + hoff,
	       in->len - hoff < sizeof(h) ? in->len - hoff : sizeof(h));
	if (h.flags & 0xffff & ~MB_FLAGS_KNOWN)
		return err_set(err, EINVAL,
			       "kernel '%s': Multiboot header requires unsupported features (flags 0x%x)",
			       in->path, h.flags);
	r = boot_write_cmdline(vm, in, BOOT_CMDLINE_MAX - 1, err);
	if (r < 0)
		return r;
	if (h.flags & MB_FLAG_AOUT_KLUDGE)
		r = mb_load_aout(vm, in, &h, hoff, &entry, &kend, err);
	else
		r = mb_load_elf(vm, in, &entry, &kend, err);
	if (r < 0)
		return r;
	/* module addresses are 32-bit; the initrd is page aligned anyway */
	r = boot_place_initrd(vm, in, kend, MMIO_GAP_START, &initrd, err);
	if (r < 0)
		return r;
	r = mb_write_info(vm, in, initrd, err);
	if (r < 0)
		return r;

	boot_entry_init(out, BOOT_PROT32, "multiboot");
	out->rip = entry;
	out->rax = MB_BOOT_MAGIC;
	out->rbx = MBI_ADDR;
	return 0;
}
