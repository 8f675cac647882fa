/* snapshot/fuzzcli.c - `ember fuzz DIR --inputs IDIR`: runs every input
 * file (in name order; --runs N cycles through them) through the reset
 * loop of snapshot DIR and reports each run that did not end with
 * CTL_DONE, with the input that caused it.
 *
 * Sandboxed like `ember run`: the inputs are read, the --crashes
 * directory opened and the VM restored first; then the capabilities go
 * and the loop's thread installs the vCPU filter with SC_F_FUZZ, so a
 * finding is saved with openat() relative to that directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

#define INPUT_MAX MiB(16)
#define INPUTS_MAX 100000

struct input {
	char *name;
	uint8_t *data;
	size_t len;
};

static const char *const outcome_names[] = {
	[FUZZ_OK] = "ok", [FUZZ_CRASH] = "crash", [FUZZ_TIMEOUT] = "timeout",
	[FUZZ_EXIT] = "exit", [FUZZ_ERROR] = "error",
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

static int read_all(const char *path, uint8_t **data, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	if ((uint64_t)st.st_size > INPUT_MAX) {
		close(fd);
		return -EFBIG;
	}
	*data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
}

static int load_inputs(const char *dir, struct input **out, unsigned *n, struct errbuf *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct input *in = NULL;
	unsigned cnt = 0, cap = 0;

	if (!d)
		return err_set(err, errno, "fuzz: --inputs '%s': %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		char path[4200];
		struct input *x;
		int r;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (cnt == INPUTS_MAX)
			break;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			x = realloc(in, cap * sizeof(*in));
			if (!x)
				break;
			in = x;
		}
		in[cnt].name = strdup(e->d_name);
		r = read_all(path, &in[cnt].data, &in[cnt].len);
		if (r == -EFBIG || r == -EISDIR) {
			free(in[cnt].name);
			continue;	/* directories, huge files: not inputs */
		}
		if (r || !in[cnt].name) {
			closedir(d);
			*out = in;
			*n = cnt;
			return err_set(err, r ? -r : ENOMEM, "fuzz: input '%s': %s", path,
				       strerror(r ? -r : ENOMEM));
		}
		cnt++;
	}
	closedir(d);
	*out = in;
	*n = cnt;
	if (!cnt)
		return err_set(err, EINVAL, "fuzz: --inputs '%s' holds no input files", dir);
	qsort(in, cnt, sizeof(*in), by_name);
	return 0;
}

/* dfd: the --crashes directory, opened before the sandbox (the filter
 * allows this one form of openat) */
static void save_finding(int dfd, const char *dir, const char *kind, const struct input *in)
{
	char name[300], path[4600];
	int fd;

	snprintf(name, sizeof(name), "%s-%s", kind, in->name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, in->data, in->len) != (ssize_t)in->len)
		log_warn("fuzz: could not save '%s': %m", path);
	if (fd >= 0)
		close(fd);
}

struct fuzz_args {
	const char *dir, *inputs, *crashes;
	uint64_t runs;
	bool stats;
	struct fuzz_opts o;
	const char *drives[MAX_DRIVES + 1];	/* --drive id=NAME,path=IMG */
	unsigned ndrives;
};

static int parse(int argc, char **argv, struct fuzz_args *a, struct errbuf *err)
{
	memset(a, 0, sizeof(*a));
	a->o.timeout_ms = 1000;
	a->o.console = CONSOLE_NONE;
	if (argc < 2 || argv[1][0] == '-')
		return err_set(err, EINVAL, "fuzz: which snapshot? (ember fuzz DIR --inputs DIR)");
	a->dir = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (!strcmp(o, "--stats")) {
			a->stats = true;
			continue;
		}
		if (!v)
			return err_set(err, EINVAL, "fuzz: unknown option '%s' or missing value", o);
		i++;
		if (!strcmp(o, "--inputs"))
			a->inputs = v;
		else if (!strcmp(o, "--crashes"))
			a->crashes = v;
		else if (!strcmp(o, "--runs")) {
			a->runs = strtoull(v, &end, 10);
			if (*end || !a->runs)
				return err_set(err, EINVAL, "fuzz: --runs '%s' is not a positive number", v);
		} else if (!strcmp(o, "--timeout")) {
			a->o.timeout_ms = strtoull(v, &end, 10);
			if (*end)
				return err_set(err, EINVAL, "fuzz: --timeout '%s' is not milliseconds", v);
		} else if (!strcmp(o, "--reset")) {
			if (!strcmp(v, "fast"))
				a->o.reset_fast = true;
			else if (strcmp(v, "full"))
				return err_set(err, EINVAL, "fuzz: --reset '%s' is not full or fast", v);
		} else if (!strcmp(o, "--drive")) {
			if (a->ndrives == MAX_DRIVES)
				return err_set(err, EINVAL, "fuzz: more than %d --drive", MAX_DRIVES);
			a->drives[a->ndrives++] = v;
		} else if (!strcmp(o, "--console")) {
			if (!strcmp(v, "stdio"))
				a->o.console = CONSOLE_STDIO;
			else if (!strncmp(v, "file:", 5) && v[5]) {
				a->o.console = CONSOLE_FILE;
				a->o.console_path = v + 5;
			} else if (strcmp(v, "none"))
				return err_set(err, EINVAL, "--console: '%s' is not stdio, none or file:PATH", v);
		} else
			return err_set(err, EINVAL, "fuzz: unknown option '%s'", o);
	}
	if (!a->inputs)
		return err_set(err, EINVAL, "fuzz: --inputs DIR is needed");
	a->o.drives = a->drives;
	return 0;
}

static void print_stats(const struct fuzz_stats *s, double secs)
{
	double r = s->resets ? (double)s->resets : 1.0;

	printf("fuzz: run mean %.2f us; reset mean %.2f us: memory %.2f (%.1f pages), devices %.2f, "
	       "VM %.2f, vCPU %.2f; %.0f runs/s\n",
	       (double)s->t_run / 1e3 / (s->runs ? (double)s->runs : 1.0),
	       (double)(s->t_memory + s->t_devices + s->t_vm + s->t_cpu) / 1e3 / r,
	       (double)s->t_memory / 1e3 / r, (double)s->pages / r, (double)s->t_devices / 1e3 / r,
	       (double)s->t_vm / 1e3 / r, (double)s->t_cpu / 1e3 / r,
	       secs > 0 ? (double)s->runs / secs : 0.0);
}

int snap_cmd_fuzz(int argc, char **argv, uint64_t start_ns)
{
	struct fuzz_args a;
	struct errbuf err = { "" };
	struct input *in = NULL;
	struct fuzz *f = NULL;
	uint64_t count[FUZZ_ERROR + 1] = { 0 }, t0;
	unsigned n = 0;
	int r, status = EXIT_BADINPUT, crash_fd = -1;
	bool no_seccomp = sc_take_no_seccomp(&argc, argv);
	/* stdout's buffer exists before the filter (glibc would fstat) */
	static char outbuf[BUFSIZ];

	(void)start_ns;
	setvbuf(stdout, outbuf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(outbuf));
	r = parse(argc, argv, &a, &err);
	if (!r)
		r = load_inputs(a.inputs, &in, &n, &err);
	if (!r && a.crashes && mkdir(a.crashes, 0755) < 0 && errno != EEXIST)
		r = err_set(&err, errno, "fuzz: --crashes '%s': %s", a.crashes, strerror(errno));
	if (!r && a.crashes &&
	    (crash_fd = open(a.crashes, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = err_set(&err, errno, "fuzz: --crashes '%s': %s", a.crashes, strerror(errno));
	if (!r) {
		r = fuzz_open(a.dir, &a.o, &f, &err);
		if (r && r != -EINVAL)
			status = EXIT_HOSTFAIL;
	}
	if (!r) {
		r = fuzz_sandbox(f, !no_seccomp, a.crashes, &err);
		if (r)
			status = EXIT_HOSTFAIL;
	}
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		goto out;
	}
	if (!a.runs)
		a.runs = n;
	t0 = now_ns();
	status = 0;
	for (uint64_t i = 0; i < a.runs; i++) {
		struct input *x = &in[i % n];
		struct fuzz_result res;

		r = fuzz_run(f, x->data, x->len, &res, &err);
		if (res.outcome >= 0 && res.outcome <= FUZZ_ERROR)
			count[res.outcome]++;
		if (res.outcome != FUZZ_OK && res.outcome != FUZZ_ERROR) {
			printf("fuzz: run %llu: input '%s/%s': %s: %s\n", (unsigned long long)i + 1,
			       a.inputs, x->name, outcome_names[res.outcome], res.reason);
			if (a.crashes)
				save_finding(crash_fd, a.crashes, outcome_names[res.outcome], x);
			status = 1;
		}
		if (r) {
			fprintf(stderr, "ember: %s\n", err.msg);
			status = EXIT_HOSTFAIL;
			break;
		}
	}
	printf("fuzz: %llu runs: %llu ok, %llu crashes, %llu timeouts, %llu exits\n",
	       (unsigned long long)(count[0] + count[1] + count[2] + count[3] + count[4]),
	       (unsigned long long)count[FUZZ_OK], (unsigned long long)count[FUZZ_CRASH],
	       (unsigned long long)count[FUZZ_TIMEOUT], (unsigned long long)count[FUZZ_EXIT]);
	if (a.stats)
		print_stats(fuzz_get_stats(f), (double)(now_ns() - t0) / 1e9);
out:
	fuzz_close(f);
	if (crash_fd >= 0)
		close(crash_fd);
	for (unsigned i = 0; i < n; i++) {
		free(in[i].name);
		free(in[i].data);
	}
	free(in);
	return status;
}
