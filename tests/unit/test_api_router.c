/* Unit tests of the API router (api/router.c) and its decoders over the
 * fake backend: every endpoint with a good request, a bad body, an
 * unknown field and a request in the wrong state, each asserting the
 * status and the whole body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/api_fake.h"

static struct fake_vm f;
static struct api a;

static void setup(void)
{
	fake_init(&f);
	api_init(&a, &f.be, NULL, "0.1.0");
}

static void teardown(void)
{
	fake_free(&f);
}

TestSuite(api_router, .init = setup, .fini = teardown);

struct step {
	enum api_state state;	/* set on the fake before the request */
	enum http_method m;
	const char *path, *body;
	int status;
	const char *want;	/* the whole answer body; NULL for none */
};

static void run(const struct step *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct http_request req = { .method = s[i].m, .path = s[i].path };
		struct api_response resp;

		req.body = s[i].body;
		req.body_len = s[i].body ? strlen(s[i].body) : 0;
		f.state = s[i].state;
		cr_assert_eq(api_handle(&a, &req, &resp), 0, "step %u", i);
		cr_assert_eq(resp.status, s[i].status, "step %u (%s): %d %s", i, s[i].path,
			     resp.status, resp.body ? resp.body : "");
		if (s[i].want)
			cr_assert_str_eq(resp.body, s[i].want, "step %u", i);
		else
			cr_assert_null(resp.body, "step %u: %s", i, resp.body);
		free(resp.body);
	}
}

#define RUN(...) do { \
	static const struct step steps[] = { __VA_ARGS__ }; \
	run(steps, ARRAY_SIZE(steps)); \
} while (0)
#define PRE API_NOT_STARTED
#define RUNNING API_RUNNING
#define PAUSED API_PAUSED
#define F(msg) "{\"fault_message\":\"" msg "\"}"

Test(api_router, info_and_version)
{
	RUN({ PRE, HTTP_GET, "/", NULL, 200,
	      "{\"id\":\"anonymous-instance\",\"state\":\"Not started\",\"vmm_version\":\"0.1.0\",\"app_name\":\"ember\"}" },
	    { PAUSED, HTTP_GET, "/", NULL, 200,
	      "{\"id\":\"anonymous-instance\",\"state\":\"Paused\",\"vmm_version\":\"0.1.0\",\"app_name\":\"ember\"}" },
	    { RUNNING, HTTP_GET, "/version", NULL, 200, "{\"firecracker_version\":\"0.1.0\"}" },
	    { PRE, HTTP_GET, "/version", "{}", 400, F("/version: a GET request has no body") },
	    { PRE, HTTP_GET, "/nothing", NULL, 400, F("invalid request method and/or path: GET /nothing") },
	    { PRE, HTTP_GET, "/vm//config", NULL, 400, F("invalid request path: /vm//config") },
	    { PRE, HTTP_GET, "/boot-source/", NULL, 400, F("invalid request path: /boot-source/") },
	    { PRE, HTTP_GET, "/a/b/c/d", NULL, 400, F("invalid request path: /a/b/c/d") });
}

Test(api_router, boot_source)
{
	RUN({ PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"vmlinux\",\"boot_args\":\"console=ttyS0\",\"initrd_path\":\"initrd\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":", 400,
	      F("/boot-source: invalid JSON at line 1 column 21: unexpected token near end of file") },
	    { PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":7}", 400,
	      F("boot-source: field 'kernel_image_path' must be a string") },
	    { PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"k\",\"kernel\":\"k\"}", 400,
	      F("boot-source: unknown field 'kernel'") },
	    { PRE, HTTP_PUT, "/boot-source", "{\"boot_args\":\"x\"}", 400,
	      F("boot-source: missing field 'kernel_image_path'") },
	    { PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"\"}", 400,
	      F("boot-source: kernel_image_path: the kernel path is empty") },
	    { PRE, HTTP_PUT, "/boot-source", NULL, 400, F("/boot-source: the request has no body") },
	    { PRE, HTTP_PATCH, "/boot-source", "{}", 400, F("invalid request method and/or path: PATCH /boot-source") },
	    { RUNNING, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"k\"}", 400,
	      F("boot-source: not allowed after the VM has started (state Running)") });
	cr_assert_str_eq(f.cfg.kernel, "vmlinux");
	cr_assert_str_eq(f.cfg.cmdline, "console=ttyS0");
	cr_assert_str_eq(f.cfg.initrd, "initrd");
	RUN({ PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"k2\"}", 204, NULL });
	cr_assert_str_eq(f.cfg.kernel, "k2");
	cr_assert_null(f.cfg.initrd, "a PUT replaces the whole boot source");
	cr_assert(strstr(f.cfg.cmdline, "reboot=k panic=1"), "Firecracker's default: %s", f.cfg.cmdline);
}

Test(api_router, machine_config)
{
	RUN({ PRE, HTTP_GET, "/machine-config", NULL, 200,
	      "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,\"huge_pages\":\"None\"}" },
	    { PRE, HTTP_PUT, "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false,\"track_dirty_pages\":true}", 204, NULL },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"vcpu_count\":4}", 204, NULL },
	    { RUNNING, HTTP_GET, "/machine-config", NULL, 200,
	      "{\"vcpu_count\":4,\"mem_size_mib\":256,\"smt\":false,\"track_dirty_pages\":true,\"huge_pages\":\"None\"}" },
	    { PRE, HTTP_PUT, "/machine-config", "{\"vcpu_count\":2}", 400,
	      F("machine-config: missing field 'mem_size_mib'") },
	    { PRE, HTTP_PUT, "/machine-config", "{\"vcpu_count\":-1,\"mem_size_mib\":256}", 400,
	      F("machine-config: field 'vcpu_count' must be an unsigned integer") },
	    { PRE, HTTP_PUT, "/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":256}", 400,
	      F("machine-config: vcpu_count: '0' is not a number from 1 to 64") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"mem_size_mib\":1}", 400,
	      F("machine-config: mem_size_mib: 1 MiB is out of range (2 to 1048576)") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"smt\":null}", 400,
	      F("machine-config: an empty PATCH request (no field to change)") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"vcpus\":1}", 400,
	      F("machine-config: unknown field 'vcpus'") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"smt\":true}", 400,
	      F("machine-config: smt: ember does not offer SMT (simultaneous multithreading) to guests") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"cpu_template\":\"T2\"}", 400,
	      F("machine-config: cpu_template 'T2': ember has no CPU templates") },
	    { PRE, HTTP_PATCH, "/machine-config", "{\"huge_pages\":\"2M\"}", 400,
	      F("machine-config: huge_pages '2M': ember backs guest memory with normal pages only") },
	    { RUNNING, HTTP_PATCH, "/machine-config", "{\"vcpu_count\":1}", 400,
	      F("machine-config: not allowed after the VM has started (state Running)") });
	cr_assert_eq(f.cfg.cpus, 4);
	cr_assert_eq(f.cfg.mem_size, MiB(256), "a failed request changes nothing");
	cr_assert(f.cfg.track_dirty);
}

Test(api_router, drives)
{
	RUN({ PRE, HTTP_PUT, "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":\"d.img\",\"is_root_device\":false,\"is_read_only\":true,\"cache_type\":\"Writeback\",\"io_engine\":\"Async\",\"rate_limiter\":null}", 204, NULL },
	    { PRE, HTTP_PUT, "/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"r.img\",\"is_root_device\":true,\"partuuid\":\"0eaa91a0-01\",\"rate_limiter\":{\"bandwidth\":{\"size\":0,\"refill_time\":0}}}", 204, NULL },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"y\",\"path_on_host\":\"r.img\",\"is_root_device\":false}", 400,
	      F("drive: the id in the body ('y') is not the one in the path ('x')") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\"}", 400,
	      F("drive: missing field 'is_root_device'") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":true}", 400,
	      F("drive: drive 'x': drive 'rootfs' is already the root device") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":false,\"size\":1}", 400,
	      F("drive: unknown field 'size'") },
	    { PRE, HTTP_PUT, "/drives/x", "[1]", 400, F("drive: the body must be a JSON object") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":false,\"cache_type\":\"None\"}", 400,
	      F("drive: cache_type 'None' is not Unsafe or Writeback") },
	    { PRE, HTTP_PUT, "/drives/lim", "{\"drive_id\":\"lim\",\"path_on_host\":\"l.img\",\"is_root_device\":false,\"rate_limiter\":{\"ops\":{\"size\":100,\"refill_time\":1000},\"bandwidth\":{\"size\":1048576,\"one_time_burst\":4096,\"refill_time\":250}}}", 204, NULL },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":false,\"rate_limiter\":{\"ops\":{\"size\":100,\"refill_time\":3600001}}}", 400,
	      F("drive: rate_limiter: ops rate limiter: refill time must be 1 to 3600000 ms, not 3600001") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":false,\"rate_limiter\":{\"ops\":{\"size\":100}}}", 400,
	      F("drive: rate_limiter: ops: missing field 'refill_time'") },
	    { PRE, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"socket\":\"s\",\"is_root_device\":false}", 400,
	      F("drive: socket: ember has no vhost-user-block") },
	    { PRE, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":\"e.img\"}", 400,
	      F("drive: not allowed before the VM has started (state Not started)") },
	    { RUNNING, HTTP_PUT, "/drives/x", "{\"drive_id\":\"x\",\"path_on_host\":\"r.img\",\"is_root_device\":false}", 400,
	      F("drive 'x': ember cannot hot-plug devices (state Running)") },
	    { RUNNING, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":\"d.img\"}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":\"e.img\"}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"path_on_host\":\"\"}", 400,
	      F("drive 'data': path_on_host is empty") },
	    { RUNNING, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"rate_limiter\":{\"bandwidth\":{\"size\":4096,\"refill_time\":100}}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/drives/nope", "{\"drive_id\":\"nope\"}", 400, F("drive: there is no drive 'nope'") },
	    { RUNNING, HTTP_PATCH, "/drives/data", "{\"drive_id\":\"data\",\"is_read_only\":true}", 400,
	      F("drive: unknown field 'is_read_only'") });
	/* the same file asks for nothing; a new file, and new limits, go to the VM */
	cr_assert_eq(f.drive_updates, 2);
	cr_assert_str_eq(f.drive_path, "");
	cr_assert(f.drive_rl);
	cr_assert_eq(f.cfg.ndrives, 3);
	cr_assert_str_eq(f.cfg.drives[2].id, "lim");
	cr_assert_eq(f.cfg.drives[2].rl.ops.size, 100);
	cr_assert_eq(f.cfg.drives[2].rl.bw.size, 1048576);
	cr_assert_eq(f.cfg.drives[2].rl.bw.one_time_burst, 4096);
	cr_assert_eq(f.cfg.drives[2].rl.bw.refill_ms, 250);
	cr_assert_str_eq(f.cfg.drives[0].id, "rootfs");
	cr_assert_str_eq(f.cfg.drives[0].partuuid, "0eaa91a0-01");
	cr_assert(f.cfg.drives[0].io_sync && !f.cfg.drives[0].writeback, "Firecracker's defaults");
	cr_assert(f.cfg.drives[1].ro && f.cfg.drives[1].writeback && !f.cfg.drives[1].io_sync);
}

Test(api_router, network_interfaces)
{
	RUN({ PRE, HTTP_PUT, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:ac:10:00:02\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap0\"}", 400,
	      F("network-interface: network interface 'eth1': tap 'tap0' is already in use") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"guest_mac\":\"zz\"}", 400,
	      F("network-interface: guest_mac: 'zz' is not a unicast MAC address") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"mac\":\"x\"}", 400,
	      F("network-interface: unknown field 'mac'") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"tx_rate_limiter\":{\"bandwidth\":{\"size\":1000,\"refill_time\":3600001}}}", 400,
	      F("network-interface: tx_rate_limiter: bandwidth rate limiter: refill time must be 1 to 3600000 ms, not 3600001") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"rx_rate_limiter\":{\"ops\":{\"size\":\"10\",\"refill_time\":100}}}", 400,
	      F("network-interface: rx_rate_limiter: ops: field 'size' must be an unsigned integer") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"rx_rate_limiter\":{\"bandwidth\":{\"size\":1000,\"refill_time\":100,\"burst\":1}}}", 400,
	      F("network-interface: rx_rate_limiter: bandwidth: unknown field 'burst'") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"tx_rate_limiter\":{\"pps\":{}}}", 400,
	      F("network-interface: tx_rate_limiter: unknown field 'pps'") },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"rx_rate_limiter\":{\"bandwidth\":{\"size\":65536,\"one_time_burst\":1048576,\"refill_time\":250}},\"tx_rate_limiter\":{\"ops\":{\"size\":100,\"refill_time\":1000}}}", 204, NULL },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"mtu\":1500}", 400,
	      F("network-interface: mtu: ember does not offer VIRTIO_NET_F_MTU") },
	    { PRE, HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\"}", 400,
	      F("network-interface: not allowed before the VM has started (state Not started)") },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":{}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":{\"ops\":{\"size\":1,\"refill_time\":1}}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"tx_rate_limiter\":{\"ops\":{\"size\":100,\"refill_time\":1000}},\"rx_rate_limiter\":{\"bandwidth\":{\"size\":65536,\"one_time_burst\":1048576,\"refill_time\":250}}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"rx_rate_limiter\":{\"bandwidth\":{\"size\":0,\"refill_time\":0}}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"tx_rate_limiter\":{\"ops\":{\"size\":\"x\",\"refill_time\":500}}}", 400,
	      F("network-interface: tx_rate_limiter: ops: field 'size' must be an unsigned integer") },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap9\"}", 400,
	      F("network-interface: unknown field 'host_dev_name'") },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth0\"}", 400,
	      F("network-interface: the id in the body ('eth0') is not the one in the path ('eth1')") },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"tx_rate_limiter\":{\"bandwidth\":{\"size\":4096,\"refill_time\":100}}}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/network-interfaces/eth9", "{\"iface_id\":\"eth9\"}", 400,
	      F("network-interface: there is no network interface 'eth9'") },
	    { RUNNING, HTTP_PUT, "/network-interfaces/eth2", "{\"iface_id\":\"eth2\",\"host_dev_name\":\"tap2\"}", 400,
	      F("network-interface 'eth2': ember cannot hot-plug devices (state Running)") });
	/* what is restated asks for nothing; the rest goes to the VM, the
	 * buckets a body leaves out as they were (the fake keeps the config) */
	cr_assert_eq(f.net_updates, 3);
	cr_assert(f.net.has_tx && !f.net.has_rx);
	cr_assert_eq(f.net.tx.bw.size, 4096);
	cr_assert_eq(f.net.tx.bw.refill_ms, 100);
	cr_assert_eq(f.net.tx.ops.size, 100, "the ops bucket the body left out");
	cr_assert_eq(f.net.tx.ops.refill_ms, 1000);
	cr_assert_eq(f.cfg.nnets, 2);
	cr_assert_eq(f.cfg.nets[0].rx_rl.bw.size, 0, "no limiter");
	cr_assert_eq(f.cfg.nets[1].rx_rl.bw.size, 65536);
	cr_assert_eq(f.cfg.nets[1].rx_rl.bw.one_time_burst, 1048576);
	cr_assert_eq(f.cfg.nets[1].rx_rl.bw.refill_ms, 250);
	cr_assert_eq(f.cfg.nets[1].rx_rl.ops.size, 0);
	cr_assert_eq(f.cfg.nets[1].tx_rl.ops.size, 100);
	cr_assert_eq(f.cfg.nets[1].tx_rl.ops.refill_ms, 1000);
	cr_assert_eq(f.cfg.nets[1].tx_rl.bw.size, 0);
	cr_assert_str_eq(f.cfg.nets[0].id, "eth0");
	cr_assert(f.cfg.nets[0].mac_set && f.cfg.nets[0].mac[0] == 6 && f.cfg.nets[0].mac[5] == 2);
}

Test(api_router, small_devices)
{
	RUN({ PRE, HTTP_PUT, "/entropy", "{}", 204, NULL },
	    { PRE, HTTP_PUT, "/entropy", "{\"rate\":1}", 400, F("entropy: unknown field 'rate'") },
	    { PRE, HTTP_PUT, "/entropy", "{\"rate_limiter\":{\"bandwidth\":{\"size\":1,\"refill_time\":0}}}", 204, NULL },
	    { PRE, HTTP_PUT, "/entropy", "{\"rate_limiter\":{\"bandwidth\":{\"size\":1024,\"refill_time\":100}}}", 204, NULL },
	    { RUNNING, HTTP_PUT, "/entropy", "{}", 400, F("entropy: not allowed after the VM has started (state Running)") },
	    { PRE, HTTP_PUT, "/serial", "{\"serial_out_path\":\"console.log\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/serial", "{\"serial_out_path\":1}", 400, F("serial: field 'serial_out_path' must be a string") },
	    { PRE, HTTP_PUT, "/serial", "{\"path\":\"x\"}", 400, F("serial: unknown field 'path'") },
	    { PAUSED, HTTP_PUT, "/serial", "{}", 400, F("serial: not allowed after the VM has started (state Paused)") },
	    { PRE, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"v.sock\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/vsock", "{\"guest_cid\":2,\"uds_path\":\"v.sock\"}", 400,
	      F("vsock: field 'guest_cid' is 2, not from 3 to 4294967294") },
	    { PRE, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"\"}", 400,
	      F("vsock: the socket path is empty") },
	    { PRE, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds\":\"v.sock\"}", 400, F("vsock: unknown field 'uds'") },
	    { RUNNING, HTTP_PUT, "/vsock", "{\"guest_cid\":3,\"uds_path\":\"v.sock\"}", 400,
	      F("vsock: not allowed after the VM has started (state Running)") },
	    { PRE, HTTP_PUT, "/logger", "{\"log_path\":\"fc.log\",\"level\":\"debug\",\"show_level\":true,\"show_log_origin\":false}", 204, NULL },
	    { PRE, HTTP_PUT, "/logger", "{\"level\":\"Loud\"}", 400,
	      F("logger: level 'Loud' is not Error, Warning, Info, Debug, Trace or Off") },
	    { PRE, HTTP_PUT, "/logger", "{\"file\":\"x\"}", 400, F("logger: unknown field 'file'") },
	    { RUNNING, HTTP_PUT, "/logger", "{}", 400, F("logger: not allowed after the VM has started (state Running)") },
	    { PRE, HTTP_PUT, "/metrics", "{\"metrics_path\":\"m.json\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/metrics", "{}", 400, F("metrics: missing field 'metrics_path'") },
	    { PRE, HTTP_PUT, "/metrics", "{\"metrics_path\":\"m\",\"x\":1}", 400, F("metrics: unknown field 'x'") },
	    { RUNNING, HTTP_PUT, "/metrics", "{\"metrics_path\":\"m.json\"}", 400,
	      F("metrics: not allowed after the VM has started (state Running)") },
	    { PRE, HTTP_PUT, "/balloon", "{\"amount_mib\":1,\"deflate_on_oom\":true}", 400, F("/balloon: ember has no balloon device") },
	    { PRE, HTTP_GET, "/mmds", NULL, 400, F("/mmds: ember has no microVM metadata service (MMDS)") },
	    { PRE, HTTP_PUT, "/mmds/config", "{}", 400, F("/mmds: ember has no microVM metadata service (MMDS)") },
	    { PRE, HTTP_PUT, "/cpu-config", "{}", 400, F("/cpu-config: ember has no custom CPU templates") },
	    { PRE, HTTP_PUT, "/pmem/p", "{}", 400, F("/pmem: ember has no virtio-pmem device") },
	    { PRE, HTTP_PATCH, "/hotplug/memory", "{}", 400, F("/hotplug: ember has no memory hotplug") });
	cr_assert(f.cfg.rng);
	cr_assert_eq(f.cfg.rng_rl.bw.size, 1024, "the last PUT /entropy");
	cr_assert_eq(f.cfg.vsock.cid, 3);
	cr_assert_str_eq(f.cfg.vsock.uds, "v.sock");
	cr_assert_eq(f.cfg.rng_rl.bw.refill_ms, 100);
	cr_assert_eq(f.cfg.console, CONSOLE_FILE);
	cr_assert_str_eq(f.cfg.console_path, "console.log");
	cr_assert_str_eq(f.cfg.logger.path, "fc.log");
	cr_assert_eq(f.cfg.logger.level, LOG_DEBUG);
	cr_assert_str_eq(f.cfg.metrics_path, "m.json");
}

Test(api_router, actions_and_vm_state)
{
	RUN({ PRE, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}", 400,
	      F("actions: InstanceStart: no kernel (PUT /boot-source first)") },
	    { PRE, HTTP_PUT, "/actions", "{\"action_type\":\"Reboot\"}", 400,
	      F("actions: action_type 'Reboot' is not InstanceStart, SendCtrlAltDel or FlushMetrics") },
	    { PRE, HTTP_PUT, "/actions", "{\"action_type\":\"FlushMetrics\",\"now\":true}", 400, F("actions: unknown field 'now'") },
	    { PRE, HTTP_PUT, "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 400,
	      F("actions: SendCtrlAltDel: not allowed before the VM has started (state Not started)") },
	    { PRE, HTTP_PUT, "/actions", "{\"action_type\":\"FlushMetrics\"}", 400,
	      F("actions: FlushMetrics: not allowed before the VM has started (state Not started)") },
	    { PRE, HTTP_PATCH, "/vm", "{\"state\":\"Paused\"}", 400, F("vm: not allowed before the VM has started (state Not started)") },
	    { PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"k\"}", 204, NULL });
	RUN({ PRE, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}", 204, NULL });
	cr_assert_eq(f.starts, 1);
	cr_assert_eq(f.state, API_RUNNING);
	RUN({ RUNNING, HTTP_PUT, "/actions", "{\"action_type\":\"InstanceStart\"}", 400,
	      F("actions: InstanceStart: not allowed after the VM has started (state Running)") },
	    { RUNNING, HTTP_PUT, "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", 204, NULL },
	    { RUNNING, HTTP_PUT, "/actions", "{\"action_type\":\"FlushMetrics\"}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/vm", "{\"state\":\"Paused\"}", 204, NULL },
	    { PAUSED, HTTP_PATCH, "/vm", "{\"state\":\"Resumed\"}", 204, NULL },
	    { RUNNING, HTTP_PATCH, "/vm", "{\"state\":\"Stopped\"}", 400, F("vm: state 'Stopped' is not Paused or Resumed") },
	    { RUNNING, HTTP_PATCH, "/vm", "{\"state\":\"Paused\",\"x\":1}", 400, F("vm: unknown field 'x'") },
	    { RUNNING, HTTP_PATCH, "/vm", "{\"state\":true}", 400, F("vm: field 'state' must be a string") },
	    { RUNNING, HTTP_PUT, "/vm", "{\"state\":\"Paused\"}", 400, F("invalid request method and/or path: PUT /vm") });
	cr_assert_eq(f.cads, 1);
	cr_assert_eq(f.flushes, 1);
	cr_assert_eq(f.pauses, 1);
	cr_assert_eq(f.resumes, 1);
	f.fail = EIO;
	RUN({ RUNNING, HTTP_PATCH, "/vm", "{\"state\":\"Paused\"}", 400, F("pause failed: Input/output error") });
}

Test(api_router, snapshot_create)
{
	RUN({ PAUSED, HTTP_PUT, "/snapshot/create", "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}", 204, NULL },
	    { RUNNING, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}", 400,
	      F("snapshot-create: the VM must be paused first (state Running)") },
	    { PRE, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}", 400,
	      F("snapshot-create: not allowed before the VM has started (state Not started)") },
	    { PAUSED, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\":\"s\"}", 400,
	      F("snapshot-create: missing field 'mem_file_path'") },
	    { PAUSED, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"snapshot_type\":\"Half\"}", 400,
	      F("snapshot-create: snapshot_type 'Half' is not Full or Diff") },
	    { PAUSED, HTTP_PUT, "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"compress\":true}", 400,
	      F("snapshot-create: unknown field 'compress'") },
	    { PAUSED, HTTP_PUT, "/snapshot/delete", "{}", 400, F("invalid request method and/or path: PUT /snapshot/delete") });
	cr_assert_eq(f.creates, 1);
	cr_assert(f.create.diff);
	cr_assert_str_eq(f.create_snap, "s");
	cr_assert_str_eq(f.create_mem, "m");
}

Test(api_router, snapshot_load)
{
	RUN({ PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\"}", 400, F("snapshot-load: missing field 'mem_backend'") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"mem_backend\":{\"backend_path\":\"m\",\"backend_type\":\"File\"}}", 400,
	      F("snapshot-load: give mem_backend or mem_file_path, not both") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_path\":\"u\",\"backend_type\":\"Uffd\"}}", 400,
	      F("snapshot-load: mem_backend: ember has no Uffd memory backend (use File)") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":{\"uds_path\":\"\"}}", 400,
	      F("snapshot-load: vsock_override: uds_path is empty") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_id\":\"eth0\"}]}", 400,
	      F("snapshot-load: network_overrides[0]: missing field 'host_dev_name'") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"resume\":true}", 400,
	      F("snapshot-load: unknown field 'resume'") },
	    { RUNNING, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}", 400,
	      F("snapshot-load: not allowed after the VM has started (state Running)") },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_path\":\"m\",\"backend_type\":\"File\"},\"track_dirty_pages\":true,\"resume_vm\":true,\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap7\"}]}", 204, NULL });
	cr_assert_eq(f.loads, 1);
	cr_assert_str_eq(f.load_snap, "s");
	cr_assert_str_eq(f.load_mem, "m");
	cr_assert(f.load.track_dirty && f.load.resume);
	cr_assert_eq(f.load.nnets, 1);
	cr_assert_eq(f.state, API_RUNNING);
}

Test(api_router, no_load_after_boot_resources)
{
	RUN({ PRE, HTTP_PUT, "/logger", "{\"level\":\"Info\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/metrics", "{\"metrics_path\":\"m\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}", 204, NULL },
	    { PRE, HTTP_PUT, "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}", 400,
	      F("snapshot-load: not allowed after boot resources were configured (a VM is built from a snapshot or from a configuration, not both)") });
	cr_assert_eq(f.loads, 0);
}

Test(api_router, vm_config)
{
	RUN({ PRE, HTTP_PUT, "/boot-source", "{\"kernel_image_path\":\"k\",\"boot_args\":\"a\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/drives/root", "{\"drive_id\":\"root\",\"path_on_host\":\"r.img\",\"is_root_device\":true}", 204, NULL },
	    { PRE, HTTP_PUT, "/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}", 204, NULL },
	    { PRE, HTTP_PUT, "/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"tx_rate_limiter\":{\"ops\":{\"size\":10,\"refill_time\":500}}}", 204, NULL },
	    { RUNNING, HTTP_GET, "/vm/config", NULL, 200,
	      "{\"boot-source\":{\"kernel_image_path\":\"k\",\"boot_args\":\"a\",\"initrd_path\":null},"
	      "\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,\"huge_pages\":\"None\"},"
	      "\"drives\":[{\"drive_id\":\"root\",\"path_on_host\":\"r.img\",\"is_root_device\":true,\"partuuid\":null,\"is_read_only\":false,\"cache_type\":\"Unsafe\",\"io_engine\":\"Sync\"}],"
	      "\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":null},"
	      "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\",\"guest_mac\":null,"
	      "\"tx_rate_limiter\":{\"ops\":{\"size\":10,\"one_time_burst\":0,\"refill_time\":500}}}]}" });
}

/* Found by fuzz_api: a message quoting the client's bytes cut inside a
 * UTF-8 character (an unknown field of 70 two-byte characters, cut at 64
 * bytes) made the fault JSON fail, and the answer an out-of-memory. */
Test(api_router, fault_message_stays_utf8)
{
	char body[256] = "{\"a";
	struct http_request req = { .method = HTTP_PUT, .path = "/entropy" };
	struct api_response resp;

	for (int i = 0; i < 70; i++)
		strcat(body, "\xc3\xa9");
	strcat(body, "\":1}");
	req.body = body;
	req.body_len = strlen(body);
	cr_assert_eq(api_handle(&a, &req, &resp), 0);
	cr_assert_eq(resp.status, 400);
	cr_assert(strstr(resp.body, "entropy: unknown field '"), "%s", resp.body);
	cr_assert(strstr(resp.body, "\xc3\xa9?'\"}"), "the cut character is a '?': %s", resp.body);
	free(resp.body);
	cr_assert_eq(api_fault(&resp, 400, "bad \xff\xfe byte \xed\xa0\x80"), 0);
	cr_assert_str_eq(resp.body, "{\"fault_message\":\"bad ?? byte ???\"}");
	free(resp.body);
}
