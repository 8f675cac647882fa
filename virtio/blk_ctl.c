/* virtio/blk_ctl.c - what the VM asks of its drives from outside their
 * queues: the fuzzing reset loop's overlay (writes kept in memory and
 * dropped at each reset, requests served synchronously on the loop's
 * thread), and PATCH /drives/{id} on a running VM (a new file, new
 * limits). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/blk.h"

int blk_overlay_start(struct dev_host *h, struct errbuf *err)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);
	int count = 0;

	for (unsigned i = 0; i < ndev; i++) {
		struct blk *b = blk_of(devs[i]);
		int r;

		if (!b)
			continue;
		if (!b->ov) {
			b->ov = calloc(1, sizeof(*b->ov));
			if (!b->ov)
				return err_set(err, ENOMEM, "%s: out of memory", b->vd.name);
			r = ov_init(b->ov, b->fd, b->sectors * SECTOR);
			if (r) {
				free(b->ov);
				b->ov = NULL;
				return err_set(err, -r, "%s: overlay: %s", b->vd.name, strerror(-r));
			}
		}
		/* no loop reads the kick eventfd: QueueNotify must trap (the
		 * transport then signals the eventfd, which nobody needs to
		 * drain, and blk_overlay_poll serves the queue) */
		r = virtio_dev_trap_kicks(&b->vd);
		if (r)
			return err_set(err, -r, "%s: removing the kick ioeventfd: %s",
				       b->vd.name, strerror(-r));
		count++;
	}
	return count;
}

int blk_update(struct dev_host *h, const char *id, int fd, uint64_t size,
			   const struct ratelimit_cfg *rl, struct errbuf *err)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);
	struct blk *b = NULL;
	int r = 0;

	for (unsigned i = 0; i < ndev && !b; i++) {
		b = blk_of(devs[i]);
		if (b && strncmp(b->id, id, sizeof(b->id)))
			b = NULL;
	}
	if (!b) {
		if (fd >= 0)
			close(fd);
		return err_set(err, ENODEV, "drive '%s': no such device", id);
	}
	pthread_mutex_lock(&b->vd.lock);
	if (fd >= 0 && b->ov) {
		r = err_set(err, EBUSY, "drive '%s': its file is under a fuzzing overlay", id);
	} else if (fd >= 0 && dup3(fd, b->fd, O_CLOEXEC) < 0) {
		r = err_set(err, errno, "drive '%s': %s", id, strerror(errno));
	} else if (fd >= 0) {
		if (size % SECTOR)
			log_warn("drive '%s': size is not a multiple of 512; the tail is unused", id);
		b->sectors = size / SECTOR;
		b->cfg.capacity = b->sectors;
		virtio_dev_config_changed(&b->vd);
	}
	if (!r && rl)
		rl_update(&b->rl, rl);
	pthread_mutex_unlock(&b->vd.lock);
	if (fd >= 0)
		close(fd);
	if (!r && rl)
		blk_rl_resume(&b->rl);	/* what it held may go under the new limits */
	return r;
}

void blk_overlay_poll(struct dev_host *h, uint64_t gpa)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);

	for (unsigned i = 0; i < ndev; i++) {
		struct blk *b = blk_of(devs[i]);

		if (!b || !b->ov || (gpa != UINT64_MAX &&
				     (gpa < b->vd.base || gpa - b->vd.base >= VIRTIO_MMIO_SIZE)))
			continue;
		pthread_mutex_lock(&b->vd.lock);
		if (b->npending)
			blk_start_restored(&b->vd);	/* (then the queue) */
		else
			blk_process(b);
		pthread_mutex_unlock(&b->vd.lock);
	}
}

void blk_overlay_reset(struct dev_host *h)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);

	for (unsigned i = 0; i < ndev; i++) {
		struct blk *b = blk_of(devs[i]);

		if (b && b->ov) {
			pthread_mutex_lock(&b->vd.lock);
			ov_reset(b->ov);
			pthread_mutex_unlock(&b->vd.lock);
		}
	}
}
