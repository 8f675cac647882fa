/* tests/fuzz/api_check.c - exercises libember's API the way an embedder
 * would (run by tests/integration/t_snapshot.sh):
 *   api_check COUNT_GUEST FUZZ_SNAPSHOT WORKDIR
 * 1. ember_vm_create a counting guest, run it on a thread, take a snapshot
 *    while it runs (ember_vm_snapshot from this thread), let it finish
 *    (it does not run again);
 *    ember_vm_restore the snapshot and run it: its console must be the
 *    tail of the first run's.
 * 2. ember_fuzz_open the fuzz target: 1000 runs that write pages each
 *    see pristine memory; a crash report, an exit and a timeout come
 *    back as such; a run after them is clean again.
 * Prints what failed and exits 1, or exits 0.
 *   api_check run OPTIONS...
 * is `ember run OPTIONS...` through libember: ember_vm_create with the
 * options, ember_vm_run on this thread; exits with the VM's status (125
 * and the message when the VM cannot be made). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember/ember.h"

static int fails;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "api_check: " __VA_ARGS__); \
		fputc('\n', stderr); \
		fails++; \
	} \
} while (0)

struct runner {
	struct ember_vm *vm;
	int status;
};

static void *run_vm(void *arg)
{
	struct runner *r = arg;

	r->status = ember_vm_run(r->vm);
	return NULL;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	return buf;
}

static void vm_api(const char *kernel, const char *work)
{
	char c1[4096], c2[4096], snap[4096], err[512];
	const char *opts1[] = { "--kernel", kernel, "--cmdline", "n=60 spin=1000", "--console", c1,
				"--no-seccomp", NULL };
	const char *opts2[] = { "--console", c2, "--no-seccomp", NULL };
	struct runner r = { 0 };
	pthread_t t;
	size_t n1 = 0, n2 = 0;
	char *o1, *o2;

	snprintf(c1, sizeof(c1), "file:%s/first.log", work);
	snprintf(c2, sizeof(c2), "file:%s/restored.log", work);
	snprintf(snap, sizeof(snap), "%s/snap", work);
	CHECK(ember_api_version() == EMBER_API_VERSION, "API version");
	if (ember_vm_create(opts1, &r.vm, err, sizeof(err))) {
		CHECK(0, "ember_vm_create: %s", err);
		return;
	}
	pthread_create(&t, NULL, run_vm, &r);
	/* wherever the guest is: the restore must go on from there */
	CHECK(ember_vm_snapshot(r.vm, snap, err, sizeof(err)) == 0, "ember_vm_snapshot: %s", err);
	pthread_join(t, NULL);
	CHECK(r.status == 0, "first run: status %d", r.status);
	CHECK(ember_vm_run(r.vm) == 70, "a stopped VM ran again");
	ember_vm_destroy(r.vm);

	r.vm = NULL;
	if (ember_vm_restore(snap, opts2, &r.vm, err, sizeof(err))) {
		CHECK(0, "ember_vm_restore: %s", err);
		return;
	}
	r.status = ember_vm_run(r.vm);
	CHECK(r.status == 0, "restored run: status %d", r.status);
	ember_vm_destroy(r.vm);

	o1 = slurp(c1 + 5, &n1);
	o2 = slurp(c2 + 5, &n2);
	CHECK(o1 && o2 && n1 >= n2 && n2 >= 5 && !memcmp(o1 + n1 - n2, o2, n2) &&
	      !strcmp(o2 + n2 - 5, "done\n"),
	      "the restored console is not the tail of the first (%zu, %zu bytes)", n1, n2);
	free(o1);
	free(o2);
}

static void fuzz_api(const char *dir)
{
	struct ember_fuzz_options o = { .timeout_ms = 300 };
	struct ember_fuzz_result res;
	struct ember_fuzz *f;
	char err[512];

	if (ember_fuzz_open(dir, &o, &f, err, sizeof(err))) {
		CHECK(0, "ember_fuzz_open: %s", err);
		return;
	}
	for (int i = 0; i < 1000; i++) {
		CHECK(ember_fuzz_run(f, "D\x10\x00", 3, &res) == 0, "run %d: host failure", i);
		if (res.outcome != EMBER_FUZZ_OK) {
			CHECK(0, "run %d: %s", i, res.reason);
			break;
		}
	}
	CHECK(res.pages >= 16, "a reset put back %llu pages, the run wrote 16",
	      (unsigned long long)res.pages);
	ember_fuzz_run(f, "C\x05", 2, &res);
	CHECK(res.outcome == EMBER_FUZZ_CRASH && res.code == 5, "crash: %d %u", res.outcome, res.code);
	ember_fuzz_run(f, "E\x03", 2, &res);
	CHECK(res.outcome == EMBER_FUZZ_EXIT && res.code == 3, "exit: %d %u", res.outcome, res.code);
	ember_fuzz_run(f, "L", 1, &res);
	CHECK(res.outcome == EMBER_FUZZ_TIMEOUT, "timeout: %d", res.outcome);
	ember_fuzz_run(f, "D\x01\x00", 3, &res);
	CHECK(res.outcome == EMBER_FUZZ_OK, "after the others: %s", res.reason);
	CHECK(ember_fuzz_guest_mem(f, 0x100000, 16) != NULL, "guest memory at 1 MiB");
	CHECK(ember_fuzz_guest_mem(f, 0xfffffffff000ull, 16) == NULL, "no guest memory there");
	ember_fuzz_close(f);
}

/* `ember run` through libember. */
static int run(char **options)
{
	struct ember_vm *vm;
	char err[512];
	int status;

	if (ember_vm_create((const char *const *)options, &vm, err, sizeof(err))) {
		fprintf(stderr, "api_check: ember_vm_create: %s\n", err);
		return 125;
	}
	status = ember_vm_run(vm);
	ember_vm_destroy(vm);
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return run(argv + 2);
	if (argc != 4) {
		fprintf(stderr, "usage: api_check COUNT_GUEST FUZZ_SNAPSHOT WORKDIR\n"
			"       api_check run OPTIONS...\n");
		return 2;
	}
	vm_api(argv[1], argv[3]);
	fuzz_api(argv[2]);
	return fails ? 1 : 0;
}
