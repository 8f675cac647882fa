/* tests/unit/test_linux_cmdline.c - monitor/linux.c: the kernel command
 * line ember assembles, ember.cmd's encoding, the default guest's files,
 * the `--`, --share and --boot-protocol options, the --share image. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/boot/boot.h"
#include "monitor/monitor.h"

#define DEVS " virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6"

static struct errbuf err;

static struct vm_config cfg_of(const char *user)
{
	struct vm_config c;

	memset(&c, 0, sizeof(c));
	c.cmdline = user;
	c.share_drive = -1;
	return c;
}

static const char *line(const struct vm_config *c, const char *devs)
{
	static char buf[BOOT_CMDLINE_MAX];

	cr_assert_eq(linux_cmdline(c, devs, buf, sizeof(buf), &err), 0, "%s", err.msg);
	return buf;
}

Test(linux_cmdline, default_kernel_alone)
{
	struct vm_config c = cfg_of("");

	c.kernel_default = true;
	cr_assert_str_eq(line(&c, ""), "console=ttyS0 reboot=k panic=-1 quiet");
}

Test(linux_cmdline, default_kernel_everything)
{
	static char *const cmd[] = { "true" };
	struct vm_config c = cfg_of("loglevel=8 -- initarg");

	c.kernel_default = true;
	c.cmd = cmd;
	c.ncmd = 1;
	c.share = "/some/dir";
	c.share_drive = 1;
	cr_assert_str_eq(line(&c, DEVS),
			 "console=ttyS0 reboot=k panic=-1 quiet"
			 " virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6"
			 " ember.share=vdb ember.cmd=dHJ1ZQA loglevel=8 -- initarg");
}

Test(linux_cmdline, other_kernel_user_text_untouched)
{
	struct vm_config c = cfg_of("  odd   spacing ");

	cr_assert_str_eq(line(&c, ""), "  odd   spacing ");
	c = cfg_of("");
	cr_assert_str_eq(line(&c, ""), "");
}

Test(linux_cmdline, other_kernel_devices_appended)
{
	struct vm_config c = cfg_of("elf64 args ");

	cr_assert_str_eq(line(&c, DEVS),
			 "elf64 args virtio_mmio.device=4K@0xd0000000:5"
			 " virtio_mmio.device=4K@0xd0001000:6");
	c = cfg_of("");
	cr_assert_str_eq(line(&c, " virtio_mmio.device=4K@0xd0000000:5"),
			 "virtio_mmio.device=4K@0xd0000000:5");
}

Test(linux_cmdline, other_kernel_before_dashdash)
{
	static char *const cmd[] = { "sh", "-c", "echo hi" };
	struct vm_config c = cfg_of("root=/dev/vda -- single --x");

	c.cmd = cmd;
	c.ncmd = 3;
	cr_assert_str_eq(line(&c, " virtio_mmio.device=4K@0xd0000000:5"),
			 "root=/dev/vda virtio_mmio.device=4K@0xd0000000:5"
			 " ember.cmd=c2gALWMAZWNobyBoaQA -- single --x");
	/* "--x" and "a--" are not the separator */
	c = cfg_of("a-- --x");
	cr_assert_str_eq(line(&c, " d=1"), "a-- --x d=1");
	c = cfg_of("--");
	cr_assert_str_eq(line(&c, " d=1"), "d=1 --");
}

Test(linux_cmdline, encode_argv)
{
	static char *const a1[] = { "echo", "a b", "", "it's" };
	static char *const empty[] = { "" };
	char out[64];

	cr_assert_eq(linux_encode_argv(a1, 4, out, sizeof(out)), 20);
	cr_assert_str_eq(out, "ZWNobwBhIGIAAGl0J3MA");
	cr_assert_eq(linux_encode_argv(a1, 1, out, sizeof(out)), 7);
	cr_assert_str_eq(out, "ZWNobwA");
	cr_assert_eq(linux_encode_argv(a1, 4, out, 20), -ENOSPC, "no room for the NUL");
	cr_assert_eq(linux_encode_argv(a1, 0, out, sizeof(out)), -EINVAL);
	cr_assert_eq(linux_encode_argv(empty, 1, out, sizeof(out)), -EINVAL);
}

/* A command whose arguments make the line exactly n bytes long. */
static int line_of_len(size_t n, char *msg, size_t msglen)
{
	static char arg[4096];
	static char *cmd[] = { "x", arg };
	struct vm_config c = cfg_of("");
	char buf[BOOT_CMDLINE_MAX];
	/* base: 37 defaults + " ember.cmd=" (11) + base64 of "x\0" + arg + "\0" */
	size_t fixed = strlen(LINUX_DEFAULT_CMDLINE) + 11, raw;
	int r;

	c.kernel_default = true;
	c.cmd = cmd;
	c.ncmd = 2;
	cr_assert(n > fixed + 4 && (n - fixed) % 4 == 0, "pick a length without padding");
	raw = (n - fixed) / 4 * 3;	/* bytes: "x\0" + arg + "\0" */
	memset(arg, 'a', raw - 3);
	arg[raw - 3] = 0;
	r = linux_cmdline(&c, "", buf, sizeof(buf), &err);
	snprintf(msg, msglen, "%s", err.msg);
	if (r == 0)
		cr_assert_eq(strlen(buf), n);
	return r;
}

Test(linux_cmdline, linux_limit)
{
	char msg[512];
	/* 48 + 4k bytes: 2044 fits, 2048 does not */
	cr_assert_eq(line_of_len(2044, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(line_of_len(2048, msg, sizeof(msg)), -E2BIG);
	cr_assert_str_eq(msg, "kernel command line is 2048 bytes, over Linux's limit of 2047 "
			 "(x86 COMMAND_LINE_SIZE 2048, NUL included); the command after -- "
			 "takes 2010 of them");
}

Test(linux_cmdline, linux_limit_user_text)
{
	static char user[3000];
	struct vm_config c;
	char buf[BOOT_CMDLINE_MAX];

	memset(user, 'u', 2020);
	c = cfg_of(user);
	c.kernel_default = true;
	cr_assert_eq(linux_cmdline(&c, "", buf, sizeof(buf), &err), -E2BIG);
	cr_assert_str_eq(err.msg, "kernel command line is 2058 bytes, over Linux's limit of 2047 "
			 "(x86 COMMAND_LINE_SIZE 2048, NUL included)");
	/* another kernel: only ember's own buffer limits it */
	c.kernel_default = false;
	cr_assert_eq(linux_cmdline(&c, "", buf, sizeof(buf), &err), 0);
	cr_assert_eq(linux_cmdline(&c, "", buf, 100, &err), -ENOSPC);
	cr_assert_str_eq(err.msg, "kernel command line is 2020 bytes, at most 99 are supported");
}

/* ---- the default guest's files ------------------------------------------ */
static char tmpdir[64];

static void mkfile(const char *dir, const char *name)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
}

static void mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-ut-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rmtmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(linux_default, .init = mktmp, .fini = rmtmp);

Test(linux_default, dir_from_env)
{
	char d[256];

	setenv("EMBER_KERNEL_DIR", "/k", 1);
	setenv("EMBER_CACHE", "/c", 1);
	cr_assert_eq(linux_default_dir(d, sizeof(d), &err), 0);
	cr_assert_str_eq(d, "/k");
	unsetenv("EMBER_KERNEL_DIR");
	cr_assert_eq(linux_default_dir(d, sizeof(d), &err), 0);
	cr_assert_str_eq(d, "/c/default");
	unsetenv("EMBER_CACHE");
	setenv("XDG_CACHE_HOME", "/x", 1);
	cr_assert_eq(linux_default_dir(d, sizeof(d), &err), 0);
	cr_assert_str_eq(d, "/x/ember/default");
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", "/h", 1);
	cr_assert_eq(linux_default_dir(d, sizeof(d), &err), 0);
	cr_assert_str_eq(d, "/h/.cache/ember/default");
	unsetenv("HOME");
	cr_assert_eq(linux_default_dir(d, sizeof(d), &err), -ENOENT);
	cr_assert_str_eq(err.msg, "default guest: no HOME to find the cache in; set EMBER_KERNEL_DIR");
}

static int parse(struct vm_config *cfg, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = "run";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_parse_run(argc, argv, cfg, &err);
}
#define PARSE(cfg, ...) parse(cfg, (const char *const[]){ __VA_ARGS__, NULL })

Test(linux_default, dashdash_means_default_guest)
{
	struct vm_config c;
	char want[128];

	mkfile(tmpdir, "vmlinux");
	mkfile(tmpdir, "bzImage");
	mkfile(tmpdir, "initramfs.cpio.gz");
	setenv("EMBER_KERNEL_DIR", tmpdir, 1);
	cr_assert_eq(PARSE(&c, "--cpus", "2", "--", "ls", "--cpus", "-l"), 0, "%s", err.msg);
	cr_assert(c.kernel_default);
	cr_assert_eq(c.cpus, 2);
	cr_assert_eq(c.ncmd, 3);
	cr_assert_str_eq(c.cmd[0], "ls");
	cr_assert_str_eq(c.cmd[1], "--cpus", "options after -- are the command's");
	snprintf(want, sizeof(want), "%s/vmlinux", tmpdir);
	cr_assert_str_eq(c.kernel, want);
	snprintf(want, sizeof(want), "%s/initramfs.cpio.gz", tmpdir);
	cr_assert_str_eq(c.initrd, want);
	config_free(&c);

	cr_assert_eq(PARSE(&c, "--kernel", "default", "--boot-protocol", "bzimage",
			   "--initrd", "mine.cpio"), 0, "%s", err.msg);
	snprintf(want, sizeof(want), "%s/bzImage", tmpdir);
	cr_assert_str_eq(c.kernel, want);
	cr_assert_str_eq(c.initrd, "mine.cpio");
	cr_assert_eq(c.boot_proto, BOOT_PROTO_BZIMAGE);
	cr_assert_null(c.cmd);
	config_free(&c);

	/* a kernel of one's own with a command: not the default guest */
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--", "true"), 0, "%s", err.msg);
	cr_assert(!c.kernel_default);
	cr_assert_str_eq(c.kernel, "k");
	config_free(&c);
}

Test(linux_default, missing_files)
{
	struct vm_config c;
	char want[512];

	setenv("EMBER_KERNEL_DIR", tmpdir, 1);
	cr_assert_eq(PARSE(&c, "--", "true"), -ENOENT);
	snprintf(want, sizeof(want),
		 "default guest: '%s/vmlinux' is missing: build it with `make guest-kernel` "
		 "(or set EMBER_KERNEL_DIR to a directory with vmlinux, bzImage and "
		 "initramfs.cpio.gz)", tmpdir);
	cr_assert_str_eq(err.msg, want);
	config_free(&c);
	mkfile(tmpdir, "vmlinux");
	cr_assert_eq(PARSE(&c, "--kernel=default"), -ENOENT);
	cr_assert(strstr(err.msg, "/initramfs.cpio.gz' is missing"), "%s", err.msg);
	config_free(&c);
}

Test(linux_default, option_errors)
{
	struct vm_config c;

	cr_assert_eq(PARSE(&c, "--kernel", "k", "--"), -EINVAL);
	cr_assert_str_eq(err.msg, "'--' must be followed by a command");
	config_free(&c);
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--boot-protocol", "uefi"), -EINVAL);
	cr_assert_str_eq(err.msg,
			 "--boot-protocol: 'uefi' is not auto, pvh, elf64, bzimage or multiboot");
	config_free(&c);
	cr_assert_eq(PARSE(&c, "--kernel", "default", "--raw", "r"), -EINVAL);
	cr_assert_str_eq(err.msg, "--kernel and --raw exclude each other");
	config_free(&c);
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--share", "/d", "--boot-protocol", "elf64"), 0);
	cr_assert_str_eq(c.share, "/d");
	cr_assert_eq(c.boot_proto, BOOT_PROTO_ELF64);
	cr_assert_eq(c.share_drive, -1);
	config_free(&c);
}

Test(linux_default, boot_proto_names)
{
	enum boot_proto p;

	cr_assert_eq(boot_proto_parse("multiboot", &p), 0);
	cr_assert_eq(p, BOOT_PROTO_MULTIBOOT);
	cr_assert_str_eq(boot_proto_name(BOOT_PROTO_PVH), "pvh");
	cr_assert_eq(boot_proto_parse("PVH", &p), -EINVAL);
}

/* ---- --share ------------------------------------------------------------ */
Test(linux_default, share_image)
{
	struct vm_config c;
	struct stat st;
	char dir[128], img[256];

	if (system("command -v mke2fs >/dev/null || test -x /sbin/mke2fs || test -x /usr/sbin/mke2fs"))
		cr_skip_test("mke2fs (e2fsprogs) is not installed");
	snprintf(dir, sizeof(dir), "%s/share", tmpdir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	mkfile(dir, "hello.txt");
	setenv("TMPDIR", tmpdir, 1);
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--drive", "path=a.img", "--share", dir), 0);
	cr_assert_eq(linux_share_prepare(&c, &err), 0, "%s", err.msg);
	cr_assert_eq(c.ndrives, 2);
	cr_assert_eq(c.share_drive, 1);
	cr_assert(c.drives[1].ro);
	snprintf(img, sizeof(img), "%s", c.drives[1].path);
	cr_assert_eq(strncmp(img, tmpdir, strlen(tmpdir)), 0, "image in $TMPDIR: %s", img);
	cr_assert_eq(stat(img, &st), 0);
	cr_assert(st.st_size >= 2 * 1024 * 1024);
	{	/* the file is in the image (debugfs is e2fsprogs' too) */
		char cmd[512], got[16] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "PATH=$PATH:/sbin:/usr/sbin debugfs -R 'cat /hello.txt' '%s' 2>/dev/null", img);
		p = popen(cmd, "r");
		cr_assert_not_null(p);
		cr_assert_not_null(fgets(got, sizeof(got), p));
		pclose(p);
		cr_assert_str_eq(got, "x");
	}
	linux_share_cleanup(&c);
	cr_assert_eq(stat(img, &st), -1, "the image is removed once the drive has it open");
	config_free(&c);
}

Test(linux_default, share_errors)
{
	struct vm_config c;
	char want[256], file[128];

	cr_assert_eq(PARSE(&c, "--kernel", "k", "--share", "/nonexistent-ember"), 0);
	cr_assert_eq(linux_share_prepare(&c, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "--share '/nonexistent-ember': No such file or directory");
	config_free(&c);
	mkfile(tmpdir, "f");
	snprintf(file, sizeof(file), "%s/f", tmpdir);
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--share", file), 0);
	cr_assert_eq(linux_share_prepare(&c, &err), -ENOTDIR);
	snprintf(want, sizeof(want), "--share '%s': not a directory", file);
	cr_assert_str_eq(err.msg, want);
	config_free(&c);
	cr_assert_eq(PARSE(&c, "--kernel", "k", "--share", tmpdir, "--drive", "path=1",
			   "--drive", "path=2", "--drive", "path=3", "--drive", "path=4",
			   "--drive", "path=5", "--drive", "path=6", "--drive", "path=7",
			   "--drive", "path=8"), 0);
	cr_assert_eq(linux_share_prepare(&c, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "--share: no drive left (at most 8 drives, the share included)");
	config_free(&c);
}

/* Firecracker's is_root_device: root= after the devices, ro/rw from the
 * drive, by PARTUUID when one is given. */
Test(linux_cmdline, root_device)
{
	struct vm_config c = cfg_of("console=ttyS0 -- init");

	c.ndrives = 1;
	c.drives[0] = (struct drive_cfg){ .path = "r.img", .root = true, .ro = true };
	cr_assert_str_eq(line(&c, DEVS), "console=ttyS0" DEVS " root=/dev/vda ro -- init");
	c.drives[0].ro = false;
	c.drives[0].partuuid = "0eaa91a0-01";
	cr_assert_str_eq(line(&c, DEVS), "console=ttyS0" DEVS " root=PARTUUID=0eaa91a0-01 rw -- init");
	c.drives[0].root = false;
	cr_assert_str_eq(line(&c, DEVS), "console=ttyS0" DEVS " -- init");
}
