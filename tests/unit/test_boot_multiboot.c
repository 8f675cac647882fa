/* tests/unit/test_boot_multiboot.c - the Multiboot v1 loader: an ELF32
 * kernel, an "a.out kludge" kernel, and corrupt headers. */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/boot/boot.h"

static struct vm vm;
static struct errbuf err;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&err, 0, sizeof(err));
	cr_assert_eq(gmem_init(&vm.mem, MiB(64)), 0);
}

static void teardown(void)
{
	gmem_destroy(&vm.mem);
}

TestSuite(boot_multiboot, .init = setup, .fini = teardown);

#define IMG_LEN 0x3000
#define MBH_OFF 0x200		/* where the Multiboot header goes */
static uint8_t img[0x4000] __attribute__((aligned(8)));

static void put_header(size_t off, uint32_t flags, const struct mb_header *addr)
{
	struct mb_header h = { 0 };

	if (addr)
		h = *addr;
	h.magic = MB_HEADER_MAGIC;
	h.flags = flags;
	h.checksum = -(h.magic + h.flags);
	memcpy(img + off, &h, sizeof(h));
}

/* An ELF32 kernel: text at 1 MiB (0x1000 bytes of 0xab, then 0x1000 of
 * bss), data at 0x180000 (0x800 bytes of 0xcd); entry 0x100010. */
static void build_elf32(uint32_t mb_flags)
{
	Elf32_Ehdr eh = {
		.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
		.e_entry = 0x100010, .e_phoff = sizeof(Elf32_Ehdr),
		.e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
		.e_phnum = 2,
	};
	Elf32_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0x100000,
		  .p_paddr = 0x100000, .p_filesz = 0x1000, .p_memsz = 0x2000 },
		{ .p_type = PT_LOAD, .p_offset = 0x2000, .p_vaddr = 0x180000,
		  .p_paddr = 0x180000, .p_filesz = 0x800, .p_memsz = 0x800 },
	};

	memset(img, 0, sizeof(img));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	memset(img + 0x1000, 0xab, 0x1000);
	memset(img + 0x2000, 0xcd, 0x800);
	put_header(MBH_OFF, mb_flags, NULL);
}

/* A flat binary whose header (at MBH_OFF) says where it goes: file
 * offset 0 at 0x200000, IMG_LEN bytes, bss up to 0x204000. */
static struct mb_header aout = {
	.header_addr = 0x200000 + MBH_OFF, .load_addr = 0x200000,
	.load_end_addr = 0, .bss_end_addr = 0x204000, .entry_addr = 0x200400,
};

static void build_aout(const struct mb_header *h)
{
	memset(img, 0, sizeof(img));
	for (size_t i = 0; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 13 + 5);
	put_header(MBH_OFF, MB_FLAG_AOUT_KLUDGE | MB_FLAG_MEMINFO, h);
}

static struct boot_input input(void)
{
	return (struct boot_input){
		.path = "mb.bin", .image = img, .len = IMG_LEN,
		.cmdline = "hello multiboot", .ncpus = 1,
	};
}

static bool all(uint64_t gpa, size_t len, uint8_t v)
{
	const uint8_t *p = gm_ptr(&vm, gpa, len);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void load_bad(const char *msg)
{
	struct boot_input in = input();
	struct boot_entry e;

	cr_assert_lt(boot_load(&vm, &in, &e, &err), 0);
	cr_assert_str_eq(err.msg, msg);
}

/* The info structure every good load must have written. */
static const struct mb_info *check_info(const struct boot_entry *e)
{
	const struct mb_info *mbi;
	const struct mb_mmap_entry *mm;
	uint64_t a;

	cr_assert_str_eq(e->kind, "multiboot");
	cr_assert_eq(e->mode, BOOT_PROT32);
	cr_assert_eq(e->rax, 0x2BADB002);
	cr_assert_eq(e->rbx, BOOT_INFO_ADDR);
	mbi = gm_ptr(&vm, e->rbx, sizeof(*mbi));
	cr_assert(mbi->flags & MBI_MEM);
	cr_assert_eq(mbi->mem_lower, 639);
	cr_assert_eq(mbi->mem_upper, 63 * 1024);
	cr_assert(mbi->flags & MBI_CMDLINE);
	cr_assert_str_eq((char *)gm_ptr(&vm, mbi->cmdline, 16), "hello multiboot");
	cr_assert(mbi->flags & MBI_MMAP);
	cr_assert_eq(mbi->mmap_length, 3 * 24);
	mm = gm_ptr(&vm, mbi->mmap_addr, mbi->mmap_length);
	cr_assert_not_null(mm);
	/* walk it the way a kernel does: by each entry's size field */
	for (a = 0; a < mbi->mmap_length;) {
		struct mb_mmap_entry x;

		memcpy(&x, (const uint8_t *)mm + a, sizeof(x));
		cr_assert_eq(x.size, 20);
		if (a == 0)
			cr_assert(x.addr == 0 && x.len == LOWMEM_RAM_END && x.type == 1);
		if (a == 48)
			cr_assert(x.addr == MiB(1) && x.len == MiB(63) && x.type == 1);
		a += x.size + 4;
	}
	cr_assert(mbi->flags & MBI_LOADER_NAME);
	cr_assert_str_eq((char *)gm_ptr(&vm, mbi->boot_loader_name, 6), "ember");
	return mbi;
}

Test(boot_multiboot, elf32_good_with_module)
{
	static uint8_t initrd[3000];
	struct boot_input in;
	struct boot_entry e;
	const struct mb_info *mbi;
	const struct mb_module *mod;

	build_elf32(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO);
	memset(initrd, 0x99, sizeof(initrd));
	memset(gm_ptr(&vm, 0x101000, 0x1000), 0xee, 0x1000);	/* the bss */
	vm.mem.zeroed = false;
	in = input();
	in.initrd = initrd;
	in.initrd_len = sizeof(initrd);
	in.initrd_path = "mod.bin";
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	mbi = check_info(&e);
	cr_assert_eq(e.rip, 0x100010);
	cr_assert(all(0x100000, 0x1000, 0xab));
	cr_assert(all(0x101000, 0x1000, 0));
	cr_assert(all(0x180000, 0x800, 0xcd));
	cr_assert(mbi->flags & MBI_MODS);
	cr_assert_eq(mbi->mods_count, 1);
	mod = gm_ptr(&vm, mbi->mods_addr, sizeof(*mod));
	cr_assert_eq(mod->mod_start, MiB(64) - 0x1000);
	cr_assert_eq(mod->mod_start % 4096, 0);
	cr_assert_eq(mod->mod_end, mod->mod_start + sizeof(initrd));
	cr_assert(all(mod->mod_start, sizeof(initrd), 0x99));
	cr_assert_str_eq((char *)gm_ptr(&vm, mod->string, 8), "mod.bin");
}

Test(boot_multiboot, aout_good)
{
	struct boot_input in;
	struct boot_entry e;
	const struct mb_info *mbi;

	build_aout(&aout);
	memset(gm_ptr(&vm, 0x200000 + IMG_LEN, 0x1000), 0xee, 0x1000);
	vm.mem.zeroed = false;
	in = input();
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	mbi = check_info(&e);
	cr_assert_eq(e.rip, 0x200400);
	cr_assert_eq(memcmp(gm_ptr(&vm, 0x200000, IMG_LEN), img, IMG_LEN), 0);
	cr_assert(all(0x200000 + IMG_LEN, 0x4000 - IMG_LEN, 0));
	cr_assert_eq(mbi->flags & MBI_MODS, 0);
}

Test(boot_multiboot, aout_with_offset_and_load_end)
{
	struct mb_header h = aout;
	struct boot_input in;
	struct boot_entry e;

	/* the image starts 0x100 bytes into the file and is 0x1000 long */
	h.load_addr = 0x300000;
	h.header_addr = 0x300100;
	h.load_end_addr = 0x301000;
	h.bss_end_addr = 0;
	h.entry_addr = 0x300ffc;
	build_aout(&h);
	in = input();
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(gm_ptr(&vm, 0x300000, 0x1000), img + 0x100, 0x1000), 0);
	cr_assert(all(0x301000, 0x10, 0));
	cr_assert_eq(e.rip, 0x300ffc);
}

Test(boot_multiboot, aout_corrupt)
{
	struct mb_header h;

	h = aout, h.header_addr = 0x1fff00;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot header_addr 0x1fff00 is below load_addr 0x200000");
	h = aout, h.header_addr = 0x200000 + MBH_OFF + 4;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot load_addr 0x200000 lies before the start of the file");
	h = aout, h.load_end_addr = 0x200000 + IMG_LEN + 1;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot load range lies outside the file");
	h = aout, h.load_end_addr = 0x200000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot load_end_addr 0x200000 is not above load_addr 0x200000");
	h = aout, h.bss_end_addr = 0x201000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot bss_end_addr 0x201000 is below the end of the loaded image 0x203000");
	h = aout, h.load_addr = 0x3fff000, h.header_addr = 0x3fff000 + MBH_OFF;
	h.bss_end_addr = 0, h.entry_addr = 0x3fff000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot image lies outside guest RAM");
	h = aout, h.load_addr = 0xfffff000, h.header_addr = 0xfffff000 + MBH_OFF;
	h.bss_end_addr = 0, h.entry_addr = 0xfffff000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot image lies outside guest RAM");
	h = aout, h.load_addr = 0x10000, h.header_addr = 0x10000 + MBH_OFF;
	h.bss_end_addr = 0, h.entry_addr = 0x10000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': Multiboot image overlaps the boot area below 1 MiB");
	h = aout, h.entry_addr = 0x204000;
	build_aout(&h);
	load_bad("kernel 'mb.bin': entry point 0x204000 lies outside the loaded image");
	h = aout, h.entry_addr = 0x1ffffc;
	build_aout(&h);
	load_bad("kernel 'mb.bin': entry point 0x1ffffc lies outside the loaded image");
}

Test(boot_multiboot, bad_checksum)
{
	build_aout(&aout);
	img[MBH_OFF + 8] ^= 1;
	load_bad("kernel 'mb.bin': bad Multiboot header checksum");
	build_elf32(0);
	img[MBH_OFF + 8] ^= 1;
	load_bad("kernel 'mb.bin': bad Multiboot header checksum");
}

Test(boot_multiboot, unsupported_flags)
{
	build_elf32(1u << 3);
	load_bad("kernel 'mb.bin': Multiboot header requires unsupported features (flags 0x8)");
}

Test(boot_multiboot, header_placement)
{
	struct boot_input in;
	struct boot_entry e;

	/* not 4-byte aligned: not a header */
	build_aout(&aout);
	memmove(img + MBH_OFF + 2, img + MBH_OFF, sizeof(struct mb_header));
	memset(img + MBH_OFF, 0, 2);
	load_bad("kernel 'mb.bin': not an ELF, bzImage or Multiboot image");
	in = input();
	cr_assert_eq(boot_load_multiboot(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'mb.bin': no Multiboot header in the first 8 KiB");
	/* beyond the first 8 KiB: not found either */
	memset(img, 0, sizeof(img));
	put_header(MB_SEARCH_LEN, MB_FLAG_AOUT_KLUDGE, &aout);
	in.len = sizeof(img);
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'mb.bin': not an ELF, bzImage or Multiboot image");
	/* the last aligned slot of the first 8 KiB still counts */
	put_header(MB_SEARCH_LEN - 12, 0, NULL);
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg,
			 "kernel 'mb.bin': Multiboot image without address fields must be ELF32");
	/* a header cut by the end of the file */
	build_aout(&aout);
	in.len = MBH_OFF + 16;
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "kernel 'mb.bin': truncated Multiboot header");
}

Test(boot_multiboot, elf32_corrupt)
{
	Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(Elf32_Ehdr));

	build_elf32(0);
	ph[1].p_paddr = 0x101800;
	load_bad("kernel 'mb.bin': segments 0 and 1 overlap");
	build_elf32(0);
	((Elf32_Ehdr *)img)->e_entry = 0x102000;
	load_bad("kernel 'mb.bin': entry point 0x102000 lies outside the loaded segments");
	build_elf32(0);
	ph[0].p_paddr = 0x4000000;
	load_bad("kernel 'mb.bin': segment 0 lies outside guest RAM");
}

Test(boot_multiboot, initrd_too_big)
{
	struct boot_input in;
	struct boot_entry e;
	size_t n = MiB(63);
	uint8_t *initrd = calloc(1, n);

	build_elf32(MB_FLAG_PAGE_ALIGN);
	in = input();
	in.initrd = initrd;
	in.initrd_len = n;
	in.initrd_path = "mod.bin";
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -ENOSPC);
	cr_assert_str_eq(err.msg,
			 "initrd 'mod.bin' (66060288 bytes) does not fit in guest RAM between 0x181000 and 0x4000000");
	free(initrd);
}
