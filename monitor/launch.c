/* monitor/launch.c - the one launcher: every way in (`ember run`,
 * `ember restore`, the children of `ember fork`, the fuzzing reset loop,
 * libember, and `ember jail`, which runs one of the commands) builds its
 * VM here, from a configuration (a boot) or a snapshot image (a restore),
 * with the same sandbox settings and the same snapshot session. */
#include <errno.h>
#include <string.h>

#include "monitor/monitor.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

int launch_run_args(int *argc, char **argv, struct vm_config *cfg, struct snap_opts *so,
		    bool *no_seccomp, struct errbuf *err)
{
	/* snapshot flags first: they take no value */
	int r = snap_opts_take(argc, argv, so, err);

	memset(cfg, 0, sizeof(*cfg));	/* config_free-able whatever fails */
	*no_seccomp = sc_take_no_seccomp(argc, argv);
	return r ? r : config_parse_run(*argc, argv, cfg, err);
}

int vm_launch(const struct launch *l, struct vm **out, struct snap_session **sess,
	      struct errbuf *err, int *status)
{
	struct vm_config *cfg = l->boot ? l->boot : &l->restore->cfg;
	struct restore_times rt;
	int r;

	*out = NULL;
	*sess = NULL;
	*status = EXIT_BADINPUT;
	if (!l->boot == !l->restore)
		return err_set(err, EINVAL, "launch: a boot or a restore, not %s",
			       l->boot ? "both" : "neither");
	cfg->no_seccomp = l->no_seccomp;
	cfg->start_ns = l->start_ns;
	/* vm_create builds the filters: a snapshot session's VM may be saved
	 * (libember and the API name their files when they ask) */
	if ((l->snap && l->snap->dir) || l->api)
		cfg->sandbox_features |= SC_F_SNAPSHOT;
	if (l->snap && l->snap->dir && !l->api)
		cfg->write_dirs[cfg->nwrite_dirs++] = l->snap->dir;
	if (l->api)
		cfg->write_anywhere = true;	/* ember_vm_snapshot names its directory */
	if (l->boot) {
		const struct logger_cfg *lg = &cfg->logger;

		/* --log-path and co (the file opens before the sandbox); a
		 * configuration without them leaves the logger as it is */
		r = lg->path || lg->level != CONFIG_LOG_UNSET || lg->show_level ||
		    lg->show_origin || lg->module ? log_apply(lg, err) : 0;
		if (!r)
			r = linux_share_prepare(cfg, err);	/* --share DIR: mke2fs -d */
		if (!r)
			r = vm_create(cfg, out, err, status);
		linux_share_cleanup(cfg);	/* its drive holds the image open */
	} else {
		memset(&rt, 0, sizeof(rt));
		r = snap_restore_vm(l->restore, l->start_ns, out, l->rt ? l->rt : &rt, err,
				    status);
	}
	if (!r) {	/* none without a --snapshot-dir, unless for libember */
		struct snap_opts so = { 0 };

		if (l->snap)
			so = *l->snap;
		so.api = l->api;
		r = snap_session_start(*out, &so, l->dir, sess, err);
		if (r)
			*status = EXIT_BADINPUT;
	}
	if (r) {
		vm_destroy(*out);
		*out = NULL;
		return r;
	}
	*status = EXIT_OK;
	return 0;
}

int launch_run(struct vm *vm, struct snap_session *sess)
{
	int status = vm_run(vm);

	if (snap_session_end(sess) && status == EXIT_OK)
		status = EXIT_HOSTFAIL;	/* a snapshot failed (reported) */
	return status;
}
