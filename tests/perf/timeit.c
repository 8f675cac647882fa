/* timeit: runs a command N times (after W warm-up runs) and prints the
 * median, min and max wall time and the peak RSS of the command, as one
 * table row.  Usage: timeit NAME N W EXPECTED_STATUS -- CMD ARGS...
 * Output and input of the command go to /dev/null. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int main(int argc, char **argv)
{
	double *t;
	long rss = 0;
	int n, w, expect;

	if (argc < 7 || strcmp(argv[5], "--")) {
		fprintf(stderr, "usage: timeit NAME N WARMUP STATUS -- CMD...\n");
		return 2;
	}
	n = atoi(argv[2]);
	w = atoi(argv[3]);
	expect = atoi(argv[4]);
	if (n < 1 || w < 0)
		return 2;
	t = calloc((size_t)n, sizeof(*t));
	for (int i = -w; i < n; i++) {
		struct rusage ru;
		int st;
		double t0 = now_ms();
		pid_t p = fork();

		if (p == 0) {
			int fd = open("/dev/null", O_RDWR);

			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			alarm(60);	/* a hung command ends the benchmark, not the session */
			execvp(argv[6], argv + 6);
			_exit(127);
		}
		if (p < 0 || wait4(p, &st, 0, &ru) < 0)
			return 2;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != expect) {
			fprintf(stderr, "timeit: %s: unexpected status %d (expected %d)\n", argv[1],
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), expect);
			return 1;
		}
		if (i >= 0) {
			t[i] = now_ms() - t0;
			if (ru.ru_maxrss > rss)
				rss = ru.ru_maxrss;
		}
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("| %-28s | %8.2f | %8.2f | %8.2f | %8.2f |\n", argv[1], t[n / 2], t[0],
	       t[n - 1], (double)rss / 1024.0);
	free(t);
	return 0;
}
