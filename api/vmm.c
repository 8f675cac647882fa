/* api/vmm.c - `ember --api-sock`: the backend behind the router, as
 * Firecracker splits it: an API thread and a VMM thread.
 *
 * The VMM thread is created first, at start-up, with every capability and
 * no filter: it is the one that opens the kernel, drives, TAPs and sockets
 * when InstanceStart (or a snapshot load) comes, and then becomes the
 * VM's event loop thread through vm_start, which sandboxes it exactly as
 * `ember run` is sandboxed (capabilities dropped before its ring, its own
 * filters per thread).  Until then it waits for a command or a stop
 * signal, nothing else.
 *
 * The API thread (the main thread) then drops its own capabilities and
 * installs its SC_API filter before it serves a single request: the HTTP
 * parser and the router never run with privileges.  Its requests reach
 * the VM as work posted to the VM's loop (vm_loop_post), answered through
 * a condition variable; the API thread waits, as Firecracker's does.
 *
 * When the VM stops (or a signal comes before it was started) the VMM
 * thread tells the API thread through an eventfd, and the process exits
 * with the VM's status, after removing the socket file. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "api/vmm.h"
#include "devices/devices.h"
#include "monitor/metrics.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"
#include "virtio/virtio.h"

enum vmm_cmd { CMD_NONE, CMD_START, CMD_LOAD, CMD_QUIT };

struct vmm {
	struct vmm_opts o;
	struct vm_config cfg;		/* the API thread's until the start */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int cmd_efd;			/* API -> VMM: a command (before the start) */
	int end_efd;			/* VMM -> API: ended, value status + 1 */
	/* one command at a time, under lock */
	enum vmm_cmd cmd;
	const struct api_snapshot_load *load;
	bool replied;
	bool started;			/* the VM was started: no more commands */
	bool ended;			/* the VMM thread is done (no more replies) */
	int reply_r;
	struct errbuf reply_err;
	/* the VM, from its start until the VMM thread destroys it; vm_lock is
	 * held by whoever uses it (a request, or the destroy) */
	pthread_mutex_t vm_lock;
	struct vm *vm;
	struct snap_session *sess;
	struct snap_image img;
	bool have_img;
	struct loop vloop;		/* the VM's loop (vm_start) */
	/* the API thread's */
	struct loop aloop;
	struct loop_op end_op;
	uint64_t end_val;
	int status;
	char *paths[64];		/* drive files PATCH /drives put in */
	unsigned npaths;
};

/* ---- the VMM thread ----------------------------------------------------- */
static void reply(struct vmm *m, int r, const struct errbuf *err)
{
	pthread_mutex_lock(&m->lock);
	m->reply_r = r;
	if (r && err)
		m->reply_err = *err;
	m->replied = true;
	m->started = !r;
	m->cmd = CMD_NONE;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* The image of a snapshot load: the state and memory files, the overrides. */
static int load_image(struct vmm *m, const struct api_snapshot_load *req, struct errbuf *err)
{
	struct snap_image *img = &m->img;
	char spec[4200];
	int r;

	r = snap_image_load_files(req->snapshot_path, req->mem_path, img, err);
	m->have_img = true;
	if (r)
		return r;
	/* Firecracker reopens the drives the snapshot names: the API's client
	 * is the one who wrote it (the command line's `ember restore` wants
	 * them named instead, a snapshot file being input there) */
	for (unsigned i = 0; i < img->cfg.ndrives; i++)
		img->drive_given[i] = true;
	for (unsigned i = 0; i < req->nnets && !r; i++) {
		if (snprintf(spec, sizeof(spec), "id=%s,tap=%s", req->nets[i].iface_id,
			     req->nets[i].host_dev_name) >= (int)sizeof(spec))
			return err_set(err, ENAMETOOLONG, "network_overrides[%u]: too long", i);
		r = snap_net_opt(img, spec, err);
	}
	if (!r && req->vsock_uds) {
		if (snprintf(spec, sizeof(spec), "uds=%s", req->vsock_uds) >= (int)sizeof(spec))
			return err_set(err, ENAMETOOLONG, "vsock_override: uds_path too long");
		r = snap_vsock_opt(img, spec, err);
	}
	/* what the snapshot had and the request did not name is taken as saved */
	for (unsigned i = 0; !r && i < img->cfg.nnets; i++)
		img->net_given[i] = true;
	if (!r && img->cfg.vsock.uds)
		img->vsock_given = true;
	return r ? r : snap_paths_check(img, "snapshot/load", err);
}

/* Builds and starts the VM (a boot of m->cfg, or a load): 0, or -errno
 * with err filled and nothing running. */
static int launch(struct vmm *m, const struct api_snapshot_load *req, struct errbuf *err)
{
	struct snap_opts so = { 0 };
	struct launch l = { .snap = &so, .api = true, .no_seccomp = m->o.no_seccomp,
			    .start_ns = m->o.start_ns };
	struct vm *vm = NULL;
	struct snap_session *sess = NULL;
	int r, status;

	if (req) {
		r = load_image(m, req, err);
		if (r)
			return r;
		l.restore = &m->img;
		m->img.cfg.boot_time = m->o.boot_time;
		m->img.cfg.track_dirty = req->track_dirty;	/* Diffs of the loaded VM */
		/* this process's logger and metrics, not the snapshot's */
		m->img.cfg.logger = m->cfg.logger;
		m->img.cfg.metrics_path = m->cfg.metrics_path;
	} else {
		l.boot = &m->cfg;
		m->cfg.boot_time = m->o.boot_time;
	}
	r = vm_launch(&l, &vm, &sess, err, &status);
	if (r)
		return r;
	if (req && !req->resume)
		vm_start_paused(vm);	/* no vCPU enters the guest before a resume */
	pthread_mutex_lock(&m->vm_lock);
	m->vm = vm;
	m->sess = sess;
	pthread_mutex_unlock(&m->vm_lock);
	snap_session_running(sess, true);
	r = vm_start(vm, &m->vloop, err);
	if (!r && req && !req->resume && (r = vm_transition(vm, VM_PAUSED, err)))
		vm_request_stop(vm, EXIT_HOSTFAIL, "%s", err->msg);
	return r;
}

static void *vmm_thread(void *arg)
{
	struct vmm *m = arg;
	struct errbuf err = { "" };
	sigset_t sigs;
	int sig_fd, status = EXIT_OK;
	bool started = false;

	/* before the start, a stop signal ends the process (the API thread
	 * blocked them before creating this thread: they wait for us) */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	while (!started) {
		struct pollfd p[2] = { { m->cmd_efd, POLLIN, 0 }, { sig_fd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		enum vmm_cmd cmd;
		uint64_t v;
		int r;

		if (poll(p, sig_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			status = EXIT_HOSTFAIL;
			log_error("VMM thread: poll: %s", strerror(errno));
			goto end;
		}
		if (p[1].revents && read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			status = 128 + (int)si.ssi_signo;
			goto end;
		}
		if (!p[0].revents || read(m->cmd_efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			continue;
		pthread_mutex_lock(&m->lock);
		cmd = m->cmd;
		pthread_mutex_unlock(&m->lock);
		if (cmd == CMD_QUIT)
			goto end;
		if (cmd != CMD_START && cmd != CMD_LOAD)
			continue;
		/* the VM's loop takes the signals over (vm_start's signalfd;
		 * one that comes meanwhile stays pending for it) */
		close(sig_fd);
		sig_fd = -1;
		err.msg[0] = 0;
		r = launch(m, cmd == CMD_LOAD ? m->load : NULL, &err);
		started = !r || m->vm;	/* a vm_start failure ends it all */
		if (r && m->vm) {
			status = EXIT_HOSTFAIL;
			log_error("%s", err.msg);
		}
		if (r && !m->vm) {
			if (m->have_img)
				snap_image_free(&m->img);
			m->have_img = false;
			sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
		}
		reply(m, r, &err);
	}
	if (m->vm && vm_get_phase(m->vm) != VM_STOPPED)
		status = vm_wait(m->vm);
	snap_session_running(m->sess, false);
	if (snap_session_end(m->sess) && status == EXIT_OK)
		status = EXIT_HOSTFAIL;
	if (m->vm && m->o.boot_time)
		vm_print_boot_times(m->vm);
	pthread_mutex_lock(&m->vm_lock);
	vm_destroy(m->vm);
	m->vm = NULL;
	m->sess = NULL;
	pthread_mutex_unlock(&m->vm_lock);
end:
	if (sig_fd >= 0)
		close(sig_fd);
	pthread_mutex_lock(&m->lock);
	m->ended = true;	/* a command waiting now gets no reply: tell it */
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	m->end_val = (uint64_t)status + 1;
	if (write(m->end_efd, &m->end_val, sizeof(m->end_val)) < 0)
		log_error("VMM thread: eventfd: %s", strerror(errno));
	return NULL;
}

/* ---- the API thread's side: commands and posted work ------------------- */
static int command(struct vmm *m, enum vmm_cmd cmd, const struct api_snapshot_load *load,
		   struct errbuf *err)
{
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&m->lock);
	if (m->ended || m->started) {
		pthread_mutex_unlock(&m->lock);
		return err_set(err, EBUSY, "the VM has %s", m->ended ? "stopped" : "started");
	}
	m->cmd = cmd;
	m->load = load;
	m->replied = false;
	m->reply_err.msg[0] = 0;
	pthread_mutex_unlock(&m->lock);
	if (write(m->cmd_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return err_set(err, errno, "VMM thread: eventfd: %s", strerror(errno));
	if (cmd == CMD_QUIT)
		return 0;	/* it ends, without a reply */
	pthread_mutex_lock(&m->lock);
	while (!m->replied && !m->ended)
		pthread_cond_wait(&m->cond, &m->lock);
	r = m->replied ? m->reply_r : err_set(err, ESHUTDOWN, "the VMM ended (a signal)");
	if (r && m->replied)
		*err = m->reply_err;
	pthread_mutex_unlock(&m->lock);
	return r;
}

/* Work for the VM's loop thread, waited for by the API thread. */
enum job_kind { JOB_PAUSE, JOB_RESUME, JOB_CTRL_ALT_DEL, JOB_FLUSH_METRICS, JOB_DRIVE, JOB_NET };
struct job {
	struct vmm *m;
	enum job_kind kind;
	bool done;
	int r;
	struct errbuf err;
	/* JOB_DRIVE: the change, the new file (or -1) and its size */
	const struct api_drive_patch *patch;
	struct drive_cfg *drive;
	char *path;		/* the new path_on_host, kept by the config */
	int fd;
	uint64_t size;
	/* JOB_NET: the new limiters and the interface's config */
	const struct api_net_patch *net;
	struct net_cfg *iface;
};

static struct vm_config *vm_cfg(struct vmm *m)
{
	return m->have_img ? &m->img.cfg : &m->cfg;
}

static void job_run(struct vm *vm, void *ctx)
{
	struct job *j = ctx;
	int r = 0;

	switch (j->kind) {
	case JOB_PAUSE:
		if (vm_get_phase(vm) != VM_PAUSED)	/* pausing a paused VM: done */
			r = vm_pause(vm, &j->err);
		break;
	case JOB_RESUME:
		if (vm_get_phase(vm) != VM_RUNNING)
			r = vm_resume(vm, &j->err);
		break;
	case JOB_CTRL_ALT_DEL:
		r = vmm_ctrl_alt_del(vm, &j->err);
		break;
	case JOB_FLUSH_METRICS:
		r = vmm_flush_metrics(vm, &j->err);
		break;
	case JOB_DRIVE:
		r = blk_update(&vm->host, j->patch->id, j->fd, j->size, j->patch->has_rl ? &j->patch->rl : NULL,
			       &j->err);
		j->fd = -1;	/* taken over */
		if (!r && j->path)	/* what a snapshot and GET /vm/config say now */
			j->drive->path = j->path;
		if (!r && j->patch->has_rl)
			j->drive->rl = j->patch->rl;
		break;
	case JOB_NET:
		r = net_update(&vm->host, j->iface->tap, j->net->has_rx ? &j->net->rx : NULL,
			       j->net->has_tx ? &j->net->tx : NULL, &j->err);
		if (!r && j->net->has_rx)	/* what a snapshot and GET /vm/config say */
			j->iface->rx_rl = j->net->rx;
		if (!r && j->net->has_tx)
			j->iface->tx_rl = j->net->tx;
		break;
	}
	pthread_mutex_lock(&j->m->lock);
	j->r = r;
	j->done = true;
	pthread_cond_broadcast(&j->m->cond);
	pthread_mutex_unlock(&j->m->lock);
}

static int run_job(struct vmm *m, struct job *jp, struct errbuf *err)
{
	struct job j = *jp;
	int r;

	pthread_mutex_lock(&m->vm_lock);
	r = m->vm ? vm_loop_post(m->vm, job_run, &j) : -ESHUTDOWN;
	if (!r) {
		pthread_mutex_lock(&m->lock);
		while (!j.done)	/* run by the loop, or at the end of vm_wait */
			pthread_cond_wait(&m->cond, &m->lock);
		pthread_mutex_unlock(&m->lock);
		r = j.r;
		if (r)
			*err = j.err;
		jp->fd = j.fd;
	} else if (r == -ESHUTDOWN) {
		err_set(err, ESHUTDOWN, "the VM has stopped");
	} else {
		err_set(err, -r, "the VM is busy: %s", strerror(-r));
	}
	pthread_mutex_unlock(&m->vm_lock);
	return r;
}

/* ---- the backend -------------------------------------------------------- */
static enum api_state be_state(void *ctx)
{
	struct vmm *m = ctx;
	enum api_state s = API_NOT_STARTED;

	pthread_mutex_lock(&m->vm_lock);
	if (m->vm)
		s = vm_get_phase(m->vm) == VM_PAUSED ? API_PAUSED : API_RUNNING;
	pthread_mutex_unlock(&m->vm_lock);
	pthread_mutex_lock(&m->lock);
	if (m->started || m->ended)
		s = s == API_PAUSED ? s : API_RUNNING;	/* nothing pre-boot any more */
	pthread_mutex_unlock(&m->lock);
	return s;
}

static int be_with_config(void *ctx, api_config_fn fn, void *arg, struct errbuf *err)
{
	struct vmm *m = ctx;

	/* after the start the router only reads it, as the VM does; a loaded
	 * VM's is the snapshot's (written before the load was answered) */
	bool loaded;

	pthread_mutex_lock(&m->lock);
	loaded = m->started && m->have_img;
	pthread_mutex_unlock(&m->lock);
	return fn(loaded ? &m->img.cfg : &m->cfg, arg, err);
}

static int be_start(void *ctx, struct errbuf *err)
{
	return command(ctx, CMD_START, NULL, err);
}

static int be_load(void *ctx, const struct api_snapshot_load *req, struct errbuf *err)
{
	return command(ctx, CMD_LOAD, req, err);
}

static int be_pause(void *ctx, struct errbuf *err)
{
	return run_job(ctx, &(struct job){ .m = ctx, .kind = JOB_PAUSE, .fd = -1 }, err);
}

static int be_resume(void *ctx, struct errbuf *err)
{
	return run_job(ctx, &(struct job){ .m = ctx, .kind = JOB_RESUME, .fd = -1 }, err);
}

static int be_ctrl_alt_del(void *ctx, struct errbuf *err)
{
	return run_job(ctx, &(struct job){ .m = ctx, .kind = JOB_CTRL_ALT_DEL, .fd = -1 }, err);
}

static int be_flush_metrics(void *ctx, struct errbuf *err)
{
	return run_job(ctx, &(struct job){ .m = ctx, .kind = JOB_FLUSH_METRICS, .fd = -1 }, err);
}

/* PATCH /drives/{id}: the new file is opened here, by the API thread (the
 * VM's threads open nothing once sandboxed), and handed to the loop */
static int be_drive_update(void *ctx, const struct api_drive_patch *p, struct errbuf *err)
{
	struct vmm *m = ctx;
	struct vm_config *cfg = vm_cfg(m);
	int i = vm_config_find_drive(cfg, p->id), r;
	struct job j = { .m = m, .kind = JOB_DRIVE, .patch = p, .fd = -1 };
	struct stat st;

	if (i < 0)
		return err_set(err, ENODEV, "drive '%s': no such drive", p->id);
	j.drive = &cfg->drives[i];
	if (p->path) {
		int flags = (j.drive->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC |
			    (j.drive->direct ? O_DIRECT : 0);

		j.fd = open(p->path, flags);
		if (j.fd < 0)
			return err_set(err, errno, "drive '%s': '%s': %s", p->id, p->path, strerror(errno));
		if (fstat(j.fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) ||
		    (S_ISBLK(st.st_mode) && ioctl(j.fd, BLKGETSIZE64, &j.size) < 0)) {
			close(j.fd);
			return err_set(err, EINVAL, "drive '%s': '%s': not a file or block device",
				       p->id, p->path);
		}
		if (S_ISREG(st.st_mode))
			j.size = (uint64_t)st.st_size;
		j.path = strdup(p->path);
		if (!j.path || m->npaths == ARRAY_SIZE(m->paths)) {
			close(j.fd);
			free(j.path);
			return err_set(err, ENOMEM, "drive '%s': too many file changes", p->id);
		}
		m->paths[m->npaths++] = j.path;	/* freed at the end */
	}
	r = run_job(m, &j, err);
	if (j.fd >= 0)	/* the job never ran */
		close(j.fd);
	return r;
}

/* PATCH /network-interfaces/{id}: the limiters change on the loop */
static int be_net_update(void *ctx, const struct api_net_patch *p, struct errbuf *err)
{
	struct vmm *m = ctx;
	struct vm_config *cfg = vm_cfg(m);
	int i = vm_config_find_net(cfg, p->id);

	if (i < 0)
		return err_set(err, ENODEV, "network interface '%s': no such interface", p->id);
	return run_job(m, &(struct job){ .m = m, .kind = JOB_NET, .net = p,
					 .iface = &cfg->nets[i], .fd = -1 }, err);
}

static int be_snapshot_create(void *ctx, const struct api_snapshot_create *req,
			      struct errbuf *err)
{
	struct vmm *m = ctx;
	int r;

	pthread_mutex_lock(&m->vm_lock);
	if (!m->sess)
		r = err_set(err, ESHUTDOWN, "the VM has stopped");
	else if (req->diff)
		r = snap_session_request_diff(m->sess, req->snapshot_path, req->mem_file_path, err);
	else
		r = snap_session_request_files(m->sess, req->snapshot_path, req->mem_file_path, err);
	pthread_mutex_unlock(&m->vm_lock);
	return r;
}

/* ---- actions that wait for other parts of ember ------------------------- */
int vmm_ctrl_alt_del(struct vm *vm, struct errbuf *err)
{
	int r = i8042_ctrl_alt_del(&vm->host);

	switch (r) {
	case 0:
		return 0;
	case -EAGAIN:
		return err_set(err, EAGAIN, "SendCtrlAltDel: the guest has disabled its keyboard");
	case -ENOSPC:
		return err_set(err, ENOSPC, "SendCtrlAltDel: the guest reads no keys (its keyboard "
			       "buffer is full)");
	default:
		return err_set(err, -r, "SendCtrlAltDel: %s", strerror(-r));
	}
}

int vmm_flush_metrics(struct vm *vm, struct errbuf *err)
{
	return metrics_flush(vm, err);
}

/* ---- the process -------------------------------------------------------- */
static void on_end(struct loop_op *op, int res, uint32_t flags)
{
	struct vmm *m = (struct vmm *)((char *)op - offsetof(struct vmm, end_op));
	uint64_t v;

	(void)res;
	(void)flags;
	if (read(m->end_efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		m->status = (int)(v - 1);
	loop_stop(&m->aloop);
}

int vmm_main(const struct vmm_opts *o, struct vm_config *cfg)
{
	static const struct api_backend ops = {
		.state = be_state, .with_config = be_with_config, .start = be_start,
		.pause = be_pause, .resume = be_resume, .snapshot_create = be_snapshot_create,
		.snapshot_load = be_load, .ctrl_alt_del = be_ctrl_alt_del,
		.flush_metrics = be_flush_metrics, .drive_update = be_drive_update,
		.net_update = be_net_update,
	};
	struct api_backend be = ops;
	struct vmm *m = calloc(1, sizeof(*m));
	struct api_server *srv = NULL;
	struct errbuf err = { "" };
	struct api api;
	sigset_t sigs;
	int r, status;

	if (!m) {
		fprintf(stderr, "ember: out of memory\n");
		return EXIT_HOSTFAIL;
	}
	m->o = *o;
	m->cfg = *cfg;	/* taken over: freed at the end */
	memset(cfg, 0, sizeof(*cfg));
	be.ctx = m;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->vm_lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	m->cmd_efd = eventfd(0, EFD_CLOEXEC);
	m->end_efd = eventfd(0, EFD_CLOEXEC);
	status = EXIT_HOSTFAIL;
	if (m->cmd_efd < 0 || m->end_efd < 0) {
		fprintf(stderr, "ember: eventfd: %s\n", strerror(errno));
		goto out;
	}
	/* the stop signals wait for the VMM thread (its signalfd, then the
	 * VM loop's); every thread inherits the mask */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	r = pthread_create(&m->thread, NULL, vmm_thread, m);
	if (r) {
		fprintf(stderr, "ember: VMM thread: %s\n", strerror(r));
		goto out;
	}
	/* this thread: no capability, its own filter, before any request */
	api_init(&api, &be, o->id, o->version);
	r = loop_init(&m->aloop, 64);
	if (r)
		err_set(&err, -r, "io_uring: %s", strerror(-r));
	if (!r && o->sock_path)
		r = api_server_create(&m->aloop, &api, o->sock_path, &srv, &err);
	/* --log-path and the rest now (PUT /logger takes effect at the start,
	 * where the launcher applies the configuration's) */
	if (!r && (m->cfg.logger.path || m->cfg.logger.level != CONFIG_LOG_UNSET ||
		   m->cfg.logger.show_level || m->cfg.logger.show_origin))
		r = log_apply(&m->cfg.logger, &err);
	/* jansson seeds its hash function once, from /dev/urandom: now,
	 * while files may still be opened */
	json_object_seed(0);
	if (!r)
		r = sc_api_enter(o->no_seccomp, &err);
	if (!r && o->boot_now && (r = be_start(m, &err)))
		status = EXIT_BADINPUT;	/* a --config-file boots at once */
	if (r) {
		bool started;

		fprintf(stderr, "ember: %s\n", err.msg);
		command(m, CMD_QUIT, NULL, &err);	/* unless it ended already */
		pthread_join(m->thread, NULL);
		pthread_mutex_lock(&m->lock);
		started = m->started;
		pthread_mutex_unlock(&m->lock);
		if (started || (m->end_val && m->end_val != 1))
			status = (int)m->end_val - 1;
		goto out_srv;
	}
	if (srv)	/* what a supervisor (or a test) may wait for */
		log_info("API: serving on '%s'", o->sock_path);
	m->end_op.fn = on_end;
	loop_poll(&m->aloop, m->end_efd, POLLIN, false, &m->end_op);
	r = loop_run(&m->aloop);
	if (r)
		fprintf(stderr, "ember: API event loop: %s\n", strerror(-r));
	pthread_join(m->thread, NULL);
	status = m->status;
out_srv:
	if (srv)
		api_server_destroy(srv);
	loop_destroy(&m->aloop);
out:
	config_free(&m->cfg);
	for (unsigned i = 0; i < m->npaths; i++)
		free(m->paths[i]);
	if (m->have_img)
		snap_image_free(&m->img);
	if (m->cmd_efd >= 0)
		close(m->cmd_efd);
	if (m->end_efd >= 0)
		close(m->end_efd);
	free(m);
	return status;
}
