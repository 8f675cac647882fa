/* Unit tests of `ember jail`'s command line: the id rule, the options, the
 * files it finds in the run arguments, and --no-seccomp's removal.  The
 * namespaces and mounts themselves are tested by the integration tests
 * (tests/integration/t_sandbox_jail.sh). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "jail/jail.h"
#include "seccomp/seccomp.h"

static void check_id(const char *id, const char *want)
{
	struct errbuf err = { "" };
	int r = jail_check_id(id, &err);

	if (!want) {
		cr_assert_eq(r, 0, "'%s': %s", id, err.msg);
		return;
	}
	cr_assert_eq(r, -EINVAL, "'%s' accepted", id);
	cr_assert_str_eq(err.msg, want);
}

Test(jail_id, letters_digits_dashes_up_to_64)
{
	char id65[66], id64[65];

	memset(id64, 'a', 64);
	id64[64] = 0;
	memset(id65, 'b', 65);
	id65[65] = 0;
	check_id("vm-1", NULL);
	check_id("A-z-0-9", NULL);
	check_id(id64, NULL);
	check_id("", "jail id '': must not be empty");
	check_id(id65, "jail id 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb': "
		 "longer than 64 characters");
	check_id("a/b", "jail id 'a/b': only letters, digits and '-' are allowed");
	check_id("..", "jail id '..': only letters, digits and '-' are allowed");
	check_id("a_b", "jail id 'a_b': only letters, digits and '-' are allowed");
	check_id("a b", "jail id 'a b': only letters, digits and '-' are allowed");
	check_id("caf\xc3\xa9", "jail id 'caf\xc3\xa9': only letters, digits and '-' are allowed");
}

/* A kernel file to name in run arguments. */
static char kernel[64];

static void make_kernel(void)
{
	int fd;

	snprintf(kernel, sizeof(kernel), "/tmp/ember-jail-test-XXXXXX");
	fd = mkstemp(kernel);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "k", 1), 1);
	close(fd);
}

static void drop_kernel(void)
{
	unlink(kernel);
}

/* Parses a NULL-terminated argument list; returns the result. */
static int parse(struct jail_cfg *c, struct errbuf *err, const char **args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "jail";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return jail_parse(argc, argv, c, err);
}

static void parse_fails(const char *want, const char **args)
{
	struct jail_cfg c;
	struct errbuf err = { "" };

	cr_assert_neq(parse(&c, &err, args), 0, "accepted (want '%s')", want);
	cr_assert_str_eq(err.msg, want);
	jail_cfg_free(&c);
}

TestSuite(jail_parse, .init = make_kernel, .fini = drop_kernel);

Test(jail_parse, exact_errors)
{
	parse_fails("jail: --id ID is required",
		    (const char *[]){ "--uid", "1", "--gid", "1", "--", "run", "--kernel", kernel, NULL });
	parse_fails("jail id 'x/y': only letters, digits and '-' are allowed",
		    (const char *[]){ "--id", "x/y", "--uid", "1", "--gid", "1", "--", "run", NULL });
	parse_fails("jail: --uid and --gid are required",
		    (const char *[]){ "--id", "a", "--uid", "1", "--", "run", NULL });
	parse_fails("--uid: 'root' is not a number",
		    (const char *[]){ "--id", "a", "--uid", "root", NULL });
	parse_fails("--gid: '-1' is not a number",
		    (const char *[]){ "--id", "a", "--gid", "-1", NULL });
	parse_fails("jail: unknown option '--bogus' (see 'ember help')",
		    (const char *[]){ "--id", "a", "--bogus", NULL });
	parse_fails("--chroot-base: 'rel/dir' is not an absolute path",
		    (const char *[]){ "--id", "a", "--chroot-base", "rel/dir", NULL });
	parse_fails("--cgroup: 'memory' is not KEY=VALUE with KEY a controller file such as memory.max",
		    (const char *[]){ "--id", "a", "--cgroup", "memory", NULL });
	parse_fails("--cgroup: 'cgroup.procs=1' is not KEY=VALUE with KEY a controller file such as memory.max",
		    (const char *[]){ "--id", "a", "--cgroup", "cgroup.procs=1", NULL });
	parse_fails("--cgroup: '../x.max=1' is not KEY=VALUE with KEY a controller file such as memory.max",
		    (const char *[]){ "--id", "a", "--cgroup", "../x.max=1", NULL });
	parse_fails("--rlimit: unknown resource 'cpu' (nofile, fsize, nproc, core, memlock, as)",
		    (const char *[]){ "--id", "a", "--rlimit", "cpu=1", NULL });
	parse_fails("--rlimit: 'lots' is not a number",
		    (const char *[]){ "--id", "a", "--rlimit", "nofile=lots", NULL });
	parse_fails("--netns needs a value", (const char *[]){ "--id", "a", "--netns", NULL });
	parse_fails("jail: the command to jail must follow '--' (ember jail ... -- run --kernel FILE)",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", NULL });
	parse_fails("jail: cannot jail 'fork' (only 'run' or 'restore')",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "fork", NULL });
	/* the run arguments are checked as `ember run` checks them */
	parse_fails("no kernel: give --kernel FILE or --raw FILE[@ADDR]",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run", NULL });
	/* and the files must be there */
	parse_fails("kernel '/nonexistent/vmlinux': No such file or directory",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", "/nonexistent/vmlinux", NULL });
	parse_fails("initrd '/nonexistent/initrd': No such file or directory",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", kernel, "--initrd", "/nonexistent/initrd", NULL });
	parse_fails("drive '/nonexistent/disk.img': No such file or directory",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", kernel, "--drive", "path=/nonexistent/disk.img", NULL });
	parse_fails("jail: --share is not available in a jail (make the image outside and give it with --drive ...,ro=on)",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", kernel, "--share", "/tmp", NULL });
	parse_fails("snapshot directory '/dev/null': not a directory",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", kernel, "--snapshot-dir", "/dev/null", NULL });
	parse_fails("kernel '/tmp': is a directory",
		    (const char *[]){ "--id", "a", "--uid", "1", "--gid", "2", "--", "run",
				      "--kernel", "/tmp", NULL });
}

Test(jail_parse, collects_the_vm_files)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	char cwd[4096], rel_path[4200], drive[80];
	const char *rel = strrchr(kernel, '/') + 1;

	snprintf(drive, sizeof(drive), "path=%s", kernel);
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir("/tmp"), 0);
	cr_assert_eq(parse(&c, &err, (const char *[]){
		"--id", "vm-7", "--uid", "1000", "--gid", "1001", "--chroot-base=/srv/j",
		"--netns", "/run/netns/x", "--cgroup", "memory.max=64M", "--cgroup", "pids.max=10",
		"--rlimit", "fsize=1G", "--rlimit", "nofile=unlimited", "--daemonize", "--",
		"run", "--kernel", rel, "--initrd", kernel, "--drive", drive,
		"--console", "file:out.log", "--net", "tap=tap0", "--no-seccomp",
		"--snapshot-dir", "snaps", "--snapshot-on", "control-port", NULL }), 0,
		"%s", err.msg);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_str_eq(c.id, "vm-7");
	cr_assert_eq(c.uid, 1000);
	cr_assert_eq(c.gid, 1001);
	cr_assert_str_eq(c.base, "/srv/j");
	cr_assert_str_eq(c.netns, "/run/netns/x");
	cr_assert(c.daemonize);
	cr_assert_eq(c.ncgroups, 2);
	cr_assert_str_eq(c.cgroups[1], "pids.max=10");
	cr_assert_eq(c.nrlimits, 2);
	cr_assert_eq(c.rlimits[0].res, RLIMIT_FSIZE);
	cr_assert_eq(c.rlimits[0].val, GiB(1));
	cr_assert_eq(c.rlimits[1].val, RLIM_INFINITY);
	cr_assert_str_eq(c.cwd, "/tmp");
	/* the kernel (relative, made absolute), the same file again as initrd
	 * and drive (one bind, writable since the drive is), the console */
	snprintf(rel_path, sizeof(rel_path), "/tmp/%s", rel);
	cr_assert_eq(c.nfiles, 3, "%u files", c.nfiles);
	cr_assert_str_eq(c.files[0].path, rel_path);
	cr_assert_not(c.files[0].ro);
	cr_assert_not(c.files[0].create);
	cr_assert_str_eq(c.files[1].path, "/tmp/out.log");
	cr_assert(c.files[1].create);
	cr_assert_not(c.files[1].dir);
	cr_assert_str_eq(c.files[2].path, "/tmp/snaps");
	cr_assert(c.files[2].create && c.files[2].dir && !c.files[2].ro);
	cr_assert(c.need_tun);
	cr_assert_null(c.kernel_dir);
	/* the command as given, starting with "run" */
	cr_assert_str_eq(c.run_argv[0], "run");
	cr_assert_str_eq(c.run_argv[1], "--kernel");
	cr_assert_str_eq(c.run_argv[c.run_argc - 5], "--no-seccomp");
	jail_cfg_free(&c);
}

Test(jail_parse, metrics_and_log_files_are_bound)
{
	struct jail_cfg c;
	struct errbuf err = { "" };

	cr_assert_eq(parse(&c, &err, (const char *[]){ "--id", "a", "--uid", "0", "--gid", "0",
		"--", "run", "--raw", kernel, "--metrics-path", "/tmp/m.json",
		"--log-path", "/tmp/ember.log", "--level", "Info", NULL }), 0, "%s", err.msg);
	cr_assert_eq(c.nfiles, 3, "%u files", c.nfiles);
	cr_assert_str_eq(c.files[1].path, "/tmp/m.json");
	cr_assert(c.files[1].create && !c.files[1].ro && !c.files[1].dir);
	cr_assert_str_eq(c.files[2].path, "/tmp/ember.log");
	cr_assert(c.files[2].create && !c.files[2].ro && !c.files[2].dir);
	jail_cfg_free(&c);
}

Test(jail_parse, run_is_implied_and_ro_drives_stay_ro)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	char drive[80];

	snprintf(drive, sizeof(drive), "path=%s,ro=on", kernel);
	cr_assert_eq(parse(&c, &err, (const char *[]){ "--id", "a", "--uid", "0", "--gid", "0",
		"--", "--raw", kernel, "--drive", drive, NULL }), 0, "%s", err.msg);
	cr_assert_str_eq(c.base, "/srv/jailer");
	cr_assert_null(c.netns);
	cr_assert_not(c.daemonize);
	cr_assert_eq(c.nfiles, 1);
	cr_assert(c.files[0].ro);
	cr_assert_not(c.need_tun);
	cr_assert_eq(c.run_argc, 5);
	cr_assert_str_eq(c.run_argv[0], "run");
	cr_assert_str_eq(c.run_argv[1], "--raw");
	jail_cfg_free(&c);
}

/* ---- --no-seccomp ---- */
static bool take(int *argc, const char **args, const char **want)
{
	char *argv[16];
	int n = 0;
	bool r;

	for (; args[n]; n++)
		argv[n] = (char *)args[n];
	argv[n] = NULL;
	*argc = n;
	r = sc_take_no_seccomp(argc, argv);
	for (int i = 0; i < *argc; i++)
		cr_assert_str_eq(argv[i], want[i]);
	cr_assert_null(argv[*argc]);
	return r;
}

Test(no_seccomp, taken_out_of_the_run_arguments)
{
	int argc;

	cr_assert(take(&argc, (const char *[]){ "run", "--kernel", "k", "--no-seccomp", NULL },
		       (const char *[]){ "run", "--kernel", "k" }));
	cr_assert_eq(argc, 3);
	cr_assert(take(&argc, (const char *[]){ "run", "--no-seccomp", "--pit", "--no-seccomp", NULL },
		       (const char *[]){ "run", "--pit" }));
	cr_assert_eq(argc, 2);
	cr_assert(take(&argc, (const char *[]){ "run", "--pit", "--no-seccomp", NULL },
		       (const char *[]){ "run", "--pit" }));
	/* another option's value stays */
	cr_assert_not(take(&argc, (const char *[]){ "run", "--cmdline", "--no-seccomp", "--kernel",
						     "k", NULL },
			   (const char *[]){ "run", "--cmdline", "--no-seccomp", "--kernel", "k" }));
	cr_assert_eq(argc, 5);
	cr_assert_not(take(&argc, (const char *[]){ "run", NULL }, (const char *[]){ "run" }));
}
