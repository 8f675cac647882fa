/* api/decode_snap.c - the requests that act instead of configuring:
 * snapshot create/load, PATCH /vm, PUT /actions; and the JSON that
 * describes a configuration (GET /machine-config, GET /vm/config). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/json.h"

static const struct jfield create_fields[] = {
	{ "snapshot_path", J_STR, true }, { "mem_file_path", J_STR, true },
	{ "snapshot_type", J_STR, false }, { "version", J_STR, false },
	{ NULL, 0, false },
};

int api_snapshot_create_decode(json_t *j, struct api_snapshot_create *out, struct errbuf *err)
{
	const char *type;
	int r = j_check(j, "snapshot-create", create_fields, err);

	if (r)
		return r;
	type = j_str(j, "snapshot_type");
	if (type && strcmp(type, "Full") && strcmp(type, "Diff"))
		return err_set(err, EINVAL, "snapshot-create: snapshot_type '%.32s' is not Full or Diff",
			       type);
	*out = (struct api_snapshot_create){
		.snapshot_path = j_str(j, "snapshot_path"),
		.mem_file_path = j_str(j, "mem_file_path"),
		.diff = type && !strcmp(type, "Diff"),
	};
	if (!*out->snapshot_path || !*out->mem_file_path)
		return err_set(err, EINVAL, "snapshot-create: %s is empty",
			       *out->snapshot_path ? "mem_file_path" : "snapshot_path");
	return 0;
}

static const struct jfield load_fields[] = {
	{ "snapshot_path", J_STR, true }, { "mem_file_path", J_STR, false },
	{ "mem_backend", J_OBJ, false }, { "enable_diff_snapshots", J_BOOL, false },
	{ "track_dirty_pages", J_BOOL, false }, { "resume_vm", J_BOOL, false },
	{ "network_overrides", J_ARR, false }, { "vsock_override", J_OBJ, false },
	{ "clock_realtime", J_BOOL, false }, { "huge_pages", J_STR, false },
	{ NULL, 0, false },
};
static const struct jfield backend_fields[] = {
	{ "backend_path", J_STR, true }, { "backend_type", J_STR, true }, { NULL, 0, false },
};
static const struct jfield override_fields[] = {
	{ "iface_id", J_STR, true }, { "host_dev_name", J_STR, true }, { NULL, 0, false },
};
static const struct jfield vsock_override_fields[] = {
	{ "uds_path", J_STR, true }, { NULL, 0, false },
};

int api_snapshot_load_decode(json_t *j, struct api_snapshot_load *out, struct errbuf *err)
{
	const char *w = "snapshot-load", *huge;
	json_t *mb, *nets, *o;
	size_t i;
	int r = j_check(j, w, load_fields, err);

	if (r)
		return r;
	memset(out, 0, sizeof(*out));
	out->snapshot_path = j_str(j, "snapshot_path");
	mb = j_get(j, "mem_backend");
	if (mb && j_get(j, "mem_file_path"))
		return err_set(err, EINVAL, "%s: give mem_backend or mem_file_path, not both", w);
	if (!mb && !j_get(j, "mem_file_path"))
		return err_set(err, EINVAL, "%s: missing field 'mem_backend'", w);
	if (mb) {
		const char *type;

		if ((r = j_check(mb, "snapshot-load: mem_backend", backend_fields, err)))
			return r;
		type = j_str(mb, "backend_type");
		if (!strcmp(type, "Uffd"))
			return err_set(err, EINVAL, "%s: mem_backend: ember has no Uffd memory backend (use File)", w);
		if (strcmp(type, "File"))
			return err_set(err, EINVAL, "%s: mem_backend: backend_type '%.32s' is not File or Uffd",
				       w, type);
		out->mem_path = j_str(mb, "backend_path");
	} else {
		out->mem_path = j_str(j, "mem_file_path");
	}
	if (!*out->snapshot_path || !*out->mem_path)
		return err_set(err, EINVAL, "%s: %s is empty", w,
			       *out->snapshot_path ? "the memory file path" : "snapshot_path");
	if (j_bool(j, "clock_realtime", false))
		return err_set(err, EINVAL, "%s: clock_realtime: ember restores kvmclock as saved only", w);
	huge = j_str(j, "huge_pages");
	if (huge && strcmp(huge, "Snapshot") && strcmp(huge, "None"))
		return err_set(err, EINVAL, "%s: huge_pages '%.32s': ember backs guest memory with normal pages only",
			       w, huge);
	if ((o = j_get(j, "vsock_override"))) {
		if ((r = j_check(o, "snapshot-load: vsock_override", vsock_override_fields, err)))
			return r;
		out->vsock_uds = j_str(o, "uds_path");
		if (!*out->vsock_uds)
			return err_set(err, EINVAL, "%s: vsock_override: uds_path is empty", w);
	}
	out->track_dirty = j_bool(j, "track_dirty_pages", false) ||
			   j_bool(j, "enable_diff_snapshots", false);
	out->resume = j_bool(j, "resume_vm", false);
	nets = j_get(j, "network_overrides");
	if (nets && json_array_size(nets) > MAX_NETS)
		return err_set(err, EINVAL, "%s: network_overrides: more than %d", w, MAX_NETS);
	json_array_foreach(nets, i, o) {
		char where[64];

		snprintf(where, sizeof(where), "%s: network_overrides[%zu]", w, i);
		if ((r = j_check(o, where, override_fields, err)))
			return r;
		out->nets[i].iface_id = j_str(o, "iface_id");
		out->nets[i].host_dev_name = j_str(o, "host_dev_name");
		if (strlen(out->nets[i].host_dev_name) - 1 >= 15)
			return err_set(err, EINVAL, "%s: host_dev_name '%.32s' is not 1 to 15 characters",
				       where, out->nets[i].host_dev_name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(out->nets[k].iface_id, out->nets[i].iface_id))
				return err_set(err, EINVAL, "%s: iface_id '%.64s' is overridden twice",
					       where, out->nets[i].iface_id);
		out->nnets++;
	}
	return 0;
}

static const struct jfield vm_fields[] = { { "state", J_STR, true }, { NULL, 0, false } };

int api_vm_state_decode(json_t *j, bool *pause, struct errbuf *err)
{
	const char *s;
	int r = j_check(j, "vm", vm_fields, err);

	if (r)
		return r;
	s = j_str(j, "state");
	if (!strcmp(s, "Paused"))
		*pause = true;
	else if (!strcmp(s, "Resumed"))
		*pause = false;
	else
		return err_set(err, EINVAL, "vm: state '%.32s' is not Paused or Resumed", s);
	return 0;
}

static const struct jfield action_fields[] = { { "action_type", J_STR, true }, { NULL, 0, false } };

int api_action_decode(json_t *j, enum api_action *out, struct errbuf *err)
{
	const char *s;
	int r = j_check(j, "actions", action_fields, err);

	if (r)
		return r;
	s = j_str(j, "action_type");
	if (!strcmp(s, "InstanceStart"))
		*out = API_INSTANCE_START;
	else if (!strcmp(s, "SendCtrlAltDel"))
		*out = API_CTRL_ALT_DEL;
	else if (!strcmp(s, "FlushMetrics"))
		*out = API_FLUSH_METRICS;
	else
		return err_set(err, EINVAL,
			       "actions: action_type '%.32s' is not InstanceStart, SendCtrlAltDel or FlushMetrics",
			       s);
	return 0;
}

json_t *api_describe_machine(const struct vm_config *cfg)
{
	return json_pack("{s:i, s:I, s:b, s:b, s:s}", "vcpu_count", (int)cfg->cpus,
			 "mem_size_mib", (json_int_t)(cfg->mem_size >> 20), "smt", 0,
			 "track_dirty_pages", cfg->track_dirty, "huge_pages", "None");
}

/* o with member name, the limiter rl as a RateLimiter object, if rl limits
 * anything (o NULL on failure, or o) */
static json_t *with_limiter(json_t *o, const char *name, const struct ratelimit_cfg *rl)
{
	const struct tbucket_cfg *b[] = { &rl->bw, &rl->ops };
	static const char *const bn[] = { "bandwidth", "ops" };
	json_t *v;

	if (!o || (!rl->bw.size && !rl->ops.size))
		return o;
	v = json_object();
	for (unsigned i = 0; v && i < 2; i++)
		if (b[i]->size && json_object_set_new(v, bn[i], json_pack(
				"{s:I, s:I, s:I}", "size", (json_int_t)b[i]->size, "one_time_burst",
				(json_int_t)b[i]->one_time_burst, "refill_time",
				(json_int_t)b[i]->refill_ms))) {
			json_decref(v);
			v = NULL;
		}
	if (!v || json_object_set_new(o, name, v)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* json_pack's "s?" takes NULL as null. */
static json_t *describe_drive(const struct drive_cfg *d, unsigned i)
{
	char def[8];

	snprintf(def, sizeof(def), "vd%c", 'a' + i);
	return with_limiter(json_pack("{s:s, s:s, s:b, s:s?, s:b, s:s, s:s}", "drive_id",
				      d->id ? d->id : def, "path_on_host", d->path,
				      "is_root_device", d->root, "partuuid", d->partuuid,
				      "is_read_only", d->ro, "cache_type",
				      d->writeback ? "Writeback" : "Unsafe", "io_engine",
				      d->io_sync ? "Sync" : "Async"),
			    "rate_limiter", &d->rl);
}

static json_t *describe_net(const struct net_cfg *n, unsigned i)
{
	char def[16], mac[18];

	snprintf(def, sizeof(def), "eth%u", i);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	return with_limiter(with_limiter(json_pack("{s:s, s:s, s:s?}", "iface_id",
						   n->id ? n->id : def, "host_dev_name", n->tap,
						   "guest_mac", n->mac_set ? mac : NULL),
					 "rx_rate_limiter", &n->rx_rl),
			    "tx_rate_limiter", &n->tx_rl);
}

json_t *api_describe_vm(const struct vm_config *cfg)
{
	static const char *const level[] = { "Error", "Warning", "Info", "Debug" };
	json_t *o = json_object(), *drives = json_array(), *nets = json_array(), *v;
	bool ok = o && drives && nets;

	for (unsigned i = 0; ok && i < cfg->ndrives; i++)
		ok = !json_array_append_new(drives, describe_drive(&cfg->drives[i], i));
	for (unsigned i = 0; ok && i < cfg->nnets; i++)
		ok = !json_array_append_new(nets, describe_net(&cfg->nets[i], i));
	if (ok && cfg->kernel) {
		v = json_pack("{s:s, s:s, s:s?}", "kernel_image_path", cfg->kernel, "boot_args",
			      cfg->cmdline ? cfg->cmdline : "", "initrd_path", cfg->initrd);
		ok = !json_object_set_new(o, "boot-source", v);
	}
	ok = ok && !json_object_set_new(o, "machine-config", api_describe_machine(cfg));
	/* json_object_set_new takes the value, even when it fails */
	if (ok) {
		ok = !json_object_set_new(o, "drives", drives);
		drives = NULL;
	}
	if (ok) {
		ok = !json_object_set_new(o, "network-interfaces", nets);
		nets = NULL;
	}
	if (ok && cfg->rng)
		ok = !json_object_set_new(o, "entropy", json_object());
	if (ok && (cfg->logger.path || cfg->logger.level != CONFIG_LOG_UNSET)) {
		int lv = cfg->logger.level;

		v = json_pack("{s:s?, s:s?, s:b, s:b, s:s?}", "log_path", cfg->logger.path, "level",
			      lv == CONFIG_LOG_OFF ? "Off" : lv >= 0 && lv < 4 ? level[lv] : NULL,
			      "show_level", cfg->logger.show_level, "show_log_origin",
			      cfg->logger.show_origin, "module", cfg->logger.module);
		ok = !json_object_set_new(o, "logger", v);
	}
	if (ok && cfg->metrics_path)
		ok = !json_object_set_new(o, "metrics", json_pack("{s:s}", "metrics_path",
								   cfg->metrics_path));
	if (ok && cfg->console == CONSOLE_FILE)
		ok = !json_object_set_new(o, "serial", json_pack("{s:s}", "serial_out_path",
								  cfg->console_path));
	json_decref(drives);
	json_decref(nets);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}
