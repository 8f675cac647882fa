/* api/decode.c - the configuration requests of Firecracker's API (and the
 * sections of its config file), decoded strictly and applied to a struct
 * vm_config through the setters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/json.h"

/* Firecracker's kernel command line when boot_args is absent. */
#define FC_DEFAULT_CMDLINE "reboot=k panic=1 nomodule 8250.nr_uarts=0 i8042.noaux " \
	"i8042.nomux i8042.dumbkbd swiotlb=noforce"

static const struct jfield boot_fields[] = {
	{ "kernel_image_path", J_STR, true }, { "boot_args", J_STR, false },
	{ "initrd_path", J_STR, false }, { NULL, 0, false },
};

int api_boot_source(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	const char *args = j_str(j, "boot_args");
	struct vm_config scratch;
	int r = j_check(j, "boot-source", boot_fields, err);

	if (r)
		return r;
	if (!args)
		args = FC_DEFAULT_CMDLINE;
	/* all three checked on a scratch config first: all or nothing */
	for (int pass = 0; pass < 2 && !r; pass++) {
		struct vm_config *c = pass ? cfg : &scratch;

		if (!pass)
			vm_config_init(&scratch);
		r = vm_config_set_cmdline(c, args, "boot-source: boot_args", err);
		if (!r)
			r = vm_config_set_initrd(c, j_str(j, "initrd_path"), "boot-source: initrd_path",
						 err);
		if (!r)
			r = vm_config_set_kernel(c, j_str(j, "kernel_image_path"),
						 "boot-source: kernel_image_path", err);
		if (!pass)
			config_free(&scratch);
	}
	if (!r)
		cfg->raw = NULL;
	return r;
}

static const struct jfield machine_fields[] = {
	{ "vcpu_count", J_UINT, true }, { "mem_size_mib", J_UINT, true },
	{ "smt", J_BOOL, false }, { "track_dirty_pages", J_BOOL, false },
	{ "cpu_template", J_STR, false }, { "huge_pages", J_STR, false },
	{ NULL, 0, false },
};
static const struct jfield machine_patch_fields[] = {
	{ "vcpu_count", J_UINT, false }, { "mem_size_mib", J_UINT, false },
	{ "smt", J_BOOL, false }, { "track_dirty_pages", J_BOOL, false },
	{ "cpu_template", J_STR, false }, { "huge_pages", J_STR, false },
	{ NULL, 0, false },
};

int api_machine_config(struct vm_config *cfg, json_t *j, bool patch, struct errbuf *err)
{
	const char *w = "machine-config", *tpl, *huge;
	unsigned long long cpus = cfg->cpus, mib = cfg->mem_size >> 20;
	struct vm_config scratch;
	int r = j_check(j, w, patch ? machine_patch_fields : machine_fields, err);

	if (r)
		return r;
	if (patch && !j_get(j, "vcpu_count") && !j_get(j, "mem_size_mib") && !j_get(j, "smt") &&
	    !j_get(j, "track_dirty_pages") && !j_get(j, "cpu_template") && !j_get(j, "huge_pages"))
		return err_set(err, EINVAL, "%s: an empty PATCH request (no field to change)", w);
	if (j_bool(j, "smt", false))
		return err_set(err, EINVAL, "%s: smt: ember does not offer SMT (simultaneous multithreading) to guests", w);
	tpl = j_str(j, "cpu_template");
	if (tpl && strcmp(tpl, "None"))
		return err_set(err, EINVAL, "%s: cpu_template '%.32s': ember has no CPU templates", w, tpl);
	huge = j_str(j, "huge_pages");
	if (huge && strcmp(huge, "None"))
		return err_set(err, EINVAL, "%s: huge_pages '%.32s': ember backs guest memory with normal pages only", w, huge);
	/* the numbers are checked by the setters, on a scratch config first */
	if (j_get(j, "vcpu_count"))
		cpus = (unsigned long long)json_integer_value(j_get(j, "vcpu_count"));
	if (j_get(j, "mem_size_mib"))
		mib = (unsigned long long)json_integer_value(j_get(j, "mem_size_mib"));
	vm_config_init(&scratch);
	r = vm_config_set_cpus(&scratch, cpus, "machine-config: vcpu_count", err);
	if (!r)
		r = vm_config_set_mem_mib(&scratch, mib, "machine-config: mem_size_mib", err);
	config_free(&scratch);
	if (r)
		return r;
	vm_config_set_cpus(cfg, cpus, w, err);
	vm_config_set_mem_mib(cfg, mib, w, err);
	if (!patch || j_get(j, "track_dirty_pages"))
		vm_config_set_track_dirty(cfg, j_bool(j, "track_dirty_pages", false));
	return 0;
}

/* "the {id} of the URL and the body's id must agree" (Firecracker). */
static int check_path_id(const char *w, const char *body_id, const char *path_id,
			 struct errbuf *err)
{
	if (path_id && strcmp(body_id, path_id))
		return err_set(err, EINVAL, "%s: the id in the body ('%.64s') is not the one in the path ('%.64s')",
			       w, body_id, path_id);
	return 0;
}

static const struct jfield drive_fields[] = {
	{ "drive_id", J_STR, true }, { "path_on_host", J_STR, false },
	{ "is_root_device", J_BOOL, true }, { "partuuid", J_STR, false },
	{ "is_read_only", J_BOOL, false }, { "cache_type", J_STR, false },
	{ "io_engine", J_STR, false }, { "rate_limiter", J_OBJ, false },
	{ "socket", J_STR, false }, { NULL, 0, false },
};

static int drive_decode(json_t *j, const char *w, const char *path_id, struct drive_cfg *d,
			struct errbuf *err)
{
	const char *cache, *engine;
	struct ratelimit_cfg rl;
	bool limits;
	int r = j_check(j, w, drive_fields, err);

	if (r || (r = check_path_id(w, j_str(j, "drive_id"), path_id, err)))
		return r;
	if (j_get(j, "socket"))
		return err_set(err, EINVAL, "%s: socket: ember has no vhost-user-block", w);
	if (!j_get(j, "path_on_host"))
		return err_set(err, EINVAL, "%s: missing field 'path_on_host'", w);
	if ((r = j_rate_limiter(j_get(j, "rate_limiter"), "drive: rate_limiter", &rl, &limits, err)))
		return r;
	cache = j_str(j, "cache_type");
	if (cache && strcmp(cache, "Unsafe") && strcmp(cache, "Writeback"))
		return err_set(err, EINVAL, "%s: cache_type '%.32s' is not Unsafe or Writeback", w, cache);
	engine = j_str(j, "io_engine");
	if (engine && strcmp(engine, "Sync") && strcmp(engine, "Async"))
		return err_set(err, EINVAL, "%s: io_engine '%.32s' is not Sync or Async", w, engine);
	*d = (struct drive_cfg){
		.id = j_str(j, "drive_id"),
		.path = j_str(j, "path_on_host"),
		.root = j_bool(j, "is_root_device", false),
		.partuuid = j_str(j, "partuuid"),
		.ro = j_bool(j, "is_read_only", false),
		.writeback = cache && !strcmp(cache, "Writeback"),
		.io_sync = !engine || !strcmp(engine, "Sync"),
		.rl = rl,
	};
	/* Firecracker ignores a partuuid on a drive that is not the root */
	if (!d->root)
		d->partuuid = NULL;
	return 0;
}

int api_drive(struct vm_config *cfg, json_t *j, const char *path_id, struct errbuf *err)
{
	struct drive_cfg d;
	int r = drive_decode(j, "drive", path_id, &d, err);

	return r ? r : vm_config_put_drive(cfg, &d, "drive", err);
}

static const struct jfield drive_patch_fields[] = {
	{ "drive_id", J_STR, true }, { "path_on_host", J_STR, false },
	{ "rate_limiter", J_OBJ, false }, { NULL, 0, false },
};

int api_drive_update(const struct vm_config *cfg, json_t *j, const char *path_id,
		     struct api_drive_patch *out, struct errbuf *err)
{
	const char *w = "drive", *id, *path;
	struct ratelimit_cfg rl;
	int r = j_check(j, w, drive_patch_fields, err), i;

	if (r || (r = check_path_id(w, j_str(j, "drive_id"), path_id, err)))
		return r;
	id = j_str(j, "drive_id");
	if ((i = vm_config_find_drive(cfg, id)) < 0)
		return err_set(err, EINVAL, "%s: there is no drive '%.64s'", w, id);
	if ((r = j_rate_limiter_patch(j_get(j, "rate_limiter"), "drive: rate_limiter",
				      &cfg->drives[i].rl, &rl, err)))
		return r;
	memset(out, 0, sizeof(*out));
	out->id = id;
	if (memcmp(&rl, &cfg->drives[i].rl, sizeof(rl))) {
		out->has_rl = true;
		out->rl = rl;
	}
	path = j_str(j, "path_on_host");
	if (path && !path[0])
		return err_set(err, EINVAL, "%s '%s': path_on_host is empty", w, id);
	if (path && strcmp(path, cfg->drives[i].path))
		out->path = path;
	return 0;
}

static const struct jfield net_fields[] = {
	{ "iface_id", J_STR, true }, { "host_dev_name", J_STR, true },
	{ "guest_mac", J_STR, false }, { "mtu", J_UINT, false },
	{ "rx_rate_limiter", J_OBJ, false }, { "tx_rate_limiter", J_OBJ, false },
	{ NULL, 0, false },
};

/* The rx and tx limiters of a network-interface body (absent: no limit). */
static int net_limiters(json_t *j, struct ratelimit_cfg *rx, struct ratelimit_cfg *tx,
			struct errbuf *err)
{
	bool limits;
	int r = j_rate_limiter(j_get(j, "rx_rate_limiter"), "network-interface: rx_rate_limiter",
			       rx, &limits, err);

	return r ? r : j_rate_limiter(j_get(j, "tx_rate_limiter"),
				      "network-interface: tx_rate_limiter", tx, &limits, err);
}

int api_net(struct vm_config *cfg, json_t *j, const char *path_id, struct errbuf *err)
{
	const char *w = "network-interface", *mac;
	struct net_cfg n = { 0 };
	int r = j_check(j, w, net_fields, err);

	if (r || (r = check_path_id(w, j_str(j, "iface_id"), path_id, err)) ||
	    (r = net_limiters(j, &n.rx_rl, &n.tx_rl, err)))
		return r;
	if (j_get(j, "mtu"))
		return err_set(err, EINVAL, "%s: mtu: ember does not offer VIRTIO_NET_F_MTU", w);
	n.id = j_str(j, "iface_id");
	n.tap = j_str(j, "host_dev_name");
	mac = j_str(j, "guest_mac");
	if (mac && (r = vm_config_parse_mac(mac, n.mac, "network-interface: guest_mac", err)))
		return r;
	n.mac_set = mac != NULL;
	return vm_config_put_net(cfg, &n, w, err);
}

static const struct jfield net_patch_fields[] = {
	{ "iface_id", J_STR, true }, { "rx_rate_limiter", J_OBJ, false },
	{ "tx_rate_limiter", J_OBJ, false }, { NULL, 0, false },
};

/* After the start: the limiters as they become (merged, as Firecracker
 * merges), and whether they change. */
int api_net_update(const struct vm_config *cfg, json_t *j, const char *path_id,
		   struct api_net_patch *out, struct errbuf *err)
{
	const char *w = "network-interface", *id;
	const struct net_cfg *n;
	int r = j_check(j, w, net_patch_fields, err), i;

	if (r || (r = check_path_id(w, j_str(j, "iface_id"), path_id, err)))
		return r;
	id = j_str(j, "iface_id");
	if ((i = vm_config_find_net(cfg, id)) < 0)
		return err_set(err, EINVAL, "%s: there is no network interface '%.64s'", w, id);
	n = &cfg->nets[i];
	memset(out, 0, sizeof(*out));
	out->id = id;
	if ((r = j_rate_limiter_patch(j_get(j, "rx_rate_limiter"),
				      "network-interface: rx_rate_limiter", &n->rx_rl, &out->rx, err)) ||
	    (r = j_rate_limiter_patch(j_get(j, "tx_rate_limiter"),
				      "network-interface: tx_rate_limiter", &n->tx_rl, &out->tx, err)))
		return r;
	out->has_rx = memcmp(&out->rx, &n->rx_rl, sizeof(out->rx)) != 0;
	out->has_tx = memcmp(&out->tx, &n->tx_rl, sizeof(out->tx)) != 0;
	return 0;
}

static const struct jfield entropy_fields[] = {
	{ "rate_limiter", J_OBJ, false }, { NULL, 0, false },
};

int api_entropy(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	struct ratelimit_cfg rl;
	bool limits;
	int r = j_check(j, "entropy", entropy_fields, err);

	if (!r)
		r = j_rate_limiter(j_get(j, "rate_limiter"), "entropy: rate_limiter", &rl, &limits,
				   err);
	if (!r)
		r = vm_config_set_rng_limit(cfg, &rl, "entropy", err);
	return r;
}

static const struct jfield serial_fields[] = {
	{ "serial_out_path", J_STR, false }, { "rate_limiter", J_OBJ, false },
	{ NULL, 0, false },
};

int api_serial(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	int r = j_check(j, "serial", serial_fields, err);

	if (r)
		return r;
	if (j_get(j, "rate_limiter"))
		return err_set(err, EINVAL, "serial: rate_limiter: ember has no rate limiting");
	if (!j_str(j, "serial_out_path"))
		return vm_config_set_console(cfg, CONSOLE_STDIO, NULL, "serial", err);
	return vm_config_set_console(cfg, CONSOLE_FILE, j_str(j, "serial_out_path"),
				     "serial: serial_out_path", err);
}

static const struct jfield vsock_fields[] = {
	{ "guest_cid", J_UINT, true }, { "uds_path", J_STR, true },
	{ "vsock_id", J_STR, false }, { NULL, 0, false },
};

int api_vsock(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	unsigned long long cid = 0;
	int r = j_check(j, "vsock", vsock_fields, err);

	if (!r)
		r = j_uint(j, "guest_cid", 3, UINT32_MAX - 1, &cid, "vsock", err);
	if (!r)
		r = vm_config_set_vsock(cfg, cid, j_str(j, "uds_path"), "vsock", err);
	return r;
}

static const struct jfield logger_fields[] = {
	{ "log_path", J_STR, false }, { "level", J_STR, false },
	{ "show_level", J_BOOL, false }, { "show_log_origin", J_BOOL, false },
	{ "module", J_STR, false }, { NULL, 0, false },
};

int api_logger(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "Error", LOG_ERROR }, { "Warning", LOG_WARN }, { "Warn", LOG_WARN },
		{ "Info", LOG_INFO }, { "Debug", LOG_DEBUG }, { "Trace", LOG_DEBUG },
		{ "Off", CONFIG_LOG_OFF },
	};
	struct logger_cfg l = { .level = CONFIG_LOG_UNSET };
	const char *level;
	int r = j_check(j, "logger", logger_fields, err);

	if (r)
		return r;
	level = j_str(j, "level");
	if (level) {
		unsigned i = 0;

		while (i < ARRAY_SIZE(levels) && strcasecmp(levels[i].name, level))
			i++;
		if (i == ARRAY_SIZE(levels))
			return err_set(err, EINVAL,
				       "logger: level '%.32s' is not Error, Warning, Info, Debug, Trace or Off",
				       level);
		l.level = levels[i].level;
	}
	l.path = j_str(j, "log_path");
	l.module = j_str(j, "module");
	l.show_level = j_bool(j, "show_level", false);
	l.show_origin = j_bool(j, "show_log_origin", false);
	return vm_config_set_logger(cfg, &l, "logger", err);
}

static const struct jfield metrics_fields[] = {
	{ "metrics_path", J_STR, true }, { "emit_id", J_BOOL, false },
	{ "properties", J_OBJ, false }, { NULL, 0, false },
};

int api_metrics(struct vm_config *cfg, json_t *j, struct errbuf *err)
{
	int r = j_check(j, "metrics", metrics_fields, err);

	if (r)
		return r;
	if (j_bool(j, "emit_id", false))
		return err_set(err, EINVAL, "metrics: emit_id: ember's metrics carry no instance id");
	if (j_get(j, "properties") && json_object_size(j_get(j, "properties")))
		return err_set(err, EINVAL, "metrics: properties: ember's metrics carry no properties");
	return vm_config_set_metrics(cfg, j_str(j, "metrics_path"), "metrics: metrics_path", err);
}
