/* monitor/metrics.c - Firecracker-style metrics (monitor/metrics.h): the
 * counters are the devices' own (struct virtio_stats, under each device's
 * lock), the vCPUs' exits by reason, the buses' misses and the API's
 * answers (atomics here); a line is their difference from the previous
 * line's, as a JSON object (jansson), written with write(2) on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/kvm.h>
#include <linux/virtio_ids.h>

#include "monitor/metrics.h"
#include "virtio/virtio.h"

_Static_assert((int)MD_KICK0 == (int)VSTAT__N && MD_KICK2 - MD_KICK0 + 1 == VIRTIO_MAX_QUEUES,
	       "a device's counters: VSTAT_* then one kick counter per queue");

#define METRICS_PERIOD_MS 60000		/* Firecracker's */
#define METRICS_PERIOD_ENV "EMBER_METRICS_PERIOD_MS"

struct metrics {
	struct vm *vm;
	int fd;
	uint64_t period_ns;
	struct metrics_sample prev;
	struct loop_op timer_op;
	struct __kernel_timespec ts;
	bool stopped;
	bool warned;		/* a periodic line failed (logged once) */
	/* KVM's counters: a stats fd per vCPU (-1: none), opened before the
	 * sandbox; where each counter is in the data block (its layout is
	 * KVM's, the same for every vCPU), read with one pread(2) a vCPU */
	int kvm_fd[MAX_CPUS];
	uint32_t kvm_off[METRICS_KVM];
	uint32_t kvm_have;
	uint64_t kvm_data_off;
	size_t kvm_data_len;
};

static const char *const kvm_names[METRICS_KVM] = { METRICS_KVM_NAMES };

/* ---- the API's counters: process-wide ---------------------------------- */
static _Atomic uint64_t api_requests, api_status[4], api_lat_sum;
static _Atomic uint64_t api_lat_min = UINT64_MAX, api_lat_max;

void metrics_api_request(unsigned status, uint64_t latency_ns)
{
	unsigned k = status >= 200 && status < 300 ? 0 : status >= 400 && status < 500 ? 1 :
		     status >= 500 && status < 600 ? 2 : 3;
	uint64_t m;

	atomic_fetch_add_explicit(&api_requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&api_status[k], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&api_lat_sum, latency_ns, memory_order_relaxed);
	m = atomic_load_explicit(&api_lat_min, memory_order_relaxed);
	while (latency_ns < m && !atomic_compare_exchange_weak_explicit(
			&api_lat_min, &m, latency_ns, memory_order_relaxed, memory_order_relaxed))
		;
	m = atomic_load_explicit(&api_lat_max, memory_order_relaxed);
	while (latency_ns > m && !atomic_compare_exchange_weak_explicit(
			&api_lat_max, &m, latency_ns, memory_order_relaxed, memory_order_relaxed))
		;
}

/* ---- sampling ----------------------------------------------------------- */
/* The id metrics give the k-th device of its kind: the configuration's
 * (devices are made in its order), else the device's name. */
static void dev_id(struct vm *vm, const struct virtio_dev *vd, unsigned k, char *buf,
		   size_t len)
{
	const struct vm_config *cfg = vm->cfg;
	uint32_t kind = vd->ops->device_id;

	if (cfg && kind == VIRTIO_ID_BLOCK && k < cfg->ndrives && cfg->drives[k].id)
		snprintf(buf, len, "%s", cfg->drives[k].id);
	else if (kind == VIRTIO_ID_NET && cfg && k < cfg->nnets && cfg->nets[k].id)
		snprintf(buf, len, "%s", cfg->nets[k].id);
	else if (kind == VIRTIO_ID_NET)
		snprintf(buf, len, "eth%u", k);
	else
		snprintf(buf, len, "%s", vd->name);
}

static void sample_dev(struct vm *vm, struct virtio_dev *vd, unsigned k, struct metrics_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->kind = vd->ops->device_id;
	dev_id(vm, vd, k, d->id, sizeof(d->id));
	pthread_mutex_lock(&vd->lock);
	memcpy(d->v, vd->stats.c, sizeof(vd->stats.c));
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->v[MD_KICK0 + q] = vd->stats.kicks[q];
	for (unsigned i = 0; i < 2; i++)
		if (vd->stats.rl[i])
			d->v[MD_THROTTLED0 + i] = vd->stats.rl[i]->throttled;
	d->v[MD_PROTOCOL] = vd->failures;
	pthread_mutex_unlock(&vd->lock);
}

/* Adds the vCPUs' KVM counters into s.  Loop thread (pread64 is allowed
 * there for this: SC_F_METRICS). */
static void sample_kvm(const struct metrics *m, unsigned ncpus, struct metrics_sample *s)
{
	uint8_t buf[4096];

	if (!m->kvm_have || m->kvm_data_len > sizeof(buf))
		return;
	for (unsigned i = 0; i < ncpus && i < MAX_CPUS; i++) {
		if (m->kvm_fd[i] < 0 ||
		    pread(m->kvm_fd[i], buf, m->kvm_data_len, (off_t)m->kvm_data_off) !=
		    (ssize_t)m->kvm_data_len)
			continue;
		for (unsigned k = 0; k < METRICS_KVM; k++) {
			uint64_t v;

			if (!(m->kvm_have & (1u << k)))
				continue;
			memcpy(&v, buf + m->kvm_off[k], 8);
			s->kvm[k] += v;
		}
	}
	s->kvm_have = m->kvm_have;
}

void metrics_sample(struct vm *vm, struct metrics_sample *s)
{
	unsigned nkind[4] = { 0 };

	memset(s, 0, sizeof(*s));
	if (vm->metrics)
		sample_kvm(vm->metrics, vm->ncpus, s);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		const struct vcpu *v = vm->vcpus[i];

		for (unsigned r = 0; v && r < VCPU_STATS_REASONS; r++)
			s->exits[r] += __atomic_load_n(&v->stats.reason[r], __ATOMIC_RELAXED);
	}
	s->pio_misses = atomic_load(&vm->pio.misses);
	s->mmio_misses = atomic_load(&vm->mmio.misses);
	for (unsigned i = 0; i < vm->ndevices && s->ndevs < METRICS_DEVS; i++) {
		struct virtio_dev *vd = virtio_dev_of(vm->devices[i]);
		unsigned kind;

		if (!vd)
			continue;
		switch (vd->ops->device_id) {
		case VIRTIO_ID_BLOCK: kind = 0; break;
		case VIRTIO_ID_NET: kind = 1; break;
		case VIRTIO_ID_RNG: kind = 2; break;
		case VIRTIO_ID_VSOCK: kind = 3; break;
		default: continue;
		}
		sample_dev(vm, vd, nkind[kind]++, &s->devs[s->ndevs++]);
	}
	s->api_requests = atomic_load_explicit(&api_requests, memory_order_relaxed);
	for (unsigned k = 0; k < 4; k++)
		s->api_status[k] = atomic_load_explicit(&api_status[k], memory_order_relaxed);
	s->api_latency_sum_ns = atomic_load_explicit(&api_lat_sum, memory_order_relaxed);
	s->api_latency_min_ns = atomic_exchange(&api_lat_min, UINT64_MAX);
	s->api_latency_max_ns = atomic_exchange(&api_lat_max, 0);
}

/* ---- the line ------------------------------------------------------------ */
/* A counter of a device section: device counter a (+ b when b >= 0). */
struct dfield {
	const char *name;
	int a, b;
};
static const struct dfield blk_fields[] = {
	{ "queue_event_count", MD_KICK0, -1 },
	{ "read_count", VSTAT_RX_OPS, -1 }, { "read_bytes", VSTAT_RX_BYTES, -1 },
	{ "write_count", VSTAT_TX_OPS, -1 }, { "write_bytes", VSTAT_TX_BYTES, -1 },
	{ "flush_count", VSTAT_FLUSHES, -1 },
	{ "execute_fails", VSTAT_RX_FAILS, VSTAT_TX_FAILS },
	{ "invalid_reqs_count", VSTAT_INVALID, -1 },
	{ "rate_limiter_throttled_events", MD_THROTTLED0, -1 },
	{ "protocol_errors", MD_PROTOCOL, -1 }, { NULL, 0, 0 },
};
static const struct dfield net_fields[] = {
	{ "rx_queue_event_count", MD_KICK0, -1 }, { "tx_queue_event_count", MD_KICK1, -1 },
	{ "rx_packets_count", VSTAT_RX_OPS, -1 }, { "rx_bytes_count", VSTAT_RX_BYTES, -1 },
	{ "tx_packets_count", VSTAT_TX_OPS, -1 }, { "tx_bytes_count", VSTAT_TX_BYTES, -1 },
	{ "rx_fails", VSTAT_RX_FAILS, -1 }, { "tx_fails", VSTAT_TX_FAILS, -1 },
	{ "rx_rate_limiter_throttled", MD_THROTTLED0, -1 },
	{ "tx_rate_limiter_throttled", MD_THROTTLED1, -1 },
	{ "protocol_errors", MD_PROTOCOL, -1 }, { NULL, 0, 0 },
};
static const struct dfield rng_fields[] = {
	{ "entropy_event_count", MD_KICK0, -1 }, { "entropy_requests", VSTAT_RX_OPS, -1 },
	{ "entropy_bytes", VSTAT_RX_BYTES, -1 }, { "host_rng_fails", VSTAT_RX_FAILS, -1 },
	{ "entropy_rate_limiter_throttled", MD_THROTTLED0, -1 },
	{ "protocol_errors", MD_PROTOCOL, -1 }, { NULL, 0, 0 },
};
static const struct dfield vsock_fields[] = {
	{ "rx_queue_event_count", MD_KICK0, -1 }, { "tx_queue_event_count", MD_KICK1, -1 },
	{ "ev_queue_event_count", MD_KICK2, -1 },
	{ "rx_packets_count", VSTAT_RX_OPS, -1 }, { "rx_bytes_count", VSTAT_RX_BYTES, -1 },
	{ "tx_packets_count", VSTAT_TX_OPS, -1 }, { "tx_bytes_count", VSTAT_TX_BYTES, -1 },
	{ "protocol_errors", MD_PROTOCOL, -1 }, { NULL, 0, 0 },
};
/* Sections by kind: the sum over the kind's devices, and (for drives and
 * interfaces) one per device, "<section>_<id>", as Firecracker has. */
static const struct {
	uint32_t kind;
	const char *section;
	const struct dfield *f;
	bool per_device;
} kinds[] = {
	{ VIRTIO_ID_BLOCK, "block", blk_fields, true },
	{ VIRTIO_ID_NET, "net", net_fields, true },
	{ VIRTIO_ID_RNG, "entropy", rng_fields, false },
	{ VIRTIO_ID_VSOCK, "vsock", vsock_fields, false },
};

/* Exits by kind: the KVM_EXIT_* reasons that reach ember. */
static const struct {
	const char *name;
	unsigned reason;
} exit_fields[] = {
	{ "exit_io", KVM_EXIT_IO }, { "exit_mmio", KVM_EXIT_MMIO },
	{ "exit_hlt", KVM_EXIT_HLT }, { "exit_shutdown", KVM_EXIT_SHUTDOWN },
	{ "exit_intr", KVM_EXIT_INTR }, { "exit_system_event", KVM_EXIT_SYSTEM_EVENT },
	{ "exit_ioapic_eoi", KVM_EXIT_IOAPIC_EOI },
	{ "exit_dirty_ring_full", KVM_EXIT_DIRTY_RING_FULL },
	{ "exit_fail_entry", KVM_EXIT_FAIL_ENTRY },
	{ "exit_internal_error", KVM_EXIT_INTERNAL_ERROR },
};

static uint64_t delta(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : cur;
}

static bool put(json_t *o, const char *k, uint64_t v)
{
	return !json_object_set_new(o, k, json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v)));
}

/* The device of prev that d continues, or NULL. */
static const struct metrics_dev *prev_dev(const struct metrics_sample *prev,
					  const struct metrics_dev *d)
{
	for (unsigned i = 0; i < prev->ndevs && i < METRICS_DEVS; i++)
		if (prev->devs[i].kind == d->kind && !strcmp(prev->devs[i].id, d->id))
			return &prev->devs[i];
	return NULL;
}

static json_t *dev_section(const struct dfield *f, const uint64_t *d)
{
	json_t *o = json_object();

	for (; o && f->name; f++)
		if (!put(o, f->name, d[f->a] + (f->b >= 0 ? d[f->b] : 0))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static bool add_devices(json_t *root, const struct metrics_sample *cur,
			const struct metrics_sample *prev)
{
	for (unsigned k = 0; k < ARRAY_SIZE(kinds); k++) {
		uint64_t sum[MD__N] = { 0 };
		json_t *per[METRICS_DEVS] = { NULL };
		char name[16 + CONFIG_ID_MAX];
		bool ok = true;

		for (unsigned i = 0; i < cur->ndevs; i++) {
			const struct metrics_dev *d = &cur->devs[i], *p;
			uint64_t dd[MD__N];

			if (d->kind != kinds[k].kind)
				continue;
			p = prev_dev(prev, d);
			for (unsigned c = 0; c < MD__N; c++) {
				dd[c] = delta(d->v[c], p ? p->v[c] : 0);
				sum[c] += dd[c];
			}
			if (kinds[k].per_device && !(per[i] = dev_section(kinds[k].f, dd)))
				ok = false;
		}
		ok = ok && !json_object_set_new(root, kinds[k].section,
						dev_section(kinds[k].f, sum));
		for (unsigned i = 0; i < cur->ndevs; i++) {
			if (!per[i])
				continue;
			snprintf(name, sizeof(name), "%s_%s", kinds[k].section, cur->devs[i].id);
			ok = ok && !json_object_set_new(root, name, per[i]);
			if (!ok)
				json_decref(per[i]);
			per[i] = NULL;
		}
		if (!ok)
			return false;
	}
	return true;
}

char *metrics_line(const struct metrics_sample *cur, struct metrics_sample *prev,
		   uint64_t utc_ms)
{
	json_t *root = json_object(), *api = json_object(), *vcpu = json_object(),
	       *bus = json_object();
	uint64_t all = 0, named = 0;
	bool ok = root && api && vcpu && bus;
	char *body = NULL, *line = NULL;
	bool none = cur->api_latency_min_ns == UINT64_MAX;

	ok = ok && put(root, "utc_timestamp_ms", utc_ms);
	ok = ok && put(api, "requests", delta(cur->api_requests, prev->api_requests));
	ok = ok && put(api, "status_2xx", delta(cur->api_status[0], prev->api_status[0]));
	ok = ok && put(api, "status_4xx", delta(cur->api_status[1], prev->api_status[1]));
	ok = ok && put(api, "status_5xx", delta(cur->api_status[2], prev->api_status[2]));
	ok = ok && put(api, "status_other", delta(cur->api_status[3], prev->api_status[3]));
	ok = ok && put(api, "latency_min_us", none ? 0 : cur->api_latency_min_ns / 1000);
	ok = ok && put(api, "latency_max_us", cur->api_latency_max_ns / 1000);
	ok = ok && put(api, "latency_sum_us",
		       delta(cur->api_latency_sum_ns, prev->api_latency_sum_ns) / 1000);
	for (unsigned r = 0; r < VCPU_STATS_REASONS; r++)
		all += delta(cur->exits[r], prev->exits[r]);
	ok = ok && put(vcpu, "exits", all);
	for (unsigned i = 0; ok && i < ARRAY_SIZE(exit_fields); i++) {
		uint64_t n = delta(cur->exits[exit_fields[i].reason], prev->exits[exit_fields[i].reason]);

		named += n;
		ok = put(vcpu, exit_fields[i].name, n);
	}
	ok = ok && put(vcpu, "exit_other", all - named);
	if (ok && cur->kvm_have) {
		json_t *kvm = json_object();

		for (unsigned k = 0; kvm && k < METRICS_KVM; k++)
			if (cur->kvm_have & (1u << k) &&
			    !put(kvm, kvm_names[k], delta(cur->kvm[k], prev->kvm[k])))
				break;
		ok = kvm && !json_object_set_new(vcpu, "kvm", kvm);
	}
	ok = ok && put(bus, "pio_misses", delta(cur->pio_misses, prev->pio_misses));
	ok = ok && put(bus, "mmio_misses", delta(cur->mmio_misses, prev->mmio_misses));
	ok = ok && !json_object_set(root, "api_server", api);
	ok = ok && !json_object_set(root, "vcpu", vcpu);
	ok = ok && !json_object_set(root, "bus", bus);
	ok = ok && add_devices(root, cur, prev);
	if (ok)
		body = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (body && (line = malloc(strlen(body) + 2)))
		sprintf(line, "%s\n", body);
	free(body);
	json_decref(api);
	json_decref(vcpu);
	json_decref(bus);
	json_decref(root);
	if (line)
		*prev = *cur;
	return line;
}

/* ---- the file and the timer ---------------------------------------------- */
/* Finds where KVM keeps kvm_names[] in fd's data block (before the
 * sandbox: any read is allowed).  False when KVM has none of them. */
static bool kvm_layout(struct metrics *m, int fd)
{
	struct kvm_stats_header h;
	uint64_t end = 0;
	size_t dsz, len;
	uint8_t *buf;

	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || !h.name_size ||
	    h.name_size > 256 || h.num_desc > 4096)
		return false;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	len = h.num_desc * dsz;
	buf = malloc(len);
	if (!buf || pread(fd, buf, len, h.desc_offset) != (ssize_t)len) {
		free(buf);
		return false;
	}
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc d;
		const char *name = (const char *)buf + i * dsz + sizeof(d);

		memcpy(&d, buf + i * dsz, sizeof(d));
		if (d.size != 1 || (uint64_t)d.offset + 8 > 4096)
			continue;
		for (unsigned k = 0; k < METRICS_KVM; k++) {
			if (strncmp(name, kvm_names[k], h.name_size) != 0)
				continue;
			m->kvm_off[k] = d.offset;
			m->kvm_have |= 1u << k;
			if (d.offset + 8 > end)
				end = d.offset + 8;
		}
	}
	free(buf);
	m->kvm_data_off = h.data_offset;
	m->kvm_data_len = (size_t)end;
	return m->kvm_have != 0;
}

/* Opens a stats fd per vCPU (KVM_GET_STATS_FD; none on an older KVM). */
static void kvm_open(struct metrics *m, struct vm *vm)
{
	for (unsigned i = 0; i < MAX_CPUS; i++)
		m->kvm_fd[i] = -1;
	for (unsigned i = 0; i < vm->ncpus && i < MAX_CPUS; i++) {
		if (!vm->vcpus[i] || vm->vcpus[i]->fd < 0)
			continue;
		m->kvm_fd[i] = ioctl(vm->vcpus[i]->fd, KVM_GET_STATS_FD, NULL);
		if (m->kvm_fd[i] >= 0 && i == 0 && !kvm_layout(m, m->kvm_fd[i]))
			break;
	}
}

int metrics_open(struct vm *vm, struct errbuf *err)
{
	const char *path = vm->cfg ? vm->cfg->metrics_path : NULL;
	const char *env = getenv(METRICS_PERIOD_ENV);
	uint64_t ms = METRICS_PERIOD_MS;
	struct metrics *m;

	if (!path)
		return 0;
	if (env) {
		char *end;

		errno = 0;
		ms = strtoull(env, &end, 10);
		if (errno || !*env || *end || ms < 1 || ms > 3600000)
			return err_set(err, EINVAL, "%s: '%s' is not 1 to 3600000 (ms)",
				       METRICS_PERIOD_ENV, env);
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(err, ENOMEM, "metrics: out of memory");
	m->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
	if (m->fd < 0) {
		int e = errno;

		free(m);
		return err_set(err, e, "metrics path '%s': %s", path, strerror(e));
	}
	m->vm = vm;
	kvm_open(m, vm);
	m->period_ns = ms * 1000000ull;
	m->prev.api_latency_min_ns = UINT64_MAX;
	vm->metrics = m;
	return 0;
}

static void arm(struct metrics *m, struct loop *l);

static void on_timer(struct loop_op *op, int res, uint32_t flags)
{
	struct metrics *m = container_of(op, struct metrics, timer_op);
	struct vm *vm = m->vm;
	struct errbuf err;

	(void)res;
	(void)flags;
	if (m->stopped || !vm->loop)
		return;
	if (metrics_flush(vm, &err) && !m->warned) {
		m->warned = true;
		log_warn("%s (later failures are not logged)", err.msg);
	}
	arm(m, vm->loop);
}

static void arm(struct metrics *m, struct loop *l)
{
	struct io_uring_sqe *sqe = loop_sqe(l, &m->timer_op);

	m->ts.tv_sec = (long long)(m->period_ns / 1000000000ull);
	m->ts.tv_nsec = (long long)(m->period_ns % 1000000000ull);
	io_uring_prep_timeout(sqe, &m->ts, 0, 0);
	io_uring_sqe_set_data(sqe, &m->timer_op);
}

void metrics_start(struct vm *vm)
{
	struct metrics *m = vm->metrics;

	if (!m || !vm->loop)
		return;
	m->timer_op.fn = on_timer;
	arm(m, vm->loop);
}

int metrics_flush(struct vm *vm, struct errbuf *err)
{
	struct metrics *m = vm->metrics;
	struct metrics_sample *cur;
	struct timespec ts;
	size_t len, off = 0;
	char *line;

	if (!m)
		return err_set(err, ENOENT, "metrics: no metrics path was given");
	cur = malloc(sizeof(*cur));
	if (!cur)
		return err_set(err, ENOMEM, "metrics: out of memory");
	metrics_sample(vm, cur);
	clock_gettime(CLOCK_REALTIME, &ts);
	line = metrics_line(cur, &m->prev, (uint64_t)ts.tv_sec * 1000 +
			    (uint64_t)ts.tv_nsec / 1000000);
	free(cur);
	if (!line)
		return err_set(err, ENOMEM, "metrics: out of memory");
	len = strlen(line);
	while (off < len) {	/* O_APPEND: one write, unless a FIFO takes less */
		ssize_t n = write(m->fd, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(line);
			return err_set(err, e, "metrics: writing %s: %s", vm->cfg->metrics_path,
				       e == EAGAIN ? "the file takes no more now (a FIFO nobody reads?)"
					       : strerror(e));
		}
		off += (size_t)n;
	}
	free(line);
	return 0;
}

void metrics_stop(struct vm *vm)
{
	struct metrics *m = vm->metrics;
	struct errbuf err;

	if (!m || m->stopped)
		return;
	m->stopped = true;
	if (metrics_flush(vm, &err))
		log_warn("%s", err.msg);
}

void metrics_free(struct vm *vm)
{
	struct metrics *m = vm->metrics;

	if (!m)
		return;
	close(m->fd);
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (m->kvm_fd[i] >= 0)
			close(m->kvm_fd[i]);
	free(m);
	vm->metrics = NULL;
}
