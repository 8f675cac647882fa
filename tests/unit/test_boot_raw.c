/* tests/unit/test_boot_raw.c - the raw real-mode loader and the helpers the
 * loaders share (command line, initrd placement, e820). */
#include <criterion/criterion.h>
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

TestSuite(boot_raw, .init = setup, .fini = teardown);

static uint8_t code[512];

static struct boot_input input(size_t len)
{
	return (struct boot_input){
		.path = "boot.bin", .image = code, .len = len, .cmdline = "",
		.ncpus = 1,
	};
}

Test(boot_raw, default_address)
{
	struct boot_input in = input(sizeof(code));
	struct boot_entry e;

	for (size_t i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i ^ 0x5a);
	cr_assert_eq(boot_load_raw(&vm, &in, 0x7c00, &e, &err), 0, "%s", err.msg);
	cr_assert_str_eq(e.kind, "raw");
	cr_assert_eq(e.mode, BOOT_REAL16);
	cr_assert_eq(e.cs, 0x07c0);
	cr_assert_eq(e.rip, 0);
	cr_assert_eq(memcmp(gm_ptr(&vm, 0x7c00, sizeof(code)), code, sizeof(code)), 0);
}

Test(boot_raw, unaligned_address)
{
	struct boot_input in = input(16);
	struct boot_entry e;

	cr_assert_eq(boot_load_raw(&vm, &in, 0x12345, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(e.cs, 0x1234);
	cr_assert_eq(e.rip, 5);
	/* the very end of the first MiB is still fine */
	cr_assert_eq(boot_load_raw(&vm, &in, HIMEM_START - 16, &e, &err), 0, "%s", err.msg);
	cr_assert_eq(e.cs, 0xffff);
	cr_assert_eq(e.rip, 0);
}

Test(boot_raw, refused)
{
	struct boot_input in = input(sizeof(code));
	struct boot_entry e;

	cr_assert_eq(boot_load_raw(&vm, &in, HIMEM_START - 256, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg,
			 "raw image 'boot.bin' (512 bytes at 0xfff00) does not fit below 1 MiB");
	cr_assert_eq(boot_load_raw(&vm, &in, HIMEM_START, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg,
			 "raw image 'boot.bin' (512 bytes at 0x100000) does not fit below 1 MiB");
	cr_assert_eq(boot_load_raw(&vm, &in, UINT64_MAX - 100, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg,
			 "raw image 'boot.bin' (512 bytes at 0xffffffffffffff9b) does not fit below 1 MiB");
	in.len = 0;
	cr_assert_eq(boot_load_raw(&vm, &in, 0x7c00, &e, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "raw image 'boot.bin' is empty");
}

Test(boot_raw, cmdline_limits)
{
	struct boot_input in = input(0);
	char *s = gm_ptr(&vm, BOOT_CMDLINE_ADDR, 8);

	in.path = "k";
	in.cmdline = "abcdef";
	memset(s, 'x', 8);
	cr_assert_eq(boot_write_cmdline(&vm, &in, 6, &err), 0);
	cr_assert_str_eq(s, "abcdef");	/* NUL-terminated */
	cr_assert_eq(boot_write_cmdline(&vm, &in, 5, &err), -E2BIG);
	cr_assert_str_eq(err.msg,
			 "kernel 'k': command line is 6 bytes, the kernel accepts at most 5");
	in.cmdline = "";
	cr_assert_eq(boot_write_cmdline(&vm, &in, 0, &err), 0);
	cr_assert_eq(s[0], '\0');
}

Test(boot_raw, initrd_placement)
{
	static uint8_t rd[0x1800];
	struct boot_input in = input(0);
	uint64_t a = 1;

	/* no initrd: address 0, nothing written */
	cr_assert_eq(boot_place_initrd(&vm, &in, MiB(2), MiB(64), &a, &err), 0);
	cr_assert_eq(a, 0);
	in.initrd = rd;
	in.initrd_len = sizeof(rd);
	in.initrd_path = "rd";
	memset(rd, 3, sizeof(rd));
	cr_assert_eq(boot_place_initrd(&vm, &in, MiB(2), MiB(8) + 0x123, &a, &err), 0);
	cr_assert_eq(a, MiB(8) - 0x2000);	/* end <= limit, page aligned */
	cr_assert_eq(memcmp(gm_ptr(&vm, a, sizeof(rd)), rd, sizeof(rd)), 0);
	/* the limit is clipped to RAM */
	cr_assert_eq(boot_place_initrd(&vm, &in, MiB(2), UINT64_MAX, &a, &err), 0);
	cr_assert_eq(a, MiB(64) - 0x2000);
	/* a floor is rounded up to a page and kept above 1 MiB */
	cr_assert_eq(boot_place_initrd(&vm, &in, MiB(8) - 0x1fff, MiB(8), &a, &err),
		     -ENOSPC);
	cr_assert_str_eq(err.msg,
			 "initrd 'rd' (6144 bytes) does not fit in guest RAM between 0x7ff000 and 0x800000");
	cr_assert_eq(boot_place_initrd(&vm, &in, 0, MiB(1) + 0x2000, &a, &err), 0);
	cr_assert_eq(a, MiB(1));
	cr_assert_eq(boot_place_initrd(&vm, &in, UINT64_MAX - 5, UINT64_MAX, &a, &err),
		     -ENOSPC);
	cr_assert_eq(boot_place_initrd(&vm, &in, MiB(9), MiB(8), &a, &err), -ENOSPC);
	cr_assert_str_eq(err.msg,
			 "initrd 'rd' (6144 bytes) does not fit in guest RAM between 0x900000 and 0x900000");
}

Test(boot_raw, e820_built_once)
{
	const struct e820_map *m = boot_e820(&vm);

	cr_assert_eq(m, &vm.e820);
	cr_assert_eq(m->n, 3);
	vm.e820.e[0].size = 1234;	/* already built: left alone */
	cr_assert_eq(boot_e820(&vm)->e[0].size, 1234);
}
