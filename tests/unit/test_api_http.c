/* Unit tests of the API's HTTP/1.1 parser and response writer (api/http.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static struct http_parser p;
static struct http_request req;
static struct http_error e;

static long parse(const char *s)
{
	http_parser_reset(&p);
	memset(&e, 0, sizeof(e));
	return http_parse(&p, s, strlen(s), &req, &e);
}

Test(api_http, get)
{
	const char *s = "GET /machine-config HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";

	cr_assert_eq(parse(s), (long)strlen(s));
	cr_assert_eq(req.method, HTTP_GET);
	cr_assert_str_eq(req.path, "/machine-config");
	cr_assert_null(req.body);
	cr_assert(req.keep_alive);
}

Test(api_http, put_with_body_and_pipelined_next)
{
	const char *s = "PUT /actions HTTP/1.1\r\ncontent-length: 32\r\nConnection: close\r\n\r\n"
			"{\"action_type\": \"InstanceStart\"}GET / HTTP/1.1\r\n\r\n";
	long n = parse(s);

	cr_assert_eq(n, (long)(strlen(s) - strlen("GET / HTTP/1.1\r\n\r\n")));
	cr_assert_eq(req.method, HTTP_PUT);
	cr_assert_eq(req.body_len, 32);
	cr_assert_eq(memcmp(req.body, "{\"action_type\": \"InstanceStart\"}", 32), 0);
	cr_assert_not(req.keep_alive, "Connection: close");
	http_parser_reset(&p);
	cr_assert_eq(http_parse(&p, s + n, strlen(s + n), &req, &e), (long)strlen(s + n));
	cr_assert_str_eq(req.path, "/");
}

Test(api_http, byte_by_byte)
{
	const char *s = "PATCH /vm HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"state\":\"Paused\"}";
	size_t len = strlen(s);

	http_parser_reset(&p);
	for (size_t i = 1; i < len; i++)
		cr_assert_eq(http_parse(&p, s, i, &req, &e), 0, "at %zu bytes", i);
	cr_assert_eq(http_parse(&p, s, len, &req, &e), (long)len);
	cr_assert_eq(req.method, HTTP_PATCH);
	cr_assert_eq(req.body_len, 18);
}

Test(api_http, expect_continue)
{
	const char *s = "PUT /drives/x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";

	cr_assert_eq(parse(s), 0);
	cr_assert(p.continue_due);
	p.continue_due = false;
	cr_assert_eq(http_parse(&p, s, strlen(s), &req, &e), 0);
	cr_assert_not(p.continue_due, "sent once");
}

Test(api_http, http10_closes_unless_asked)
{
	cr_assert_gt(parse("GET / HTTP/1.0\r\n\r\n"), 0);
	cr_assert_not(req.keep_alive);
	cr_assert_gt(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0);
	cr_assert(req.keep_alive);
}

struct bad {
	const char *req;
	int status;
	const char *msg;
};

Test(api_http, refused)
{
	static const struct bad cases[] = {
		{ "POST /actions HTTP/1.1\r\n\r\n", 405, "method 'POST' is not allowed (GET, PUT or PATCH)" },
		{ "DELETE /drives/a HTTP/1.1\r\n\r\n", 405, "method 'DELETE' is not allowed (GET, PUT or PATCH)" },
		{ "GET / HTTP/2.0\r\n\r\n", 400, "unsupported HTTP version 'HTTP/2.0' (HTTP/1.1 or HTTP/1.0)" },
		{ "GET  / HTTP/1.1\r\n\r\n", 400, "malformed request line" },
		{ "GET\r\n\r\n", 400, "malformed request line" },
		{ "GET http://x/ HTTP/1.1\r\n\r\n", 400, "request target must be an absolute path" },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", 400, "request path has a byte 0x01 that is not visible ASCII" },
		{ "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding is not supported (send a Content-Length)" },
		{ "PUT /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400, "more than one Content-Length header" },
		{ "PUT /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length '-1' is not a number" },
		{ "PUT /a HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, "request payload is larger than the limit of 51200 bytes" },
		{ "PUT /a HTTP/1.1\r\nContent-Length: 51200\r\n\r\n", 400, "request payload is larger than the limit of 51200 bytes" },
		{ "PUT /a HTTP/1.1\r\nNo colon\r\n\r\n", 400, "malformed header line" },
		{ "PUT /a HTTP/1.1\r\n: v\r\n\r\n", 400, "malformed header line" },
		{ "PUT /a HTTP/1.1\r\nX: a\nb\r\n\r\n", 400, "header 'X' has a control character" },
		{ "PUT /a HTTP/1.1\r\nExpect: magic\r\n\r\n", 400, "unsupported Expect 'magic'" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		cr_assert_eq(parse(cases[i].req), -1, "case %u", i);
		cr_assert_eq(e.status, cases[i].status, "case %u", i);
		cr_assert_str_eq(e.msg, cases[i].msg, "case %u", i);
	}
}

Test(api_http, oversized_and_nul)
{
	size_t n = HTTP_MAX_REQUEST + 10;
	char *s = malloc(n + 1);

	memcpy(s, "GET / HTTP/1.1\r\nX: ", 19);
	memset(s + 19, 'a', n - 19);
	s[n] = 0;
	http_parser_reset(&p);
	cr_assert_eq(http_parse(&p, s, 1000, &req, &e), 0, "not yet too big");
	cr_assert_eq(http_parse(&p, s, n, &req, &e), -1);
	cr_assert_str_eq(e.msg, "request headers are larger than the limit of 51200 bytes");
	free(s);
	http_parser_reset(&p);
	cr_assert_eq(http_parse(&p, "GET /\0", 6, &req, &e), -1);
	cr_assert_str_eq(e.msg, "request has a NUL byte in its headers");
	http_parser_reset(&p);
	cr_assert_eq(http_parse(&p, "GET / HTTP/1.1\r\nA:\0\r\n\r\n", 23, &req, &e), -1);
	cr_assert_str_eq(e.msg, "request has a NUL byte in its headers");
}

Test(api_http, format)
{
	char *s;
	size_t n;

	cr_assert_eq(http_format(200, "{\"a\":1}", true, &s, &n), 0);
	cr_assert_str_eq(s, "HTTP/1.1 200 OK\r\nServer: ember\r\nContent-Type: application/json\r\n"
			 "Content-Length: 7\r\n\r\n{\"a\":1}");
	cr_assert_eq(n, strlen(s));
	free(s);
	cr_assert_eq(http_format(204, NULL, true, &s, &n), 0);
	cr_assert_str_eq(s, "HTTP/1.1 204 No Content\r\nServer: ember\r\n\r\n");
	free(s);
	cr_assert_eq(http_format(404, NULL, false, &s, &n), 0);
	cr_assert_str_eq(s, "HTTP/1.1 404 Not Found\r\nServer: ember\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
	free(s);
	cr_assert_str_eq(http_reason(405), "Method Not Allowed");
	cr_assert_str_eq(http_reason(299), "Unknown");
}

/* The head and the body arrive in two reads; each parse call has a fresh
 * request struct (the server's): the path must come from the parser's
 * state, not from the first call's struct. */
Test(api_http, body_in_a_later_read)
{
	const char *s = "PUT /actions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
	struct http_request r1, r2;
	size_t head = strlen(s) - 2;

	http_parser_reset(&p);
	cr_assert_eq(http_parse(&p, s, head, &r1, &e), 0);
	memset(&r2, 0, sizeof(r2));
	cr_assert_eq(http_parse(&p, s, strlen(s), &r2, &e), (long)strlen(s));
	cr_assert_str_eq(r2.path, "/actions");
	cr_assert_eq(r2.method, HTTP_PUT);
	cr_assert_eq(r2.body_len, 2);
}
