/* tests/unit/api_fake.c - the fake backend of tests/unit/api_fake.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/api_fake.h"

static enum api_state f_state(void *ctx)
{
	return ((struct fake_vm *)ctx)->state;
}

static int f_with_config(void *ctx, api_config_fn fn, void *arg, struct errbuf *err)
{
	return fn(&((struct fake_vm *)ctx)->cfg, arg, err);
}

static int failed(struct fake_vm *f, const char *what, struct errbuf *err)
{
	return f->fail ? err_set(err, f->fail, "%s failed: %s", what, strerror(f->fail)) : 0;
}

static int f_start(void *ctx, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "start", err);

	if (!r) {
		f->starts++;
		f->state = API_RUNNING;
	}
	return r;
}

static int f_pause(void *ctx, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "pause", err);

	if (!r) {
		f->pauses++;
		f->state = API_PAUSED;
	}
	return r;
}

static int f_resume(void *ctx, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "resume", err);

	if (!r) {
		f->resumes++;
		f->state = API_RUNNING;
	}
	return r;
}

static int f_create(void *ctx, const struct api_snapshot_create *req, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "snapshot create", err);

	if (!r) {
		f->creates++;
		f->create = *req;
		snprintf(f->create_snap, sizeof(f->create_snap), "%s", req->snapshot_path);
		snprintf(f->create_mem, sizeof(f->create_mem), "%s", req->mem_file_path);
	}
	return r;
}

static int f_load(void *ctx, const struct api_snapshot_load *req, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "snapshot load", err);

	if (!r) {
		f->loads++;
		f->load = *req;
		snprintf(f->load_snap, sizeof(f->load_snap), "%s", req->snapshot_path);
		snprintf(f->load_mem, sizeof(f->load_mem), "%s", req->mem_path);
		f->state = req->resume ? API_RUNNING : API_PAUSED;
	}
	return r;
}

static int f_drive(void *ctx, const struct api_drive_patch *p, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "drive update", err);

	if (!r) {
		f->drive_updates++;
		snprintf(f->drive_path, sizeof(f->drive_path), "%s", p->path ? p->path : "");
		f->drive_rl = p->has_rl;
	}
	return r;
}

static int f_net(void *ctx, const struct api_net_patch *p, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "network interface update", err);

	if (!r) {
		f->net_updates++;
		f->net = *p;
		f->net.id = NULL;	/* points into the request */
	}
	return r;
}

static int f_cad(void *ctx, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "ctrl-alt-del", err);

	if (!r)
		f->cads++;
	return r;
}

static int f_flush(void *ctx, struct errbuf *err)
{
	struct fake_vm *f = ctx;
	int r = failed(f, "flush metrics", err);

	if (!r)
		f->flushes++;
	return r;
}

void fake_init(struct fake_vm *f)
{
	memset(f, 0, sizeof(*f));
	vm_config_init(&f->cfg);
	f->cfg.mem_size = MiB(128);
	f->be = (struct api_backend){
		.ctx = f, .state = f_state, .with_config = f_with_config, .start = f_start,
		.pause = f_pause, .resume = f_resume, .snapshot_create = f_create,
		.snapshot_load = f_load, .ctrl_alt_del = f_cad, .flush_metrics = f_flush,
		.drive_update = f_drive, .net_update = f_net,
	};
}

void fake_free(struct fake_vm *f)
{
	config_free(&f->cfg);
}
