/* virtio/mmio.c - the virtio-mmio transport, version 2 ("modern"), as in
 * virtio 1.x section 4.2.2: registers, feature negotiation, the status
 * machine, queue set-up, interrupt status/ack and config space.  Kicks
 * arrive as eventfds (KVM ioeventfd on QueueNotify when there is a VM; a
 * trapped QueueNotify write signals the same eventfd) and are handled on
 * the event loop.  The interrupt is a level-triggered GSI: high while
 * InterruptStatus is not 0. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "snapshot/sbuf.h"
#include "virtio/virtio.h"

#define MMIO_MAGIC 0x74726976	/* "virt" */
#define MMIO_VERSION 2

static const struct bus_ops mmio_bus_ops = {
	.read = virtio_mmio_read,
	.write = virtio_mmio_write,
};

/* ---- interrupts and failure -------------------------------------------- */
static void isr_set(struct virtio_dev *vd, uint32_t bits)
{
	uint32_t old = vd->isr;

	vd->isr |= bits;
	if (!old && vd->isr)
		host_irq_line(vd->host, vd->gsi, 1);
}

static void isr_clear(struct virtio_dev *vd, uint32_t bits)
{
	uint32_t old = vd->isr;

	vd->isr &= ~bits;
	if (old && !vd->isr)
		host_irq_line(vd->host, vd->gsi, 0);
}

void virtio_dev_notify_used(struct virtio_dev *vd, unsigned q)
{
	if (vq_should_notify(&vd->q[q].vq))
		isr_set(vd, VIRTIO_MMIO_INT_VRING);
}

void virtio_dev_config_changed(struct virtio_dev *vd)
{
	vd->cfg_gen++;
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		isr_set(vd, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_dev_fail(struct virtio_dev *vd, const char *why, int err)
{
	if (vd->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	vd->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (vd->status & VIRTIO_CONFIG_S_DRIVER_OK)
		isr_set(vd, VIRTIO_MMIO_INT_CONFIG);
	log_msg(vd->failures++ ? LOG_DEBUG : LOG_WARN,
		"virtio %s at %#llx: %s%s%s; device needs reset", vd->name,
		(unsigned long long)vd->base, why, err ? ": " : "",
		err ? vq_strerror(err) : "");
}

bool virtio_dev_queue_live(struct virtio_dev *vd, unsigned q)
{
	return q < vd->ops->nqueues && !vd->quiesced &&
	       (vd->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(vd->status & VIRTIO_CONFIG_S_NEEDS_RESET) &&
	       vd->q[q].vq.ready && !vd->q[q].vq.broken;
}

int virtio_dev_pop(struct virtio_dev *vd, unsigned q, struct vq_req *r)
{
	int rc = vq_pop(&vd->q[q].vq, r);

	if (rc < 0) {
		char why[32];

		snprintf(why, sizeof(why), "queue %u", q);
		virtio_dev_fail(vd, why, rc);
	}
	return rc;
}

/* ---- passes: the budget ------------------------------------------------- */
void virtio_pass_begin(struct virtio_pass *p, struct virtio_dev *vd, unsigned q)
{
	p->vd = vd;
	p->q = q;
	p->left = vd->host->loop ? VIRTIO_BUDGET : UINT_MAX;
}

int virtio_pass_pop(struct virtio_pass *p, struct vq_req *r)
{
	int rc;

	if (!p->left)
		return 0;
	rc = virtio_dev_pop(p->vd, p->q, r);
	if (rc > 0)
		p->left--;
	return rc;
}

/* The next pass over queue q, on the loop's next turn.  Lock held. */
static void post_pass(struct virtio_dev *vd, unsigned q)
{
	struct virtio_queue *vq = &vd->q[q];

	if (vq->rerun || !vd->host->loop)
		return;
	vq->rerun = true;
	loop_post(vd->host->loop, &vq->rerun_op);
}

bool virtio_pass_more(struct virtio_pass *p)
{
	if (!vq_set_notify(&p->vd->q[p->q].vq, true))
		return false;
	if (p->left)
		return true;
	post_pass(p->vd, p->q);
	return false;
}

static void on_rerun(struct loop_op *op, int res, uint32_t flags)
{
	struct virtio_queue *vq = container_of(op, struct virtio_queue, rerun_op);

	(void)res;
	(void)flags;
	pthread_mutex_lock(&vq->vd->lock);
	vq->rerun = false;
	if (virtio_dev_queue_live(vq->vd, vq->index))	/* (a reset may have come) */
		vq->vd->ops->notify(vq->vd, vq->index);
	pthread_mutex_unlock(&vq->vd->lock);
}

/* After a restore: serve what the guest left available.  Lock held. */
static void post_pending(struct virtio_dev *vd)
{
	for (unsigned q = 0; q < vd->ops->nqueues; q++)
		if (virtio_dev_queue_live(vd, q) && vq_has_avail(&vd->q[q].vq))
			post_pass(vd, q);
}

/* ---- kicks ---------------------------------------------------------------- */
void virtio_dev_kick(struct virtio_dev *vd, unsigned q)
{
	pthread_mutex_lock(&vd->lock);
	if (vd->cancel_wanted) {	/* a reset asked (the ring is ours alone) */
		vd->cancel_wanted = false;
		if (vd->ops->cancel && vd->host->loop)
			vd->ops->cancel(vd);
	}
	if (q < VIRTIO_MAX_QUEUES)
		vd->stats.kicks[q]++;
	if (virtio_dev_queue_live(vd, q))
		vd->ops->notify(vd, q);
	pthread_mutex_unlock(&vd->lock);
}

static void on_kick(struct loop_op *op, int res, uint32_t flags)
{
	struct virtio_queue *vq = container_of(op, struct virtio_queue, kick_op);
	struct virtio_dev *vd = vq->vd;
	uint64_t v;

	if (res < 0 && res != -ECANCELED)
		log_warn("%s: queue %u kick poll: %s", vd->name, vq->index, strerror(-res));
	if (read(vq->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("%s: kick eventfd read: %m", vd->name);
	if (!(flags & IORING_CQE_F_MORE) && res != -ECANCELED && vd->host->loop)
		loop_poll(vd->host->loop, vq->efd, POLLIN, true, &vq->kick_op);
	virtio_dev_kick(vd, vq->index);
}

/* Signals queue q's eventfd from any thread (trapped QueueNotify,
 * DRIVER_OK). */
static void kick_efd(struct virtio_dev *vd, unsigned q)
{
	uint64_t one = 1;

	if (q < vd->ops->nqueues && write(vd->q[q].efd, &one, sizeof(one)) < 0)
		log_debug("%s: kick eventfd write: %m", vd->name);
}

static int ioeventfd(struct virtio_dev *vd, unsigned q, bool assign)
{
	struct kvm_ioeventfd ioe = {
		.datamatch = q,
		.addr = vd->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = vd->q[q].efd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vd->host->vm_fd, KVM_IOEVENTFD, &ioe) < 0 ? -errno : 0;
}

/* ---- reset and status ------------------------------------------------- */
/* The generation just changed: if stale requests are still in the kernel,
 * STATUS keeps reading `shown` (unless 0) until they are gone, and the
 * loop is asked to cancel them (through queue 0's kick: a vCPU thread
 * must not submit to the ring).  virtio_drain_wait then waits for them
 * where it may.  Lock held. */
static void drain_begin(struct virtio_dev *vd, uint32_t shown)
{
	if (!vd->host->loop || !virtio_dev_draining(vd))
		return;
	if (shown)
		vd->reset_status = shown;
	vd->cancel_wanted = true;
	kick_efd(vd, 0);
}

/* STATUS as the driver sees it: not 0 while a reset drains. */
static uint32_t status_read(struct virtio_dev *vd)
{
	if (vd->reset_status && !virtio_dev_draining(vd))
		vd->reset_status = 0;
	return vd->reset_status ? vd->reset_status : vd->status;
}

/* Puts the device in its reset state.  Lock held. */
static void dev_reset(struct virtio_dev *vd)
{
	uint32_t shown = vd->reset_status ? vd->reset_status : vd->status;

	if (vd->ops->reset)
		vd->ops->reset(vd);
	vd->gen++;
	vd->reset_status = 0;
	for (unsigned i = 0; i < vd->ops->nqueues; i++)
		vq_init(&vd->q[i].vq, vd->host);
	vd->guest_features = 0;
	vd->dev_feat_sel = vd->drv_feat_sel = vd->queue_sel = 0;
	vd->status = 0;
	isr_clear(vd, ~0u);
	drain_begin(vd, shown);
}

static bool features_ok(const struct virtio_dev *vd)
{
	return (vd->guest_features & ~vd->host_features) == 0 &&
	       (vd->guest_features & (1ULL << VIRTIO_F_VERSION_1));
}

static void status_write(struct virtio_dev *vd, uint32_t v)
{
	uint32_t old = vd->status;

	if (v == 0) {
		dev_reset(vd);
		return;
	}
	vd->reset_status = 0;	/* a driver that did not wait: show it the truth */
	v &= 0xff;
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !features_ok(vd)) {
		log_debug("%s: driver features %#llx refused", vd->name,
			  (unsigned long long)vd->guest_features);
		v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* FEATURES_OK stays once granted; NEEDS_RESET is the device's */
	v |= old & (VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(v & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	vd->status = v;
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK))
		for (unsigned i = 0; i < vd->ops->nqueues; i++)
			kick_efd(vd, i);	/* work that came before DRIVER_OK */
}

static void queue_ready_write(struct virtio_dev *vd, struct vq *q, uint32_t v)
{
	int rc;

	if (!v) {
		/* a single-queue device (blk): disabling its queue ends its I/O
		 * as a reset does.  net keeps its generation: its kernel I/O
		 * never writes guest memory (RX lands in a host buffer), and a
		 * new generation would drop the other queue's completions */
		if (q->ready && vd->ops->nqueues == 1) {
			vd->gen++;
			drain_begin(vd, 0);
		}
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	rc = vq_set_ready(q, vd->guest_features, vd->ops->queue_max);
	if (rc < 0) {
		char why[48];

		snprintf(why, sizeof(why), "queue %u: bad ring set-up", vd->queue_sel);
		virtio_dev_fail(vd, why, rc == VQ_ERR_ADDR ? rc : 0);
	}
}

/* ---- registers -------------------------------------------------------- */
static struct vq *sel_queue(struct virtio_dev *vd)
{
	return vd->queue_sel < vd->ops->nqueues ? &vd->q[vd->queue_sel].vq : NULL;
}

static uint32_t reg_read(struct virtio_dev *vd, uint64_t off)
{
	struct vq *q = sel_queue(vd);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID: return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return vd->dev_feat_sel < 2 ?
		       (uint32_t)(vd->host_features >> (32 * vd->dev_feat_sel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? vd->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return vd->isr;
	case VIRTIO_MMIO_STATUS: return status_read(vd);
	case VIRTIO_MMIO_QUEUE_DESC_LOW: return q ? (uint32_t)q->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: return q ? (uint32_t)(q->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: return q ? (uint32_t)q->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: return q ? (uint32_t)(q->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_USED_LOW: return q ? (uint32_t)q->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: return q ? (uint32_t)(q->used_gpa >> 32) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION: return vd->cfg_gen;
	default: return 0;
	}
}

static void set_lo(uint64_t *a, uint32_t v) { *a = (*a & ~0xffffffffULL) | v; }
static void set_hi(uint64_t *a, uint32_t v) { *a = (*a & 0xffffffffULL) | ((uint64_t)v << 32); }

static void reg_write(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct vq *q = sel_queue(vd);
	bool q_cfg = q && !q->ready;	/* queue registers only while not ready */

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: vd->dev_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: vd->drv_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (vd->drv_feat_sel < 2 && !(vd->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			unsigned sh = 32 * vd->drv_feat_sel;

			vd->guest_features &= ~(0xffffffffULL << sh);
			vd->guest_features |= (uint64_t)v << sh;
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL: vd->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q_cfg)
			q->size = v <= 0xffff ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (q)
			queue_ready_write(vd, q, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY: kick_efd(vd, v); break;
	case VIRTIO_MMIO_INTERRUPT_ACK: isr_clear(vd, v); break;
	case VIRTIO_MMIO_STATUS: status_write(vd, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: if (q_cfg) set_lo(&q->desc_gpa, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (q_cfg) set_hi(&q->desc_gpa, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: if (q_cfg) set_lo(&q->avail_gpa, v); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: if (q_cfg) set_hi(&q->avail_gpa, v); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: if (q_cfg) set_lo(&q->used_gpa, v); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: if (q_cfg) set_hi(&q->used_gpa, v); break;
	default: break;		/* read-only or unknown: ignored */
	}
}

void virtio_mmio_read(void *opaque, uint64_t off, void *data, unsigned size)
{
	struct virtio_dev *vd = opaque;

	memset(data, 0, size);
	pthread_mutex_lock(&vd->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;

		if (c + size <= vd->ops->cfg_size && vd->ops->cfg_read)
			vd->ops->cfg_read(vd, (uint32_t)c, data, size);
	} else if (size == 4 && !(off & 3)) {
		uint32_t v = reg_read(vd, off);

		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&vd->lock);
}

void virtio_mmio_write(void *opaque, uint64_t off, const void *data,
		       unsigned size)
{
	struct virtio_dev *vd = opaque;

	pthread_mutex_lock(&vd->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		uint64_t c = off - VIRTIO_MMIO_CONFIG;

		if (c + size <= vd->ops->cfg_size && vd->ops->cfg_write)
			vd->ops->cfg_write(vd, (uint32_t)c, data, size);
	} else if (size == 4 && !(off & 3)) {
		uint32_t v;

		memcpy(&v, data, 4);
		reg_write(vd, off, v);
		if ((off == VIRTIO_MMIO_STATUS && v == 0) ||
		    (off == VIRTIO_MMIO_QUEUE_READY && v == 0))
			virtio_drain_wait(vd);	/* old I/O ends before we return */
	}
	pthread_mutex_unlock(&vd->lock);
}

/* ---- life cycle ------------------------------------------------------- */
int virtio_dev_init(struct virtio_dev *vd, struct dev_host *h, unsigned n,
		    const struct virtio_dev_ops *ops, uint64_t features,
		    const char *name, struct errbuf *err)
{
	unsigned ndev;
	int rc;

	if (n >= VIRTIO_MMIO_MAX)
		return err_set(err, ENOSPC, "%s: more than %d virtio devices", name,
			       VIRTIO_MMIO_MAX);
	host_devices(h, &ndev);
	if (ndev >= HOST_MAX_DEVICES)	/* so host_add_device works */
		return err_set(err, ENOSPC, "%s: too many devices", name);
	memset(vd, 0, sizeof(*vd));
	vd->dev.ops = &virtio_device_ops;
	vd->dev.host = h;
	vd->dev.name = vd->name;
	vd->host = h;
	vd->ops = ops;
	vd->n = n;
	vd->base = VIRTIO_MMIO_BASE + n * VIRTIO_MMIO_SIZE;
	vd->gsi = VIRTIO_IRQ_BASE + n;
	vd->host_features = features | (1ULL << VIRTIO_F_VERSION_1) |
			    (1ULL << VQ_F_INDIRECT_DESC) | (1ULL << VQ_F_EVENT_IDX);
	snprintf(vd->name, sizeof(vd->name), "%s", name);
	pthread_mutex_init(&vd->lock, NULL);
	{
		pthread_condattr_t ca;	/* virtio_drain_wait's deadline clock */

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&vd->drained, &ca);
		pthread_condattr_destroy(&ca);
	}
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vd->q[i].efd = -1;
		vd->q[i].vd = vd;
		vd->q[i].index = i;
		vd->q[i].kick_op.fn = on_kick;
		vd->q[i].rerun_op.fn = on_rerun;
		vq_init(&vd->q[i].vq, h);
	}
	for (unsigned i = 0; i < ops->nqueues; i++) {
		vd->q[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vd->q[i].efd < 0) {
			rc = err_set(err, errno, "%s: eventfd: %s", name, strerror(errno));
			goto fail;
		}
		if (h->vm_fd >= 0) {
			rc = ioeventfd(vd, i, true);
			if (rc < 0)	/* the trapped write still works */
				log_debug("%s: ioeventfd: %s", name, strerror(-rc));
			vd->q[i].ioeventfd = rc == 0;
		}
	}
	rc = bus_register(h->mmio, vd->base, VIRTIO_MMIO_SIZE, &mmio_bus_ops, vd,
			  vd->name);
	if (rc < 0) {
		err_set(err, -rc, "%s: MMIO window %#llx: %s", name,
			(unsigned long long)vd->base, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	virtio_dev_fini(vd);
	return rc;
}

int virtio_dev_trap_kicks(struct virtio_dev *vd)
{
	for (unsigned i = 0; i < vd->ops->nqueues; i++) {
		int r = vd->q[i].ioeventfd ? ioeventfd(vd, i, false) : 0;

		if (r)
			return r;
		vd->q[i].ioeventfd = false;
	}
	return 0;
}

void virtio_dev_fini(struct virtio_dev *vd)
{
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vd->q[i].ioeventfd)
			ioeventfd(vd, i, false);
		vd->q[i].ioeventfd = false;
		if (vd->q[i].efd >= 0)
			close(vd->q[i].efd);
		vd->q[i].efd = -1;
	}
	pthread_cond_destroy(&vd->drained);
	pthread_mutex_destroy(&vd->lock);
}

void virtio_start(struct dev_host *h)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);

	for (unsigned i = 0; i < ndev; i++) {
		struct virtio_dev *vd = virtio_dev_of(devs[i]);

		if (!vd || !h->loop)
			continue;
		pthread_mutex_lock(&vd->lock);
		for (unsigned q = 0; q < vd->ops->nqueues; q++) {
			loop_poll(h->loop, vd->q[q].efd, POLLIN, true, &vd->q[q].kick_op);
			vd->q[q].rerun = false;	/* a new loop: nothing of ours on it */
		}
		vd->quiesced = false;
		vd->cancel_wanted = false;
		if (vd->ops->start)
			vd->ops->start(vd);
		post_pending(vd);
		pthread_mutex_unlock(&vd->lock);
	}
}

/* ---- struct device glue: save, restore, reset, destroy ---------------- */
#define VIRTIO_STATE_VERSION 1

static int dev_save(struct device *d, struct sbuf *sb)
{
	struct virtio_dev *vd = container_of(d, struct virtio_dev, dev);
	int rc = 0;

	pthread_mutex_lock(&vd->lock);
	sbuf_put_u32(sb, VIRTIO_STATE_VERSION);
	sbuf_put_u32(sb, vd->ops->device_id);
	sbuf_put_u32(sb, vd->ops->nqueues);
	sbuf_put_u64(sb, vd->guest_features);
	sbuf_put_u32(sb, vd->status);
	sbuf_put_u32(sb, vd->dev_feat_sel);
	sbuf_put_u32(sb, vd->drv_feat_sel);
	sbuf_put_u32(sb, vd->queue_sel);
	sbuf_put_u32(sb, vd->isr);
	sbuf_put_u32(sb, vd->cfg_gen);
	for (unsigned i = 0; i < vd->ops->nqueues; i++)
		vq_save(&vd->q[i].vq, sb);
	if (vd->ops->save)
		rc = vd->ops->save(vd, sb);
	pthread_mutex_unlock(&vd->lock);
	return rc ? rc : sb->err;
}

static int dev_restore(struct device *d, struct sbuf *sb)
{
	struct virtio_dev *vd = container_of(d, struct virtio_dev, dev);
	uint32_t ver, id, nq, status, dsel, fsel, qsel, isr, gen;
	uint64_t gf;
	int rc = 0;

	ver = sbuf_get_u32(sb);
	id = sbuf_get_u32(sb);
	nq = sbuf_get_u32(sb);
	gf = sbuf_get_u64(sb);
	status = sbuf_get_u32(sb);
	dsel = sbuf_get_u32(sb);
	fsel = sbuf_get_u32(sb);
	qsel = sbuf_get_u32(sb);
	isr = sbuf_get_u32(sb);
	gen = sbuf_get_u32(sb);
	if (sb->err || ver != VIRTIO_STATE_VERSION || id != vd->ops->device_id ||
	    nq != vd->ops->nqueues || status > 0xff || isr > 3 ||
	    (gf & ~vd->host_features))
		return -EINVAL;
	pthread_mutex_lock(&vd->lock);
	dev_reset(vd);
	for (unsigned i = 0; i < nq && !rc; i++)
		rc = vq_restore(&vd->q[i].vq, sb, vd->ops->queue_max);
	if (!rc && vd->ops->restore)
		rc = vd->ops->restore(vd, sb);
	if (rc) {
		dev_reset(vd);
	} else {
		vd->guest_features = gf;
		vd->status = status;
		vd->dev_feat_sel = dsel;
		vd->drv_feat_sel = fsel;
		vd->queue_sel = qsel;
		vd->cfg_gen = gen;
		isr_set(vd, isr);
		if (vd->host->loop && vd->ops->start)
			vd->ops->start(vd);
		post_pending(vd);
	}
	pthread_mutex_unlock(&vd->lock);
	return rc ? -EINVAL : 0;
}

static void dev_device_reset(struct device *d)
{
	struct virtio_dev *vd = container_of(d, struct virtio_dev, dev);

	pthread_mutex_lock(&vd->lock);
	dev_reset(vd);
	pthread_mutex_unlock(&vd->lock);
}

static void dev_destroy(struct device *d)
{
	struct virtio_dev *vd = container_of(d, struct virtio_dev, dev);

	virtio_dev_fini(vd);
	vd->ops->destroy(vd);
}

const struct device_ops virtio_device_ops = {
	.name = "virtio-mmio",
	.save = dev_save,
	.restore = dev_restore,
	.reset = dev_device_reset,
	.destroy = dev_destroy,
};

struct virtio_dev *virtio_dev_of(struct device *d)
{
	return d && d->ops == &virtio_device_ops ?
	       container_of(d, struct virtio_dev, dev) : NULL;
}
