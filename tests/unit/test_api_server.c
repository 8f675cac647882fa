/* Unit tests of the API server (api/server.c): a real Unix socket served
 * on a real event loop, both on the test's thread (each turn of the loop
 * waits for a completion, at most 20 ms), clients are non-blocking
 * sockets; the router runs over the fake backend. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/unit/api_fake.h"

static struct loop l;
static struct fake_vm f;
static struct api a;
static struct api_server *srv;
static char dir[64], path[128];

static void setup(void)
{
	struct errbuf e = { "" };

	snprintf(dir, sizeof(dir), "/tmp/ember-api-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	cr_assert_eq(loop_init(&l, 256), 0);
	fake_init(&f);
	api_init(&a, &f.be, "vm1", "0.1.0");
	cr_assert_eq(api_server_create(&l, &a, path, &srv, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	api_server_destroy(srv);
	cr_assert_eq(access(path, F_OK), -1, "the socket file is removed");
	loop_destroy(&l);
	fake_free(&f);
	rmdir(dir);
}

TestSuite(api_server, .init = setup, .fini = teardown);

static void turn(void)
{
	struct __kernel_timespec ts = { .tv_nsec = 20 * 1000000 };
	struct io_uring_cqe *cqe;

	io_uring_submit(&l.ring);
	io_uring_wait_cqe_timeout(&l.ring, &cqe, &ts);
	loop_dispatch(&l);
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, path, strlen(path));
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	return fd;
}

/* Writes all of s, turning the loop while the socket is full. */
static void csend(int fd, const char *s, size_t n)
{
	for (unsigned tries = 0; n; tries++) {
		ssize_t w = write(fd, s, n);

		cr_assert_lt(tries, 500, "the server does not read");
		if (w < 0) {
			cr_assert_eq(errno, EAGAIN, "%s", strerror(errno));
			turn();
			continue;
		}
		s += w;
		n -= (size_t)w;
	}
}

#define SEND(fd, s) csend(fd, s, strlen(s))

/* Length of the first complete response in buf, else 0. */
static size_t complete(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
	size_t head, body = 0;

	if (!end)
		return 0;
	head = (size_t)(end - buf) + 4;
	cl = memmem(buf, head, "Content-Length: ", 16);
	if (cl)
		body = strtoul(cl + 16, NULL, 10);
	return len >= head + body ? head + body : 0;
}

struct inbox {
	char buf[4096];
	size_t len;
	bool eof;
};

/* Turns the loop until one whole response is in; returns it (a string
 * the next call overwrites), NULL on EOF without one. */
static const char *recv_one(int fd, struct inbox *in)
{
	static char one[4096];

	for (unsigned tries = 0; tries < 500; tries++) {
		size_t n = complete(in->buf, in->len);

		if (n) {
			memcpy(one, in->buf, n);
			one[n] = 0;
			memmove(in->buf, in->buf + n, in->len - n);
			in->len -= n;
			return one;
		}
		if (in->eof)
			return NULL;
		ssize_t r = read(fd, in->buf + in->len, sizeof(in->buf) - 1 - in->len);

		if (r == 0)
			in->eof = true;
		else if (r > 0)
			in->len += (size_t)r;
		else
			turn();
	}
	cr_assert_fail("no response");
	return NULL;
}

/* Turns until the client sees EOF (the server closed). */
static void expect_eof(int fd, struct inbox *in)
{
	cr_assert_null(recv_one(fd, in), "unexpected: %.*s", (int)in->len, in->buf);
}

static void wait_conns(unsigned n)
{
	for (unsigned tries = 0; api_server_conns(srv) != n; tries++) {
		cr_assert_lt(tries, 500, "still %u connections, not %u", api_server_conns(srv), n);
		turn();
	}
}

static const char info[] =
	"HTTP/1.1 200 OK\r\nServer: ember\r\nContent-Type: application/json\r\nContent-Length: 75\r\n\r\n"
	"{\"id\":\"vm1\",\"state\":\"Not started\",\"vmm_version\":\"0.1.0\",\"app_name\":\"ember\"}";

Test(api_server, keep_alive)
{
	struct inbox in = { .len = 0 };
	int fd = client();

	SEND(fd, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), info);
	SEND(fd, "GET /version HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in),
			 "HTTP/1.1 200 OK\r\nServer: ember\r\nContent-Type: application/json\r\n"
			 "Content-Length: 31\r\n\r\n{\"firecracker_version\":\"0.1.0\"}");
	cr_assert_eq(api_server_conns(srv), 1);
	close(fd);
	wait_conns(0);
}

Test(api_server, pipelined_then_close)
{
	struct inbox in = { .len = 0 };
	int fd = client();

	SEND(fd, "PUT /boot-source HTTP/1.1\r\nContent-Length: 29\r\n\r\n{\"kernel_image_path\":\"vmlin\"}"
		 "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), "HTTP/1.1 204 No Content\r\nServer: ember\r\n\r\n");
	cr_assert(strstr(recv_one(fd, &in), "Connection: close\r\n"));
	expect_eof(fd, &in);
	cr_assert_str_eq(f.cfg.kernel, "vmlin");
	close(fd);
	wait_conns(0);
}

Test(api_server, truncated_header)
{
	int fd = client();

	SEND(fd, "GET / HT");
	wait_conns(1);
	for (int i = 0; i < 3; i++)
		turn();
	cr_assert_eq(api_server_conns(srv), 1, "waits for the rest");
	close(fd);
	wait_conns(0);
}

Test(api_server, slow_client_blocks_nobody)
{
	struct inbox in = { .len = 0 };
	int slow = client(), fd;

	SEND(slow, "PUT /drives/rootfs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"drive_id\"");
	fd = client();
	SEND(fd, "GET / HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), info);
	cr_assert_eq(api_server_conns(srv), 2);
	close(fd);
	close(slow);
	wait_conns(0);
}

Test(api_server, oversized_body)
{
	struct inbox in = { .len = 0 };
	int fd = client();

	SEND(fd, "PUT /drives/x HTTP/1.1\r\nContent-Length: 60000\r\n\r\n{");
	cr_assert_str_eq(recv_one(fd, &in),
			 "HTTP/1.1 400 Bad Request\r\nServer: ember\r\nConnection: close\r\n"
			 "Content-Type: application/json\r\nContent-Length: 75\r\n\r\n"
			 "{\"fault_message\":\"request payload is larger than the limit of 51200 bytes\"}");
	expect_eof(fd, &in);
	close(fd);
	wait_conns(0);
}

Test(api_server, oversized_headers)
{
	struct inbox in = { .len = 0 };
	static char junk[HTTP_MAX_REQUEST + 100];
	int fd = client();

	memcpy(junk, "GET / HTTP/1.1\r\n", 16);
	for (size_t i = 16; i + 1 < sizeof(junk); i += 10)
		memcpy(junk + i, "X-A: bbb\r\n", i + 10 < sizeof(junk) ? 10 : sizeof(junk) - 1 - i);
	junk[sizeof(junk) - 1] = 0;
	SEND(fd, junk);
	cr_assert(strstr(recv_one(fd, &in), "\"request headers are larger than the limit of 51200 bytes\""));
	expect_eof(fd, &in);
	close(fd);
}

Test(api_server, method_not_allowed)
{
	struct inbox in = { .len = 0 };
	int fd = client();

	SEND(fd, "DELETE /drives/x HTTP/1.1\r\n\r\n");
	cr_assert(strstr(recv_one(fd, &in), "HTTP/1.1 405 Method Not Allowed\r\n"));
	expect_eof(fd, &in);
	close(fd);
}

Test(api_server, expect_continue)
{
	struct inbox in = { .len = 0 };
	const char *r;
	int fd = client();

	SEND(fd, "PUT /actions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 30\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), "HTTP/1.1 100 Continue\r\n\r\n");
	SEND(fd, "{\"action_type\":\"FlushMetrics\"}");
	r = recv_one(fd, &in);
	cr_assert(r && strstr(r, "FlushMetrics: not allowed before the VM has started (state Not started)"),
		  "%s", r ? r : "EOF");
	close(fd);
	wait_conns(0);
}

Test(api_server, client_leaves_before_the_answer)
{
	int fd = client();

	SEND(fd, "GET /vm/config HTTP/1.1\r\n\r\n");
	close(fd);	/* the answer goes to nobody: no SIGPIPE, the slot is freed */
	wait_conns(0);
}

Test(api_server, many_clients)
{
	enum { N = 3 * API_MAX_CONNS };
	struct inbox *in = calloc(N, sizeof(*in));
	int fd[N];
	unsigned done = 0;

	for (int i = 0; i < N; i++) {
		fd[i] = client();
		SEND(fd[i], "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	}
	for (unsigned tries = 0; done < N; tries++) {
		cr_assert_lt(tries, 2000, "%u of %d answered", done, N);
		cr_assert_leq(api_server_conns(srv), API_MAX_CONNS);
		turn();
		for (int i = 0; i < N; i++) {
			ssize_t r;

			if (fd[i] < 0)
				continue;
			r = read(fd[i], in[i].buf + in[i].len, sizeof(in[i].buf) - 1 - in[i].len);
			if (r > 0)
				in[i].len += (size_t)r;
			if (r == 0) {
				in[i].buf[in[i].len] = 0;
				cr_assert(strstr(in[i].buf, "\"state\":\"Not started\""), "client %d: %s", i,
					  in[i].buf);
				close(fd[i]);
				fd[i] = -1;
				done++;
			}
		}
	}
	free(in);
	wait_conns(0);
}

/* API_MAX_CONNS clients that never finish a request do not lock out the
 * next one: the one that has waited longest is closed to make room. */
Test(api_server, stalled_clients_make_room)
{
	struct inbox in = { .len = 0 };
	int slow[API_MAX_CONNS], fd;
	char c;

	api_server_set_grace(srv, 0);	/* the idle grace: see grace_then_room */
	for (int i = 0; i < API_MAX_CONNS; i++) {
		slow[i] = client();
		SEND(slow[i], "GET / HT");
		wait_conns((unsigned)i + 1);
	}
	fd = client();
	SEND(fd, "GET / HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), info);
	cr_assert_eq(api_server_conns(srv), API_MAX_CONNS);
	cr_assert_eq(read(slow[0], &c, 1), 0, "the oldest was closed");
	for (int i = 1; i < API_MAX_CONNS; i++)
		cr_assert_eq(read(slow[i], &c, 1), -1, "client %d is still served", i);
	for (int i = 0; i < API_MAX_CONNS; i++)
		close(slow[i]);
	close(fd);
	wait_conns(0);
}

/* A newcomer makes room at once by closing an idle keep-alive client (one
 * that was answered and sent nothing since); a stalled client that never
 * finished a request is closed only once it has waited the idle grace (a
 * timer looks again). */
Test(api_server, idle_first_then_grace)
{
	struct inbox in = { .len = 0 }, in2 = { .len = 0 }, kin[API_MAX_CONNS];
	int slow, keep[API_MAX_CONNS - 1], fd, fd2, stall[API_MAX_CONNS - 1];
	uint64_t t0, t_slow;
	char c;

	memset(kin, 0, sizeof(kin));
	api_server_set_grace(srv, 300 * 1000000ull);
	t_slow = now_ns();
	slow = client();
	SEND(slow, "GET / HT");
	wait_conns(1);
	for (int i = 0; i < API_MAX_CONNS - 1; i++) {
		keep[i] = client();
		SEND(keep[i], "GET / HTTP/1.1\r\n\r\n");	/* keep-alive: they stay */
		cr_assert_str_eq(recv_one(keep[i], &kin[i]), info);
	}
	t0 = now_ns();
	fd = client();
	SEND(fd, "GET / HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(recv_one(fd, &in), info);
	cr_assert_lt(now_ns() - t0, 250 * 1000000ull, "an idle keep-alive client was not closed at once");
	cr_assert_eq(read(keep[0], &c, 1), 0, "the oldest idle keep-alive client was closed");
	cr_assert_eq(read(slow, &c, 1), -1, "the stalled one is still within its grace");
	for (int i = 0; i < API_MAX_CONNS - 1; i++)
		close(keep[i]);
	close(fd);
	wait_conns(1);
	/* now every slot holds a client that never finished a request */
	for (int i = 0; i < API_MAX_CONNS - 1; i++) {
		stall[i] = client();
		SEND(stall[i], "GET / HT");
	}
	wait_conns(API_MAX_CONNS);
	fd2 = client();
	SEND(fd2, "GET / HTTP/1.1\r\n\r\n");
	cr_assert_str_eq(recv_one(fd2, &in2), info);
	cr_assert_geq(now_ns() - t_slow, 300 * 1000000ull, "closed before its grace");
	cr_assert_eq(read(slow, &c, 1), 0, "the stalled one that waited longest was closed");
	close(slow);
	for (int i = 0; i < API_MAX_CONNS - 1; i++)
		close(stall[i]);
	close(fd2);
	wait_conns(0);
}

Test(api_server, destroy_with_open_connections)
{
	struct errbuf e = { "" };
	struct api_server *other;
	int fd[3];

	for (int i = 0; i < 3; i++)
		fd[i] = client();
	SEND(fd[2], "GET / HT");
	wait_conns(3);
	cr_assert_eq(api_server_create(&l, &a, path, &other, &e), -EADDRINUSE);
	snprintf(e.msg + 200, 8, "%s", "");	/* the path is in the message */
	cr_assert(strstr(e.msg, "the path exists (a stale socket? remove it)"), "%s", e.msg);
	api_server_destroy(srv);
	srv = NULL;
	cr_assert_eq(access(path, F_OK), -1);
	for (int i = 0; i < 3; i++) {
		char c;

		cr_assert_eq(read(fd[i], &c, 1), 0, "closed by the server");
		close(fd[i]);
	}
}
