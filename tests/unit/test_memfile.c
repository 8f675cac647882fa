/* Unit tests of snapshot memory files (monitor/memfile.c, gmem_init_file):
 * the exact refusal of a file others could change, and the clear stop
 * (message, EXIT_MEMFILE) when ember touches guest RAM whose file was
 * truncated under it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor/monitor.h"

#define SIZE MiB(2)

/* A memory file of SIZE bytes with the given mode; its path in buf. */
static void make_file(char *buf, size_t len, mode_t mode)
{
	int fd;

	snprintf(buf, len, "%s/ember-memfile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(buf);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)SIZE), 0);
	cr_assert_eq(pwrite(fd, "ember", 5, 0), 5);
	cr_assert_eq(fchmod(fd, mode), 0);	/* exactly, whatever the umask */
	close(fd);
}

static void refused(mode_t mode, const char *who)
{
	char path[4096], want[4600];
	struct gmem m;
	struct errbuf err = { "" };

	make_file(path, sizeof(path), mode);
	cr_assert_eq(gmem_init_file(&m, SIZE, path, &err), -EPERM);
	snprintf(want, sizeof(want), "snapshot memory '%s': writable by %s (mode %04o), who could "
		 "change it under the running VM (chmod go-w)", path, who, (unsigned)mode);
	cr_assert_str_eq(err.msg, want);
	cr_assert_null(m.host);
	unlink(path);
}

Test(memfile, group_or_other_writable_refused)
{
	refused(0666, "its group and others");
	refused(0620, "its group");
	refused(0602, "others");
}

Test(memfile, owned_by_another_user_refused)
{
	char want[256];
	struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = geteuid() + 1000 };
	struct errbuf err = { "" };

	cr_assert_eq(memfile_check("dir/memory", &st, &err), -EPERM);
	snprintf(want, sizeof(want), "snapshot memory 'dir/memory': owned by uid %u, neither "
		 "ember's user (uid %u) nor root, who could change it under the running VM",
		 geteuid() + 1000, geteuid());
	cr_assert_str_eq(err.msg, want);
	st.st_uid = 0;	/* root's: it could change anything anyway */
	cr_assert_eq(memfile_check("dir/memory", &st, &err), 0);
	st.st_uid = geteuid();
	cr_assert_eq(memfile_check("dir/memory", &st, &err), 0);
}

Test(memfile, wrong_size_refused)
{
	char path[4096], want[4600];
	struct gmem m;
	struct errbuf err = { "" };

	make_file(path, sizeof(path), 0644);
	cr_assert_eq(gmem_init_file(&m, 2 * SIZE, path, &err), -EINVAL);
	snprintf(want, sizeof(want), "snapshot memory '%s': 2097152 bytes, the snapshot's RAM "
		 "is 4194304", path);
	cr_assert_str_eq(err.msg, want);
	unlink(path);
}

Test(memfile, private_file_mapped)
{
	char path[4096];
	struct gmem m;
	struct errbuf err = { "" };

	make_file(path, sizeof(path), 0644);
	cr_assert_eq(gmem_init_file(&m, SIZE, path, &err), 0, "%s", err.msg);
	cr_assert(m.cow);
	cr_assert_str_eq(m.path, path);
	cr_assert_eq(memcmp(m.host, "ember", 5), 0);
	gmem_destroy(&m);
	cr_assert_null(m.path);
	unlink(path);
}

/* ember's own access to a page of a file truncated under it: one line on
 * stderr and EXIT_MEMFILE, not a crash (in a child: it ends the process) */
Test(memfile, truncated_under_ember_is_a_clear_stop)
{
	char path[4096], errpath[4200], got[8192] = "", want[4600], msg[4500];
	struct gmem m;
	struct errbuf err = { "" };
	int status, fd;
	pid_t pid;

	make_file(path, sizeof(path), 0644);
	snprintf(errpath, sizeof(errpath), "%s.err", path);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (efd < 0 || dup2(efd, STDERR_FILENO) < 0)
			_exit(90);
		if (gmem_init_file(&m, SIZE, path, &err))
			_exit(91);
		if (truncate(path, 0))
			_exit(92);
		/* a page not copied yet: the file's, and gone */
		_exit(((volatile uint8_t *)m.host)[SIZE - 1] == 0x5a ? 93 : 94);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	fd = open(errpath, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_geq(read(fd, got, sizeof(got) - 1), 0);
	close(fd);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_MEMFILE,
		  "child: exited %d, signal %d; stderr: %s", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0, got);
	memfile_changed_msg(path, msg, sizeof(msg));
	snprintf(want, sizeof(want), "ember: %s\n", msg);
	cr_assert_str_eq(got, want);
	snprintf(want, sizeof(want), "snapshot memory '%s' changed under the running VM "
		 "(truncated?): the guest RAM it held is gone", path);
	cr_assert_str_eq(msg, want);
	unlink(path);
	unlink(errpath);
}
