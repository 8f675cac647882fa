/* tests/fuzz/fuzz_virtio.c - libFuzzer target: the virtio-mmio register
 * file, the virtqueue core, virtio-blk and virtio-rng over a fake guest
 * RAM (no KVM, no event loop).  virtio-blk serves its requests at once
 * over a throw-away overlay, as in a fuzz session (blk_overlay_start),
 * on a 64 KiB image.
 *
 * The input is a list of operations, each an opcode byte (% OP__COUNT)
 * and its fields (zeros once the input runs out).  A field `dq` picks
 * the device (bit 0: 0 blk, 1 rng) and the queue (bit 1).  Each queue's
 * rings sit at RING(dev, q) (descriptors), + 0x1000 (avail), + 0x2000
 * (used) when OP_INIT set it up; registers may move them anywhere.
 *   OP_WRITE   dq, u16 offset, u64 value: a register or config write of
 *              1 << (dq >> 2 & 3) bytes
 *   OP_READ    dq, u16 offset: the same, a read
 *   OP_MEM     u32 gpa, u8 len, bytes: guest RAM written (ring memory)
 *   OP_KICK    dq: a QueueNotify served the way the loop (or, bit 2,
 *              the fuzz session's blk_overlay_poll) serves it
 *   OP_INIT    dq, u64 features, u16 queue size: a driver's whole set-up
 *   OP_DESC    dq, u16 index, u32 addr, u32 len, u16 flags, u16 next
 *   OP_AVAIL   dq, u16 head: appended to the avail ring, idx published
 *   OP_SAVE    dq: the device saved and restored (a snapshot round trip)
 *   OP_RESTORE dq, u16 len, bytes: the device restored from them
 * Every input starts from reset devices and zeroed RAM. */
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "snapshot/sbuf.h"
#include "tests/fuzz/fuzz_util.h"
#include "virtio/virtio.h"

#define RAM MiB(2)
#define RING(d, q) (0x10000ULL + 0x8000ULL * (d) + 0x4000ULL * (q))

enum { OP_WRITE, OP_READ, OP_MEM, OP_KICK, OP_INIT, OP_DESC, OP_AVAIL, OP_SAVE,
       OP_RESTORE, OP__COUNT };

static struct vm vm;
static struct virtio_dev *dev[2];
static uint16_t aidx[2][VIRTIO_MAX_QUEUES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct drive_cfg drive = { .id = "vda" };
	struct errbuf err;
	char img[64];

	(void)argc;
	(void)argv;
	fz_quiet();
	fz_vm_init(&vm, RAM);
	fz_image(img, sizeof(img), KiB(64));
	drive.path = img;
	if (blk_create(&vm.host, 0, &drive, &dev[0], &err) || rng_create(&vm.host, 1, NULL, &dev[1], &err) ||
	    blk_overlay_start(&vm.host, &err) != 1)
		abort();
	return 0;
}

static void reg(struct virtio_dev *vd, uint64_t off, void *v, unsigned size, bool write)
{
	bus_access(&vm.mmio, vd->base + off, v, size, write);
}

static void wr32(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	reg(vd, off, &v, 4, true);
}

static void driver_init(unsigned d, uint64_t features, uint16_t qsize)
{
	struct virtio_dev *vd = dev[d];

	wr32(vd, VIRTIO_MMIO_STATUS, 0);
	wr32(vd, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned s = 0; s < 2; s++) {
		wr32(vd, VIRTIO_MMIO_DRIVER_FEATURES_SEL, s);
		wr32(vd, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> (32 * s)));
	}
	wr32(vd, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned q = 0; q < vd->ops->nqueues; q++) {
		aidx[d][q] = 0;
		wr32(vd, VIRTIO_MMIO_QUEUE_SEL, q);
		wr32(vd, VIRTIO_MMIO_QUEUE_NUM, qsize);
		wr32(vd, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RING(d, q));
		wr32(vd, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)RING(d, q) + 0x1000);
		wr32(vd, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)RING(d, q) + 0x2000);
		wr32(vd, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr32(vd, VIRTIO_MMIO_STATUS, 0xf);
}

static void ram_write(uint64_t gpa, const void *p, size_t n)
{
	uint8_t *dst = gm_ptr(&vm, gpa, n);

	if (dst)
		memcpy(dst, p, n);
}

static void restore_from(struct virtio_dev *vd, const uint8_t *p, size_t n)
{
	struct sbuf sb;

	sbuf_view(&sb, p, n);
	vd->dev.ops->restore(&vd->dev, &sb);
}

static void one_op(struct fz *f)
{
	uint8_t op = fz_u8(f) % OP__COUNT, dq = fz_u8(f);
	unsigned d = dq & 1, q = dq >> 1 & 1;
	struct virtio_dev *vd = dev[d];
	uint64_t v;
	const uint8_t *p;
	size_t n;

	switch (op) {
	case OP_WRITE:
	case OP_READ: {
		uint16_t off = fz_u16(f) & 0x1ff;

		v = op == OP_WRITE ? fz_u64(f) : 0;
		reg(vd, off, &v, 1u << (dq >> 2 & 3), op == OP_WRITE);
		break;
	}
	case OP_MEM:
		v = fz_u32(f);
		p = fz_bytes(f, fz_u8(f), &n);
		ram_write(v, p, n);
		break;
	case OP_KICK:
		if (d == 0 && (dq & 4))
			blk_overlay_poll(&vm.host, vd->base);
		else
			virtio_dev_kick(vd, q);
		break;
	case OP_INIT:
		v = fz_u64(f);
		driver_init(d, v, fz_u16(f));
		break;
	case OP_DESC: {
		uint8_t desc[16];
		uint16_t i = fz_u16(f);

		v = fz_u32(f);
		memcpy(desc, &v, 8);
		v = fz_u64(f);	/* len, flags, next */
		memcpy(desc + 8, &v, 8);
		ram_write(RING(d, q) + 16ULL * (i & 0xff), desc, sizeof(desc));
		break;
	}
	case OP_AVAIL: {
		uint16_t head = fz_u16(f), size = vd->q[q].vq.size ? vd->q[q].vq.size : 1;
		uint16_t *idx = gm_ptr(&vm, RING(d, q) + 0x1002, 2);

		ram_write(RING(d, q) + 0x1004 + 2ULL * (aidx[d][q] % size), &head, 2);
		aidx[d][q]++;
		__atomic_store_n(idx, aidx[d][q], __ATOMIC_RELEASE);
		break;
	}
	case OP_SAVE: {
		struct sbuf sb;

		sbuf_init(&sb);
		if (!vd->dev.ops->save(&vd->dev, &sb))
			restore_from(vd, sb.data, sb.len);
		sbuf_free(&sb);
		break;
	}
	case OP_RESTORE:
		p = fz_bytes(f, fz_u16(f), &n);
		restore_from(vd, p, n);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };

	for (unsigned d = 0; d < 2; d++) {
		dev[d]->dev.ops->reset(&dev[d]->dev);
		memset(aidx[d], 0, sizeof(aidx[d]));
	}
	blk_overlay_reset(&vm.host);
	memset(vm.mem.host, 0, RAM);
	while (f.n)
		one_op(&f);
	return 0;
}
