/* jail/jail.h - `ember jail`: a launcher above snapshot/ that runs `ember
 * run` or `ember restore` in new namespaces, pivot_rooted into a directory
 * holding only what the VM needs, as an unprivileged uid/gid, with rlimits
 * and an optional cgroup.  The one internal header of jail/: the command
 * (jail.c), its command line and the files it finds (jailcfg.c), the
 * jail's root and cgroup (jailfs.c).  The filters, capabilities and
 * Landlock the jailed VM then installs are seccomp/'s. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor/monitor.h"

/* A command the jail calls inside the jail, in this process: argv[0] is
 * the command ("run" or "restore"); returns its exit status. */
typedef int (*jail_run_fn)(int argc, char **argv, uint64_t start_ns);
/* `ember jail ...` (argv[0] is "jail"): jails `ember run` (run) or
 * `ember restore` (restore), whichever follows "--".  Returns the exit
 * status: the jailed command's (128+signal if it was killed), or
 * EXIT_BADINPUT with an "ember: ..." line on stderr for bad arguments and
 * missing files. */
int jail_main(int argc, char **argv, uint64_t start_ns, jail_run_fn run,
	      jail_run_fn restore);

#define JAIL_ID_MAX 64
/* run: kernel, initrd, raw image, drives, console, snapshot directory;
 * restore: a state and a memory file per snapshot of a chain of up to 16
 * diffs on a full one (SNAP_CHAIN_MAX), drives, console, directory */
#define JAIL_MAX_FILES (MAX_DRIVES + 2 * 17 + 8)
#define JAIL_MAX_CGROUPS 16
#define JAIL_MAX_RLIMITS 8
struct jail_file {
	char *path;		/* absolute host path (also the path inside) */
	bool ro;		/* bound read-only */
	bool create;		/* ember creates it (console output, snapshot
				 * directory): made beforehand, owned by the uid */
	bool blk;		/* a block device (a drive): keeps device access */
	bool dir;		/* a directory (--snapshot-dir) */
};
struct jail_cfg {
	const char *id;
	uid_t uid;
	gid_t gid;
	const char *base;	/* --chroot-base, default /srv/jailer */
	const char *netns;	/* --netns PATH or NULL: a new one */
	const char *cgroups[JAIL_MAX_CGROUPS];	/* KEY=VAL */
	unsigned ncgroups;
	struct { int res; uint64_t val; } rlimits[JAIL_MAX_RLIMITS];
	unsigned nrlimits;
	bool daemonize;
	int run_argc;		/* the command after "--", argv[0] "run" or
				 * "restore" */
	char **run_argv;
	struct jail_file files[JAIL_MAX_FILES];
	unsigned nfiles;
	bool need_tun;
	char cwd[4096];
	char *kernel_dir;	/* --kernel default: the directory it came from
				 * (the jailed run finds it by its variable) */
};
/* Checks an id: 1..64 characters of [A-Za-z0-9-].  0 or -EINVAL with
 * "jail id '...': ..." in err. */
int jail_check_id(const char *id, struct errbuf *err);
/* Parses `jail` arguments (argv[0] "jail") into c, then the run or
 * restore arguments after "--" to list the files the VM needs (absolute
 * paths; a restore's snapshot is read here, with its base chain).  0 or
 * -errno with a message. */
int jail_parse(int argc, char **argv, struct jail_cfg *c, struct errbuf *err);
void jail_cfg_free(struct jail_cfg *c);
/* In the jail's new mount namespace: builds <base>/<id>/root as a small
 * tmpfs holding bind mounts of c->files and the device nodes, then
 * pivot_roots into it and detaches the old root.  0 or -errno. */
int jailfs_enter(const struct jail_cfg *c, struct errbuf *err);
/* Creates <cgroup2>/ember/<id>, writes each KEY=VAL and moves the caller
 * in.  Writes the directory to dir (for jail_cgroup_remove).  0 when
 * there is nothing to do or it worked, -errno with a message. */
int jail_cgroup_enter(const struct jail_cfg *c, char *dir, size_t len,
		      struct errbuf *err);
void jail_cgroup_remove(const char *dir);
