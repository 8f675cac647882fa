/* tests/guests/virtio/vio.h - a small freestanding virtio-mmio driver for
 * ember's test guests: finding devices on the command line, the version 2
 * register set, feature negotiation, split virtqueues (descriptor chains,
 * the avail ring with EVENT_IDX-aware kicks, polling the used ring), and
 * the request layouts of virtio-blk, -net and -rng.
 *
 * Built for 32-bit ring-0 guests (paging off) and for the 64-bit ring-3
 * benchmark guest alike: guest-physical = virtual, and nothing here needs
 * ring 0.  Memory handed to devices is the caller's (static, zeroed bss);
 * bulk copies use string instructions, which cost far fewer emulated
 * instructions than C loops when KVM emulates ring 0. */
#pragma once
#include "rt.h"

/* ---- virtio-mmio registers (virtio 1.x, 4.2.2) -------------------------- */
#define VIO_MAGIC 0x000
#define VIO_VERSION 0x004
#define VIO_DEVICE_ID 0x008
#define VIO_DEV_FEATURES 0x010
#define VIO_DEV_FEATURES_SEL 0x014
#define VIO_DRV_FEATURES 0x020
#define VIO_DRV_FEATURES_SEL 0x024
#define VIO_QUEUE_SEL 0x030
#define VIO_QUEUE_NUM_MAX 0x034
#define VIO_QUEUE_NUM 0x038
#define VIO_QUEUE_READY 0x044
#define VIO_QUEUE_NOTIFY 0x050
#define VIO_INT_STATUS 0x060
#define VIO_INT_ACK 0x064
#define VIO_STATUS 0x070
#define VIO_QUEUE_DESC 0x080	/* low, high at +4 */
#define VIO_QUEUE_DRIVER 0x090
#define VIO_QUEUE_DEVICE 0x0a0
#define VIO_CONFIG_GEN 0x0fc
#define VIO_CONFIG 0x100

#define VIO_MAGIC_VALUE 0x74726976	/* "virt" */
#define VIO_INT_VRING 1u
#define VIO_INT_CONFIG 2u

#define VIO_S_ACKNOWLEDGE 1u
#define VIO_S_DRIVER 2u
#define VIO_S_DRIVER_OK 4u
#define VIO_S_FEATURES_OK 8u
#define VIO_S_NEEDS_RESET 0x40u
#define VIO_S_FAILED 0x80u

#define VIO_F_INDIRECT 28
#define VIO_F_EVENT_IDX 29
#define VIO_F_VERSION_1 32
#define VIO_BIT(n) (1ULL << (n))

#define VIO_ID_NET 1
#define VIO_ID_BLOCK 2
#define VIO_ID_RNG 4

/* ---- split virtqueue ----------------------------------------------------- */
#define VQ_DESC_F_NEXT 1
#define VQ_DESC_F_WRITE 2
#define VQ_DESC_F_INDIRECT 4
#define VQ_AVAIL_F_NO_INTERRUPT 1
#define VQ_USED_F_NO_NOTIFY 1

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One device window. */
struct vio_dev {
	uintptr_t base;		/* 0xd0000000 + n * 4 KiB */
	unsigned gsi;		/* IOAPIC pin */
	uint32_t device_id;
	uint64_t offered;	/* DeviceFeatures */
	uint64_t features;	/* what was negotiated */
};

/* One queue.  Its memory (vio_ring_bytes(size), 4 KiB aligned) holds the
 * descriptor table, then the avail ring, then the used ring, each on its
 * own page. */
struct vio_vq {
	struct vio_dev *d;
	unsigned index;
	uint16_t size;
	bool event_idx;
	struct vq_desc *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint16_t *used;	/* flags, idx, then {id, len}[size], avail_event */
	uint16_t avail_idx;		/* the avail.idx we publish next */
	uint16_t kicked_idx;		/* avail.idx at the last kick decision */
	uint16_t last_used;		/* the next used element to read */
	bool no_interrupts;		/* vq_no_interrupts was called */
};

/* A buffer of a chain: readable by the device unless write. */
struct vio_seg {
	const void *addr;
	uint32_t len;
	bool write;
};

/* Register access. */
static inline uint32_t vio_read(const struct vio_dev *d, uint32_t off)
{
	return mmio_read32(d->base + off);
}
static inline void vio_write(const struct vio_dev *d, uint32_t off, uint32_t v)
{
	mmio_write32(d->base + off, v);
}
static inline uint32_t vio_status(const struct vio_dev *d)
{
	return vio_read(d, VIO_STATUS);
}
/* Compiler barrier: on x86 stores are not reordered with stores, nor loads
 * with loads, so publishing needs only this. */
static inline void vio_barrier(void)
{
	__asm__ volatile("" ::: "memory");
}
/* Full fence (store then load, as before reading avail_event). */
static inline void vio_mb(void)
{
#ifdef __x86_64__
	__asm__ volatile("lock; orl $0, (%%rsp)" ::: "memory", "cc");
#else
	__asm__ volatile("lock; orl $0, (%%esp)" ::: "memory", "cc");
#endif
}

/* Finds the n-th (from 0) "virtio_mmio.device=<size>@<base>:<irq>" on the
 * command line.  True and *d filled (base, gsi) if there is one. */
bool vio_find(const char *cmdline, unsigned n, struct vio_dev *d);
/* Device initialisation up to FEATURES_OK: checks magic, version 2 and
 * the device ID, resets, ACKNOWLEDGE|DRIVER, reads the offered features,
 * accepts VERSION_1 plus the offered bits of want, sets FEATURES_OK and
 * reads it back.  0, or -1 after printing "<tag>: <what failed>". */
int vio_init(struct vio_dev *d, uint32_t device_id, uint64_t want, const char *tag);
/* Bytes of queue memory for `size` entries (a multiple of 4 KiB). */
uint32_t vio_ring_bytes(uint16_t size);
/* Sets up queue `index` with `size` entries (a power of two <= QueueNumMax)
 * in mem (zeroed here, 4 KiB aligned, vio_ring_bytes(size) long) and makes
 * it ready.  0, or -1 after printing "<tag>: <what failed>". */
int vio_vq_setup(struct vio_dev *d, struct vio_vq *q, unsigned index,
		 uint16_t size, void *mem, const char *tag);
/* Sets DRIVER_OK. */
void vio_driver_ok(struct vio_dev *d);
/* Writes Status 0 (device reset) and reads it back until it is 0. */
void vio_reset(struct vio_dev *d);

/* Writes the chain segs[0..n) into descriptors first, first+1, ... (no
 * wrap) and returns its head (first). */
uint16_t vq_chain(struct vio_vq *q, uint16_t first, const struct vio_seg *segs,
		  unsigned n);
/* Puts head in the next avail slot (not yet visible to the device). */
void vq_add(struct vio_vq *q, uint16_t head);
/* Makes the added heads visible: avail.idx, stored after the ring entries. */
void vq_publish(struct vio_vq *q);
/* Notifies the device if it wants to be (EVENT_IDX: avail_event crossed
 * since the last kick; else used.flags without NO_NOTIFY).  True if it
 * wrote QueueNotify. */
bool vq_kick(struct vio_vq *q);
/* Writes QueueNotify regardless. */
void vq_notify(struct vio_vq *q);
/* Takes the next used element if there is one (and, with EVENT_IDX,
 * moves used_event on). */
bool vq_get_used(struct vio_vq *q, uint32_t *id, uint32_t *len);
/* Spins (bounded by the TSC, ~2^33 ticks) for the next used element.
 * False on timeout. */
bool vq_wait_used(struct vio_vq *q, uint32_t *id, uint32_t *len);
/* vq_wait_used gives up after 2^vio_wait_shift TSC cycles (default 33,
 * about 3 s): a guest among many on one CPU raises it. */
extern unsigned vio_wait_shift;
/* Asks for no used-buffer interrupts: the avail ring's NO_INTERRUPT flag,
 * or with EVENT_IDX (where that flag must stay 0) used_event kept half the
 * index space ahead of the used index.  Config interrupts still come. */
void vq_no_interrupts(struct vio_vq *q);
/* The used ring's idx as the device last wrote it. */
static inline uint16_t vq_used_idx(const struct vio_vq *q)
{
	return q->used[1];
}

/* ---- bulk memory (string instructions) ---------------------------------- */
void vio_zero(void *p, uint32_t len);
void vio_copy(void *dst, const void *src, uint32_t len);
/* True if the len bytes at a and b are equal. */
bool vio_equal(const void *a, const void *b, uint32_t len);
/* True if the len bytes at p are all v. */
bool vio_all(const void *p, uint8_t v, uint32_t len);

/* ---- command line -------------------------------------------------------- */
/* Copies the word after "key=" into buf (cap bytes, NUL-terminated).
 * True if found. */
bool vio_cmdline_word(const char *cmdline, const char *key, char *buf, unsigned cap);
/* Parses "key=a.b.c.d" into a host-order address.  True if found. */
bool vio_cmdline_ip(const char *cmdline, const char *key, uint32_t *ip);

/* ---- virtio-blk ------------------------------------------------------------ */
#define VBLK_F_SIZE_MAX 1
#define VBLK_F_SEG_MAX 2
#define VBLK_F_RO 5
#define VBLK_F_BLK_SIZE 6
#define VBLK_F_FLUSH 9
#define VBLK_F_DISCARD 13
#define VBLK_F_WRITE_ZEROES 14
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_T_FLUSH 4
#define VBLK_T_GET_ID 8
#define VBLK_T_DISCARD 11
#define VBLK_T_WRITE_ZEROES 13
#define VBLK_S_OK 0
#define VBLK_S_IOERR 1
#define VBLK_S_UNSUPP 2
#define VBLK_S_NONE 0xff	/* not written by the device (yet) */
#define VBLK_WZ_UNMAP 1
/* config offsets */
#define VBLK_CFG_CAPACITY 0	/* u64, 512-byte sectors */
#define VBLK_CFG_SIZE_MAX 8
#define VBLK_CFG_SEG_MAX 12
#define VBLK_CFG_BLK_SIZE 20
#define VBLK_CFG_MAX_DISCARD 36
#define VBLK_CFG_MAX_WZ 48

struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};
struct vblk_range {	/* one discard / write-zeroes segment */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* ---- virtio-net ------------------------------------------------------------ */
#define VNET_F_MAC 5
#define VNET_F_MRG_RXBUF 15
#define VNET_F_STATUS 16
#define VNET_HDR 12	/* virtio_net_hdr with num_buffers (VERSION_1) */
#define VNET_HDR_NUM_BUFFERS 10
#define VNET_RXQ 0
#define VNET_TXQ 1
