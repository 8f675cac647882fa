/* snapshot/snap.c - taking a snapshot of a paused VM, and loading one:
 * read and validate the state file and its base chain, then (into a VM
 * made from the saved configuration) check the CPU fingerprint and the
 * device list, copy diffs over the mapped memory file and load the VM,
 * device and vCPU state. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/devices.h"
#include "snapshot/snapshot.h"

static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = name[0] == '/' ? snprintf(out, cap, "%s", name) :
				 snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* ---- save ------------------------------------------------------------- */
static int write_file(int dirfd, const char *path, const void *p, size_t n,
		      struct errbuf *err)
{
	char tmp[4200];
	const uint8_t *b = p;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(err, ENAMETOOLONG, "snapshot '%s': name too long", path);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(err, errno, "snapshot '%s': %s", tmp, strerror(errno));
	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			close(fd);
			unlinkat(dirfd, tmp, 0);
			return err_set(err, e, "snapshot '%s': %s", tmp, strerror(e));
		}
		b += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, path) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return err_set(err, e, "snapshot '%s': %s", path, strerror(e));
	}
	return 0;
}

static int save_cpus(struct vm *vm, const struct cpu_caps *given, struct sbuf *w,
		     struct errbuf *err)
{
	struct cpu_caps own, caps;
	struct sbuf sb;
	int r = given ? 0 : cpu_caps_init(&own, vm->vcpus[0]);

	if (r)
		return err_set(err, -r, "snapshot: vCPU capabilities: %s", strerror(-r));
	caps = given ? *given : own;
	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		struct cpu_state s;

		r = cpu_state_get(vm->vcpus[i], &caps, &s);
		if (r) {
			err_set(err, -r, "snapshot: reading vCPU %u: %s", i, strerror(-r));
		} else {
			sbuf_init(&sb);
			cpu_state_encode(&s, &sb);
			snap_write_section(w, SNAP_SEC_VCPU, i, sb.data, sb.len);
			r = sb.err;
			sbuf_free(&sb);
		}
		cpu_state_free(&s);
	}
	if (!given)
		cpu_caps_free(&own);
	return r;
}

/* A restored VM's memory file must still be whole: the pages the VM has
 * not copied are the file's, and a truncated file has holes there now (or
 * SIGBUS).  Then the VM stops, as its next access to them would make it,
 * and no snapshot of holes is written. */
static int check_memfile(struct vm *vm, struct errbuf *err)
{
	struct stat st;
	char msg[4200];

	if (!vm->mem.cow || (fstat(vm->mem.fd, &st) == 0 && (uint64_t)st.st_size == vm->mem.size))
		return 0;
	memfile_changed_msg(vm->mem.path, msg, sizeof(msg));
	vm_request_stop(vm, EXIT_MEMFILE, "%s", msg);
	return err_set(err, EIO, "snapshot not written: %s", msg);
}

/* Where a snapshot goes: the state file and the memory file (relative to
 * dirfd), and the memory file's name as the state file records it. */
struct save_dest {
	int dirfd;
	const char *state, *mem, *mem_name, *what;
	const uint64_t *sparse;	/* a Firecracker-style diff of these pages */
};

static int save_to(struct vm *vm, const struct save_dest *d, const uint64_t *diff_bitmap,
		   const char *base, int pagemap_fd, const struct cpu_caps *caps,
		   struct errbuf *err);

int snap_save(struct vm *vm, int dirfd, const char *dir, const uint64_t *diff_bitmap,
	      const char *base, int pagemap_fd, const struct cpu_caps *caps,
	      struct errbuf *err)
{
	const char *name = diff_bitmap ? SNAP_DIFF_NAME : SNAP_MEM_NAME;
	char mem[4200], state[4200];
	struct save_dest d = { dirfd, state, mem, name, dir, NULL };
	int r = check_memfile(vm, err);

	if (r)
		return r;
	if (strcmp(dir, ".") && mkdirat(dirfd, dir, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "snapshot directory '%s': %s", dir, strerror(errno));
	if (join(mem, sizeof(mem), dir, name) || join(state, sizeof(state), dir, SNAP_STATE_NAME))
		return err_set(err, ENAMETOOLONG, "snapshot directory '%s': name too long", dir);
	return save_to(vm, &d, diff_bitmap, base, pagemap_fd, caps, err);
}

static int save_files(struct vm *vm, const char *state, const char *mem, int pagemap_fd,
		      const uint64_t *sparse, const struct cpu_caps *caps, struct errbuf *err);

int snap_save_files(struct vm *vm, const char *state, const char *mem, int pagemap_fd,
		    const struct cpu_caps *caps, struct errbuf *err)
{
	return save_files(vm, state, mem, pagemap_fd, NULL, caps, err);
}

int snap_save_files_diff(struct vm *vm, const char *state, const char *mem,
			 const uint64_t *dirty, const struct cpu_caps *caps, struct errbuf *err)
{
	return save_files(vm, state, mem, -1, dirty, caps, err);
}

static int save_files(struct vm *vm, const char *state, const char *mem, int pagemap_fd,
		      const uint64_t *sparse, const struct cpu_caps *caps, struct errbuf *err)
{
	/* the state file names the memory file by its own name when both are
	 * in one directory (`ember restore` of that directory then works, as
	 * for a snapshot written there), else by the path given */
	const char *ss = strrchr(state, '/'), *ms = strrchr(mem, '/');
	size_t sd = ss ? (size_t)(ss - state) : 0, md = ms ? (size_t)(ms - mem) : 0;
	bool same = sd == md && !strncmp(state, mem, sd);
	struct save_dest d = { AT_FDCWD, state, mem, same ? (ms ? ms + 1 : mem) : mem, state,
			       sparse };
	int r = check_memfile(vm, err);

	if (r)
		return r;
	if (!strcmp(state, mem))
		return err_set(err, EINVAL, "snapshot: the state file and the memory file are both '%s'",
			       state);
	return save_to(vm, &d, NULL, NULL, pagemap_fd, caps, err);
}

static int save_to(struct vm *vm, const struct save_dest *d, const uint64_t *diff_bitmap,
		   const char *base, int pagemap_fd, const struct cpu_caps *caps,
		   struct errbuf *err)
{
	const char *dir = d->what;
	int dirfd = d->dirfd;
	struct snap_mem m;
	struct vm_state vs;
	struct sbuf w, sb;
	uint64_t pages = 0;
	int r;

	memset(&m, 0, sizeof(m));
	m.size = vm->mem.size;
	m.low_size = vm->mem.low_size;
	m.diff = diff_bitmap != NULL;
	if (snprintf(m.file, sizeof(m.file), "%s", d->mem_name) >= (int)sizeof(m.file))
		return err_set(err, ENAMETOOLONG, "snapshot '%s': memory file name too long", dir);
	snprintf(m.base, sizeof(m.base), "%s", m.diff ? base : "");
	r = m.diff ? mem_write_diff(vm, diff_bitmap, dirfd, d->mem, &m, err) :
	    d->sparse ? mem_write_sparse(vm, d->sparse, dirfd, d->mem, &pages, err) :
		     mem_write_full(vm, dirfd, d->mem, pagemap_fd, &pages, err);
	if (!r)
		r = check_memfile(vm, err);	/* shrunk while being copied? */
	if (r)
		goto out;

	snap_write_begin(&w);
	sbuf_init(&sb);
	snap_config_encode(vm->cfg, &sb);
	snap_write_section(&w, SNAP_SEC_CONFIG, 0, sb.data, sb.len);
	sbuf_free(&sb);
	snap_mem_encode(&m, &sb);
	snap_write_section(&w, SNAP_SEC_MEMORY, 0, sb.data, sb.len);
	sbuf_free(&sb);
	r = vm_state_get(vm, &vs);
	if (r) {
		err_set(err, -r, "snapshot: reading VM state: %s", strerror(-r));
		goto out_w;
	}
	vm_state_encode(&vs, &sb);
	snap_write_section(&w, SNAP_SEC_VM, 0, sb.data, sb.len);
	sbuf_free(&sb);
	snap_cpuid_encode(vm->cpuid, &sb);
	snap_write_section(&w, SNAP_SEC_CPUID, 0, sb.data, sb.len);
	sbuf_free(&sb);
	r = save_cpus(vm, caps, &w, err);
	for (unsigned i = 0; i < vm->ndevices && !r; i++) {
		sbuf_init(&sb);
		r = snap_device_save(vm->devices[i], &sb);
		if (r)
			err_set(err, -r, "snapshot: device %s: %s", vm->devices[i]->name, strerror(-r));
		else
			snap_write_section(&w, SNAP_SEC_DEVICE, i, sb.data, sb.len);
		sbuf_free(&sb);
	}
	if (!r)
		r = snap_write_end(&w, snap_host_fingerprint(), m.diff ? SNAP_F_DIFF : 0);
	if (!r)
		r = write_file(dirfd, d->state, w.data, w.len, err);
	else if (!err || !err->msg[0])
		err_set(err, -r, "snapshot '%s': %s", dir, strerror(-r));
	if (!r)
		log_info("snapshot '%s': %s, %llu pages of memory", dir, m.diff ? "diff" : "full",
			 (unsigned long long)(m.diff ? 0 : pages));
out_w:
	sbuf_free(&w);
out:
	snap_mem_free(&m);
	return r;
}

/* ---- load ------------------------------------------------------------- */
static int load_mem(const struct snap_file *f, struct snap_mem *m, struct errbuf *err)
{
	const struct snap_sec *s = snap_find(f, SNAP_SEC_MEMORY, 0);
	struct sbuf sb;

	if (!s)
		return err_set(err, EINVAL, "snapshot '%s': corrupt: no memory section", f->path);
	sbuf_view(&sb, s->data, s->len);
	if (snap_mem_decode(&sb, m))
		return err_set(err, EINVAL, "snapshot '%s': corrupt: malformed memory section", f->path);
	if (m->diff != !!(f->flags & SNAP_F_DIFF))
		return err_set(err, EINVAL, "snapshot '%s': corrupt: memory section disagrees with the header",
			       f->path);
	return 0;
}

static int resolve_base(char *out, size_t cap, const char *dir, const char *base)
{
	if (base[0] == '/')
		return snprintf(out, cap, "%s", base) >= (int)cap ? -ENAMETOOLONG : 0;
	return join(out, cap, dir, base);
}

/* A diff's base must resolve (realpath) inside the directory that holds
 * the diff: the snapshot is untrusted input and may not point a restore
 * at other files (an absolute path, "..").  bdir becomes the resolved
 * path.  0 or -EPERM/-errno with a message. */
static int base_inside(const char *cur, char bdir[PATH_MAX], const char *base,
		       struct errbuf *err)
{
	char rc[PATH_MAX], rb[PATH_MAX];
	const char *slash;
	size_t n;

	if (!realpath(cur, rc) || !realpath(bdir, rb))
		return err_set(err, errno, "snapshot '%s': its base '%s': %s", cur, base,
			       strerror(errno));
	slash = strrchr(rc, '/');
	n = slash && slash != rc ? (size_t)(slash - rc) : 0;	/* rc's parent, "" for "/" */
	if (strncmp(rb, rc, n) || rb[n] != '/' || !strcmp(rb, rc))
		return err_set(err, EPERM, "snapshot '%s': its base '%s' is not in '%.*s' (a diff's "
			       "base must be in the directory that holds the diff)", cur, base,
			       n ? (int)n : 1, n ? rc : "/");
	memcpy(bdir, rb, PATH_MAX);
	return 0;
}

/* A memory file must be exactly the guest's RAM (mapping beyond its end
 * would fault), and one only ember's user can change.  0, or -EINVAL or
 * -EPERM with a message. */
static int check_size(const char *path, uint64_t size, struct errbuf *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return err_set(err, errno, "snapshot memory '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return err_set(err, EINVAL, "snapshot memory '%s': %llu bytes, the snapshot's RAM is %llu",
			       path, (unsigned long long)st.st_size, (unsigned long long)size);
	return memfile_check(path, &st, err);	/* before anything is built */
}

static int image_load(const char *dir, const char *state, const char *mem,
		      struct snap_image *img, struct errbuf *err);

int snap_image_load(const char *dir, struct snap_image *img, struct errbuf *err)
{
	return image_load(dir, NULL, NULL, img, err);
}

int snap_image_load_files(const char *state, const char *mem, struct snap_image *img,
			  struct errbuf *err)
{
	return image_load(NULL, state, mem, img, err);
}

/* dir's state file, or the state file `state` with its memory in `mem` */
static int image_load(const char *dir, const char *state, const char *mem,
		      struct snap_image *img, struct errbuf *err)
{
	const struct snap_sec *cs;
	char path[4200], cur[4096];
	struct sbuf sb;
	int r;

	memset(img, 0, sizeof(*img));
	if (state) {
		const char *sl = strrchr(state, '/');

		/* the directory holding it (a base is looked for there) */
		snprintf(img->dir, sizeof(img->dir), "%.*s", sl ? (int)(sl - state) : 1,
			 sl ? state : ".");
		if (sl == state)
			snprintf(img->dir, sizeof(img->dir), "/");
		dir = img->dir;
		if (snprintf(path, sizeof(path), "%s", state) >= (int)sizeof(path))
			return err_set(err, ENAMETOOLONG, "snapshot '%s': name too long", state);
	} else {
		snprintf(img->dir, sizeof(img->dir), "%s", dir);
		if (join(path, sizeof(path), dir, SNAP_STATE_NAME))
			return err_set(err, ENAMETOOLONG, "snapshot '%s': name too long", dir);
	}
	r = snap_file_read(path, &img->f, err);
	if (!r)
		r = snap_check_fingerprint(&img->f, snap_host_fingerprint(), err);
	if (r)
		return r;
	cs = snap_find(&img->f, SNAP_SEC_CPUID, 0);
	sbuf_view(&sb, cs ? cs->data : NULL, cs ? cs->len : 0);
	r = cs ? snap_cpuid_decode(&sb, &img->cpuid) : -EINVAL;
	if (r)
		return err_set(err, -r, "snapshot '%s': corrupt: %s CPUID section", path,
			       cs ? "malformed" : "no");
	cs = snap_find(&img->f, SNAP_SEC_CONFIG, 0);
	if (!cs)
		return err_set(err, EINVAL, "snapshot '%s': corrupt: no config section", path);
	sbuf_view(&sb, cs->data, cs->len);
	r = snap_config_decode(&sb, &img->cfg);
	if (r)
		return err_set(err, EINVAL, "snapshot '%s': corrupt: malformed config section", path);
	r = load_mem(&img->f, &img->mem, err);
	if (r)
		return r;
	if (img->mem.size != img->cfg.mem_size)
		return err_set(err, EINVAL, "snapshot '%s': corrupt: memory size disagrees with the config",
			       path);
	if (mem && img->mem.diff)
		return err_set(err, EINVAL, "snapshot '%s' is a diff: load it from its directory with "
			       "`ember restore DIR`, which applies it over its base", path);
	if (mem) {
		if (snprintf(img->mem_path, sizeof(img->mem_path), "%s", mem) >=
		    (int)sizeof(img->mem_path))
			return err_set(err, ENAMETOOLONG, "snapshot memory '%s': name too long", mem);
		img->cfg.mem_file = img->mem_path;
		img->cfg.cpuid = img->cpuid;
		return check_size(img->mem_path, img->cfg.mem_size, err);
	}
	/* walk the bases down to the full image; diffs apply oldest first */
	snprintf(cur, sizeof(cur), "%s", dir);
	{
		struct snap_mem m = img->mem;
		struct snap_diff chain[SNAP_CHAIN_MAX];
		unsigned n = 0;

		memset(&img->mem.runs, 0, sizeof(img->mem.runs));
		img->mem.nruns = 0;
		while (m.diff) {
			struct snap_file bf;
			char bdir[PATH_MAX];

			if (n == SNAP_CHAIN_MAX) {
				snap_mem_free(&m);
				r = err_set(err, ELOOP, "snapshot '%s': more than %d diffs on its base",
					    path, SNAP_CHAIN_MAX);
				goto chain_fail;
			}
			if (join(chain[n].path, sizeof(chain[n].path), cur, m.file) ||
			    resolve_base(bdir, sizeof(bdir), cur, m.base))
				r = err_set(err, ENAMETOOLONG, "snapshot '%s': base name too long", dir);
			else
				r = base_inside(cur, bdir, m.base, err);
			if (!r && join(path, sizeof(path), bdir, SNAP_STATE_NAME))
				r = err_set(err, ENAMETOOLONG, "snapshot '%s': base name too long", dir);
			if (r) {
				snap_mem_free(&m);
				goto chain_fail;
			}
			chain[n++].mem = m;
			r = snap_file_read(path, &bf, err);
			if (!r) {
				r = load_mem(&bf, &m, err);
				snap_file_free(&bf);
			}
			if (!r && m.size != img->cfg.mem_size) {
				snap_mem_free(&m);
				r = err_set(err, EINVAL, "snapshot '%s': base memory size differs", path);
			}
			if (r)
				goto chain_fail;
			snprintf(cur, sizeof(cur), "%s", bdir);
		}
		if (join(img->mem_path, sizeof(img->mem_path), cur, m.file)) {
			r = err_set(err, ENAMETOOLONG, "snapshot '%s': name too long", cur);
			goto chain_fail;
		}
		for (unsigned i = 0; i < n; i++)
			img->diffs[i] = chain[n - 1 - i];
		img->ndiffs = n;
		img->cfg.mem_file = img->mem_path;
		img->cfg.cpuid = img->cpuid;
		return check_size(img->mem_path, img->cfg.mem_size, err);
chain_fail:
		for (unsigned i = 0; i < n; i++)
			snap_mem_free(&chain[i].mem);
		return r;
	}
}

void snap_image_free(struct snap_image *img)
{
	for (unsigned i = 0; i < img->ndiffs; i++)
		snap_mem_free(&img->diffs[i].mem);
	img->ndiffs = 0;
	snap_mem_free(&img->mem);
	free(img->cpuid);
	img->cpuid = NULL;
	snap_file_free(&img->f);
	config_free(&img->cfg);
}

/* ---- restore into a VM ------------------------------------------------ */
static int check_layout(struct vm *vm, const struct snap_image *img, struct errbuf *err)
{
	const char *path = img->f.path;
	unsigned ncpu = 0, ndev = 0;

	for (unsigned i = 0; i < img->f.nsec; i++) {
		const struct snap_sec *s = &img->f.sec[i];

		if (s->type == SNAP_SEC_VCPU)
			ncpu++;
		if (s->type == SNAP_SEC_DEVICE)
			ndev++;
	}
	if (ncpu != vm->ncpus)
		return err_set(err, EINVAL, "snapshot '%s': corrupt: %u vCPU sections for %u vCPUs",
			       path, ncpu, vm->ncpus);
	if (ndev != vm->ndevices)
		return err_set(err, EINVAL, "snapshot '%s': holds %u devices, this VM has %u",
			       path, ndev, vm->ndevices);
	for (unsigned i = 0; i < vm->ndevices; i++) {
		const struct snap_sec *s = snap_find(&img->f, SNAP_SEC_DEVICE, i);
		struct sbuf sb;
		char name[64];

		if (!s)
			return err_set(err, EINVAL, "snapshot '%s': corrupt: no section for device %u",
				       path, i);
		sbuf_view(&sb, s->data, s->len);
		if (sbuf_get_str(&sb, name, sizeof(name)) || strcmp(name, vm->devices[i]->ops->name))
			return err_set(err, EINVAL, "snapshot '%s': device %u is '%s' in the snapshot but '%s' in this VM",
				       path, i, name, vm->devices[i]->ops->name);
	}
	return 0;
}

int snap_restore_into(struct vm *vm, const struct snap_image *img, bool sync,
		      struct restore_times *rt, struct errbuf *err)
{
	const char *path = img->f.path;
	struct cpu_state *cs = calloc(vm->ncpus, sizeof(*cs));
	struct vm_state vs;
	struct sbuf sb;
	uint64_t t = now_ns();
	int r;

	if (!cs)
		return err_set(err, ENOMEM, "out of memory");
	r = check_layout(vm, img, err);
	/* decode everything before anything is applied */
	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		const struct snap_sec *s = snap_find(&img->f, SNAP_SEC_VCPU, i);

		sbuf_view(&sb, s ? s->data : NULL, s ? s->len : 0);
		if (!s || cpu_state_decode(&sb, &cs[i]))
			r = err_set(err, EINVAL, "snapshot '%s': corrupt: malformed vCPU %u section",
				    path, i);
	}
	if (!r) {
		const struct snap_sec *s = snap_find(&img->f, SNAP_SEC_VM, 0);

		sbuf_view(&sb, s ? s->data : NULL, s ? s->len : 0);
		if (!s || vm_state_decode(&sb, &vs))
			r = err_set(err, EINVAL, "snapshot '%s': corrupt: malformed VM section", path);
	}
	for (unsigned i = 0; i < img->ndiffs && !r; i++)
		r = mem_apply_diff(vm->mem.host, vm->mem.size, img->diffs[i].path,
				   &img->diffs[i].mem, err);
	rt->t[RT_DIFF] = now_ns() - t;
	t = now_ns();
	if (!r)
		r = vm_state_set(vm, &vs, err);
	rt->t[RT_VMSTATE] = now_ns() - t;
	t = now_ns();
	for (unsigned i = 0; i < vm->ndevices && !r; i++)
		r = snap_device_restore(vm->devices[i], i, snap_find(&img->f, SNAP_SEC_DEVICE, i),
					path, true, err);
	rt->t[RT_DEVICES] = now_ns() - t;
	t = now_ns();
	/* through kvm_run: not for a vCPU still waiting for INIT, whose
	 * KVM_RUN returns before it takes them and then SIPI sets RIP */
	for (unsigned i = 0; i < vm->ncpus && !r; i++)
		r = cpu_state_set(vm->vcpus[i], &cs[i], CPU_ALL,
				  sync && cs[i].mp.mp_state != KVM_MP_STATE_UNINITIALIZED ?
				  (1u << CPU_REGS | 1u << CPU_EVENTS) : 0, rt->cpu, err);
	rt->t[RT_CPU] = now_ns() - t;
	rt->done = now_ns();
	for (unsigned i = 0; i < vm->ncpus; i++)
		cpu_state_free(&cs[i]);
	free(cs);
	return r;
}

static const char *const rt_names[RT__COUNT] = {
	"read state file", "VM, memory, vCPUs", "apply diffs", "VM state",
	"devices", "vCPU state",
};

void snap_print_restore_times(const struct vm *vm, const struct restore_times *rt)
{
	uint64_t t0 = vm->ts[TS_START];

	fprintf(stderr, "ember: restore times (ms)\n");
	for (int i = 0; i < RT__COUNT; i++)
		fprintf(stderr, "  %-18s %8.3f\n", rt_names[i], (double)rt->t[i] / 1e6);
	for (int i = 0; i < CPU__CLASSES; i++)
		if (rt->cpu[i])
			fprintf(stderr, "    %-16s %8.3f\n", cpu_class_names[i], (double)rt->cpu[i] / 1e6);
	if (vm->ts[TS_MEMORY])
		fprintf(stderr, "  of which: KVM VM %.3f, memory %.3f, irqchip %.3f, devices+vCPUs %.3f\n",
			(double)(vm->ts[TS_VM_CREATED] - t0) / 1e6,
			(double)(vm->ts[TS_MEMORY] - vm->ts[TS_VM_CREATED]) / 1e6,
			(double)(vm->ts[TS_IRQCHIP] - vm->ts[TS_MEMORY]) / 1e6,
			(double)(vm->ts[TS_VCPUS] - vm->ts[TS_IRQCHIP]) / 1e6);
	if (vm->ts[TS_FIRST_RUN] && rt->done)
		fprintf(stderr, "  %-18s %8.3f  (vm_start: sandbox, event loop, threads)\n",
			"until first run", (double)(vm->ts[TS_FIRST_RUN] - rt->done) / 1e6);
	if (vm->ts[TS_FIRST_RUN])
		fprintf(stderr, "  %-18s %8.3f  (since process start)\n", "first KVM_RUN",
			(double)(vm->ts[TS_FIRST_RUN] - t0) / 1e6);
}
