/* monitor/host.c - the VM's side of devices/host.h: the struct dev_host
 * every device of a VM is given, its operations acting on the VM. */
#include "devices/host.h"
#include "monitor/monitor.h"

static struct vm *vm_of(struct dev_host *h)
{
	return container_of(h, struct vm, host);
}

static void host_vm_irq_line(struct dev_host *h, unsigned gsi, int level)
{
	vm_irq_line(vm_of(h), gsi, level);
}

static void host_vm_stop(struct dev_host *h, int status)
{
	vm_request_stop(vm_of(h), status, NULL);
}

static unsigned host_vm_state(struct dev_host *h)
{
	struct vm *vm = vm_of(h);
	unsigned s = 0;

	if (atomic_load(&vm->stop_urgent))
		s |= HOST_STOP_URGENT;
	if (atomic_load(&vm->stopping))
		s |= HOST_STOPPING;
	if (atomic_load(&vm->pause_req))
		s |= HOST_PAUSING;
	return s;
}

static void host_vm_marker(struct dev_host *h, uint32_t value)
{
	vm_marker(vm_of(h), value);
}

static int host_vm_ctl(struct dev_host *h, unsigned cmd, uint32_t arg, uint64_t data)
{
	return vm_ctl_dispatch(vm_of(h), cmd, arg, data);
}

static int host_vm_add_device(struct dev_host *h, struct device *d)
{
	return vm_add_device(vm_of(h), d);
}

static struct device *const *host_vm_devices(struct dev_host *h, unsigned *n)
{
	struct vm *vm = vm_of(h);

	*n = vm->ndevices;
	return vm->devices;
}

static const struct dev_host_ops vm_host_ops = {
	.irq_line = host_vm_irq_line,
	.stop = host_vm_stop,
	.state = host_vm_state,
	.marker = host_vm_marker,
	.ctl = host_vm_ctl,
	.add_device = host_vm_add_device,
	.devices = host_vm_devices,
};

void vm_host_init(struct vm *vm)
{
	vm->host = (struct dev_host){
		.ops = &vm_host_ops,
		.mem = &vm->mem,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.loop = vm->loop,
		.vm_fd = vm->vm_fd,
		.stop_efd = vm->stop_efd,
	};
}
