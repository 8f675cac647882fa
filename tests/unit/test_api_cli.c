/* Unit tests of API mode's command line (api/cli.c): Firecracker's
 * options, their defaults and each refusal with its message. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/vmm.h"

static int parse(bool fc, struct vmm_opts *o, struct vm_config *c, struct errbuf *e, ...)
{
	char *argv[32] = { fc ? "firecracker" : "ember" };
	int argc = 1;
	va_list ap;

	va_start(ap, e);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	memset(o, 0, sizeof(*o));
	o->version = "9.9";
	e->msg[0] = 0;
	return vmm_args(argc, argv, fc, o, c, e);
}

Test(api_cli, detects_api_mode)
{
	char *a1[] = { "ember", "--api-sock", "x" }, *a2[] = { "ember", "run", "--kernel", "k" },
	     *a3[] = { "ember", "--no-seccomp" }, *a4[] = { "ember", "--bogus" };

	cr_assert(vmm_is_api_argv(3, a1));
	cr_assert_not(vmm_is_api_argv(4, a2));
	cr_assert(vmm_is_api_argv(2, a3));
	cr_assert_not(vmm_is_api_argv(2, a4), "unknown options go to ember's own usage");
	cr_assert_not(vmm_is_api_argv(1, a1));
}

Test(api_cli, options_and_defaults)
{
	struct vmm_opts o;
	struct vm_config c;
	struct errbuf e;

	cr_assert_eq(parse(false, &o, &c, &e, "--api-sock", "/run/e.sock", "--id", "vm-1",
			   "--boot-timer", "--no-seccomp", "--level", "Debug", "--show-level",
			   "--metrics-path", "/tmp/m", "--start-time-us", "123", NULL), 0, "%s", e.msg);
	cr_assert_str_eq(o.sock_path, "/run/e.sock");
	cr_assert_str_eq(o.id, "vm-1");
	cr_assert_str_eq(o.version, "9.9", "the caller's version is kept");
	cr_assert(o.boot_time && o.no_seccomp && !o.boot_now);
	cr_assert_eq(c.mem_size, 128ull << 20, "Firecracker's default memory");
	cr_assert_eq(c.logger.level, LOG_DEBUG);
	cr_assert(c.logger.show_level);
	cr_assert_str_eq(c.metrics_path, "/tmp/m");
	config_free(&c);

	cr_assert_eq(parse(true, &o, &c, &e, NULL), 0, "%s", e.msg);
	cr_assert_str_eq(o.sock_path, "/run/firecracker.socket", "firecracker's default socket");
	cr_assert_str_eq(o.id, "anonymous-instance");
	config_free(&c);
}

Test(api_cli, config_file_boots_at_once)
{
	char path[] = "/tmp/ember-cli-XXXXXX";
	int fd = mkstemp(path);
	const char *json = "{\"boot-source\":{\"kernel_image_path\":\"/k\"},"
			   "\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":64}}";
	struct vmm_opts o;
	struct vm_config c;
	struct errbuf e;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	close(fd);
	cr_assert_eq(parse(false, &o, &c, &e, "--no-api", "--config-file", path, NULL), 0, "%s",
		     e.msg);
	cr_assert_null(o.sock_path);
	cr_assert(o.boot_now);
	cr_assert_str_eq(c.kernel, "/k");
	cr_assert_eq(c.cpus, 2);
	cr_assert_eq(c.mem_size, 64ull << 20);
	config_free(&c);
	unlink(path);
}

static void refused(bool fc, const char *want, const char *a1, const char *a2, const char *a3)
{
	struct vmm_opts o;
	struct vm_config c;
	struct errbuf e;

	cr_assert_lt(parse(fc, &o, &c, &e, a1, a2, a3, NULL), 0, "%s %s accepted", a1,
		     a2 ? a2 : "");
	cr_assert(strstr(e.msg, want), "'%s' lacks '%s'", e.msg, want);
	config_free(&c);
}

Test(api_cli, refusals_name_the_option)
{
	refused(false, "--no-api needs --config-file", "--no-api", NULL, NULL);
	refused(false, "--api-sock PATH", "--id", "x", NULL);
	refused(false, "unknown option '--bogus'", "--api-sock", "s", "--bogus");
	refused(false, "--api-sock needs a value", "--api-sock", NULL, NULL);
	refused(false, "no MMDS", "--api-sock", "s", "--mmds-size-limit");
	refused(true, "--id: 1-64 characters", "--id", "bad id", NULL);
	refused(false, "51200", "--http-api-max-payload-size", "100", NULL);
	refused(true, "level 'Loud'", "--level", "Loud", NULL);
	refused(false, "config file '/nonexistent/x.json'", "--no-api", "--config-file",
		"/nonexistent/x.json");
}
