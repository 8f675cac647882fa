/* Unit tests of `ember rebase-snap` (snapshot/rebase.c): a Diff memory
 * file's data regions land in the base at their offsets, zero pages of
 * the diff included; holes leave the base as it was; mismatched sizes
 * are refused with the exact message. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

#define PG 4096
#define SIZE (64 * PG)

static void tmpname(char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "/tmp/ember-rebase-%d-%s", getpid(), what);
}

static void fill(const char *path, int c, size_t size)
{
	char *b = malloc(size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	memset(b, c, size);
	cr_assert_eq(write(fd, b, size), (ssize_t)size);
	close(fd);
	free(b);
}

static void put_page(int fd, unsigned pg, int c)
{
	char b[PG];

	memset(b, c, sizeof(b));
	cr_assert_eq(pwrite(fd, b, sizeof(b), (off_t)pg * PG), PG);
}

Test(snap_rebase, merges_data_and_keeps_holes)
{
	char base[128], diff[128], got[PG];
	struct errbuf e = { "" };
	int fd;

	tmpname(base, sizeof(base), "base");
	tmpname(diff, sizeof(diff), "diff");
	fill(base, 'B', SIZE);
	fd = open(diff, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_eq(ftruncate(fd, SIZE), 0);
	put_page(fd, 3, 'D');
	put_page(fd, 40, 0);	/* a dirty page of zeros is data too */
	put_page(fd, 63, 'E');
	close(fd);
	cr_assert_eq(snap_rebase(base, diff, &e), 0, "%s", e.msg);
	fd = open(base, O_RDONLY);
	for (unsigned pg = 0; pg < SIZE / PG; pg++) {
		int want = pg == 3 ? 'D' : pg == 40 ? 0 : pg == 63 ? 'E' : 'B';

		cr_assert_eq(pread(fd, got, PG, (off_t)pg * PG), PG);
		cr_assert(got[0] == want && got[PG - 1] == want, "page %u: %d, not %d", pg, got[0], want);
	}
	close(fd);
	unlink(base);
	unlink(diff);
}

Test(snap_rebase, refuses_other_sizes_and_missing_files)
{
	char base[128], diff[128], want[512];
	struct errbuf e = { "" };

	tmpname(base, sizeof(base), "base2");
	tmpname(diff, sizeof(diff), "diff2");
	fill(base, 'B', SIZE);
	fill(diff, 'D', SIZE / 2);
	cr_assert_lt(snap_rebase(base, diff, &e), 0);
	snprintf(want, sizeof(want), "rebase-snap: '%s' is %d bytes and '%s' %d: not the memory of "
		 "one VM", base, SIZE, diff, SIZE / 2);
	cr_assert_str_eq(e.msg, want);
	unlink(diff);
	cr_assert_lt(snap_rebase(base, diff, &e), 0);
	snprintf(want, sizeof(want), "rebase-snap: '%s': No such file or directory", diff);
	cr_assert_str_eq(e.msg, want);
	unlink(base);
}
