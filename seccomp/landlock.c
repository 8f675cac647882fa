/* seccomp/landlock.c - where ember may write files by path once the
 * sandbox is on.  seccomp pins the flags of the openat a snapshot or a
 * fuzz finding needs, but not its path, and mkdirat, renameat and unlinkat
 * take any arguments: a compromised ember could rewrite any file the user
 * can.  A Landlock ruleset (Linux 5.13+, three system calls, no library)
 * confines every path-based write to the directories the command names
 * (cfg->write_dirs); with none, no path-based write is allowed at all.
 * Files opened before the sandbox (drives, the console) are not affected.
 * Each thread applies the ruleset to itself before its seccomp filter,
 * so a program that links libember keeps its other threads as they were. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

#include "seccomp/seccomp.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

/* Every access that changes the file system, by ABI version. */
static uint64_t write_access(int abi)
{
	uint64_t a = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
		     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
		     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return a;
}

int sc_landlock_build(const char *const *dirs, unsigned n, char *why, size_t whylen)
{
	struct landlock_ruleset_attr attr;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	int fd, e;

	if (abi < 1) {
		e = errno;
		snprintf(why, whylen, "Landlock is not available here (%s)",
			 e == ENOSYS ? "the kernel has no Landlock" :
			 e == EOPNOTSUPP ? "disabled at boot: not in the kernel's lsm= list" :
			 strerror(e));
		return -e;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = write_access((int)abi);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0) {
		e = errno;
		snprintf(why, whylen, "Landlock: creating the ruleset: %s", strerror(e));
		return -e;
	}
	for (unsigned i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb = {
			.allowed_access = attr.handled_access_fs,
		};

		pb.parent_fd = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pb.parent_fd < 0 ||
		    syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
			e = errno;
			snprintf(why, whylen, "Landlock: directory '%s': %s", dirs[i], strerror(e));
			if (pb.parent_fd >= 0)
				close(pb.parent_fd);
			close(fd);
			return -e;
		}
		close(pb.parent_fd);
	}
	return fd;
}

int sc_landlock_enter(int ruleset_fd)
{
	if (ruleset_fd < 0)
		return 0;
	/* Landlock asks for no_new_privs (the seccomp filter sets it too) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset_fd, 0) < 0)
		return -errno;
	return 0;
}
