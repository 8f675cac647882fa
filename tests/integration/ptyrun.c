/* ptyrun - run a command on a new pseudo-terminal, as a user at a terminal
 * would run ember (`make run`), and check that it leaves the terminal as it
 * found it.
 *
 *   ptyrun OUTFILE CMD [ARGS...]
 *
 * The command gets a new session whose controlling terminal is the pty's
 * slave (stdin, stdout and stderr); everything it writes is copied to
 * OUTFILE.  Nothing is typed to it.  Prints "status N" (or "signal N") and
 * "terminal restored" or "terminal left changed" on stdout; exits 0 when
 * the command's status was collected, 1 when ptyrun itself failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void copy_out(int master, int out)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(master, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			break;
}

int main(int argc, char **argv)
{
	struct termios before, after;
	int master, slave, out, st;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: ptyrun OUTFILE CMD [ARGS...]\n");
		return 1;
	}
	out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0 || openpty(&master, &slave, NULL, NULL, NULL) < 0) {
		perror("ptyrun");
		return 1;
	}
	if (tcgetattr(slave, &before) < 0) {
		perror("ptyrun: tcgetattr");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("ptyrun: fork");
		return 1;
	}
	if (pid == 0) {
		setsid();
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			_exit(126);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		close(slave);
		close(out);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	/* Copy while the child runs; the slave stays open here, so the master
	 * never reads EOF: wait on the child's pidfd beside the master. */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd < 0) {
		perror("ptyrun: pidfd_open");
		return 1;
	}
	fcntl(master, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = { { master, POLLIN, 0 }, { pidfd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			perror("ptyrun: poll");
			return 1;
		}
		if (p[0].revents & POLLIN)
			copy_out(master, out);
		if (p[1].revents & POLLIN) {
			waitpid(pid, &st, 0);
			copy_out(master, out);
			break;
		}
	}
	if (tcgetattr(slave, &after) < 0) {
		perror("ptyrun: tcgetattr");
		return 1;
	}
	if (WIFSIGNALED(st))
		printf("signal %d\n", WTERMSIG(st));
	else
		printf("status %d\n", WEXITSTATUS(st));
	printf("terminal %s\n",
	       before.c_iflag == after.c_iflag && before.c_oflag == after.c_oflag &&
	       before.c_lflag == after.c_lflag && before.c_cflag == after.c_cflag &&
	       !memcmp(before.c_cc, after.c_cc, sizeof(before.c_cc))
		       ? "restored" : "left changed");
	return 0;
}
