/* timeit: runs commands and prints, per command, one table row with the
 * median, min and max wall time and the peak RSS of the command.
 *
 *   timeit NAME N W STATUS -- CMD ARGS...
 *       CMD N times after W warm-up runs.
 *   timeit -i N W -- NAME STATUS CMD ARGS... [:: NAME STATUS CMD ARGS...]...
 *       the commands interleaved: W warm-up rounds, then N rounds, each
 *       round running every command once, so that load that comes and goes
 *       (other jobs, a nested host) weighs on all of them alike and their
 *       ratios stay meaningful.  One row per command, in the order given.
 *
 * A command must exit with STATUS.  One that does not, or that outlives
 * TIMEIT_LIMIT seconds (default 60; its process group is then killed), is
 * dropped from the remaining rounds and its row says why; the status is 1
 * when that happened to any command, else 0.  Output and input of the
 * commands go to /dev/null. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct cmd {
	const char *name;
	char **argv;
	int expect;
	double *t;
	long rss;
	char failed[96];
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One run of c; its time in *ms.  0, or -1 with c->failed set. */
static int run_once(struct cmd *c, double limit_s, double *ms, long *rss)
{
	struct timespec left = { (time_t)limit_s, (long)((limit_s - (time_t)limit_s) * 1e9) };
	struct rusage ru;
	sigset_t chld;
	int st;
	double t0 = now_ms();
	pid_t p;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	p = fork();
	if (p == 0) {
		int fd = open("/dev/null", O_RDWR);

		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		setpgid(0, 0);	/* a timeout kills what the command started too */
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(c->argv[0], c->argv);
		_exit(127);
	}
	if (p < 0) {
		snprintf(c->failed, sizeof(c->failed), "fork: %s", strerror(errno));
		return -1;
	}
	setpgid(p, p);
	for (;;) {
		pid_t w = wait4(p, &st, WNOHANG, &ru);
		double el;

		if (w == p)
			break;
		if (w < 0) {
			snprintf(c->failed, sizeof(c->failed), "wait: %s", strerror(errno));
			return -1;
		}
		el = (now_ms() - t0) / 1e3;
		if (el >= limit_s) {
			kill(-p, SIGKILL);
			kill(p, SIGKILL);
			/* reaped if it dies; one stuck in the kernel is left behind */
			for (int i = 0; i < 50 && waitpid(p, &st, WNOHANG) == 0; i++)
				usleep(20000);
			snprintf(c->failed, sizeof(c->failed), "timed out after %g s", limit_s);
			return -1;
		}
		left.tv_sec = (time_t)(limit_s - el);
		left.tv_nsec = (long)((limit_s - el - (double)left.tv_sec) * 1e9);
		sigtimedwait(&chld, NULL, &left);	/* SIGCHLD is blocked: no handler races */
	}
	*ms = now_ms() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != c->expect) {
		snprintf(c->failed, sizeof(c->failed), "unexpected status %d (expected %d)",
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), c->expect);
		return -1;
	}
	*rss = ru.ru_maxrss;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: timeit NAME N WARMUP STATUS -- CMD...\n"
			"       timeit -i N WARMUP -- NAME STATUS CMD... [:: NAME STATUS CMD...]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct cmd *c;
	const char *lim = getenv("TIMEIT_LIMIT");
	double limit = lim && atof(lim) > 0 ? atof(lim) : 60;
	int n, w, nc = 0, bad = 0;
	sigset_t chld;

	if (argc < 2)
		return usage();
	c = calloc((size_t)argc, sizeof(*c));
	if (!c)
		return 2;
	if (strcmp(argv[1], "-i")) {
		if (argc < 7 || strcmp(argv[5], "--"))
			return usage();
		c[0] = (struct cmd){ .name = argv[1], .expect = atoi(argv[4]), .argv = argv + 6 };
		n = atoi(argv[2]);
		w = atoi(argv[3]);
		nc = 1;
	} else {
		if (argc < 8 || strcmp(argv[4], "--"))
			return usage();
		n = atoi(argv[2]);
		w = atoi(argv[3]);
		for (int i = 5; i < argc;) {
			int j = i + 2;

			if (j >= argc || !strcmp(argv[i + 1], "::") || !strcmp(argv[j], "::"))
				return usage();
			while (j < argc && strcmp(argv[j], "::"))
				j++;
			c[nc++] = (struct cmd){ .name = argv[i], .expect = atoi(argv[i + 1]),
						.argv = argv + i + 2 };
			if (j < argc)
				argv[j] = NULL;	/* ends this command's argv */
			i = j + 1;
		}
	}
	if (n < 1 || w < 0 || nc < 1)
		return usage();
	for (int k = 0; k < nc; k++)
		if (!(c[k].t = calloc((size_t)n, sizeof(double))))
			return 2;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	for (int i = -w; i < n; i++)
		for (int k = 0; k < nc; k++) {
			double ms;
			long rss;

			if (c[k].failed[0])
				continue;
			if (run_once(&c[k], limit, &ms, &rss) < 0) {
				fprintf(stderr, "timeit: %s: %s\n", c[k].name, c[k].failed);
				bad = 1;
				continue;
			}
			if (i >= 0) {
				c[k].t[i] = ms;
				if (rss > c[k].rss)
					c[k].rss = rss;
			}
		}
	for (int k = 0; k < nc; k++) {
		if (c[k].failed[0]) {
			printf("| %-28s | (failed: %s) |\n", c[k].name, c[k].failed);
			continue;
		}
		qsort(c[k].t, (size_t)n, sizeof(double), cmp);
		printf("| %-28s | %9.2f | %8.2f | %8.2f | %12.2f |\n", c[k].name,
		       n % 2 ? c[k].t[n / 2] : (c[k].t[n / 2 - 1] + c[k].t[n / 2]) / 2, c[k].t[0],
		       c[k].t[n - 1], (double)c[k].rss / 1024.0);
	}
	return bad;
}
