/* vcpu/vcpu.c - vCPU threads: the KVM_RUN loop and a validated exit
 * dispatch table.  Register accesses are done here, synchronously; any
 * queue work is handed to the event loop by ioeventfd. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "devices/devices.h"
#include "monitor/monitor.h"
#include "seccomp/seccomp.h"
#include "vcpu/vcpu.h"

#define VCPU_KICK_SIGNAL (SIGRTMIN + 1)

static void kick_handler(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN */
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

int vcpu_create(struct vm *vm, unsigned id, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	v->vm = vm;
	v->id = id;
	v->stats.kvm_fd = -1;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		r = -errno;
		free(v);
		return r;
	}
	*out = v;	/* from here on vcpu_destroy frees it */
	r = vcpu_stats_init(v, vm->cfg && vm->cfg->boot_time);
	if (r)
		return r;
	v->run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	r = dring_map_vcpu(vm, v);
	if (!r)
		r = cpu_setup_cpuid(v);
	if (vm->cfg->mem_file)	/* restore: the snapshot's MSRs and LAPIC follow */
		return r;
	if (!r)
		r = cpu_setup_msrs(v);
	if (!r)
		r = cpu_setup_lapic(v);
	return r;
}

/* ---- exits ------------------------------------------------------------ */
static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0)
		return ~0ull;
	return r.rip;
}

static int exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned size = run->io.size;
	uint64_t end;

	if ((size != 1 && size != 2 && size != 4) || run->io.count == 0 ||
	    __builtin_mul_overflow((uint64_t)size, run->io.count, &end) ||
	    __builtin_add_overflow(end, run->io.data_offset, &end) ||
	    end > (uint64_t)v->vm->vcpu_mmap_size) {
		vm_request_stop(v->vm, EXIT_KVMERROR,
				"vCPU %u: malformed port I/O exit (port 0x%x size %u count %u)",
				v->id, run->io.port, size, run->io.count);
		return 1;
	}
	if (v->stats.pio)
		v->stats.pio[run->io.port]++;
	for (uint32_t i = 0; i < run->io.count; i++) {
		uint8_t *data = (uint8_t *)run + run->io.data_offset + i * size;

		bus_access(&v->vm->pio, run->io.port, data, size,
			   run->io.direction == KVM_EXIT_IO_OUT);
	}
	return 0;
}

static int exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len == 0 || run->mmio.len > 8) {
		vm_request_stop(v->vm, EXIT_KVMERROR,
				"vCPU %u: malformed MMIO exit (address 0x%llx length %u)", v->id,
				(unsigned long long)run->mmio.phys_addr, run->mmio.len);
		return 1;
	}
	if (v->stats.detail) {	/* --boot-time: by range */
		const struct bus_range *r = bus_find(&v->vm->mmio, run->mmio.phys_addr);
		size_t i = r ? (size_t)(r - v->vm->mmio.r) : VCPU_STATS_MMIO - 1;

		v->stats.mmio[i < VCPU_STATS_MMIO ? i : VCPU_STATS_MMIO - 1]++;
	}
	bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		   run->mmio.is_write);
	return 0;
}

void vcpu_shutdown_reason(unsigned id, const struct kvm_regs *r, char *buf, size_t len)
{
	if (!r)
		snprintf(buf, len, "guest triple fault on vCPU %u (its registers could not be read)", id);
	else if (r->rip == 0xfff0 && r->rflags == 0x2 && r->rsp == 0)
		snprintf(buf, len, "guest triple fault on vCPU %u (KVM reset the vCPU when it "
			 "stopped it, so where it faulted is not known)", id);
	else
		snprintf(buf, len, "guest triple fault on vCPU %u at RIP 0x%llx", id,
			 (unsigned long long)r->rip);
}

static int exit_shutdown(struct vcpu *v)
{
	struct kvm_regs r;
	char why[128];
	bool ok = ioctl(v->fd, KVM_GET_REGS, &r) == 0;

	vcpu_shutdown_reason(v->id, ok ? &r : NULL, why, sizeof(why));
	vm_request_stop(v->vm, EXIT_TRIPLEFAULT, "%s", why);
	return 1;
}

static int exit_fail_entry(struct vcpu *v)
{
	vm_request_stop(v->vm, EXIT_KVMERROR,
			"vCPU %u: KVM could not enter the guest (hardware reason 0x%llx)",
			v->id, (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
	return 1;
}

static int exit_internal(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	const char *what = run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		"emulation failure" : "internal error";
	char bytes[64] = "";

	/* for emulation failures KVM may report the instruction bytes */
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    run->internal.ndata >= 3 && run->internal.ndata <= 16) {
		uint64_t n = run->internal.data[1] & 0xff;
		const uint8_t *b = (const uint8_t *)&run->internal.data[2];
		size_t o = 0;

		for (uint64_t i = 0; i < n && i < 15 && o + 4 < sizeof(bytes); i++)
			o += (size_t)snprintf(bytes + o, sizeof(bytes) - o, " %02x", b[i]);
	}
	vm_request_stop(v->vm, EXIT_KVMERROR,
			"vCPU %u: KVM %s (suberror %u) at RIP 0x%llx%s%s", v->id, what,
			run->internal.suberror, (unsigned long long)vcpu_rip(v),
			bytes[0] ? ", instruction bytes" : "", bytes);
	return 1;
}

static int exit_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(v->vm, EXIT_OK, NULL);
		return 1;
	default:
		vm_request_stop(v->vm, EXIT_KVMERROR, "vCPU %u: guest crash event (type %u)",
				v->id, v->run->system_event.type);
		return 1;
	}
}

static int exit_eoi(struct vcpu *v)
{
	if (v->vm->ioapic)
		ioapic_eoi(v->vm->ioapic, v->run->eoi.vector);
	return 0;
}

/* KVM stops a vCPU whose dirty ring is full until ember has read it */
static int exit_dirty_ring_full(struct vcpu *v)
{
	int r = dring_harvest(v->vm);

	if (r)
		vm_request_stop(v->vm, EXIT_HOSTFAIL, "vCPU %u: dirty ring: %s", v->id,
				r == -EOVERFLOW ? "KVM overflowed it (dirty pages lost)" :
				strerror(-r));
	return r ? 1 : 0;
}

static int exit_nothing(struct vcpu *v)
{
	(void)v;
	return 0;
}

typedef int (*exit_fn)(struct vcpu *v);

static const exit_fn exit_table[] = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal,
	[KVM_EXIT_SYSTEM_EVENT] = exit_system_event,
	[KVM_EXIT_IOAPIC_EOI] = exit_eoi,
	[KVM_EXIT_INTR] = exit_nothing,
	[KVM_EXIT_DIRTY_RING_FULL] = exit_dirty_ring_full,
};

int vcpu_handle_exit(struct vcpu *v)
{
	uint32_t reason = v->run->exit_reason;
	uint64_t *cnt = &v->stats.reason[reason < VCPU_STATS_REASONS ? reason :
					 VCPU_STATS_REASONS - 1];

	/* this thread is its only writer: a plain add, stored whole for the
	 * metrics flush that reads it meanwhile (monitor/metrics.c) */
	__atomic_store_n(cnt, *cnt + 1, __ATOMIC_RELAXED);
	if (reason < ARRAY_SIZE(exit_table) && exit_table[reason])
		return exit_table[reason](v);
	vm_request_stop(v->vm, EXIT_BADEXIT, "vCPU %u: unhandled KVM exit reason %u at RIP 0x%llx",
			v->id, reason, (unsigned long long)vcpu_rip(v));
	return 1;
}

/* Parks the calling vCPU thread while a pause is requested.  Called after
 * a KVM_RUN that returned EINTR because of immediate_exit, so the state
 * KVM holds is complete. */
static void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_req) && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause(struct vm *vm, struct errbuf *err)
{
	unsigned running = 0;
	int r = vm_transition(vm, VM_PAUSED, err);

	if (r)
		return r;
	atomic_store(&vm->pause_req, 1);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i] && vm->vcpus[i]->started) {
			running++;
			vcpu_kick(vm->vcpus[i]);
		}
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < running && !atomic_load(&vm->stopping))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

void vm_start_paused(struct vm *vm)
{
	atomic_store(&vm->pause_req, 1);
}

int vm_resume(struct vm *vm, struct errbuf *err)
{
	int r = vm_transition(vm, VM_RUNNING, err);

	if (r)
		return r;
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_req, 0);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t kick;

	if (v->id == 0)
		vm->ts[TS_THREAD_IN] = now_ns();
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	/* and SIGBUS: blocked, a fault on guest RAM would kill the process
	 * before ember's handler could say why (monitor/memfile.c) */
	sigaddset(&kick, SIGBUS);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	/* the CPU time the process took to get here, for ember fork (a
	 * system call, so before the filter) */
	if (v->id == 0 && vm->cfg->cpu_time)
		vm->first_run_cpu_ns = cpu_time_ns();
	/* this thread's seccomp filter, before the guest runs at all */
	int sr = sc_vm_enter(vm, SC_VCPU);

	if (sr) {
		vm_request_stop(vm, EXIT_HOSTFAIL, "vCPU %u: seccomp filter: %s", v->id,
				strerror(-sr));
		return NULL;
	}
	if (v->id == 0)
		vm->ts[TS_FIRST_RUN] = now_ns();
	while (!atomic_load(&vm->stopping)) {
		if (atomic_load(&vm->pause_req))
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (atomic_load(&vm->pause_req))
					vcpu_park(v);
				continue;
			}
			if (errno == EFAULT && vm->mem.cow) {
				/* KVM could not fault a page of the memory file in */
				char msg[4200];

				memfile_changed_msg(vm->mem.path, msg, sizeof(msg));
				vm_request_stop(vm, EXIT_MEMFILE, "%s", msg);
				break;
			}
			vm_request_stop(vm, EXIT_HOSTFAIL, "vCPU %u: KVM_RUN: %s", v->id,
					strerror(errno));
			break;
		}
		v->exits++;
		if (vcpu_handle_exit(v))
			break;
	}
	return NULL;
}

/* The thread's stack: ember's own mapping, MADV_NOHUGEPAGE, with one
 * guard page below it.  pthread_create's own 8 MiB stack is plain
 * anonymous memory: where the host's THP setting is "always", the first
 * write to its top (the thread descriptor, by pthread_create) faulted in
 * a whole zeroed 2 MiB page, 2 MiB of a tiny guest's 3.2 MiB peak RSS and
 * the zeroing on the way to the first KVM_RUN.  A vCPU thread touches a
 * few pages of it. */
#define VCPU_STACK (8u << 20)
#define VCPU_STACK_GUARD 4096u

static int stack_alloc(struct vcpu *v, pthread_attr_t *attr)
{
	uint8_t *p = mmap(NULL, VCPU_STACK + VCPU_STACK_GUARD, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	int r;

	if (p == MAP_FAILED)
		return -errno;
	madvise(p, VCPU_STACK + VCPU_STACK_GUARD, MADV_NOHUGEPAGE);	/* a hint */
	if (mprotect(p + VCPU_STACK_GUARD, VCPU_STACK, PROT_READ | PROT_WRITE) < 0) {
		r = -errno;
		munmap(p, VCPU_STACK + VCPU_STACK_GUARD);
		return r;
	}
	v->stack = p;
	r = pthread_attr_setstack(attr, p + VCPU_STACK_GUARD, VCPU_STACK);
	return -r;
}

int vcpu_start(struct vcpu *v)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int r;

	pthread_once(&kick_once, install_kick_handler);
	r = -pthread_attr_init(&attr);
	if (!r && !v->stack)
		r = stack_alloc(v, &attr);
	else if (!r)
		r = -pthread_attr_setstack(&attr, v->stack + VCPU_STACK_GUARD, VCPU_STACK);
	if (r) {
		pthread_attr_destroy(&attr);
		return r;
	}
	/* the thread starts with every signal blocked and unblocks the kick */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&v->thread, &attr, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v || !v->started)
		return;
	/* immediate_exit covers the window before the thread enters KVM_RUN,
	 * the signal the time inside it */
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (!v || !v->started)
		return;
	pthread_join(v->thread, NULL);
	v->started = false;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	vcpu_join(v);
	if (v->run)
		munmap(v->run, (size_t)v->vm->vcpu_mmap_size);
	if (v->stack)
		munmap(v->stack, VCPU_STACK + VCPU_STACK_GUARD);
	vcpu_stats_free(v);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}
