/* tests/unit/test_boot_bzimage.c - the bzImage loader on a crafted image
 * with a real setup header, good and corrupt. */
#include <asm/bootparam.h>
#include <criterion/criterion.h>
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

TestSuite(boot_bzimage, .init = setup, .fini = teardown);

#define SETUP_SECTS 4
#define SETUP_LEN ((SETUP_SECTS + 1) * 512)
#define KERNEL_LEN 0x3000
#define IMG_LEN (SETUP_LEN + KERNEL_LEN)

/* The file's bytes 0x1f1.. have the zero page's layout, so a struct
 * boot_params over the image start edits the setup header in place. */
static union {
	struct boot_params bp;
	uint8_t b[IMG_LEN];
} img;

static struct setup_header *hdr = &img.bp.hdr;

static void build(void)
{
	memset(&img, 0, sizeof(img));
	hdr->setup_sects = SETUP_SECTS;
	hdr->boot_flag = 0xAA55;
	hdr->jump = 0x66eb;			/* jmp to 0x268: header end */
	hdr->header = 0x53726448;
	hdr->version = 0x020f;
	hdr->loadflags = LOADED_HIGH;
	hdr->initrd_addr_max = 0x2ffffff;	/* 48 MiB */
	hdr->kernel_alignment = 0x200000;
	hdr->relocatable_kernel = 1;
	hdr->min_alignment = 21;
	hdr->xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	hdr->cmdline_size = 2047;
	hdr->pref_address = 0x1000000;
	hdr->init_size = 0x800000;
	hdr->vid_mode = 0xffff;
	/* the protected-mode kernel: a recognisable pattern */
	for (size_t i = 0; i < KERNEL_LEN; i++)
		img.b[SETUP_LEN + i] = (uint8_t)(i * 7 + 1);
}

static struct boot_input input(void)
{
	return (struct boot_input){
		.path = "bzImage", .image = img.b, .len = IMG_LEN,
		.cmdline = "console=ttyS0 quiet", .ncpus = 1,
	};
}

static void load_ok(struct boot_input *in, struct boot_entry *e)
{
	cr_assert_eq(boot_load(&vm, in, e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(e->kind, "bzimage");
	cr_assert_eq(e->mode, BOOT_LONG64);
	cr_assert_eq(e->rsi, BOOT_PARAMS_ADDR);
}

static void load_bad(struct boot_input *in, int ret, const char *msg)
{
	struct boot_entry e;

	cr_assert_eq(boot_load(&vm, in, &e, &err), ret, "%s", err.msg);
	cr_assert_str_eq(err.msg, msg);
}

static void check_kernel_at(uint64_t gpa)
{
	const uint8_t *p = gm_ptr(&vm, gpa, KERNEL_LEN);

	cr_assert_not_null(p);
	cr_assert_eq(memcmp(p, img.b + SETUP_LEN, KERNEL_LEN), 0);
}

Test(boot_bzimage, good_at_pref_address)
{
	static uint8_t initrd[8192];
	struct boot_input in;
	struct boot_entry e;
	const struct boot_params *bp;

	build();
	memset(initrd, 0x77, sizeof(initrd));
	in = input();
	in.initrd = initrd;
	in.initrd_len = sizeof(initrd);
	in.initrd_path = "initrd.img";
	load_ok(&in, &e);
	cr_assert_eq(e.rip, 0x1000200);
	check_kernel_at(0x1000000);
	cr_assert_str_eq((char *)gm_ptr(&vm, BOOT_CMDLINE_ADDR, 20),
			 "console=ttyS0 quiet");

	bp = gm_ptr(&vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	/* the setup header is copied ... */
	cr_assert_eq(bp->hdr.setup_sects, SETUP_SECTS);
	cr_assert_eq(bp->hdr.boot_flag, 0xAA55);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.version, 0x020f);
	cr_assert_eq(bp->hdr.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	cr_assert_eq(bp->hdr.init_size, 0x800000);
	cr_assert_eq(bp->hdr.vid_mode, 0xffff);
	/* ... and the loader's fields filled */
	cr_assert_eq(bp->hdr.type_of_loader, 0xff);
	cr_assert_eq(bp->hdr.code32_start, 0x1000000);
	cr_assert_eq(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	/* highest page below initrd_addr_max + 1 = 48 MiB */
	cr_assert_eq(bp->hdr.ramdisk_image, 0x3000000 - sizeof(initrd));
	cr_assert_eq(bp->hdr.ramdisk_size, sizeof(initrd));
	cr_assert_eq(memcmp(gm_ptr(&vm, bp->hdr.ramdisk_image, sizeof(initrd)),
			    initrd, sizeof(initrd)), 0);
	cr_assert_eq(bp->e820_entries, 3);
	cr_assert_eq(bp->e820_table[0].size, LOWMEM_RAM_END);
	cr_assert_eq(bp->e820_table[2].addr, MiB(1));
	cr_assert_eq(bp->e820_table[2].size, MiB(63));
	cr_assert_eq(bp->e820_table[2].type, E820_RAM);
}

Test(boot_bzimage, header_end_follows_jump)
{
	struct boot_input in;
	struct boot_entry e;
	const struct boot_params *bp;

	build();
	hdr->jump = 0x5eeb;	/* header ends at 0x260: init_size not copied */
	in = input();
	load_ok(&in, &e);
	bp = gm_ptr(&vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	cr_assert_eq(bp->hdr.pref_address, 0x1000000);
	cr_assert_eq(bp->hdr.init_size, 0);
}

Test(boot_bzimage, pref_address_does_not_fit)
{
	struct boot_input in;
	struct boot_entry e;

	build();
	hdr->pref_address = 0x3c00000;	/* + 8 MiB init_size > 64 MiB */
	in = input();
	load_ok(&in, &e);
	cr_assert_eq(e.rip, 0x100200);
	check_kernel_at(0x100000);
	cr_assert_eq(((struct boot_params *)gm_ptr(&vm, BOOT_PARAMS_ADDR, 4096))
		     ->hdr.code32_start, 0x100000);
}

Test(boot_bzimage, not_relocatable_loads_at_1m)
{
	struct boot_input in;
	struct boot_entry e;

	build();
	hdr->relocatable_kernel = 0;
	in = input();
	load_ok(&in, &e);
	cr_assert_eq(e.rip, 0x100200);
	check_kernel_at(0x100000);
}

Test(boot_bzimage, setup_sects_zero_means_four)
{
	struct boot_input in;
	struct boot_entry e;

	build();
	hdr->setup_sects = 0;
	in = input();
	load_ok(&in, &e);
	check_kernel_at(0x1000000);
}

Test(boot_bzimage, protocol_too_old)
{
	struct boot_input in;

	build();
	hdr->version = 0x0205;
	in = input();
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': boot protocol 2.05 is too old (2.06 or later needed)");
}

Test(boot_bzimage, not_64bit)
{
	struct boot_input in;

	build();
	hdr->xloadflags = 0;
	in = input();
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': not a 64-bit kernel (no XLF_KERNEL_64 entry point)");
	build();
	hdr->version = 0x020b;	/* before xloadflags existed */
	in = input();
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': not a 64-bit kernel (no XLF_KERNEL_64 entry point)");
}

Test(boot_bzimage, zimage)
{
	struct boot_input in;

	build();
	hdr->loadflags = 0;
	in = input();
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': zImage kernels are not supported (LOADED_HIGH not set)");
}

Test(boot_bzimage, cmdline_too_long)
{
	struct boot_input in;
	struct boot_entry e;

	build();
	hdr->cmdline_size = 16;
	in = input();
	in.cmdline = "01234567890123456789";
	load_bad(&in, -E2BIG,
		 "kernel 'bzImage': command line is 20 bytes, the kernel accepts at most 16");
	in.cmdline = "0123456789012345";	/* exactly 16 */
	load_ok(&in, &e);
}

Test(boot_bzimage, truncated)
{
	struct boot_input in;

	build();
	in = input();
	in.len = 2000;
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': truncated bzImage (2000 bytes, the setup code alone is 2560)");
	in.len = SETUP_LEN;
	load_bad(&in, -EINVAL, "kernel 'bzImage': bzImage has no protected-mode kernel");
	in.len = 0x300;	/* the signature is there, the header is cut */
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': truncated bzImage (768 bytes, the setup code alone is 2560)");
	hdr->setup_sects = 255;
	in.len = IMG_LEN;
	load_bad(&in, -EINVAL,
		 "kernel 'bzImage': truncated bzImage (14848 bytes, the setup code alone is 131072)");
}

Test(boot_bzimage, bad_signature)
{
	struct boot_input in;
	struct boot_entry e;

	build();
	hdr->header = 0x53726449;
	in = input();
	load_bad(&in, -ENOEXEC,
		 "kernel 'bzImage': not an ELF, bzImage or Multiboot image");
	cr_assert_eq(boot_load_bzimage(&vm, &in, &e, &err), -ENOEXEC);
	cr_assert_str_eq(err.msg,
			 "kernel 'bzImage': not a bzImage (no 0xAA55 boot flag and \"HdrS\" header)");
	in.len = 0x100;
	cr_assert_eq(boot_load_bzimage(&vm, &in, &e, &err), -ENOEXEC);
}

Test(boot_bzimage, does_not_fit)
{
	struct boot_input in;

	build();
	hdr->init_size = 0x8000000;	/* 128 MiB, the guest has 64 */
	in = input();
	load_bad(&in, -ENOSPC,
		 "kernel 'bzImage': does not fit in guest RAM (12288 bytes, init_size 0x8000000)");
	build();
	hdr->relocatable_kernel = 0;	/* would move itself above RAM */
	hdr->pref_address = 0x8000000;
	in = input();
	load_bad(&in, -ENOSPC,
		 "kernel 'bzImage': does not fit in guest RAM (12288 bytes, init_size 0x800000)");
	build();
	hdr->kernel_alignment = 0;	/* treated as 1, must not divide by 0 */
	hdr->pref_address = 0;
	in = input();
	cr_assert_eq(boot_load(&vm, &in, &(struct boot_entry){0}, &err), 0, "%s", err.msg);
}

Test(boot_bzimage, initrd_too_big)
{
	struct boot_input in;
	size_t n = MiB(41);
	uint8_t *initrd = calloc(1, n);

	build();
	in = input();
	in.initrd = initrd;
	in.initrd_len = MiB(30);
	in.initrd_path = "initrd.img";
	/* kernel runs at 16 MiB + 8 MiB init_size; initrd_addr_max 48 MiB */
	load_bad(&in, -ENOSPC,
		 "initrd 'initrd.img' (31457280 bytes) does not fit in guest RAM between 0x1800000 and 0x3000000");
	hdr->initrd_addr_max = 0xffffffff;	/* then RAM is the limit */
	in.initrd_len = MiB(40) + 1;
	load_bad(&in, -ENOSPC,
		 "initrd 'initrd.img' (41943041 bytes) does not fit in guest RAM between 0x1800000 and 0x4000000");
	in.initrd_len = MiB(40);	/* exactly the room between kernel and end */
	cr_assert_eq(boot_load(&vm, &in, &(struct boot_entry){0}, &err), 0, "%s", err.msg);
	cr_assert_eq(((struct boot_params *)gm_ptr(&vm, BOOT_PARAMS_ADDR, 4096))
		     ->hdr.ramdisk_image, 0x1800000);
	free(initrd);
}
