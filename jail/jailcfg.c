/* jail/jailcfg.c - the `ember jail` command line: options, the jail id,
 * and the files of the VM that the jail's root must hold (found by parsing
 * the run arguments, or by reading the snapshot a restore names). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jail/jail.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

int jail_check_id(const char *id, struct errbuf *err)
{
	size_t n = strlen(id);

	if (n == 0)
		return err_set(err, EINVAL, "jail id '': must not be empty");
	if (n > JAIL_ID_MAX)
		return err_set(err, EINVAL, "jail id '%s': longer than %d characters", id,
			       JAIL_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-'))
			return err_set(err, EINVAL,
				       "jail id '%s': only letters, digits and '-' are allowed", id);
	}
	return 0;
}

static int parse_id_num(const char *opt, const char *v, unsigned *out, struct errbuf *err)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (!*v || *end || errno || n >= 0xffffffffUL || v[0] == '-')
		return err_set(err, EINVAL, "%s: '%s' is not a number", opt, v);
	*out = (unsigned)n;
	return 0;
}

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "nofile", RLIMIT_NOFILE }, { "fsize", RLIMIT_FSIZE }, { "nproc", RLIMIT_NPROC },
	{ "core", RLIMIT_CORE }, { "memlock", RLIMIT_MEMLOCK }, { "as", RLIMIT_AS },
};

static int parse_rlimit(struct jail_cfg *c, const char *v, struct errbuf *err)
{
	const char *eq = strchr(v, '=');
	uint64_t val;

	if (c->nrlimits == JAIL_MAX_RLIMITS)
		return err_set(err, EINVAL, "--rlimit: at most %d", JAIL_MAX_RLIMITS);
	if (!eq)
		return err_set(err, EINVAL, "--rlimit: '%s' is not NAME=VALUE", v);
	for (unsigned i = 0; i < ARRAY_SIZE(rlimit_names); i++) {
		if (strlen(rlimit_names[i].name) != (size_t)(eq - v) ||
		    strncmp(v, rlimit_names[i].name, (size_t)(eq - v)))
			continue;
		if (!strcmp(eq + 1, "unlimited"))
			val = RLIM_INFINITY;
		else if (parse_size(eq + 1, &val))
			return err_set(err, EINVAL, "--rlimit: '%s' is not a number", eq + 1);
		c->rlimits[c->nrlimits].res = rlimit_names[i].res;
		c->rlimits[c->nrlimits++].val = val;
		return 0;
	}
	return err_set(err, EINVAL,
		       "--rlimit: unknown resource '%.*s' (nofile, fsize, nproc, core, memlock, as)",
		       (int)(eq - v), v);
}

static int parse_cgroup(struct jail_cfg *c, const char *v, struct errbuf *err)
{
	const char *eq = strchr(v, '='), *dot = strchr(v, '.');

	if (c->ncgroups == JAIL_MAX_CGROUPS)
		return err_set(err, EINVAL, "--cgroup: at most %d", JAIL_MAX_CGROUPS);
	if (!eq || eq == v || !dot || dot > eq || dot == v || !strncmp(v, "cgroup.", 7) ||
	    memchr(v, '/', (size_t)(eq - v)) || strstr(v, ".."))
		return err_set(err, EINVAL,
			       "--cgroup: '%s' is not KEY=VALUE with KEY a controller file such as memory.max",
			       v);
	c->cgroups[c->ncgroups++] = v;
	return 0;
}

/* Normalises an absolute path in place, as the jail will resolve it: "//"
 * and "/./" become "/", "x/.." goes (lexically: inside the jail every
 * directory on the way is a plain one the jail made), a trailing "/"
 * goes.  A ".." above "/" is refused (-1).  So the jail never joins a
 * ".." to its root when it makes a file's directories there. */
static int path_clean(char *p)
{
	char *w = p;

	for (const char *r = p; *r;) {
		size_t n;

		while (*r == '/')
			r++;
		n = strcspn(r, "/");
		if (n == 2 && r[0] == '.' && r[1] == '.') {
			if (w == p)
				return -1;
			while (w > p && *--w != '/')
				;
		} else if (n && !(n == 1 && r[0] == '.')) {
			*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	if (w == p)
		*w++ = '/';
	*w = 0;
	return 0;
}

/* Adds path (made absolute against cwd) to the jail's files after
 * checking it exists.  A file ember creates (console) may be missing. */
static int add_file(struct jail_cfg *c, const char *what, const char *path, bool ro,
		    bool create, bool dir, struct errbuf *err)
{
	struct jail_file *f;
	struct stat st;
	char *abs;

	if (path[0] == '/')
		abs = strdup(path);
	else if (asprintf(&abs, "%s/%s", c->cwd, path) < 0)
		abs = NULL;
	if (!abs)
		return err_set(err, ENOMEM, "jail: out of memory");
	if (path_clean(abs)) {
		free(abs);
		return err_set(err, EINVAL, "jail: %s '%s': its '..' leads above '/'", what, path);
	}
	for (unsigned i = 0; i < c->nfiles; i++) {
		if (!strcmp(c->files[i].path, abs)) {	/* the same file twice */
			c->files[i].ro &= ro;
			free(abs);
			return 0;
		}
	}
	if (c->nfiles == JAIL_MAX_FILES) {
		free(abs);
		return err_set(err, EINVAL, "jail: too many files");
	}
	f = &c->files[c->nfiles++];
	f->path = abs;
	f->ro = ro;
	f->create = create;
	f->dir = dir;
	if (stat(abs, &st) < 0) {
		if (create && errno == ENOENT)
			return 0;
		return err_set(err, errno, "%s '%s': %s", what, path, strerror(errno));
	}
	if (S_ISDIR(st.st_mode) != dir)
		return err_set(err, dir ? ENOTDIR : EISDIR, "%s '%s': %s", what, path,
			       dir ? "not a directory" : "is a directory");
	f->blk = S_ISBLK(st.st_mode);
	return 0;
}

/* Lists the files the run arguments name, taking the options out as
 * `ember run` does (monitor/main.c): snapshot options, --no-seccomp, then
 * the VM's configuration.  The one place a new file-naming option goes. */
static int collect_files(struct jail_cfg *c, struct errbuf *err)
{
	struct vm_config cfg;
	struct snap_opts so;
	int argc = c->run_argc, r;
	char **argv = calloc((size_t)argc + 1, sizeof(*argv));

	if (!argv)
		return err_set(err, ENOMEM, "jail: out of memory");
	memcpy(argv, c->run_argv, (size_t)argc * sizeof(*argv));
	memset(&cfg, 0, sizeof(cfg));
	r = snap_opts_take(&argc, argv, &so, err);
	sc_take_no_seccomp(&argc, argv);
	if (!r)
		r = config_parse_run(argc, argv, &cfg, err);
	if (!r && cfg.share)	/* built with mke2fs, which is not in the jail */
		r = err_set(err, ENOTSUP, "jail: --share is not available in a jail "
			    "(make the image outside and give it with --drive ...,ro=on)");
	if (!r && cfg.kernel_default && cfg.kernel) {
		c->kernel_dir = strdup(cfg.kernel);
		if (!c->kernel_dir || !strrchr(c->kernel_dir, '/'))
			r = err_set(err, ENOMEM, "jail: out of memory");
		else
			*strrchr(c->kernel_dir, '/') = 0;
	}
	if (!r && cfg.kernel)
		r = add_file(c, "kernel", cfg.kernel, true, false, false, err);
	if (!r && cfg.initrd)
		r = add_file(c, "initrd", cfg.initrd, true, false, false, err);
	if (!r && cfg.raw)
		r = add_file(c, "raw image", cfg.raw, true, false, false, err);
	for (unsigned i = 0; !r && i < cfg.ndrives; i++)
		r = add_file(c, "drive", cfg.drives[i].path, cfg.drives[i].ro, false, false, err);
	if (!r && cfg.console == CONSOLE_FILE)
		r = add_file(c, "console", cfg.console_path, false, true, false, err);
	if (!r && cfg.metrics_path)
		r = add_file(c, "metrics path", cfg.metrics_path, false, true, false, err);
	if (!r && cfg.logger.path)
		r = add_file(c, "log path", cfg.logger.path, false, true, false, err);
	if (!r && so.dir)
		r = add_file(c, "snapshot directory", so.dir, false, true, true, err);
	c->need_tun = cfg.nnets > 0;
	config_free(&cfg);
	free(argv);
	return r;
}

static int add_need(void *ctx, const struct snap_need *n, struct errbuf *err)
{
	return add_file(ctx, n->what, n->path, n->ro, n->create, n->dir, err);
}

/* Lists the files a jailed `ember restore DIR [options]` opens: reads the
 * snapshot (and its base chain) here, before the jail exists, and applies
 * the restore options as `ember restore` does (snapshot/files.c). */
static int collect_restore_files(struct jail_cfg *c, struct errbuf *err)
{
	struct snap_image *img = calloc(1, sizeof(*img));
	char **argv = calloc((size_t)c->run_argc + 1, sizeof(*argv));
	int argc = c->run_argc, r;
	bool no_seccomp, boot_time;
	struct snap_opts so;

	if (!img || !argv) {
		free(img);
		free(argv);
		return err_set(err, ENOMEM, "jail: out of memory");
	}
	memcpy(argv, c->run_argv, (size_t)argc * sizeof(*argv));
	r = snap_restore_args(&argc, argv, img, &so, &no_seccomp, &boot_time, err);
	if (!r)
		r = snap_restore_files(img, &so, add_need, c, err);
	c->need_tun = img->cfg.nnets > 0;
	snap_image_free(img);
	free(img);
	free(argv);
	return r;
}

int jail_parse(int argc, char **argv, struct jail_cfg *c, struct errbuf *err)
{
	bool have_uid = false, have_gid = false, restore;
	int i, r;

	memset(c, 0, sizeof(*c));
	c->base = "/srv/jailer";
	for (i = 1; i < argc; i++) {
		char name[32];
		const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "--daemonize")) {
			c->daemonize = true;
			continue;
		}
		if (strncmp(a, "--", 2) || (eq ? (size_t)(eq - a) : strlen(a)) >= sizeof(name))
			return err_set(err, EINVAL, "jail: unknown option '%s' (see 'ember help')", a);
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		if (strcmp(name, "--id") && strcmp(name, "--uid") && strcmp(name, "--gid") &&
		    strcmp(name, "--chroot-base") && strcmp(name, "--netns") &&
		    strcmp(name, "--cgroup") && strcmp(name, "--rlimit"))
			return err_set(err, EINVAL, "jail: unknown option '%s' (see 'ember help')", a);
		if (eq)
			v = eq + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else
			return err_set(err, EINVAL, "%s needs a value", name);
		if (!strcmp(name, "--id")) {
			c->id = v;
		} else if (!strcmp(name, "--uid")) {
			r = parse_id_num(name, v, &c->uid, err);
			if (r)
				return r;
			have_uid = true;
		} else if (!strcmp(name, "--gid")) {
			r = parse_id_num(name, v, &c->gid, err);
			if (r)
				return r;
			have_gid = true;
		} else if (!strcmp(name, "--chroot-base")) {
			if (v[0] != '/')
				return err_set(err, EINVAL, "--chroot-base: '%s' is not an absolute path", v);
			c->base = v;
		} else if (!strcmp(name, "--netns")) {
			c->netns = v;
		} else if (!strcmp(name, "--cgroup")) {
			r = parse_cgroup(c, v, err);
			if (r)
				return r;
		} else {
			r = parse_rlimit(c, v, err);
			if (r)
				return r;
		}
	}
	if (!c->id)
		return err_set(err, EINVAL, "jail: --id ID is required");
	r = jail_check_id(c->id, err);
	if (r)
		return r;
	if (!have_uid || !have_gid)
		return err_set(err, EINVAL, "jail: --uid and --gid are required");
	if (i >= argc)
		return err_set(err, EINVAL,
			       "jail: the command to jail must follow '--' (ember jail ... -- run --kernel FILE)");
	restore = !strcmp(argv[i], "restore");
	if (strcmp(argv[i], "run") && !restore && strncmp(argv[i], "--", 2))
		return err_set(err, EINVAL, "jail: cannot jail '%s' (only 'run' or 'restore')",
			       argv[i]);
	/* the command's argv, starting with "run" (implied before options)
	 * or "restore" */
	c->run_argv = calloc((size_t)(argc - i) + 2, sizeof(char *));
	if (!c->run_argv)
		return err_set(err, ENOMEM, "jail: out of memory");
	c->run_argv[c->run_argc++] = restore ? "restore" : "run";
	for (int k = strncmp(argv[i], "--", 2) ? i + 1 : i; k < argc; k++)
		c->run_argv[c->run_argc++] = argv[k];
	if (!getcwd(c->cwd, sizeof(c->cwd)))
		return err_set(err, errno, "jail: current directory: %s", strerror(errno));
	return restore ? collect_restore_files(c, err) : collect_files(c, err);
}

void jail_cfg_free(struct jail_cfg *c)
{
	for (unsigned i = 0; i < c->nfiles; i++)
		free(c->files[i].path);
	c->nfiles = 0;
	free(c->run_argv);
	c->run_argv = NULL;
	free(c->kernel_dir);
	c->kernel_dir = NULL;
}
