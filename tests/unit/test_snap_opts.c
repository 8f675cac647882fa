/* Unit tests of the snapshot options `ember run` and `ember restore` take
 * out of their arguments: --snapshot-max (its default, both spellings,
 * and the exact refusal of values outside 1..SNAP_MAX_LIMIT), and the
 * vsock socket a restore must name. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "snapshot/snapshot.h"

/* Runs snap_opts_take over a NULL-terminated list; returns its result. */
static int take(const char **args, struct snap_opts *o, struct errbuf *err, int *argc)
{
	static char *argv[16];
	int n = 0;

	while (args[n]) {
		argv[n] = (char *)args[n];
		n++;
	}
	argv[n] = NULL;
	*argc = n;
	return snap_opts_take(argc, argv, o, err);
}

Test(snap_opts, max_default)
{
	struct snap_opts o;
	struct errbuf err = { "" };
	int argc;

	cr_assert_eq(take((const char *[]){ "run", "--snapshot-dir", "d", "--kernel", "k", NULL },
			  &o, &err, &argc), 0);
	cr_assert_eq(o.max, SNAP_MAX_DEFAULT);
	cr_assert_eq(argc, 3);	/* run --kernel k are left */
}

Test(snap_opts, max_both_spellings)
{
	struct snap_opts o;
	struct errbuf err = { "" };
	int argc;

	cr_assert_eq(take((const char *[]){ "run", "--snapshot-dir", "d", "--snapshot-max", "3", NULL },
			  &o, &err, &argc), 0);
	cr_assert_eq(o.max, 3);
	cr_assert_eq(take((const char *[]){ "run", "--snapshot-max=100000", "--snapshot-dir=d", NULL },
			  &o, &err, &argc), 0);
	cr_assert_eq(o.max, 100000);
	cr_assert_eq(argc, 1);
}

Test(snap_opts, max_refused)
{
	static const char *bad[] = { "0", "-1", "100001", "4x", "", "99999999999999999999" };
	struct snap_opts o;
	struct errbuf err = { "" };
	char want[128];
	int argc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(take((const char *[]){ "run", "--snapshot-dir", "d", "--snapshot-max",
						    bad[i], NULL }, &o, &err, &argc), -EINVAL);
		snprintf(want, sizeof(want), "--snapshot-max: '%s' is not a number from 1 to 100000",
			 bad[i]);
		cr_assert_str_eq(err.msg, want);
	}
	cr_assert_eq(take((const char *[]){ "run", "--snapshot-dir", "d", "--snapshot-max", NULL },
			  &o, &err, &argc), -EINVAL);
	cr_assert_str_eq(err.msg, "--snapshot-max needs a value");
	cr_assert_eq(take((const char *[]){ "run", "--snapshot-max", "2", NULL }, &o, &err, &argc),
		     -EINVAL);
	cr_assert_str_eq(err.msg, "snapshot options need --snapshot-dir DIR");
}

/* a restore names the vsock socket itself; the snapshot's is only shown */
Test(snap_opts, vsock_socket_must_be_named)
{
	static struct snap_image img;
	struct errbuf err = { "" };

	memset(&img, 0, sizeof(img));
	img.cfg.vsock.cid = 3;
	img.cfg.vsock.uds = "/old/v";
	cr_assert_eq(snap_paths_check(&img, "restore", &err), -EINVAL);
	cr_assert(strstr(err.msg, "--vsock uds=PATH"), "%s", err.msg);
	cr_assert(strstr(err.msg, "'/old/v'"), "%s", err.msg);
	cr_assert_eq(snap_vsock_opt(&img, "cid=4,uds=/x", &err), -EINVAL);
	cr_assert(strstr(err.msg, "only uds=PATH"), "%s", err.msg);
	cr_assert_eq(snap_vsock_opt(&img, "uds=/new/v", &err), 0);
	cr_assert_str_eq(img.cfg.vsock.uds, "/new/v");
	cr_assert_eq(img.cfg.vsock.cid, 3);
	cr_assert_eq(snap_paths_check(&img, "restore", &err), 0);
	config_free(&img.cfg);
	memset(&img, 0, sizeof(img));
	cr_assert_eq(snap_vsock_opt(&img, "uds=/new/v", &err), -EINVAL);
	cr_assert(strstr(err.msg, "has no vsock device"), "%s", err.msg);
}
