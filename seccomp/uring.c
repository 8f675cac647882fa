/* seccomp/uring.c - io_uring operations run in the kernel without passing
 * through seccomp, so the ring itself is restricted: it is created
 * disabled, told which opcodes and SQE flags it may ever see, and only
 * then enabled (IORING_REGISTER_RESTRICTIONS).  A forbidden SQE completes
 * with -EACCES; after enabling, no register operation is allowed at all.
 *
 * The one place to add an opcode: the table below (with its reason). */
#include <errno.h>
#include <string.h>

#include "seccomp/seccomp.h"

static const struct {
	uint8_t op;
	const char *why;
} uring_ops[] = {
	{ IORING_OP_NOP, "loop_post: a device's next pass after its budget; tests" },
	{ IORING_OP_READ, "signalfd, stdin console, eventfds, TAP receive" },
	{ IORING_OP_WRITE, "console and TAP writes" },
	{ IORING_OP_READV, "virtio-blk reads" },
	{ IORING_OP_WRITEV, "virtio-blk writes, TAP transmit" },
	{ IORING_OP_FSYNC, "virtio-blk flush (datasync)" },
	{ IORING_OP_FALLOCATE, "virtio-blk discard and write-zeroes" },
	{ IORING_OP_POLL_ADD, "readiness of eventfds (kicks, stop) and fds" },
	{ IORING_OP_POLL_REMOVE, "disarm a poll" },
	{ IORING_OP_TIMEOUT, "timers" },
	{ IORING_OP_TIMEOUT_REMOVE, "cancel a timer" },
	{ IORING_OP_ASYNC_CANCEL, "cancel in-flight I/O at device reset, API connections at close" },
	{ IORING_OP_ACCEPT, "API socket: a new client (api/server.c); virtio-vsock: host "
			    "connections to the listening socket" },
	{ IORING_OP_SEND, "API socket answers, with MSG_NOSIGNAL: a client that left raises no SIGPIPE" },
	{ IORING_OP_CONNECT, "virtio-vsock: guest connections to <uds>_<port> (the socket "
			     "itself needs socket(2): seccomp allows it only with vsock)" },
};

/* SQE flags ember may use: links (a timeout tied to an I/O) and forcing
 * work to the async workers.  Not FIXED_FILE or BUFFER_SELECT (nothing is
 * registered), not DRAIN. */
#define URING_SQE_FLAGS (IOSQE_IO_LINK | IOSQE_IO_HARDLINK | IOSQE_ASYNC)

unsigned sc_uring_setup_flags(void)
{
	return IORING_SETUP_R_DISABLED;
}

bool sc_uring_op_allowed(unsigned op)
{
	for (unsigned i = 0; i < ARRAY_SIZE(uring_ops); i++)
		if (uring_ops[i].op == op)
			return true;
	return false;
}

int sc_uring_restrict(struct io_uring *ring)
{
	struct io_uring_restriction res[ARRAY_SIZE(uring_ops) + 1];
	unsigned n = 0;
	int r;

	memset(res, 0, sizeof(res));
	for (unsigned i = 0; i < ARRAY_SIZE(uring_ops); i++) {
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = uring_ops[i].op;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = URING_SQE_FLAGS;
	/* no IORING_RESTRICTION_REGISTER_OP entry: every register op refused.
	 * Debian 12's liburing 2.3 declares io_uring_register_restrictions()
	 * and io_uring_enable_rings() but does not export them: the raw call. */
	r = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_RESTRICTIONS, res, n);
	if (r < 0)
		return r;
	r = io_uring_register((unsigned)ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	return r < 0 ? r : 0;
}
