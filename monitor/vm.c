/* monitor/vm.c - the VM's life: create (KVM VM, memory, irqchip, devices,
 * vCPUs, kernel), run (vCPU threads + the event loop), stop, destroy. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "devices/devices.h"
#include "monitor/boot/boot.h"
#include "monitor/metrics.h"
#include "monitor/monitor.h"
#include "seccomp/seccomp.h"
#include "virtio/virtio.h"

void vm_request_stop(struct vm *vm, int exit_code, const char *fmt, ...)
{
	int expected = 0;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->stopping, &expected, 1))
		return;
	vm->exit_code = exit_code;
	vm->exit_reason[0] = 0;
	if (fmt) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
		va_end(ap);
	}
	vm->ts[TS_EXIT] = now_ns();
	pthread_mutex_lock(&vm->pause_lock);	/* wake parked vCPUs and pausers */
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	if (vm->stop_efd >= 0 && write(vm->stop_efd, &one, sizeof(one)) < 0)
		log_debug("stop eventfd: %m");
}

void vm_marker(struct vm *vm, uint32_t value)
{
	unsigned i = atomic_fetch_add(&vm->nmarkers, 1);

	if (i >= MAX_MARKERS)
		return;
	vm->marker_ts[i] = now_ns();
	vm->marker_val[i] = value;
}

void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	if (vm->ioapic) {
		ioapic_set_irq(vm->ioapic, gsi, level);
	} else if (vm->vm_fd >= 0) {
		struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

		if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
			log_debug("KVM_IRQ_LINE %u: %m", gsi);
	}
}

int vm_add_device(struct vm *vm, struct device *dev)
{
	if (vm->ndevices == ARRAY_SIZE(vm->devices))
		return -ENOSPC;
	vm->devices[vm->ndevices++] = dev;
	return 0;
}

/* Maps a whole file read-only.  0 or -errno with a message. */
static int map_file(const char *what, const char *path, const uint8_t **data,
		    size_t *len, struct errbuf *err)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(err, errno, "%s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, EINVAL, "%s '%s': not a regular file", what, path);
	}
	if (st.st_size == 0) {
		close(fd);
		return err_set(err, EINVAL, "%s '%s': file is empty", what, path);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_set(err, errno, "%s '%s': %s", what, path, strerror(errno));
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}

int vm_set_memslot(struct vm *vm, unsigned slot, uint32_t flags)
{
	struct kvm_userspace_memory_region r = { .slot = slot, .flags = flags };

	if (slot == 0) {
		r.guest_phys_addr = 0;
		r.memory_size = vm->mem.low_size;
		r.userspace_addr = (uintptr_t)vm->mem.host;
	} else {
		r.guest_phys_addr = MMIO_GAP_END;
		r.memory_size = vm->mem.size - vm->mem.low_size;
		r.userspace_addr = (uintptr_t)(vm->mem.host + vm->mem.low_size);
	}
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static int vm_setup_memory(struct vm *vm, struct errbuf *err)
{
	int ret = vm->cfg->mem_file ?
		gmem_init_file(&vm->mem, vm->cfg->mem_size, vm->cfg->mem_file, err) :
		gmem_init(&vm->mem, vm->cfg->mem_size);

	if (ret && vm->cfg->mem_file)
		return ret;
	/* a VM that will be snapshotted keeps 4 KiB pages (gmem_small_pages):
	 * one with a --snapshot-dir session, or dirty tracking; a VM of the
	 * API or libember, which may never be, keeps huge pages and their
	 * faster boot (a Full snapshot of it pays for them) */
	if (!ret && (((vm->cfg->sandbox_features & SC_F_SNAPSHOT) && !vm->cfg->write_anywhere) ||
		     vm->cfg->track_dirty))
		gmem_small_pages(&vm->mem);
	if (ret)
		return err_set(err, -ret, "guest memory (%llu bytes): %s",
			       (unsigned long long)vm->cfg->mem_size, strerror(-ret));
	ret = vm_set_memslot(vm, 0, 0);
	if (ret)
		return err_set(err, -ret, "KVM_SET_USER_MEMORY_REGION: %s", strerror(-ret));
	if (vm->mem.size > vm->mem.low_size) {
		ret = vm_set_memslot(vm, 1, 0);
		if (ret)
			return err_set(err, -ret, "KVM_SET_USER_MEMORY_REGION (high): %s",
				       strerror(-ret));
	}
	e820_build(&vm->mem, &vm->e820);
	return 0;
}

/* --irqchip full: GSI n to PIC pin n (n < 16) and IOAPIC pin n, as KVM's
 * default routes, except GSI 0 to IOAPIC pin 2, where the MP table puts
 * ISA IRQ 0 (KVM's default sends it to pin 0, and Linux never saw a PIT
 * tick); GSI 2 (the cascade) has no route.  0 or -errno. */
static int vm_full_irq_routes(struct vm *vm)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + (15 + IOAPIC_PINS - 1) *
					   sizeof(r->entries[0]));
	int ret = 0;

	if (!r)
		return -ENOMEM;
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		struct kvm_irq_routing_entry *e;

		if (gsi == 2)
			continue;
		if (gsi < 16) {
			e = &r->entries[r->nr++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		e = &r->entries[r->nr++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi ? gsi : 2;
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

static int vm_setup_irqchip(struct vm *vm, struct errbuf *err)
{
	int r;

	if (vm->cfg->irqchip == IRQCHIP_SPLIT) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP };

		cap.args[0] = IOAPIC_PINS;
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			return err_set(err, errno, "KVM_CAP_SPLIT_IRQCHIP: %s (try --irqchip full)",
				       strerror(errno));
		r = ioapic_create(&vm->host, &vm->ioapic);
		if (r)
			return err_set(err, -r, "ioapic: %s", strerror(-r));
		return 0;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(err, errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	r = vm_full_irq_routes(vm);
	if (r)
		return err_set(err, -r, "KVM_SET_GSI_ROUTING: %s", strerror(-r));
	if (vm->cfg->pit) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
			return err_set(err, errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	}
	return 0;
}

static int console_out_fd(const struct vm_config *cfg, struct errbuf *err)
{
	int fd;

	switch (cfg->console) {
	case CONSOLE_NONE:
		return -1;
	case CONSOLE_FILE:
		fd = open(cfg->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return err_set(err, errno, "console '%s': %s", cfg->console_path,
				       strerror(errno));
		return fd;
	default:
		return STDOUT_FILENO;
	}
}

#ifdef EMBER_TEST_HOOKS
/* ember-test only: SIGUSR2 types Ctrl-Alt-Del on the i8042 (the
 * integration tests' stand-in for the API's SendCtrlAltDel), on the loop
 * thread. */
static void on_sigusr2(struct vm *vm, void *ctx)
{
	int r = i8042_send_ctrl_alt_del(ctx);

	(void)vm;
	if (r)
		log_warn("i8042: Ctrl-Alt-Del not sent: %s", strerror(-r));
	else
		log_info("i8042: Ctrl-Alt-Del sent");
}
#endif

static int vm_setup_devices(struct vm *vm, struct errbuf *err)
{
	int out_fd = console_out_fd(vm->cfg, err);
	struct device *kbd = NULL;
	int r;

	if (out_fd < -1)
		return out_fd;
	vm->console_fd = out_fd;
	r = serial_create(&vm->host, COM1_BASE, COM1_IRQ, out_fd, &vm->serial);
	if (!r)
		r = i8042_create(&vm->host, &kbd);
#ifdef EMBER_TEST_HOOKS
	if (!r)
		r = vm_signal_add(vm, SIGUSR2, on_sigusr2, kbd);
#endif
	if (!r)
		r = debug_exit_create(&vm->host, NULL);
	if (!r)
		r = ctlport_create(&vm->host, &vm->ctlport);
	if (r)
		return err_set(err, -r, "devices: %s", strerror(-r));
	return 0;
}

static int vm_load(struct vm *vm, struct boot_entry *entry, struct errbuf *err)
{
	const struct vm_config *cfg = vm->cfg;
	struct boot_input in = { 0 };
	char line[BOOT_CMDLINE_MAX], devs[VIRTIO_MMIO_MAX * 48];
	int r;

	in.cmdline = cfg->cmdline ? cfg->cmdline : "";
	in.ncpus = vm->ncpus;
	in.proto = cfg->boot_proto;
	if (!cfg->raw) {
		/* + the virtio-mmio devices, the default guest's and ember-init's
		 * parameters (monitor/linux.c) */
		if (virtio_cmdline(&vm->host, devs, sizeof(devs)) < 0)
			return err_set(err, ENOSPC, "kernel command line: too many virtio devices");
		r = linux_cmdline(cfg, devs, line, sizeof(line), err);
		if (r)
			return r;
		in.cmdline = line;
	}
	if (cfg->raw) {
		in.path = cfg->raw;
		r = map_file("raw image", cfg->raw, &in.image, &in.len, err);
		if (r)
			return r;
		r = boot_load_raw(vm, &in, cfg->raw_addr, entry, err);
	} else {
		in.path = cfg->kernel;
		r = map_file("kernel", cfg->kernel, &in.image, &in.len, err);
		if (r)
			return r;
		if (cfg->initrd) {
			in.initrd_path = cfg->initrd;
			r = map_file("initrd", cfg->initrd, &in.initrd, &in.initrd_len, err);
			if (r)
				goto out;
		}
		r = boot_load(vm, &in, entry, err);
	}
	if (!r)
		r = mptable_write(vm, vm->ncpus, err);
out:
	if (in.image)
		munmap((void *)in.image, in.len);
	if (in.initrd)
		munmap((void *)in.initrd, in.initrd_len);
	return r;
}

int vm_create(const struct vm_config *cfg, struct vm **out, struct errbuf *err,
	      int *status_out)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	struct boot_entry entry;
	int r, v;

	*status_out = EXIT_HOSTFAIL;
	if (!vm)
		return err_set(err, ENOMEM, "out of memory");
	vm->cfg = cfg;
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = vm->console_fd = -1;
	vm->work.efd = -1;
	pthread_mutex_init(&vm->work.lock, NULL);
	vm->mem.fd = -1;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->ncpus = cfg->cpus;
	vm->ts[TS_START] = cfg->start_ns ? cfg->start_ns : now_ns();
	*out = vm;

	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vm->work.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0 || vm->work.efd < 0)
		return err_set(err, errno, "eventfd: %s", strerror(errno));
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return err_set(err, errno, "/dev/kvm: %s", strerror(errno));
	v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION)
		return err_set(err, EINVAL, "/dev/kvm: API version %d, ember needs %d", v,
			       KVM_API_VERSION);
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0)
		return err_set(err, errno, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return err_set(err, errno, "KVM_CREATE_VM: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){ KVM_IDMAP_ADDR }) < 0)
		return err_set(err, errno, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return err_set(err, errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	vm->ts[TS_VM_CREATED] = now_ns();
	vm_host_init(vm);	/* the devices' view of vm, before any device */

	/* memory before the irqchip: registering memslots after KVM's
	 * interrupt controllers exist waits for RCU grace periods */
	r = vm_setup_memory(vm, err);
	if (r) {
		if (cfg->mem_file && (r == -EPERM || r == -EINVAL))
			*status_out = EXIT_BADINPUT;	/* the file, not the host */
		return r;
	}
	vm->ts[TS_MEMORY] = now_ns();
	r = vm_setup_irqchip(vm, err);
	if (r)
		return r;
	if (cfg->dirty_ring && (r = dring_enable(vm, 4096)))
		return err_set(err, -r, "KVM dirty ring: %s", strerror(-r));
	vm->ts[TS_IRQCHIP] = now_ns();
	r = vm_setup_devices(vm, err);
	if (r)
		return r;
	r = virtio_create_devices(&vm->host, cfg, err);
	if (r) {
		*status_out = EXIT_BADINPUT;
		return r;
	}
	for (unsigned i = 0; i < vm->ncpus; i++) {
		r = vcpu_create(vm, i, &vm->vcpus[i]);
		if (r)
			return err_set(err, -r, "vCPU %u: %s", i, strerror(-r));
	}
	vm->ts[TS_VCPUS] = now_ns();
	r = metrics_open(vm, err);	/* before the sandbox, which opens nothing */
	if (r) {
		*status_out = EXIT_BADINPUT;
		return r;
	}
	if (cfg->mem_file) {	/* restore: snapshot/ puts the state in */
		*status_out = EXIT_OK;
		return 0;
	}
	r = vm_load(vm, &entry, err);
	if (r) {
		*status_out = EXIT_BADINPUT;
		return r;
	}
	r = vcpu_setup_boot(vm->vcpus[0], &entry);
	if (r)
		return err_set(err, -r, "boot vCPU set-up: %s", strerror(-r));
	vm->ts[TS_LOADED] = now_ns();
	*status_out = EXIT_OK;
	return 0;
}

/* ---- running ---------------------------------------------------------- */
struct vm_events {
	struct loop_op stop_op, sig_op, work_op;
	struct vm *vm;
	int sig_fd;
	struct signalfd_siginfo si;
};

static void on_stop(struct loop_op *op, int res, uint32_t flags)
{
	struct vm_events *ev = container_of(op, struct vm_events, stop_op);

	(void)res;
	(void)flags;
	if (atomic_load(&ev->vm->stopping))
		loop_stop(ev->vm->loop);
}

static void on_signal(struct loop_op *op, int res, uint32_t flags)
{
	struct vm_events *ev = container_of(op, struct vm_events, sig_op);
	struct vm *vm = ev->vm;

	(void)flags;
	if (res != (int)sizeof(ev->si)) {
		log_warn("signalfd read: %s", res < 0 ? strerror(-res) : "short read");
		return;
	}
	for (unsigned i = 0; i < vm->nsignals; i++) {
		const struct vm_signal *sg = &vm->signals[i];
		struct io_uring_sqe *sqe;
		int r;

		if (sg->signo != (int)ev->si.ssi_signo)
			continue;
		r = vm_loop_post(vm, sg->fn, sg->ctx);
		if (r)
			log_warn("signal %s: work not queued: %s", strsignal(sg->signo), strerror(-r));
		sqe = loop_sqe(vm->loop, &ev->sig_op);	/* read the next one */
		io_uring_prep_read(sqe, ev->sig_fd, &ev->si, sizeof(ev->si), 0);
		return;
	}
	atomic_store(&vm->stop_urgent, 1);	/* before the stop wakes anyone */
	vm_request_stop(vm, 128 + (int)ev->si.ssi_signo, "stopped by signal %s",
			strsignal((int)ev->si.ssi_signo));
	/* on_stop ends the loop */
}

static void on_work(struct loop_op *op, int res, uint32_t flags)
{
	struct vm_events *ev = container_of(op, struct vm_events, work_op);

	(void)res;
	(void)flags;
	vm_work_run(ev->vm, false);
}

int vm_start(struct vm *vm, struct loop *loop, struct errbuf *err)
{
	struct vm_events *ev;
	sigset_t sigs;
	int r;

	if (vm_get_phase(vm) != VM_CONFIGURED)
		return err_set(err, EBUSY, "cannot run: VM is %s", vm_phase_name(vm_get_phase(vm)));
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return err_set(err, ENOMEM, "out of memory");
	ev->vm = vm;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	for (unsigned i = 0; i < vm->nsignals; i++)
		sigaddset(&sigs, vm->signals[i].signo);	/* e.g. SIGUSR1: a snapshot */
	/* blocked in every thread (vCPU threads inherit the mask) */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	ev->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);

	/* sandbox: capabilities go while this is the only thread and before
	 * the ring exists (its workers copy the creds of their creator) */
	r = sc_vm_setup(vm, err);
	vm->ts[TS_SANDBOX] = now_ns();
	if (!r && (r = loop_init(loop, 256)))
		err_set(err, -r, "io_uring: %s", strerror(-r));
	if (r) {
		if (ev->sig_fd >= 0)
			close(ev->sig_fd);
		free(ev);
		vm_transition(vm, VM_STOPPED, NULL);
		return r;
	}
	vm->loop = loop;
	vm->host.loop = loop;
	vm->events = ev;
	virtio_start(&vm->host);	/* kick polls; requests a restore left pending */
	metrics_start(vm);	/* the periodic line */
	ev->stop_op.fn = on_stop;
	ev->sig_op.fn = on_signal;
	ev->work_op.fn = on_work;
	loop_poll(loop, vm->stop_efd, POLLIN, true, &ev->stop_op);
	loop_poll(loop, vm->work.efd, POLLIN, true, &ev->work_op);
	if (ev->sig_fd >= 0) {
		struct io_uring_sqe *sqe = loop_sqe(loop, &ev->sig_op);

		io_uring_prep_read(sqe, ev->sig_fd, &ev->si, sizeof(ev->si), 0);
	}
	if (vm->cfg->console == CONSOLE_STDIO && console_create(vm, &vm->console))
		log_debug("console input not available");
	vm->ts[TS_LOOP] = now_ns();

	/* from here on vm_wait ends it all: a failure is a stop request */
	r = vm_transition(vm, VM_RUNNING, err);
	if (r)
		vm_request_stop(vm, EXIT_HOSTFAIL, "%s", err->msg);
	for (unsigned i = 0; !r && i < vm->ncpus; i++) {
		if (i == 0)
			vm->ts[TS_THREAD] = now_ns();
		r = vcpu_start(vm->vcpus[i]);
		if (r)
			vm_request_stop(vm, EXIT_HOSTFAIL, "vCPU %u thread: %s", i, strerror(-r));
	}
	/* the loop thread's own filter, now that every vCPU thread exists */
	if (!atomic_load(&vm->stopping) && (r = sc_vm_enter(vm, SC_LOOP)))
		vm_request_stop(vm, EXIT_HOSTFAIL, "event loop seccomp filter: %s", strerror(-r));
	return 0;
}

int vm_wait(struct vm *vm)
{
	struct vm_events *ev = vm->events;
	uint64_t dropped;
	int r;

	if (!atomic_load(&vm->stopping)) {
		r = loop_run(vm->loop);
		if (r)
			vm_request_stop(vm, EXIT_HOSTFAIL, "event loop: %s", strerror(-r));
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_join(vm->vcpus[i]);
	vm->ts[TS_JOINED] = now_ns();
	vm_transition(vm, VM_STOPPED, NULL);
	/* I/O still in the kernel reads or writes guest RAM: it must end
	 * before the ring is closed (closing does not wait for it) and RAM is
	 * unmapped (vm_destroy); before console_destroy too, whose ops the
	 * drain may still dispatch */
	virtio_quiesce(&vm->host, 10000);
	metrics_stop(vm);	/* the last line, with every request counted */
	if (vm->serial)
		serial_flush(vm->serial);
	if (vm->console) {
		console_destroy(vm->console);
		vm->console = NULL;
	}
	loop_destroy(vm->loop);
	vm->loop = NULL;
	vm->host.loop = NULL;
	if (ev->sig_fd >= 0)
		close(ev->sig_fd);
	free(ev);
	vm->events = NULL;
	vm_work_run(vm, true);	/* what was posted and not run yet */
	if (vm->exit_reason[0])
		fprintf(stderr, "ember: %s\n", vm->exit_reason);
	if (vm->serial && (dropped = serial_dropped(vm->serial)))
		log_warn("console: %llu bytes of guest output dropped: the console took "
			 "no more when the VM stopped", (unsigned long long)dropped);
	vm->ts[TS_WAITED] = now_ns();
	return vm->exit_code;
}

int vm_run(struct vm *vm)
{
	struct loop loop;
	struct errbuf err = { "" };

	if (vm_start(vm, &loop, &err)) {
		log_error("%s", err.msg);
		return EXIT_HOSTFAIL;
	}
	return vm_wait(vm);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	dring_destroy(vm);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i])
			vcpu_destroy(vm->vcpus[i]);
	for (unsigned i = vm->ndevices; i-- > 0;)
		vm->devices[i]->ops->destroy(vm->devices[i]);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	if (vm->work.efd >= 0)
		close(vm->work.efd);
	pthread_mutex_destroy(&vm->work.lock);
	if (vm->console_fd > STDERR_FILENO)
		close(vm->console_fd);
	gmem_destroy(&vm->mem);
	sc_vm_free(vm);
	metrics_free(vm);
	free(vm->cpuid);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
	free(vm);
}

static const char *const ts_names[TS__COUNT] = {
	"process start", "VM created", "memory", "irqchip", "vCPUs", "kernel loaded",
	"sandbox set up", "event loop", "vCPU thread", "vCPU running", "first KVM_RUN",
	"exit request", "vCPUs joined", "stopped", "teardown",
};

void vm_print_boot_times(const struct vm *vm)
{
	uint64_t t0 = vm->ts[TS_START], prev = t0;
	unsigned n = atomic_load(&vm->nmarkers);

	fprintf(stderr, "ember: boot times (ms since process start, +ms since previous step)\n");
	for (int i = 1; i < TS__COUNT; i++) {
		if (!vm->ts[i])
			continue;
		fprintf(stderr, "  %-16s %9.3f  +%.3f\n", ts_names[i],
			(double)(vm->ts[i] - t0) / 1e6, (double)(vm->ts[i] - prev) / 1e6);
		prev = vm->ts[i];
	}
	for (unsigned i = 0; i < n && i < MAX_MARKERS; i++)
		fprintf(stderr, "  marker %-9u %9.3f\n", vm->marker_val[i],
			(double)(vm->marker_ts[i] - t0) / 1e6);
	fprintf(stderr, "  bus misses: %llu port, %llu MMIO (accesses that hit no device)\n",
		(unsigned long long)atomic_load(&vm->pio.misses),
		(unsigned long long)atomic_load(&vm->mmio.misses));
	vcpu_print_exit_stats(vm);
}
