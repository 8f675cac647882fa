/* snapshot/session.c - snapshots of a running VM: `--snapshot-on`
 * triggers (the guest's control port command 3, or SIGUSR1), taken on the
 * loop thread with every vCPU parked at an instruction boundary; full
 * snapshots, or with --snapshot-diff a chain DIR/1 (full), DIR/2, ...
 * (each a diff on the one before: the pages in KVM's dirty log plus those
 * ember wrote for the guest, e.g. virtio used rings and the buffers
 * devices filled, which the dirty log never sees: gmem_mark). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/devices.h"
#include "snapshot/snapshot.h"

const char snap_usage[] =
	"  --snapshot-dir DIR   where snapshots go (ember restore DIR resumes one)\n"
	"  --snapshot-on control-port|sigusr1[,..]  what takes one (default both):\n"
	"                       control-port command 3, or SIGUSR1 to ember\n"
	"  --snapshot-exit      stop the VM (status 0) after the first snapshot\n"
	"  --snapshot-diff      DIR/1 full, then DIR/2, DIR/3.. each a diff on the last\n"
	"  --snapshot-max N     at most N snapshots (default 16); later requests are\n"
	"                       refused (the guest reads status 1 at 0xe84)\n";

struct snap_session {
	struct vm *vm;
	struct snap_opts o;
	char base[4096];	/* the last snapshot (or the restore source) */
	unsigned count;
	unsigned refused;	/* requests past --snapshot-max */
	int failures;
	int dirfd;		/* --snapshot-dir, opened at start */
	int pagemap_fd;		/* /proc/self/pagemap, opened at start */
	struct dirty_log dl;
	struct cpu_caps caps;	/* queried before the sandbox */
	bool have_caps;
	bool tracking;		/* this session started gmem tracking */
	bool hooked;		/* its handlers are added to the VM */
	/* libember: a snapshot asked for from another thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running;		/* between snap_session_running(true/false) */
	const char *req_dir;	/* non-NULL while one waits */
	const char *req_mem;	/* with it, req_dir is the state file */
	bool req_diff;		/* the API's Diff */
	bool logging;		/* dirty logging runs (diffs, or the API's track_dirty) */
	int req_r;
	struct errbuf req_err;
};

static int parse_on(const char *v, struct snap_opts *o, struct errbuf *err)
{
	char buf[64];
	char *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return err_set(err, EINVAL, "--snapshot-on: '%s' is not control-port or sigusr1", v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "control-port"))
			o->on_ctl = true;
		else if (!strcmp(t, "sigusr1"))
			o->on_sigusr1 = true;
		else
			return err_set(err, EINVAL, "--snapshot-on: '%s' is not control-port or sigusr1", t);
	}
	if (!o->on_ctl && !o->on_sigusr1)
		return err_set(err, EINVAL, "--snapshot-on: '%s' is not control-port or sigusr1", v);
	return 0;
}

static int parse_max(const char *v, struct snap_opts *o, struct errbuf *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || v[0] == '-' || n < 1 || n > SNAP_MAX_LIMIT)
		return err_set(err, EINVAL, "--snapshot-max: '%s' is not a number from 1 to %u",
			       v, SNAP_MAX_LIMIT);
	o->max = (unsigned)n;
	return 0;
}

int snap_opts_take(int *argc, char **argv, struct snap_opts *o, struct errbuf *err)
{
	int out = 1;
	bool on_given = false, max_given = false;

	memset(o, 0, sizeof(*o));
	o->max = SNAP_MAX_DEFAULT;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n = strcspn(a, "=");

		if (!strcmp(a, "--")) {	/* the guest's command: not ours */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		bool valued = !strncmp(a, "--snapshot-on", n) && n == 13;

		valued |= !strncmp(a, "--snapshot-dir", n) && n == 14;
		valued |= !strncmp(a, "--snapshot-max", n) && n == 14;
		if (valued) {
			if (a[n] == '=')
				v = a + n + 1;
			else if (i + 1 < *argc)
				v = argv[++i];
			else
				return err_set(err, EINVAL, "%.*s needs a value", (int)n, a);
			if (n == 13) {
				int r = parse_on(v, o, err);

				if (r)
					return r;
				on_given = true;
			} else if (!strncmp(a, "--snapshot-max", n)) {
				int r = parse_max(v, o, err);

				if (r)
					return r;
				max_given = true;
			} else {
				if (!*v)
					return err_set(err, EINVAL, "--snapshot-dir needs a directory");
				o->dir = v;
			}
		} else if (!strcmp(a, "--snapshot-exit")) {
			o->exit_after = true;
		} else if (!strcmp(a, "--snapshot-diff")) {
			o->diff = true;
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	if ((on_given || o->exit_after || o->diff || max_given) && !o->dir)
		return err_set(err, EINVAL, "snapshot options need --snapshot-dir DIR");
	if (o->dir && !on_given)
		o->on_ctl = o->on_sigusr1 = true;
	return 0;
}

static void mark_run(void *ctx, uint64_t first, uint64_t n)
{
	uint64_t *bm = ctx;

	for (uint64_t p = first; p < first + n; p++)
		bm[p / 64] |= 1ull << (p % 64);
}

static void mark_nothing(void *ctx, uint64_t first, uint64_t n)
{
	(void)ctx;
	(void)first;
	(void)n;
}

/* The pages written since the last collect (guest and host writes), as
 * a new bitmap (free it), or NULL with err filled. */
static uint64_t *collect_dirty(struct snap_session *s, struct errbuf *err)
{
	struct vm *vm = s->vm;
	uint64_t *bm = calloc((vm->mem.size / PAGE_SIZE_4K + 63) / 64, 8);
	int r;

	if (!bm) {
		err_set(err, ENOMEM, "snapshot: out of memory");
		return NULL;
	}
	r = dirty_collect(&s->dl, mark_run, bm);
	gmem_track_collect(&vm->mem, mark_run, bm);
	if (r) {
		free(bm);
		err_set(err, -r, "snapshot: dirty log: %s", strerror(-r));
		return NULL;
	}
	return bm;
}

static int take(struct snap_session *s, struct errbuf *err)
{
	struct vm *vm = s->vm;
	char name[16] = ".", dir[4096], rel[4096];
	uint64_t *bm = NULL;
	bool diff = s->o.diff && s->base[0];
	int r;

	/* everything happens relative to DIR, opened before the sandbox */
	if (s->o.diff)
		snprintf(name, sizeof(name), "%u", s->count + 1);
	if (snprintf(dir, sizeof(dir), "%s/%s", s->o.dir, name) >= (int)sizeof(dir))
		return err_set(err, ENAMETOOLONG, "snapshot directory: name too long");
	if (diff) {
		bm = collect_dirty(s, err);
		if (!bm)
			return -EIO;
		/* a base in DIR is named relative to the new one */
		if (s->count)
			snprintf(rel, sizeof(rel), "../%u", s->count);
		else
			memcpy(rel, s->base, sizeof(rel));
	}
	if (s->o.diff && !diff) {
		/* the base: what the log saw before it does not matter */
		r = dirty_collect(&s->dl, mark_nothing, NULL);
		gmem_track_collect(&vm->mem, mark_nothing, NULL);
		if (r)
			return err_set(err, -r, "snapshot: dirty log: %s", strerror(-r));
	}
	r = snap_save(vm, s->dirfd, name, bm, diff ? rel : NULL, s->pagemap_fd,
		      s->have_caps ? &s->caps : NULL, err);
	free(bm);
	if (!r) {
		s->count++;
		memcpy(s->base, dir, sizeof(s->base));
	}
	return r;
}

/* Writes a full snapshot into dir, or into the files state and mem (the VM
 * paused, or never started); with `diff`, mem gets only the pages written
 * since the last one (Firecracker's Diff). */
static int take_to(struct snap_session *s, const char *dir, const char *mem, bool diff,
		   struct errbuf *err)
{
	/* refused when no vCPU runs (the VM configured or stopped) */
	bool paused = vm_pause(s->vm, NULL) == 0;
	const struct cpu_caps *caps = s->have_caps ? &s->caps : NULL;
	uint64_t *bm = NULL;
	int r = 0;

	if (diff && !s->logging)
		r = err_set(err, EINVAL, "snapshot_type Diff needs dirty page tracking: "
			    "track_dirty_pages true in machine-config (or in the snapshot load)");
	if (!r && s->logging)	/* the pages since the last snapshot: this one's */
		r = (bm = collect_dirty(s, err)) ? 0 : -EIO;
	if (!r && diff)
		r = snap_save_files_diff(s->vm, dir, mem, bm, caps, err);
	else if (!r)
		r = mem ? snap_save_files(s->vm, dir, mem, s->pagemap_fd, caps, err) :
			  snap_save(s->vm, AT_FDCWD, dir, NULL, NULL, s->pagemap_fd, caps, err);
	free(bm);

	if (paused)
		vm_resume(s->vm, NULL);
	return r;
}

/* Serves a waiting libember request (lock held). */
static void serve_locked(struct snap_session *s)
{
	if (s->req_dir) {
		s->req_r = take_to(s, s->req_dir, s->req_mem, s->req_diff, &s->req_err);
		s->req_dir = NULL;
		pthread_cond_broadcast(&s->cond);
	}
}

/* The loop thread: a libember request (posted by snap_session_request). */
static void on_request(struct vm *vm, void *ctx)
{
	struct snap_session *s = ctx;

	(void)vm;
	pthread_mutex_lock(&s->lock);
	serve_locked(s);
	pthread_mutex_unlock(&s->lock);
}

int snap_session_request(struct snap_session *s, const char *dir, struct errbuf *err)
{
	return snap_session_request_files(s, dir, NULL, err);
}

static int request(struct snap_session *s, const char *dir, const char *mem, bool diff,
		   struct errbuf *err);

int snap_session_request_files(struct snap_session *s, const char *dir, const char *mem,
			       struct errbuf *err)
{
	return request(s, dir, mem, false, err);
}

int snap_session_request_diff(struct snap_session *s, const char *state, const char *mem,
			      struct errbuf *err)
{
	return request(s, state, mem, true, err);
}

static int request(struct snap_session *s, const char *dir, const char *mem, bool diff,
		   struct errbuf *err)
{
	int r;

	pthread_mutex_lock(&s->lock);
	if (!s->running) {
		/* no vCPU runs, and none starts while we hold the lock */
		r = take_to(s, dir, mem, diff, err);
		pthread_mutex_unlock(&s->lock);
		return r;
	}
	while (s->req_dir)	/* one at a time */
		pthread_cond_wait(&s->cond, &s->lock);
	s->req_dir = dir;
	s->req_mem = mem;
	s->req_diff = diff;
	s->req_err.msg[0] = 0;
	/* refused once the VM has ended: snap_session_running(false) serves it */
	r = vm_loop_post(s->vm, on_request, s);
	if (r && r != -ESHUTDOWN)
		log_warn("snapshot: request not queued: %s (served when the VM stops)",
			 strerror(-r));
	while (s->req_dir)
		pthread_cond_wait(&s->cond, &s->lock);
	r = s->req_r;
	if (r && err)
		*err = s->req_err;
	pthread_mutex_unlock(&s->lock);
	return r;
}

void snap_session_running(struct snap_session *s, bool running)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->running = running;
	if (!running)
		serve_locked(s);	/* the loop is gone: do it here */
	pthread_mutex_unlock(&s->lock);
}

/* A request past --snapshot-max: nothing is written.  The first refusal
 * is logged with the reason, later ones counted (a guest can ask in a
 * loop) and the total reported at the end of the session. */
static void refuse(struct snap_session *s, int why)
{
	if (why == 0)
		ctlport_set_data(s->vm->ctlport, SNAP_CTL_REFUSED);
	if (s->refused++ == 0)
		log_warn("snapshot: %s refused: %u snapshot%s already written to '%s', "
			 "the limit of --snapshot-max %u", why ? "SIGUSR1" : "control-port request",
			 s->count, s->count == 1 ? "" : "s", s->o.dir, s->o.max);
}

/* The loop thread: a snapshot trigger, why = SIGUSR1 or 0 (the guest's
 * control-port command). */
static void take_now(struct snap_session *s, int why)
{
	struct vm *vm = s->vm;
	struct errbuf err = { "" };
	uint64_t t;
	int r;

	if (!s->o.dir)
		return;	/* libember only */
	if ((why == SIGUSR1 && !s->o.on_sigusr1) || (why == 0 && !s->o.on_ctl)) {
		log_warn("snapshot: %s is not a trigger of this VM (see --snapshot-on)",
			 why ? "SIGUSR1" : "control-port command 3");
		return;
	}
	if (atomic_load(&vm->stopping))
		return;
	t = now_ns();
	if (vm_pause(vm, &err)) {
		log_error("snapshot: %s", err.msg);
		return;
	}
	if (atomic_load(&vm->stopping)) {
		vm_resume(vm, NULL);
		return;
	}
	if (s->count >= s->o.max) {
		refuse(s, why);
		vm_resume(vm, NULL);
		return;
	}
	if (why == 0)	/* the guest reads 0 after its request: in the snapshot too */
		ctlport_set_data(vm->ctlport, SNAP_CTL_OK);
	r = take(s, &err);
	if (r) {
		s->failures++;
		log_error("%s", err.msg);
		if (why == 0)
			ctlport_set_data(vm->ctlport, SNAP_CTL_FAILED);
	} else {
		log_info("snapshot %u written to '%s' in %.3f ms", s->count, s->base,
			 (double)(now_ns() - t) / 1e6);
		if (s->o.exit_after)
			vm_request_stop(vm, EXIT_OK, NULL);
	}
	vm_resume(vm, NULL);
}

static void on_sigusr1(struct vm *vm, void *ctx)
{
	(void)vm;
	take_now(ctx, SIGUSR1);
}

static void on_ctl_work(struct vm *vm, void *ctx)
{
	(void)vm;
	take_now(ctx, 0);
}

/* vCPU thread: control-port command 3. */
static int on_ctl(struct vm *vm, void *ctx, unsigned cmd, uint32_t arg, uint64_t data)
{
	struct snap_session *s = ctx;
	int r;

	(void)cmd;	/* CTL_SNAPSHOT: the only one it is added for */
	(void)arg;
	(void)data;
	if (!s->o.on_ctl)
		return -ENOSYS;
	/* this vCPU parks before it runs the next instruction (its KVM_RUN
	 * completes the OUT first); the loop takes it there */
	atomic_store(&vm->pause_req, 1);
	r = vm_loop_post(vm, on_ctl_work, s);
	if (r) {
		atomic_store(&vm->pause_req, 0);
		ctlport_set_data(vm->ctlport, SNAP_CTL_FAILED);
		log_error("snapshot: control-port request not queued: %s", strerror(-r));
	}
	return 0;
}

int snap_session_start(struct vm *vm, const struct snap_opts *o, const char *base,
		       struct snap_session **out, struct errbuf *err)
{
	struct snap_session *s;
	int r;

	*out = NULL;
	if (!o->dir && !o->api)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->vm = vm;
	s->dirfd = s->pagemap_fd = -1;
	s->o = *o;
	/* diffs of a restored VM go on top of the snapshot it came from when
	 * that is inside DIR: a restore accepts a diff's base only in the
	 * diff's own directory (snap_image_load).  From elsewhere, the first
	 * snapshot is a full one. */
	if (o->diff && base && !realpath(base, s->base)) {
		r = err_set(err, errno, "snapshot '%s': %s", base, strerror(errno));
		snap_session_end(s);
		return r;
	}
	if (o->diff && base) {
		char rd[PATH_MAX];
		size_t n;

		if (!o->dir || !realpath(o->dir, rd) || strncmp(s->base, rd, n = strlen(rd)) ||
		    s->base[n] != '/')
			s->base[0] = 0;
	}
	/* KVM set-up before any sandbox: dirty logging from the start (the
	 * first snapshot clears what it saw), the vCPU state classes */
	s->logging = o->diff || (o->api && vm->cfg->track_dirty);
	r = s->logging ? dirty_start(vm, &s->dl) : 0;
	if (!r && s->logging) {
		r = gmem_track_start(&vm->mem);
		s->tracking = !r;
	}
	if (r) {
		snap_session_end(s);
		return err_set(err, -r, "snapshot: dirty logging: %s", strerror(-r));
	}
	if (vm->ncpus && vm->vcpus[0]) {
		r = cpu_caps_init(&s->caps, vm->vcpus[0]);
		if (r) {
			snap_session_end(s);
			return err_set(err, -r, "snapshot: vCPU capabilities: %s", strerror(-r));
		}
		s->have_caps = true;
	}
	/* the files a snapshot needs, before any sandbox exists */
	if (o->dir && ((mkdir(o->dir, 0755) < 0 && errno != EEXIST) ||
		       (s->dirfd = open(o->dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC)) < 0)) {
		r = err_set(err, errno, "snapshot directory '%s': %s", o->dir, strerror(errno));
		snap_session_end(s);
		return r;
	}
	if (vm->mem.cow || vm->mem.fd < 0)	/* mem_mark_written reads it */
		s->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	s->hooked = true;
	r = vm_ctl_add(vm, CTL_SNAPSHOT, CTL_SNAPSHOT, on_ctl, s);
	if (!r)	/* caught with any session: SIGUSR1 must not kill a VM */
		r = vm_signal_add(vm, SIGUSR1, on_sigusr1, s);
	if (r) {
		snap_session_end(s);
		return err_set(err, -r, "snapshot: triggers: %s", strerror(-r));
	}
	*out = s;
	return 0;
}

int snap_session_end(struct snap_session *s)
{
	int f;

	if (!s)
		return 0;
	f = s->failures;
	if (s->refused > 1)
		log_warn("snapshot: %u requests refused in all (--snapshot-max %u)", s->refused,
			 s->o.max);
	dirty_stop(&s->dl);
	if (s->tracking)
		gmem_track_stop(&s->vm->mem);
	if (s->have_caps)
		cpu_caps_free(&s->caps);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->pagemap_fd >= 0)
		close(s->pagemap_fd);
	if (s->hooked) {
		vm_ctl_remove(s->vm, on_ctl, s);
		vm_signal_remove(s->vm, on_sigusr1, s);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
	return f;
}
