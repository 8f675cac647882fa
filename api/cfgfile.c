/* api/cfgfile.c - Firecracker's --config-file: one JSON object whose
 * sections are the bodies of the pre-boot API requests, decoded by the
 * same decoders into a struct vm_config. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/json.h"

#define CONFIG_FILE_MAX (1 << 20)

/* Sections ember does not have, refused by name when present (and not null). */
static const char *const absent[][2] = {
	{ "balloon", "ember has no balloon device" },
	{ "mmds-config", "ember has no microVM metadata service (MMDS)" },
	{ "cpu-config", "ember has no custom CPU templates" },
	{ "pmem", "ember has no virtio-pmem device" },
	{ "memory-hotplug", "ember has no memory hotplug" },
};

/* Prefixes err's message with "where: " (the section of the file). */
static int in(const char *where, int r, struct errbuf *err)
{
	char msg[sizeof(err->msg)];

	if (r && err) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		snprintf(err->msg, sizeof(err->msg), "%.48s: %.440s", where, msg);
	}
	return r;
}

static int array(struct vm_config *cfg, json_t *top, const char *name,
		 int (*fn)(struct vm_config *, json_t *, const char *, struct errbuf *),
		 struct errbuf *err)
{
	json_t *a = j_get(top, name), *v;
	char where[48];
	size_t i;

	json_array_foreach(a, i, v) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if (in(where, fn(cfg, v, NULL, err), err))
			return -EINVAL;
	}
	return 0;
}

static const struct jfield top_fields[] = {
	{ "boot-source", J_OBJ, true }, { "machine-config", J_OBJ, false },
	{ "drives", J_ARR, false }, { "network-interfaces", J_ARR, false },
	{ "vsock", J_OBJ, false }, { "entropy", J_OBJ, false }, { "logger", J_OBJ, false },
	{ "metrics", J_OBJ, false }, { "serial", J_OBJ, false },
	{ "balloon", J_OBJ, false }, { "mmds-config", J_OBJ, false },
	{ "cpu-config", J_OBJ, false }, { "pmem", J_ARR, false },
	{ "memory-hotplug", J_OBJ, false }, { NULL, 0, false },
};

static int parse(struct vm_config *cfg, json_t *top, struct errbuf *err)
{
	static const struct {
		const char *name;
		int (*fn)(struct vm_config *, json_t *, struct errbuf *);
	} objs[] = {
		{ "boot-source", api_boot_source }, { "vsock", api_vsock },
		{ "entropy", api_entropy }, { "logger", api_logger }, { "metrics", api_metrics },
		{ "serial", api_serial },
	};
	json_t *mc;
	int r = j_check(top, "config file", top_fields, err);

	if (r)
		return r;
	for (unsigned i = 0; i < ARRAY_SIZE(absent); i++)
		if (j_get(top, absent[i][0]))
			return err_set(err, EINVAL, "config file: %s: %s", absent[i][0], absent[i][1]);
	/* Firecracker's default memory; its default vCPU count is ember's */
	cfg->mem_size = MiB(128);
	for (unsigned i = 0; i < ARRAY_SIZE(objs); i++) {
		json_t *v = j_get(top, objs[i].name);

		/* the decoders name their section in their messages */
		if (v && (r = objs[i].fn(cfg, v, err)))
			return r;
	}
	mc = j_get(top, "machine-config");
	if (mc && (r = api_machine_config(cfg, mc, false, err)))
		return r;
	if ((r = array(cfg, top, "drives", api_drive, err)))
		return r;
	return array(cfg, top, "network-interfaces", api_net, err);
}

int api_config_parse(struct vm_config *cfg, const char *text, size_t len, struct errbuf *err)
{
	json_t *top = j_parse(text, len, "config file", err);
	int r;

	if (!top)
		return -EINVAL;
	r = parse(cfg, top, err);
	json_decref(top);
	return r;
}

int api_config_load(struct vm_config *cfg, const char *path, struct errbuf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	struct stat st;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return err_set(err, errno, "config file '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		r = err_set(err, EINVAL, "config file '%s': not a regular file of at most 1 MiB", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			r = err_set(err, n ? errno : EIO, "config file '%s': read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	r = api_config_parse(cfg, buf, got, err);
out:
	free(buf);
	close(fd);
	return r;
}
