/* snapshot/fork.c - `ember fork DIR -n N [--out ODIR]`: N VMs from one
 * snapshot.  The state file is read and checked once; then N child
 * processes each make their own KVM VM (KVM binds a VM to the process
 * that made it) and map the same memory file MAP_PRIVATE, so guest RAM is
 * shared copy-on-write: a child costs what it writes.  Each child writes
 * its console to ODIR/child-I.log and gets its own copy (a reflink where
 * the filesystem can) of every writable drive.  A vsock device's socket
 * is per child too: `--vsock uds=PATH` gives child I the socket "PATH-I"
 * (and its guest's connections to host port P reach "PATH-I_P"); each
 * guest, restored, hears a TRANSPORT_RESET, so connections the snapshot
 * had open are reset, as after any restore.  When every child's guest
 * has finished, the parent measures the host's memory with all of them
 * alive, then lets them exit. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fs.h>

#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

#define FORK_MAX 4096

struct child_rec {
	uint32_t idx;
	int32_t status;
	uint64_t first_run_ns;	/* CLOCK_MONOTONIC of the first KVM_RUN, 0 if none */
	uint64_t first_run_cpu_ns;	/* the child's CPU time until then */
	uint64_t anon_kb, priv_kb, huge_kb;	/* Anonymous, Private_*, AnonHugePages */
	uint64_t ram_kb;	/* Private_* of the guest RAM mapping: what the guest wrote */
};

static uint64_t meminfo_kb(const char *key)
{
	char line[256];
	uint64_t v = 0;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static uint64_t rollup_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* This process's memory, from /proc/self/smaps_rollup and /proc/self/smaps
 * opened beforehand (the sandbox opens nothing), each read once.
 * Anonymous counts the parent's pages a child still shares; Private_*
 * counts only its own; the guest RAM mapping's own Private_* is what the
 * guest wrote since the restore. */
static void self_mem(int rollup, int smaps, const void *ram, struct child_rec *rec)
{
	static char buf[1 << 18];
	char head[32];
	size_t got = 0;
	ssize_t n = rollup >= 0 ? read(rollup, buf, sizeof(buf) - 1) : -1;
	const char *p;

	if (n <= 0)
		return;
	buf[n] = 0;
	rec->anon_kb = rollup_kb(buf, "\nAnonymous:");
	rec->priv_kb = rollup_kb(buf, "\nPrivate_Clean:") + rollup_kb(buf, "\nPrivate_Dirty:");
	rec->huge_kb = rollup_kb(buf, "\nAnonHugePages:");
	while (smaps >= 0 && got < sizeof(buf) - 1 &&
	       (n = read(smaps, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	snprintf(head, sizeof(head), "\n%08lx-", (unsigned long)(uintptr_t)ram);
	if (!strncmp(buf, head + 1, strlen(head + 1)))
		p = buf;
	else
		p = strstr(buf, head);
	if (p)
		rec->ram_kb = rollup_kb(p, "\nPrivate_Clean:") + rollup_kb(p, "\nPrivate_Dirty:");
	else
		rec->ram_kb = UINT64_MAX;	/* not found: reported as such */
}

/* A private copy of a drive image: reflink, else a plain copy. */
static int clone_file(const char *src, const char *dst)
{
	struct stat st;
	int in = open(src, O_RDONLY | O_CLOEXEC), out, r = 0;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 || fstat(in, &st) < 0) {
		r = -errno;
		goto done;
	}
	if (ioctl(out, FICLONE, in) == 0)
		goto done;
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);

		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		left -= n;
	}
done:
	if (out >= 0)
		close(out);
	close(in);
	return r;
}

static void child(struct snap_image *img, unsigned idx, const char *out, int st_fd,
		  int rel_fd)
{
	struct child_rec rec = { .idx = idx, .status = EXIT_HOSTFAIL };
	struct restore_times rt;
	struct errbuf err = { "" };
	struct vm *vm = NULL;
	struct snap_session *sess;
	char log[4200], img_path[MAX_DRIVES][4200], uds[4200];
	int status, r = 0, rollup = open("/proc/self/smaps_rollup", O_RDONLY | O_CLOEXEC);
	int smaps = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	char c;

	memset(&rt, 0, sizeof(rt));
	snprintf(log, sizeof(log), "%s/child-%u.log", out, idx);
	img->cfg.console = CONSOLE_FILE;
	img->cfg.console_path = log;
	img->cfg.cpu_time = true;
	for (unsigned i = 0; i < img->cfg.ndrives && !r; i++) {
		struct drive_cfg *d = &img->cfg.drives[i];

		if (d->ro)
			continue;	/* shared: nobody writes it */
		snprintf(img_path[i], sizeof(img_path[i]), "%s/child-%u-drive%u.img", out, idx, i);
		r = clone_file(d->path, img_path[i]);
		if (r)
			err_set(&err, -r, "drive '%s': copy for child %u: %s", d->path, idx, strerror(-r));
		d->path = img_path[i];
	}
	if (!r && img->cfg.vsock.uds) {	/* the file is made by vsock_create */
		snprintf(uds, sizeof(uds), "%s-%u", img->cfg.vsock.uds, idx);
		img->cfg.vsock.uds = uds;
	}
	if (!r)
		r = vm_launch(&(struct launch){ .restore = img, .no_seccomp = img->cfg.no_seccomp,
						.start_ns = now_ns(), .rt = &rt },
			      &vm, &sess, &err, &status);
	if (r) {
		fprintf(stderr, "ember: child %u: %s\n", idx, err.msg);
	} else {
		rec.status = launch_run(vm, sess);
		rec.first_run_ns = vm->ts[TS_FIRST_RUN];
		rec.first_run_cpu_ns = vm->first_run_cpu_ns;
		self_mem(rollup, smaps, vm->mem.host, &rec);
	}
	if (write(st_fd, &rec, sizeof(rec)) != sizeof(rec))
		rec.status = EXIT_HOSTFAIL;
	/* stay alive (and mapped) until the parent has measured memory */
	while (read(rel_fd, &c, 1) < 0 && errno == EINTR)
		;
	vm_destroy(vm);
	_exit(rec.status & 0xff);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The median of one field of the records, sorted in tmp (got entries). */
static uint64_t median_kb(const struct child_rec *recs, unsigned got, uint64_t *tmp, size_t off)
{
	for (unsigned i = 0; i < got; i++)
		tmp[i] = *(const uint64_t *)((const char *)&recs[i] + off);
	qsort(tmp, got, sizeof(*tmp), cmp_u64);
	return tmp[got / 2];
}

static int parse_args(int argc, char **argv, struct snap_image *img, unsigned *n,
		      const char **out, struct errbuf *err)
{
	bool bt = false;

	if (argc < 2 || argv[1][0] == '-')
		return err_set(err, EINVAL, "fork: which snapshot? (ember fork DIR -n N [--out DIR])");
	for (int i = 2; i < argc; i++) {
		int used;

		if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--out")) && i + 1 < argc) {
			if (argv[i][1] == 'n') {
				char *end;
				unsigned long v = strtoul(argv[i + 1], &end, 10);

				if (*end || !v || v > FORK_MAX)
					return err_set(err, EINVAL, "fork: -n '%s' is not a number from 1 to %d",
						       argv[i + 1], FORK_MAX);
				*n = (unsigned)v;
			} else {
				*out = argv[i + 1];
			}
			i++;
			continue;
		}
		used = snap_common_opt(img, argc, argv, i, &bt, err);
		if (used < 0)
			return used;
		if (used == 0 || !strncmp(argv[i], "--console", 9))
			return err_set(err, EINVAL, "fork: unknown option '%s'", argv[i]);
		i += used - 1;
	}
	if (!*n)
		return err_set(err, EINVAL, "fork: how many? (-n N)");
	return snap_paths_check(img, "fork", err);
}

int snap_cmd_fork(int argc, char **argv, uint64_t start_ns)
{
	struct errbuf err = { "" };
	struct snap_image *img = calloc(1, sizeof(*img));
	struct child_rec *recs = NULL;
	uint64_t *lat = NULL, avail0, avail1, t0, last = 0, cpu0, cpu_fork, cpu_sum = 0;
	const char *out = ".";
	unsigned n = 0, got = 0, bad = 0;
	int st[2] = { -1, -1 }, rel[2] = { -1, -1 }, r;
	bool no_seccomp = sc_take_no_seccomp(&argc, argv);

	(void)start_ns;
	if (!img)
		return EXIT_HOSTFAIL;
	r = argc >= 2 ? snap_image_load(argv[1], img, &err) :
		err_set(&err, EINVAL, "fork: which snapshot? (ember fork DIR -n N [--out DIR])");
	if (!r)
		r = parse_args(argc, argv, img, &n, &out, &err);
	img->cfg.no_seccomp = no_seccomp;
	if (!r && mkdir(out, 0755) < 0 && errno != EEXIST)
		r = err_set(&err, errno, "fork: --out '%s': %s", out, strerror(errno));
	if (!r && (pipe2(st, O_CLOEXEC) < 0 || pipe2(rel, O_CLOEXEC) < 0))
		r = err_set(&err, errno, "fork: pipe: %s", strerror(errno));
	recs = calloc(n ? n : 1, sizeof(*recs));
	lat = calloc(n ? n : 1, sizeof(*lat));
	if (!r && (!recs || !lat))
		r = err_set(&err, ENOMEM, "out of memory");
	if (r) {
		fprintf(stderr, "ember: %s\n", err.msg);
		goto out;
	}
	fflush(NULL);
	avail0 = meminfo_kb("MemAvailable");
	t0 = now_ns();
	cpu0 = cpu_time_ns();
	for (unsigned i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			close(st[0]);
			close(rel[1]);
			child(img, i, out, st[1], rel[0]);
		}
		if (p < 0) {
			fprintf(stderr, "ember: fork: child %u: %s\n", i, strerror(errno));
			n = i;
			break;
		}
	}
	cpu_fork = cpu_time_ns() - cpu0;	/* the parent's part: fork() itself */
	close(st[1]);
	close(rel[0]);
	st[1] = rel[0] = -1;
	while (got < n) {
		ssize_t k = read(st[0], &recs[got], sizeof(recs[0]));

		if (k < 0 && errno == EINTR)
			continue;
		if (k != sizeof(recs[0]))
			break;	/* a child died without reporting */
		got++;
	}
	avail1 = meminfo_kb("MemAvailable");
	close(rel[1]);	/* children exit now */
	rel[1] = -1;
	for (unsigned i = 0; i < n; i++) {
		int ws;

		if (wait(&ws) < 0)
			break;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws))
			bad++;
	}
	for (unsigned i = 0; i < got; i++) {
		lat[i] = recs[i].first_run_ns > t0 ? recs[i].first_run_ns - t0 : 0;
		if (lat[i] > last)
			last = lat[i];
		cpu_sum += recs[i].first_run_cpu_ns;
		if (recs[i].status)
			printf("fork: child %u: exit status %d\n", recs[i].idx, recs[i].status);
	}
	qsort(lat, got, sizeof(*lat), cmp_u64);
	printf("fork: %u children of '%s': %u exited 0, %u did not\n", n, argv[1], n - bad, bad);
	if (got) {
		uint64_t anon, priv, huge, ram;

		printf("fork: all %u at their first guest instruction %.3f ms after the first fork "
		       "(%.0f children/s); median child %.3f ms\n", got, (double)last / 1e6,
		       last ? got / ((double)last / 1e9) : 0.0, (double)lat[got / 2] / 1e6);
		anon = median_kb(recs, got, lat, offsetof(struct child_rec, anon_kb));
		priv = median_kb(recs, got, lat, offsetof(struct child_rec, priv_kb));
		huge = median_kb(recs, got, lat, offsetof(struct child_rec, huge_kb));
		ram = median_kb(recs, got, lat, offsetof(struct child_rec, ram_kb));
		/* what a core can do when children do not share it with guests
		 * already running: CPU time per child up to its first run */
		printf("fork: CPU per child to its first guest instruction %.3f ms (fork %.3f + "
		       "child %.3f): %.0f children/s per core\n",
		       (double)(cpu_fork + cpu_sum) / got / 1e6, (double)cpu_fork / n / 1e6,
		       (double)cpu_sum / got / 1e6, 1e9 * got / (double)(cpu_fork + cpu_sum));
		printf("fork: memory with all alive: host MemAvailable down %.1f MiB (%.0f KiB a child); "
		       "a child's guest RAM copied %llu KiB; its own (private) memory %llu KiB, "
		       "anonymous %llu KiB, in huge pages %llu KiB (medians); guest RAM %llu MiB each\n",
		       (double)((int64_t)avail0 - (int64_t)avail1) / 1024.0,
		       (double)((int64_t)avail0 - (int64_t)avail1) / got,
		       (unsigned long long)ram, (unsigned long long)priv, (unsigned long long)anon, (unsigned long long)huge,
		       (unsigned long long)(img->cfg.mem_size >> 20));
	}
	r = bad || got < n ? 1 : 0;
out:
	for (int i = 0; i < 2; i++) {
		if (st[i] >= 0)
			close(st[i]);
		if (rel[i] >= 0)
			close(rel[i]);
	}
	free(recs);
	free(lat);
	snap_image_free(img);
	free(img);
	return r ? (r < 0 ? EXIT_BADINPUT : 1) : 0;
}
