/* guest-kernel-config/init/args.c - ember-init's command-line parsing and
 * the ember.cmd decoding (see args.h).  Pure functions: no I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "args.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

long init_b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0), o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (n % 4 == 1 || len > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc)	/* non-canonical: leftover bits must be zero */
		return -1;
	return (long)o;
}

long init_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	size_t len = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0), o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (len >= cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = b64url[(acc << (6 - bits)) & 63];
	out[o] = 0;
	return (long)o;
}

int init_split_argv(char *buf, size_t len, char ***argv_out,
		    char *err, size_t errlen)
{
	char **argv;
	int argc = 0, k = 0;

	if (len == 0 || buf[len - 1] != 0) {
		snprintf(err, errlen, "ember.cmd: the decoded arguments do not end with a NUL");
		return -1;
	}
	if (buf[0] == 0) {
		snprintf(err, errlen, "ember.cmd: the command name is empty");
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		argc += buf[i] == 0;
	if (argc > INIT_MAX_ARGS) {
		snprintf(err, errlen, "ember.cmd: %d arguments, at most %d", argc, INIT_MAX_ARGS);
		return -1;
	}
	argv = calloc((size_t)argc + 1, sizeof(*argv));
	if (!argv) {
		snprintf(err, errlen, "ember.cmd: out of memory");
		return -1;
	}
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	argv[k] = NULL;
	*argv_out = argv;
	return argc;
}

int init_parse_ip(const char *s, struct init_ip *ip, char *err, size_t errlen)
{
	char addr[32], gw[32] = "";
	const char *slash = strchr(s, '/'), *comma;
	char *end;
	unsigned long prefix;
	struct in_addr a, g = { 0 };

	memset(ip, 0, sizeof(*ip));
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		goto bad;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = 0;
	comma = strchr(slash, ',');
	if (comma) {
		if (strlen(comma + 1) >= sizeof(gw) || !comma[1])
			goto bad;
		strcpy(gw, comma + 1);
	}
	if (slash[1] < '0' || slash[1] > '9')
		goto bad;
	prefix = strtoul(slash + 1, &end, 10);
	if (end != (comma ? comma : slash + strlen(slash)) || prefix > 32)
		goto bad;
	if (inet_pton(AF_INET, addr, &a) != 1 || (*gw && inet_pton(AF_INET, gw, &g) != 1))
		goto bad;
	ip->set = true;
	ip->addr = a.s_addr;
	ip->prefix = (unsigned)prefix;
	ip->gw = g.s_addr;
	return 0;
bad:
	snprintf(err, errlen, "ember.ip: '%s' is not A.B.C.D/PREFIX[,GATEWAY]", s);
	return -1;
}

/* Copies the next word of *p into w (quotes removed; w has room for all of
 * the command line); false at the end. */
static bool next_word(const char **p, char *w)
{
	const char *s = *p;
	bool quoted = false;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return false;
	for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		w[n++] = *s;
	}
	w[n] = 0;
	*p = s;
	return true;
}

/* Copies v into dst; a device name without a '/' gets "/dev/" in front. */
static int set_dev(char *dst, const char *name, const char *v, bool devpath,
		   char *err, size_t errlen)
{
	const char *pre = devpath && !strchr(v, '/') ? "/dev/" : "";

	if (!*v || strlen(pre) + strlen(v) >= INIT_DEV_MAX) {
		snprintf(err, errlen, "%s: '%s' is empty or longer than %d characters", name, v,
			 INIT_DEV_MAX - 1 - (int)strlen(pre));
		return -1;
	}
	strcpy(dst, pre);
	strcat(dst, v);
	return 0;
}

static int set_port(uint32_t *dst, const char *v, char *err, size_t errlen)
{
	char *end;
	unsigned long long p;

	errno = 0;
	p = strtoull(v, &end, 10);
	if (errno || !*v || *end || *v == '-' || p < 1 || p > 0xfffffffeULL) {
		snprintf(err, errlen, "ember.vsock: '%s' is not a port from 1 to 4294967294", v);
		return -1;
	}
	*dst = (uint32_t)p;
	return 0;
}

static int set_cmd(struct init_args *a, const char *v, char *err, size_t errlen)
{
	size_t n = strlen(v);
	long len;
	char *buf = malloc(n / 4 * 3 + 3);

	if (!buf) {
		snprintf(err, errlen, "ember.cmd: out of memory");
		return -1;
	}
	len = init_b64_decode(v, n, (uint8_t *)buf, n / 4 * 3 + 3);
	if (len < 0) {
		snprintf(err, errlen, "ember.cmd: not unpadded base64url (A-Z a-z 0-9 - _)");
		free(buf);
		return -1;
	}
	free(a->argv);
	free(a->argbuf);
	a->argv = NULL;
	a->argbuf = buf;
	a->argc = init_split_argv(buf, (size_t)len, &a->argv, err, errlen);
	if (a->argc < 0) {
		a->argc = 0;
		return -1;
	}
	return 0;
}

int init_parse_cmdline(const char *cmdline, struct init_args *a,
		       char *err, size_t errlen)
{
	size_t cap = strlen(cmdline) + 1;
	char *w = malloc(cap);
	const char *p = cmdline;
	int r = 0;

	memset(a, 0, sizeof(*a));
	strcpy(a->rootfstype, "ext4");
	if (!w) {
		snprintf(err, errlen, "command line: out of memory");
		return -1;
	}
	while (r == 0 && next_word(&p, w)) {
		char *v = strchr(w, '=');

		if (!strcmp(w, "--"))
			break;
		if (!v || strncmp(w, "ember.", 6))
			continue;
		*v++ = 0;
		if (!strcmp(w, "ember.cmd"))
			r = set_cmd(a, v, err, errlen);
		else if (!strcmp(w, "ember.ip"))
			r = init_parse_ip(v, &a->ip, err, errlen);
		else if (!strcmp(w, "ember.root"))
			r = set_dev(a->root, w, v, true, err, errlen);
		else if (!strcmp(w, "ember.rootfstype"))
			r = set_dev(a->rootfstype, w, v, false, err, errlen);
		else if (!strcmp(w, "ember.share"))
			r = set_dev(a->share, w, v, true, err, errlen);
		else if (!strcmp(w, "ember.vsock"))
			r = set_port(&a->vsock_port, v, err, errlen);
		else if (!strcmp(w, "ember.test"))
			a->test = !strcmp(v, "1");
		/* other ember.* words are ember's or a later version's */
	}
	free(w);
	if (r)
		init_args_free(a);
	return r;
}

void init_args_free(struct init_args *a)
{
	free(a->argv);
	free(a->argbuf);
	a->argv = NULL;
	a->argbuf = NULL;
	a->argc = 0;
}

int init_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}
