/* virtio/virtio.c - the VM's virtio devices as a whole: creating them from
 * the configuration (one MMIO window and GSI each) and announcing them to
 * Linux on the kernel command line. */
#include <stdio.h>
#include <string.h>

#include "virtio/virtio.h"

int virtio_create_devices(struct dev_host *h, const struct vm_config *cfg,
			  struct errbuf *err)
{
	unsigned n = 0;
	int rc;

	for (unsigned i = 0; i < cfg->ndrives; i++) {
		rc = blk_create(h, n++, &cfg->drives[i], NULL, err);
		if (rc < 0)
			return rc;
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		rc = net_create(h, n++, &cfg->nets[i], NULL, err);
		if (rc < 0)
			return rc;
	}
	if (cfg->rng) {
		rc = rng_create(h, n++, &cfg->rng_rl, NULL, err);
		if (rc < 0)
			return rc;
	}
	if (cfg->vsock.uds) {
		rc = vsock_create(h, n++, &cfg->vsock, NULL, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int virtio_cmdline(struct dev_host *h, char *buf, size_t len)
{
	unsigned ndev;
	struct device *const *devs = host_devices(h, &ndev);
	size_t used = 0;

	if (len == 0)
		return -ENOSPC;
	buf[0] = 0;
	for (unsigned i = 0; i < ndev; i++) {
		struct virtio_dev *vd = virtio_dev_of(devs[i]);
		int k;

		if (!vd)
			continue;
		k = snprintf(buf + used, len - used, " virtio_mmio.device=4K@%#llx:%u",
			     (unsigned long long)vd->base, vd->gsi);
		if (k < 0 || (size_t)k >= len - used) {
			buf[used] = 0;
			return -ENOSPC;
		}
		used += (size_t)k;
	}
	return (int)used;
}
