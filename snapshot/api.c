/* snapshot/api.c - libember (include/ember/ember.h): the command line's
 * VM life, snapshot triggers and fuzz sessions, as functions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember/ember.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

struct ember_vm {
	struct vm_config cfg;		/* created VMs */
	struct snap_image *img;		/* restored VMs (their cfg) */
	struct vm *vm;
	struct snap_session *sess;
	char **argv;			/* the options, copied: cfg points into them */
	int argc;
	char **view;			/* args_view's array: cfg points into it too
					 * (cfg.cmd: the words after "--") */
};

int ember_api_version(void)
{
	return EMBER_API_VERSION;
}

static void put_err(char *err, size_t errlen, const struct errbuf *e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", e->msg);
}

/* argv = { cmd, [first,] options..., NULL }, every string copied. */
static int copy_args(struct ember_vm *v, const char *cmd, const char *first,
		     const char *const *options)
{
	int n = 0, i = 0;

	while (options && options[n])
		n++;
	v->argv = calloc((size_t)n + 3, sizeof(char *));
	if (!v->argv)
		return -ENOMEM;
	v->argv[i++] = strdup(cmd);
	if (first)
		v->argv[i++] = strdup(first);
	for (int k = 0; k < n; k++)
		v->argv[i++] = strdup(options[k]);
	v->argc = i;
	for (int k = 0; k < i; k++)
		if (!v->argv[k])
			return -ENOMEM;
	return 0;
}

/* A copy of v->argv's pointer array for the take-functions, which shift
 * entries out (the strings stay v's), kept as v->view until v is freed.
 * NULL when out of memory. */
static char **args_view(struct ember_vm *v, int *argc)
{
	v->view = malloc(((size_t)v->argc + 1) * sizeof(char *));
	if (v->view)
		memcpy(v->view, v->argv, ((size_t)v->argc + 1) * sizeof(char *));
	*argc = v->argc;
	return v->view;
}

static void free_args(struct ember_vm *v)
{
	if (v->argv) {
		for (int k = 0; k < v->argc; k++)
			free(v->argv[k]);
		free(v->argv);
	}
	free(v->view);
}

void ember_vm_destroy(struct ember_vm *v)
{
	if (!v)
		return;
	snap_session_end(v->sess);
	vm_destroy(v->vm);
	if (v->img) {
		snap_image_free(v->img);
		free(v->img);
	} else {
		config_free(&v->cfg);
	}
	free_args(v);
	free(v);
}

int ember_vm_create(const char *const *options, struct ember_vm **out,
		    char *err, size_t errlen)
{
	struct ember_vm *v = calloc(1, sizeof(*v));
	struct errbuf e = { "" };
	struct snap_opts so;
	struct launch l = { .boot = v ? &v->cfg : NULL, .snap = &so, .api = true };
	char **keep;
	int r, status, argc;

	*out = NULL;
	if (!v || copy_args(v, "run", NULL, options)) {
		ember_vm_destroy(v);
		return -ENOMEM;
	}
	keep = args_view(v, &argc);
	if (!keep) {
		ember_vm_destroy(v);
		return -ENOMEM;
	}
	r = launch_run_args(&argc, keep, &v->cfg, &so, &l.no_seccomp, &e);
	l.start_ns = now_ns();
	if (!r)
		r = vm_launch(&l, &v->vm, &v->sess, &e, &status);
	if (r) {
		put_err(err, errlen, &e);
		ember_vm_destroy(v);
		return r;
	}
	*out = v;
	return 0;
}

int ember_vm_restore(const char *dir, const char *const *options,
		     struct ember_vm **out, char *err, size_t errlen)
{
	struct ember_vm *v = calloc(1, sizeof(*v));
	struct errbuf e = { "" };
	struct snap_opts so;
	struct launch l = { .dir = dir, .snap = &so, .api = true };
	bool bt = false;
	char **keep;
	int r, status, argc;

	*out = NULL;
	if (!v || copy_args(v, "restore", dir, options) ||
	    !(v->img = calloc(1, sizeof(*v->img)))) {
		ember_vm_destroy(v);
		return -ENOMEM;
	}
	keep = args_view(v, &argc);
	if (!keep) {
		ember_vm_destroy(v);
		return -ENOMEM;
	}
	r = snap_restore_args(&argc, keep, v->img, &so, &l.no_seccomp, &bt, &e);
	l.restore = v->img;
	l.start_ns = now_ns();
	if (!r)
		r = vm_launch(&l, &v->vm, &v->sess, &e, &status);
	if (r) {
		put_err(err, errlen, &e);
		ember_vm_destroy(v);
		return r;
	}
	*out = v;
	return 0;
}

int ember_vm_run(struct ember_vm *v)
{
	int status;

	snap_session_running(v->sess, true);
	status = vm_run(v->vm);
	snap_session_running(v->sess, false);
	return status;
}

int ember_vm_snapshot(struct ember_vm *v, const char *dir, char *err, size_t errlen)
{
	struct errbuf e = { "" };
	int r = snap_session_request(v->sess, dir, &e);

	if (r)
		put_err(err, errlen, &e);
	return r;
}

void ember_vm_stop(struct ember_vm *v, int status)
{
	vm_request_stop(v->vm, status, NULL);
}

/* ---- fuzzing ---------------------------------------------------------- */
struct ember_fuzz {
	struct fuzz *f;
	char console_path[4096];
};

int ember_fuzz_open(const char *dir, const struct ember_fuzz_options *opts,
		    struct ember_fuzz **out, char *err, size_t errlen)
{
	struct ember_fuzz *ef = calloc(1, sizeof(*ef));
	struct fuzz_opts o = { .timeout_ms = 1000, .console = CONSOLE_NONE };
	struct errbuf e = { "" };
	int r;

	*out = NULL;
	if (!ef)
		return -ENOMEM;
	if (opts) {
		const char *c = opts->console;

		o.reset_fast = opts->reset_fast;
		o.timeout_ms = opts->timeout_ms;
		o.cov_gpa = opts->coverage_gpa;
		o.cov_len = opts->coverage_out ? opts->coverage_len : 0;
		o.cov_out = opts->coverage_out;
		o.drives = opts->drives;
		if (c && !strcmp(c, "stdio")) {
			o.console = CONSOLE_STDIO;
		} else if (c && !strncmp(c, "file:", 5) && c[5]) {
			snprintf(ef->console_path, sizeof(ef->console_path), "%s", c + 5);
			o.console = CONSOLE_FILE;
			o.console_path = ef->console_path;
		} else if (c && strcmp(c, "none")) {
			err_set(&e, EINVAL, "console '%s' is not stdio, none or file:PATH", c);
			put_err(err, errlen, &e);
			free(ef);
			return -EINVAL;
		}
	}
	r = fuzz_open(dir, &o, &ef->f, &e);
	if (r) {
		put_err(err, errlen, &e);
		free(ef);
		return r;
	}
	*out = ef;
	return 0;
}

int ember_fuzz_run(struct ember_fuzz *ef, const void *input, size_t len,
		   struct ember_fuzz_result *res)
{
	struct fuzz_result fr;
	struct errbuf e = { "" };
	int r = fuzz_run(ef->f, input, len, &fr, &e);

	memset(res, 0, sizeof(*res));
	res->outcome = fr.outcome == FUZZ_ERROR ? EMBER_FUZZ_CRASH : fr.outcome;
	res->code = fr.code;
	snprintf(res->reason, sizeof(res->reason), "%s", r ? e.msg : fr.reason);
	res->run_ns = fr.run_ns;
	res->reset_ns = fr.reset_ns;
	res->pages = fr.pages;
	return r;
}

void *ember_fuzz_guest_mem(struct ember_fuzz *ef, uint64_t gpa, size_t len)
{
	return fuzz_guest_ptr(ef->f, gpa, len);
}

void ember_fuzz_close(struct ember_fuzz *ef)
{
	if (!ef)
		return;
	fuzz_close(ef->f);
	free(ef);
}
