/* tests/unit/api_fake.h - a fake struct api_backend for the API's tests
 * and its fuzz target: it owns a struct vm_config, follows the state
 * machine the router expects, and records what it was asked. */
#pragma once
#include "api/api.h"

struct fake_vm {
	struct vm_config cfg;
	enum api_state state;
	unsigned starts, pauses, resumes, creates, loads, cads, flushes;
	struct api_snapshot_create create;	/* the last one (strings copied) */
	char create_snap[256], create_mem[256];
	struct api_snapshot_load load;
	char load_snap[256], load_mem[256];
	unsigned drive_updates;	/* PATCH /drives after the start */
	char drive_path[256];	/* the last one's new file ("" if none) */
	bool drive_rl;		/* the last one changed the limiter */
	unsigned net_updates;	/* PATCH /network-interfaces after the start */
	struct api_net_patch net;	/* the last one (id NULL) */
	int fail;		/* when set: every action fails with -fail */
	struct api_backend be;
};

/* Sets up f (config with Firecracker's defaults: vm_config_init, 128
 * MiB) and its backend; fake_free frees the config. */
void fake_init(struct fake_vm *f);
void fake_free(struct fake_vm *f);
