/* Unit tests of the VM's state machine (monitor/phase.c): every
 * transition from every state, allowed or refused with the message that
 * names the state, and vm_pause/vm_resume going through it (no KVM: a VM
 * without vCPUs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"

static struct vm *vm_new(enum vm_phase s)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	cr_assert_not_null(vm);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	atomic_store(&vm->phase, (int)s);
	return vm;
}

static void vm_free(struct vm *vm)
{
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	free(vm);
}

Test(vm_phase, a_new_vm_is_configured)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	cr_assert_eq(vm_get_phase(vm), VM_CONFIGURED);
	cr_assert_str_eq(vm_phase_name(VM_CONFIGURED), "configured");
	cr_assert_str_eq(vm_phase_name(VM_RUNNING), "running");
	cr_assert_str_eq(vm_phase_name(VM_PAUSED), "paused");
	cr_assert_str_eq(vm_phase_name(VM_STOPPED), "stopped");
	cr_assert_str_eq(vm_phase_name(VM__PHASES), "invalid");
	free(vm);
}

/* The table, written out again: from -> to, and what a refusal says. */
static const struct {
	enum vm_phase from, to;
	bool ok;
	const char *msg;
} cases[] = {
	{ VM_CONFIGURED, VM_CONFIGURED, false, "cannot configure: VM is configured" },
	{ VM_CONFIGURED, VM_RUNNING, true, NULL },
	{ VM_CONFIGURED, VM_PAUSED, false, "cannot pause: VM is configured" },
	{ VM_CONFIGURED, VM_STOPPED, true, NULL },
	{ VM_RUNNING, VM_CONFIGURED, false, "cannot configure: VM is running" },
	{ VM_RUNNING, VM_RUNNING, false, "cannot run: VM is running" },
	{ VM_RUNNING, VM_PAUSED, true, NULL },
	{ VM_RUNNING, VM_STOPPED, true, NULL },
	{ VM_PAUSED, VM_CONFIGURED, false, "cannot configure: VM is paused" },
	{ VM_PAUSED, VM_RUNNING, true, NULL },
	{ VM_PAUSED, VM_PAUSED, false, "cannot pause: VM is paused" },
	{ VM_PAUSED, VM_STOPPED, true, NULL },
	{ VM_STOPPED, VM_CONFIGURED, false, "cannot configure: VM is stopped" },
	{ VM_STOPPED, VM_RUNNING, false, "cannot run: VM is stopped" },
	{ VM_STOPPED, VM_PAUSED, false, "cannot pause: VM is stopped" },
	{ VM_STOPPED, VM_STOPPED, false, "cannot stop: VM is stopped" },
};

Test(vm_phase, every_transition)
{
	cr_assert_eq(ARRAY_SIZE(cases), VM__PHASES * VM__PHASES);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vm *vm = vm_new(cases[i].from);
		struct errbuf err = { "" };
		int r = vm_transition(vm, cases[i].to, &err);

		if (cases[i].ok) {
			cr_assert_eq(r, 0, "case %u: %s", i, err.msg);
			cr_assert_eq(vm_get_phase(vm), cases[i].to, "case %u", i);
		} else {
			cr_assert_eq(r, -EBUSY, "case %u", i);
			cr_assert_str_eq(err.msg, cases[i].msg, "case %u", i);
			cr_assert_eq(vm_get_phase(vm), cases[i].from, "case %u: state changed", i);
		}
		vm_free(vm);
	}
}

Test(vm_phase, no_such_state)
{
	struct vm *vm = vm_new(VM_RUNNING);
	struct errbuf err = { "" };

	cr_assert_eq(vm_transition(vm, VM__PHASES, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "VM state 4 does not exist");
	cr_assert_eq(vm_get_phase(vm), VM_RUNNING);
	atomic_store(&vm->phase, 9);	/* a corrupted state refuses everything */
	cr_assert_eq(vm_transition(vm, VM_STOPPED, &err), -EBUSY);
	cr_assert_str_eq(err.msg, "cannot stop: VM is invalid");
	vm_free(vm);
}

Test(vm_phase, pause_and_resume_go_through_the_table)
{
	struct vm *vm = vm_new(VM_CONFIGURED);
	struct errbuf err = { "" };

	cr_assert_eq(vm_pause(vm, &err), -EBUSY);
	cr_assert_str_eq(err.msg, "cannot pause: VM is configured");
	cr_assert_eq(atomic_load(&vm->pause_req), 0, "a refused pause asked the vCPUs to park");
	cr_assert_eq(vm_transition(vm, VM_RUNNING, &err), 0);
	cr_assert_eq(vm_resume(vm, &err), -EBUSY);
	cr_assert_str_eq(err.msg, "cannot run: VM is running");
	cr_assert_eq(vm_pause(vm, &err), 0, "%s", err.msg);
	cr_assert_eq(vm_get_phase(vm), VM_PAUSED);
	cr_assert_eq(atomic_load(&vm->pause_req), 1);
	cr_assert_eq(vm_pause(vm, &err), -EBUSY);
	cr_assert_str_eq(err.msg, "cannot pause: VM is paused");
	cr_assert_eq(vm_resume(vm, &err), 0, "%s", err.msg);
	cr_assert_eq(vm_get_phase(vm), VM_RUNNING);
	cr_assert_eq(atomic_load(&vm->pause_req), 0);
	cr_assert_eq(vm_transition(vm, VM_STOPPED, &err), 0);
	cr_assert_eq(vm_pause(vm, NULL), -EBUSY);
	cr_assert_eq(vm_resume(vm, NULL), -EBUSY);
	vm_free(vm);
}
