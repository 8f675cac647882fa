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

/* --drive id=NAME,path=IMG: the drive NAME (default names vda, vdb, ..)
 * uses IMG instead of the image it was snapshotted with. */
static int drive_opt(struct vm_config *cfg, const char *v, struct errbuf *err)
{
	char id[64] = "", *path = NULL, *copy = strdup(v), *save = NULL;

	if (!copy || cfg->nowned == ARRAY_SIZE(cfg->owned)) {
		free(copy);
		return err_set(err, ENOMEM, "--drive: too many options");
	}
	cfg->owned[cfg->nowned++] = copy;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			return err_set(err, EINVAL, "--drive: '%s' is not key=value", kv);
		*eq++ = 0;
		if (!strcmp(kv, "id"))
			snprintf(id, sizeof(id), "%s", eq);
		else if (!strcmp(kv, "path") && *eq)
			path = eq;
		else
			return err_set(err, EINVAL, "--drive: restore takes only id= and path=, not '%s'", kv);
	}
	if (!id[0] || !path)
		return err_set(err, EINVAL, "--drive: restore needs id=NAME,path=IMG");
	for (unsigned i = 0; i < cfg->ndrives; i++) {
		char def[8];

		snprintf(def, sizeof(def), "vd%c", 'a' + i);
		if (!strcmp(cfg->drives[i].id ? cfg->drives[i].id : def, id)) {
			cfg->drives[i].path = path;
			return 0;
		}
	}
	return err_set(err, EINVAL, "--drive: the snapshot has no drive '%s'", id);
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
	if (!((n == 9 && !strncmp(a, "--console", 9)) || (n == 7 && !strncmp(a, "--drive", 7))))
		return 0;
	if (a[n] == '=') {
		v = a + n + 1;
	} else if (i + 1 < argc) {
		v = argv[i + 1];
		used = 2;
	} else {
		return err_set(err, EINVAL, "%s needs a value", a);
	}
	r = n == 9 ? config_parse_console(v, &img->cfg, err) : drive_opt(&img->cfg, v, err);
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
	struct snap_session *sess = NULL;
	struct snap_opts so;
	struct vm *vm = NULL;
	bool boot_time = false, no_seccomp;
	int status = EXIT_BADINPUT, r;

	memset(&rt, 0, sizeof(rt));
	if (!img) {
		fprintf(stderr, "ember: out of memory\n");
		return EXIT_HOSTFAIL;
	}
	r = snap_restore_args(&argc, argv, img, &so, &no_seccomp, &boot_time, &err);
	rt.t[RT_READ] = now_ns() - start_ns;
	img->cfg.no_seccomp = no_seccomp;
	if (so.dir)
		img->cfg.sandbox_features |= SC_F_SNAPSHOT;
	if (!r)
		r = snap_restore_vm(img, start_ns, &vm, &rt, &err, &status);
	if (!r)
		r = snap_session_start(vm, &so, argv[1], &sess, &err);
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		vm_destroy(vm);
		snap_image_free(img);
		free(img);
		return status == EXIT_OK ? EXIT_BADINPUT : status;
	}
	status = vm_run(vm);
	if (snap_session_end(sess) && status == EXIT_OK)
		status = EXIT_HOSTFAIL;
	if (boot_time)
		snap_print_restore_times(vm, &rt);
	vm_destroy(vm);
	snap_image_free(img);
	free(img);
	return status;
}
