/* tests/unit/test_virtio_util.c - see test_virtio.h. */
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "tests/unit/test_virtio.h"

struct vm vt_vm;
struct virtio_dev *vt_vd;
static uint16_t aidx[VIRTIO_MAX_QUEUES];

void vt_setup_vm(void)
{
	memset(&vt_vm, 0, sizeof(vt_vm));
	cr_assert_eq(gmem_init(&vt_vm.mem, MiB(16)), 0);
	vt_vm.kvm_fd = vt_vm.vm_fd = vt_vm.stop_efd = -1;
	vt_vm.pio.name = "pio";
	vt_vm.mmio.name = "mmio";
	vm_host_init(&vt_vm);
	vt_vd = NULL;
}

void vt_setup_rng(void)
{
	struct errbuf err;

	vt_setup_vm();
	cr_assert_eq(rng_create(&vt_vm.host, 0, NULL, &vt_vd, &err), 0);
}

void vt_teardown(void)
{
	for (unsigned i = vt_vm.ndevices; i-- > 0;)
		vt_vm.devices[i]->ops->destroy(vt_vm.devices[i]);
	vt_vm.ndevices = 0;
	bus_destroy(&vt_vm.mmio);
	bus_destroy(&vt_vm.pio);
	gmem_destroy(&vt_vm.mem);
}

uint8_t *vt_g(uint64_t gpa)
{
	return vt_vm.mem.host + gpa;
}

uint32_t vt_rd(uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	bus_access(&vt_vm.mmio, vt_vd->base + off, &v, 4, false);
	return v;
}

void vt_wr(uint64_t off, uint32_t v)
{
	bus_access(&vt_vm.mmio, vt_vd->base + off, &v, 4, true);
}

uint64_t vt_features(uint64_t extra)
{
	return (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VQ_F_INDIRECT_DESC) | extra;
}

void vt_driver_init(uint64_t features, uint32_t qsize)
{
	vt_wr(VIRTIO_MMIO_STATUS, 0);
	vt_wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vt_wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned s = 0; s < 2; s++) {
		vt_wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, s);
		vt_wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> (32 * s)));
	}
	vt_wr(VIRTIO_MMIO_STATUS, 0xb);
	cr_assert(vt_rd(VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < vt_vd->ops->nqueues; q++) {
		memset(vt_g(VT_DESC(q)), 0, 0x4000);
		aidx[q] = 0;
		vt_wr(VIRTIO_MMIO_QUEUE_SEL, q);
		vt_wr(VIRTIO_MMIO_QUEUE_NUM, qsize);
		vt_wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)VT_DESC(q));
		vt_wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		vt_wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)VT_AVAIL(q));
		vt_wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
		vt_wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)VT_USED(q));
		vt_wr(VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
		vt_wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	vt_wr(VIRTIO_MMIO_STATUS, 0xf);
}

void vt_set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };

	memcpy(vt_g(VT_DESC(q) + 16ULL * i), &d, sizeof(d));
}

void vt_avail_add(unsigned q, uint16_t head)
{
	uint16_t size = vt_vd->q[q].vq.size ? vt_vd->q[q].vq.size : 1;

	memcpy(vt_g(VT_AVAIL(q) + 4 + 2 * (aidx[q] % size)), &head, 2);
	aidx[q]++;
	__atomic_store_n((uint16_t *)(void *)vt_g(VT_AVAIL(q) + 2), aidx[q],
			 __ATOMIC_RELEASE);
}

uint16_t vt_used_idx(unsigned q)
{
	return __atomic_load_n((uint16_t *)(void *)vt_g(VT_USED(q) + 2), __ATOMIC_ACQUIRE);
}

uint32_t vt_used_id(unsigned q, unsigned slot)
{
	uint32_t v;

	memcpy(&v, vt_g(VT_USED(q) + 4 + 8 * slot), 4);
	return v;
}

uint32_t vt_used_len(unsigned q, unsigned slot)
{
	uint32_t v;

	memcpy(&v, vt_g(VT_USED(q) + 8 + 8 * slot), 4);
	return v;
}

unsigned vt_loop_turn(struct loop *l, bool wait)
{
	struct __kernel_timespec ts = { .tv_sec = 10 };
	struct io_uring_cqe *cqe;

	io_uring_submit(&l->ring);
	if (wait && io_uring_wait_cqe_timeout(&l->ring, &cqe, &ts) < 0)
		return 0;
	return loop_dispatch(l);
}

bool vt_pump_until_used(struct loop *l, unsigned q, uint16_t n)
{
	for (unsigned round = 0; round < 100000; round++) {
		if (vt_used_idx(q) == n)
			return true;
		if (!vt_loop_turn(l, true))
			return vt_used_idx(q) == n;
	}
	return false;
}

void vt_avail_repeat(unsigned q, uint16_t head, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		vt_avail_add(q, head);
}

void vt_post_write(unsigned q, uint16_t head, uint64_t addr, uint32_t len)
{
	vt_set_desc(q, head, addr, len, VRING_DESC_F_WRITE, 0);
	vt_avail_add(q, head);
}

uint64_t vt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
