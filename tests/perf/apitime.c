/* apitime: the timing client of bench_api.sh (ember's Firecracker API and
 * vsock).  Every mode prints plain numbers, one a line, for the script's
 * tables; times are milliseconds unless said otherwise.
 *
 *   apitime ready SECS HOW -- CMD ARGS...
 *       Starts CMD and waits until it serves, HOW being "line:TEXT" (a
 *       stderr line containing TEXT: ember's "API: serving on" with
 *       EMBER_LOG=info) or "poll:PATH:REQ" (connect to the Unix socket PATH
 *       every 1 ms, send REQ ("" : nothing), until a first byte comes back:
 *       QEMU's QMP greeting, an HTTP answer).  Prints "WALL CPU TICKS":
 *       the wall time from just before fork, the CPU time of all of CMD's
 *       threads at that moment (the sum of /proc/PID/task/TID/schedstat's
 *       first field, ns on the CPU: exact, not tick-sampled) and utime +
 *       stime of /proc/PID/stat then (10 ms ticks, as a cross-check), then
 *       ends CMD with SIGTERM.
 *   apitime run -- CMD ARGS...
 *       Runs CMD to its exit: "WALL CPU" (CPU: getrusage of the child).
 *   apitime get SOCK N
 *       N sequential GET / requests, each on a new connection: one line a
 *       request, its time from connect to the whole answer read.
 *   apitime many SOCK N
 *       N clients at once (N connections opened, N requests sent, then
 *       every answer awaited): N lines, each client's time from the start
 *       to its answer, then "total T".
 *   apitime req SOCK METHOD PATH [BODY]
 *       One request: prints the wall clock (CLOCK_REALTIME, us, as bash's
 *       EPOCHREALTIME) just before it is sent, and its HTTP status; exit
 *       status 1 unless 2xx.
 *   apitime seq SOCK METHOD PATH BODY [METHOD PATH BODY]...
 *       Requests one after the other on one keep-alive connection (a new
 *       one only if the server closed it), as an orchestrator sends its
 *       PUTs and InstanceStart; BODY "" sends none.  A line a request:
 *       "SENT STATUS ANSWERED", the wall clock (us, as req) just before it
 *       is sent and when its whole answer has been read.  Stops at the
 *       first answer that is not 2xx (exit status 1).
 *   apitime send UDS PORT MIB
 *       Firecracker's host-initiated vsock: "CONNECT PORT\n" on UDS, then
 *       MIB MiB of zeros, shut down, until the guest's EOF: "MS MIB/S"
 *       from the "OK" line to the EOF.  UDS "vsock:CID": AF_VSOCK straight
 *       to CID's PORT, no handshake (QEMU's vhost-vsock); so for ping.
 *   apitime recv PATH
 *       Listens on PATH (a vsock uds_PORT socket; "vsock:PORT": an AF_VSOCK
 *       port of the host, for QEMU's vhost-vsock), takes one connection,
 *       reads it to its EOF: "MS MIB/S BYTES", from accept to EOF.
 *   apitime ping UDS PORT COUNT SIZE
 *       COUNT round trips of SIZE bytes over one connection to the guest's
 *       echo on PORT: one line a round trip, in us. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static double now_ms(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
#define MONO() now_ms(CLOCK_MONOTONIC)

static void die(const char *what)
{
	fprintf(stderr, "apitime: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || strlen(path) >= sizeof(a.sun_path))
		die("socket");
	strcpy(a.sun_path, path);
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static void xwrite(int fd, const void *b, size_t n)
{
	const char *p = b;

	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("write");
		p += k;
		n -= (size_t)k;
	}
}

/* Reads one HTTP answer on s into buf (headers and Content-Length body);
 * returns its status code, or -1. */
static int http_answer(int s, char *buf, size_t cap)
{
	size_t n = 0;
	char *end = NULL, *cl;
	long body = 0;

	for (;;) {
		ssize_t k = read(s, buf + n, cap - 1 - n);

		if (k <= 0)
			return -1;
		n += (size_t)k;
		buf[n] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			cl = strcasestr(buf, "\r\nContent-Length:");
			body = cl && cl < end ? strtol(cl + 17, NULL, 10) : 0;
		}
		if (end && n >= (size_t)(end + 4 - buf) + (size_t)body)
			break;
		if (n + 1 >= cap)
			return -1;
	}
	return strncmp(buf, "HTTP/1.1 ", 9) ? -1 : atoi(buf + 9);
}

static const char GET[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/* CPU ms of every thread of pid (schedstat), and utime+stime in ms */
static void proc_cpu(pid_t pid, double *sched, double *ticks)
{
	char p[64], b[512];
	struct dirent *d;
	DIR *dir;
	FILE *f;

	*sched = 0;
	*ticks = -1;
	snprintf(p, sizeof(p), "/proc/%d/task", pid);
	if (!(dir = opendir(p)))
		die("opendir task");
	while ((d = readdir(dir))) {
		unsigned long long ns;

		if (d->d_name[0] == '.')
			continue;
		snprintf(b, sizeof(b), "/proc/%d/task/%s/schedstat", pid, d->d_name);
		if ((f = fopen(b, "r"))) {
			if (fscanf(f, "%llu", &ns) == 1)
				*sched += (double)ns / 1e6;
			fclose(f);
		}
	}
	closedir(dir);
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	if ((f = fopen(p, "r"))) {
		size_t n = fread(b, 1, sizeof(b) - 1, f);
		char *c;
		unsigned long ut, st;

		b[n] = 0;
		/* fields 14 and 15, counted after the ")" ending field 2 */
		if ((c = strrchr(b, ')')) &&
		    sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
			*ticks = (double)(ut + st) * 1e3 / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
}

static int mode_ready(int argc, char **argv)
{
	double t0, wall, sched, ticks, limit;
	const char *how = argv[3];
	char line[4096], *path = NULL, *req = "";
	size_t ll = 0;
	int ep[2] = { -1, -1 }, st, up = 0;
	pid_t pid;

	if (argc < 6 || strcmp(argv[4], "--"))
		return 2;
	limit = MONO() + atof(argv[2]) * 1e3;
	if (!strncmp(how, "poll:", 5)) {
		path = strdup(how + 5);
		if ((req = strchr(path, ':')))
			*req++ = 0;
		else
			req = "";
	} else if (strncmp(how, "line:", 5) || pipe2(ep, O_CLOEXEC) < 0) {
		return 2;
	}
	t0 = MONO();
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		if (ep[1] >= 0)
			dup2(ep[1], 2);
		setpgid(0, 0);
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	if (ep[1] >= 0)
		close(ep[1]);
	while (!up && MONO() < limit) {
		if (path) {
			int s = unix_connect(path);
			char c;

			if (s >= 0) {
				struct pollfd pf = { .fd = s, .events = POLLIN };

				if (*req)
					xwrite(s, req, strlen(req));
				if (poll(&pf, 1, (int)(limit - MONO())) == 1 && read(s, &c, 1) == 1)
					up = 1;
				close(s);
			}
			if (!up) {
				if (waitpid(pid, &st, WNOHANG) == pid)
					break;
				usleep(1000);
			}
			continue;
		}
		ssize_t k = read(ep[0], line + ll, sizeof(line) - 1 - ll);
		char *nl;

		if (k <= 0)
			break;
		ll += (size_t)k;
		line[ll] = 0;
		while ((nl = strchr(line, '\n'))) {
			*nl = 0;
			if (strstr(line, how + 5))
				up = 1;
			ll -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, ll + 1);
		}
		if (ll == sizeof(line) - 1)
			ll = 0;
	}
	wall = MONO() - t0;
	if (up)
		proc_cpu(pid, &sched, &ticks);
	kill(-pid, SIGTERM);
	if (ep[0] >= 0) {	/* drain stderr so that CMD is never stuck writing it */
		while (read(ep[0], line, sizeof(line)) > 0)
			;
	}
	waitpid(pid, &st, 0);
	if (!up) {
		fprintf(stderr, "apitime: %s never served\n", argv[5]);
		return 1;
	}
	printf("%.3f %.3f %.1f\n", wall, sched, ticks);
	return 0;
}

static int mode_run(int argc, char **argv)
{
	struct rusage ru;
	double t0;
	int st;
	pid_t pid;

	if (argc < 4 || strcmp(argv[2], "--"))
		return 2;
	t0 = MONO();
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(nul, 0);
		dup2(nul, 1);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid)
		die("wait4");
	printf("%.3f %.3f\n", MONO() - t0,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3);
	return 0;
}

static int mode_get(int argc, char **argv)
{
	char buf[8192];
	int i, n = argc > 3 ? atoi(argv[3]) : 0;

	for (i = 0; i < n; i++) {
		double t0 = MONO();
		int s = unix_connect(argv[2]);

		if (s < 0)
			die("connect");
		xwrite(s, GET, sizeof(GET) - 1);
		if (http_answer(s, buf, sizeof(buf)) != 200)
			die("GET / did not answer 200");
		close(s);
		printf("%.3f\n", MONO() - t0);
	}
	return 0;
}

static int mode_many(int argc, char **argv)
{
	int i, n = argc > 3 ? atoi(argv[3]) : 0, left;
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	double *done = calloc((size_t)n, sizeof(*done)), t0;
	size_t *got = calloc((size_t)n, sizeof(*got));
	char (*buf)[1024] = calloc((size_t)n, sizeof(*buf));

	if (n <= 0 || !p || !done || !got || !buf)
		return 2;
	t0 = MONO();
	for (i = 0; i < n; i++) {
		/* a full backlog makes connect wait: that is part of the time */
		if ((p[i].fd = unix_connect(argv[2])) < 0)
			die("connect");
		p[i].events = POLLIN;
		xwrite(p[i].fd, GET, sizeof(GET) - 1);
	}
	for (left = n; left;) {
		if (poll(p, (nfds_t)n, 60000) <= 0)
			die("poll (an answer never came)");
		for (i = 0; i < n; i++) {
			ssize_t k;
			char *e;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			k = read(p[i].fd, buf[i] + got[i], sizeof(buf[i]) - 1 - got[i]);
			if (k <= 0)
				die("a client's connection closed without its answer");
			got[i] += (size_t)k;
			buf[i][got[i]] = 0;
			/* GET / has a small JSON body: complete at its closing brace */
			if ((e = strstr(buf[i], "\r\n\r\n")) && strchr(e, '}')) {
				if (strncmp(buf[i], "HTTP/1.1 200", 12))
					die("a client was not answered 200");
				done[i] = MONO() - t0;
				close(p[i].fd);
				p[i].fd = -1;
				left--;
			}
		}
	}
	for (i = 0; i < n; i++)
		printf("%.3f\n", done[i]);
	printf("total %.3f\n", MONO() - t0);
	return 0;
}

static int mode_req(int argc, char **argv)
{
	char buf[8192], *req;
	const char *body = argc > 5 ? argv[5] : NULL;
	int s, code, len;

	if (argc < 5 || (s = unix_connect(argv[2])) < 0)
		return 2;
	len = body ? asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
				    "Content-Length: %zu\r\n\r\n%s", argv[3], argv[4], strlen(body), body)
		   : asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n", argv[3], argv[4]);
	if (len < 0)
		die("asprintf");
	printf("%.0f ", now_ms(CLOCK_REALTIME) * 1e3);
	xwrite(s, req, (size_t)len);
	code = http_answer(s, buf, sizeof(buf));
	printf("%d\n", code);
	if (code < 200 || code > 299)
		fprintf(stderr, "apitime: %s %s: %s\n", argv[3], argv[4], buf);
	return code >= 200 && code <= 299 ? 0 : 1;
}

static int mode_seq(int argc, char **argv)
{
	char buf[8192], *req;
	int s = -1, code = 200, len;

	if (argc < 6 || (argc - 3) % 3)
		return 2;
	for (int i = 3; i + 2 < argc && code >= 200 && code <= 299; i += 3) {
		const char *body = argv[i + 2];

		if (s < 0 && (s = unix_connect(argv[2])) < 0)
			die("connect");
		len = *body ? asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
				       "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				       argv[i], argv[i + 1], strlen(body), body)
			    : asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n\r\n", argv[i],
				       argv[i + 1]);
		if (len < 0)
			die("asprintf");
		printf("%.0f ", now_ms(CLOCK_REALTIME) * 1e3);
		xwrite(s, req, (size_t)len);
		free(req);
		code = http_answer(s, buf, sizeof(buf));
		printf("%d %.0f\n", code, now_ms(CLOCK_REALTIME) * 1e3);
		if (code < 200 || code > 299)
			fprintf(stderr, "apitime: %s %s: %s\n", argv[i], argv[i + 1], buf);
		if (strcasestr(buf, "\r\nConnection: close")) {
			close(s);
			s = -1;
		}
	}
	if (s >= 0)
		close(s);
	return code >= 200 && code <= 299 ? 0 : 1;
}

/* Connects to the guest's PORT through UDS (Firecracker's handshake), or
 * straight to it when UDS is "vsock:CID" (an AF_VSOCK host, as QEMU's
 * vhost-vsock gives) */
static int vsock_connect(const char *uds, const char *port)
{
	char cmd[64], ok[64];
	size_t n = 0;
	int s;

	if (!strncmp(uds, "vsock:", 6)) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK,
					 .svm_cid = (unsigned)strtoul(uds + 6, NULL, 10),
					 .svm_port = (unsigned)strtoul(port, NULL, 10) };

		s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			die("vsock connect");
		return s;
	}
	s = unix_connect(uds);
	if (s < 0)
		die("connect");
	snprintf(cmd, sizeof(cmd), "CONNECT %s\n", port);
	xwrite(s, cmd, strlen(cmd));
	while (n < sizeof(ok) - 1 && read(s, ok + n, 1) == 1 && ok[n] != '\n')
		n++;
	ok[n] = 0;
	if (strncmp(ok, "OK ", 3)) {
		errno = 0;
		die("no OK from the guest's port");
	}
	return s;
}

static char data[1 << 16];

static int mode_send(int argc, char **argv)
{
	long long left;
	double t0, ms;
	int s;

	if (argc < 5)
		return 2;
	left = atoll(argv[4]) << 20;
	s = vsock_connect(argv[2], argv[3]);
	t0 = MONO();
	while (left > 0) {
		size_t k = left < (long long)sizeof(data) ? (size_t)left : sizeof(data);

		xwrite(s, data, k);
		left -= (long long)k;
	}
	shutdown(s, SHUT_WR);
	while (read(s, data, sizeof(data)) > 0)
		;
	ms = MONO() - t0;
	printf("%.1f %.2f\n", ms, (double)atoll(argv[4]) / (ms / 1e3));
	return 0;
}

static int mode_recv(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	long long bytes = 0;
	ssize_t k;
	double t0, ms;
	int l, s;

	if (argc < 3 || strlen(argv[2]) >= sizeof(a.sun_path))
		return 2;
	if (!strncmp(argv[2], "vsock:", 6)) {	/* AF_VSOCK port, any CID */
		struct sockaddr_vm v = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
					 .svm_port = (unsigned)strtoul(argv[2] + 6, NULL, 10) };

		l = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&v, sizeof(v)) < 0 || listen(l, 1) < 0)
			die("vsock listen");
	} else {
		strcpy(a.sun_path, argv[2]);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0)
			die("listen");
	}
	s = accept(l, NULL, NULL);
	if (s < 0)
		die("accept");
	t0 = MONO();
	while ((k = read(s, data, sizeof(data))) > 0)
		bytes += k;
	ms = MONO() - t0;
	if (strncmp(argv[2], "vsock:", 6))
		unlink(argv[2]);
	printf("%.1f %.2f %lld\n", ms, (double)bytes / 1048576.0 / (ms / 1e3), bytes);
	return 0;
}

static int mode_ping(int argc, char **argv)
{
	int i, n, size, s;

	if (argc < 6)
		return 2;
	n = atoi(argv[4]);
	size = atoi(argv[5]);
	if (size <= 0 || size > (int)sizeof(data))
		return 2;
	s = vsock_connect(argv[2], argv[3]);
	for (i = 0; i < n; i++) {
		double t0 = MONO();
		int got = 0;

		memset(data, 'a' + i % 26, (size_t)size);
		xwrite(s, data, (size_t)size);
		while (got < size) {
			ssize_t k = read(s, data + got, (size_t)(size - got));

			if (k <= 0)
				die("the echo ended");
			got += (int)k;
		}
		if (data[0] != 'a' + i % 26 || data[size - 1] != 'a' + i % 26) {
			errno = 0;
			die("the echo sent back other bytes");
		}
		printf("%.1f\n", (MONO() - t0) * 1e3);
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} modes[] = { { "ready", mode_ready }, { "run", mode_run },   { "get", mode_get },
		      { "many", mode_many },   { "req", mode_req },   { "seq", mode_seq },
		      { "send", mode_send },   { "recv", mode_recv }, { "ping", mode_ping } };
	size_t i;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; argc > 1 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name)) {
			int r = modes[i].fn(argc, argv);

			if (r == 2)
				fputs("apitime: bad arguments (see apitime.c)\n", stderr);
			return r;
		}
	fputs("usage: apitime ready|run|get|many|req|seq|send|recv|ping ... (see apitime.c)\n", stderr);
	return 2;
}
