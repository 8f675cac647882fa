/* Unit tests of `ember jail ... -- restore DIR [options]`'s command line:
 * the files the jail's root must hold, found by reading the snapshot
 * (and its base chain) and applying the restore options as `ember
 * restore` does, and the exact errors.  The snapshots are made here (a
 * state file with the sections the loader reads and a sparse memory
 * file); restoring one in a real jail is tested by
 * tests/integration/t_sandbox_jail.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/monitor.h"
#include "jail/jail.h"
#include "snapshot/snapshot.h"

#define MEM MiB(4)

static char tmp[64];

/* tmp/name */
static const char *at(const char *name)
{
	static char buf[4][256];
	static unsigned n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmp, name);
	return p;
}

static void write_file(const char *path, const void *p, size_t len, uint64_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);	/* sparse */
	close(fd);
}

/* A snapshot directory tmp/name as the loader reads it: the state file
 * (config, memory and CPUID sections, this host's fingerprint) and the
 * memory file (a full one of MEM bytes, or an empty diff on base). */
static void make_snapshot(const char *name, const struct vm_config *cfg, const char *base)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + sizeof(cpuid->entries[0]));
	struct snap_mem m;
	struct sbuf w, sb;
	char path[600];

	cr_assert_not_null(cpuid);
	cr_assert(mkdir(at(name), 0755) == 0 || errno == EEXIST);
	memset(&m, 0, sizeof(m));
	m.size = m.low_size = MEM;
	m.diff = base != NULL;
	snprintf(m.file, sizeof(m.file), "%s", base ? SNAP_DIFF_NAME : SNAP_MEM_NAME);
	snprintf(m.base, sizeof(m.base), "%s", base ? base : "");
	cpuid->nent = 1;
	snap_write_begin(&w);
	sbuf_init(&sb);
	snap_config_encode(cfg, &sb);
	snap_write_section(&w, SNAP_SEC_CONFIG, 0, sb.data, sb.len);
	sbuf_free(&sb);
	sbuf_init(&sb);
	snap_mem_encode(&m, &sb);
	snap_write_section(&w, SNAP_SEC_MEMORY, 0, sb.data, sb.len);
	sbuf_free(&sb);
	sbuf_init(&sb);
	snap_cpuid_encode(cpuid, &sb);
	snap_write_section(&w, SNAP_SEC_CPUID, 0, sb.data, sb.len);
	sbuf_free(&sb);
	cr_assert_eq(snap_write_end(&w, snap_host_fingerprint(), base ? SNAP_F_DIFF : 0), 0);
	snprintf(path, sizeof(path), "%s/%s", at(name), SNAP_STATE_NAME);
	write_file(path, w.data, w.len, w.len);
	sbuf_free(&w);
	snprintf(path, sizeof(path), "%s/%s", at(name), m.file);
	write_file(path, "", 0, base ? 0 : MEM);
	free(cpuid);
}

/* The configuration a snapshot holds: 4 MiB, one vCPU, no devices. */
static void base_config(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = MEM;
	cfg->cpus = 1;
	cfg->cmdline = "";
}

static void setup(void)
{
	struct vm_config cfg;

	snprintf(tmp, sizeof(tmp), "/tmp/ember-jail-restore-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	write_file(at("disk.img"), "", 0, 4096);
	write_file(at("other.img"), "", 0, 4096);
	/* full: a writable drive and a network device */
	base_config(&cfg);
	cfg.ndrives = 1;
	cfg.drives[0].path = at("disk.img");
	cfg.nnets = 1;
	cfg.nets[0].tap = "tap0";
	make_snapshot("full", &cfg, NULL);
	/* plain, and a chain of two diffs on it (bases relative, as ember
	 * names them) */
	base_config(&cfg);
	make_snapshot("plain", &cfg, NULL);
	make_snapshot("d1", &cfg, "../plain");
	make_snapshot("d2", &cfg, "../d1");
	/* ro: a read-only drive with an id */
	base_config(&cfg);
	cfg.ndrives = 1;
	cfg.drives[0].path = at("disk.img");
	cfg.drives[0].ro = true;
	cfg.drives[0].id = "data";
	make_snapshot("ro", &cfg, NULL);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

/* Parses `jail --id a --uid 1 --gid 2 -- ARGS...` (NULL-terminated). */
static int parse(struct jail_cfg *c, struct errbuf *err, const char **args)
{
	char *argv[64];
	int argc = 0;
	const char *pre[] = { "jail", "--id", "a", "--uid", "1", "--gid", "2", "--" };

	for (unsigned i = 0; i < ARRAY_SIZE(pre); i++)
		argv[argc++] = (char *)pre[i];
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return jail_parse(argc, argv, c, err);
}

static void parse_fails(const char *want, const char **args)
{
	struct jail_cfg c;
	struct errbuf err = { "" };

	cr_assert_neq(parse(&c, &err, args), 0, "accepted (want '%s')", want);
	cr_assert_str_eq(err.msg, want);
	jail_cfg_free(&c);
}

/* c->files[i] is path, with those flags. */
static void file_is(const struct jail_cfg *c, unsigned i, const char *path, bool ro,
		    bool create, bool dir)
{
	cr_assert_lt(i, c->nfiles, "no file %u (want '%s')", i, path);
	cr_assert_str_eq(c->files[i].path, path);
	cr_assert_eq(c->files[i].ro, ro, "%s: ro", path);
	cr_assert_eq(c->files[i].create, create, "%s: create", path);
	cr_assert_eq(c->files[i].dir, dir, "%s: dir", path);
}

TestSuite(jail_restore, .init = setup, .fini = teardown);

Test(jail_restore, the_snapshot_its_drives_and_the_tun_device)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	char state[300], mem[300], drive[300];

	snprintf(state, sizeof(state), "%s/state", at("full"));
	snprintf(mem, sizeof(mem), "%s/memory", at("full"));
	snprintf(drive, sizeof(drive), "id=vda,path=%s", at("disk.img"));
	cr_assert_eq(parse(&c, &err, (const char *[]){ "restore", at("full"), "--drive", drive,
		"--net", "id=net0,tap=tap1", NULL }), 0, "%s", err.msg);
	cr_assert_eq(c.nfiles, 3, "%u files", c.nfiles);
	file_is(&c, 0, state, true, false, false);
	file_is(&c, 1, mem, true, false, false);
	file_is(&c, 2, at("disk.img"), false, false, false);
	cr_assert(c.need_tun);
	cr_assert_null(c.kernel_dir);
	/* the jailed command: restore and its arguments as given */
	cr_assert_eq(c.run_argc, 6);
	cr_assert_str_eq(c.run_argv[0], "restore");
	cr_assert_str_eq(c.run_argv[1], at("full"));
	jail_cfg_free(&c);
}

Test(jail_restore, options_apply_as_in_ember_restore)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	char cwd[4096], state[300], other[300], console[300], snaps[300];

	snprintf(state, sizeof(state), "%s/ro/state", tmp);
	snprintf(other, sizeof(other), "%s", at("other.img"));
	snprintf(console, sizeof(console), "%s", at("out.log"));
	snprintf(snaps, sizeof(snaps), "%s", at("snaps"));
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(tmp), 0);
	/* relative paths (made absolute against the working directory), the
	 * drive replaced by its id, every option restore takes */
	cr_assert_eq(parse(&c, &err, (const char *[]){ "restore", "ro", "--no-seccomp",
		"--drive", "id=data,path=other.img", "--console=file:out.log", "--boot-time",
		"--snapshot-dir", "snaps", "--snapshot-on", "control-port", NULL }), 0,
		"%s", err.msg);
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_eq(c.nfiles, 5, "%u files", c.nfiles);
	file_is(&c, 0, state, true, false, false);
	/* the replacement keeps the saved drive's ro=on */
	file_is(&c, 2, other, true, false, false);
	file_is(&c, 3, console, false, true, false);
	file_is(&c, 4, snaps, false, true, true);
	cr_assert_not(c.need_tun);
	cr_assert_eq(c.run_argc, 11);
	cr_assert_str_eq(c.run_argv[0], "restore");
	cr_assert_str_eq(c.run_argv[2], "--no-seccomp");
	jail_cfg_free(&c);
}

Test(jail_restore, a_diff_chain_down_to_the_full_snapshot)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	char want[4][256];

	cr_assert_eq(parse(&c, &err, (const char *[]){ "restore", at("d2"), NULL }), 0,
		     "%s", err.msg);
	/* the full snapshot, then each diff oldest first, reached through
	 * the bases as the restore resolves them */
	snprintf(want[0], sizeof(want[0]), "%s/plain/state", tmp);
	snprintf(want[1], sizeof(want[1]), "%s/plain/memory", tmp);
	snprintf(want[2], sizeof(want[2]), "%s/d1/state", tmp);
	snprintf(want[3], sizeof(want[3]), "%s/d1/memory.diff", tmp);
	cr_assert_eq(c.nfiles, 6, "%u files", c.nfiles);
	for (unsigned i = 0; i < 4; i++)
		file_is(&c, i, want[i], true, false, false);
	snprintf(want[0], sizeof(want[0]), "%s/d2/state", tmp);
	snprintf(want[1], sizeof(want[1]), "%s/d2/memory.diff", tmp);
	file_is(&c, 4, want[0], true, false, false);
	file_is(&c, 5, want[1], true, false, false);
	cr_assert_not(c.need_tun);
	jail_cfg_free(&c);
}

Test(jail_restore, exact_errors)
{
	char path[256], msg[512];

	parse_fails("jail: cannot jail 'fork' (only 'run' or 'restore')",
		    (const char *[]){ "fork", at("full"), NULL });
	parse_fails("jail: cannot jail 'restor' (only 'run' or 'restore')",
		    (const char *[]){ "restor", at("full"), NULL });
	parse_fails("restore: which snapshot? (ember restore DIR [options])",
		    (const char *[]){ "restore", NULL });
	parse_fails("restore: which snapshot? (ember restore DIR [options])",
		    (const char *[]){ "restore", "--boot-time", NULL });
	parse_fails("snapshot '/nonexistent/snap/state': No such file or directory",
		    (const char *[]){ "restore", "/nonexistent/snap", NULL });
	parse_fails("restore: unknown option '--cpus' (see 'ember help')",
		    (const char *[]){ "restore", at("full"), "--cpus", "2", NULL });
	parse_fails("--drive: a restore takes only id= and path=, not 'ro'",
		    (const char *[]){ "restore", at("full"), "--drive", "id=vda,ro=on", NULL });
	parse_fails("--net: a restore takes only id= and tap=, not 'mac'",
		    (const char *[]){ "restore", at("full"), "--net", "id=net0,mac=02:00:00:00:00:01",
				      NULL });
	parse_fails("--net: the snapshot has no network device 'net1'",
		    (const char *[]){ "restore", at("full"), "--net", "id=net1,tap=t", NULL });
	parse_fails("--drive: the snapshot has no drive 'vdb'",
		    (const char *[]){ "restore", at("full"), "--drive", "id=vdb,path=/x", NULL });
	/* a replacement drive must be there (the restore opens it in the jail) */
	parse_fails("drive '/nonexistent/disk.img': No such file or directory",
		    (const char *[]){ "restore", at("full"), "--drive",
				      "id=vda,path=/nonexistent/disk.img", "--net", "id=net0,tap=t",
				      NULL });
	parse_fails("drive '/tmp': is a directory",
		    (const char *[]){ "restore", at("full"), "--drive", "id=vda,path=/tmp",
				      "--net", "id=net0,tap=t", NULL });
	/* the loader's own message for a corrupt state file */
	snprintf(path, sizeof(path), "%s/full/state", tmp);
	{
		int fd = open(path, O_RDWR | O_CLOEXEC);
		uint8_t b;

		cr_assert_geq(fd, 0);
		cr_assert_eq(pread(fd, &b, 1, 44), 1);
		b ^= 0xff;
		cr_assert_eq(pwrite(fd, &b, 1, 44), 1);
		close(fd);
	}
	snprintf(msg, sizeof(msg), "snapshot '%s': header is corrupt (CRC32 mismatch)", path);
	parse_fails(msg, (const char *[]){ "restore", at("full"), NULL });
	/* a diff file the state file names is missing */
	snprintf(path, sizeof(path), "%s/d2/memory.diff", tmp);
	cr_assert_eq(unlink(path), 0);
	snprintf(msg, sizeof(msg), "snapshot memory '%s': No such file or directory", path);
	parse_fails(msg, (const char *[]){ "restore", at("d2"), NULL });
}

/* A snapshot is untrusted input: the paths and TAPs it remembers are
 * shown, never opened; each must come from the command line. */
Test(jail_restore, the_snapshot_does_not_choose_its_files)
{
	char msg[512], drive[300];

	snprintf(msg, sizeof(msg), "restore: the snapshot's drive 'vda' needs --drive id=vda,"
		 "path=IMG (it was made with '%s'; a snapshot is not trusted to choose the files "
		 "it opens)", at("disk.img"));
	parse_fails(msg, (const char *[]){ "restore", at("full"), NULL });
	parse_fails(msg, (const char *[]){ "restore", at("full"), "--net", "id=net0,tap=t", NULL });
	snprintf(drive, sizeof(drive), "id=vda,path=%s", at("disk.img"));
	parse_fails("restore: the snapshot's network device 'net0' needs --net id=net0,tap=TAP "
		    "(it was made with TAP 'tap0'; a snapshot is not trusted to choose the devices "
		    "it opens)", (const char *[]){ "restore", at("full"), "--drive", drive, NULL });
	snprintf(msg, sizeof(msg), "restore: the snapshot's drive 'data' needs --drive id=data,"
		 "path=IMG (it was made with '%s'; a snapshot is not trusted to choose the files "
		 "it opens)", at("disk.img"));
	parse_fails(msg, (const char *[]){ "restore", at("ro"), NULL });
	/* a path with ".." is normalised before the jail makes its
	 * directories (it never joins ".." to its root); above "/" it is
	 * refused */
	snprintf(drive, sizeof(drive), "id=vda,path=%s/sub/./..//disk.img", tmp);
	{
		struct jail_cfg c;
		struct errbuf err = { "" };

		cr_assert_eq(parse(&c, &err, (const char *[]){ "restore", at("full"), "--drive", drive,
			"--net", "id=net0,tap=t", NULL }), 0, "%s", err.msg);
		file_is(&c, 2, at("disk.img"), false, false, false);
		jail_cfg_free(&c);
	}
	snprintf(drive, sizeof(drive), "id=vda,path=/../../%s/disk.img", tmp);
	snprintf(msg, sizeof(msg), "jail: drive '/../../%s/disk.img': its '..' leads above '/'", tmp);
	parse_fails(msg, (const char *[]){ "restore", at("full"), "--drive", drive,
					   "--net", "id=net0,tap=t", NULL });
}

/* A diff's base must be in the directory that holds the diff. */
Test(jail_restore, a_base_outside_the_snapshots_directory_is_refused)
{
	struct jail_cfg c;
	struct errbuf err = { "" };
	struct vm_config cfg;
	char other[64], base[300], msg[1024], cmd[128];

	snprintf(other, sizeof(other), "/tmp/ember-jail-other-XXXXXX");
	cr_assert_not_null(mkdtemp(other));
	base_config(&cfg);
	/* a full snapshot outside tmp, named by an absolute path and by ".." */
	{
		char keep[64];

		memcpy(keep, tmp, sizeof(keep));
		memcpy(tmp, other, sizeof(tmp));
		make_snapshot("snap", &cfg, NULL);
		memcpy(tmp, keep, sizeof(tmp));
	}
	snprintf(base, sizeof(base), "%s/snap", other);
	make_snapshot("abs", &cfg, base);
	snprintf(msg, sizeof(msg), "snapshot '%s': its base '%s' is not in '%s' (a diff's base "
		 "must be in the directory that holds the diff)", at("abs"), base, tmp);
	parse_fails(msg, (const char *[]){ "restore", at("abs"), NULL });
	snprintf(base, sizeof(base), "../../%s/snap", other + strlen("/tmp/"));
	make_snapshot("dots", &cfg, base);
	snprintf(msg, sizeof(msg), "snapshot '%s': its base '%s' is not in '%s' (a diff's base "
		 "must be in the directory that holds the diff)", at("dots"), base, tmp);
	parse_fails(msg, (const char *[]){ "restore", at("dots"), NULL });
	/* a diff naming itself */
	make_snapshot("self", &cfg, "../self");
	snprintf(msg, sizeof(msg), "snapshot '%s': its base '../self' is not in '%s' (a diff's "
		 "base must be in the directory that holds the diff)", at("self"), tmp);
	parse_fails(msg, (const char *[]){ "restore", at("self"), NULL });
	/* an absolute base inside the directory is fine (a restored VM's
	 * first diff names the snapshot it came from so) */
	snprintf(base, sizeof(base), "%s/plain", tmp);
	make_snapshot("absin", &cfg, base);
	cr_assert_eq(parse(&c, &err, (const char *[]){ "restore", at("absin"), NULL }), 0,
		     "%s", err.msg);
	jail_cfg_free(&c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other);
	cr_assert_eq(system(cmd), 0);
}

/* snap_restore_files on an image filled in by hand: what it lists. */
struct seen {
	unsigned n;
	struct snap_need need[8];
	char path[8][256];
};

static int record(void *ctx, const struct snap_need *n, struct errbuf *err)
{
	struct seen *s = ctx;

	if (s->n == 8)
		return err_set(err, E2BIG, "too many");
	s->need[s->n] = *n;
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", n->path);
	s->need[s->n].path = s->path[s->n];
	s->n++;
	return 0;
}

static int refuse_drives(void *ctx, const struct snap_need *n, struct errbuf *err)
{
	(void)ctx;
	return strcmp(n->what, "drive") ? 0 : err_set(err, EPERM, "no drives: '%s'", n->path);
}

Test(snap_restore_files, lists_what_the_restore_opens)
{
	static struct snap_image img;
	struct snap_opts so = { .dir = "out" };
	struct errbuf err = { "" };
	struct seen s = { 0 };

	snprintf(img.mem_path, sizeof(img.mem_path), "a/memory");
	img.ndiffs = 1;
	snprintf(img.diffs[0].path, sizeof(img.diffs[0].path), "b/memory.diff");
	img.cfg.ndrives = 2;
	img.cfg.drives[0].path = "ro.img";
	img.cfg.drives[0].ro = true;
	img.cfg.drives[1].path = "rw.img";
	img.cfg.console = CONSOLE_FILE;
	img.cfg.console_path = "con.log";
	cr_assert_eq(snap_restore_files(&img, &so, record, &s, &err), 0, "%s", err.msg);
	cr_assert_eq(s.n, 8);
	cr_assert_str_eq(s.path[0], "a/state");
	cr_assert_str_eq(s.need[0].what, "snapshot");
	cr_assert_str_eq(s.path[1], "a/memory");
	cr_assert_str_eq(s.need[1].what, "snapshot memory");
	cr_assert_str_eq(s.path[2], "b/state");
	cr_assert_str_eq(s.path[3], "b/memory.diff");
	for (unsigned i = 0; i < 4; i++)
		cr_assert(s.need[i].ro && !s.need[i].create && !s.need[i].dir);
	cr_assert(s.need[4].ro && !s.need[4].create);
	cr_assert_str_eq(s.path[5], "rw.img");
	cr_assert(!s.need[5].ro && !s.need[5].create);
	cr_assert_str_eq(s.path[6], "con.log");
	cr_assert(!s.need[6].ro && s.need[6].create && !s.need[6].dir);
	cr_assert_str_eq(s.path[7], "out");
	cr_assert(!s.need[7].ro && s.need[7].create && s.need[7].dir);
	/* the first error of fn ends the walk and is returned */
	cr_assert_eq(snap_restore_files(&img, &so, refuse_drives, NULL, &err), -EPERM);
	cr_assert_str_eq(err.msg, "no drives: 'ro.img'");
}
