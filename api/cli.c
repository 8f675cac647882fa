/* api/cli.c - the command line of API mode, in Firecracker's spelling:
 *
 *   ember --api-sock PATH [--id ID] [--config-file FILE] [--no-api]
 *         [--log-path P] [--level L] [--show-level] [--show-log-origin]
 *         [--metrics-path P] [--boot-timer] [--no-seccomp]
 *
 * and the same as `firecracker ...` (a link named firecracker), where the
 * socket defaults to /run/firecracker.socket as Firecracker's does.  The
 * logger and metrics options go through the API's own decoders, so that
 * the command line, --config-file and PUT /logger agree on every check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/api.h"
#include "api/vmm.h"

#define FC_DEFAULT_SOCK "/run/firecracker.socket"

static const char *const value_opts[] = {
	"--api-sock", "--id", "--config-file", "--log-path", "--level", "--metrics-path",
	"--start-time-us", "--start-time-cpu-us", "--parent-cpu-time-us",
	"--http-api-max-payload-size",
};
static const char *const flag_opts[] = {
	"--no-api", "--show-level", "--show-log-origin", "--boot-timer", "--no-seccomp",
};
/* Firecracker's, which ember does not have: refused by name */
static const struct {
	const char *opt, *why;
} absent[] = {
	{ "--mmds-size-limit", "ember has no MMDS" },
	{ "--seccomp-filter", "ember's seccomp filters are its own (seccomp/rules.c), per thread" },
	{ "--describe-snapshot", "ember's snapshot files are described by `ember restore DIR --boot-time`" },
	{ "--module", "ember's log has no modules" },
	{ "--snapshot-version", "ember's snapshot format has its own version" },
	{ "--enable-pci", "ember's devices are virtio-mmio" },
};

static bool in(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

bool vmm_is_api_argv(int argc, char **argv)
{
	return argc > 1 && !strncmp(argv[1], "--", 2) &&
	       (in(argv[1], value_opts, ARRAY_SIZE(value_opts)) ||
		in(argv[1], flag_opts, ARRAY_SIZE(flag_opts)));
}

static void usage(bool fc)
{
	printf("usage: %s --api-sock PATH [--id ID] [--config-file FILE] [--no-api]\n"
	       "       [--log-path P] [--level Error|Warning|Info|Debug|Off] [--show-level]\n"
	       "       [--show-log-origin] [--metrics-path P] [--boot-timer] [--no-seccomp]\n"
	       "Serves Firecracker's HTTP API on the Unix socket PATH (see ember(1) and the\n"
	       "README's \"API\" section); with --config-file boots at once; with --no-api\n"
	       "(which needs --config-file) serves no socket.  Exits with the VM's status.\n",
	       fc ? "firecracker" : "ember");
}

/* --log-path/--level/--show-*: one PUT /logger body, as Firecracker does */
static int apply_logger(struct vm_config *cfg, const char *path, const char *level,
			bool show_level, bool show_origin, struct errbuf *err)
{
	json_t *j = json_object();
	int r;

	if (!j)
		return err_set(err, ENOMEM, "out of memory");
	if (path)
		json_object_set_new(j, "log_path", json_string(path));
	if (level)
		json_object_set_new(j, "level", json_string(level));
	if (show_level)
		json_object_set_new(j, "show_level", json_true());
	if (show_origin)
		json_object_set_new(j, "show_log_origin", json_true());
	r = api_logger(cfg, j, err);
	json_decref(j);
	return r;
}

static int apply_metrics(struct vm_config *cfg, const char *path, struct errbuf *err)
{
	json_t *j = json_pack("{s:s}", "metrics_path", path);
	int r;

	if (!j)
		return err_set(err, ENOMEM, "out of memory");
	r = api_metrics(cfg, j, err);
	json_decref(j);
	return r;
}

int vmm_args(int argc, char **argv, bool fc, struct vmm_opts *o, struct vm_config *cfg,
	     struct errbuf *err)
{
	const char *log_path = NULL, *level = NULL, *metrics = NULL, *config = NULL;
	bool show_level = false, show_origin = false, no_api = false;
	int r;

	const char *version = o->version;	/* the caller's */

	vm_config_init(cfg);
	cfg->mem_size = 128ull << 20;	/* Firecracker's default */
	memset(o, 0, sizeof(*o));
	o->version = version;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(fc);
			return 1;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("%s v%s (ember)\n", fc ? "Firecracker" : "ember", o->version ?
			       o->version : "?");
			return 1;
		}
		for (size_t k = 0; k < ARRAY_SIZE(absent); k++)
			if (!strcmp(a, absent[k].opt))
				return err_set(err, EINVAL, "%s: not supported: %s", a, absent[k].why);
		if (in(a, flag_opts, ARRAY_SIZE(flag_opts))) {
			no_api |= !strcmp(a, "--no-api");
			show_level |= !strcmp(a, "--show-level");
			show_origin |= !strcmp(a, "--show-log-origin");
			o->boot_time |= !strcmp(a, "--boot-timer");
			o->no_seccomp |= !strcmp(a, "--no-seccomp");
			continue;
		}
		if (!in(a, value_opts, ARRAY_SIZE(value_opts)))
			return err_set(err, EINVAL, "unknown option '%s' (see '%s --help')", a,
				       fc ? "firecracker" : "ember");
		if (!v || !v[0])
			return err_set(err, EINVAL, "%s needs a value", a);
		i++;
		if (!strcmp(a, "--api-sock"))
			o->sock_path = v;
		else if (!strcmp(a, "--id"))
			o->id = v;
		else if (!strcmp(a, "--config-file"))
			config = v;
		else if (!strcmp(a, "--log-path"))
			log_path = v;
		else if (!strcmp(a, "--level"))
			level = v;
		else if (!strcmp(a, "--metrics-path"))
			metrics = v;
		else if (!strcmp(a, "--http-api-max-payload-size") &&
			 strtoull(v, NULL, 0) != HTTP_MAX_REQUEST)
			return err_set(err, EINVAL, "--http-api-max-payload-size: ember takes requests of "
				       "%d bytes at most, as Firecracker's default", HTTP_MAX_REQUEST);
		/* --start-time-us and the CPU times: the jailer's; ember times
		 * its own start (--boot-timer) */
	}
	if (o->id && (strlen(o->id) > 64 || strspn(o->id, "abcdefghijklmnopqrstuvwxyz"
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != strlen(o->id)))
		return err_set(err, EINVAL, "--id: 1-64 characters of [A-Za-z0-9-]");
	if (!o->id)
		o->id = "anonymous-instance";	/* Firecracker's default */
	if (no_api && !config)
		return err_set(err, EINVAL, "--no-api needs --config-file (else nothing could start "
			       "the VM)");
	if (no_api && o->sock_path)
		return err_set(err, EINVAL, "--no-api and --api-sock: one or the other");
	if (!no_api && !o->sock_path)
		o->sock_path = fc ? FC_DEFAULT_SOCK : NULL;
	if (!no_api && !o->sock_path)
		return err_set(err, EINVAL, "--api-sock PATH: where to serve the API (or --no-api "
			       "with --config-file)");
	r = config ? api_config_load(cfg, config, err) : 0;
	if (!r && (log_path || level || show_level || show_origin))
		r = apply_logger(cfg, log_path, level, show_level, show_origin, err);
	if (!r && metrics)
		r = apply_metrics(cfg, metrics, err);
	if (!r && config && !cfg->kernel)
		r = err_set(err, EINVAL, "config file '%s': no boot-source: nothing to start", config);
	o->boot_now = config != NULL;
	return r;
}
