/* guest-kernel-config/init/ember-init.c - /init of ember's default Linux
 * guest.  Static (glibc), no other files needed.
 *
 *  1. mounts /proc, /sys, /dev (devtmpfs), /dev/pts;
 *  2. reads its parameters from /proc/cmdline (args.h: ember.cmd, ember.ip,
 *     ember.root, ember.rootfstype, ember.share, ember.vsock, ember.test);
 *  3. brings up lo, and eth0 when ember.ip is given;
 *  4. mounts ember.root and makes it the root (the initramfs is emptied);
 *  5. mounts ember.share read-only at /mnt/share;
 *  5b. with ember.vsock=PORT connects to the host's vsock port PORT: the
 *     command's stdout (see 7, 8);
 *  6. writes the boot-complete marker to ember's control port
 *     (outl 0x00000001 to 0xe80: command 1, marker 0);
 *  7. runs the ember.cmd command (or /bin/sh) as the foreground process
 *     group of the serial console (/dev/ttyS0, else /dev/console), whose
 *     session PID 1 leads (console_take says why); for a command the
 *     terminal neither echoes input nor turns "\n" into "\r\n", so its
 *     output reaches ember's stdout byte for byte;
 *  8. reaps every child until the command ends (with ember.vsock: shuts
 *     the stream's sending side and waits, at most 10 s, for the host's
 *     EOF, which says every byte reached it), syncs the disks, waits
 *     for the console to drain, and hands the status to ember
 *     (outl (status << 8) | 2 to 0xe80; 128 + N when killed by signal N).
 *     Status 125: ember-init itself could not set up the command (bad
 *     ember.cmd, root or share not mountable), 126: the command is not
 *     executable, 127: not found.
 *  On SIGINT (Ctrl-Alt-Del when the kernel's ctrl-alt-del sysctl is 0) it
 *  stops every process and reboots, which ends an ember VM with status 0.
 *  Without ember's control port (another VMM) it prints
 *  "ember-init: exit status N" and powers off (reboot=k makes that a reset).
 *
 * For tests on a host: only as PID 1 (a PID namespace) and with
 * ember.test=1 (no port I/O, inherited stdio, init exits with the status);
 * EMBER_INIT_CMDLINE=FILE reads the parameters from FILE instead of
 * /proc/cmdline. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/vm_sockets.h>

#include "args.h"

#define CTL_PORT 0xe80
#define CTL_MARKER 1
#define CTL_EXIT 2
#define STATUS_SETUP 125	/* ember-init could not set the command up */

static bool port_ok;		/* ioperm granted: ember's control port */
static bool test_mode;
static int vsock_fd = -1;	/* ember.vsock: the command's stdout */
static int tty_fd = -1;		/* the serial console: the session's terminal */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, "ember-init: ", 12) < 0 || write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

static void mount_one(const char *src, const char *dir, const char *type,
		      unsigned long flags, const char *data)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY)
		say("mount %s on %s: %s", type, dir, strerror(errno));
}

/* Makes sure fds 0-2 exist (the kernel opens /dev/console for init only
 * when the initramfs has one). */
static void ensure_stdio(void)
{
	int fd;

	if (fcntl(STDIN_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static char *read_file(const char *path)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	buf[n] = 0;
	return buf;
}

/* ---- network ---------------------------------------------------------- */
static int if_up(int s, const char *name)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr);
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	memcpy(sa, &sin, sizeof(sin));
}

static void net_setup(const struct init_ip *ip)
{
	const char *dev = "eth0";
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };
	uint32_t mask = ip->prefix ? htonl(~0u << (32 - ip->prefix)) : 0;

	if (s < 0) {
		say("network: socket: %s", strerror(errno));
		return;
	}
	if (if_up(s, "lo") < 0)
		say("network: lo: %s", strerror(errno));
	if (!ip->set)
		goto out;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
	set_sin(&ifr.ifr_addr, ip->addr);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
		say("network: %s: address: %s", dev, strerror(errno));
		goto out;
	}
	set_sin(&ifr.ifr_netmask, mask);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		say("network: %s: netmask: %s", dev, strerror(errno));
	if (if_up(s, dev) < 0)
		say("network: %s: up: %s", dev, strerror(errno));
	if (ip->gw) {
		set_sin(&rt.rt_dst, 0);
		set_sin(&rt.rt_genmask, 0);
		set_sin(&rt.rt_gateway, ip->gw);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(s, SIOCADDRT, &rt) < 0)
			say("network: default route: %s", strerror(errno));
	}
out:
	close(s);
}

/* ---- root and share --------------------------------------------------- */
/* Mounts dev on dir, read-write, or read-only when the device is. */
static int mount_dev(const char *dev, const char *dir, const char *type, bool ro)
{
	unsigned long fl = ro ? MS_RDONLY : 0;

	mkdir(dir, 0755);
	if (mount(dev, dir, type, fl, NULL) == 0)
		return 0;
	if (!ro && (errno == EROFS || errno == EACCES) &&
	    mount(dev, dir, type, MS_RDONLY, NULL) == 0)
		return 0;
	say("cannot mount %s (%s) on %s: %s", dev, type, dir, strerror(errno));
	return -1;
}

/* Deletes what lies on the old root's device (the initramfs), not
 * crossing into mounts; frees its memory once the root is switched. */
static void empty_dir(int dfd, dev_t rootdev)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (sub >= 0)
				empty_dir(sub, rootdev);
			unlinkat(dfd, e->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dfd, e->d_name, 0);
		}
	}
	closedir(d);
}

static int switch_root(const char *dev, const char *type)
{
	static const char *const keep[] = { "/dev", "/proc", "/sys" };
	struct stat st;
	struct statfs sf;
	char to[32];

	if (mount_dev(dev, "/newroot", type, false) < 0)
		return -1;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(to, sizeof(to), "/newroot%s", keep[i]);
		mkdir(to, 0755);
		if (mount(keep[i], to, NULL, MS_MOVE, NULL) < 0)
			umount2(keep[i], MNT_DETACH);
	}
	if (stat("/", &st) == 0 && statfs("/", &sf) == 0 &&
	    (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC)) {
		int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0)
			empty_dir(fd, st.st_dev);
	}
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0) {
		say("cannot switch to the root on %s: %s", dev, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the command ------------------------------------------------------ */
static void ctl(uint32_t cmd, uint32_t arg)
{
	if (port_ok)
		outl((arg << 8) | cmd, CTL_PORT);
}

/* PID 1 leads the session that owns the serial console; the command runs
 * in a process group of its own in the foreground.  Were the command the
 * session leader, its exit would hang the terminal up, and a hangup
 * throws away what the UART has not sent yet: the command's last lines
 * were lost that way when the guest's CPUs were slow to take the UART's
 * interrupt.  PID 1 ignores SIGTTOU so that, from the background, it can
 * still take the foreground back and wait for the output to drain. */
static void console_take(void)
{
	setsid();
	tty_fd = open("/dev/ttyS0", O_RDWR | O_CLOEXEC);
	if (tty_fd < 0)
		tty_fd = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (tty_fd < 0) {
		say("no serial console: %s", strerror(errno));
		return;
	}
	if (ioctl(tty_fd, TIOCSCTTY, 0) < 0)
		say("the serial console is not this session's terminal: %s", strerror(errno));
	signal(SIGTTOU, SIG_IGN);
}

/* ember.vsock=PORT: a stream to the host for the command's stdout. */
static int vsock_open(uint32_t port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				 .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
		return s;
	say("ember.vsock=%u: cannot connect to the host's port %u: %s", port, port,
	    strerror(errno));
	if (s >= 0)
		close(s);
	return -1;
}

/* The command ended: EOF to the host, then its EOF back (what it sends
 * meanwhile is dropped), so that no byte is in flight when the VM ends. */
static void vsock_close(void)
{
	struct pollfd p = { .fd = vsock_fd, .events = POLLIN };
	char buf[256];
	int r = 0;

	if (vsock_fd < 0)
		return;
	if (shutdown(vsock_fd, SHUT_WR) == 0)
		while ((r = poll(&p, 1, 10000)) == 1 && read(vsock_fd, buf, sizeof(buf)) > 0)
			;
	if (r == 0)
		say("ember.vsock: the host did not close its side within 10 s: its copy of "
		    "the output may be cut short");
	close(vsock_fd);
	vsock_fd = -1;
}

/* The child: its own process group in the foreground of the serial
 * console, then exec. */
static void child(char **argv, bool shell)
{
	static char *const sh[] = { "/bin/sh", NULL };
	char *const *av = shell ? sh : argv;
	int e;

	signal(SIGINT, SIG_DFL);	/* PID 1's Ctrl-Alt-Del handling is its own */
	signal(SIGALRM, SIG_DFL);
	if (!test_mode && tty_fd >= 0) {
		struct termios t;

		setpgid(0, 0);
		tcsetpgrp(tty_fd, getpid());	/* SIGTTOU is still ignored here */
		signal(SIGTTOU, SIG_DFL);
		if (!shell && tcgetattr(tty_fd, &t) == 0) {
			t.c_oflag &= ~(tcflag_t)OPOST;
			t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			tcsetattr(tty_fd, TCSANOW, &t);
		}
		for (int i = 0; i < 3; i++)
			dup2(tty_fd, i);
	}
	if (vsock_fd >= 0)
		dup2(vsock_fd, STDOUT_FILENO);
	execvp(av[0], av);
	e = errno;
	say("cannot run '%s': %s", av[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* ---- Ctrl-Alt-Del ------------------------------------------------------ */
/* With the kernel's ctrl-alt-del sysctl at 0, Ctrl-Alt-Del on the keyboard
 * (ember's i8042, the API's SendCtrlAltDel) is a SIGINT to PID 1 instead of
 * an immediate reboot.  ember-init then ends like a reboot: SIGTERM to
 * every process, SIGKILL to those left after CAD_GRACE_S seconds, sync,
 * reboot (ember ends with status 0).  A SIGINT from any other source
 * (kill -INT 1) does the same, as with other inits. */
#define CAD_GRACE_S 2
static volatile sig_atomic_t cad_requested;

static void on_sigint(int sig)
{
	static const char msg[] = "ember-init: Ctrl-Alt-Del: stopping every process and rebooting\n";

	(void)sig;
	if (cad_requested)
		return;
	cad_requested = 1;
	/* said before the signals go out: the console shows it first */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* no console: nothing to tell */
	}
	kill(-1, SIGTERM);	/* every process but PID 1: the wait below returns */
	alarm(CAD_GRACE_S);
}

static void on_sigalrm(int sig)
{
	(void)sig;
	if (cad_requested)
		kill(-1, SIGKILL);
}

static void cad_setup(void)
{
	struct sigaction sa = { .sa_handler = on_sigint };	/* no SA_RESTART: wait() returns */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_sigalrm;
	sigaction(SIGALRM, &sa, NULL);
}

static __attribute__((noreturn)) void cad_reboot(void)
{
	while (wait(NULL) > 0 || errno == EINTR)	/* SIGALRM kills the slow ones */
		;
	sync();
	tcdrain(tty_fd >= 0 ? tty_fd : STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	if (test_mode)
		exit(0);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

static int run(char **argv)
{
	pid_t pid, p;
	int st;

	if (cad_requested)
		cad_reboot();
	pid = fork();
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return STATUS_SETUP;
	}
	if (pid == 0)
		child(argv, argv == NULL);
	if (!test_mode && tty_fd >= 0) {
		setpgid(pid, pid);	/* whichever of the two runs first */
		tcsetpgrp(tty_fd, pid);
	}
	/* PID 1 adopts orphans: reap them all until the command ends */
	while ((p = wait(&st)) != pid) {
		if (cad_requested)
			cad_reboot();
		if (p < 0 && errno != EINTR)
			return STATUS_SETUP;
	}
	if (cad_requested)
		cad_reboot();
	if (!test_mode && tty_fd >= 0)
		tcsetpgrp(tty_fd, getpgrp());
	return init_exit_status(st);
}

static __attribute__((noreturn)) void finish(int status)
{
	sync();
	tcdrain(tty_fd >= 0 ? tty_fd : STDOUT_FILENO);
	ctl(CTL_EXIT, (uint32_t)status);
	if (test_mode)
		exit(status);
	/* still here: not under ember */
	say("exit status %d", status);
	tcdrain(STDERR_FILENO);
	reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(void)
{
	struct init_args a;
	char err[256];
	const char *src = getenv("EMBER_INIT_CMDLINE");
	char *line;
	int status;

	if (getpid() != 1) {
		fprintf(stderr, "ember-init: not PID 1: it is the init of ember's Linux guest\n");
		return 2;
	}
	cad_setup();
	ensure_stdio();
	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	ensure_stdio();
	mount_one("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666");
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 0);

	line = read_file(src ? src : "/proc/cmdline");
	if (!line)
		say("cannot read %s: %s", src ? src : "/proc/cmdline", strerror(errno));
	status = init_parse_cmdline(line ? line : "", &a, err, sizeof(err));
	free(line);
	if (status < 0) {
		/* whether this is a host test is unknown: trust the test hook */
		test_mode = src != NULL;
		port_ok = !test_mode && ioperm(CTL_PORT, 16, 1) == 0;
		say("%s", err);
		finish(STATUS_SETUP);
	}
	test_mode = a.test;
	port_ok = !test_mode && ioperm(CTL_PORT, 16, 1) == 0;
	if (!test_mode && !port_ok)
		say("no access to ember's control port (ioperm: %s; the kernel needs "
		    "CONFIG_X86_IOPL_IOPERM=y): no boot marker, the exit status is only printed",
		    strerror(errno));

	net_setup(&a.ip);
	if (a.root[0] && switch_root(a.root, a.rootfstype) < 0)
		finish(STATUS_SETUP);
	if (a.share[0]) {
		mkdir("/mnt", 0755);
		if (mount_dev(a.share, "/mnt/share", "ext4", true) < 0)
			finish(STATUS_SETUP);
	}
	if (!test_mode)
		console_take();
	if (a.vsock_port && (vsock_fd = vsock_open(a.vsock_port)) < 0)
		finish(STATUS_SETUP);
	ctl(CTL_MARKER, 0);	/* boot complete */
	status = run(a.argv);
	vsock_close();
	finish(status);
}
