/* tests/unit/test_boot_elf.c - the ELF parser and the PVH and ELF64 loaders
 * on crafted images, good and corrupt. */
#include <asm/bootparam.h>
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

TestSuite(boot_elf, .init = setup, .fini = teardown);

struct tseg {
	uint64_t paddr, filesz, memsz;
};

#define IMG_CAP 0x10000
#define SEG_DATA_OFF(i) (0x1000 + (uint64_t)(i) * 0x1000)
#define NOTE_OFF 0x800

/* Builds an ELF of class cls (32/64) with the segments (data at
 * SEG_DATA_OFF(i), filled with 0x11 * (i + 1)), and, when pvh_size is 4
 * or 8, a PT_NOTE (the last program header) holding a Xen PVH entry note
 * after a harmless other note.  Returns the length. */
static size_t build_elf(uint8_t *buf, int cls, uint64_t entry,
			const struct tseg *segs, unsigned n, unsigned pvh_size,
			uint64_t pvh_entry)
{
	unsigned nph = n + (pvh_size ? 1 : 0), i;
	size_t len = SEG_DATA_OFF(n);

	memset(buf, 0, IMG_CAP);
	for (i = 0; i < n; i++)
		memset(buf + SEG_DATA_OFF(i), 0x11 * (i + 1), segs[i].filesz);
	if (cls == 64) {
		Elf64_Ehdr eh = {
			.e_type = ET_EXEC, .e_machine = EM_X86_64,
			.e_version = EV_CURRENT, .e_entry = entry,
			.e_phoff = sizeof(Elf64_Ehdr),
			.e_ehsize = sizeof(Elf64_Ehdr),
			.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (uint16_t)nph,
		};

		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(buf, &eh, sizeof(eh));
		for (i = 0; i < n; i++) {
			Elf64_Phdr ph = {
				.p_type = PT_LOAD, .p_offset = SEG_DATA_OFF(i),
				.p_vaddr = segs[i].paddr, .p_paddr = segs[i].paddr,
				.p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz,
			};
			memcpy(buf + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
		}
	} else {
		Elf32_Ehdr eh = {
			.e_type = ET_EXEC, .e_machine = EM_386,
			.e_version = EV_CURRENT, .e_entry = (uint32_t)entry,
			.e_phoff = sizeof(Elf32_Ehdr),
			.e_ehsize = sizeof(Elf32_Ehdr),
			.e_phentsize = sizeof(Elf32_Phdr), .e_phnum = (uint16_t)nph,
		};

		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(buf, &eh, sizeof(eh));
		for (i = 0; i < n; i++) {
			Elf32_Phdr ph = {
				.p_type = PT_LOAD, .p_offset = (uint32_t)SEG_DATA_OFF(i),
				.p_vaddr = (uint32_t)segs[i].paddr,
				.p_paddr = (uint32_t)segs[i].paddr,
				.p_filesz = (uint32_t)segs[i].filesz,
				.p_memsz = (uint32_t)segs[i].memsz,
			};
			memcpy(buf + eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph));
		}
	}
	if (pvh_size) {
		/* note 1: "GNU" type 3, 4 bytes; note 2: "Xen" type 18 */
		uint8_t *p = buf + NOTE_OFF;
		uint32_t w[3] = { 4, 4, 3 };
		size_t nlen;

		memcpy(p, w, 12);
		memcpy(p + 12, "GNU", 4);
		p += 20;
		w[0] = 4, w[1] = pvh_size, w[2] = XEN_ELFNOTE_PHYS32_ENTRY;
		memcpy(p, w, 12);
		memcpy(p + 12, "Xen", 4);
		memcpy(p + 16, &pvh_entry, pvh_size);
		nlen = 20 + 16 + pvh_size;
		if (cls == 64) {
			Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = NOTE_OFF,
					  .p_filesz = nlen };
			memcpy(buf + sizeof(Elf64_Ehdr) + n * sizeof(ph), &ph, sizeof(ph));
		} else {
			Elf32_Phdr ph = { .p_type = PT_NOTE, .p_offset = NOTE_OFF,
					  .p_filesz = (uint32_t)nlen };
			memcpy(buf + sizeof(Elf32_Ehdr) + n * sizeof(ph), &ph, sizeof(ph));
		}
	}
	return len;
}

/* Program header i of an ELF64 image, for patching. */
static Elf64_Phdr *ph64(uint8_t *buf, unsigned i)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr) + i * sizeof(Elf64_Phdr));
}

static const struct tseg good_segs[] = {
	{ 0x200000, 0x1000, 0x3000 },	/* text + 8 KiB of bss */
	{ 0x400000, 0x800, 0x800 },
};

static uint8_t *img;

static struct boot_input input(size_t len)
{
	return (struct boot_input){
		.path = "k.elf", .image = img, .len = len, .cmdline = "console=ttyS0",
		.ncpus = 1,
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

/* Dirties the guest where the bss will go, to see that it is zeroed. */
static void dirty_bss(void)
{
	memset(gm_ptr(&vm, 0x201000, 0x2000), 0xcc, 0x2000);
	vm.mem.zeroed = false;
}

static void check_segments(void)
{
	cr_assert(all(0x200000, 0x1000, 0x11));
	cr_assert(all(0x201000, 0x2000, 0));
	cr_assert(all(0x400000, 0x800, 0x22));
	cr_assert_str_eq((char *)gm_ptr(&vm, BOOT_CMDLINE_ADDR, 14), "console=ttyS0");
}

static void run_bad(size_t len, const char *msg)
{
	struct boot_input in = input(len);
	struct boot_entry e;

	cr_assert_lt(boot_load(&vm, &in, &e, &err), 0);
	cr_assert_str_eq(err.msg, msg);
}

Test(boot_elf, pvh_good_with_initrd)
{
	static uint8_t initrd[5000];
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;
	const struct hvm_start_info *si;
	const struct hvm_memmap_table_entry *mm;
	const struct hvm_modlist_entry *mod;

	img = buf;
	memset(initrd, 0x5a, sizeof(initrd));
	in = input(build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020));
	in.initrd = initrd;
	in.initrd_len = sizeof(initrd);
	in.initrd_path = "i.img";
	dirty_bss();
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(e.kind, "pvh");
	cr_assert_eq(e.mode, BOOT_PROT32);
	cr_assert_eq(e.rip, 0x200020);
	cr_assert_eq(e.rbx, BOOT_INFO_ADDR);
	cr_assert_eq(e.rsp, BOOT_STACK_TOP);
	check_segments();

	si = gm_ptr(&vm, BOOT_INFO_ADDR, sizeof(*si));
	cr_assert_eq(si->magic, 0x336ec578);
	cr_assert_eq(si->version, 1);
	cr_assert_eq(si->cmdline_paddr, BOOT_CMDLINE_ADDR);
	cr_assert_eq(si->rsdp_paddr, 0);
	cr_assert_eq(si->memmap_entries, 3);
	cr_assert_eq(si->memmap_paddr, BOOT_INFO_ADDR + sizeof(*si));
	mm = gm_ptr(&vm, si->memmap_paddr, 3 * sizeof(*mm));
	cr_assert_eq(mm[0].addr, 0);
	cr_assert_eq(mm[0].size, LOWMEM_RAM_END);
	cr_assert_eq(mm[0].type, E820_RAM);
	cr_assert_eq(mm[1].type, E820_RESERVED);
	cr_assert_eq(mm[2].addr, MiB(1));
	cr_assert_eq(mm[2].size, MiB(63));
	cr_assert_eq(mm[2].type, E820_RAM);
	cr_assert_eq(si->nr_modules, 1);
	mod = gm_ptr(&vm, si->modlist_paddr, sizeof(*mod));
	cr_assert_not_null(mod);
	/* the highest page-aligned place below the end of RAM */
	cr_assert_eq(mod->paddr, (MiB(64) - sizeof(initrd)) & ~0xfffULL);
	cr_assert_eq(mod->size, sizeof(initrd));
	cr_assert(all(mod->paddr, sizeof(initrd), 0x5a));
}

Test(boot_elf, pvh_elf32_note4)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;

	img = buf;
	in = input(build_elf(buf, 32, 0x200010, good_segs, 2, 4, 0x400100));
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(e.kind, "pvh");
	cr_assert_eq(e.rip, 0x400100);
	check_segments();
	cr_assert_eq(((struct hvm_start_info *)gm_ptr(&vm, BOOT_INFO_ADDR, 56))->nr_modules, 0);
}

Test(boot_elf, elf64_good)
{
	static uint8_t initrd[0x3000];
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;
	const struct boot_params *bp;

	img = buf;
	in = input(build_elf(buf, 64, 0x400010, good_segs, 2, 0, 0));
	in.initrd = initrd;
	in.initrd_len = sizeof(initrd);
	in.initrd_path = "i.img";
	dirty_bss();
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(e.kind, "elf64");
	cr_assert_eq(e.mode, BOOT_LONG64);
	cr_assert_eq(e.rip, 0x400010);
	cr_assert_eq(e.rsi, BOOT_PARAMS_ADDR);
	check_segments();
	bp = gm_ptr(&vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	cr_assert_eq(bp->hdr.boot_flag, 0xAA55);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.type_of_loader, 0xff);
	cr_assert_neq(bp->hdr.version, 0);
	cr_assert_eq(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	cr_assert_eq(bp->hdr.ramdisk_image, MiB(64) - sizeof(initrd));
	cr_assert_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	cr_assert_eq(bp->e820_entries, 3);
	cr_assert_eq(bp->e820_table[2].addr, MiB(1));
	cr_assert_eq(bp->e820_table[2].size, MiB(63));
	cr_assert_eq(bp->e820_table[2].type, E820_RAM);
	cr_assert_eq(bp->e820_table[1].addr, LOWMEM_RAM_END);
	cr_assert_eq(bp->e820_table[1].type, E820_RESERVED);
}

Test(boot_elf, elf64_keeps_existing_e820)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;
	const struct boot_params *bp;

	img = buf;
	vm.e820.n = 1;
	vm.e820.e[0] = (struct e820_entry){ 0, MiB(32), E820_RAM };
	in = input(build_elf(buf, 64, 0x400010, good_segs, 2, 0, 0));
	cr_assert_eq(boot_load_elf64(&vm, &in, &e, &err), 0, "%s", err.msg);
	bp = gm_ptr(&vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	cr_assert_eq(bp->e820_entries, 1);
	cr_assert_eq(bp->e820_table[0].size, MiB(32));
	cr_assert_eq(bp->hdr.ramdisk_image, 0);
}

Test(boot_elf, truncated)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));

	img = buf;
	build_elf(buf, 64, 0x200010, good_segs, 2, 0, 0);
	run_bad(40, "kernel 'k.elf': truncated ELF header");
	run_bad(sizeof(Elf64_Ehdr) + 10,
		"kernel 'k.elf': program headers lie outside the file");
	/* the data of segment 1 is cut short */
	run_bad(SEG_DATA_OFF(1) + 0x10,
		"kernel 'k.elf': segment 1 lies outside the file");
}

Test(boot_elf, bad_headers)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	size_t len;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	img = buf;
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 0, 0);
	eh->e_phoff = 0xfffffffffffffff0ULL;
	run_bad(len, "kernel 'k.elf': program headers lie outside the file");
	eh->e_phoff = len - 8;
	run_bad(len, "kernel 'k.elf': program headers lie outside the file");
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = 32;
	run_bad(len, "kernel 'k.elf': program header size 32, expected 56");
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 0;
	run_bad(len, "kernel 'k.elf': no program headers");
	eh->e_phnum = 0xffff;
	run_bad(len, "kernel 'k.elf': too many program headers (65535)");
	eh->e_phnum = 2;
	eh->e_machine = EM_386;
	run_bad(len, "kernel 'k.elf': ELF64 machine 3 is not x86-64");
	eh->e_machine = EM_X86_64;
	eh->e_type = ET_REL;
	run_bad(len, "kernel 'k.elf': ELF type 1 is not an executable");
	eh->e_type = ET_EXEC;
	buf[EI_CLASS] = 7;
	run_bad(len, "kernel 'k.elf': unsupported ELF class 7");
	buf[EI_CLASS] = ELFCLASS64;
	buf[EI_DATA] = ELFDATA2MSB;
	run_bad(len, "kernel 'k.elf': not a little-endian ELF file");
	buf[EI_DATA] = ELFDATA2LSB;
	eh->e_version = 9;
	run_bad(len, "kernel 'k.elf': unsupported ELF version 9");
	eh->e_version = EV_CURRENT;
	buf[1] = 'X';
	run_bad(len, "kernel 'k.elf': not an ELF, bzImage or Multiboot image");
}

Test(boot_elf, wrong_magic_direct)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;

	img = buf;
	in = input(build_elf(buf, 64, 0x200010, good_segs, 2, 0, 0));
	buf[0] = 0;
	cr_assert_eq(boot_load_elf64(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'k.elf': not an ELF file (bad magic)");
	cr_assert_eq(boot_load_pvh(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'k.elf': not an ELF file (bad magic)");
	buf[0] = 0x7f;
	cr_assert_eq(boot_load_pvh(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'k.elf': no PVH entry note");
}

Test(boot_elf, bad_segments)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	size_t len;

	img = buf;
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 0, 0);
	ph64(buf, 1)->p_paddr = 0x202000;	/* inside segment 0's bss */
	run_bad(len, "kernel 'k.elf': segments 0 and 1 overlap");
	ph64(buf, 1)->p_paddr = MiB(64) - 0x400;
	run_bad(len, "kernel 'k.elf': segment 1 lies outside guest RAM");
	ph64(buf, 1)->p_paddr = 0xfffffffffffff800ULL;	/* wraps around */
	run_bad(len, "kernel 'k.elf': segment 1 lies outside guest RAM");
	ph64(buf, 1)->p_paddr = 0x400000;
	ph64(buf, 0)->p_paddr = 0x8000;
	run_bad(len, "kernel 'k.elf': segment 0 overlaps the boot area below 1 MiB");
	ph64(buf, 0)->p_paddr = 0xff000;	/* straddles 1 MiB */
	run_bad(len, "kernel 'k.elf': segment 0 overlaps the boot area below 1 MiB");
	ph64(buf, 0)->p_paddr = 0x200000;
	ph64(buf, 1)->p_filesz = 0x801;
	run_bad(len, "kernel 'k.elf': segment 1 has a file size (0x801) larger than its memory size (0x800)");
	ph64(buf, 1)->p_filesz = 0x800;
	ph64(buf, 1)->p_offset = 0xffffffffffffff00ULL;
	run_bad(len, "kernel 'k.elf': segment 1 lies outside the file");
	ph64(buf, 1)->p_offset = SEG_DATA_OFF(1);
	ph64(buf, 0)->p_type = PT_NULL;
	ph64(buf, 1)->p_type = PT_NULL;
	run_bad(len, "kernel 'k.elf': no loadable segments");
}

Test(boot_elf, entry_outside)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));

	img = buf;
	run_bad(build_elf(buf, 64, 0x300000, good_segs, 2, 0, 0),
		"kernel 'k.elf': entry point 0x300000 lies outside the loaded segments");
	run_bad(build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x400800),
		"kernel 'k.elf': entry point 0x400800 lies outside the loaded segments");
	/* the PVH entry is a 32-bit address */
	run_bad(build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x100200000ULL),
		"kernel 'k.elf': PVH entry point 0x100200000 is above 4 GiB");
}

Test(boot_elf, bad_notes)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	size_t len;
	uint32_t huge = 0x7fffffff;

	img = buf;
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020);
	memcpy(buf + NOTE_OFF + 20 + 4, &huge, 4);	/* descsz of the Xen note */
	run_bad(len, "kernel 'k.elf': malformed ELF note in segment 2");
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020);
	memcpy(buf + NOTE_OFF, &huge, 4);		/* namesz of the first */
	run_bad(len, "kernel 'k.elf': malformed ELF note in segment 2");
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020);
	ph64(buf, 2)->p_offset = len;
	run_bad(len, "kernel 'k.elf': segment 2 lies outside the file");
	len = build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020);
	huge = 2;
	memcpy(buf + NOTE_OFF + 20 + 4, &huge, 4);
	run_bad(len, "kernel 'k.elf': PVH entry note has a 2-byte value (expected 4 or 8)");
}

Test(boot_elf, elf32_without_pvh_or_multiboot)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	struct boot_input in;
	struct boot_entry e;

	img = buf;
	run_bad(build_elf(buf, 32, 0x200010, good_segs, 2, 0, 0),
		"kernel 'k.elf': no PVH note and not an ELF64 image");
	in = input(build_elf(buf, 32, 0x200010, good_segs, 2, 0, 0));
	cr_assert_eq(boot_load_elf64(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg, "kernel 'k.elf': not an ELF64 x86-64 image");
}

Test(boot_elf, cmdline_too_long)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	char *cl = malloc(BOOT_CMDLINE_MAX + 1);
	struct boot_input in;
	struct boot_entry e;

	img = buf;
	memset(cl, 'a', BOOT_CMDLINE_MAX);
	cl[BOOT_CMDLINE_MAX] = '\0';
	in = input(build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020));
	in.cmdline = cl;
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -E2BIG);
	cr_assert_str_eq(err.msg,
			 "kernel 'k.elf': command line is 4096 bytes, at most 4095 are supported");
	cl[BOOT_CMDLINE_MAX - 1] = '\0';	/* 4095 bytes: fits exactly */
	cr_assert_eq(boot_load(&vm, &in, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen(gm_ptr(&vm, BOOT_CMDLINE_ADDR, BOOT_CMDLINE_MAX)),
		     (size_t)BOOT_CMDLINE_MAX - 1);
	free(cl);
}

Test(boot_elf, initrd_too_big)
{
	uint8_t buf[IMG_CAP] __attribute__((aligned(8)));
	size_t n = MiB(62);
	uint8_t *initrd = calloc(1, n);
	struct boot_input in;
	struct boot_entry e;

	img = buf;
	in = input(build_elf(buf, 64, 0x200010, good_segs, 2, 8, 0x200020));
	in.initrd = initrd;
	in.initrd_len = n;
	in.initrd_path = "big.img";
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -ENOSPC);
	cr_assert_str_eq(err.msg,
			 "initrd 'big.img' (65011712 bytes) does not fit in guest RAM between 0x401000 and 0x4000000");
	cr_assert_eq(boot_load_elf64(&vm, &in, &e, &err), -ENOSPC);
	in.initrd_len = 0;
	cr_assert_eq(boot_load(&vm, &in, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "initrd 'big.img' is empty");
	free(initrd);
}
