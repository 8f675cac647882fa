/* Unit tests of Firecracker's --config-file format (api/cfgfile.c): a
 * good file, and each bad one with its exact error. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"

static const char good[] =
	"{\n"
	"  \"boot-source\": {\"kernel_image_path\": \"vmlinux.bin\", \"boot_args\": \"console=ttyS0 reboot=k panic=1\"},\n"
	"  \"drives\": [\n"
	"    {\"drive_id\": \"scratch\", \"path_on_host\": \"s.ext4\", \"is_root_device\": false, \"is_read_only\": false},\n"
	"    {\"drive_id\": \"rootfs\", \"path_on_host\": \"rootfs.ext4\", \"is_root_device\": true, \"is_read_only\": true}\n"
	"  ],\n"
	"  \"network-interfaces\": [{\"iface_id\": \"eth0\", \"guest_mac\": \"AA:FC:00:00:00:01\", \"host_dev_name\": \"tap0\",\n"
	"    \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1048576, \"refill_time\": 100}},\n"
	"    \"tx_rate_limiter\": {\"ops\": {\"size\": 1000, \"one_time_burst\": 500, \"refill_time\": 1000}}}],\n"
	"  \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 1024, \"smt\": false, \"track_dirty_pages\": false},\n"
	"  \"entropy\": {},\n"
	"  \"logger\": {\"log_path\": \"fc.log\", \"level\": \"Warning\"},\n"
	"  \"metrics\": {\"metrics_path\": \"metrics.json\"},\n"
	"  \"vsock\": null,\n"
	"  \"balloon\": null\n"
	"}\n";

Test(api_cfgfile, good)
{
	struct vm_config c;
	struct errbuf e = { "" };

	vm_config_init(&c);
	cr_assert_eq(api_config_parse(&c, good, strlen(good), &e), 0, "%s", e.msg);
	cr_assert_str_eq(c.kernel, "vmlinux.bin");
	cr_assert_str_eq(c.cmdline, "console=ttyS0 reboot=k panic=1");
	cr_assert_eq(c.cpus, 2);
	cr_assert_eq(c.mem_size, MiB(1024));
	cr_assert_eq(c.ndrives, 2);
	cr_assert_str_eq(c.drives[0].id, "rootfs");
	cr_assert(c.drives[0].root && c.drives[0].ro);
	cr_assert_eq(c.nnets, 1);
	cr_assert_eq(c.nets[0].mac[0], 0xaa);
	cr_assert_eq(c.nets[0].rx_rl.bw.size, 1048576);
	cr_assert_eq(c.nets[0].rx_rl.bw.refill_ms, 100);
	cr_assert_eq(c.nets[0].tx_rl.ops.size, 1000);
	cr_assert_eq(c.nets[0].tx_rl.ops.one_time_burst, 500);
	cr_assert_eq(c.nets[0].tx_rl.ops.refill_ms, 1000);
	cr_assert_eq(c.nets[0].tx_rl.bw.size, 0);
	cr_assert(c.rng);
	cr_assert_eq(c.logger.level, LOG_WARN);
	cr_assert_str_eq(c.metrics_path, "metrics.json");
	config_free(&c);
}

Test(api_cfgfile, defaults_and_load)
{
	static const char min[] = "{\"boot-source\": {\"kernel_image_path\": \"k\"}}";
	char path[] = "/tmp/ember-cfgfile-XXXXXX";
	struct vm_config c;
	struct errbuf e = { "" };
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, min, strlen(min)), (ssize_t)strlen(min));
	close(fd);
	vm_config_init(&c);
	cr_assert_eq(api_config_load(&c, path, &e), 0, "%s", e.msg);
	cr_assert_eq(c.mem_size, MiB(128), "Firecracker's default memory");
	cr_assert_eq(c.cpus, 1);
	cr_assert(strstr(c.cmdline, "8250.nr_uarts=0"), "Firecracker's default command line");
	config_free(&c);
	unlink(path);
	vm_config_init(&c);
	cr_assert_eq(api_config_load(&c, path, &e), -ENOENT);
	snprintf(path, sizeof(path), "%s", e.msg);	/* the name varies */
	cr_assert(strstr(e.msg, "': No such file or directory"), "%s", e.msg);
	config_free(&c);
}

struct bad {
	const char *json;
	const char *msg;
};

Test(api_cfgfile, exact_errors)
{
	static const struct bad cases[] = {
		{ "", "config file: invalid JSON at line 1 column 0: unexpected token near end of file" },
		{ "[]", "config file: the body must be a JSON object" },
		{ "{}", "config file: missing field 'boot-source'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"boot-source\": {}}",
		  "config file: invalid JSON at line 1 column 57: duplicate object key near '\"boot-source\"'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"gpu\": {}}", "config file: unknown field 'gpu'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"drives\": {}}", "config file: field 'drives' must be an array" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"balloon\": {\"amount_mib\": 1, \"deflate_on_oom\": false}}",
		  "config file: balloon: ember has no balloon device" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"mmds-config\": {\"network_interfaces\": []}}",
		  "config file: mmds-config: ember has no microVM metadata service (MMDS)" },
		{ "{\"boot-source\": {\"kernel_image\": \"k\"}}", "boot-source: unknown field 'kernel_image'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"a\", \"is_root_device\": true}, {\"drive_id\": \"b\", \"path_on_host\": \"b\", \"is_root_device\": true}]}",
		  "drives[1]: drive: drive 'b': drive 'a' is already the root device" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": 5, \"is_root_device\": true}]}",
		  "drives[0]: drive: field 'path_on_host' must be a string" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": \"a-very-long-tap-name\"}]}",
		  "network-interfaces[0]: network-interface: tap name 'a-very-long-tap-name' is longer than 15 characters" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": \"t\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1}}}]}",
		  "network-interfaces[0]: network-interface: rx_rate_limiter: bandwidth: missing field 'refill_time'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"machine-config\": {\"vcpu_count\": 65, \"mem_size_mib\": 128}}",
		  "machine-config: vcpu_count: '65' is not a number from 1 to 64" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"vsock\": {\"guest_cid\": 1, \"uds_path\": \"v\"}}",
		  "vsock: field 'guest_cid' is 1, not from 3 to 4294967294" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"k\"}, \"logger\": {\"level\": 3}}",
		  "logger: field 'level' must be a string" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vm_config c;
		struct errbuf e = { "" };

		vm_config_init(&c);
		cr_assert_eq(api_config_parse(&c, cases[i].json, strlen(cases[i].json), &e), -EINVAL,
			     "case %u", i);
		cr_assert_str_eq(e.msg, cases[i].msg, "case %u: %s", i, e.msg);
		config_free(&c);
	}
}
