/* Unit tests of the logger (monitor/log.c): Firecracker's level names,
 * log_apply's file, level, level prefix, origin and module filter, and a
 * bad path that changes nothing. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor/monitor.h"

static char dir[64], path[160];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ember-log-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ember.log", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* The log file's contents (static buffer). */
static const char *contents(void)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

TestSuite(log, .init = setup, .fini = teardown);

Test(log, level_names)
{
	static const struct {
		const char *name;
		int level;
	} ok[] = {
		{ "Error", LOG_ERROR }, { "Warning", LOG_WARN }, { "warn", LOG_WARN },
		{ "INFO", LOG_INFO }, { "Debug", LOG_DEBUG }, { "Trace", LOG_DEBUG },
		{ "Off", CONFIG_LOG_OFF },
	};
	int l;

	for (unsigned i = 0; i < ARRAY_SIZE(ok); i++) {
		l = 99;
		cr_assert_eq(log_level_parse(ok[i].name, &l), 0, "%s", ok[i].name);
		cr_assert_eq(l, ok[i].level, "%s", ok[i].name);
	}
	l = 99;
	cr_assert_eq(log_level_parse("loud", &l), -EINVAL);
	cr_assert_eq(log_level_parse(NULL, &l), -EINVAL);
	cr_assert_eq(l, 99, "unchanged on failure");
}

Test(log, file_level_prefix_and_origin)
{
	struct logger_cfg l = { .path = path, .level = LOG_INFO, .show_level = true,
				.show_origin = true };
	struct errbuf err = { "" };
	char want[512];
	int line;

	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	line = __LINE__ + 1;
	log_info("hello %d", 1);
	log_debug("not at Info");
	log_error("bad");
	snprintf(want, sizeof(want),
		 "ember: [INFO] [tests/unit/test_log.c:%d] hello 1\n"
		 "ember: [ERROR] [tests/unit/test_log.c:%d] bad\n", line, line + 2);
	cr_assert_str_eq(contents(), want);
	cr_assert(log_enabled(LOG_INFO));
	cr_assert_not(log_enabled(LOG_DEBUG));
}

Test(log, plain_lines_module_and_off)
{
	struct logger_cfg l = { .path = path, .level = LOG_WARN };
	struct errbuf err = { "" };

	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_warn("plain");
	log_info("below Warning");
	l.path = NULL;		/* the same file */
	l.module = "virtio";	/* this file is not virtio's */
	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_warn("filtered out");
	l.module = "tests/unit";
	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_warn("a test's");
	l.module = NULL;
	l.level = CONFIG_LOG_OFF;
	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_error("off");
	cr_assert_not(log_enabled(LOG_ERROR));
	cr_assert_str_eq(contents(), "ember: plain\nember: a test's\n");
}

Test(log, a_later_path_replaces_the_file)
{
	struct logger_cfg l = { .path = path, .level = LOG_WARN };
	struct errbuf err = { "" };
	char second[160];

	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_warn("first");
	snprintf(second, sizeof(second), "%s/second.log", dir);
	l.path = second;
	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	log_warn("second");
	cr_assert_str_eq(contents(), "ember: first\n");
	snprintf(path, sizeof(path), "%s", second);
	cr_assert_str_eq(contents(), "ember: second\n");
}

Test(log, bad_path_changes_nothing)
{
	struct logger_cfg l = { .path = path, .level = LOG_WARN };
	struct errbuf err = { "" };
	char bad[160], want[256];

	cr_assert_eq(log_apply(&l, &err), 0, "%s", err.msg);
	snprintf(bad, sizeof(bad), "%s/no/such.log", dir);
	l.path = bad;
	l.level = LOG_DEBUG;
	cr_assert_eq(log_apply(&l, &err), -ENOENT);
	snprintf(want, sizeof(want), "log path '%s': No such file or directory", bad);
	cr_assert_str_eq(err.msg, want);
	log_info("still at Warning");
	log_warn("still here");
	cr_assert_str_eq(contents(), "ember: still here\n");
}
