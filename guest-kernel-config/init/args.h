/* guest-kernel-config/init/args.h - the pure part of ember-init: what it
 * reads from the kernel command line, and the ember.cmd encoding.  No I/O
 * here, so the host's unit tests compile args.c as is.
 *
 * Parameters ember-init understands (all optional; the last one wins):
 *
 *   ember.cmd=B64     the command to run instead of a shell.  B64 is
 *                     base64url (RFC 4648 section 5: A-Z a-z 0-9 - _), without
 *                     '=' padding, of the bytes "arg0\0arg1\0...argN\0": every
 *                     argument followed by one NUL, so any argv survives
 *                     (spaces, quotes, newlines, empty arguments).
 *   ember.ip=A.B.C.D/P[,GW]   configure eth0 with that address and prefix
 *                     length (0-32), and a default route via GW if given.
 *   ember.root=DEV    mount DEV (/dev/vda, or just vda) as the root file
 *                     system and switch to it before running the command.
 *   ember.rootfstype=T  file system type of ember.root (default ext4).
 *   ember.share=vdX   mount /dev/vdX (ext4, read-only) at /mnt/share
 *                     (ember --share sets it).
 *   ember.vsock=PORT  the command's stdout goes to a vsock stream to the
 *                     host (CID 2) port PORT (1..4294967294) instead of
 *                     the serial console (stdin, stderr and ember-init's
 *                     own messages stay there).  With ember --vsock the
 *                     host side is the Unix socket "<uds>_PORT".
 *   ember.test=1      testing on a host (inside a PID namespace): no port
 *                     I/O, the inherited stdio, and init exits with the
 *                     command's status instead of powering off.
 *
 * Words after a standalone "--" belong to init's argv (Linux hands them
 * over itself); the parser stops there. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INIT_MAX_ARGS 1024	/* more than a 2 KiB command line can hold */
#define INIT_DEV_MAX 64		/* device paths and fs types, NUL included */

struct init_ip {
	bool set;
	uint32_t addr;		/* network byte order */
	unsigned prefix;	/* 0..32 */
	uint32_t gw;		/* network byte order; 0: no default route */
};

struct init_args {
	char **argv;		/* NULL-terminated, or NULL: run a shell */
	int argc;
	struct init_ip ip;
	char root[INIT_DEV_MAX];	/* "/dev/vda"; "" : stay on the initramfs */
	char rootfstype[INIT_DEV_MAX];	/* default "ext4" */
	char share[INIT_DEV_MAX];	/* "/dev/vdb"; "" : none */
	uint32_t vsock_port;	/* ember.vsock; 0: none */
	bool test;
	char *argbuf;		/* the decoded bytes argv points into */
};

/* Decodes unpadded base64url in[0..n) into out (capacity cap).  Returns
 * the number of bytes, or -1 when a character is outside the alphabet,
 * n % 4 == 1, the unused low bits of the last character are not zero, or
 * the result would not fit. */
long init_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap);
/* Encodes in[0..n) as unpadded base64url into out (capacity cap, NUL
 * added).  Returns the length, or -1 when it does not fit.  (ember has its
 * own encoder; this one is for tests and tools.) */
long init_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/* Splits buf[0..len) ("arg\0arg\0...") into a NULL-terminated argv whose
 * strings point into buf.  buf must end with a NUL, hold at most
 * INIT_MAX_ARGS arguments, and the first must not be empty.  Returns argc
 * (>= 1) with *argv_out malloc'd, or -1 with a reason in err. */
int init_split_argv(char *buf, size_t len, char ***argv_out,
		    char *err, size_t errlen);
/* Parses "A.B.C.D/P[,GW]".  0, or -1 with a reason in err. */
int init_parse_ip(const char *s, struct init_ip *ip, char *err, size_t errlen);
/* Reads the ember.* parameters of a kernel command line (as in
 * /proc/cmdline: words separated by blanks, double quotes group blanks
 * into a word and are removed, a trailing newline is ignored).  Fills a
 * (zeroed first; rootfstype defaults to "ext4").  Returns 0, or -1 with a
 * message naming the parameter in err (a is then freed). */
int init_parse_cmdline(const char *cmdline, struct init_args *a,
		       char *err, size_t errlen);
/* Frees what init_parse_cmdline allocated; a stays valid (empty). */
void init_args_free(struct init_args *a);
/* The exit status reported for a wait() status: the exit code, or
 * 128 + signal number when the process was killed. */
int init_exit_status(int wstatus);
