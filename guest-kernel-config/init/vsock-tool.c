/* vsock-tool - the default guest's AF_VSOCK stream tool (/bin/vsock-tool),
 * a small socat for the tests of ember's virtio-vsock:
 *
 *   vsock-tool listen PORT        accept one connection on PORT (any CID)
 *   vsock-tool connect CID PORT   connect to CID:PORT (the host is CID 2)
 *
 * Once connected it copies stdin to the socket and the socket to stdout.
 * At stdin's EOF it shuts the socket's sending side (the peer reads EOF)
 * and goes on reading until the peer's EOF, then closes: when it ends,
 * the peer has had every byte (a close right after the last write would
 * not say so, and a VM that ends then loses what is still in flight).
 * With -r (before listen or connect) it only receives: stdin is not read
 * and the socket is closed at the peer's EOF.  "listening" goes to stderr once the socket listens.
 * Exit status: 0, or 1 with a message on stderr. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

static int die(const char *what)
{
	fprintf(stderr, "vsock-tool: %s: %s\n", what, strerror(errno));
	return 1;
}

static int usage(void)
{
	fputs("usage: vsock-tool [-r] listen PORT | vsock-tool [-r] connect CID PORT\n", stderr);
	return 1;
}

static int xwrite(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t k = write(fd, b, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Copies both ways until the peer's EOF (and stdin's). */
static int pump(int s, int recv_only)
{
	static char buf[65536];
	int in_open = !recv_only, sock_open = 1;

	while (sock_open) {
		struct pollfd p[2] = { { .fd = s, .events = POLLIN },
				       { .fd = in_open ? 0 : -1, .events = POLLIN } };
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll");
		}
		if (p[1].revents) {
			n = read(0, buf, sizeof(buf));
			if (n < 0)
				return die("read stdin");
			if (n == 0) {
				in_open = 0;
				if (shutdown(s, SHUT_WR) < 0)
					return die("shutdown");
			} else if (xwrite(s, buf, (size_t)n) < 0) {
				return die("send");
			}
		}
		if (p[0].revents) {
			n = read(s, buf, sizeof(buf));
			if (n < 0)
				return die("recv");
			if (n == 0)
				sock_open = 0;
			else if (xwrite(1, buf, (size_t)n) < 0)
				return die("write stdout");
		}
	}
	/* the peer is done: send what stdin still has */
	while (in_open) {
		ssize_t n = read(0, buf, sizeof(buf));

		if (n < 0)
			return die("read stdin");
		if (n == 0)
			break;
		if (xwrite(s, buf, (size_t)n) < 0)
			return die("send");
	}
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK };
	int recv_only = 0, s, c;

	if (argc > 1 && !strcmp(argv[1], "-r")) {
		recv_only = 1;
		argc--;
		argv++;
	}
	if (argc == 3 && !strcmp(argv[1], "listen")) {
		a.svm_cid = VMADDR_CID_ANY;
		a.svm_port = (unsigned)strtoul(argv[2], NULL, 10);
		s = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (s < 0)
			return die("socket");
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("bind");
		if (listen(s, 1) < 0)
			return die("listen");
		fputs("listening\n", stderr);
		c = accept(s, NULL, NULL);
		if (c < 0)
			return die("accept");
		close(s);
		return pump(c, recv_only);
	}
	if (argc == 4 && !strcmp(argv[1], "connect")) {
		a.svm_cid = (unsigned)strtoul(argv[2], NULL, 10);
		a.svm_port = (unsigned)strtoul(argv[3], NULL, 10);
		s = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (s < 0)
			return die("socket");
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("connect");
		return pump(s, recv_only);
	}
	return usage();
}
