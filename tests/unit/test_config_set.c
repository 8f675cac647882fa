/* Unit tests of the vm_config setters (monitor/config_set.c): what argv,
 * the config file and the API share. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"

static struct vm_config c;
static struct errbuf e;

static void setup(void)
{
	vm_config_init(&c);
	e.msg[0] = 0;
}

static void teardown(void)
{
	config_free(&c);
}

TestSuite(config_set, .init = setup, .fini = teardown);

Test(config_set, numbers)
{
	cr_assert_eq(vm_config_set_cpus(&c, 0, "vcpu_count", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "vcpu_count: '0' is not a number from 1 to 64");
	cr_assert_eq(vm_config_set_cpus(&c, 65, "vcpu_count", &e), -EINVAL);
	cr_assert_eq(c.cpus, 1, "unchanged on failure");
	cr_assert_eq(vm_config_set_cpus(&c, 64, "vcpu_count", &e), 0);
	cr_assert_eq(c.cpus, 64);
	cr_assert_eq(vm_config_set_mem_mib(&c, 1, "mem_size_mib", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "mem_size_mib: 1 MiB is out of range (2 to 1048576)");
	cr_assert_eq(vm_config_set_mem_mib(&c, 1048577, "mem_size_mib", &e), -EINVAL);
	cr_assert_eq(vm_config_set_mem_mib(&c, 128, "mem_size_mib", &e), 0);
	cr_assert_eq(c.mem_size, MiB(128));
	cr_assert_eq(vm_config_set_mem(&c, MiB(4) + 1, "--mem", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "--mem: 4194305 bytes is out of range (2 MiB to 1 TiB, a multiple of 4 KiB)");
	cr_assert_eq(vm_config_set_mem(&c, MiB(4) + KiB(4), "--mem", &e), 0);
}

Test(config_set, strings_are_copied_and_replaced)
{
	char *k = strdup("vmlinux");

	cr_assert_eq(vm_config_set_kernel(&c, k, "kernel_image_path", &e), 0);
	k[0] = 'X';
	free(k);
	cr_assert_str_eq(c.kernel, "vmlinux");
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(vm_config_set_kernel(&c, "a", "k", &e), 0);
		cr_assert_eq(vm_config_set_cmdline(&c, "console=ttyS0", "boot_args", &e), 0);
		cr_assert_eq(vm_config_set_initrd(&c, "i", "initrd_path", &e), 0);
	}
	cr_assert_eq(c.nstrs, 3, "a replaced value is freed");
	cr_assert_eq(vm_config_set_initrd(&c, NULL, "initrd_path", &e), 0);
	cr_assert_null(c.initrd);
	cr_assert_eq(c.nstrs, 2);
	cr_assert_eq(vm_config_set_kernel(&c, "", "kernel_image_path", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "kernel_image_path: the kernel path is empty");
	cr_assert_eq(vm_config_set_kernel(&c, "a\nb", "kernel_image_path", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "kernel_image_path: the kernel path has a control character (0x0a)");
	cr_assert_eq(vm_config_set_cmdline(&c, "a\rb", "boot_args", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "boot_args: the command line has a control character (0x0d)");
	cr_assert_str_eq(c.cmdline, "console=ttyS0");
}

Test(config_set, long_cmdline)
{
	char *s = malloc(BOOT_CMDLINE_MAX + 1);

	memset(s, 'a', BOOT_CMDLINE_MAX);
	s[BOOT_CMDLINE_MAX] = 0;
	cr_assert_eq(vm_config_set_cmdline(&c, s, "boot_args", &e), -E2BIG);
	cr_assert_str_eq(e.msg, "boot_args: the command line is 4096 bytes, over ember's limit of 4095");
	s[BOOT_CMDLINE_MAX - 1] = 0;
	cr_assert_eq(vm_config_set_cmdline(&c, s, "boot_args", &e), 0);
	free(s);
}

Test(config_set, drives_by_id_root_first)
{
	struct drive_cfg a = { .id = "data", .path = "a.img" };
	struct drive_cfg r = { .id = "rootfs", .path = "r.img", .root = true, .ro = true };
	struct drive_cfg r2 = { .id = "other", .path = "o.img", .root = true };

	cr_assert_eq(vm_config_put_drive(&c, &a, "drive", &e), 0, "%s", e.msg);
	cr_assert_eq(vm_config_put_drive(&c, &r, "drive", &e), 0, "%s", e.msg);
	cr_assert_eq(c.ndrives, 2);
	cr_assert_str_eq(c.drives[0].id, "rootfs", "the root device comes first");
	cr_assert_str_eq(c.drives[1].id, "data");
	cr_assert_eq(vm_config_put_drive(&c, &r2, "drive", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "drive: drive 'other': drive 'rootfs' is already the root device");
	r.path = "r2.img";
	cr_assert_eq(vm_config_put_drive(&c, &r, "drive", &e), 0, "replacing the root by id");
	cr_assert_eq(c.ndrives, 2);
	cr_assert_str_eq(c.drives[0].path, "r2.img");
	r.root = false;
	cr_assert_eq(vm_config_put_drive(&c, &r, "drive", &e), 0);
	cr_assert_eq(vm_config_put_drive(&c, &r2, "drive", &e), 0, "no root any more: %s", e.msg);
	cr_assert_str_eq(c.drives[0].id, "other");
	cr_assert_eq(c.ndrives, 3);
	cr_assert_eq(c.nstrs, 6, "ids and paths of three drives");
	a.id = "bad id";
	cr_assert_eq(vm_config_put_drive(&c, &a, "drive", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "drive: drive id 'bad id' has a character other than a letter, a digit, '_', '-' or '.'");
	a.id = "p";
	a.partuuid = "0eaa91a0-01";
	cr_assert_eq(vm_config_put_drive(&c, &a, "drive", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "drive: drive 'p': a partuuid needs is_root_device");
	a.root = true;
	a.id = "q";
	a.partuuid = "0eaa 91a0";
	r.root = false;
	cr_assert_eq(vm_config_put_drive(&c, &a, "drive", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "drive: drive 'q': partuuid '0eaa 91a0' is not 1 to 64 hex digits and '-'");
	a.root = false;
	a.partuuid = NULL;
	a.path = "";
	cr_assert_eq(vm_config_put_drive(&c, &a, "drive", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "drive: the drive path is empty");
}

Test(config_set, drive_limit)
{
	char id[8];

	for (int i = 0; i < MAX_DRIVES; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		cr_assert_eq(vm_config_put_drive(&c, &(struct drive_cfg){ .id = id, .path = "x" },
						 "drive", &e), 0);
	}
	cr_assert_eq(vm_config_put_drive(&c, &(struct drive_cfg){ .id = "more", .path = "x" },
					 "drive", &e), -ENOSPC);
	cr_assert_str_eq(e.msg, "drive: at most 8 drives");
	cr_assert_eq(vm_config_put_drive(&c, &(struct drive_cfg){ .id = "d3", .path = "y" },
					 "drive", &e), 0, "a replacement still fits");
	cr_assert_str_eq(c.drives[3].path, "y", "in its place");
}

Test(config_set, nets)
{
	struct net_cfg a = { .id = "eth0", .tap = "tap0" }, b = { .id = "eth1", .tap = "tap0" };

	cr_assert_eq(vm_config_parse_mac("02:00:00:00:00:01", a.mac, "guest_mac", &e), 0);
	a.mac_set = true;
	cr_assert_eq(vm_config_put_net(&c, &a, "network-interfaces", &e), 0, "%s", e.msg);
	cr_assert_eq(vm_config_put_net(&c, &b, "network-interfaces", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "network-interfaces: network interface 'eth1': tap 'tap0' is already in use");
	b.tap = "tap1";
	b.mac_set = true;
	memcpy(b.mac, a.mac, 6);
	cr_assert_eq(vm_config_put_net(&c, &b, "network-interfaces", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "network-interfaces: network interface 'eth1': MAC 02:00:00:00:00:01 is already in use");
	b.mac_set = false;
	cr_assert_eq(vm_config_put_net(&c, &b, "network-interfaces", &e), 0);
	a.tap = "tap9";
	cr_assert_eq(vm_config_put_net(&c, &a, "network-interfaces", &e), 0, "same id replaces");
	cr_assert_eq(c.nnets, 2);
	cr_assert_str_eq(c.nets[0].tap, "tap9");
	cr_assert_eq(vm_config_parse_mac("03:00:00:00:00:01", a.mac, "guest_mac", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "guest_mac: '03:00:00:00:00:01' is not a unicast MAC address");
	cr_assert_eq(vm_config_parse_mac("02:00:00:00:00:1", a.mac, "guest_mac", &e), -EINVAL);
	cr_assert_eq(vm_config_parse_mac("02:00:00:00:00:01:", a.mac, "guest_mac", &e), -EINVAL);
	a.tap = "";
	cr_assert_eq(vm_config_put_net(&c, &a, "network-interfaces", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "network-interfaces: network interface 'eth0': the tap name is empty");
}

Test(config_set, console_logger_metrics)
{
	struct logger_cfg l = { .path = "log", .level = LOG_DEBUG, .show_level = true };

	cr_assert_eq(vm_config_set_console(&c, CONSOLE_FILE, "", "serial_out_path", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "serial_out_path: the console file is empty");
	cr_assert_eq(vm_config_set_console(&c, CONSOLE_FILE, "out", "serial_out_path", &e), 0);
	cr_assert_eq(c.console, CONSOLE_FILE);
	cr_assert_str_eq(c.console_path, "out");
	cr_assert_eq(vm_config_set_logger(&c, &l, "logger", &e), 0);
	cr_assert_str_eq(c.logger.path, "log");
	cr_assert(c.logger.show_level && c.logger.level == LOG_DEBUG);
	l.level = 9;
	cr_assert_eq(vm_config_set_logger(&c, &l, "logger", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "logger: log level 9 is not one of ember's");
	cr_assert_eq(vm_config_set_metrics(&c, "m.json", "metrics_path", &e), 0);
	cr_assert_str_eq(c.metrics_path, "m.json");
	vm_config_set_track_dirty(&c, true);
	vm_config_set_rng(&c, true);
	cr_assert(c.track_dirty && c.rng);
}
