/* tests/fuzz/ember_fuzzer.c - a libFuzzer harness (also usable with
 * AFL++'s libFuzzer driver) over libember's reset loop: each input goes
 * into the guest through the control port's "next input"; a guest crash
 * report, triple fault, exit or timeout aborts (libFuzzer saves the
 * input).  Guest coverage reaches libFuzzer as extra counters when the
 * guest keeps a map and EMBER_COVERAGE names it.
 *
 * Environment:
 *   EMBER_SNAPSHOT=DIR          the snapshot, taken at "snapshot here"
 *   EMBER_COVERAGE=GPA:LEN      optional: the guest's coverage map (LEN <= 4096)
 *   EMBER_RESET=fast            optional: registers-only reset
 * Build: tests/fuzz/build.sh (Debian's clang, -fsanitize=fuzzer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember/ember.h"

#define COV_MAX 4096

/* libFuzzer reads these as coverage counters after every input */
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t guest_cov[COV_MAX];

static struct ember_fuzz *session;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ember_fuzz_options o;
	const char *dir = getenv("EMBER_SNAPSHOT"), *cov = getenv("EMBER_COVERAGE");
	const char *reset = getenv("EMBER_RESET");
	char err[512];

	(void)argc;
	(void)argv;
	if (!dir) {
		fprintf(stderr, "ember_fuzzer: set EMBER_SNAPSHOT to a snapshot directory\n");
		exit(2);
	}
	memset(&o, 0, sizeof(o));
	o.timeout_ms = 1000;
	o.reset_fast = reset && !strcmp(reset, "fast");
	if (cov) {
		char *end;

		o.coverage_gpa = strtoull(cov, &end, 0);
		o.coverage_len = *end == ':' ? strtoull(end + 1, NULL, 0) : 0;
		if (o.coverage_len > COV_MAX)
			o.coverage_len = COV_MAX;
		o.coverage_out = guest_cov;
	}
	if (ember_fuzz_open(dir, &o, &session, err, sizeof(err))) {
		fprintf(stderr, "ember_fuzzer: %s\n", err);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ember_fuzz_result r;

	if (ember_fuzz_run(session, data, size, &r)) {
		fprintf(stderr, "ember_fuzzer: host failure: %s\n", r.reason);
		exit(70);
	}
	if (r.outcome != EMBER_FUZZ_OK) {
		fprintf(stderr, "ember_fuzzer: the guest: %s\n", r.reason);
		abort();	/* libFuzzer keeps the input as crash-<sha1> */
	}
	return 0;
}
