/* tests/unit/test_init_args.c - ember-init's pure part
 * (guest-kernel-config/init/args.c, compiled into this test since the
 * guest program is not part of libember): base64url, argv splitting, the
 * kernel command-line parameters, exit statuses; and that what ember
 * encodes (linux_encode_argv) is what ember-init decodes. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "guest-kernel-config/init/args.c"
#include "monitor/monitor.h"

static char err[256];

Test(init_b64, decode_vectors)
{
	uint8_t out[16];

	cr_assert_eq(init_b64_decode("", 0, out, sizeof(out)), 0);
	cr_assert_eq(init_b64_decode("aGVsbG8", 7, out, sizeof(out)), 5);
	cr_assert_eq(memcmp(out, "hello", 5), 0);
	cr_assert_eq(init_b64_decode("-_8", 3, out, sizeof(out)), 2);
	cr_assert_eq(out[0], 0xfb);
	cr_assert_eq(out[1], 0xff);
}

Test(init_b64, decode_rejects)
{
	uint8_t out[16];

	cr_assert_eq(init_b64_decode("aGVsbG8=", 8, out, sizeof(out)), -1, "padding");
	cr_assert_eq(init_b64_decode("aGV+bG8", 7, out, sizeof(out)), -1, "standard alphabet");
	cr_assert_eq(init_b64_decode("aGVsb", 5, out, sizeof(out)), -1, "n % 4 == 1");
	cr_assert_eq(init_b64_decode("aGVsbG9", 7, out, sizeof(out)), -1, "stray low bits");
	cr_assert_eq(init_b64_decode("aGVsbG8", 7, out, 4), -1, "too small");
}

Test(init_b64, round_trip)
{
	uint8_t in[256] = { 0 }, back[256];
	char enc[400];

	srand(7);
	for (size_t n = 0; n < sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)rand();
		cr_assert_eq(init_b64_encode(in, n, enc, sizeof(enc)), (long)(n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0)));
		cr_assert_eq(init_b64_decode(enc, strlen(enc), back, sizeof(back)), (long)n);
		cr_assert_eq(memcmp(in, back, n), 0);
	}
	cr_assert_eq(init_b64_encode(in, 3, enc, 4), -1, "no room for the NUL");
}

Test(init_argv, split)
{
	char buf[] = "echo\0a b\0\0x\n";	/* + the literal's final NUL */
	char **argv;

	cr_assert_eq(init_split_argv(buf, sizeof(buf), &argv, err, sizeof(err)), 4);
	cr_assert_str_eq(argv[0], "echo");
	cr_assert_str_eq(argv[1], "a b");
	cr_assert_str_eq(argv[2], "");
	cr_assert_str_eq(argv[3], "x\n");
	cr_assert_null(argv[4]);
	free(argv);
}

Test(init_argv, split_errors)
{
	char nonul[] = { 'a', 'b' }, empty[] = { 0, 'a', 0 };
	char **argv;

	cr_assert_eq(init_split_argv(nonul, 2, &argv, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.cmd: the decoded arguments do not end with a NUL");
	cr_assert_eq(init_split_argv(empty, 3, &argv, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.cmd: the command name is empty");
	cr_assert_eq(init_split_argv(empty, 0, &argv, err, sizeof(err)), -1);
}

/* ember's encoder and ember-init's decoder agree on awkward argvs. */
Test(init_argv, from_ember)
{
	static char *const argv[] = { "sh", "-c", "printf '%s\\n' \"$@\"", "", " ",
				      "a\"b", "tab\there", "nl\nx", "é", "--", NULL };
	int n = 10;
	char enc[512], line[600];
	struct init_args a;

	cr_assert_gt(linux_encode_argv(argv, n, enc, sizeof(enc)), 0);
	snprintf(line, sizeof(line), "console=ttyS0 ember.cmd=%s quiet\n", enc);
	cr_assert_eq(init_parse_cmdline(line, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a.argc, n);
	for (int i = 0; i < n; i++)
		cr_assert_str_eq(a.argv[i], argv[i]);
	cr_assert_null(a.argv[n]);
	init_args_free(&a);
}

Test(init_cmdline, all_parameters)
{
	struct init_args a;
	const char *line = "console=ttyS0 \"ember.root=vda\" ember.rootfstype=ext2 "
			   "ember.share=/dev/vdc ember.ip=10.0.0.2/24,10.0.0.1 ember.test=1 "
			   "ember.future=x ember.vsock=7000 ember.cmd=dHJ1ZQA\n";

	cr_assert_eq(init_parse_cmdline(line, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(a.root, "/dev/vda");
	cr_assert_str_eq(a.rootfstype, "ext2");
	cr_assert_str_eq(a.share, "/dev/vdc");
	cr_assert(a.ip.set);
	cr_assert_eq(a.ip.addr, inet_addr("10.0.0.2"));
	cr_assert_eq(a.ip.prefix, 24);
	cr_assert_eq(a.ip.gw, inet_addr("10.0.0.1"));
	cr_assert(a.test);
	cr_assert_eq(a.vsock_port, 7000);
	cr_assert_eq(a.argc, 1);
	cr_assert_str_eq(a.argv[0], "true");
	init_args_free(&a);
	cr_assert_null(a.argv);
}

Test(init_cmdline, defaults_and_dashdash)
{
	struct init_args a;

	cr_assert_eq(init_parse_cmdline("quiet -- ember.cmd=dHJ1ZQA ember.root=vda", &a,
					err, sizeof(err)), 0);
	cr_assert_null(a.argv, "words after -- are init's argv, not parameters");
	cr_assert_str_eq(a.root, "");
	cr_assert_str_eq(a.rootfstype, "ext4");
	cr_assert(!a.ip.set && !a.test && !a.vsock_port);
	init_args_free(&a);
	/* the last one wins */
	cr_assert_eq(init_parse_cmdline("ember.cmd=ZWNobwA ember.cmd=dHJ1ZQA", &a, err,
					sizeof(err)), 0);
	cr_assert_str_eq(a.argv[0], "true");
	init_args_free(&a);
}

Test(init_cmdline, errors)
{
	struct init_args a;

	cr_assert_eq(init_parse_cmdline("ember.cmd=dHJ1ZQA=", &a, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.cmd: not unpadded base64url (A-Z a-z 0-9 - _)");
	cr_assert_null(a.argv);
	cr_assert_eq(init_parse_cmdline("ember.cmd=", &a, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.cmd: the decoded arguments do not end with a NUL");
	cr_assert_eq(init_parse_cmdline("ember.ip=10.0.0.2", &a, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.ip: '10.0.0.2' is not A.B.C.D/PREFIX[,GATEWAY]");
	cr_assert_eq(init_parse_cmdline("ember.root=", &a, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.root: '' is empty or longer than 58 characters");
	cr_assert_eq(init_parse_cmdline("ember.vsock=0", &a, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "ember.vsock: '0' is not a port from 1 to 4294967294");
	cr_assert_eq(init_parse_cmdline("ember.vsock=4294967295", &a, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_cmdline("ember.vsock=12x", &a, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_cmdline("ember.vsock=-1", &a, err, sizeof(err)), -1);
}

Test(init_cmdline, ip_forms)
{
	struct init_ip ip;

	cr_assert_eq(init_parse_ip("192.168.1.5/32", &ip, err, sizeof(err)), 0);
	cr_assert_eq(ip.prefix, 32);
	cr_assert_eq(ip.gw, 0);
	cr_assert_eq(init_parse_ip("10.1.2.3/0,10.1.2.1", &ip, err, sizeof(err)), 0);
	cr_assert_eq(ip.prefix, 0);
	cr_assert_eq(init_parse_ip("10.1.2.3/33", &ip, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_ip("10.1.2.3/", &ip, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_ip("10.1.2.3/8,", &ip, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_ip("10.1.2.3/8x", &ip, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_ip("10.1.2/8", &ip, err, sizeof(err)), -1);
	cr_assert_eq(init_parse_ip("10.1.2.3/8,gw", &ip, err, sizeof(err)), -1);
	cr_assert(!ip.set);
}

Test(init_status, wait_statuses)
{
	cr_assert_eq(init_exit_status(0), 0);
	cr_assert_eq(init_exit_status(1 << 8), 1);
	cr_assert_eq(init_exit_status(255 << 8), 255);
	cr_assert_eq(init_exit_status(9), 137, "SIGKILL: 128 + 9");
	cr_assert_eq(init_exit_status(15 | 0x80), 143, "SIGTERM with a core dump flag");
}
