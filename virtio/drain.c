/* virtio/drain.c - making a reset, or the end of the VM, wait for I/O in
 * flight.  A read the device submitted to io_uring writes into guest
 * buffers when it completes; after a reset the driver owns those buffers
 * again (virtio 1.x 2.1: the device must not use them), and after
 * teardown the memory may not be guest RAM any more.  So a reset makes
 * the device's requests stale (vd->gen), the loop cancels them
 * (IORING_OP_ASYNC_CANCEL: only the loop thread submits to the ring), and
 * the thread that wrote the register waits until none is left in the
 * kernel; teardown does the same on the loop thread before the ring is
 * closed.  The register side (STATUS reading non-zero meanwhile, the
 * cancel request) is in mmio.c. */
#include <errno.h>
#include <time.h>

#include "virtio/virtio.h"

#define DRAIN_SLICE_NS 20000000L	/* re-check stop/pause this often */

unsigned virtio_dev_draining(struct virtio_dev *vd)
{
	return vd->ops->draining ? vd->ops->draining(vd) : 0;
}

void virtio_dev_drained(struct virtio_dev *vd)
{
	pthread_cond_broadcast(&vd->drained);
}

void virtio_cancel_op(struct virtio_dev *vd, struct loop_op *op)
{
	/* user_data NULL: the loop ignores the cancel's own completion
	 * (-ENOENT when the request is already done, -EALREADY when it runs) */
	struct io_uring_sqe *sqe = loop_sqe(vd->host->loop, NULL);

	io_uring_prep_cancel(sqe, op, 0);
	io_uring_sqe_set_data(sqe, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void virtio_drain_wait(struct virtio_dev *vd)
{
	struct dev_host *h = vd->host;
	uint64_t start = 0;
	unsigned left;

	while ((left = virtio_dev_draining(vd))) {
		struct timespec ts;
		uint64_t now;

		/* the loop must be free to dispatch the completions: not this
		 * thread, not stopped, not about to wait for this vCPU */
		if (!loop_runs_elsewhere(h->loop) ||
		    (host_state(h) & (HOST_STOPPING | HOST_PAUSING)))
			return;
		now = mono_ns();
		if (!start)
			start = now;
		if (now - start >= VIRTIO_DRAIN_MS * 1000000ULL) {
			log_warn("virtio %s at %#llx: reset: %u requests still in the kernel "
				 "after %u ms; STATUS reads non-zero until they end",
				 vd->name, (unsigned long long)vd->base, left, VIRTIO_DRAIN_MS);
			return;
		}
		now += DRAIN_SLICE_NS;
		ts.tv_sec = (time_t)(now / 1000000000ULL);
		ts.tv_nsec = (long)(now % 1000000000ULL);
		pthread_cond_timedwait(&vd->drained, &vd->lock, &ts);
	}
}

unsigned virtio_vm_draining(struct dev_host *h)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);
	unsigned n = 0;

	for (unsigned i = 0; i < ndev; i++) {
		struct virtio_dev *vd = virtio_dev_of(devs[i]);

		if (!vd)
			continue;
		pthread_mutex_lock(&vd->lock);
		n += virtio_dev_draining(vd);
		pthread_mutex_unlock(&vd->lock);
	}
	return n;
}

static bool none_draining(void *h)
{
	return virtio_vm_draining(h) == 0;
}

int virtio_quiesce(struct dev_host *h, unsigned timeout_ms)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);
	int rc;

	for (unsigned i = 0; i < ndev; i++) {
		struct virtio_dev *vd = virtio_dev_of(devs[i]);

		if (!vd)
			continue;
		pthread_mutex_lock(&vd->lock);
		vd->quiesced = true;
		vd->gen++;		/* every request in flight is stale now */
		vd->cancel_wanted = false;
		if (vd->ops->cancel && h->loop)
			vd->ops->cancel(vd);
		pthread_mutex_unlock(&vd->lock);
	}
	if (!h->loop)
		return 0;
	rc = loop_drain(h->loop, none_draining, h, timeout_ms);
	if (rc)
		log_error("virtio: %u requests still in the kernel after %u ms at "
			  "teardown; they may write guest memory after it is unmapped",
			  virtio_vm_draining(h), timeout_ms);
	return rc;
}
