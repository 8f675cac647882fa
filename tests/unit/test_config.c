/* Unit tests of `ember run` argument parsing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "monitor/monitor.h"

static int parse(struct vm_config *cfg, struct errbuf *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "run";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_parse_run(argc, argv, cfg, err);
}

#define PARSE(cfg, err, ...) parse(cfg, err, (const char *const[]){ __VA_ARGS__, NULL })

Test(config, defaults)
{
	struct vm_config c;
	struct errbuf e;

	cr_assert_eq(PARSE(&c, &e, "--kernel", "k"), 0);
	cr_assert_str_eq(c.kernel, "k");
	cr_assert_eq(c.cpus, 1);
	cr_assert_eq(c.mem_size, MiB(256));
	cr_assert_eq(c.console, CONSOLE_STDIO);
	cr_assert_eq(c.irqchip, IRQCHIP_SPLIT);
	cr_assert_str_eq(c.cmdline, "");
	config_free(&c);
}

Test(config, all_options)
{
	struct vm_config c;
	struct errbuf e;

	cr_assert_eq(PARSE(&c, &e, "--kernel=k", "--initrd", "i", "--cmdline", "a b",
			   "--cpus", "32", "--mem=1G", "--console", "file:/tmp/x", "--pit",
			   "--drive", "path=d.img,ro=on,id=root", "--drive=path=e.img,direct=on",
			   "--net", "tap=tap0,mac=02:00:00:00:00:01", "--rng", "--boot-time",
			   "--vsock", "cid=9,uds=/run/v"), 0,
		     "%s", e.msg);
	cr_assert_str_eq(c.initrd, "i");
	cr_assert_str_eq(c.cmdline, "a b");
	cr_assert_eq(c.cpus, 32);
	cr_assert_eq(c.mem_size, GiB(1));
	cr_assert_eq(c.console, CONSOLE_FILE);
	cr_assert_str_eq(c.console_path, "/tmp/x");
	cr_assert(c.pit && c.irqchip == IRQCHIP_FULL, "--pit implies a full irqchip");
	cr_assert_eq(c.ndrives, 2);
	cr_assert_str_eq(c.drives[0].path, "d.img");
	cr_assert(c.drives[0].ro && !c.drives[0].direct);
	cr_assert_str_eq(c.drives[0].id, "root");
	cr_assert(c.drives[1].direct && !c.drives[1].ro);
	cr_assert_eq(c.nnets, 1);
	cr_assert_str_eq(c.nets[0].tap, "tap0");
	cr_assert(c.nets[0].mac_set && c.nets[0].mac[5] == 1);
	cr_assert(c.rng && c.boot_time);
	cr_assert_eq(c.vsock.cid, 9);
	cr_assert_str_eq(c.vsock.uds, "/run/v");
	config_free(&c);
}

Test(config, raw_address)
{
	struct vm_config c;
	struct errbuf e;

	cr_assert_eq(PARSE(&c, &e, "--raw", "boot.bin"), 0);
	cr_assert_str_eq(c.raw, "boot.bin");
	cr_assert_eq(c.raw_addr, 0x7c00);
	config_free(&c);
	cr_assert_eq(PARSE(&c, &e, "--raw", "b@x@0x8000"), 0);
	cr_assert_str_eq(c.raw, "b@x");
	cr_assert_eq(c.raw_addr, 0x8000);
	config_free(&c);
	cr_assert_eq(PARSE(&c, &e, "--raw", "b@0xa0000"), -EINVAL);
	cr_assert_str_eq(e.msg, "--raw: bad load address '0xa0000' (must be below 0x9fc00)");
	config_free(&c);
}

struct bad_case {
	const char *args[6];
	const char *msg;
};

Test(config, exact_errors)
{
	static const struct bad_case cases[] = {
		{ { "--cpus", "0", "--kernel", "k" }, "--cpus: '0' is not a number from 1 to 64" },
		{ { "--cpus", "65", "--kernel", "k" }, "--cpus: '65' is not a number from 1 to 64" },
		{ { "--mem", "1M", "--kernel", "k" }, "--mem: 1 MiB is out of range (2 MiB to 1 TiB, a multiple of 4 KiB)" },
		{ { "--mem", "lots", "--kernel", "k" }, "--mem: 'lots' is not a size (e.g. 256M, 1G)" },
		{ { "--console", "tty", "--kernel", "k" }, "--console: 'tty' is not stdio, none or file:PATH" },
		{ { "--kernel" }, "--kernel needs a value" },
		{ { "--frobnicate", "--kernel", "k" }, "unknown option '--frobnicate' (see 'ember help')" },
		{ { "--cpus" }, "--cpus needs a value" },
		{ { "--rng=on", "--kernel", "k" }, "--rng takes no value" },
		{ { "kernel" }, "unexpected argument 'kernel'" },
		{ { "--cpus", "2" }, "no kernel: give --kernel FILE or --raw FILE[@ADDR]" },
		{ { "--kernel", "k", "--raw", "r" }, "--kernel and --raw exclude each other" },
		{ { "--kernel", "k", "--drive", "ro=on" }, "--drive: path= is required" },
		{ { "--kernel", "k", "--drive", "path=a,ro=maybe" }, "--drive: ro must be on or off, not 'maybe'" },
		{ { "--kernel", "k", "--drive", "path=a,size=1" }, "--drive: unknown key 'size'" },
		{ { "--kernel", "k", "--net", "tap=averyveryverylongname" }, "--net: tap name 'averyveryverylongname' is longer than 15 characters" },
		{ { "--kernel", "k", "--net", "tap=t,mac=01:00:00:00:00:00" }, "--net: '01:00:00:00:00:00' is not a unicast MAC address" },
		{ { "--kernel", "k", "--irqchip", "none" }, "--irqchip: 'none' is not split or full" },
		{ { "--kernel", "k", "--vsock", "cid=2,uds=v" }, "--vsock: cid '2' is not a number from 3 to 4294967294 (0-2 are reserved)" },
		{ { "--kernel", "k", "--vsock", "cid=4294967295,uds=v" }, "--vsock: cid '4294967295' is not a number from 3 to 4294967294 (0-2 are reserved)" },
		{ { "--kernel", "k", "--vsock", "cid=3" }, "--vsock: cid= and uds= are required" },
		{ { "--kernel", "k", "--vsock", "cid=3,uds=v,port=1" }, "--vsock: unknown key 'port'" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm_config c;
		struct errbuf e = { "" };
		char *argv[8] = { "run" };
		int argc = 1;

		for (int j = 0; cases[i].args[j]; j++)
			argv[argc++] = (char *)cases[i].args[j];
		cr_assert_eq(config_parse_run(argc, argv, &c, &e), -EINVAL, "case %u", i);
		cr_assert_str_eq(e.msg, cases[i].msg, "case %u", i);
		config_free(&c);
	}
}

Test(config, sizes)
{
	uint64_t v;

	cr_assert_eq(parse_size("4096", &v), 0);
	cr_assert_eq(v, 4096);
	cr_assert_eq(parse_size("64K", &v), 0);
	cr_assert_eq(v, KiB(64));
	cr_assert_eq(parse_size("2GiB", &v), 0);
	cr_assert_eq(v, GiB(2));
	cr_assert_eq(parse_size("0x1000", &v), 0);
	cr_assert_eq(v, 0x1000);
	cr_assert_eq(parse_size("-1", &v), -EINVAL);
	cr_assert_eq(parse_size("12Q", &v), -EINVAL);
	cr_assert_eq(parse_size("", &v), -EINVAL);
	cr_assert_eq(parse_size("99999999999T", &v), -EINVAL);
}

/* Found by tests/fuzz/fuzz_cli: each `--raw FILE@ADDR` took a new slot of
 * cfg->owned, so 17 of them wrote past its end.  A later --raw replaces
 * an earlier one. */
Test(config, repeated_raw_with_address)
{
	char *argv[64], name[40][16];
	struct vm_config c;
	struct errbuf e;
	int argc = 0;

	argv[argc++] = "run";
	for (int i = 0; i < 30; i++) {
		snprintf(name[i], sizeof(name[i]), "f%d@0x%x", i, 0x1000 + i * 16);
		argv[argc++] = "--raw";
		argv[argc++] = name[i];
	}
	argv[argc++] = "--drive";
	argv[argc++] = "path=a.img";
	argv[argc] = NULL;
	cr_assert_eq(config_parse_run(argc, argv, &c, &e), 0, "%s", e.msg);
	cr_assert_str_eq(c.raw, "f29");
	cr_assert_eq(c.raw_addr, 0x1000 + 29 * 16);
	cr_assert_eq(c.nowned, 1, "one copy for the raw image");
	cr_assert_eq(c.nstrs, 1, "the setter's copy of the drive's path");
	config_free(&c);
}
