/* Unit tests of the metrics (monitor/metrics.c): the JSON line's shape
 * (one object per line, utc_timestamp_ms first, Firecracker's section and
 * counter names), counters as deltas since the previous line, a device's
 * own counters read through the sampler, the API's counters, and the file
 * (appended lines, errors that name the path). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/metrics.h"
#include "test_virtio.h"

/* The line parsed; asserts it is one JSON object ending in one newline. */
static json_t *parse_line(const char *line)
{
	json_error_t e;
	size_t n = strlen(line);
	json_t *j;

	cr_assert(n > 2 && line[n - 1] == '\n', "a line: %s", line);
	cr_assert_eq(strchr(line, '\n'), line + n - 1, "one newline, at the end");
	j = json_loads(line, 0, &e);
	cr_assert_not_null(j, "JSON: %s (%s)", e.text, line);
	cr_assert(json_is_object(j));
	return j;
}

/* metrics_line(cur, prev) parsed (the string freed). */
static json_t *next_line(const struct metrics_sample *cur, struct metrics_sample *prev,
			 uint64_t utc_ms)
{
	char *line = metrics_line(cur, prev, utc_ms);
	json_t *j;

	cr_assert_not_null(line);
	j = parse_line(line);
	free(line);
	return j;
}

static long long num(json_t *root, const char *section, const char *key)
{
	json_t *s = json_object_get(root, section), *v = s ? json_object_get(s, key) : NULL;

	cr_assert(json_is_integer(v), "%s.%s is an integer", section, key);
	return json_integer_value(v);
}

static struct metrics_dev *add_dev(struct metrics_sample *s, uint32_t kind, const char *id)
{
	struct metrics_dev *d = &s->devs[s->ndevs++];

	d->kind = kind;
	snprintf(d->id, sizeof(d->id), "%s", id);
	return d;
}

Test(metrics, line_shape_and_deltas)
{
	struct metrics_sample *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	struct metrics_dev *root_d, *data_d, *eth;
	char *line;
	json_t *j;

	prev->api_latency_min_ns = cur->api_latency_min_ns = UINT64_MAX;
	cur->exits[KVM_EXIT_IO] = 10;
	cur->exits[KVM_EXIT_MMIO] = 5;
	cur->exits[40] = 2;		/* a reason with no field of its own */
	cur->pio_misses = 3;
	root_d = add_dev(cur, VIRTIO_ID_BLOCK, "rootfs");
	data_d = add_dev(cur, VIRTIO_ID_BLOCK, "data");
	eth = add_dev(cur, VIRTIO_ID_NET, "eth0");
	root_d->v[VSTAT_RX_OPS] = 4;
	root_d->v[VSTAT_RX_BYTES] = 4096;
	root_d->v[VSTAT_RX_FAILS] = 1;
	root_d->v[VSTAT_TX_FAILS] = 2;
	root_d->v[MD_THROTTLED0] = 7;
	data_d->v[VSTAT_RX_BYTES] = 512;
	data_d->v[VSTAT_TX_BYTES] = 1024;
	data_d->v[VSTAT_FLUSHES] = 3;
	eth->v[VSTAT_RX_OPS] = 2;
	eth->v[VSTAT_TX_BYTES] = 1500;
	eth->v[MD_THROTTLED1] = 9;
	cur->kvm_have = 1u << 0 | 1u << 3;	/* KVM has "exits" and "halt_exits" only */
	cur->kvm[0] = 100;
	cur->kvm[3] = 40;

	line = metrics_line(cur, prev, 1700000000123ull);
	cr_assert_not_null(line);
	cr_assert_eq(strncmp(line, "{\"utc_timestamp_ms\":1700000000123,", 34), 0,
		     "the timestamp comes first: %s", line);
	j = parse_line(line);
	cr_assert_eq(num(j, "vcpu", "exits"), 17);
	cr_assert_eq(num(j, "vcpu", "exit_io"), 10);
	cr_assert_eq(num(j, "vcpu", "exit_mmio"), 5);
	cr_assert_eq(num(j, "vcpu", "exit_other"), 2);
	cr_assert_eq(num(j, "bus", "pio_misses"), 3);
	{
		json_t *kvm = json_object_get(json_object_get(j, "vcpu"), "kvm");

		cr_assert_eq(json_integer_value(json_object_get(kvm, "exits")), 100);
		cr_assert_eq(json_integer_value(json_object_get(kvm, "halt_exits")), 40);
		cr_assert_eq(json_object_size(kvm), 2, "only the counters KVM has");
	}
	cr_assert_eq(num(j, "block", "read_bytes"), 4608, "the sum of the drives");
	cr_assert_eq(num(j, "block", "write_bytes"), 1024);
	cr_assert_eq(num(j, "block_rootfs", "read_count"), 4);
	cr_assert_eq(num(j, "block_rootfs", "execute_fails"), 3, "read and write failures");
	cr_assert_eq(num(j, "block_rootfs", "rate_limiter_throttled_events"), 7);
	cr_assert_eq(num(j, "block_data", "flush_count"), 3);
	cr_assert_eq(num(j, "net_eth0", "rx_packets_count"), 2);
	cr_assert_eq(num(j, "net_eth0", "tx_bytes_count"), 1500);
	cr_assert_eq(num(j, "net", "tx_rate_limiter_throttled"), 9);
	cr_assert_eq(num(j, "entropy", "entropy_bytes"), 0, "sections without a device");
	cr_assert_eq(num(j, "vsock", "rx_bytes_count"), 0);
	cr_assert_eq(num(j, "api_server", "requests"), 0);
	cr_assert_eq(num(j, "api_server", "latency_min_us"), 0, "no request: 0");
	cr_assert_null(json_object_get(j, "entropy_rng"), "one rng: no per-device section");
	json_decref(j);
	free(line);
	cr_assert_eq(memcmp(prev, cur, sizeof(*cur)), 0, "prev is now cur");

	/* the next line has what happened since */
	root_d->v[VSTAT_RX_BYTES] += 100;
	cur->kvm[0] += 7;
	root_d->v[VSTAT_RX_OPS] += 1;
	cur->exits[KVM_EXIT_IO] += 1;
	j = next_line(cur, prev, 1700000060123ull);
	cr_assert_eq(num(j, "block_rootfs", "read_bytes"), 100);
	cr_assert_eq(num(j, "block_rootfs", "read_count"), 1);
	cr_assert_eq(num(j, "block_data", "write_bytes"), 0);
	cr_assert_eq(num(j, "block", "read_bytes"), 100);
	cr_assert_eq(num(j, "block_rootfs", "rate_limiter_throttled_events"), 0);
	cr_assert_eq(num(j, "vcpu", "exits"), 1);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(json_object_get(j, "vcpu"),
								   "kvm"), "exits")), 7);
	cr_assert_eq(num(j, "bus", "pio_misses"), 0);
	json_decref(j);

	/* a device the previous line did not have counts from 0 */
	add_dev(cur, VIRTIO_ID_BLOCK, "late")->v[VSTAT_TX_OPS] = 6;
	j = next_line(cur, prev, 1);
	cr_assert_eq(num(j, "block_late", "write_count"), 6);
	cr_assert_eq(num(j, "block", "write_count"), 6);
	json_decref(j);
	free(cur);
	free(prev);
}

Test(metrics, api_requests_and_latency, .init = vt_setup_vm, .fini = vt_teardown)
{
	struct metrics_sample *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	json_t *j;

	metrics_sample(&vt_vm, prev);	/* whatever came before */
	metrics_api_request(204, 2000000);
	metrics_api_request(400, 1000000);
	metrics_api_request(500, 5000000);
	metrics_api_request(101, 3000000);
	metrics_sample(&vt_vm, cur);
	j = next_line(cur, prev, 0);
	cr_assert_eq(num(j, "api_server", "requests"), 4);
	cr_assert_eq(num(j, "api_server", "status_2xx"), 1);
	cr_assert_eq(num(j, "api_server", "status_4xx"), 1);
	cr_assert_eq(num(j, "api_server", "status_5xx"), 1);
	cr_assert_eq(num(j, "api_server", "status_other"), 1);
	cr_assert_eq(num(j, "api_server", "latency_min_us"), 1000);
	cr_assert_eq(num(j, "api_server", "latency_max_us"), 5000);
	cr_assert_eq(num(j, "api_server", "latency_sum_us"), 11000);
	json_decref(j);
	/* the minimum and maximum are the period's */
	metrics_api_request(200, 4000000);
	metrics_sample(&vt_vm, cur);
	j = next_line(cur, prev, 0);
	cr_assert_eq(num(j, "api_server", "requests"), 1);
	cr_assert_eq(num(j, "api_server", "latency_min_us"), 4000);
	cr_assert_eq(num(j, "api_server", "latency_max_us"), 4000);
	json_decref(j);
	free(cur);
	free(prev);
}

Test(metrics, device_counters_through_the_sampler, .init = vt_setup_rng, .fini = vt_teardown)
{
	struct metrics_sample *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	json_t *j;

	vt_driver_init(vt_features(0), 16);
	vt_post_write(0, 0, VT_BUF, 64);
	virtio_dev_kick(vt_vd, 0);
	vt_post_write(0, 1, VT_BUF + 64, 32);
	virtio_dev_kick(vt_vd, 0);
	cr_assert_eq(vt_used_idx(0), 2);
	metrics_sample(&vt_vm, cur);
	cr_assert_eq(cur->ndevs, 1);
	cr_assert_eq(cur->devs[0].kind, VIRTIO_ID_RNG);
	cr_assert_eq(cur->devs[0].v[VSTAT_RX_OPS], 2);
	cr_assert_eq(cur->devs[0].v[VSTAT_RX_BYTES], 96);
	cr_assert_eq(cur->devs[0].v[MD_KICK0], 2);
	j = next_line(cur, prev, 0);
	cr_assert_eq(num(j, "entropy", "entropy_bytes"), 96);
	cr_assert_eq(num(j, "entropy", "entropy_requests"), 2);
	cr_assert_eq(num(j, "entropy", "entropy_event_count"), 2);
	cr_assert_eq(num(j, "entropy", "protocol_errors"), 0);
	json_decref(j);
	free(cur);
	free(prev);
}

static char tmpdir[64];

static void file_setup(void)
{
	vt_setup_vm();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-metrics-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	unsetenv("EMBER_METRICS_PERIOD_MS");
}

static void file_teardown(void)
{
	char cmd[128];

	metrics_free(&vt_vm);
	vt_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

Test(metrics, flush_appends_lines, .init = file_setup, .fini = file_teardown)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	char path[128], buf[16384];
	ssize_t n;
	int fd;

	vm_config_init(&cfg);
	snprintf(path, sizeof(path), "%s/m.json", tmpdir);
	cr_assert_eq(vm_config_set_metrics(&cfg, path, "--metrics-path", &err), 0);
	vt_vm.cfg = &cfg;
	cr_assert_eq(metrics_flush(&vt_vm, &err), -ENOENT, "nothing opened yet");
	cr_assert_str_eq(err.msg, "metrics: no metrics path was given");
	cr_assert_eq(metrics_open(&vt_vm, &err), 0, "%s", err.msg);
	cr_assert_eq(metrics_flush(&vt_vm, &err), 0, "%s", err.msg);
	metrics_api_request(204, 1000);
	cr_assert_eq(metrics_flush(&vt_vm, &err), 0, "%s", err.msg);
	metrics_stop(&vt_vm);
	metrics_stop(&vt_vm);	/* the last line once */
	fd = open(path, O_RDONLY);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = 0;
	{
		char *l1 = buf, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
		char *end = strchr(l3, '\n') + 1;
		json_t *j;

		cr_assert_eq(*end, 0, "three lines");
		l3[-1] = l2[-1] = 0;
		cr_assert_eq(strncmp(l1, "{\"utc_timestamp_ms\":", 20), 0);
		j = json_loads(l2, 0, NULL);
		cr_assert_not_null(j);
		cr_assert_eq(num(j, "api_server", "requests"), 1);
		cr_assert_gt(json_integer_value(json_object_get(j, "utc_timestamp_ms")),
			     1500000000000LL, "milliseconds of the wall clock");
		json_decref(j);
		j = json_loads(l3, 0, NULL);
		cr_assert_eq(num(j, "api_server", "requests"), 0, "a delta");
		json_decref(j);
	}
	vt_vm.cfg = NULL;
	config_free(&cfg);
}

Test(metrics, open_errors_name_the_cause, .init = file_setup, .fini = file_teardown)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	char path[128], want[256];

	vm_config_init(&cfg);
	vt_vm.cfg = &cfg;
	cr_assert_eq(metrics_open(&vt_vm, &err), 0, "no path: nothing to do");
	cr_assert_null(vt_vm.metrics);
	snprintf(path, sizeof(path), "%s/no/such/dir", tmpdir);
	cr_assert_eq(vm_config_set_metrics(&cfg, path, "--metrics-path", &err), 0);
	cr_assert_eq(metrics_open(&vt_vm, &err), -ENOENT);
	snprintf(want, sizeof(want), "metrics path '%s': No such file or directory", path);
	cr_assert_str_eq(err.msg, want);
	snprintf(path, sizeof(path), "%s/m", tmpdir);
	cr_assert_eq(vm_config_set_metrics(&cfg, path, "--metrics-path", &err), 0);
	setenv("EMBER_METRICS_PERIOD_MS", "0", 1);
	cr_assert_eq(metrics_open(&vt_vm, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "EMBER_METRICS_PERIOD_MS: '0' is not 1 to 3600000 (ms)");
	cr_assert_null(vt_vm.metrics);
	setenv("EMBER_METRICS_PERIOD_MS", "250", 1);
	cr_assert_eq(metrics_open(&vt_vm, &err), 0, "%s", err.msg);
	cr_assert_not_null(vt_vm.metrics);
	unsetenv("EMBER_METRICS_PERIOD_MS");
	vt_vm.cfg = NULL;
	config_free(&cfg);
}
