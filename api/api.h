/* api/api.h - ember's Firecracker-compatible API: the HTTP/1.1 layer, the
 * request decoders, the router with Firecracker's pre-boot/post-boot state
 * rules, the Unix-socket server on ember's event loop, and the
 * --config-file JSON.  This is the one internal header of api/.
 *
 * Layering: http (bytes <-> requests/responses) -> router (a request ->
 * decoders -> the setters of struct vm_config, or a backend call) ->
 * struct api_backend (whoever owns the VM: the launcher, or a test's
 * fake).  The server only moves bytes between sockets and the router.
 *
 * Wiring (`ember --api-sock PATH [--config-file FILE]`), in order:
 *   1. vm_config_init(&cfg), cfg.mem_size = MiB(128) (Firecracker's
 *      default; api_config_parse sets it itself), api_config_load(&cfg,
 *      FILE, &err) when a config file is given;
 *   2. a struct api_backend whose with_config runs fn on cfg (on the loop
 *      thread: the server calls the router there), start/snapshot_load
 *      build the VM through the launcher, the others post to it;
 *   3. api_init(&api, &be, id, EMBER_VERSION); api_server_create(loop,
 *      &api, PATH, &srv, &err) before the sandbox (socket, bind and
 *      listen are not allowed after it); with a config file, start at
 *      once as Firecracker does (be.start) and serve the API beside it;
 *   4. api_server_destroy(srv) on the loop thread at the end; it unlinks
 *      PATH, which the loop's seccomp filter must then allow.
 * The ring needs IORING_OP_ACCEPT and IORING_OP_SEND (seccomp/uring.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"

/* ---- HTTP/1.1 (api/http.c) --------------------------------------------- */
#define HTTP_MAX_REQUEST 51200	/* request line + headers + body: Firecracker's default */
#define HTTP_MAX_PATH 1024
#define HTTP_MAX_HEADERS 64

enum http_method { HTTP_GET, HTTP_PUT, HTTP_PATCH };

/* A complete request.  path and body point into the parser's input
 * buffer: valid until that buffer changes. */
struct http_request {
	enum http_method method;
	const char *path;	/* starts with '/', NUL-terminated copy */
	char path_buf[HTTP_MAX_PATH + 1];
	const char *body;	/* NULL when there is none */
	size_t body_len;
	bool has_body;		/* a Content-Length header was given, even 0 */
	bool keep_alive;	/* HTTP/1.1 without "Connection: close" */
};

/* What went wrong with a request the parser refuses: the status to answer
 * (400, 405) and a message for the fault_message.  After an error the
 * connection is closed: a byte stream cannot be resynchronised. */
struct http_error {
	int status;
	char msg[256];
};

/* Parser state over one connection's input buffer. */
struct http_parser {
	size_t scanned;		/* bytes already searched for the header end */
	size_t head_len;	/* request line + headers + blank line, 0 until seen */
	size_t content_length;
	bool continue_due;	/* "Expect: 100-continue" and the body not yet here */
	struct http_request head;	/* what the request line and headers said */
};

/* Looks at buf[0..len), the bytes received so far on a connection, for
 * one request.  Returns 0 when more bytes are needed, the request's total
 * length (> 0, to be consumed before the next one) with *req filled when
 * complete, or -1 with *e filled when the request is malformed, too big
 * (HTTP_MAX_REQUEST), uses chunked encoding, or has a method other than
 * GET, PUT or PATCH (405).  When 0 is returned with p->continue_due set,
 * the caller should send http_continue once and clear it.  Call
 * http_parser_reset after consuming a request. */
long http_parse(struct http_parser *p, const char *buf, size_t len, struct http_request *req,
		struct http_error *e);
void http_parser_reset(struct http_parser *p);
/* "HTTP/1.1 100 Continue\r\n\r\n" */
extern const char http_continue[];

/* A response: status, optional JSON body.  http_format renders it into a
 * malloc'd buffer (*out, *len): status line, Server, Content-Type and
 * Content-Length (when there is a body), Connection: close when !keep_alive.
 * 0 or -ENOMEM. */
int http_format(int status, const char *body, bool keep_alive, char **out, size_t *len);
/* The reason phrase of a status ("Bad Request"), "Unknown" if none. */
const char *http_reason(int status);

/* ---- the backend: whoever owns the VM (api/router.c calls it) ---------- */
enum api_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

struct api_snapshot_create {
	const char *snapshot_path;	/* the state file to write */
	const char *mem_file_path;	/* the memory file to write */
	bool diff;		/* snapshot_type Diff: memory dirtied since the last one */
};
struct api_net_override {
	const char *iface_id, *host_dev_name;
};
struct api_snapshot_load {
	const char *snapshot_path;	/* the state file */
	const char *mem_path;	/* mem_backend File backend_path (or mem_file_path) */
	bool track_dirty;	/* track_dirty_pages (or enable_diff_snapshots) */
	bool resume;		/* resume_vm: run after loading, else stay paused */
	struct api_net_override nets[MAX_NETS];	/* network_overrides */
	unsigned nnets;
	const char *vsock_uds;	/* vsock_override uds_path, NULL if none */
};

/* PATCH /drives/{id} after the start: a new file, new limits, or both. */
struct api_drive_patch {
	const char *id;
	const char *path;    /* path_on_host when it changes, else NULL */
	bool has_rl;        /* rate_limiter given and different */
	struct ratelimit_cfg rl;
};

/* PATCH /network-interfaces/{id} after the start: new limits for RX, TX
 * or both (Firecracker's merge: a bucket the body leaves out keeps its
 * limits, a bucket of size 0 has none). */
struct api_net_patch {
	const char *id;
	bool has_rx, has_tx;	/* the limiter changes */
	struct ratelimit_cfg rx, tx;	/* the whole new limiter */
};

/* A change or a read of the pre-boot configuration. */
typedef int (*api_config_fn)(struct vm_config *cfg, void *arg, struct errbuf *err);

/* Every function returns 0 or -errno with err filled; the router answers
 * an error with 400 and err's message as the fault_message (as
 * Firecracker does for every failed action).  All are called on the
 * thread that runs the router (the loop thread, with the server). */
struct api_backend {
	void *ctx;
	/* The VM's state now: it may change on its own (the guest stops). */
	enum api_state (*state)(void *ctx);
	/* Calls fn(cfg, arg, err) on the configuration the VM is (or was)
	 * built from and returns what fn returns.  The router passes a fn
	 * that changes cfg only in API_NOT_STARTED; later ones only read it. */
	int (*with_config)(void *ctx, api_config_fn fn, void *arg, struct errbuf *err);
	/* InstanceStart: builds and boots the VM from the configuration
	 * (state then API_RUNNING).  Called in API_NOT_STARTED only. */
	int (*start)(void *ctx, struct errbuf *err);
	/* PATCH /vm: parks every vCPU (API_PAUSED) / runs them again
	 * (API_RUNNING).  Called after the start only; pausing a paused VM
	 * or resuming a running one is the backend's to accept or refuse. */
	int (*pause)(void *ctx, struct errbuf *err);
	int (*resume)(void *ctx, struct errbuf *err);
	/* PUT /snapshot/create: writes a snapshot of the VM.  Called in
	 * API_PAUSED only (the router refuses it while running). */
	int (*snapshot_create)(void *ctx, const struct api_snapshot_create *req,
			       struct errbuf *err);
	/* PUT /snapshot/load: builds the VM from a snapshot (paused, or
	 * running with req->resume).  Called in API_NOT_STARTED and only when
	 * no boot resource was configured. */
	int (*snapshot_load)(void *ctx, const struct api_snapshot_load *req, struct errbuf *err);
	/* PATCH /drives/{id} after the start: swaps the drive's file (the
	 * guest is told of the new capacity) and/or its rate limiter.
	 * Called only when p asks for a change. */
	int (*drive_update)(void *ctx, const struct api_drive_patch *p, struct errbuf *err);
	/* PATCH /network-interfaces/{id} after the start: new rate limiters
	 * (full buckets).  Called only when p asks for a change. */
	int (*net_update)(void *ctx, const struct api_net_patch *p, struct errbuf *err);
	/* SendCtrlAltDel: asks the guest to reboot (ember: stop) through the
	 * i8042.  After the start only. */
	int (*ctrl_alt_del)(void *ctx, struct errbuf *err);
	/* FlushMetrics: writes the metrics to cfg->metrics_path.  After the
	 * start only. */
	int (*flush_metrics)(void *ctx, struct errbuf *err);
};

/* ---- the router (api/router.c) ----------------------------------------- */
struct api {
	const struct api_backend *be;
	const char *id;		/* GET / "id" (Firecracker: the jailer --id) */
	const char *version;	/* GET / "vmm_version", GET /version */
	bool boot_configured;	/* a boot resource was set: no snapshot load */
};
struct api_response {
	int status;		/* 200, 204, 400, ... */
	char *body;		/* malloc'd JSON or NULL */
};

/* Sets up a router over backend be.  id and version are kept by pointer. */
void api_init(struct api *a, const struct api_backend *be, const char *id,
	      const char *version);
/* Answers one request: decodes it, checks it against the state, calls
 * the backend.  resp->body is malloc'd (free it).  0, or -ENOMEM. */
int api_handle(struct api *a, const struct http_request *req, struct api_response *resp);
/* Fills resp with status and {"fault_message": msg}.  0 or -ENOMEM. */
int api_fault(struct api_response *resp, int status, const char *msg);

/* ---- decoders (api/decode.c, api/decode_snap.c) ------------------------ */
/* Each parses one endpoint's JSON body (text of len bytes) and, for
 * configuration, applies it to cfg through the setters.  Unknown fields,
 * wrong types and out-of-range values are refused with -EINVAL and a
 * message naming the field; what ember does not have (a rate limiter, a
 * vsock device, SMT, huge pages, a CPU template) is refused with a
 * message naming it.  The config is unchanged on failure. */
struct json_t;
int api_boot_source(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
/* patch: only the fields given change; else absent fields take defaults */
int api_machine_config(struct vm_config *cfg, struct json_t *j, bool patch,
		       struct errbuf *err);
/* path_id: the {id} of the URL, NULL from the config file */
int api_drive(struct vm_config *cfg, struct json_t *j, const char *path_id,
	      struct errbuf *err);
int api_net(struct vm_config *cfg, struct json_t *j, const char *path_id,
	    struct errbuf *err);
int api_entropy(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
int api_serial(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
int api_vsock(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
int api_logger(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
int api_metrics(struct vm_config *cfg, struct json_t *j, struct errbuf *err);
/* PATCH /drives/{id} after the start: checks the body against cfg (the
 * drive must exist) and says in *out what changes (nothing: out->path
 * NULL and !out->has_rl; strings point into j).  PATCH
 * /network-interfaces/{id}: the same for the interface's limiters.  A
 * limiter's bucket the body leaves out keeps cfg's limits.  0 or -EINVAL
 * with a message. */
int api_drive_update(const struct vm_config *cfg, struct json_t *j, const char *path_id,
		     struct api_drive_patch *out, struct errbuf *err);
int api_net_update(const struct vm_config *cfg, struct json_t *j, const char *path_id,
		   struct api_net_patch *out, struct errbuf *err);
/* The snapshot requests into *out (strings point into j). */
int api_snapshot_create_decode(struct json_t *j, struct api_snapshot_create *out,
			       struct errbuf *err);
int api_snapshot_load_decode(struct json_t *j, struct api_snapshot_load *out,
			     struct errbuf *err);
/* PATCH /vm: *pause true for "Paused", false for "Resumed". */
int api_vm_state_decode(struct json_t *j, bool *pause, struct errbuf *err);
/* PUT /actions: the action_type. */
enum api_action { API_INSTANCE_START, API_CTRL_ALT_DEL, API_FLUSH_METRICS };
int api_action_decode(struct json_t *j, enum api_action *out, struct errbuf *err);

/* ---- describing the configuration (api/describe.c) ---------------------- */
/* GET /machine-config and GET /vm/config bodies (Firecracker's names and
 * shapes): new JSON objects, NULL when out of memory. */
struct json_t *api_describe_machine(const struct vm_config *cfg);
struct json_t *api_describe_vm(const struct vm_config *cfg);

/* ---- Firecracker's --config-file (api/cfgfile.c) ------------------------ */
/* Parses a Firecracker JSON configuration (boot-source, machine-config,
 * drives, network-interfaces, vsock, entropy, logger, metrics, serial)
 * into cfg, which the caller has set up with vm_config_init (Firecracker's
 * defaults are then applied: 128 MiB).  text is len bytes.  0, or -EINVAL
 * with a message naming the section and the field ("drives[1]:
 * path_on_host: ..."); a section ember does not have ("balloon",
 * "mmds-config", ...) is refused by name. */
int api_config_parse(struct vm_config *cfg, const char *text, size_t len, struct errbuf *err);
/* The same, reading the file at path (at most 1 MiB). */
int api_config_load(struct vm_config *cfg, const char *path, struct errbuf *err);

/* ---- the server (api/server.c) ------------------------------------------ */
#define API_MAX_CONNS 16	/* connections served at once */

struct api_server;
/* Listens on a new Unix socket at path (refused if something exists
 * there) and serves the router a on loop l: each connection is read,
 * parsed and answered on the loop, keep-alive, at most API_MAX_CONNS at
 * once; a client that stalls or misbehaves holds only its own
 * connection, and when all are taken and another client comes, the one
 * that is idle after an answer, else the one that has waited longest
 * for its next request (1 s at least), is closed to make room.  The socket file is removed by api_server_destroy.  0 or
 * -errno with a message. */
int api_server_create(struct loop *l, struct api *a, const char *path,
		      struct api_server **out, struct errbuf *err);
/* How many connections are open (tests). */
unsigned api_server_conns(const struct api_server *s);
/* How long a connection must have waited for its next request before it
 * may be closed to make room (default 1 s; tests). */
void api_server_set_grace(struct api_server *s, uint64_t ns);
/* Closes every connection and the listening socket, removes the socket
 * file, frees.  Completions still in flight on the loop are cancelled and
 * waited for (loop_drain), so call it on the loop thread after loop_run
 * (or between turns). */
void api_server_destroy(struct api_server *s);
