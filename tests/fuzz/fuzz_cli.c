/* tests/fuzz/fuzz_cli.c - libFuzzer target: the command-line and
 * configuration parsers, which touch no host state beyond stat(2) and
 * reading a snapshot's state file.
 *
 * Byte 0 (% 5) picks the parser; the rest, split at NUL bytes, is argv
 * after argv[0] (at most 64 words):
 *   0 `ember run`: config_parse_run, then the kernel command line
 *     assembly (linux_cmdline) of what it accepted
 *   1 `ember run` as monitor/main.c and libember read it
 *     (launch_run_args): snapshot options and --no-seccomp taken out first
 *   2 `ember jail`: jail_parse (ids, rlimits, cgroups, the files of the
 *     run or restore after "--")
 *   3 the options of restore, fork and fuzz (--drive id=,path=,
 *     --net id=,tap=, --console, --boot-time: snap_common_opt) on a
 *     snapshot config with two drives and two network devices, then
 *     snap_paths_check
 *   4 each word as a value: parse_size, boot_proto_parse,
 *     config_parse_console, jail_check_id
 * --kernel default finds empty files in a scratch EMBER_KERNEL_DIR. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/boot/boot.h"
#include "jail/jail.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_ARGS 64

static char kdir[64];
static const char *const kfiles[] = { "vmlinux", "bzImage", "initramfs.cpio.gz" };

static void remove_kdir(void)
{
	char path[128];

	for (unsigned i = 0; i < ARRAY_SIZE(kfiles); i++) {
		snprintf(path, sizeof(path), "%s/%s", kdir, kfiles[i]);
		unlink(path);
	}
	rmdir(kdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];

	(void)argc;
	(void)argv;
	fz_quiet();
	snprintf(kdir, sizeof(kdir), "/tmp/ember-fuzz-kernelXXXXXX");
	if (!mkdtemp(kdir))
		abort();
	atexit(remove_kdir);
	for (unsigned i = 0; i < ARRAY_SIZE(kfiles); i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", kdir, kfiles[i]);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			abort();
		close(fd);
	}
	setenv(LINUX_KERNEL_DIR_ENV, kdir, 1);
	return 0;
}

static void run_args(int argc, char **argv, bool as_main)
{
	struct vm_config cfg;
	struct snap_opts so;
	struct errbuf err;
	char line[4096];

	bool no_seccomp;
	int r = as_main ? launch_run_args(&argc, argv, &cfg, &so, &no_seccomp, &err) :
			  config_parse_run(argc, argv, &cfg, &err);

	if (!r)
		linux_cmdline(&cfg, " virtio_mmio.device=4K@0xd0000000:5", line, sizeof(line), &err);
	config_free(&cfg);
}

static void jail_args(int argc, char **argv)
{
	struct jail_cfg *c = malloc(sizeof(*c));
	struct errbuf err;

	if (!c)
		return;
	jail_parse(argc, argv, c, &err);
	jail_cfg_free(c);
	free(c);
}

/* A snapshot's config: drives vda (no id) and "data", net0 and net1. */
static void restore_args(int argc, char **argv)
{
	struct snap_image *img = calloc(1, sizeof(*img));
	struct vm_config in;
	struct errbuf err;
	struct sbuf sb, v;
	bool boot_time = false;

	if (!img)
		return;
	memset(&in, 0, sizeof(in));
	in.mem_size = MiB(64);
	in.cpus = 1;
	in.ndrives = 2;
	in.drives[0].path = "/saved/root.img";
	in.drives[1].path = "/saved/data.img";
	in.drives[1].id = "data";
	in.drives[1].ro = true;
	in.nnets = 2;
	in.nets[0].tap = "tap0";
	in.nets[1].tap = "tap1";
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	if (!snap_config_decode(&v, &img->cfg)) {
		int r = 0;

		for (int i = 1; i < argc && r >= 0; i++) {
			r = snap_common_opt(img, argc, argv, i, &boot_time, &err);
			if (r > 0)
				i += r - 1;
		}
		if (r >= 0)
			snap_paths_check(img, "restore", &err);
	}
	config_free(&img->cfg);
	sbuf_free(&sb);
	free(img);
}

static void values(int argc, char **argv)
{
	struct vm_config cfg;
	struct errbuf err;
	enum boot_proto p;
	uint64_t size;

	for (int i = 1; i < argc; i++) {
		vm_config_init(&cfg);
		parse_size(argv[i], &size);
		boot_proto_parse(argv[i], &p);
		config_parse_console(argv[i], &cfg, &err);
		config_free(&cfg);	/* the console path is a copy */
		jail_check_id(argv[i], &err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 2];
	int argc = 1;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	buf = malloc(n + 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, n);
	buf[n] = 0;
	argv[0] = data[0] % 5 == 2 ? "jail" : data[0] % 5 == 3 ? "restore" : "run";
	for (size_t i = 0; i <= n && argc <= MAX_ARGS && n; i++) {
		argv[argc++] = buf + i;
		i += strlen(buf + i);
	}
	argv[argc] = NULL;
	switch (data[0] % 5) {
	case 0: run_args(argc, argv, false); break;
	case 1: run_args(argc, argv, true); break;
	case 2: jail_args(argc, argv); break;
	case 3: restore_args(argc, argv); break;
	default: values(argc, argv); break;
	}
	free(buf);
	return 0;
}
