/* snapshot/rebase.c - `ember rebase-snap --base-file BASE --diff-file DIFF`,
 * Firecracker's tool of that name: merges a Diff snapshot's memory file
 * (PUT /snapshot/create with snapshot_type Diff: the guest's size, the
 * pages written since the previous snapshot as data, holes elsewhere) into
 * the previous memory file, which can then be loaded with the Diff's state
 * file.  The data regions are found with SEEK_DATA/SEEK_HOLE and copied
 * with copy_file_range at the same offsets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

int snap_rebase(const char *base, const char *diff, struct errbuf *err)
{
	int bfd = open(base, O_WRONLY | O_CLOEXEC), dfd = open(diff, O_RDONLY | O_CLOEXEC);
	struct stat bs, ds;
	off_t off = 0;
	int r = 0;

	if (bfd < 0 || dfd < 0) {
		r = err_set(err, errno, "rebase-snap: '%s': %s", bfd < 0 ? base : diff,
			    strerror(errno));
		goto out;
	}
	if (fstat(bfd, &bs) || fstat(dfd, &ds) || !S_ISREG(bs.st_mode) || !S_ISREG(ds.st_mode)) {
		r = err_set(err, EINVAL, "rebase-snap: both files must be regular files");
		goto out;
	}
	if (bs.st_size != ds.st_size) {
		r = err_set(err, EINVAL, "rebase-snap: '%s' is %lld bytes and '%s' %lld: not the "
			    "memory of one VM", base, (long long)bs.st_size, diff,
			    (long long)ds.st_size);
		goto out;
	}
	while (off < ds.st_size) {
		off_t data = lseek(dfd, off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break;	/* no data after off */
		hole = data < 0 ? -1 : lseek(dfd, data, SEEK_HOLE);
		if (hole < 0) {
			r = err_set(err, errno, "rebase-snap: '%s': seek: %s", diff, strerror(errno));
			goto out;
		}
		for (off_t in = data, o = data; in < hole;) {
			ssize_t n = copy_file_range(dfd, &in, bfd, &o, (size_t)(hole - in), 0);

			if (n <= 0) {
				r = err_set(err, n ? errno : EIO, "rebase-snap: copying into '%s': %s",
					    base, strerror(n ? errno : EIO));
				goto out;
			}
		}
		off = hole;
	}
	if (fsync(bfd))
		r = err_set(err, errno, "rebase-snap: '%s': fsync: %s", base, strerror(errno));
out:
	if (bfd >= 0)
		close(bfd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int snap_cmd_rebase(int argc, char **argv)
{
	const char *base = NULL, *diff = NULL;
	struct errbuf err = { "" };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--base-file") && i + 1 < argc)
			base = argv[++i];
		else if (!strcmp(argv[i], "--diff-file") && i + 1 < argc)
			diff = argv[++i];
		else {
			fprintf(stderr, "ember: rebase-snap: unknown option '%s' (ember rebase-snap "
				"--base-file BASE --diff-file DIFF)\n", argv[i]);
			return EXIT_BADINPUT;
		}
	}
	if (!base || !diff) {
		fprintf(stderr, "ember: rebase-snap: --base-file BASE --diff-file DIFF\n");
		return EXIT_BADINPUT;
	}
	if (snap_rebase(base, diff, &err)) {
		fprintf(stderr, "ember: %s\n", err.msg);
		return EXIT_BADINPUT;
	}
	return 0;
}
