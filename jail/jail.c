/* jail/jail.c - `ember jail`: runs `ember run` or `ember restore` in
 * new mount, PID, IPC, UTS and network namespaces (or a given network
 * namespace), pivot_rooted into a directory holding only what the VM
 * needs, as an unprivileged uid/gid with rlimits, in its own cgroup, with
 * no inherited fds and an empty environment.  The VM runs in this same
 * process image (no exec: the jail holds no binaries or libraries); the
 * first process waits for it and passes its exit status on (128+signal
 * when it was killed). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "jail/jail.h"
#include "seccomp/seccomp.h"

/* Default limits; --rlimit overrides. No core dumps of guest memory. */
static const struct { int res; uint64_t val; } default_rlimits[] = {
	{ RLIMIT_NOFILE, 2048 },
	{ RLIMIT_CORE, 0 },
};

/* A message for the first process (daemonize: it reports and exits). */
static void report(int fd, const char *kind, const char *msg)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "%s %s\n", kind, msg);

	if (fd >= 0 && n > 0 && write(fd, line, (size_t)n) < 0)
		log_debug("jail: report: %m");
}

/* Fails the set-up inside the jail: the message goes to stderr, or to the
 * first process when daemonized; exits with status. */
static void jail_fail(int report_fd, int status, const struct errbuf *err)
{
	if (report_fd >= 0)
		report(report_fd, "err", err->msg);
	else
		fprintf(stderr, "ember: %s\n", err->msg);
	_exit(status);
}

static int set_rlimits(const struct jail_cfg *c, struct errbuf *err)
{
	for (unsigned i = 0; i < ARRAY_SIZE(default_rlimits) + c->nrlimits; i++) {
		bool dflt = i < ARRAY_SIZE(default_rlimits);
		int res = dflt ? default_rlimits[i].res : c->rlimits[i - ARRAY_SIZE(default_rlimits)].res;
		uint64_t v = dflt ? default_rlimits[i].val : c->rlimits[i - ARRAY_SIZE(default_rlimits)].val;
		struct rlimit rl = { (rlim_t)v, (rlim_t)v };

		if (setrlimit((__rlimit_resource_t)res, &rl) < 0)
			return err_set(err, errno, "jail: setrlimit %d: %s", res, strerror(errno));
	}
	return 0;
}

/* uid/gid drop: the bounding set first (needs CAP_SETPCAP), then groups,
 * gid, uid (real, effective, saved).  A non-zero uid loses every other
 * capability here; sc_vm_setup drops whatever remains later. */
static int drop_ids(const struct jail_cfg *c, struct errbuf *err)
{
	int r = sc_caps_drop_bound();

	if (r)
		return err_set(err, -r, "jail: clearing the bounding set: %s", strerror(-r));
	if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0)
		return err_set(err, errno, "jail: gid %u: %s", (unsigned)c->gid, strerror(errno));
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		return err_set(err, errno, "jail: uid %u: %s", (unsigned)c->uid, strerror(errno));
	return 0;
}

static int enter_namespaces(const struct jail_cfg *c, struct errbuf *err)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

	if (!c->netns)
		flags |= CLONE_NEWNET;
	if (unshare(flags) < 0)
		return err_set(err, errno, "jail: unshare: %s", strerror(errno));
	if (c->netns) {
		int fd = open(c->netns, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return err_set(err, errno, "--netns '%s': %s", c->netns, strerror(errno));
		if (setns(fd, CLONE_NEWNET) < 0) {
			int e = errno;

			close(fd);
			return err_set(err, e, "--netns '%s': %s", c->netns,
				       e == EINVAL ? "not a network namespace" : strerror(e));
		}
		close(fd);
	}
	if (sethostname(c->id, strlen(c->id)) < 0)
		return err_set(err, errno, "jail: sethostname: %s", strerror(errno));
	return 0;
}

/* Empties the environment, and its strings too: /proc/<pid>/environ shows
 * the memory they were in. */
static void scrub_environment(void)
{
	for (char **e = environ; e && *e; e++)
		memset(*e, 0, strlen(*e));
	clearenv();
}

/* The jailed process: PID 1 of its PID namespace.  Never returns. */
static void jail_child(struct jail_cfg *c, const char *cgdir, int report_fd,
		       uint64_t start_ns, jail_run_fn run)
{
	struct errbuf err = { "" };
	uint64_t t0 = now_ns(), t_ns, t_fs, t_cred;
	int status, fd = report_fd;

	/* every inherited fd but 0-2 (and the report pipe) goes */
	if (fd >= 0 && fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(EXIT_HOSTFAIL);
		fd = 3;
	}
	if (close_range(fd >= 0 ? 4 : 3, ~0U, 0) < 0)
		_exit(EXIT_HOSTFAIL);
	scrub_environment();
	/* the one variable the jailed run needs: where the default guest is */
	if (c->kernel_dir && setenv(LINUX_KERNEL_DIR_ENV, c->kernel_dir, 1) < 0)
		_exit(EXIT_HOSTFAIL);
	if (enter_namespaces(c, &err))
		jail_fail(fd, EXIT_BADINPUT, &err);
	t_ns = now_ns();
	if (cgdir[0]) {
		char procs[4200];
		int cfd;

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
		cfd = open(procs, O_WRONLY | O_CLOEXEC);
		if (cfd < 0 || write(cfd, "0", 1) != 1) {
			err_set(&err, errno, "jail: cgroup '%s': %s", cgdir, strerror(errno));
			jail_fail(fd, EXIT_HOSTFAIL, &err);
		}
		close(cfd);
	}
	if (jailfs_enter(c, &err))
		jail_fail(fd, EXIT_HOSTFAIL, &err);
	t_fs = now_ns();
	if (set_rlimits(c, &err) || drop_ids(c, &err))
		jail_fail(fd, EXIT_HOSTFAIL, &err);
	/* the jailed VM dies with the process that waits for it (set after
	 * the uid change, which clears it) */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	t_cred = now_ns();
	log_info("jail '%s': set-up %.3f ms (namespaces %.3f, filesystem %.3f, "
		 "rlimits+ids %.3f)", c->id, (t_cred - t0) / 1e6, (t_ns - t0) / 1e6,
		 (t_fs - t_ns) / 1e6, (t_cred - t_fs) / 1e6);
	if (fd >= 0) {
		report(fd, "ok", c->id);
		close(fd);
	}
	status = run(c->run_argc, c->run_argv, start_ns);
	fflush(NULL);
	_exit(status);
}

/* The waiting process: passes signals on, reaps the jailed process. */
static int jail_wait(pid_t child, const char *cgdir)
{
	sigset_t sigs;
	int sfd, pfd, status = 0;
	struct pollfd p[2];

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	pfd = (int)syscall(SYS_pidfd_open, child, 0);
	p[0] = (struct pollfd){ .fd = pfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	while (pfd >= 0 && sfd >= 0) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			kill(child, (int)si.ssi_signo);
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	jail_cgroup_remove(cgdir);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Creates the jailed process in a new PID namespace, born in cgroup cgdir
 * (if any): clone3(CLONE_INTO_CGROUP) costs nothing, where moving a
 * process in through cgroup.procs waits for an RCU grace period (5-13 ms
 * here).  Then cgdir is cleared: the child has nothing left to do there.
 * Sanitizer builds fork (their runtime tracks threads by the tid glibc's
 * fork records) and the child moves itself.  Returns 0 in the child, the
 * pid in the parent, or -errno. */
static pid_t spawn(char *cgdir)
{
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_UNDEFINED__)
	struct clone_args a;
	int cgfd = -1;
	long pid;

	memset(&a, 0, sizeof(a));
	a.flags = CLONE_NEWPID;
	a.exit_signal = SIGCHLD;
	if (cgdir[0]) {
		cgfd = open(cgdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0)
			return -errno;
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgfd;
	}
	pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0) {
		cgdir[0] = 0;	/* already there */
		return 0;
	}
	if (cgfd >= 0)
		close(cgfd);
	if (pid > 0)
		return (pid_t)pid;
	if (errno != ENOSYS && errno != E2BIG)
		return -errno;
#endif
	/* no clone3: the child joins its cgroup itself.  Our own later
	 * children (the sanitizer's leak-check helper) must not land in the
	 * jail's PID namespace: it is put back after the fork. */
	(void)cgdir;
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);

	if (own < 0)
		return -errno;
	if (unshare(CLONE_NEWPID) < 0) {
		close(own);
		return -errno;
	}
	pid_t child = fork();

	if (child != 0 && setns(own, CLONE_NEWPID) < 0)
		log_warn("jail: back to our PID namespace: %m");
	close(own);
	return child < 0 ? -errno : child;
}

/* Forks the jailed process into a new PID namespace and waits for it. */
static int jail_spawn(struct jail_cfg *c, int report_fd, uint64_t start_ns, jail_run_fn run)
{
	struct errbuf err = { "" };
	char cgdir[4096] = "";
	char line[64];
	pid_t child;

	if (jail_cgroup_enter(c, cgdir, sizeof(cgdir), &err)) {
		if (report_fd >= 0)
			report(report_fd, "err", err.msg);
		else
			fprintf(stderr, "ember: %s\n", err.msg);
		return EXIT_BADINPUT;
	}
	fflush(NULL);
	child = spawn(cgdir);
	if (child < 0) {
		fprintf(stderr, "ember: jail: creating the jailed process: %s\n", strerror(-child));
		jail_cgroup_remove(cgdir);
		return EXIT_HOSTFAIL;
	}
	if (child == 0)
		jail_child(c, cgdir, report_fd, start_ns, run);
	if (report_fd >= 0) {
		snprintf(line, sizeof(line), "%d", (int)child);
		report(report_fd, "pid", line);
		close(report_fd);
	}
	return jail_wait(child, cgdir);
}

/* --daemonize: the first process waits only for the set-up, prints the
 * jailed process id and exits; a session leader waits for the VM. */
static int jail_daemonize(struct jail_cfg *c, uint64_t start_ns, jail_run_fn run)
{
	int p[2], st, pid = -1;
	char buf[1024], *line, *save = NULL;
	bool ok = false;
	ssize_t n, len = 0;
	pid_t waiter;

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "ember: jail: pipe: %s\n", strerror(errno));
		return EXIT_HOSTFAIL;
	}
	fflush(NULL);
	waiter = fork();
	if (waiter < 0) {
		fprintf(stderr, "ember: jail: fork: %s\n", strerror(errno));
		return EXIT_HOSTFAIL;
	}
	if (waiter == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		close(p[0]);
		if (null < 0 || setsid() < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(null, 2) < 0)
			_exit(EXIT_HOSTFAIL);
		close(null);
		_exit(jail_spawn(c, p[1], start_ns, run));
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       ((n = read(p[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0 ||
		(n < 0 && errno == EINTR)))
		len += n > 0 ? n : 0;
	close(p[0]);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "pid ", 4))
			pid = atoi(line + 4);
		else if (!strncmp(line, "ok ", 3))
			ok = true;
		else if (!strncmp(line, "err ", 4)) {
			fprintf(stderr, "ember: %s\n", line + 4);
			return EXIT_BADINPUT;
		}
	}
	if (!ok || pid <= 0) {
		waitpid(waiter, &st, WNOHANG);
		fprintf(stderr, "ember: jail: the jailed process ended during set-up\n");
		return EXIT_HOSTFAIL;
	}
	printf("%d\n", pid);
	fflush(stdout);
	return 0;
}

int jail_main(int argc, char **argv, uint64_t start_ns, jail_run_fn run,
	      jail_run_fn restore)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	int status;

	if (jail_parse(argc, argv, &c, &err)) {
		fprintf(stderr, "ember: %s\n", err.msg);
		jail_cfg_free(&c);
		return EXIT_BADINPUT;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "ember: jail: must be started as root (it builds namespaces, "
			"mounts and device nodes, then becomes uid %u)\n", (unsigned)c.uid);
		jail_cfg_free(&c);
		return EXIT_BADINPUT;
	}
	if (!strcmp(c.run_argv[0], "restore"))
		run = restore;
	status = c.daemonize ? jail_daemonize(&c, start_ns, run) :
		jail_spawn(&c, -1, start_ns, run);
	jail_cfg_free(&c);
	return status;
}
