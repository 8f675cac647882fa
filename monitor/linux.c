/* monitor/linux.c - what ember does for Linux guests: finds the default
 * guest (kernel + initramfs built by `make guest-kernel`), assembles the
 * kernel command line (defaults, virtio-mmio devices, ember-init's
 * parameters, the user's --cmdline) and builds the --share image. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/monitor.h"

extern char **environ;

enum { OWN_KERNEL, OWN_INITRD, OWN_SHARE };

/* ---- the default guest ------------------------------------------------- */
int linux_default_dir(char *buf, size_t len, struct errbuf *err)
{
	const char *d = getenv(LINUX_KERNEL_DIR_ENV), *base;
	const char *sub;
	int n;

	if (d && *d) {
		n = snprintf(buf, len, "%s", d);
		goto done;
	}
	if ((base = getenv("EMBER_CACHE")) && *base)
		sub = "";
	else if ((base = getenv("XDG_CACHE_HOME")) && *base)
		sub = "/ember";
	else if ((base = getenv("HOME")) && *base)
		sub = "/.cache/ember";
	else
		return err_set(err, ENOENT,
			       "default guest: no HOME to find the cache in; set %s",
			       LINUX_KERNEL_DIR_ENV);
	n = snprintf(buf, len, "%s%s/default", base, sub);
done:
	if (n < 0 || (size_t)n >= len)
		return err_set(err, ENAMETOOLONG, "default guest: directory name too long");
	return 0;
}

static int default_file(struct vm_config *cfg, const char *dir, const char *name,
			int slot, struct errbuf *err)
{
	struct stat st;
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return err_set(err, ENOMEM, "out of memory");
	free(cfg->linux_owned[slot]);
	cfg->linux_owned[slot] = p;
	if (stat(p, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, ENOENT,
			       "default guest: '%s' is missing: build it with `make guest-kernel` "
			       "(or set %s to a directory with vmlinux, bzImage and initramfs.cpio.gz)",
			       p, LINUX_KERNEL_DIR_ENV);
	return 0;
}

int linux_resolve_default(struct vm_config *cfg, struct errbuf *err)
{
	char dir[4096];
	int r;

	if (!cfg->kernel_default)
		return 0;
	r = linux_default_dir(dir, sizeof(dir), err);
	if (r)
		return r;
	r = default_file(cfg, dir, cfg->boot_proto == BOOT_PROTO_BZIMAGE ? "bzImage" : "vmlinux",
			 OWN_KERNEL, err);
	if (r)
		return r;
	cfg->kernel = cfg->linux_owned[OWN_KERNEL];
	if (!cfg->initrd) {
		r = default_file(cfg, dir, "initramfs.cpio.gz", OWN_INITRD, err);
		if (r)
			return r;
		cfg->initrd = cfg->linux_owned[OWN_INITRD];
	}
	return 0;
}

/* ---- ember.cmd --------------------------------------------------------- */
long linux_encode_argv(char *const *argv, int argc, char *out, size_t cap)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t total = 0, need, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (argc < 1 || !argv[0][0])
		return -EINVAL;
	for (int i = 0; i < argc; i++)
		total += strlen(argv[i]) + 1;
	need = total / 3 * 4 + (total % 3 ? total % 3 + 1 : 0);
	if (need >= cap)
		return -ENOSPC;
	for (int i = 0; i < argc; i++) {
		const unsigned char *s = (const unsigned char *)argv[i];

		do {	/* every byte, the NUL included */
			acc = (acc << 8) | *s;
			bits += 8;
			while (bits >= 6) {
				bits -= 6;
				out[o++] = a[(acc >> bits) & 63];
			}
			acc &= (1u << bits) - 1;	/* what is not yet written */
		} while (*s++);
	}
	if (bits)
		out[o++] = a[(acc << (6 - bits)) & 63];
	out[o] = 0;
	return (long)o;
}

/* ---- the command line -------------------------------------------------- */
struct line {
	char *buf;
	size_t cap, pos;	/* pos counts past cap: the length it would have */
};

static void put(struct line *l, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))	/* one space between parts */
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
		n--;
	if (!n)
		return;
	if (l->pos) {
		if (l->pos + 1 < l->cap)
			l->buf[l->pos] = ' ';
		l->pos++;
	}
	if (l->pos + n < l->cap)
		memcpy(l->buf + l->pos, s, n);
	l->pos += n;
}

/* The offset of a standalone "--" word in s, or strlen(s). */
static size_t dashdash(const char *s)
{
	for (size_t i = 0; s[i]; i++)
		if (s[i] == '-' && s[i + 1] == '-' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t') &&
		    (!s[i + 2] || s[i + 2] == ' ' || s[i + 2] == '\t'))
			return i;
	return strlen(s);
}

int linux_cmdline(const struct vm_config *cfg, const char *devices,
		  char *buf, size_t len, struct errbuf *err)
{
	const char *user = cfg->cmdline ? cfg->cmdline : "";
	struct line l = { .buf = buf, .cap = len };
	char share[32] = "", root[CONFIG_ID_MAX + 32] = "";
	char *cmd = NULL;
	size_t cmdlen = 0, split = dashdash(user);
	bool linux_only = cfg->kernel_default || cfg->cmd || cfg->share;

	if (len == 0)
		return err_set(err, ENOSPC, "kernel command line: no room");
	if (cfg->share && cfg->share_drive >= 0)
		snprintf(share, sizeof(share), "ember.share=vd%c", 'a' + cfg->share_drive);
	/* the root device (Firecracker's is_root_device): the setter keeps it first */
	if (cfg->ndrives && cfg->drives[0].root) {
		const struct drive_cfg *d = &cfg->drives[0];

		if (d->partuuid)
			snprintf(root, sizeof(root), "root=PARTUUID=%.*s %s", CONFIG_ID_MAX, d->partuuid,
				 d->ro ? "ro" : "rw");
		else
			snprintf(root, sizeof(root), "root=/dev/vda %s", d->ro ? "ro" : "rw");
	}
	if (cfg->cmd) {
		size_t cap = 12;
		long n;

		for (int i = 0; i < cfg->ncmd; i++)
			cap += (strlen(cfg->cmd[i]) + 1) * 4 / 3 + 4;
		cmd = malloc(cap);
		if (!cmd)
			return err_set(err, ENOMEM, "out of memory");
		memcpy(cmd, "ember.cmd=", 10);
		n = linux_encode_argv(cfg->cmd, cfg->ncmd, cmd + 10, cap - 10);
		if (n < 0) {
			free(cmd);
			return err_set(err, EINVAL, "the command after -- is empty");
		}
		cmdlen = 10 + (size_t)n;
	}

	if (!linux_only && !*devices) {
		l.pos = strlen(user);	/* as given, untouched */
		if (l.pos < len)
			memcpy(buf, user, l.pos);
	} else if (cfg->kernel_default) {
		put(&l, LINUX_DEFAULT_CMDLINE, strlen(LINUX_DEFAULT_CMDLINE));
		put(&l, devices, strlen(devices));
		put(&l, root, strlen(root));
		put(&l, share, strlen(share));
		if (cmd)
			put(&l, cmd, cmdlen);
		put(&l, user, strlen(user));
	} else {
		put(&l, user, split);
		put(&l, devices, strlen(devices));
		put(&l, root, strlen(root));
		put(&l, share, strlen(share));
		if (cmd)
			put(&l, cmd, cmdlen);
		put(&l, user + split, strlen(user + split));
	}
	free(cmd);

	if (linux_only && l.pos > LINUX_CMDLINE_MAX) {
		if (cmdlen)
			return err_set(err, E2BIG,
				       "kernel command line is %zu bytes, over Linux's limit of %d "
				       "(x86 COMMAND_LINE_SIZE 2048, NUL included); the command after -- "
				       "takes %zu of them", l.pos, LINUX_CMDLINE_MAX, cmdlen);
		return err_set(err, E2BIG,
			       "kernel command line is %zu bytes, over Linux's limit of %d "
			       "(x86 COMMAND_LINE_SIZE 2048, NUL included)", l.pos, LINUX_CMDLINE_MAX);
	}
	if (l.pos >= len)
		return err_set(err, ENOSPC, "kernel command line is %zu bytes, at most %zu are supported",
			       l.pos, len - 1);
	buf[l.pos] = 0;
	return 0;
}

/* ---- --share DIR ------------------------------------------------------- */
struct tree_size {
	uint64_t bytes, inodes;
};

/* Adds up what the files under dfd need (4 KiB blocks) and how many inodes;
 * does not follow symlinks or cross into deeper than 256 levels. */
static int tree_walk(int dfd, struct tree_size *t, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return -errno;
	}
	if (depth > 256) {
		closedir(d);
		return -ELOOP;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* mke2fs will name the culprit */
		t->inodes++;
		t->bytes += ((uint64_t)st.st_size + 4095) / 4096 * 4096 + 4096;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			int r = sub < 0 ? -errno : tree_walk(sub, t, depth + 1);

			if (r) {
				closedir(d);
				return r;
			}
		}
	}
	closedir(d);
	return 0;
}

/* Runs mke2fs; returns its exit status, or -errno when it cannot start. */
static int run_mke2fs(const char *dir, const char *img, uint64_t kib, uint64_t inodes,
		      bool quiet)
{
	static const char *const paths[] = { "mke2fs", "/usr/sbin/mke2fs", "/sbin/mke2fs" };
	char size[32], nino[32];
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-m", "0",
			 "-N", nino, "-O", "^has_journal,^resize_inode", "-L", "ember-share",
			 "-d", (char *)dir, (char *)img, size, NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r = ENOENT, st;

	snprintf(size, sizeof(size), "%lluk", (unsigned long long)kib);
	snprintf(nino, sizeof(nino), "%llu", (unsigned long long)inodes);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(paths) && r == ENOENT; i++)
		r = posix_spawnp(&pid, paths[i], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -r;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int linux_share_prepare(struct vm_config *cfg, struct errbuf *err)
{
	const char *tmp = getenv("TMPDIR");
	struct tree_size t = { 0, 0 };
	struct stat st;
	uint64_t kib;
	char *img;
	int fd, r = 0;

	cfg->share_drive = -1;
	if (!cfg->share)
		return 0;
	if (stat(cfg->share, &st) < 0)
		return err_set(err, errno, "--share '%s': %s", cfg->share, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "--share '%s': not a directory", cfg->share);
	if (cfg->ndrives >= MAX_DRIVES)
		return err_set(err, EINVAL, "--share: no drive left (at most %d drives, the share included)",
			       MAX_DRIVES);
	fd = open(cfg->share, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -errno : tree_walk(fd, &t, 0);
	if (r)
		return err_set(err, -r, "--share '%s': %s", cfg->share, strerror(-r));

	if (asprintf(&img, "%s/ember-share-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return err_set(err, ENOMEM, "out of memory");
	fd = mkostemp(img, O_CLOEXEC);
	if (fd < 0) {
		r = err_set(err, errno, "--share: cannot create '%s': %s", img, strerror(errno));
		free(img);
		return r;
	}
	close(fd);
	cfg->linux_owned[OWN_SHARE] = img;
	/* data and directories in 4 KiB blocks, a quarter more for the
	 * metadata, 256 bytes an inode, 2 MiB for the rest; doubled on ENOSPC */
	t.inodes += 32;
	kib = (t.bytes + t.bytes / 4 + t.inodes * 256) / 1024 + 2048;
	for (int attempt = 0; attempt < 3; attempt++, kib *= 2) {
		r = run_mke2fs(cfg->share, img, kib, t.inodes, attempt < 2);
		if (r <= 0)
			break;
	}
	if (r < 0)
		return err_set(err, -r, "--share '%s': cannot run mke2fs: %s (install e2fsprogs)",
			       cfg->share, strerror(-r));
	if (r > 0)
		return err_set(err, EIO, "--share '%s': mke2fs -d failed with status %d", cfg->share, r);
	cfg->share_drive = (int)cfg->ndrives;
	cfg->drives[cfg->ndrives++] = (struct drive_cfg){ .path = img, .id = "share", .ro = true };
	return 0;
}

void linux_share_cleanup(struct vm_config *cfg)
{
	/* once only: later (config_free) the seccomp filter forbids unlink */
	if (cfg->linux_owned[OWN_SHARE] && !cfg->share_unlinked)
		unlink(cfg->linux_owned[OWN_SHARE]);
	cfg->share_unlinked = true;
}

void linux_config_free(struct vm_config *cfg)
{
	linux_share_cleanup(cfg);
	for (unsigned i = 0; i < ARRAY_SIZE(cfg->linux_owned); i++) {
		free(cfg->linux_owned[i]);
		cfg->linux_owned[i] = NULL;
	}
}
