/* monitor/phase.c - the VM's life as explicit states, with one checked
 * table of the transitions:
 *
 *   configured --start--> running --pause--> paused
 *        |                   ^  <--resume--    |
 *        |                   |                 |
 *        +------stop------> stopped <--stop----+
 *                            (from running too)
 *
 * A VM is configured when vm_create returns, running from vm_start,
 * paused between vm_pause and vm_resume, and stopped when its vCPU
 * threads have ended (or it never started).  Nothing leaves stopped. */
#include <errno.h>

#include "monitor/monitor.h"

static const char *const phase_names[VM__PHASES] = {
	[VM_CONFIGURED] = "configured", [VM_RUNNING] = "running",
	[VM_PAUSED] = "paused", [VM_STOPPED] = "stopped",
};
/* what moving to a state is called, for refusals */
static const char *const phase_verbs[VM__PHASES] = {
	[VM_CONFIGURED] = "configure", [VM_RUNNING] = "run",
	[VM_PAUSED] = "pause", [VM_STOPPED] = "stop",
};
static const bool allowed[VM__PHASES][VM__PHASES] = {
	[VM_CONFIGURED] = { [VM_RUNNING] = true, [VM_STOPPED] = true },
	[VM_RUNNING] = { [VM_PAUSED] = true, [VM_STOPPED] = true },
	[VM_PAUSED] = { [VM_RUNNING] = true, [VM_STOPPED] = true },
};

const char *vm_phase_name(enum vm_phase s)
{
	return (unsigned)s < VM__PHASES ? phase_names[s] : "invalid";
}

enum vm_phase vm_get_phase(struct vm *vm)
{
	return (enum vm_phase)atomic_load(&vm->phase);
}

int vm_transition(struct vm *vm, enum vm_phase to, struct errbuf *err)
{
	int from = atomic_load(&vm->phase);

	if ((unsigned)to >= VM__PHASES)
		return err_set(err, EINVAL, "VM state %d does not exist", (int)to);
	do {
		if ((unsigned)from >= VM__PHASES || !allowed[from][to])
			return err_set(err, EBUSY, "cannot %s: VM is %s", phase_verbs[to],
				       vm_phase_name((enum vm_phase)from));
	} while (!atomic_compare_exchange_weak(&vm->phase, &from, (int)to));
	return 0;
}
