/* jail/jailfs.c - the jail's root and cgroup.  The root is a small
 * tmpfs mounted on <base>/<id>/root inside the jail's own mount namespace
 * (nothing is left on the host when the jail ends): each file the VM
 * needs is bind-mounted at its own absolute path (so the run arguments
 * stay as they are), the device nodes are made with mknod and owned by the
 * jail's uid, and the process pivot_roots into it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "jail/jail.h"

#define JAIL_TMPFS_OPTS "mode=0755,size=256k,nr_inodes=512"

/* mkdir -p of path (modified in place, restored). */
static int mkdir_p(char *path, mode_t mode)
{
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;

		*p = 0;
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

static int path_in(char *out, size_t len, const char *root, const char *path)
{
	int n = snprintf(out, len, "%s%s", root, path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Binds host file f at the same path under root. */
static int bind_file(const char *root, const struct jail_file *f, uid_t uid, gid_t gid,
		     struct errbuf *err)
{
	char target[PATH_MAX];
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC;
	char *slash;
	int fd;

	if (path_in(target, sizeof(target), root, f->path))
		return err_set(err, ENAMETOOLONG, "jail: '%s': path too long", f->path);
	if (f->create && f->dir) {	/* e.g. --snapshot-dir: the jail's uid writes it */
		if (mkdir(f->path, 0750) == 0) {
			if (chown(f->path, uid, gid) < 0)
				log_debug("jail: chown '%s': %m", f->path);
		} else if (errno != EEXIST) {
			return err_set(err, errno, "jail: '%s': %s", f->path, strerror(errno));
		}
	} else if (f->create) {	/* console, metrics, log: made as the jail's uid */
		fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd >= 0) {
			if (fchown(fd, uid, gid) < 0)
				log_debug("jail: chown '%s': %m", f->path);
			close(fd);
		} else if (errno != EEXIST) {
			return err_set(err, errno, "jail: '%s': %s", f->path, strerror(errno));
		}
	}
	slash = strrchr(target, '/');
	*slash = 0;
	if (mkdir_p(target, 0755) < 0)
		return err_set(err, errno, "jail: mkdir '%s': %s", target, strerror(errno));
	*slash = '/';
	if (f->dir) {	/* may exist: the parent of a file bound before */
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return err_set(err, errno, "jail: '%s': %s", target, strerror(errno));
	} else {
		fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(err, errno, "jail: '%s': %s", target, strerror(errno));
		close(fd);
	}
	if (mount(f->path, target, NULL, MS_BIND, NULL) < 0)	/* not MS_REC: no submounts */
		return err_set(err, errno, "jail: bind '%s': %s", f->path, strerror(errno));
	if (f->ro)
		flags |= MS_RDONLY;
	if (!f->blk)
		flags |= MS_NODEV;
	if (mount(NULL, target, NULL, flags, NULL) < 0)
		return err_set(err, errno, "jail: remount '%s': %s", f->path, strerror(errno));
	return 0;
}

/* mknod root/<path> like the host's <path>, owned by uid/gid with mode. */
static int make_dev(const char *root, const char *path, mode_t mode, uid_t uid, gid_t gid,
		    struct errbuf *err)
{
	char target[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0)
		return err_set(err, errno, "jail: %s: %s", path, strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return err_set(err, EINVAL, "jail: %s: not a character device", path);
	if (path_in(target, sizeof(target), root, path))
		return err_set(err, ENAMETOOLONG, "jail: '%s': path too long", path);
	if (mknod(target, S_IFCHR | mode, st.st_rdev) < 0 || chown(target, uid, gid) < 0 ||
	    chmod(target, mode) < 0)
		return err_set(err, errno, "jail: mknod %s: %s", target, strerror(errno));
	return 0;
}

int jailfs_enter(const struct jail_cfg *c, struct errbuf *err)
{
	char root[PATH_MAX], dir[PATH_MAX];
	int r;

	if (snprintf(root, sizeof(root), "%s/%s/root", c->base, c->id) >= (int)sizeof(root))
		return err_set(err, ENAMETOOLONG, "--chroot-base: '%s': path too long", c->base);
	/* nothing done here propagates back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return err_set(err, errno, "jail: making mounts private: %s", strerror(errno));
	if (mkdir_p(root, 0755) < 0)
		return err_set(err, errno, "jail: mkdir '%s': %s", root, strerror(errno));
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NOEXEC, JAIL_TMPFS_OPTS) < 0)
		return err_set(err, errno, "jail: tmpfs on '%s': %s", root, strerror(errno));
	for (unsigned i = 0; i < c->nfiles; i++) {
		r = bind_file(root, &c->files[i], c->uid, c->gid, err);
		if (r)
			return r;
	}
	if (path_in(dir, sizeof(dir), root, c->need_tun ? "/dev/net" : "/dev") ||
	    mkdir_p(dir, 0755) < 0)
		return err_set(err, errno, "jail: mkdir '%s': %s", dir, strerror(errno));
	r = make_dev(root, "/dev/kvm", 0600, c->uid, c->gid, err);
	if (!r)
		r = make_dev(root, "/dev/urandom", 0444, c->uid, c->gid, err);
	if (!r && c->need_tun)
		r = make_dev(root, "/dev/net/tun", 0600, c->uid, c->gid, err);
	if (r)
		return r;
	/* relative run arguments resolve against the same directory inside */
	if (!path_in(dir, sizeof(dir), root, c->cwd))
		mkdir_p(dir, 0755);
	if (chdir(root) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return err_set(err, errno, "jail: pivot_root '%s': %s", root, strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		return err_set(err, errno, "jail: detaching the old root: %s", strerror(errno));
	/* the tmpfs itself becomes read-only (the binds keep their own flags;
	 * device nodes stay usable) */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) < 0)
		return err_set(err, errno, "jail: read-only root: %s", strerror(errno));
	if (chdir(c->cwd) < 0 && chdir("/") < 0)
		return err_set(err, errno, "jail: chdir: %s", strerror(errno));
	return 0;
}

/* ---- cgroup v2 ---- */
/* The cgroup v2 mount point, or NULL when cgroup v2 is not mounted. */
static const char *jail_cgroup_root(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	const char *found = NULL;

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 "), *save = NULL, *mnt;

		if (!sep)
			continue;
		strtok_r(line, " ", &save);	/* id, parent, dev, root, mount point */
		for (int i = 0; i < 3; i++)
			strtok_r(NULL, " ", &save);
		mnt = strtok_r(NULL, " ", &save);
		if (mnt && strlen(mnt) < len) {
			snprintf(buf, len, "%s", mnt);
			found = buf;
		}
	}
	fclose(f);
	return found;
}

static int write_file(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, v, strlen(v));
	e = errno;
	close(fd);
	return n == (ssize_t)strlen(v) ? 0 : n < 0 ? -e : -EIO;
}

/* True if the space-separated list in file path holds word. */
static bool file_has_word(const char *path, const char *word, size_t wlen)
{
	char buf[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* word need not end at wlen ("pids.max=10" looks for "pids") */
	for (char *p = buf; (p = memmem(p, (size_t)(buf + n - p), word, wlen)); p++)
		if ((p == buf || p[-1] == ' ') && (p[wlen] == ' ' || p[wlen] == '\n' || !p[wlen]))
			return true;
	return false;
}

/* Makes controller ctrl available to the children of dir. */
static int enable_controller(const char *dir, const char *ctrl, size_t clen)
{
	char path[PATH_MAX], v[64];

	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	if (file_has_word(path, ctrl, clen))
		return 0;
	snprintf(v, sizeof(v), "+%.*s", (int)clen, ctrl);
	return write_file(path, v);
}

int jail_cgroup_enter(const struct jail_cfg *c, char *dir, size_t len, struct errbuf *err)
{
	char root[PATH_MAX], base[PATH_MAX], path[PATH_MAX + 64];
	int r;

	dir[0] = 0;
	if (!jail_cgroup_root(root, sizeof(root))) {
		if (c->ncgroups)
			return err_set(err, ENOTSUP, "--cgroup: cgroup v2 is not mounted here");
		return 0;
	}
	if (path_in(base, sizeof(base), root, "/ember"))
		return err_set(err, ENAMETOOLONG, "jail: cgroup path too long");
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return err_set(err, errno, "jail: cgroup '%s': %s", base, strerror(errno));
	for (unsigned i = 0; i < c->ncgroups; i++) {
		const char *key = c->cgroups[i];
		size_t clen = (size_t)(strchr(key, '.') - key);

		snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
		if (!file_has_word(path, key, clen))
			return err_set(err, ENOTSUP,
				       "--cgroup '%s': controller '%.*s' is not available in cgroup v2 here",
				       key, (int)clen, key);
		r = enable_controller(root, key, clen);
		if (!r)
			r = enable_controller(base, key, clen);
		if (r)
			return err_set(err, -r, "--cgroup '%s': enabling '%.*s': %s", key,
				       (int)clen, key, strerror(-r));
	}
	if ((size_t)snprintf(dir, len, "%s/%s", base, c->id) >= len)
		return err_set(err, ENAMETOOLONG, "jail: cgroup path too long");
	if (mkdir(dir, 0755) < 0) {
		r = errno;
		dir[0] = 0;
		if (r == EEXIST)
			return err_set(err, r, "jail '%s': cgroup '%s/%s' already exists "
				       "(is a jail with this id running?)", c->id, base, c->id);
		return err_set(err, r, "jail: cgroup '%s/%s': %s", base, c->id, strerror(r));
	}
	for (unsigned i = 0; i < c->ncgroups; i++) {
		const char *key = c->cgroups[i], *eq = strchr(key, '=');

		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(eq - key), key);
		r = write_file(path, eq + 1);
		if (r) {
			jail_cgroup_remove(dir);
			dir[0] = 0;
			return err_set(err, -r, "--cgroup '%s': %s", key, strerror(-r));
		}
	}
	return 0;
}

void jail_cgroup_remove(const char *dir)
{
	if (dir && dir[0] && rmdir(dir) < 0)
		log_debug("jail: removing cgroup '%s': %m", dir);
}
