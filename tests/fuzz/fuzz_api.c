/* tests/fuzz/fuzz_api.c - libFuzzer target: the API's request path and
 * Firecracker's --config-file parser, over the fake backend of the unit
 * tests (tests/unit/api_fake.c): no VM, no socket.
 *
 * Byte 0 (% 3) picks what the rest is; byte 1 (% 3) the VM's state at
 * the start (not started, running, paused):
 *   0 an HTTP byte stream on one connection, fed to http_parse in
 *     pieces whose sizes come from byte 2, each complete request answered
 *     by api_handle (its answer rendered by http_format), as the server
 *     does, until the stream ends or is refused
 *   1 a config file: api_config_parse, then GET /vm/config of the result
 *   2 requests without HTTP: lines "METHOD PATH BODY" (METHOD G, U or
 *     P), each answered by api_handle, so the decoders see the most */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/api_fake.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	return 0;
}

static void answer(struct api *a, const struct http_request *req)
{
	struct api_response resp;
	char *text;
	size_t len;

	if (api_handle(a, req, &resp))
		abort();	/* only on ENOMEM */
	if (resp.status != 200 && resp.status != 204 && resp.status != 400)
		abort();
	if ((resp.status == 204) != (resp.body == NULL))
		abort();
	if (http_format(resp.status, resp.body, req->keep_alive, &text, &len))
		abort();
	free(text);
	free(resp.body);
}

static void stream(struct api *a, const uint8_t *data, size_t size, unsigned piece)
{
	char *buf = malloc(size + 1);
	size_t have = 0, fed = 0;
	struct http_parser p;

	if (!buf)
		abort();
	http_parser_reset(&p);
	while (fed < size || have) {
		struct http_request req;
		struct http_error e;
		size_t n = size - fed < piece ? size - fed : piece;
		long r;

		memcpy(buf + have, data + fed, n);
		have += n;
		fed += n;
		r = http_parse(&p, buf, have, &req, &e);
		if (r < 0) {
			if (e.status != 400 && e.status != 405)
				abort();
			break;
		}
		if (r == 0) {
			if (fed == size)
				break;	/* the stream ends mid-request */
			continue;
		}
		if ((size_t)r > have)
			abort();
		answer(a, &req);
		memmove(buf, buf + r, have - (size_t)r);
		have -= (size_t)r;
		http_parser_reset(&p);
	}
	free(buf);
}

static void lines(struct api *a, const char *s, size_t size)
{
	const char *end = s + size;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)), *sp, *body;
		struct http_request req = { .method = HTTP_GET };
		size_t plen;

		if (!nl)
			nl = end;
		if (nl - s >= 3 && s[1] == ' ') {
			req.method = s[0] == 'U' ? HTTP_PUT : s[0] == 'P' ? HTTP_PATCH : HTTP_GET;
			sp = memchr(s + 2, ' ', (size_t)(nl - s - 2));
			body = sp ? sp + 1 : nl;
			plen = (size_t)((sp ? sp : nl) - (s + 2));
			if (plen > 0 && plen <= HTTP_MAX_PATH && s[2] == '/' &&
			    !memchr(s + 2, 0, plen)) {
				memcpy(req.path_buf, s + 2, plen);
				req.path_buf[plen] = 0;
				req.path = req.path_buf;
				req.body = body < nl ? body : NULL;
				req.body_len = (size_t)(nl - body);
				req.keep_alive = true;
				answer(a, &req);
			}
		}
		s = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum api_state states[] = { API_NOT_STARTED, API_RUNNING, API_PAUSED };
	struct fake_vm f;
	struct api a;
	struct errbuf err;

	if (size < 3)
		return 0;
	fake_init(&f);
	f.state = states[data[1] % 3];
	api_init(&a, &f.be, NULL, "fuzz");
	switch (data[0] % 3) {
	case 0:
		stream(&a, data + 3, size - 3, data[2] ? data[2] : 4096);
		break;
	case 1:
		if (!api_config_parse(&f.cfg, (const char *)data + 3, size - 3, &err))
			lines(&a, "G /vm/config", 12);
		break;
	case 2:
		lines(&a, (const char *)data + 3, size - 3);
		break;
	}
	fake_free(&f);
	return 0;
}
