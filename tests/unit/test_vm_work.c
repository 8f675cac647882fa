/* Unit tests of a VM's runtime work and handlers (monitor/work.c): the
 * loop's work queue (order, posts from other threads, a full queue, the
 * close at the end of vm_wait), and the control-port handler table
 * (ranges, order, refusals).  No KVM, no loop: the test is the loop. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "monitor/monitor.h"

static struct vm *vm_new(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	cr_assert_not_null(vm);
	pthread_mutex_init(&vm->work.lock, NULL);
	vm->work.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_geq(vm->work.efd, 0);
	return vm;
}

static void vm_free(struct vm *vm)
{
	close(vm->work.efd);
	pthread_mutex_destroy(&vm->work.lock);
	free(vm);
}

/* The loop's view: is its eventfd readable (work waits)? */
static bool woken(struct vm *vm)
{
	uint64_t n;

	if (read(vm->work.efd, &n, sizeof(n)) != sizeof(n))
		return false;
	/* put it back: vm_work_run reads it itself */
	cr_assert_eq(write(vm->work.efd, &n, sizeof(n)), (ssize_t)sizeof(n));
	return true;
}

static int order[VM_WORK_MAX + 8];
static unsigned norder;

static void record(struct vm *vm, void *ctx)
{
	(void)vm;
	order[norder++] = (int)(intptr_t)ctx;
}

static void record_and_post(struct vm *vm, void *ctx)
{
	record(vm, ctx);
	cr_assert_eq(vm_loop_post(vm, record, (void *)(intptr_t)99), 0);
}

static void record_and_post_refused_check(struct vm *vm, void *ctx)
{
	record(vm, ctx);
	cr_assert_eq(vm_loop_post(vm, record, NULL), -ESHUTDOWN, "a post while closing");
}

Test(vm_work, runs_in_order_on_the_loop)
{
	struct vm *vm = vm_new();

	norder = 0;
	cr_assert_not(woken(vm));
	for (int i = 0; i < 3; i++)
		cr_assert_eq(vm_loop_post(vm, record, (void *)(intptr_t)i), 0);
	cr_assert(woken(vm), "a post does not wake the loop");
	vm_work_run(vm, false);
	cr_assert_eq(norder, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(order[i], i);
	cr_assert_not(woken(vm), "the loop is woken with nothing to do");
	vm_free(vm);
}

Test(vm_work, work_posted_by_work_runs_on_the_next_wakeup)
{
	struct vm *vm = vm_new();

	norder = 0;
	cr_assert_eq(vm_loop_post(vm, record_and_post, (void *)(intptr_t)1), 0);
	vm_work_run(vm, false);
	cr_assert_eq(norder, 1);
	cr_assert(woken(vm));
	vm_work_run(vm, false);
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[1], 99);
	vm_free(vm);
}

Test(vm_work, a_full_queue_refuses)
{
	struct vm *vm = vm_new();

	norder = 0;
	for (int i = 0; i < VM_WORK_MAX; i++)
		cr_assert_eq(vm_loop_post(vm, record, (void *)(intptr_t)i), 0);
	cr_assert_eq(vm_loop_post(vm, record, NULL), -EAGAIN);
	vm_work_run(vm, false);
	cr_assert_eq(norder, VM_WORK_MAX);
	cr_assert_eq(order[VM_WORK_MAX - 1], VM_WORK_MAX - 1);
	cr_assert_eq(vm_loop_post(vm, record, NULL), 0, "room again after a run");
	vm_free(vm);
}

Test(vm_work, close_runs_what_is_left_then_refuses)
{
	struct vm *vm = vm_new();

	norder = 0;
	cr_assert_eq(vm_loop_post(vm, record, (void *)(intptr_t)7), 0);
	/* posted by work that runs at the close: refused, not lost unseen */
	cr_assert_eq(vm_loop_post(vm, record_and_post_refused_check, NULL), 0);
	vm_work_run(vm, true);
	cr_assert_eq(norder, 2);
	cr_assert_eq(order[0], 7);
	cr_assert_eq(vm_loop_post(vm, record, NULL), -ESHUTDOWN);
	vm_free(vm);
}

struct poster {
	struct vm *vm;
	int base;
};

static void *post_many(void *arg)
{
	struct poster *p = arg;

	for (int i = 0; i < 16; i++)
		while (vm_loop_post(p->vm, record, (void *)(intptr_t)(p->base + i)) == -EAGAIN)
			;
	return NULL;
}

Test(vm_work, posts_from_other_threads)
{
	struct vm *vm = vm_new();
	struct poster p[4];
	pthread_t t[4];
	int last[4] = { -1, -1, -1, -1 };

	norder = 0;
	for (int i = 0; i < 4; i++) {
		p[i] = (struct poster){ vm, i * 100 };
		pthread_create(&t[i], NULL, post_many, &p[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	vm_work_run(vm, false);
	cr_assert_eq(norder, 64);
	for (unsigned i = 0; i < norder; i++) {	/* each thread's in its order */
		int who = order[i] / 100;

		cr_assert_gt(order[i] % 100, last[who]);
		last[who] = order[i] % 100;
	}
	vm_free(vm);
}

/* ---- control-port handlers ---- */
static int calls[3];

static int ctl_take(struct vm *vm, void *ctx, unsigned cmd, uint32_t arg, uint64_t data)
{
	(void)vm;
	(void)cmd;
	(void)data;
	calls[(intptr_t)ctx]++;
	return arg == 1 ? -ENOSYS : 0;	/* arg 1: "not mine", ask the next */
}

Test(vm_ctl, ranges_and_order)
{
	struct vm *vm = vm_new();

	memset(calls, 0, sizeof(calls));
	cr_assert_eq(vm_ctl_dispatch(vm, 3, 0, 0), -ENOSYS, "no handler at all");
	cr_assert_eq(vm_ctl_add(vm, 3, 3, ctl_take, (void *)0), 0);
	cr_assert_eq(vm_ctl_add(vm, 3, 6, ctl_take, (void *)1), 0);
	cr_assert_eq(vm_ctl_add(vm, 0x7f, 0x7f, ctl_take, (void *)2), 0);
	cr_assert_eq(vm_ctl_dispatch(vm, 3, 0, 0), 0);
	cr_assert_eq(calls[0], 1);
	cr_assert_eq(calls[1], 0, "the first that handles it ends the search");
	cr_assert_eq(vm_ctl_dispatch(vm, 3, 1, 0), -ENOSYS);
	cr_assert_eq(calls[0], 2);
	cr_assert_eq(calls[1], 1, "the next in the range is asked");
	cr_assert_eq(vm_ctl_dispatch(vm, 5, 0, 0), 0);
	cr_assert_eq(calls[1], 2);
	cr_assert_eq(vm_ctl_dispatch(vm, 7, 0, 0), -ENOSYS, "outside every range");
	cr_assert_eq(vm_ctl_dispatch(vm, 0x7f, 0, 0), 0);
	cr_assert_eq(calls[2], 1);
	vm_ctl_remove(vm, ctl_take, (void *)0);
	cr_assert_eq(vm_ctl_dispatch(vm, 3, 0, 0), 0);
	cr_assert_eq(calls[0], 2, "a removed handler was asked");
	cr_assert_eq(calls[1], 3);
	vm_free(vm);
}

Test(vm_ctl, refusals)
{
	struct vm *vm = vm_new();

	cr_assert_eq(vm_ctl_add(vm, 4, 3, ctl_take, NULL), -EINVAL);
	for (unsigned i = 0; i < ARRAY_SIZE(vm->ctls); i++)
		cr_assert_eq(vm_ctl_add(vm, i, i, ctl_take, NULL), 0);
	cr_assert_eq(vm_ctl_add(vm, 9, 9, ctl_take, NULL), -ENOSPC);
	vm_ctl_remove(vm, ctl_take, NULL);
	cr_assert_eq(vm->nctls, 0);
	atomic_store(&vm->phase, VM_RUNNING);
	cr_assert_eq(vm_ctl_add(vm, 3, 3, ctl_take, NULL), -EBUSY,
		     "vCPU threads read the table without a lock");
	cr_assert_eq(vm_signal_add(vm, 10, record, NULL), -EBUSY);
	vm_free(vm);
}
