/* snapshot/cli.c - `ember restore DIR`: read and check the snapshot, make
 * the VM from its configuration with guest RAM mapped copy-on-write from
 * the memory file, load the state and run.  Also the options restore,
 * fork and fuzz share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

/* Splits an id=NAME,KEY=VALUE option (a copy kept in cfg->owned) into
 * the name and the value of key.  0 or -EINVAL with a message. */
static int id_opt(struct vm_config *cfg, const char *opt, const char *key, const char *v,
		  char *id, size_t idcap, const char **val, struct errbuf *err)
{
	char *copy = strdup(v), *save = NULL;

	*id = 0;
	*val = NULL;
	if (!copy || cfg->nowned == ARRAY_SIZE(cfg->owned)) {
		free(copy);
		return err_set(err, ENOMEM, "%s: too many options", opt);
	}
	cfg->owned[cfg->nowned++] = copy;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			return err_set(err, EINVAL, "%s: '%s' is not key=value", opt, kv);
		*eq++ = 0;
		if (!strcmp(kv, "id"))
			snprintf(id, idcap, "%s", eq);
		else if (!strcmp(kv, key) && *eq)
			*val = eq;
		else
			return err_set(err, EINVAL, "%s: a restore takes only id= and %s=, not '%s'",
				       opt, key, kv);
	}
	if (!*id || !*val)
		return err_set(err, EINVAL, "%s: a restore needs id=NAME,%s=%s", opt, key,
			       !strcmp(key, "path") ? "IMG" : "TAP");
	return 0;
}

/* The name of drive i: its id, else vda, vdb, ... */
static const char *drive_name(const struct drive_cfg *d, unsigned i, char def[8])
{
	snprintf(def, 8, "vd%c", 'a' + i);
	return d->id ? d->id : def;
}

int snap_drive_opt(struct snap_image *img, const char *v, struct errbuf *err)
{
	struct vm_config *cfg = &img->cfg;
	const char *path;
	char id[64], def[8];
	int r = id_opt(cfg, "--drive", "path", v, id, sizeof(id), &path, err);

	for (unsigned i = 0; !r && i < cfg->ndrives; i++) {
		if (!strcmp(drive_name(&cfg->drives[i], i, def), id)) {
			cfg->drives[i].path = path;
			img->drive_given[i] = true;
			return 0;
		}
	}
	return r ? r : err_set(err, EINVAL, "--drive: the snapshot has no drive '%s'", id);
}

int snap_net_opt(struct snap_image *img, const char *v, struct errbuf *err)
{
	struct vm_config *cfg = &img->cfg;
	const char *tap;
	char id[64], def[16];
	int r = id_opt(cfg, "--net", "tap", v, id, sizeof(id), &tap, err);

	for (unsigned i = 0; !r && i < cfg->nnets; i++) {
		snprintf(def, sizeof(def), "net%u", i % 100);
		if (!strcmp(def, id)) {
			cfg->nets[i].tap = tap;
			img->net_given[i] = true;
			return 0;
		}
	}
	return r ? r : err_set(err, EINVAL, "--net: the snapshot has no network device '%s'", id);
}

int snap_vsock_opt(struct snap_image *img, const char *v, struct errbuf *err)
{
	struct vm_config *cfg = &img->cfg;
	char *copy;

	if (strncmp(v, "uds=", 4) || !v[4] || strchr(v, ','))
		return err_set(err, EINVAL, "--vsock: a restore takes only uds=PATH (the guest "
			       "CID is the snapshot's)");
	if (!cfg->vsock.uds)
		return err_set(err, EINVAL, "--vsock: the snapshot has no vsock device");
	copy = strdup(v + 4);
	if (!copy || cfg->nowned == ARRAY_SIZE(cfg->owned)) {
		free(copy);
		return err_set(err, ENOMEM, "--vsock: too many options");
	}
	cfg->owned[cfg->nowned++] = copy;
	cfg->vsock.uds = copy;
	img->vsock_given = true;
	return 0;
}

int snap_paths_check(const struct snap_image *img, const char *cmd, struct errbuf *err)
{
	const struct vm_config *cfg = &img->cfg;
	char def[8];

	for (unsigned i = 0; i < cfg->ndrives; i++) {
		const char *id = drive_name(&cfg->drives[i], i, def);

		if (!img->drive_given[i])
			return err_set(err, EINVAL, "%s: the snapshot's drive '%s' needs --drive "
				       "id=%s,path=IMG (it was made with '%s'; a snapshot is not trusted "
				       "to choose the files it opens)", cmd, id, id, cfg->drives[i].path);
	}
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if (!img->net_given[i])
			return err_set(err, EINVAL, "%s: the snapshot's network device 'net%u' needs "
				       "--net id=net%u,tap=TAP (it was made with TAP '%s'; a snapshot is "
				       "not trusted to choose the devices it opens)", cmd, i, i,
				       cfg->nets[i].tap);
	}
	if (cfg->vsock.uds && !img->vsock_given)
		return err_set(err, EINVAL, "%s: the snapshot's vsock device needs --vsock uds=PATH "
			       "(it was made with '%s'; a snapshot is not trusted to choose the "
			       "sockets it makes)", cmd, cfg->vsock.uds);
	return 0;
}

int snap_common_opt(struct snap_image *img, int argc, char **argv, int i,
		    bool *boot_time, struct errbuf *err)
{
	const char *a = argv[i], *v = NULL;
	size_t n = strcspn(a, "=");
	int used = 1, r;

	if (!strcmp(a, "--boot-time")) {
		*boot_time = true;
		return 1;
	}
	if (!((n == 9 && !strncmp(a, "--console", 9)) || (n == 7 && !strncmp(a, "--drive", 7)) ||
	      (n == 5 && !strncmp(a, "--net", 5)) || (n == 7 && !strncmp(a, "--vsock", 7))))
		return 0;
	if (a[n] == '=') {
		v = a + n + 1;
	} else if (i + 1 < argc) {
		v = argv[i + 1];
		used = 2;
	} else {
		return err_set(err, EINVAL, "%s needs a value", a);
	}
	if (n == 9)
		r = config_parse_console(v, &img->cfg, err);
	else if (n == 7)
		r = a[2] == 'd' ? snap_drive_opt(img, v, err) : snap_vsock_opt(img, v, err);
	else
		r = snap_net_opt(img, v, err);
	return r ? r : used;
}

int snap_restore_vm(struct snap_image *img, uint64_t start_ns, struct vm **out,
		    struct restore_times *rt, struct errbuf *err, int *status)
{
	uint64_t t = now_ns();
	int r;

	img->cfg.start_ns = start_ns;
	r = vm_create(&img->cfg, out, err, status);
	rt->t[RT_VM] = now_ns() - t;
	if (r)
		return r;
	r = snap_restore_into(*out, img, true, rt, err);
	if (r)
		*status = r == -EINVAL ? EXIT_BADINPUT : EXIT_HOSTFAIL;
	return r;
}

int snap_cmd_restore(int argc, char **argv, uint64_t start_ns)
{
	struct restore_times rt;
	struct errbuf err = { "" };
	struct snap_image *img = calloc(1, sizeof(*img));
	struct snap_opts so;
	struct launch l = { .restore = img, .snap = &so, .start_ns = start_ns, .rt = &rt };
	struct snap_session *sess;
	struct vm *vm = NULL;
	bool boot_time = false;
	int status = EXIT_BADINPUT, r;

	memset(&rt, 0, sizeof(rt));
	if (!img) {
		fprintf(stderr, "ember: out of memory\n");
		return EXIT_HOSTFAIL;
	}
	r = snap_restore_args(&argc, argv, img, &so, &l.no_seccomp, &boot_time, &err);
	rt.t[RT_READ] = now_ns() - start_ns;
	l.dir = argv[1];	/* DIR, once the options before it are out */
	if (!r)
		r = vm_launch(&l, &vm, &sess, &err, &status);
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		snap_image_free(img);
		free(img);
		return status == EXIT_OK ? EXIT_BADINPUT : status;
	}
	status = launch_run(vm, sess);
	if (boot_time)
		snap_print_restore_times(vm, &rt);
	vm_destroy(vm);
	snap_image_free(img);
	free(img);
	return status;
}
