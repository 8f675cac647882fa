/* api/server.c - the API's HTTP server on a Unix socket, on ember's event
 * loop: accept, read, parse, answer, keep-alive, all as io_uring
 * operations, so no thread per connection and no blocking call.  Each
 * connection has at most one operation in flight (a read, or the write
 * of an answer); a client that stalls or leaves holds only its own slot.
 * At most API_MAX_CONNS connections are served at once.  When all slots
 * are taken and another client comes, the connection that has waited
 * longest for its next request (an idle keep-alive client, or one that
 * sends slowly), is closed to make room: at once if it was answered and
 * has sent nothing since, else once it has waited the idle grace (1 s).
 * So a few stalled clients cannot lock everyone out, while a client whose
 * first request is on its way is never dropped for a newcomer (a timer
 * looks again when the oldest has waited long enough); the newcomer waits
 * until then, and further clients wait in the backlog. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"
#include "monitor/metrics.h"

#define LISTEN_BACKLOG 128
#define IDLE_GRACE_NS 1000000000ull	/* waited this long: may be closed for a newcomer */
#define IN_CAP (HTTP_MAX_REQUEST + 1)	/* one byte more: "too big" is seen */

struct conn {
	struct api_server *s;
	int fd;			/* -1: the slot is free */
	struct loop_op rd, wr;
	char *in;		/* IN_CAP bytes */
	size_t in_len;
	struct http_parser p;
	char *out;		/* the answer being written */
	size_t out_len, out_off;
	size_t consumed;	/* bytes of in[] the answer was for */
	bool close_after;	/* close once the answer is out */
	bool busy;		/* an operation is in flight */
	bool evicted;		/* its read is being cancelled to make room */
	bool answered;		/* it has had an answer (an idle keep-alive client) */
	uint64_t since;		/* now_ns() when it began waiting for a request */
};

struct api_server {
	struct loop *l;
	struct api *a;
	int lfd;
	char *path;
	struct loop_op acc;
	bool accepting;		/* an accept is in flight */
	struct loop_op tick;	/* looks for a connection to close again */
	struct __kernel_timespec tick_ts;
	bool ticking;		/* its timeout is in flight */
	uint64_t grace_ns;	/* IDLE_GRACE_NS (tests may change it) */
	int waiting_fd;		/* a client accepted while all slots were taken, or -1 */
	bool closing;		/* api_server_destroy runs */
	unsigned inflight;	/* operations submitted, not yet completed */
	unsigned nconns;
	struct conn conns[API_MAX_CONNS];
};

static void on_accept(struct loop_op *op, int res, uint32_t flags);
static void on_read(struct loop_op *op, int res, uint32_t flags);
static void on_write(struct loop_op *op, int res, uint32_t flags);

static void arm_accept(struct api_server *s)
{
	struct io_uring_sqe *sqe;

	if (s->accepting || s->closing || s->waiting_fd >= 0)
		return;
	sqe = loop_sqe(s->l, &s->acc);
	io_uring_prep_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
	s->accepting = true;
	s->inflight++;
}

static void conn_open(struct conn *c, int fd);

static void conn_close(struct conn *c)
{
	struct api_server *s = c->s;

	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	s->nconns--;
	if (s->waiting_fd >= 0 && !s->closing) {
		int fd = s->waiting_fd;

		s->waiting_fd = -1;
		conn_open(c, fd);
	}
	arm_accept(s);
}

static struct io_uring_sqe *cancel_sqe(struct api_server *s);

static void arm_read(struct conn *c)
{
	struct io_uring_sqe *sqe = loop_sqe(c->s->l, &c->rd);

	io_uring_prep_read(sqe, c->fd, c->in + c->in_len, (unsigned)(IN_CAP - c->in_len), 0);
	c->busy = true;
	c->s->inflight++;
}

static void arm_write(struct conn *c)
{
	struct io_uring_sqe *sqe = loop_sqe(c->s->l, &c->wr);

	io_uring_prep_send(sqe, c->fd, c->out + c->out_off, c->out_len - c->out_off,
			   MSG_NOSIGNAL);
	c->busy = true;
	c->s->inflight++;
}

/* Starts writing text (malloc'd, taken over). */
static void send_out(struct conn *c, char *text, size_t len)
{
	c->out = text;
	c->out_len = len;
	c->out_off = 0;
	arm_write(c);
}

/* Answers an error that ends the connection (a malformed request). */
static void refuse(struct conn *c, const struct http_error *e)
{
	struct api_response resp;
	char *text;
	size_t len;

	c->close_after = true;
	c->consumed = c->in_len;
	if (api_fault(&resp, e->status, e->msg) ||
	    http_format(resp.status, resp.body, false, &text, &len)) {
		free(resp.body);
		conn_close(c);
		return;
	}
	free(resp.body);
	send_out(c, text, len);
}

/* Looks at what has arrived: answers a complete request, asks for the
 * body ("100 Continue"), or reads on. */
static void process(struct conn *c)
{
	struct http_request req;
	struct http_error e;
	struct api_response resp = { 0 };
	char *text;
	size_t len;
	uint64_t t0;
	long n = http_parse(&c->p, c->in, c->in_len, &req, &e);

	if (n < 0) {
		refuse(c, &e);
		return;
	}
	if (n == 0) {
		if (c->p.continue_due) {
			c->p.continue_due = false;
			c->consumed = 0;
			text = strdup(http_continue);
			if (!text) {
				conn_close(c);
				return;
			}
			send_out(c, text, strlen(text));
			return;
		}
		arm_read(c);
		return;
	}
	c->consumed = (size_t)n;
	c->close_after = !req.keep_alive;
	t0 = now_ns();
	if (api_handle(c->s->a, &req, &resp)) {
		free(resp.body);
		resp.body = NULL;
		resp.status = 500;
		if (api_fault(&resp, 500, "out of memory"))
			resp.body = NULL;
		c->close_after = true;
	}
	metrics_api_request(resp.status, now_ns() - t0);
	if (http_format(resp.status, resp.body, !c->close_after, &text, &len)) {
		free(resp.body);
		conn_close(c);
		return;
	}
	free(resp.body);
	send_out(c, text, len);
}

static void conn_open(struct conn *c, int fd)
{
	c->fd = fd;
	c->in_len = 0;
	c->close_after = c->evicted = c->answered = false;
	c->since = now_ns();
	http_parser_reset(&c->p);
	c->s->nconns++;
	arm_read(c);
}

/* All slots are taken and a client waits: closes the connection that has
 * waited longest for a request, if it has waited the idle grace (its read
 * is cancelled; on_read closes it); else looks again when it will have. */
static void evict(struct api_server *s)
{
	struct conn *victim = NULL;
	uint64_t now = now_ns(), left;

	if (s->waiting_fd < 0 || s->closing)
		return;
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd >= 0 && c->evicted)
			return;	/* one is being closed already */
		if (!(c->fd >= 0 && c->busy && !c->out))
			continue;
		/* an answered client with nothing more sent first, then the
		 * one waiting longest */
		if (!victim || (c->answered && !c->in_len) > (victim->answered && !victim->in_len) ||
		    ((c->answered && !c->in_len) == (victim->answered && !victim->in_len) &&
		     c->since < victim->since))
			victim = c;
	}
	if (!victim)
		return;	/* all are answering: the first to finish makes room */
	/* the grace is for a client whose request may be on its way; one
	 * that was answered and sent nothing since is idle keep-alive */
	if ((victim->answered && !victim->in_len) || now - victim->since >= s->grace_ns) {
		victim->evicted = true;
		io_uring_prep_cancel(cancel_sqe(s), &victim->rd, 0);
		return;
	}
	if (s->ticking)
		return;
	left = s->grace_ns - (now - victim->since);
	s->tick_ts.tv_sec = (long long)(left / 1000000000ull);
	s->tick_ts.tv_nsec = (long long)(left % 1000000000ull);
	io_uring_prep_timeout(loop_sqe(s->l, &s->tick), &s->tick_ts, 0, 0);
	s->ticking = true;
	s->inflight++;
}

static void on_tick(struct loop_op *op, int res, uint32_t flags)
{
	struct api_server *s = container_of(op, struct api_server, tick);

	(void)res;
	(void)flags;
	s->inflight--;
	s->ticking = false;
	evict(s);
}

static void on_accept(struct loop_op *op, int res, uint32_t flags)
{
	struct api_server *s = container_of(op, struct api_server, acc);

	(void)flags;
	s->inflight--;
	s->accepting = false;
	if (res < 0) {
		if (!s->closing && res != -ECANCELED) {
			if (res != -EAGAIN && res != -EINTR && res != -ECONNABORTED)
				log_warn("API socket '%s': accept: %s", s->path, strerror(-res));
			arm_accept(s);
		}
		return;
	}
	if (s->closing) {
		close(res);
		return;
	}
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		if (s->conns[i].fd < 0) {
			conn_open(&s->conns[i], res);
			arm_accept(s);
			return;
		}
	}
	s->waiting_fd = res;
	evict(s);
}

static void on_read(struct loop_op *op, int res, uint32_t flags)
{
	struct conn *c = container_of(op, struct conn, rd);

	(void)flags;
	c->busy = false;
	c->s->inflight--;
	if (c->s->closing)
		return;
	/* the client left (or broke), or it was closed to make room */
	if (res <= 0) {
		conn_close(c);
		return;
	}
	/* bytes came before the cancel: it was not stalled after all */
	c->evicted = false;
	c->in_len += (size_t)res;
	process(c);
	evict(c->s);	/* a client still waits: look again */
}

static void on_write(struct loop_op *op, int res, uint32_t flags)
{
	struct conn *c = container_of(op, struct conn, wr);

	(void)flags;
	c->busy = false;
	c->s->inflight--;
	if (c->s->closing)
		return;
	if (res <= 0) {
		conn_close(c);
		return;
	}
	c->out_off += (size_t)res;
	if (c->out_off < c->out_len) {
		arm_write(c);
		return;
	}
	free(c->out);
	c->out = NULL;
	if (c->close_after) {
		conn_close(c);
		return;
	}
	c->since = now_ns();
	c->answered = true;
	if (c->consumed) {	/* the next request may already be here */
		memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
		c->in_len -= c->consumed;
		c->consumed = 0;
		http_parser_reset(&c->p);
	}
	process(c);
}

int api_server_create(struct loop *l, struct api *a, const char *path,
		      struct api_server **out, struct errbuf *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct api_server *s;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(err, ENAMETOOLONG, "API socket '%s': the path is longer than %zu bytes",
			       path, sizeof(sa.sun_path) - 1);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return err_set(err, ENOMEM, "API socket '%s': out of memory", path);
	}
	s->l = l;
	s->a = a;
	s->lfd = -1;
	s->waiting_fd = -1;
	s->acc.fn = on_accept;
	s->tick.fn = on_tick;
	s->grace_ns = IDLE_GRACE_NS;
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];

		c->s = s;
		c->fd = -1;
		c->rd.fn = on_read;
		c->wr.fn = on_write;
		c->in = malloc(IN_CAP);
		if (!c->in) {
			free(s->path);
			s->path = NULL;
			api_server_destroy(s);
			return err_set(err, ENOMEM, "API socket '%s': out of memory", path);
		}
	}
	memcpy(sa.sun_path, path, strlen(path));
	/* blocking fds: io_uring tries without blocking and else waits for
	 * readiness itself, never on the loop thread */
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	r = s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	if (!r && listen(s->lfd, LISTEN_BACKLOG)) {
		r = errno;
		unlink(path);
	}
	if (r) {
		free(s->path);
		s->path = NULL;	/* never unlink what was there before */
		api_server_destroy(s);
		return err_set(err, r, "API socket '%s': %s", path,
			       r == EADDRINUSE ? "the path exists (a stale socket? remove it)" : strerror(r));
	}
	arm_accept(s);
	*out = s;
	return 0;
}

unsigned api_server_conns(const struct api_server *s)
{
	return s->nconns;
}

void api_server_set_grace(struct api_server *s, uint64_t ns)
{
	s->grace_ns = ns;
}

static void cancel_done(struct loop_op *op, int res, uint32_t flags)
{
	(void)op;
	(void)res;
	(void)flags;
}

/* An SQE for IORING_OP_ASYNC_CANCEL: its completion needs no handling
 * (the cancelled operation's own completion says what happened). */
static struct io_uring_sqe *cancel_sqe(struct api_server *s)
{
	static struct loop_op cancel_op = { cancel_done };

	return loop_sqe(s->l, &cancel_op);
}

static bool drained(void *ctx)
{
	return ((struct api_server *)ctx)->inflight == 0;
}

void api_server_destroy(struct api_server *s)
{
	if (!s)
		return;
	s->closing = true;
	if (s->accepting)
		io_uring_prep_cancel(cancel_sqe(s), &s->acc, 0);
	if (s->ticking)
		io_uring_prep_cancel(cancel_sqe(s), &s->tick, 0);
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		struct conn *c = &s->conns[i];

		if (c->fd >= 0 && c->busy)
			io_uring_prep_cancel(cancel_sqe(s), c->out ? (void *)&c->wr : (void *)&c->rd, 0);
	}
	if (s->inflight && loop_drain(s->l, drained, s, 2000))
		log_warn("API socket '%s': %u operations did not end; leaking the server",
			 s->path, s->inflight);
	if (s->inflight)
		return;
	for (unsigned i = 0; i < API_MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0)
			close(s->conns[i].fd);
		free(s->conns[i].out);
		free(s->conns[i].in);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->waiting_fd >= 0)
		close(s->waiting_fd);
	if (s->path)
		unlink(s->path);
	free(s->path);
	free(s);
}
