/* api/router.c - one HTTP request to one answer: the path and method pick
 * the endpoint, Firecracker's state rules decide whether it may run now
 * (configuration before InstanceStart, pause/resume/snapshot after it),
 * the decoders check the body, and the backend does the work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/json.h"

void api_init(struct api *a, const struct api_backend *be, const char *id, const char *version)
{
	memset(a, 0, sizeof(*a));
	a->be = be;
	a->id = id ? id : "anonymous-instance";
	a->version = version ? version : "unknown";
}

static int respond_json(struct api_response *resp, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s)
		return -ENOMEM;
	resp->status = 200;
	resp->body = s;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1 to 4), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* no overlong forms, no surrogates, nothing past U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

int api_fault(struct api_response *resp, int status, const char *msg)
{
	/* messages quote what the client sent, perhaps cut in the middle of
	 * a character: JSON strings must be UTF-8, so bad bytes become '?' */
	char clean[sizeof(((struct errbuf *)0)->msg)];
	size_t o = 0;
	json_t *j;

	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 5 < sizeof(clean);) {
		size_t n = utf8_len(p);

		if (!n) {
			clean[o++] = '?';
			p++;
			continue;
		}
		memcpy(clean + o, p, n);
		o += n;
		p += n;
	}
	clean[o] = 0;
	j = json_pack("{s:s}", "fault_message", clean);

	resp->status = status;
	resp->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return resp->body ? 0 : -ENOMEM;
}

static const char *const state_name[] = {
	[API_NOT_STARTED] = "Not started", [API_RUNNING] = "Running", [API_PAUSED] = "Paused",
};

/* What a request needs of the VM's state. */
enum need { ANY, PRE_BOOT, POST_BOOT };

/* The endpoints that configure (and which of them are boot resources: a
 * snapshot may no longer be loaded after one of them). */
enum cfg_kind { K_BOOT, K_MACHINE, K_MACHINE_PATCH, K_DRIVE, K_NET, K_VSOCK, K_ENTROPY,
		K_SERIAL, K_LOGGER, K_METRICS };
struct apply {
	enum cfg_kind kind;
	json_t *j;
	const char *id;
};

static int apply_fn(struct vm_config *cfg, void *arg, struct errbuf *err)
{
	struct apply *ap = arg;

	switch (ap->kind) {
	case K_BOOT: return api_boot_source(cfg, ap->j, err);
	case K_MACHINE: return api_machine_config(cfg, ap->j, false, err);
	case K_MACHINE_PATCH: return api_machine_config(cfg, ap->j, true, err);
	case K_DRIVE: return api_drive(cfg, ap->j, ap->id, err);
	case K_NET: return api_net(cfg, ap->j, ap->id, err);
	case K_VSOCK: return api_vsock(cfg, ap->j, err);
	case K_ENTROPY: return api_entropy(cfg, ap->j, err);
	case K_SERIAL: return api_serial(cfg, ap->j, err);
	case K_LOGGER: return api_logger(cfg, ap->j, err);
	case K_METRICS: return api_metrics(cfg, ap->j, err);
	}
	return -EINVAL;
}

enum read_kind { R_MACHINE, R_VM, R_HAS_KERNEL, R_DRIVE_UPDATE, R_NET_UPDATE };
struct reader {
	enum read_kind kind;
	json_t *out, *j;
	const char *id;
	struct api_drive_patch patch;    /* R_DRIVE_UPDATE: what changes */
	struct api_net_patch net;	/* R_NET_UPDATE: what changes */
};

static int read_fn(struct vm_config *cfg, void *arg, struct errbuf *err)
{
	struct reader *rd = arg;

	switch (rd->kind) {
	case R_MACHINE:
		rd->out = api_describe_machine(cfg);
		return rd->out ? 0 : -ENOMEM;
	case R_VM:
		rd->out = api_describe_vm(cfg);
		return rd->out ? 0 : -ENOMEM;
	case R_HAS_KERNEL:
		return cfg->kernel || cfg->raw || cfg->kernel_default ? 0 :
			err_set(err, EINVAL, "actions: InstanceStart: no kernel (PUT /boot-source first)");
	case R_DRIVE_UPDATE:
		return api_drive_update(cfg, rd->j, rd->id, &rd->patch, err);
	case R_NET_UPDATE:
		return api_net_update(cfg, rd->j, rd->id, &rd->net, err);
	}
	return -EINVAL;
}

/* The request as the router sees it. */
struct call {
	struct api *a;
	const struct http_request *req;
	const char *seg[4];	/* path segments */
	unsigned nseg;
	char buf[HTTP_MAX_PATH + 1];
	json_t *j;		/* the body, parsed */
	enum api_state state;
	struct errbuf err;
};

static bool at(const struct call *c, const char *s0, const char *s1)
{
	return c->nseg == (s1 ? 2u : 1u) && !strcmp(c->seg[0], s0) &&
	       (!s1 || (c->seg[1] && !strcmp(c->seg[1], s1)));
}

static bool is_method(const struct call *c, enum http_method m)
{
	return c->req->method == m;
}

/* Refuses the request when the VM is in the wrong state for it. */
static bool state_ok(struct call *c, const char *what, enum need need)
{
	if (need == PRE_BOOT && c->state != API_NOT_STARTED)
		err_set(&c->err, EINVAL, "%s: not allowed after the VM has started (state %s)", what,
			state_name[c->state]);
	else if (need == POST_BOOT && c->state == API_NOT_STARTED)
		err_set(&c->err, EINVAL, "%s: not allowed before the VM has started (state %s)", what,
			state_name[c->state]);
	else
		return true;
	return false;
}

/* Parses the body: PUT and PATCH need one that is JSON, GET must have none. */
static bool body_ok(struct call *c, const char *what)
{
	const struct http_request *r = c->req;

	if (r->method == HTTP_GET) {
		if (r->body_len)
			err_set(&c->err, EINVAL, "%s: a GET request has no body", what);
		return !r->body_len;
	}
	if (!r->body_len) {
		err_set(&c->err, EINVAL, "%s: the request has no body", what);
		return false;
	}
	c->j = j_parse(r->body, r->body_len, what, &c->err);
	return c->j != NULL;
}

static int configure(struct call *c, const char *what, enum cfg_kind kind, const char *id,
		     enum need need, bool boot_resource)
{
	struct apply ap = { .kind = kind, .j = c->j, .id = id };
	int r;

	if (!state_ok(c, what, need))
		return -EINVAL;
	r = c->a->be->with_config(c->a->be->ctx, apply_fn, &ap, &c->err);
	if (!r && boot_resource)
		c->a->boot_configured = true;
	return r;
}

static int action(struct call *c)
{
	const struct api_backend *be = c->a->be;
	struct reader rd = { .kind = R_HAS_KERNEL };
	enum api_action act;
	int r = api_action_decode(c->j, &act, &c->err);

	if (r)
		return r;
	switch (act) {
	case API_INSTANCE_START:
		if (!state_ok(c, "actions: InstanceStart", PRE_BOOT))
			return -EINVAL;
		r = be->with_config(be->ctx, read_fn, &rd, &c->err);
		return r ? r : be->start(be->ctx, &c->err);
	case API_CTRL_ALT_DEL:
		if (!state_ok(c, "actions: SendCtrlAltDel", POST_BOOT))
			return -EINVAL;
		return be->ctrl_alt_del(be->ctx, &c->err);
	case API_FLUSH_METRICS:
		if (!state_ok(c, "actions: FlushMetrics", POST_BOOT))
			return -EINVAL;
		return be->flush_metrics(be->ctx, &c->err);
	}
	return -EINVAL;
}

static int snapshot(struct call *c, const char *op)
{
	const struct api_backend *be = c->a->be;
	int r;

	if (!strcmp(op, "create")) {
		struct api_snapshot_create sc;

		if ((r = api_snapshot_create_decode(c->j, &sc, &c->err)))
			return r;
		if (!state_ok(c, "snapshot-create", POST_BOOT))
			return -EINVAL;
		if (c->state != API_PAUSED)
			return err_set(&c->err, EINVAL, "snapshot-create: the VM must be paused first (state %s)",
				       state_name[c->state]);
		return be->snapshot_create(be->ctx, &sc, &c->err);
	}
	struct api_snapshot_load sl;

	if ((r = api_snapshot_load_decode(c->j, &sl, &c->err)))
		return r;
	if (!state_ok(c, "snapshot-load", PRE_BOOT))
		return -EINVAL;
	if (c->a->boot_configured)
		return err_set(&c->err, EINVAL,
			       "snapshot-load: not allowed after boot resources were configured (a VM is built from a snapshot or from a configuration, not both)");
	return be->snapshot_load(be->ctx, &sl, &c->err);
}

/* What ember does not have, by the path's first segment. */
static const char *const absent[][2] = {
	{ "balloon", "ember has no balloon device" },
	{ "mmds", "ember has no microVM metadata service (MMDS)" },
	{ "cpu-config", "ember has no custom CPU templates" },
	{ "pmem", "ember has no virtio-pmem device" },
	{ "hotplug", "ember has no memory hotplug" },
};

/* Runs the request; 1 when it answered with data (c->j replaced by the
 * answer), 0 for 204, -errno with c->err for 400. */
static int route(struct call *c)
{
	const struct api_backend *be = c->a->be;
	struct reader rd = { .j = NULL };
	const char *s0 = c->nseg ? c->seg[0] : "", *id = c->nseg > 1 ? c->seg[1] : NULL;
	int r;

	for (unsigned i = 0; i < ARRAY_SIZE(absent); i++)
		if (!strcmp(s0, absent[i][0]))
			return err_set(&c->err, EINVAL, "/%s: %s", s0, absent[i][1]);
	if (is_method(c, HTTP_GET)) {
		if (!body_ok(c, c->req->path))
			return -EINVAL;
		if (c->nseg == 0) {
			c->j = json_pack("{s:s, s:s, s:s, s:s}", "id", c->a->id, "state",
					 state_name[c->state], "vmm_version", c->a->version,
					 "app_name", "ember");
			return c->j ? 1 : -ENOMEM;
		}
		if (at(c, "version", NULL)) {
			c->j = json_pack("{s:s}", "firecracker_version", c->a->version);
			return c->j ? 1 : -ENOMEM;
		}
		if (at(c, "machine-config", NULL) || at(c, "vm", "config")) {
			rd.kind = at(c, "vm", "config") ? R_VM : R_MACHINE;
			r = be->with_config(be->ctx, read_fn, &rd, &c->err);
			c->j = rd.out;
			return r ? r : 1;
		}
		goto bad_path;
	}
	if (!(at(c, "boot-source", NULL) || at(c, "machine-config", NULL) || at(c, "vsock", NULL) ||
	      at(c, "entropy", NULL) || at(c, "serial", NULL) || at(c, "logger", NULL) ||
	      at(c, "metrics", NULL) || at(c, "actions", NULL) || at(c, "vm", NULL) ||
	      at(c, "snapshot", "create") || at(c, "snapshot", "load") ||
	      (c->nseg == 2 && (!strcmp(s0, "drives") || !strcmp(s0, "network-interfaces")))))
		goto bad_path;
	if (!body_ok(c, c->req->path))
		return -EINVAL;
	if (is_method(c, HTTP_PATCH)) {
		if (at(c, "machine-config", NULL))
			return configure(c, "machine-config", K_MACHINE_PATCH, NULL, PRE_BOOT, true);
		if (at(c, "vm", NULL)) {
			bool pause;

			if ((r = api_vm_state_decode(c->j, &pause, &c->err)))
				return r;
			if (!state_ok(c, "vm", POST_BOOT))
				return -EINVAL;
			return pause ? be->pause(be->ctx, &c->err) : be->resume(be->ctx, &c->err);
		}
		if (!strcmp(s0, "drives") || !strcmp(s0, "network-interfaces")) {
			bool drive = !strcmp(s0, "drives");

			if (!state_ok(c, drive ? "drive" : "network-interface", POST_BOOT))
				return -EINVAL;
			rd.kind = drive ? R_DRIVE_UPDATE : R_NET_UPDATE;
			rd.j = c->j;
			rd.id = id;
			r = be->with_config(be->ctx, read_fn, &rd, &c->err);
			if (!r && drive && (rd.patch.path || rd.patch.has_rl))
				r = be->drive_update(be->ctx, &rd.patch, &c->err);
			if (!r && !drive && (rd.net.has_rx || rd.net.has_tx))
				r = be->net_update(be->ctx, &rd.net, &c->err);
			return r;
		}
		goto bad_path;
	}
	/* PUT */
	if (at(c, "boot-source", NULL))
		return configure(c, "boot-source", K_BOOT, NULL, PRE_BOOT, true);
	if (at(c, "machine-config", NULL))
		return configure(c, "machine-config", K_MACHINE, NULL, PRE_BOOT, true);
	if (!strcmp(s0, "drives") || !strcmp(s0, "network-interfaces")) {
		bool drive = !strcmp(s0, "drives");

		if (c->state != API_NOT_STARTED)
			return err_set(&c->err, EINVAL, "%s '%.64s': ember cannot hot-plug devices (state %s)",
				       drive ? "drive" : "network-interface", id, state_name[c->state]);
		return configure(c, drive ? "drive" : "network-interface", drive ? K_DRIVE : K_NET,
				 id, PRE_BOOT, true);
	}
	if (at(c, "vsock", NULL))
		return configure(c, "vsock", K_VSOCK, NULL, PRE_BOOT, true);
	if (at(c, "entropy", NULL))
		return configure(c, "entropy", K_ENTROPY, NULL, PRE_BOOT, true);
	if (at(c, "serial", NULL))
		return configure(c, "serial", K_SERIAL, NULL, PRE_BOOT, false);
	if (at(c, "logger", NULL))
		return configure(c, "logger", K_LOGGER, NULL, PRE_BOOT, false);
	if (at(c, "metrics", NULL))
		return configure(c, "metrics", K_METRICS, NULL, PRE_BOOT, false);
	if (at(c, "actions", NULL))
		return action(c);
	if (c->nseg == 2 && !strcmp(s0, "snapshot"))
		return snapshot(c, c->seg[1]);
bad_path:
	json_decref(c->j);
	c->j = NULL;
	return err_set(&c->err, EINVAL, "invalid request method and/or path: %s %s",
		       is_method(c, HTTP_GET) ? "GET" : is_method(c, HTTP_PUT) ? "PUT" : "PATCH",
		       c->req->path);
}

/* Splits the path into at most 3 segments ("/drives/rootfs"); false when
 * it has more, or an empty one ("//", a trailing '/'). */
static bool split(struct call *c)
{
	char *save = NULL, *p = c->buf;
	size_t n = strlen(c->req->path);

	memcpy(c->buf, c->req->path, n + 1);
	if (n == 1)
		return true;
	if (c->buf[n - 1] == '/' || strstr(c->buf, "//"))
		return false;
	for (char *s = strtok_r(p + 1, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (c->nseg == 3)
			return false;
		c->seg[c->nseg++] = s;
	}
	return true;
}

int api_handle(struct api *a, const struct http_request *req, struct api_response *resp)
{
	struct call *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->a = a;
	c->req = req;
	c->state = a->be->state(a->be->ctx);
	resp->body = NULL;
	if (!split(c)) {
		err_set(&c->err, EINVAL, "invalid request path: %s", req->path);
		r = -EINVAL;
	} else {
		r = route(c);
	}
	if (r == 1) {
		r = respond_json(resp, c->j);
		c->j = NULL;
	} else if (r == 0) {
		resp->status = 204;
	} else {
		if (!c->err.msg[0])
			err_set(&c->err, -r, "%s: %s", req->path, strerror(-r));
		r = api_fault(resp, 400, c->err.msg);
	}
	json_decref(c->j);
	free(c);
	return r;
}
