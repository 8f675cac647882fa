/* snapshot/fuzz.c - the fuzzing reset loop.  A VM restored from a snapshot
 * taken at the guest's "snapshot here" runs one input at a time on the
 * caller's thread (one vCPU, KVM_RUN here, no vCPU thread, no event
 * loop); after each run only what changed is put back: the pages KVM's
 * dirty log saw written plus the pages ember wrote (the input, used rings
 * and buffers virtio devices filled: gmem_mark), from a read-only mapping
 * of the snapshot's memory; the devices whose state differs; the drives'
 * overlays (every virtio-blk write of a run goes to one, never to the
 * image, served at once on this thread: nothing is in flight at a reset);
 * the KVM clock; and the vCPU.
 *
 * Control-port protocol (port 0xe80, see devices/devices.h):
 *   0xe84/0xe88  32-bit data register, low/high words of a 64-bit value
 *   cmd 3 (CTL_SNAPSHOT)    the snapshot point (ember run --snapshot-on
 *                           control-port); a no-op inside a fuzz session
 *   cmd 4 (CTL_NEXT_INPUT)  data = guest-physical buffer address, the
 *                           argument (bits 8..31) = its size: ember writes
 *                           this run's input there (truncated to the
 *                           size; the buffer must be guest RAM, else the
 *                           run is a crash) and puts the number of bytes
 *                           written in the data register (read 0xe84)
 *   cmd 5 (CTL_DONE)        the run ended normally
 *   cmd 6 (CTL_CRASH)       the run found a bug; the argument is a code
 * A triple fault, a KVM emulation error, a guest exit (port 0xf4, control
 * command 2, reset) and the timeout end a run too. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "devices/devices.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"
#include "virtio/virtio.h"

#define FUZZ_TIMER_SIGNAL (SIGRTMIN + 2)
#define PAGE PAGE_SIZE_4K
#define GUARD_EVERY 256		/* --reset fast checks after run 1, 257, ... */
#define MSR_IA32_TSC 0x10
#define HV_X64_MSR_VP_RUNTIME 0x40000010	/* Hyper-V: the vCPU's run time */
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020	/* Hyper-V: reference time counter */
#define APIC_TMCCT 0x390

struct fuzz_dev {
	struct device *dev;
	const uint8_t *blob;	/* the device's state in the snapshot */
	size_t len;
};

struct fuzz {
	struct snap_image *img;
	struct vm *vm;
	struct vcpu *v;
	struct fuzz_opts o;
	struct cpu_state cpu;
	struct cpu_caps caps;
	struct vm_state vs;
	struct fuzz_dev dev[32];
	unsigned ndev;
	struct device *ctl;	/* the control port (its data register) */
	struct sbuf scratch;
	uint8_t *pristine;	/* the snapshot's memory, read-only */
	struct dirty_log dl;
	timer_t timer;
	bool have_timer;
	pid_t timer_tid;
	/* the run in progress */
	const uint8_t *in;
	size_t in_len;
	int outcome;		/* -1 while running */
	uint32_t code;
	char reason[256];
	int ndrives;		/* virtio-blk devices (over overlays) */
	uint64_t pages;		/* pages put back by this reset */
	struct fuzz_stats st;
};

static __thread struct kvm_run *fuzz_tls_run;
static __thread volatile sig_atomic_t fuzz_tls_fired;

static void on_timer(int sig)
{
	(void)sig;
	fuzz_tls_fired = 1;
	if (fuzz_tls_run)
		__atomic_store_n(&fuzz_tls_run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

/* ---- the control port ------------------------------------------------- */
static int set_ctl_data(struct fuzz *f, uint64_t v)
{
	struct sbuf view;
	uint32_t w[2] = { (uint32_t)v, (uint32_t)(v >> 32) };

	/* the data register is the control port's whole state: save it,
	 * put the value in, restore it */
	f->scratch.len = f->scratch.pos = 0;
	f->scratch.err = 0;
	if (f->ctl->ops->save(f->ctl, &f->scratch) || f->scratch.len != 12)
		return -EIO;
	memcpy(f->scratch.data + 4, w, 8);
	sbuf_view(&view, f->scratch.data, 12);
	return f->ctl->ops->restore(f->ctl, &view);
}

static void end_run(struct fuzz *f, int outcome, uint32_t code, const char *why)
{
	size_t n = strlen(why);

	if (f->outcome >= 0)
		return;
	f->outcome = outcome;
	f->code = code;
	if (n >= sizeof(f->reason))
		n = sizeof(f->reason) - 1;
	memcpy(f->reason, why, n);
	f->reason[n] = 0;
}

static int on_ctl(struct vm *vm, void *ctx, unsigned cmd, uint32_t arg, uint64_t data)
{
	struct fuzz *f = ctx;
	char why[128];

	switch (cmd) {
	case CTL_SNAPSHOT:
		return 0;
	case CTL_NEXT_INPUT: {
		size_t n = f->in_len < arg ? f->in_len : arg;
		uint8_t *p = n ? gm_ptr(vm, data, n) : NULL;

		if (n && !p) {
			snprintf(why, sizeof(why), "input buffer 0x%llx (%zu bytes) is not guest RAM",
				 (unsigned long long)data, n);
			end_run(f, FUZZ_CRASH, 0, why);
			return 0;
		}
		if (n) {
			memcpy(p, f->in, n);
			gmem_mark(&vm->mem, p, n);
		}
		if (set_ctl_data(f, n))
			end_run(f, FUZZ_ERROR, 0, "control port state");
		return 0;
	}
	case CTL_DONE:
		end_run(f, FUZZ_OK, arg, "done");
		return 0;
	case CTL_CRASH:
		snprintf(why, sizeof(why), "guest crash report, code 0x%x", arg);
		end_run(f, FUZZ_CRASH, arg, why);
		return 0;
	}
	return -ENOSYS;
}

/* ---- reset ------------------------------------------------------------ */
/* MSRs that count time on their own: a run changes them without the guest
 * doing anything, and a reset need not (cannot) put them back.  KVM on AMD
 * lists Hyper-V's run-time and reference counters beside the TSC. */
static bool msr_is_clock(uint32_t index)
{
	return index == MSR_IA32_TSC || index == HV_X64_MSR_VP_RUNTIME ||
	       index == HV_X64_MSR_TIME_REF_COUNT;
}

/* The first MSR, clocks aside, whose value differs, or NULL. */
static const struct kvm_msr_entry *msrs_differ(const struct kvm_msrs *want,
					       const struct kvm_msrs *now, uint64_t *now_val)
{
	for (uint32_t i = 0; i < want->nmsrs; i++) {
		const struct kvm_msr_entry *w = &want->entries[i];

		if (msr_is_clock(w->index))
			continue;	/* time goes on */
		for (uint32_t k = 0; k < now->nmsrs; k++)
			if (now->entries[k].index == w->index && now->entries[k].data != w->data) {
				*now_val = now->entries[k].data;
				return w;
			}
	}
	return NULL;
}

/* The register contents of two XSAVE images (standard format) are equal:
 * the legacy area and the components, not the header, whose XSTATE_BV
 * says which components are in their initial state (the host may save
 * an initial component as written, zeros and all). */
static bool xsave_same(const struct cpu_state *a, const struct cpu_state *b)
{
	const uint8_t *x = (const uint8_t *)a->xsave, *y = (const uint8_t *)b->xsave;

	if (a->xsave_size != b->xsave_size || a->xsave_size < 576)
		return false;
	return !memcmp(x, y, 512) && !memcmp(x + 576, y + 576, a->xsave_size - 576);
}

/* What a fast reset leaves alone that a run changed, or NULL (buf holds
 * the text when it needs one). */
static const char *fast_reset_misses(const struct cpu_state *want, const struct cpu_state *now,
				     char *buf, size_t len)
{
	struct kvm_lapic_state a = want->lapic, b = now->lapic;
	const struct kvm_msr_entry *m;
	uint64_t val;

	memset(a.regs + APIC_TMCCT, 0, 4);	/* the timer's current count */
	memset(b.regs + APIC_TMCCT, 0, 4);
	if (want->have & now->have & (1u << CPU_XSAVE) && !xsave_same(want, now))
		return "FPU/SSE (XSAVE) state";
	if (want->have & now->have & (1u << CPU_FPU) && memcmp(&want->fpu, &now->fpu, sizeof(want->fpu)))
		return "FPU state";
	if (want->have & now->have & (1u << CPU_XCRS) && memcmp(&want->xcrs, &now->xcrs, sizeof(want->xcrs)))
		return "XCR0";
	if (memcmp(&a, &b, sizeof(a)))
		return "local APIC";
	if (want->have & now->have & (1u << CPU_DEBUGREGS) &&
	    memcmp(&want->debugregs, &now->debugregs, sizeof(want->debugregs)))
		return "debug registers";
	if (want->mp.mp_state != now->mp.mp_state)
		return "MP state";
	if (want->msrs && now->msrs && (m = msrs_differ(want->msrs, now->msrs, &val))) {
		snprintf(buf, len, "MSR 0x%x (0x%llx, now 0x%llx)", m->index,
			 (unsigned long long)m->data, (unsigned long long)val);
		return buf;
	}
	return NULL;
}

/* --reset fast puts back only what kvm_run carries: now and then, check
 * that the run left the rest as the snapshot has it; if not, say so and
 * put back everything from then on. */
static int fast_reset_guard(struct fuzz *f, struct errbuf *err)
{
	struct cpu_state now;
	const char *what;
	char why[96];
	int r;

	if (f->st.resets % GUARD_EVERY)
		return 0;
	r = cpu_state_get(f->v, &f->caps, &now);
	if (r) {
		cpu_state_free(&now);
		return err_set(err, -r, "fuzz reset: reading vCPU state: %s", strerror(-r));
	}
	what = fast_reset_misses(&f->cpu, &now, why, sizeof(why));
	if (what) {
		log_warn("fuzz: --reset fast: a run changed the vCPU's %s, which a fast reset "
			 "does not put back; resetting everything from now on", what);
		f->o.reset_fast = false;
	}
	cpu_state_free(&now);
	return 0;
}

/* KVM's dirty runs join the host's writes: one set, each page once */
static void add_dirty(void *ctx, uint64_t first, uint64_t n)
{
	struct gmem *m = ctx;

	gmem_mark(m, m->host + first * PAGE, n * PAGE);
}

static void put_back(void *ctx, uint64_t first, uint64_t n)
{
	struct fuzz *f = ctx;

	memcpy(f->vm->mem.host + first * PAGE, f->pristine + first * PAGE, n * PAGE);
	f->pages += n;
}

static int reset(struct fuzz *f, struct errbuf *err)
{
	uint64_t t0 = now_ns(), t1, t2, t3;
	int r;

	f->pages = 0;
	r = dirty_collect(&f->dl, add_dirty, &f->vm->mem);
	if (r)
		return err_set(err, -r, "fuzz reset: dirty log: %s", strerror(-r));
	gmem_track_collect(&f->vm->mem, put_back, f);
	if (f->ndrives)
		blk_overlay_reset(&f->vm->host);
	t1 = now_ns();
	for (unsigned i = 0; i < f->ndev; i++) {
		struct fuzz_dev *d = &f->dev[i];
		struct sbuf view;

		f->scratch.len = f->scratch.pos = 0;
		f->scratch.err = 0;
		r = d->dev->ops->save(d->dev, &f->scratch);
		if (!r && f->scratch.len == d->len && !memcmp(f->scratch.data, d->blob, d->len))
			continue;	/* unchanged: restoring can cost (IOAPIC routes) */
		sbuf_view(&view, d->blob, d->len);
		r = d->dev->ops->restore(d->dev, &view);
		if (r)
			return err_set(err, -r, "fuzz reset: device %s: %s", d->dev->name,
				       strerror(-r));
	}
	t2 = now_ns();
	r = vm_state_set(f->vm, &f->vs, err);
	if (r)
		return r;
	t3 = now_ns();
	if (f->o.reset_fast && (r = fast_reset_guard(f, err)))
		return r;
	if (f->o.reset_fast)
		r = cpu_state_set(f->v, &f->cpu, 1u << CPU_REGS | 1u << CPU_SREGS | 1u << CPU_EVENTS,
				  CPU_ALL, NULL, err);
	else
		r = cpu_state_set(f->v, &f->cpu, CPU_ALL, 1u << CPU_REGS | 1u << CPU_EVENTS, NULL, err);
	if (r)
		return r;
	f->st.t_memory += t1 - t0;
	f->st.t_devices += t2 - t1;
	f->st.t_vm += t3 - t2;
	f->st.t_cpu += now_ns() - t3;
	f->st.pages += f->pages;
	f->st.resets++;
	return 0;
}

/* ---- a run ------------------------------------------------------------ */
static int arm_timer(struct fuzz *f, uint64_t ns)
{
	struct itimerspec it = { 0 };

	it.it_value.tv_sec = (time_t)(ns / 1000000000ull);
	it.it_value.tv_nsec = (long)(ns % 1000000000ull);
	return timer_settime(f->timer, 0, &it, NULL) < 0 ? -errno : 0;
}

static int setup_timer(struct fuzz *f)
{
	struct sigevent sev;
	struct sigaction sa;
	sigset_t set;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (f->have_timer && f->timer_tid == tid)
		return 0;
	if (f->have_timer)
		timer_delete(f->timer);
	f->have_timer = false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(FUZZ_TIMER_SIGNAL, &sa, NULL) < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, FUZZ_TIMER_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = FUZZ_TIMER_SIGNAL;
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &f->timer) < 0)
		return -errno;
	f->have_timer = true;
	f->timer_tid = tid;
	return 0;
}

static void vm_stopped(struct fuzz *f)
{
	struct vm *vm = f->vm;
	char why[256];
	uint64_t n;
	int code = vm->exit_code;

	if (code == EXIT_KVMERROR || code == EXIT_BADEXIT || code == EXIT_TRIPLEFAULT) {
		snprintf(why, sizeof(why), "%.255s", vm->exit_reason[0] ? vm->exit_reason : "KVM error");
		end_run(f, FUZZ_CRASH, 0, why);
	} else if (code == EXIT_HOSTFAIL) {
		end_run(f, FUZZ_ERROR, 0, vm->exit_reason);
	} else {
		snprintf(why, sizeof(why), "guest exit, status %d", code);
		end_run(f, FUZZ_EXIT, (uint32_t)code, why);
	}
	/* the next run goes on in the same VM */
	atomic_store(&vm->stopping, 0);
	vm->exit_code = 0;
	vm->exit_reason[0] = 0;
	if (read(vm->stop_efd, &n, sizeof(n)) < 0)
		n = 0;
}

int fuzz_run(struct fuzz *f, const void *in, size_t len, struct fuzz_result *res,
	     struct errbuf *err)
{
	struct kvm_run *run = f->v->run;
	uint64_t t0 = now_ns(), t1;
	int r;

	memset(res, 0, sizeof(*res));
	if (f->o.timeout_ms) {
		r = setup_timer(f);
		if (!r)
			r = arm_timer(f, f->o.timeout_ms * 1000000ull);
		if (r)
			return err_set(err, -r, "fuzz: timer: %s", strerror(-r));
	}
	fuzz_tls_run = run;
	fuzz_tls_fired = 0;
	f->in = in;
	f->in_len = len;
	f->outcome = -1;
	if (f->ndrives)	/* requests the snapshot (or the reset) left in flight */
		blk_overlay_poll(&f->vm->host, UINT64_MAX);
	while (f->outcome < 0) {
		if (ioctl(f->v->fd, KVM_RUN, 0) < 0) {
			if (errno == EFAULT && f->vm->mem.cow) {
				char why[4200];	/* KVM could not fault the file's page in */

				memfile_changed_msg(f->vm->mem.path, why, sizeof(why));
				end_run(f, FUZZ_ERROR, 0, why);
				break;
			}
			if (errno != EINTR && errno != EAGAIN) {
				end_run(f, FUZZ_ERROR, 0, strerror(errno));
				break;
			}
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
			if (fuzz_tls_fired)
				end_run(f, FUZZ_TIMEOUT, 0, "timeout");
			continue;
		}
		f->v->exits++;
		if (run->exit_reason == KVM_EXIT_SHUTDOWN) {
			end_run(f, FUZZ_CRASH, 0, "triple fault");
			break;
		}
		if (vcpu_handle_exit(f->v) || atomic_load(&f->vm->stopping))
			vm_stopped(f);
		else if (f->ndrives && run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write)
			blk_overlay_poll(&f->vm->host, run->mmio.phys_addr);	/* a kick, DRIVER_OK */
	}
	if (f->o.timeout_ms)
		arm_timer(f, 0);
	fuzz_tls_run = NULL;
	__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	t1 = now_ns();
	res->outcome = f->outcome;
	res->code = f->code;
	snprintf(res->reason, sizeof(res->reason), "%s", f->reason);
	res->run_ns = t1 - t0;
	f->st.runs++;
	f->st.t_run += t1 - t0;
	if (f->outcome == FUZZ_ERROR)
		return err_set(err, EIO, "fuzz: host failure: %s", f->reason);
	if (f->o.cov_len) {
		const void *cov = gm_ptr(f->vm, f->o.cov_gpa, f->o.cov_len);

		if (cov)
			memcpy(f->o.cov_out, cov, f->o.cov_len);
	}
	r = reset(f, err);
	res->reset_ns = now_ns() - t1;
	res->pages = f->pages;
	return r;
}

/* ---- set-up ----------------------------------------------------------- */
static int map_pristine(struct fuzz *f, struct errbuf *err)
{
	struct snap_image *img = f->img;
	uint64_t size = f->vm->mem.size;
	int fd = open(img->mem_path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return err_set(err, errno, "snapshot memory '%s': %s", img->mem_path, strerror(errno));
	/* private and writable while the diffs go on, read-only after */
	p = mmap(NULL, size, PROT_READ | (img->ndiffs ? PROT_WRITE : 0),
		 MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return err_set(err, errno, "snapshot memory '%s': %s", img->mem_path, strerror(errno));
	f->pristine = p;
	/* reset copies from it: a truncated file is a clear stop there too */
	if (memfile_watch(p, size, img->mem_path) < 0)
		log_warn("snapshot memory '%s': not watched for changes", img->mem_path);
	for (unsigned i = 0; i < img->ndiffs; i++) {
		int r = mem_apply_diff(p, size, img->diffs[i].path, &img->diffs[i].mem, err);

		if (r)
			return r;
	}
	if (img->ndiffs && mprotect(p, size, PROT_READ) < 0)
		return err_set(err, errno, "mprotect: %s", strerror(errno));
	return 0;
}

static int keep_state(struct fuzz *f, struct errbuf *err)
{
	const struct snap_file *sf = &f->img->f;
	const struct snap_sec *s = snap_find(sf, SNAP_SEC_VCPU, 0);
	struct sbuf sb;

	sbuf_view(&sb, s ? s->data : NULL, s ? s->len : 0);
	if (!s || cpu_state_decode(&sb, &f->cpu))
		return err_set(err, EINVAL, "snapshot '%s': corrupt: malformed vCPU 0 section", sf->path);
	s = snap_find(sf, SNAP_SEC_VM, 0);
	sbuf_view(&sb, s ? s->data : NULL, s ? s->len : 0);
	if (!s || vm_state_decode(&sb, &f->vs))
		return err_set(err, EINVAL, "snapshot '%s': corrupt: malformed VM section", sf->path);
	for (unsigned i = 0; i < f->vm->ndevices && i < ARRAY_SIZE(f->dev); i++) {
		struct device *d = f->vm->devices[i];
		char name[64];

		s = snap_find(sf, SNAP_SEC_DEVICE, i);	/* checked by the restore */
		sbuf_view(&sb, s->data, s->len);
		sbuf_get_str(&sb, name, sizeof(name));
		f->dev[f->ndev].dev = d;
		f->dev[f->ndev].blob = s->data + sb.pos;
		f->dev[f->ndev].len = s->len - sb.pos;
		f->ndev++;
		if (!strcmp(d->ops->name, "ctlport"))
			f->ctl = d;
	}
	if (!f->ctl)
		return err_set(err, EINVAL, "fuzz: the VM has no control port");
	return 0;
}

int fuzz_open(const char *dir, const struct fuzz_opts *o, struct fuzz **out,
	      struct errbuf *err)
{
	struct restore_times rt;
	struct fuzz *f = calloc(1, sizeof(*f));
	struct snap_session *sess;
	int status, r;

	*out = NULL;
	if (!f)
		return err_set(err, ENOMEM, "out of memory");
	f->o = *o;
	sbuf_init(&f->scratch);
	f->img = calloc(1, sizeof(*f->img));
	if (!f->img) {
		free(f);
		return err_set(err, ENOMEM, "out of memory");
	}
	r = snap_image_load(dir, f->img, err);
	for (const char *const *d = o->drives; !r && d && *d; d++)
		r = snap_drive_opt(f->img, *d, err);
	if (!r)
		r = snap_paths_check(f->img, "fuzz", err);
	if (r)
		goto fail;
	f->img->cfg.console = o->console;
	f->img->cfg.console_path = o->console_path;
	if (f->img->cfg.cpus != 1) {
		r = err_set(err, EINVAL, "fuzz: snapshot '%s' has %u vCPUs; the reset loop runs one",
			    dir, f->img->cfg.cpus);
		goto fail;
	}
	if (f->img->cfg.nnets) {
		r = err_set(err, EINVAL, "fuzz: snapshot '%s' has network devices: packets a run "
			    "sends have left the VM, and a reset cannot take them back", dir);
		goto fail;
	}
	memset(&rt, 0, sizeof(rt));
	f->img->cfg.dirty_ring = true;	/* KVM's dirty ring, where it has one */
	r = vm_launch(&(struct launch){ .restore = f->img, .start_ns = now_ns(), .rt = &rt },
		      &f->vm, &sess, err, &status);
	if (r)
		goto fail;
	f->v = f->vm->vcpus[0];
	r = cpu_caps_init(&f->caps, f->v);
	if (r) {
		err_set(err, -r, "fuzz: vCPU capabilities: %s", strerror(-r));
		goto fail;
	}
	r = keep_state(f, err);
	if (!r)
		r = map_pristine(f, err);
	if (r)
		goto fail;
	r = dirty_start(f->vm, &f->dl);
	if (!r)
		r = gmem_track_start(&f->vm->mem);
	if (r) {
		err_set(err, -r, "fuzz: dirty logging: %s", strerror(-r));
		goto fail;
	}
	f->ndrives = blk_overlay_start(&f->vm->host, err);
	if (f->ndrives < 0) {
		r = f->ndrives;
		goto fail;
	}
	r = vm_ctl_add(f->vm, CTL_SNAPSHOT, CTL_CRASH, on_ctl, f);
	if (r) {
		err_set(err, -r, "fuzz: control port: %s", strerror(-r));
		goto fail;
	}
	*out = f;
	return 0;
fail:
	fuzz_close(f);
	return r;
}

int fuzz_sandbox(struct fuzz *f, bool seccomp, const char *write_dir, struct errbuf *err)
{
	int r;

	f->img->cfg.no_seccomp = !seccomp;	/* f->vm->cfg */
	if (write_dir)
		f->img->cfg.write_dirs[f->img->cfg.nwrite_dirs++] = write_dir;
	f->img->cfg.sandbox_features |= SC_F_FUZZ;
	/* the timeout's signal handler and timer exist before the filter */
	if (f->o.timeout_ms && (r = setup_timer(f)))
		return err_set(err, -r, "fuzz: timer: %s", strerror(-r));
	r = sc_vm_setup(f->vm, err);
	if (r)
		return r;
	r = sc_vm_enter(f->vm, SC_VCPU);
	if (r)
		return err_set(err, -r, "fuzz: installing the seccomp filter: %s", strerror(-r));
	return 0;
}

void *fuzz_guest_ptr(struct fuzz *f, uint64_t gpa, size_t len)
{
	return gm_ptr(f->vm, gpa, len);
}

const struct fuzz_stats *fuzz_get_stats(const struct fuzz *f)
{
	return &f->st;
}

void fuzz_close(struct fuzz *f)
{
	if (!f)
		return;
	if (f->have_timer)
		timer_delete(f->timer);
	if (f->vm)
		dirty_stop(&f->dl);
	vm_destroy(f->vm);
	if (f->pristine && f->img) {
		memfile_unwatch(f->pristine);
		munmap(f->pristine, f->img->cfg.mem_size);
	}
	cpu_state_free(&f->cpu);
	cpu_caps_free(&f->caps);
	sbuf_free(&f->scratch);
	if (f->img) {
		snap_image_free(f->img);
		free(f->img);
	}
	free(f);
}
