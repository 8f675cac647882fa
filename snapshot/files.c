/* snapshot/files.c - the files `ember restore DIR [options]` opens, found
 * before any VM exists, so that `ember jail ... -- restore DIR` can put
 * exactly these in the jail's root: the state file of every snapshot of
 * the chain, the full memory file and the diffs over it, the drives of the
 * saved configuration (after --drive), the console file and the
 * --snapshot-dir directory.  The arguments are read as snap_cmd_restore
 * reads them, with the same messages. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

int snap_restore_args(int *argc, char **argv, struct snap_image *img, struct snap_opts *so,
		      bool *no_seccomp, bool *boot_time, struct errbuf *err)
{
	int r = snap_opts_take(argc, argv, so, err);

	*boot_time = false;
	*no_seccomp = sc_take_no_seccomp(argc, argv);
	if (!r && (*argc < 2 || argv[1][0] == '-'))
		r = err_set(err, EINVAL, "restore: which snapshot? (ember restore DIR [options])");
	if (!r)
		r = snap_image_load(argv[1], img, err);
	for (int i = 2; i < *argc && !r; i++) {
		int used = snap_common_opt(img, *argc, argv, i, boot_time, err);

		if (used < 0)
			r = used;
		else if (used == 0)
			r = err_set(err, EINVAL, "restore: unknown option '%s' (see 'ember help')", argv[i]);
		else
			i += used - 1;
	}
	return r ? r : snap_paths_check(img, "restore", err);
}

/* Calls fn for a memory file (diff or full) and, before it, the state
 * file of the same snapshot directory. */
static int snapshot_files(const char *mem_path, snap_file_fn fn, void *ctx,
			  struct errbuf *err)
{
	const char *slash = strrchr(mem_path, '/');
	char state[4200];
	int r;

	/* the loader names every memory file DIR/FILE (FILE holds no '/') */
	if (!slash || snprintf(state, sizeof(state), "%.*s/%s", (int)(slash - mem_path), mem_path,
			       SNAP_STATE_NAME) >= (int)sizeof(state))
		return err_set(err, ENAMETOOLONG, "snapshot memory '%s': name too long", mem_path);
	r = fn(ctx, &(struct snap_need){ "snapshot", state, true, false, false }, err);
	if (!r)
		r = fn(ctx, &(struct snap_need){ "snapshot memory", mem_path, true, false, false },
		       err);
	return r;
}

int snap_restore_files(const struct snap_image *img, const struct snap_opts *so,
		       snap_file_fn fn, void *ctx, struct errbuf *err)
{
	const struct vm_config *cfg = &img->cfg;
	int r = snapshot_files(img->mem_path, fn, ctx, err);

	for (unsigned i = 0; !r && i < img->ndiffs; i++)
		r = snapshot_files(img->diffs[i].path, fn, ctx, err);
	for (unsigned i = 0; !r && i < cfg->ndrives; i++)
		r = fn(ctx, &(struct snap_need){ "drive", cfg->drives[i].path, cfg->drives[i].ro,
						 false, false }, err);
	if (!r && cfg->console == CONSOLE_FILE)
		r = fn(ctx, &(struct snap_need){ "console", cfg->console_path, false, true, false },
		       err);
	if (!r && so->dir)
		r = fn(ctx, &(struct snap_need){ "snapshot directory", so->dir, false, true, true },
		       err);
	return r;
}
