/* linetime: runs a command and stamps each line of its stdout with the
 * milliseconds since just before the command was started (fork), so serial
 * console lines can be set against ember's --boot-time figures (which count
 * from ember's own process start, a fraction of a millisecond later).
 *
 *   linetime SECONDS STOP_TEXT -- CMD ARGS...
 *
 * Prints "<ms> <line>" per line (CRs removed), then "exit <ms> <status>".
 * The command gets SIGTERM when a line contains STOP_TEXT ("" : never) or
 * after SECONDS; its stderr is passed through.  With LINETIME_AT_STOP set,
 * that shell command runs first when STOP_TEXT is seen, with
 * LINETIME_PID the command's process id (to read its KVM counters while
 * its VM still exists), its output going where linetime's stdout goes. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	char buf[65536], line[4096];
	size_t ll = 0;
	int p[2], st, stopped = 0;
	double t0, limit;
	const char *stop;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: linetime SECONDS STOP_TEXT -- CMD ARGS...\n");
		return 2;
	}
	limit = atof(argv[1]) * 1e3;
	stop = argv[2];
	if (pipe(p) < 0)
		return perror("pipe"), 2;
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return perror("fork"), 2;
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		double left = limit - (now_ms() - t0);
		ssize_t n;

		if (left <= 0 && !stopped) {
			kill(pid, SIGTERM);
			stopped = 1;
		}
		if (poll(&pf, 1, stopped ? -1 : (int)left + 1) == 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\r')
				continue;
			if (buf[i] != '\n' && ll < sizeof(line) - 1) {
				line[ll++] = buf[i];
				continue;
			}
			if (buf[i] != '\n')
				continue;
			line[ll] = 0;
			printf("%.3f %s\n", now_ms() - t0, line);
			if (*stop && !stopped && strstr(line, stop)) {
				const char *hook = getenv("LINETIME_AT_STOP");
				char ps[24];

				if (hook && *hook) {
					snprintf(ps, sizeof(ps), "%d", (int)pid);
					setenv("LINETIME_PID", ps, 1);
					fflush(stdout);
					if (system(hook) != 0)
						fprintf(stderr, "linetime: LINETIME_AT_STOP failed\n");
				}
				kill(pid, SIGTERM);
				stopped = 1;
			}
			ll = 0;
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	printf("exit %.3f %d\n", now_ms() - t0,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
