/* api/http.c - a strict, small HTTP/1.1 request parser and response
 * writer for the API socket: what Firecracker's clients send (curl, the
 * SDKs) and nothing more.  One request at a time per connection,
 * Content-Length bodies only, a hard cap on a request's size. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

const char http_continue[] = "HTTP/1.1 100 Continue\r\n\r\n";

void http_parser_reset(struct http_parser *p)
{
	memset(p, 0, sizeof(*p));
}

__attribute__((format(printf, 3, 4)))
static long fail(struct http_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* RFC 9110 token characters (method, header name). */
static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static long parse_request_line(const char *s, const char *end, struct http_request *req,
			       bool *http10, struct http_error *e)
{
	const char *m = s, *sp1, *sp2;
	size_t n;

	for (sp1 = s; sp1 < end && tchar(*sp1); sp1++)
		;
	if (sp1 == s || sp1 >= end || *sp1 != ' ')
		return fail(e, 400, "malformed request line");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return fail(e, 400, "malformed request line");
	if ((size_t)(end - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.1", 8))
		*http10 = false;
	else if ((size_t)(end - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8))
		*http10 = true;
	else
		return fail(e, 400, "unsupported HTTP version '%.*s' (HTTP/1.1 or HTTP/1.0)",
			    (int)(end - sp2 - 1 > 16 ? 16 : end - sp2 - 1), sp2 + 1);
	n = (size_t)(sp1 - m);
	if (n == 3 && !memcmp(m, "GET", 3))
		req->method = HTTP_GET;
	else if (n == 3 && !memcmp(m, "PUT", 3))
		req->method = HTTP_PUT;
	else if (n == 5 && !memcmp(m, "PATCH", 5))
		req->method = HTTP_PATCH;
	else
		return fail(e, 405, "method '%.*s' is not allowed (GET, PUT or PATCH)",
			    (int)(n > 16 ? 16 : n), m);
	n = (size_t)(sp2 - sp1 - 1);
	if (sp1[1] != '/')
		return fail(e, 400, "request target must be an absolute path");
	if (n > HTTP_MAX_PATH)
		return fail(e, 400, "request path is longer than %d bytes", HTTP_MAX_PATH);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];

		if (c <= 0x20 || c >= 0x7f)
			return fail(e, 400, "request path has a byte 0x%02x that is not visible ASCII", c);
	}
	memcpy(req->path_buf, sp1 + 1, n);
	req->path_buf[n] = 0;
	req->path = req->path_buf;
	return 0;
}

static bool value_is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && !strncasecmp(v, word, n);
}

/* The header block [s, end): "Name: value\r\n" lines. */
static long parse_headers(struct http_parser *p, const char *s, const char *end,
			  struct http_request *req, bool http10, struct http_error *e)
{
	unsigned count = 0;
	bool have_len = false, conn_close = false, conn_keep = false;

	while (s < end) {
		const char *eol = memmem(s, (size_t)(end - s), "\r\n", 2), *colon, *v, *ve;
		size_t nlen;

		if (!eol)
			eol = end;
		if (++count > HTTP_MAX_HEADERS)
			return fail(e, 400, "more than %d headers", HTTP_MAX_HEADERS);
		for (colon = s; colon < eol && tchar(*colon); colon++)
			;
		if (colon == s || colon >= eol || *colon != ':')
			return fail(e, 400, "malformed header line");
		nlen = (size_t)(colon - s);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return fail(e, 400, "header '%.*s' has a control character",
					    (int)(nlen > 32 ? 32 : nlen), s);
		if (nlen == 14 && !strncasecmp(s, "Content-Length", 14)) {
			size_t n = 0;

			if (have_len)
				return fail(e, 400, "more than one Content-Length header");
			if (v == ve)
				return fail(e, 400, "empty Content-Length");
			for (const char *c = v; c < ve; c++) {
				if (*c < '0' || *c > '9')
					return fail(e, 400, "Content-Length '%.*s' is not a number",
						    (int)(ve - v > 20 ? 20 : ve - v), v);
				if (n > HTTP_MAX_REQUEST)
					break;
				n = n * 10 + (size_t)(*c - '0');
			}
			if (n > HTTP_MAX_REQUEST)
				return fail(e, 400, "request payload is larger than the limit of %d bytes",
					    HTTP_MAX_REQUEST);
			p->content_length = n;
			have_len = true;
		} else if (nlen == 17 && !strncasecmp(s, "Transfer-Encoding", 17)) {
			return fail(e, 400, "Transfer-Encoding is not supported (send a Content-Length)");
		} else if (nlen == 10 && !strncasecmp(s, "Connection", 10)) {
			if (value_is(v, (size_t)(ve - v), "close"))
				conn_close = true;
			else if (value_is(v, (size_t)(ve - v), "keep-alive"))
				conn_keep = true;
		} else if (nlen == 6 && !strncasecmp(s, "Expect", 6)) {
			if (!value_is(v, (size_t)(ve - v), "100-continue"))
				return fail(e, 400, "unsupported Expect '%.*s'",
					    (int)(ve - v > 32 ? 32 : ve - v), v);
			p->continue_due = true;
		}
		s = eol + 2;
	}
	req->has_body = have_len;
	req->keep_alive = http10 ? conn_keep && !conn_close : !conn_close;
	return 0;
}

long http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req,
		struct http_error *e)
{
	if (!p->head_len) {
		size_t from = p->scanned > 3 ? p->scanned - 3 : 0, lim = len;
		const char *end, *line_end;
		bool http10 = false;

		if (lim > HTTP_MAX_REQUEST)
			lim = HTTP_MAX_REQUEST;
		end = memmem(buf + from, lim - from, "\r\n\r\n", 4);
		if (!end) {
			p->scanned = lim;
			if (len >= HTTP_MAX_REQUEST)
				return fail(e, 400, "request headers are larger than the limit of %d bytes",
					    HTTP_MAX_REQUEST);
			/* a request line may not hold a NUL: refuse early */
			if (memchr(buf, 0, len))
				return fail(e, 400, "request has a NUL byte in its headers");
			return 0;
		}
		if (memchr(buf, 0, (size_t)(end - buf)))
			return fail(e, 400, "request has a NUL byte in its headers");
		memset(&p->head, 0, sizeof(p->head));
		line_end = memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2);
		if (parse_request_line(buf, line_end, &p->head, &http10, e) ||
		    parse_headers(p, line_end + 2, end + 2, &p->head, http10, e))
			return -1;
		p->head_len = (size_t)(end - buf) + 4;
		if (p->head_len + p->content_length > HTTP_MAX_REQUEST)
			return fail(e, 400, "request payload is larger than the limit of %d bytes",
				    HTTP_MAX_REQUEST);
		if (p->content_length == 0)
			p->continue_due = false;
	}
	if (len < p->head_len + p->content_length) {
		if (len > p->head_len)
			p->continue_due = false;	/* the client sends without waiting */
		return 0;
	}
	p->continue_due = false;
	*req = p->head;
	req->path = req->path_buf;
	req->body = p->content_length ? buf + p->head_len : NULL;
	req->body_len = p->content_length;
	return (long)(p->head_len + p->content_length);
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int http_format(int status, const char *body, bool keep_alive, char **out, size_t *len)
{
	size_t blen = body ? strlen(body) : 0;
	char *s = NULL;
	int n;

	if (body)
		n = asprintf(&s, "HTTP/1.1 %d %s\r\nServer: ember\r\n%s"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     status, http_reason(status), keep_alive ? "" : "Connection: close\r\n",
			     blen, body);
	else
		n = asprintf(&s, "HTTP/1.1 %d %s\r\nServer: ember\r\n%s%s\r\n", status,
			     http_reason(status), keep_alive ? "" : "Connection: close\r\n",
			     status == 204 ? "" : "Content-Length: 0\r\n");
	if (n < 0)
		return -ENOMEM;
	*out = s;
	*len = (size_t)n;
	return 0;
}
