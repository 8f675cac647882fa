/* monitor/work.c - runtime work for a VM, without single-slot hooks: the
 * loop thread's work queue (vm_loop_post: any thread posts, the loop wakes
 * on an eventfd and runs the queue), the signals that post work instead of
 * stopping the VM (vm_signal_add: SIGUSR1 for a snapshot), and the
 * control-port command handlers (vm_ctl_add: snapshot, fuzzing, the
 * sandbox self-test), each a small table.
 *
 * Not loop_post (monitor/loop.c): that re-arms an operation for the next
 * turn of the loop, from the loop thread itself; this hands work to the
 * loop from any thread. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"

int vm_loop_post(struct vm *vm, vm_work_fn fn, void *ctx)
{
	struct vm_work_queue *q = &vm->work;
	uint64_t one = 1;
	int r = 0;

	pthread_mutex_lock(&q->lock);
	if (q->closed)
		r = -ESHUTDOWN;
	else if (q->n == VM_WORK_MAX)
		r = -EAGAIN;
	else
		q->items[(q->head + q->n++) % VM_WORK_MAX] = (struct vm_work){ fn, ctx };
	pthread_mutex_unlock(&q->lock);
	/* a counter: posts before the loop exists wake it when it starts */
	if (!r && write(q->efd, &one, sizeof(one)) < 0)
		r = -errno;
	return r;
}

void vm_work_run(struct vm *vm, bool close)
{
	struct vm_work_queue *q = &vm->work;
	uint64_t n;
	unsigned todo;

	if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("work eventfd: %m");
	pthread_mutex_lock(&q->lock);
	q->closed |= close;	/* closed: nothing more comes in */
	todo = q->n;	/* open: what a fn posts runs on the next wake-up */
	while (todo--) {
		struct vm_work w = q->items[q->head];

		q->head = (q->head + 1) % VM_WORK_MAX;
		q->n--;
		pthread_mutex_unlock(&q->lock);
		w.fn(vm, w.ctx);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
}

int vm_signal_add(struct vm *vm, int signo, vm_work_fn fn, void *ctx)
{
	if (vm_get_phase(vm) != VM_CONFIGURED)
		return -EBUSY;
	if (vm->nsignals == ARRAY_SIZE(vm->signals))
		return -ENOSPC;
	vm->signals[vm->nsignals++] = (struct vm_signal){ signo, fn, ctx };
	return 0;
}

void vm_signal_remove(struct vm *vm, vm_work_fn fn, void *ctx)
{
	unsigned out = 0;

	for (unsigned i = 0; i < vm->nsignals; i++)
		if (vm->signals[i].fn != fn || vm->signals[i].ctx != ctx)
			vm->signals[out++] = vm->signals[i];
	vm->nsignals = out;
}

int vm_ctl_add(struct vm *vm, unsigned first, unsigned last, vm_ctl_fn fn, void *ctx)
{
	if (vm_get_phase(vm) != VM_CONFIGURED)
		return -EBUSY;	/* vCPU threads read the table without a lock */
	if (first > last)
		return -EINVAL;
	if (vm->nctls == ARRAY_SIZE(vm->ctls))
		return -ENOSPC;
	vm->ctls[vm->nctls++] = (struct vm_ctl){ first, last, fn, ctx };
	return 0;
}

void vm_ctl_remove(struct vm *vm, vm_ctl_fn fn, void *ctx)
{
	unsigned out = 0;

	for (unsigned i = 0; i < vm->nctls; i++)
		if (vm->ctls[i].fn != fn || vm->ctls[i].ctx != ctx)
			vm->ctls[out++] = vm->ctls[i];
	vm->nctls = out;
}

int vm_ctl_dispatch(struct vm *vm, unsigned cmd, uint32_t arg, uint64_t data)
{
	for (unsigned i = 0; i < vm->nctls; i++) {
		const struct vm_ctl *c = &vm->ctls[i];

		if (cmd >= c->first && cmd <= c->last && c->fn(vm, c->ctx, cmd, arg, data) == 0)
			return 0;
	}
	return -ENOSYS;
}
